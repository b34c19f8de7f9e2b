"""Why the average value per customer changed: segment sizes (mix) against behaviour within segments.

The overall mean is Σ share × mean over segments. Its change splits segment by segment with the symmetric
(Shapley, or midpoint) rule::

    s₁m₁ − s₀m₀ = (s₁ − s₀)·(m₀ + m₁)/2  +  (m₁ − m₀)·(s₀ + s₁)/2
                  └──── mix ────────┘     └──── behaviour ────┘

Neither period is privileged, so swapping the periods flips both effects' signs and nothing else, and the two
effects add up to the total change with no residual.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

from reportgen.result.changes import MixShift, SegmentShift


def _table(rows: Sequence[tuple[Hashable, float, float]], which: str) -> dict[Hashable, tuple[float, float]]:
    table: dict[Hashable, tuple[float, float]] = {}
    for key, share, mean in rows:
        if key in table:
            raise ValueError(f"{which} period lists segment {key!r} twice")
        if not (math.isfinite(share) and math.isfinite(mean)) or share < 0:
            raise ValueError(f"{which} period: segment {key!r} needs a finite share >= 0 and a finite mean")
        table[key] = (float(share), float(mean))
    return table


def mix_behaviour(old: Sequence[tuple[Hashable, float, float]],
                  new: Sequence[tuple[Hashable, float, float]]) -> MixShift:
    """Split the change in mean value per customer into a mix effect and a behaviour effect.

    Parameters
    ----------
    old, new
        ``(segment key, share of customers, mean value per customer)`` for each segment of each period.
        Segments are compared by key, so new segments must carry the key of the old segment they matched.

    Returns
    -------
    MixShift
        Both overall means, the total change, the two effects (``mix_effect + behaviour_effect`` equals
        ``total_change`` up to float rounding) and every segment's contribution.

    Notes
    -----
    A segment present in one period only has no mean in the other. Its missing mean is taken to be the one it
    has, so its behaviour effect is zero and its whole contribution (``s₁m₁`` when it appears, ``−s₀m₀`` when
    it retires) is mix: a segment that comes or goes changes who the customers are, not how a given group
    behaves.
    """
    before, after = _table(old, "old"), _table(new, "new")
    shifts = []
    for key in [*before, *(k for k in after if k not in before)]:
        s0, m0 = before.get(key, (0.0, math.nan))
        s1, m1 = after.get(key, (0.0, math.nan))
        m0, m1 = (m1 if math.isnan(m0) else m0), (m0 if math.isnan(m1) else m1)
        shifts.append(SegmentShift(key, s0, s1, before[key][1] if key in before else None,
                                   after[key][1] if key in after else None,
                                   mix=(s1 - s0) * (m0 + m1) / 2, behaviour=(m1 - m0) * (s0 + s1) / 2))
    old_mean = math.fsum(s * m for s, m in before.values())
    new_mean = math.fsum(s * m for s, m in after.values())
    mix = math.fsum(s.mix for s in shifts)
    behaviour = math.fsum(s.behaviour for s in shifts)
    return MixShift(old_mean, new_mean, new_mean - old_mean, mix, behaviour, tuple(shifts))
