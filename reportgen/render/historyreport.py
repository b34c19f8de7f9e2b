"""The trend report over a folder of runs: ``history.html`` (self-contained) and ``history.pdf``.

Both pages render ``history.html`` with the same stylesheets, chart style and offline rules as the monthly report;
segments keep one colour per name across every chart and table.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import altair as alt
from markupsafe import Markup

from reportgen import __version__
from reportgen.compare.history import History, RunPoint
from reportgen.config import ComparisonConfig
from reportgen.errors import RenderError
from reportgen.render.charts.report import INK, NEUTRAL, WIDTH, to_svg
from reportgen.render.context import DEFAULT_ACCENT, STYLESHEETS, chart_markup, safe_color, w3c_date
from reportgen.render.html.selfcontained import external_reference, secure_page
from reportgen.render.output import prepare_target, staging
from reportgen.render.pdf.document import write_pdf
from reportgen.render.templating import render_template

TITLE = "Customer segment history"
TEMPLATE = "history.html"
DRIFTED = "#b0302c"


def _drift_line(history: History) -> float:
    """The data-set drift threshold the latest run applied (the schema's default for a run that did not say)."""
    shares = [run.dataset_share for run in history.runs if run.dataset_share is not None]
    return shares[-1] if shares else ComparisonConfig().dataset_share


def _accent(history: History) -> str:
    return safe_color(history.runs[-1].accent_color, DEFAULT_ACCENT)


def _period_axis(history: History) -> alt.X:
    labels = list(history.labels)
    # An explicit domain keeps runs without a value (no baseline, no value column) on the axis as gaps.
    return alt.X("period:O", title=None, sort=labels, scale=alt.Scale(domain=labels),
                 axis=alt.Axis(labelAngle=0 if len(labels) <= 8 else -40, labelLimit=160))


def _segment_color(history: History, legend: bool) -> alt.Color:
    scale = alt.Scale(domain=[name for name, _ in history.segments],
                      range=[safe_color(color) for _, color in history.segments])
    shown = alt.Legend(title=None, orient="bottom", columns=3, symbolType="square", labelLimit=200) if legend else None
    return alt.Color("segment:N", scale=scale, legend=shown)


def _segment_rows(history: History) -> list[dict[str, Any]]:
    order = {name: i for i, (name, _) in enumerate(history.segments)}
    return [{"period": label, "segment": s.name, "size": s.size, "share": s.share, "value_share": s.value_share,
             "order": order[s.name]}
            for label, run in zip(history.labels, history.runs, strict=True) for s in run.segments]


def _sizes(history: History) -> alt.TopLevelMixin:
    return alt.Chart(alt.Data(values=_segment_rows(history))).mark_bar(width={"band": 0.6}).encode(
        x=_period_axis(history), y=alt.Y("size:Q", title="customers", stack="zero", axis=alt.Axis(format=",d")),
        color=_segment_color(history, legend=True), order=alt.Order("order:Q"),
    ).properties(width=WIDTH, height=230)


def _value(history: History) -> alt.TopLevelMixin:
    rows = [row for row in _segment_rows(history) if row["value_share"] is not None]
    return alt.Chart(alt.Data(values=rows)).mark_line(point=alt.OverlayMarkDef(filled=True, size=45)).encode(
        x=_period_axis(history), y=alt.Y("value_share:Q", title="share of value", axis=alt.Axis(format="%")),
        color=_segment_color(history, legend=True),
    ).properties(width=WIDTH, height=210)


def _customers(history: History) -> alt.TopLevelMixin:
    rows = [{"period": label, "customers": run.customers} for label, run in zip(history.labels, history.runs,
                                                                                  strict=True)]
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=_period_axis(history), y=alt.Y("customers:Q", title="customers", axis=alt.Axis(format=",d")))
    return (base.mark_bar(width={"band": 0.6}, color=_accent(history))
            + base.mark_text(dy=-4, baseline="bottom", color=INK).encode(text=alt.Text("customers:Q", format=","))
            ).properties(width=WIDTH, height=170)


def _drift(history: History) -> alt.TopLevelMixin:
    rows = [{"period": label, "share": run.drift_share, "verdict": "drifted" if run.dataset_drift else "stable"}
            for label, run in zip(history.labels, history.runs, strict=True) if run.drift_share is not None]
    verdict = alt.Color("verdict:N", title=None, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=["stable", "drifted"], range=[NEUTRAL, DRIFTED]))
    y = alt.Y("share:Q", title="share of features drifted", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]))
    base = alt.Chart(alt.Data(values=rows)).encode(x=_period_axis(history), y=y)
    threshold = _drift_line(history)
    line = alt.Chart(alt.Data(values=[{"share": threshold}])).encode(y=alt.Y("share:Q"))
    return alt.layer(
        base.mark_bar(width={"band": 0.6}).encode(color=verdict),
        base.mark_text(dy=-4, baseline="bottom", color=INK).encode(text=alt.Text("share:Q", format=".0%")),
        line.mark_rule(strokeDash=[4, 3], color="#6b7680"),
        # Right of the plot, so the label never sits on a bar.
        line.mark_text(align="left", baseline="middle", x="width", dx=5, color="#6b7680",
                       text=f"{threshold:.0%} threshold"),
    ).properties(width=WIDTH - 70, height=170)


