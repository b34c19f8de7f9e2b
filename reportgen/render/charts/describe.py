"""One-sentence descriptions of the report's charts, computed from the data each chart draws.

The same sentence is the HTML figure's accessible description and the PDF figure's alternative text (``/Alt``),
so a reader who cannot see a chart learns what it shows in either format.
"""

from __future__ import annotations

from reportgen.formatting import num, pct, signed
from reportgen.result import AnalysisResult, Segment


def _largest(result: AnalysisResult) -> Segment:
    return max(result.segments, key=lambda s: (s.share, -s.id))


def _sizes(result: AnalysisResult) -> str:
    big, small = _largest(result), min(result.segments, key=lambda s: (s.share, s.id))
    text = (f"Bar chart of the share of customers in each of {len(result.segments)} segments: the largest is "
            f"{big.name} with {pct(big.share)}, the smallest {small.name} with {pct(small.share)}")
    valued = [s for s in result.segments if s.value_share is not None]
    if result.value_column and valued:
        top = max(valued, key=lambda s: (s.value_share or 0, -s.id))
        text += f"; {top.name} holds the largest share of {result.value_column}, {pct(top.value_share)}"
    return text + "."


def _heatmap(result: AnalysisResult) -> str:
    cells = [(abs(st.z), s.name, st.feature, st.z) for s in result.segments for st in s.stats]
    features = {st.feature for s in result.segments for st in s.stats}
    if not cells:
        return f"Heat map of how {len(result.segments)} segments differ from the customer base."
    _, name, feature, z = max(cells, key=lambda c: (c[0], c[1], c[2]))
    return (f"Heat map of {len(features)} features for {len(result.segments)} segments, in standard deviations from "
            f"the base mean; the strongest difference is {feature} in {name} at {signed(z)}.")


def _map(result: AnalysisResult) -> str:
    shown, total = len(result.segment_map.points), result.segment_map.total_customers
    first, second = result.segment_map.explained_variance
    return (f"Scatter plot of {shown:,} of {total:,} customers on the first two principal components, which explain "
            f"{pct(first)} and {pct(second)} of the variation, coloured by their {len(result.segments)} segments; "
            f"the segment table and profiles give the same information.")


def _by_k(result: AnalysisResult, field: str, label: str) -> str:
    sel = result.k_selection
    values = [(c.k, getattr(c, field)) for c in sel.candidates]
    if not values:
        return f"Line chart of {label} by number of segments."
    chosen = next((v for k, v in values if k == sel.chosen_k), None)
    return (f"Line chart of {label} for K from {values[0][0]} to {values[-1][0]}; the chosen K = {sel.chosen_k} "
            f"has {num(chosen)}.")


def _silhouette_segments(result: AnalysisResult) -> str:
    best = max(result.segments, key=lambda s: (s.silhouette, -s.id))
    worst = min(result.segments, key=lambda s: (s.silhouette, s.id))
    return (f"Bar chart of the mean silhouette of each segment, from {num(worst.silhouette)} for {worst.name} "
            f"to {num(best.silhouette)} for {best.name}.")


def _traits(segment: Segment) -> str:
    top = sorted(segment.stats, key=lambda st: -abs(st.z))[:3]
    parts = ", ".join(f"{st.feature} {signed(st.z)}" for st in top)
    return f"Bar chart of the features that set {segment.name} apart from the base, in standard deviations: {parts}."


def _categories(segment: Segment) -> str:
    top = max(segment.categories, key=lambda c: (c.lift, c.column, c.level))
    return (f"Bar chart of the category mix of {segment.name} against all customers; the most over-represented "
            f"level is {top.column} {top.level}, {pct(top.share)} against {pct(top.base_share)}.")


def _rfm_groups(result: AnalysisResult) -> str:
    groups = result.rfm.groups if result.rfm else ()
    if not groups:
        return "Bar chart of customers per RFM group."
    top = max(groups, key=lambda g: g.count)
    return f"Bar chart of customers in {len(groups)} RFM groups; the largest is {top.label} with {top.count:,}."


def _rfm_crosstab(result: AnalysisResult) -> str:
    cells = result.rfm.crosstab if result.rfm else ()
    if not cells:
        return "Grid of customers by segment and RFM group."
    names = {s.id: s.name for s in result.segments}
    segment, group, count = max(cells, key=lambda c: (c[2], -c[0], c[1]))
    return (f"Grid of customers by segment and RFM group; the largest cell is {group} within "
            f"{names.get(segment, segment)} with {count:,} customers.")


def _migration(result: AnalysisResult) -> str:
    then = result.comparison.baseline_period if result.comparison else "the previous run"
    return (f"Grid of customers by their segment in {then} and their segment now; each cell gives the number of "
            f"customers who moved, the largest moves are listed in the table below.")


def _drift(result: AnalysisResult) -> str:
    if result.comparison is None:
        return "Bar chart of how far each feature moved since the previous run."
    drift = result.comparison.drift
    return (f"Bar chart of how far each of {len(drift.features)} features moved since the previous run; "
            f"{len(drift.drifted_features)} crossed the drift threshold, as the table below lists.")


def chart_descriptions(result: AnalysisResult) -> dict[str, str]:
    """Chart name → one sentence describing what the chart shows, from the result's own figures."""
    alts = {"sizes": _sizes(result), "heatmap": _heatmap(result), "map": _map(result),
            "elbow": _by_k(result, "inertia", "the spread within segments"),
            "silhouette_k": _by_k(result, "silhouette", "the mean silhouette"),
            "silhouette_segments": _silhouette_segments(result)}
    for s in result.segments:
        if s.stats:
            alts[f"traits_{s.id}"] = _traits(s)
        if s.categories:
            alts[f"categories_{s.id}"] = _categories(s)
    if result.rfm:
        alts |= {"rfm_groups": _rfm_groups(result), "rfm_crosstab": _rfm_crosstab(result)}
    if result.comparison:
        alts |= {"migration": _migration(result), "drift": _drift(result),
                 "mix": "Chart splitting the change in value per customer into segment sizes changing and "
                        "behaviour changing within segments, as the text below states."}
    return alts
