"""Charts of the comparison with the baseline run: customer migration, feature drift, mix against behaviour."""

from __future__ import annotations

import json
import math

import altair as alt

from reportgen.formatting import money
from reportgen.render.charts.svg import WIDTH, label_chars
from reportgen.result import AnalysisResult, Comparison

INK, NEUTRAL, FAINT = "#333333", "#9aa5b1", "#d5dade"
DRIFTED, UP, DOWN = "#d08a1e", "#3f8f5a", "#b0302c"
MAX_FEATURES = 40  # bars in the drift chart; the table beside it lists every feature


def _baseline_names(comparison: Comparison) -> dict[int, str]:
    return {b.id: b.name for b in comparison.baseline_segments}


def migration_chart(result: AnalysisResult, comparison: Comparison) -> alt.TopLevelMixin:
    """Heatmap of customers in both runs: baseline segments down, this run's segments across."""
    old_names, new_names = _baseline_names(comparison), {s.id: s.name for s in result.segments}
    mig = comparison.migration
    # Baseline rows follow the segments that continue them, so staying customers run down the diagonal.
    position = {s.id: i for i, s in enumerate(result.segments)}
    successor = {i.baseline_id: position.get(i.segment_id, len(position)) for i in comparison.identities
                 if i.status == "kept"}
    rows = sorted((o for o, _ in mig.row_totals), key=lambda o: successor.get(o, len(position) + 1))
    rows_order = [old_names.get(o, f"Segment {o}") for o in rows]
    cols_order = [new_names.get(n, f"Segment {n}") for n, _ in mig.column_totals]
    top = max([c[2] for c in mig.cells] + [1])
    continues = {(i.baseline_id, i.segment_id) for i in comparison.identities if i.status == "kept"}
    # Text colour is precomputed per cell: a conditional encoding costs Altair a schema validation.
    cells = [{"old": old_names.get(o, f"Segment {o}"), "new": new_names.get(n, f"Segment {n}"), "customers": count,
              "label": f"{count:,}", "ink": "white" if count > 0.55 * top else INK, "kept": (o, n) in continues,
              "value": money(value, result.report.currency) if value is not None and math.isfinite(value) else "–"}
             for o, n, count, value in mig.cells]
    step = max(44, min(90, 480 // max(len(cols_order), 1)))
    base = alt.Chart(alt.Data(values=cells)).encode(
        x=alt.X("new:N", sort=cols_order, title="Segment now",
                axis=alt.Axis(orient="bottom", labelAngle=-30 if max(map(len, cols_order)) * 6.5 > step else 0,
                              labelAlign="right" if max(map(len, cols_order)) * 6.5 > step else "center",
                              **label_chars(28))),
        y=alt.Y("old:N", sort=rows_order, title=f"Segment in {comparison.baseline_period}",
                axis=alt.Axis(**label_chars(28))))
    rect = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color("customers:Q", scale=alt.Scale(scheme="blues", domain=[0, top]), legend=None),
        tooltip=[alt.Tooltip("old:N", title=f"segment in {comparison.baseline_period}"),
                 alt.Tooltip("new:N", title="segment now"), alt.Tooltip("customers:Q", format=","),
                 alt.Tooltip("value:N", title=f"their {result.value_column or 'value'} now")])
    # Drawn last so neighbouring cells' white borders cannot cover the outline of a continued segment.
    outline = base.transform_filter("datum.kept").mark_rect(fill=None, stroke=INK, strokeWidth=1.5)
    text = base.mark_text().encode(text=alt.Text("label:N"), color=alt.Color("ink:N", scale=None))
    layered = (rect + outline + text).resolve_scale(color="independent")
    return layered.properties(width=alt.Step(step), height=alt.Step(26))


def drift_chart(comparison: Comparison) -> alt.TopLevelMixin:
    """Horizontal bars of PSI per feature, with the moderate (0.1) and major (0.25) thresholds."""
    measured = [f for f in comparison.drift.features if math.isfinite(f.psi)]
    ranked = sorted(measured, key=lambda f: -f.psi)[:MAX_FEATURES]
    rows = [{"feature": f.feature, "psi": f.psi, "state": "drifted" if f.drifted else "stable",
             "label": f"{f.psi:.3f}" + ("*" if f.small_sample else "")} for f in ranked]
    bound = max([0.3] + [f.psi * 1.18 for f in ranked])
    x = alt.X("psi:Q", title="population stability index (PSI)", scale=alt.Scale(domain=[0, bound], nice=False))
    base = alt.Chart(alt.Data(values=rows)).encode(
        y=alt.Y("feature:N", sort=[r["feature"] for r in rows], title=None, axis=alt.Axis(**label_chars(28))), x=x)
    state = alt.Color("state:N", legend=alt.Legend(title=None, orient="bottom"),
                      scale=alt.Scale(domain=["drifted", "stable"], range=[DRIFTED, FAINT]))
    marks = [{"psi": 0.1, "text": "moderate 0.1"}, {"psi": 0.25, "text": "major 0.25"}]
    rules = alt.Chart(alt.Data(values=marks)).encode(x=x)
    return alt.layer(
        base.mark_bar(height={"band": 0.7}).encode(
            color=state, tooltip=["feature:N", alt.Tooltip("psi:Q", title="PSI", format=".3f"), "state:N"]),
        base.mark_text(align="left", dx=3, color=INK).encode(text=alt.Text("label:N")),
        rules.mark_rule(strokeDash=[4, 3], color="#6b7680"),
        # Stacked at two heights: at small PSI scales the two labels would otherwise overlap.
        rules.transform_filter("datum.psi < 0.2").mark_text(align="right", dx=-3, y=-6, color="#6b7680",
                                                             fontSize=11).encode(text=alt.Text("text:N")),
        rules.transform_filter("datum.psi >= 0.2").mark_text(align="left", dx=3, y=-6, color="#6b7680",
                                                              fontSize=11).encode(text=alt.Text("text:N")),
    ).properties(width=WIDTH - 160, height=20 * max(len(rows), 1))


def mix_chart(result: AnalysisResult, comparison: Comparison) -> alt.TopLevelMixin | None:
    """Waterfall from the baseline's mean value per customer, through mix and behaviour, to this run's."""
    mix = comparison.mix
    if mix is None:
        return None
    currency = result.report.currency
    after_mix = mix.old_mean + mix.mix_effect
    steps = [(f"Mean in {comparison.baseline_period}", 0.0, mix.old_mean, "total", money(mix.old_mean, currency)),
             ("Mix effect", mix.old_mean, after_mix, "up" if mix.mix_effect >= 0 else "down",
              money(mix.mix_effect, currency, sign=True)),
             ("Behaviour effect", after_mix, mix.new_mean, "up" if mix.behaviour_effect >= 0 else "down",
              money(mix.behaviour_effect, currency, sign=True)),
             ("Mean now", 0.0, mix.new_mean, "total", money(mix.new_mean, currency))]
    levels = [mix.old_mean, after_mix, mix.new_mean]
    # The effects are small beside the means; an axis from zero would flatten them into slivers.
    spread = max(max(levels) - min(levels), 0.02 * max(abs(v) for v in levels), 1e-9)
    low, high = min(levels) - 1.2 * spread, max(levels) + 0.6 * spread
    rows = [{"step": step, "start": max(start, low), "end": end, "kind": kind, "label": label,
             "top": max(start, end) if kind != "total" else end}
            for step, start, end, kind, label in steps]
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=alt.X("step:N", sort=[s[0] for s in steps], title=None, axis=alt.Axis(labelAngle=0, **label_chars(26))))
    kind = alt.Color("kind:N", legend=None,
                     scale=alt.Scale(domain=["total", "up", "down"], range=[NEUTRAL, UP, DOWN]))
    y = alt.Y("start:Q", title=f"mean {result.value_column or 'value'} per customer",
              scale=alt.Scale(domain=[low, high], nice=False, zero=False),
              axis=alt.Axis(tickCount=4, labelExpr=f"{json.dumps(currency)} + format(datum.value, ',')"))
    return alt.layer(
        base.mark_bar(size=58, clip=True).encode(y=y, y2="end:Q", color=kind,
                                                 tooltip=["step:N", alt.Tooltip("label:N", title="amount")]),
        base.mark_text(baseline="bottom", dy=-3, color=INK).encode(y=alt.Y("top:Q"), text=alt.Text("label:N")),
    ).properties(width=WIDTH - 140, height=190)


