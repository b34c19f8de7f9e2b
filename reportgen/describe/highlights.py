"""The 3–5 generated sentences of the executive summary, each carrying the key numbers."""

from __future__ import annotations

from reportgen.formatting import pct_short
from reportgen.result import DataQuality, KSelection, LogSummary, Recommendation, Segment


def highlights(segments: tuple[Segment, ...], quality: DataQuality, selection: KSelection,
               recommendations: tuple[Recommendation, ...], log: LogSummary | None = None,
               currency: str = "") -> tuple[str, ...]:
    """Sentences a manager reads first: structure, value concentration, top action, data caveats."""
    lines = []
    if log is not None:
        totals = dict(log.totals)
        lines.append(f"In the window up to {log.as_of}, {int(totals.get('active_customers', 0)):,} customers placed "
                     f"{int(totals.get('orders', 0)):,} orders worth {currency}{totals.get('revenue', 0):,.0f} net; "
                     f"{quality.rows_segmented:,} were segmented.")
    largest = max(segments, key=lambda s: (s.size, -s.id))
    lines.append(f"{quality.rows_segmented:,} customers fall into {len(segments)} segments; the largest, "
                 f"{largest.name}, holds {pct_short(largest.share)} of them.")
    valued = [s for s in segments if s.value_share is not None and s.share > 0]
    if valued:
        top = max(valued, key=lambda s: (s.value_share / s.share, -s.id))
        low = min(valued, key=lambda s: (s.value_share / s.share, s.id))
        lines.append(f"{top.name} are {pct_short(top.share)} of customers but bring {pct_short(top.value_share)} "
                     f"of value; {low.name} are {pct_short(low.share)} of customers and bring "
                     f"{pct_short(low.value_share)}.")
    specific = [r for r in recommendations if not r.fallback]  # ranked by value at stake, then priority
    if specific:
        first = specific[0]
        stake = (f", who bring {first.value_share_at_stake:.0%} of all value"
                 if first.value_share_at_stake is not None else "")
        lines.append(f"Biggest opportunity: {first.title.rstrip('.')} — {first.audience:,} customers in "
                     f"{first.segment_name}{stake}.")
    excluded = sum(c.count for c in quality.exclusions)
    changed = sum(a.count for a in quality.actions)
    caveat = f"{excluded:,} of {quality.rows_read:,} rows were excluded" if excluded else "No rows were excluded"
    if log is not None and log.reconciliation:
        raw, used = log.reconciliation[0].count, log.reconciliation[-1].count
        caveat = f"{raw - used:,} of {raw:,} log lines were excluded (cancellations are netted, not dropped)"
    lines.append(f"{caveat} and cleaning changed {changed:,} values; see the appendix for each step.")
    weak = [s for s in segments if s.silhouette == s.silhouette and s.silhouette < 0.1]
    if selection.mode == "auto" and selection.plain_reason:
        text = selection.plain_reason.rstrip(".")
        if weak:
            text += f"; {', '.join(s.name for s in weak[:2])} overlap with neighbouring segments"
        lines.append(text + ".")
    return tuple(lines[:5])