def build_history_charts(history: History) -> tuple[dict[str, str], dict[str, str]]:
    """Draw the trend charts: chart name → SVG markup, and chart name → the note shown under it."""
    charts = {"sizes": _sizes(history), "customers": _customers(history)}
    notes = {"sizes": "Customers in each segment per period; a segment keeps its colour across periods.",
             "customers": "Customers segmented in each run."}
    if any(s.value_share is not None for run in history.runs for s in run.segments):
        charts["value"] = _value(history)
        notes["value"] = "Share of total value held by each segment per period."
    if history.has_drift:
        charts["drift"] = _drift(history)
        notes["drift"] = (f"Share of features that drifted against the previous run; at {_drift_line(history):.0%} "
                          "or more the data set as a whole counts as drifted. Runs without a baseline have no bar.")
    return {name: to_svg(f"history-{name}", chart) for name, chart in charts.items()}, notes


def _period_view(label: str, run: RunPoint, colors: dict[str, str]) -> dict[str, Any]:
    segments = [(s, colors.get(s.name, safe_color(s.color))) for s in run.segments]
    return {"label": label, "run": run, "segments": segments}


def _context(history: History, medium: str, charts: tuple[dict[str, str], dict[str, str]],
             generated_at: str) -> dict[str, Any]:
    first, last = history.runs[0], history.runs[-1]
    labels = history.labels
    colors = {name: safe_color(color) for name, color in history.segments}
    return {
        "report": {"title": TITLE, "company": last.company, "period": f"{labels[0]} – {labels[-1]}", "author": ""},
        "result": {"customers": last.customers}, "segments": last.segments, "run": {"tool_version": __version__},
        "medium": medium, "generated_at": generated_at, "created": w3c_date(generated_at),
        "accent": _accent(history), "page_size": "Letter" if last.page_size.lower() == "letter" else "A4",
        "history": history, "first": first, "last": last, "names": list(colors.items()),
        "periods": [_period_view(label, run, colors) for label, run in zip(labels, history.runs, strict=True)],
        "charts": {name: chart_markup(name, charts[0], medium, charts[1].get(name, f"Chart of {name} by period."))
                   for name in charts[0]}, "notes": charts[1],
    }


def _page(context: dict[str, Any], template_dir: Path | None) -> str:
    css = "\n".join(render_template(name, context, template_dir) for name in STYLESHEETS[context["medium"]])
    # A stylesheet must not be able to close the <style> element it is inlined into.
    context["css"] = Markup(css.replace("</", "<\\/"))
    return render_template(TEMPLATE, context, template_dir)


def render_history(history: History, out_dir: Path, template_dir: Path | None = None) -> list[Path]:
    """Write ``history.html`` and ``history.pdf`` into ``out_dir``, replacing it as a whole.

    Parameters
    ----------
    history
        The runs to report, in period order.
    out_dir
        Output folder; written atomically (a failure leaves a previous history as it was).
    template_dir
        Folder of user templates that override the built-in ones.

    Returns
    -------
    list of Path
        The two files written, at their final place.

    Raises
    ------
    RenderError
        When there are no runs, a chart or template fails, the HTML would load an external resource, or the PDF
        cannot be written.
    """
    if not history.runs:
        raise RenderError(f"no runs to report in {out_dir}")
    out_dir = prepare_target(out_dir, "history")
    charts = build_history_charts(history)
    generated_at = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    html = _page(_context(history, "html", charts, generated_at), template_dir)
    if (reference := external_reference(html, ())) is not None:
        raise RenderError(f"history HTML would load an external resource or run a script ({reference}); it must "
                          "be self-contained")
    try:
        html = secure_page(html)
    except ValueError as exc:
        raise RenderError(f"template '{TEMPLATE}': {exc}") from None
    pdf = _page(_context(history, "pdf", charts, generated_at), template_dir)
    with staging(out_dir, "history") as stage:
        try:
            (stage / "history.html").write_text(html, encoding="utf-8")
        except OSError as exc:
            raise RenderError(f"cannot write {stage / 'history.html'}: {exc.strerror}") from None
        write_pdf(pdf, stage / "history.pdf", template_dir, "history PDF", charts[0])
    return [out_dir.resolve() / "history.html", out_dir.resolve() / "history.pdf"]
