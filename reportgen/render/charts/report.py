"""Static SVG charts of a result, drawn with Altair and converted offline by vl-convert.

Every chart colours segments with ``Segment.color`` through one explicit scale, so a segment keeps its colour
across the whole report. Data is always inlined and ``allowed_base_urls=[]`` forbids any fetch. The Vega-Lite specs
the SVGs are drawn from carry tooltips (which an SVG does not show); :func:`chart_specs` hands them to the HTML
report's live charts.
"""

from __future__ import annotations

import weakref
from typing import Any

import altair as alt

from reportgen.formatting import num, typographic_minus
from reportgen.render.charts.compare import compare_charts
from reportgen.render.charts.rfm import rfm_charts
from reportgen.render.charts.svg import FAINT, INK, NEUTRAL, WIDTH, chart_spec, label_chars, scaled, spec_to_svg
from reportgen.render.charts.svg import MEASURE_SCALE as MEASURE_SCALE  # re-exported: the charts' public names
from reportgen.render.charts.svg import to_svg as to_svg
from reportgen.render.charts.svg import warm_up as warm_up
from reportgen.result import AnalysisResult, MapPoint, Segment

MAX_POINTS = 1_000  # enough to show the structure; more only overplots and slows the PDF down
MAX_TRAITS, MAX_LEVELS = 8, 16  # bars per trait chart, category levels per composition chart
# Shared by the heatmap and the trait bars so blue always means "above the base", red "below".
Z_SCALE = alt.Scale(domain=[-2, 2], scheme="redblue", clamp=True)
# The specs of the last result drawn: (weak reference to the result, chart name -> spec).
_drawn: tuple[weakref.ref | None, dict[str, dict[str, Any]]] = (None, {})


def _signed(z: float) -> str:
    text = f"{z:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else typographic_minus(text)