def compare_charts(result: AnalysisResult) -> tuple[dict[str, alt.TopLevelMixin], dict[str, str]]:
    """The comparison charts and their notes; empty when the run was not compared with a baseline."""
    comparison = result.comparison
    if comparison is None:
        return {}, {}
    mig, drift = comparison.migration, comparison.drift
    charts: dict[str, alt.TopLevelMixin] = {"migration": migration_chart(result, comparison),
                                            "drift": drift_chart(comparison)}
    unmeasured = sum(not math.isfinite(f.psi) for f in drift.features)
    notes = {
        "migration": f"Customers present in both periods ({mig.both:,} in all), by their segment then and now; "
                     f"outlined cells: the segment continued. {mig.added:,} new and {mig.lost:,} lost customers "
                     "are not in the grid.",
        "drift": "PSI of each feature against the baseline; dashed lines mark moderate (0.1) and major (0.25) drift. "
                 "A feature can drift on its distance while its PSI stays low; * small sample."
                 + (f" {unmeasured} feature(s) without values are left out." if unmeasured else "")
                 + (f" The {MAX_FEATURES} largest shown." if len(drift.features) - unmeasured > MAX_FEATURES else ""),
    }
    mix = mix_chart(result, comparison)
    if mix is not None:
        charts["mix"] = mix
        notes["mix"] = ("Change of the mean value per customer split into segment sizes (mix) and spending within "
                        "segments (behaviour). The axis does not start at zero.")
    return charts, notes
