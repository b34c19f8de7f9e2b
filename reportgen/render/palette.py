"""Segment colours: a presentation choice, made here and carried from month to month by the result.

A segment keeps the colour it had last month; new segments take the first colours nobody wears yet.
"""

from __future__ import annotations

from collections.abc import Iterable

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac", "#2f4b7c", "#a05195", "#d45087", "#665191", "#ffa600")


def segment_colors(k: int, carried: dict[int, str]) -> dict[int, str]:
    """Carried colours stay; other segments take the first palette colours nobody uses yet."""
    free = iter([c for c in PALETTE if c not in carried.values()] + list(PALETTE))
    return {seg: carried.get(seg) or next(free) for seg in range(k)}


def unused_color(taken: Iterable[str], fallback: str) -> str:
    """The first palette colour not in ``taken``; ``fallback`` when every one is taken."""
    taken = set(taken)
    return next((c for c in PALETTE if c not in taken), fallback)
