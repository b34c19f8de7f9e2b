"""The cover's headline: the one-sentence takeaway and the span of dates the data covers."""

from __future__ import annotations

from datetime import date, timedelta

from reportgen.formatting import int_fmt, pct
from reportgen.result import AnalysisResult


def takeaway(result: AnalysisResult) -> str:
    """One sentence a manager reads first: where the value sits (or the largest segment) and the first action."""
    segments = result.segments
    valued = [s for s in segments if s.value_share is not None and s.share > 0]
    if valued:
        top = max(valued, key=lambda s: (s.value_share / s.share, -s.id))  # type: ignore[operator]
        text = (f"{top.name} are {pct(top.share, 0)} of customers but bring {pct(top.value_share, 0)} of "
                f"{result.value_column or 'the value'}")
    else:
        top = max(segments, key=lambda s: (s.size, -s.id))
        text = f"{top.name} are the largest of {len(segments)} segments, with {pct(top.share, 0)} of customers"
    urgent = sorted((r for r in result.recommendations if not r.fallback),
                    key=lambda r: (r.priority, -r.audience, r.segment_id))
    if urgent:
        first = urgent[0]
        text += f"; first action: {first.title.rstrip('.')} ({int_fmt(first.audience)} customers)"
    return text + "."


def date_span(result: AnalysisResult) -> str | None:
    """The dates the data covers: the order log's window, or the range of the customer table's date columns."""
    log = result.transactions
    if log is not None:
        last = (date.fromisoformat(log.as_of) - timedelta(days=1)).isoformat()  # as_of itself is excluded
        return f"orders {log.window_start} to {last}" if log.window_start else f"orders up to {last}"
    if result.data.date_range:
        first, last = result.data.date_range
        return f"{first} to {last}"
    return None
