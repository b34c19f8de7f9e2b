"""RFM charts for reports built from a transaction log: customers per RFM group, and groups within segments."""

from __future__ import annotations

import altair as alt

from reportgen.render.charts.svg import WIDTH
from reportgen.result import AnalysisResult, RfmSummary


def _group_order(rfm: RfmSummary) -> list[str]:
    return [c.label for c in rfm.groups]


def rfm_groups_chart(result: AnalysisResult, rfm: RfmSummary) -> alt.TopLevelMixin:
    """Horizontal bars: customers per RFM group, in the map's order."""
    total = sum(c.count for c in rfm.groups) or 1
    rows = [{"group": c.label, "customers": c.count, "label": f"{c.count:,} ({c.count / total:.0%})"}
            for c in rfm.groups]
    base = alt.Chart(alt.Data(values=rows)).encode(
        y=alt.Y("group:N", sort=_group_order(rfm), title=None),
        x=alt.X("customers:Q", title="customers"))
    return (base.mark_bar(color=result.report.accent_color, height={"band": 0.7}).encode(
                tooltip=["group:N", alt.Tooltip("label:N", title="customers")])
            + base.mark_text(align="left", dx=3, color="#333333").encode(text="label:N")
            ).properties(width=WIDTH - 220, height=22 * len(rows))


def rfm_crosstab_chart(result: AnalysisResult, rfm: RfmSummary) -> alt.TopLevelMixin:
    """Stacked bars: within each segment, the share of customers in each RFM group."""
    names = {s.id: s.name for s in result.segments}
    sizes = {s.id: s.size for s in result.segments}
    rows = [{"segment": names.get(seg, str(seg)), "group": group, "share": count / max(sizes.get(seg, 1), 1),
             "order": _group_order(rfm).index(group) if group in _group_order(rfm) else 99}
            for seg, group, count in rfm.crosstab if count]
    return alt.Chart(alt.Data(values=rows)).mark_bar(height={"band": 0.75}).encode(
        y=alt.Y("segment:N", sort=[s.name for s in result.segments], title=None),
        x=alt.X("share:Q", title="share of the segment's customers", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("group:N", sort=_group_order(rfm), scale=alt.Scale(scheme="tableau20"),
                        legend=alt.Legend(title=None, orient="bottom", columns=4)),
        order=alt.Order("order:Q"),
        tooltip=["segment:N", "group:N", alt.Tooltip("share:Q", title="share of the segment", format=".1%")],
    ).properties(width=WIDTH - 160, height=30 * len(result.segments))


def rfm_charts(result: AnalysisResult) -> tuple[dict[str, alt.TopLevelMixin], dict[str, str]]:
    """The RFM charts and their notes; empty when the result has no RFM scores."""
    if result.rfm is None:
        return {}, {}
    charts = {"rfm_groups": rfm_groups_chart(result, result.rfm),
              "rfm_crosstab": rfm_crosstab_chart(result, result.rfm)}
    notes = {"rfm_groups": "RFM groups from recency, frequency and monetary scores (1–5, rank-based quintiles).",
             "rfm_crosstab": "How the K-Means segments and the RFM groups relate: each bar is one segment."}
    return charts, notes