def _map_points(result: AnalysisResult) -> tuple[MapPoint, ...]:
    points = result.segment_map.points
    return points[:: max(1, -(-len(points) // MAX_POINTS))]


def _segment_color(result: AnalysisResult, field: str = "segment") -> alt.Color:
    scale = alt.Scale(domain=[s.name for s in result.segments], range=[s.color for s in result.segments])
    return alt.Color(f"{field}:N", scale=scale, legend=None)


def _sizes(result: AnalysisResult) -> alt.TopLevelMixin:
    rows = [{"segment": s.name, "measure": "Share of customers", "share": s.share} for s in result.segments]
    if result.value_column:
        value = result.label_map.get(result.value_column, result.value_column)
        rows += [{"segment": s.name, "measure": f"Share of value ({value})", "share": s.value_share or 0}
                 for s in result.segments]
    base = alt.Chart().encode(
        y=alt.Y("segment:N", sort=[s.name for s in result.segments], title=None),
        x=alt.X("share:Q", title=None, axis=alt.Axis(format="%", tickCount=4), scale=alt.Scale(nice=False)))
    bars = base.mark_bar(height={"band": 0.7}).encode(
        color=_segment_color(result), tooltip=["segment:N", "measure:N", alt.Tooltip("share:Q", format=".1%")])
    labels = base.mark_text(align="left", dx=3, color=INK).encode(text=alt.Text("share:Q", format=".0%"))
    panel_width = 150 if result.value_column else 300
    return alt.layer(bars, labels, data=alt.Data(values=rows)).properties(
        width=panel_width, height=24 * len(result.segments)).facet(
        column=alt.Column("measure:N", title=None, sort=[r["measure"] for r in rows[:: len(result.segments)]]))


def _heatmap(result: AnalysisResult) -> alt.TopLevelMixin:
    names = result.label_map
    features = [names.get(st.feature, st.feature) for st in result.segments[0].stats] if result.segments else []
    # Text colour is precomputed per cell: a conditional encoding costs Altair a schema validation per chart.
    rows = [{"segment": s.name, "feature": names.get(st.feature, st.feature), "z": st.z, "label": _signed(st.z),
             "ink": "white" if abs(st.z) > 1.2 else INK, "mean": num(st.mean), "base": num(st.base_mean)}
            for s in result.segments for st in s.stats]
    step = max(34, min(64, 520 // max(len(features), 1)))
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=alt.X("feature:N", sort=features, title=None,
                axis=alt.Axis(labelAngle=-35 if len(features) * step > 420 else 0, orient="top", **label_chars(25))),
        y=alt.Y("segment:N", sort=[s.name for s in result.segments], title=None))
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color("z:Q", scale=Z_SCALE, legend=alt.Legend(
            # Discrete swatches: WeasyPrint drops Vega's gradient legend, and the cells carry the exact values.
            title="z (σ)", orient="right", type="symbol", values=[2, 1, 0, -1, -2], symbolType="square",
            symbolSize=120, format="+.0f", labelExpr="datum.value === 0 ? '0' : datum.label")),
        tooltip=["segment:N", "feature:N", alt.Tooltip("z:Q", title="z (σ)", format="+.2f"),
                 alt.Tooltip("mean:N", title="segment mean"), alt.Tooltip("base:N", title="base mean")])
    text = base.mark_text(fontSize=scaled(10)).encode(text=alt.Text("label:N"), color=alt.Color("ink:N", scale=None))
    return (cells + text).resolve_scale(color="independent").properties(width=alt.Step(step), height=alt.Step(26))


def _map(result: AnalysisResult) -> alt.TopLevelMixin:
    names = {s.id: s.name for s in result.segments}
    rows = [{"x": round(p.x, 3), "y": round(p.y, 3), "segment": names.get(p.segment, str(p.segment))}
            for p in _map_points(result)]
    ev = result.segment_map.explained_variance
    color = _segment_color(result)
    color.legend = alt.Legend(title=None, orient="bottom", columns=3, symbolType="circle")
    return alt.Chart(alt.Data(values=rows)).mark_circle(size=16, opacity=1, fillOpacity=0.7).encode(
        x=alt.X("x:Q", title=f"PC1 ({ev[0]:.0%} of variance)", axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("y:Q", title=f"PC2 ({ev[1]:.0%} of variance)", axis=alt.Axis(labels=False, ticks=False)),
        color=color, tooltip=["segment:N"]).properties(width=WIDTH, height=320)


def _by_k(result: AnalysisResult, field: str, title: str, accent: str) -> alt.TopLevelMixin:
    sel = result.k_selection
    rows = [{"k": c.k, "v": getattr(c, field), "size": 150 if c.k == sel.chosen_k else 45,
             "state": "chosen" if c.k == sel.chosen_k else ("allowed" if c.allowed else "too small")}
            for c in sel.candidates]
    ks = [c.k for c in sel.candidates]
    x = alt.X("k:Q", title="K (number of segments)", scale=alt.Scale(domain=[min(ks), max(ks)], nice=False),
              axis=alt.Axis(values=ks, format="d", grid=False))
    state = alt.Color("state:N", legend=None,
                      scale=alt.Scale(domain=["chosen", "allowed", "too small"], range=[accent, NEUTRAL, FAINT]))
    y = alt.Y("v:Q", title=title, scale=alt.Scale(zero=field != "inertia"))
    base = alt.Chart(alt.Data(values=rows)).encode(x=x, y=y)
    layers = [base.mark_line(color=NEUTRAL, strokeWidth=1.5),
              base.mark_point(filled=True, opacity=1).encode(
                  color=state, size=alt.Size("size:Q", scale=None),
                  tooltip=[alt.Tooltip("k:Q", title="K"), alt.Tooltip("v:Q", title=title, format=",.3~f"),
                           alt.Tooltip("state:N", title="K is")]),
              base.transform_filter("datum.state == 'chosen'").mark_text(
                  align="left", dx=8, dy=-8, fontWeight="bold", color=accent, text=f"chosen K={sel.chosen_k}")]
    if field == "inertia" and sel.knee_k is not None:
        knee = alt.Chart(alt.Data(values=[{"k": sel.knee_k}])).encode(x=x)
        layers += [knee.mark_rule(strokeDash=[4, 3], color="#6b7680"),
                   knee.mark_text(align="left", dx=4, y=4, baseline="top", color="#6b7680",
                                  text=f"knee K={sel.knee_k}")]
    return alt.layer(*layers).properties(width=WIDTH - 80, height=200)


def _silhouette_segments(result: AnalysisResult) -> alt.TopLevelMixin:
    rows = [{"segment": s.name, "silhouette": s.silhouette} for s in result.segments]
    low = min([0.0] + [s.silhouette for s in result.segments])
    high = max([0.5] + [round(s.silhouette + 0.15, 1) for s in result.segments])
    base = alt.Chart(alt.Data(values=rows)).encode(
        y=alt.Y("segment:N", sort=[s.name for s in result.segments], title=None),
        x=alt.X("silhouette:Q", title="mean silhouette", scale=alt.Scale(domain=[low, min(high, 1.0)])))
    return (base.mark_bar(height={"band": 0.7}).encode(
                color=_segment_color(result), tooltip=["segment:N", alt.Tooltip("silhouette:Q", format=".3f")])
            + base.mark_text(align="left", dx=3, color=INK).encode(text=alt.Text("silhouette:Q", format=".2f"))
            ).properties(width=WIDTH - 200, height=24 * len(result.segments))


def _ratio_label(mean: float, base: float) -> str:
    """'2.4× avg' where a ratio reads well, else the plain comparison of the two values."""
    return f"{mean / base:.1f}× avg" if base > 0 and mean >= 0 else f"{num(mean)} vs {num(base)}"


def _traits(segment: Segment, names: dict[str, str] | None = None) -> alt.TopLevelMixin:
    names = names or {}
    top = sorted(segment.stats, key=lambda st: -abs(st.z))[:MAX_TRAITS]
    rows = [{"feature": names.get(st.feature, st.feature), "z": st.z, "label": _ratio_label(st.mean, st.base_mean),
             "mean": num(st.mean), "base": num(st.base_mean)} for st in top]
    label = alt.Text("label:N")
    bound = max(2.0, *(abs(r["z"]) + 0.6 for r in rows)) if rows else 2.0
    base = alt.Chart(alt.Data(values=rows)).encode(
        y=alt.Y("feature:N", sort=alt.EncodingSortField("z", order="descending"), title=None),
        x=alt.X("z:Q", title="below average ← → above average", axis=alt.Axis(labels=False),
                scale=alt.Scale(domain=[-bound, bound])))
    return alt.layer(
        base.mark_bar(height={"band": 0.7}).encode(
            color=alt.Color("z:Q", scale=Z_SCALE, legend=None),
            tooltip=["feature:N", alt.Tooltip("mean:N", title="segment mean"),
                     alt.Tooltip("base:N", title="average")]),
        base.mark_rule(color="#6b7680").encode(x=alt.XDatum(0)),
        base.transform_filter("datum.z >= 0").mark_text(align="left", dx=3, color=INK).encode(text=label),
        base.transform_filter("datum.z < 0").mark_text(align="right", dx=-3, color=INK).encode(text=label),
    ).properties(width=WIDTH - 160, height=22 * len(rows))


def _categories(segment: Segment, names: dict[str, str] | None = None) -> alt.TopLevelMixin:
    names = names or {}
    # Too many levels make an unreadable chart: keep those that differ most from the base.
    levels = sorted(segment.categories, key=lambda c: -abs(c.share - c.base_share))[:MAX_LEVELS]
    levels = sorted(levels, key=lambda c: (c.column, -c.share))
    rows = []
    for c in levels:
        label = f"{names.get(c.column, c.column)}: {c.level}"
        rows += [{"level": label, "series": segment.name, "share": c.share},
                 {"level": label, "series": "All customers", "share": c.base_share}]
    series = alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom"),
                       scale=alt.Scale(domain=[segment.name, "All customers"], range=[segment.color, FAINT]))
    return alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        y=alt.Y("level:N", sort=[r["level"] for r in rows[::2]], title=None, axis=alt.Axis(**label_chars(36))),
        yOffset=alt.YOffset("series:N", sort=[segment.name, "All customers"]),
        x=alt.X("share:Q", title="share of customers", axis=alt.Axis(format="%")),
        color=series, tooltip=[alt.Tooltip("level:N", title="level"), alt.Tooltip("series:N", title="customers"),
                               alt.Tooltip("share:Q", format=".1%")]).properties(width=WIDTH - 220,
                                                                                 height=alt.Step(9))


def chart_objects(result: AnalysisResult) -> tuple[dict[str, alt.TopLevelMixin], dict[str, str]]:
    """Every chart of the report as an Altair chart, and the note shown under each.

    Altair validates every object against the Vega-Lite schema as it is built, which takes longer than
    drawing the charts; here it is off, and the tests validate each finished chart instead.
    """
    with alt.utils.schemapi.debug_mode(False):
        return _chart_set(result)


def _chart_set(result: AnalysisResult) -> tuple[dict[str, alt.TopLevelMixin], dict[str, str]]:
    """The charts in the order the report shows them (the chart process draws them in this order while the PDF
    is laid out page by page)."""
    accent = result.report.accent_color
    sel = result.k_selection
    shown, total = len(_map_points(result)), result.segment_map.total_customers
    charts: dict[str, alt.TopLevelMixin] = {"sizes": _sizes(result), "heatmap": _heatmap(result), "map": _map(result)}
    k_charts: dict[str, alt.TopLevelMixin] = {
        "elbow": _by_k(result, "inertia", "inertia (within-segment spread)", accent),
        "silhouette_k": _by_k(result, "silhouette", "mean silhouette", accent),
        "silhouette_segments": _silhouette_segments(result),
    }
    notes = {
        "sizes": "Share of customers" + (" and of value ("
                                         + result.label_map.get(result.value_column, result.value_column).lower()
                                         + ")" if result.value_column else "")
                 + " held by each segment.",
        "heatmap": "Segment mean against the base mean, in base standard deviations (σ); colours clipped at ±2σ.",
        "map": (f"{shown:,} of {total:,} customers shown (random sample). " if shown < total else "")
               + "Customers close together have similar profiles.",
        "elbow": f"Spread within segments by K; larger dot: chosen K={sel.chosen_k}"
                 + (f", dashed line: the knee at K={sel.knee_k}." if sel.knee_k is not None else "; no clear knee."),
        "silhouette_k": "Mean silhouette by K (higher means better separated segments)" + (
            "; pale dots: K values giving a segment below the minimum share." if not all(
                c.allowed for c in sel.candidates) else "."),
        "silhouette_segments": "Mean silhouette per segment; values near 0 mean the segment overlaps its neighbours.",
    }
    extra_charts, extra_notes = rfm_charts(result)
    compare, compare_notes = compare_charts(result)
    charts |= extra_charts | compare
    notes |= extra_notes | compare_notes
    for s in result.segments:
        if s.stats:
            charts[f"traits_{s.id}"] = _traits(s, result.label_map)
            notes[f"traits_{s.id}"] = "Features furthest from the base mean; blue is above average, red below."
        if s.categories:
            charts[f"categories_{s.id}"] = _categories(s, result.label_map)
            notes[f"categories_{s.id}"] = f"Share of each category level in {s.name} against all customers."
    return charts | k_charts, notes


def plan_charts(result: AnalysisResult) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The Vega-Lite spec of every chart of the report and the note shown under each, before any is drawn.

    The specs are kept for :func:`chart_specs` (the HTML report's live charts reuse them).
    """
    charts, notes = chart_objects(result)
    specs = {name: chart_spec(chart) for name, chart in charts.items()}
    global _drawn
    _drawn = (weakref.ref(result), specs)
    return specs, notes


def build_charts(result: AnalysisResult) -> tuple[dict[str, str], dict[str, str]]:
    """Draw every chart of the report.

    Parameters
    ----------
    result
        The analysis to draw; it is only read.

    Returns
    -------
    tuple of dict
        ``(svgs, notes)``: chart name → SVG markup, and chart name → the note shown under it. Names are
        ``sizes``, ``heatmap``, ``map``, ``elbow``, ``silhouette_k``, ``silhouette_segments``, and per segment
        ``traits_<id>`` and ``categories_<id>`` (the latter only when the segment has categorical levels).
    """
    specs, notes = plan_charts(result)
    return {name: spec_to_svg(name, spec) for name, spec in specs.items()}, notes


def chart_specs(result: AnalysisResult) -> dict[str, dict[str, Any]]:
    """The Vega-Lite spec of every chart of the report, as drawn by :func:`build_charts`.

    The specs of the last result drawn are kept, so the HTML report reuses them instead of building every chart
    again; for any other result they are built afresh (same names, same content).

    Returns
    -------
    dict
        Chart name → Vega-Lite spec with inline data and the report's style config.
    """
    ref, specs = _drawn
    if ref is not None and ref() is result:
        return specs
    return {name: chart_spec(chart) for name, chart in chart_objects(result)[0].items()}
