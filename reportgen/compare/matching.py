"""Which of this month's segments is which of last month's: a one-to-one matching of centroids.

K-Means numbers its clusters arbitrarily, so segment 2 this month need not be last month's segment 2. The
centroids of both runs, expressed in the same feature space, are paired by the assignment that minimises the
total Euclidean distance; a pair further apart than ``max_distance`` is not the same segment, so the new one
counts as new and the old one as retired.

With the customers of both runs known (:func:`match_by_customers`), the overlap decides first: a segment that
holds most of an old segment's continuing customers continues it, however far its centre moved (a refit moves
centres; the customers are what a manager recognises). Centroid distance breaks ties and pairs segments the
overlap cannot decide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist, pdist

from reportgen.describe.definitions import MIN_OVERLAP
from reportgen.errors import BaselineError, ConfigError


@dataclass(frozen=True)
class SegmentMatch:
    """This month's segments paired with last month's."""

    pairs: tuple[tuple[int, int, float], ...]  # (new id, old id, centroid distance), by new id
    new: tuple[int, ...]  # new segments with no old segment close enough
    retired: tuple[int, ...]  # old segments no new segment took over
    max_distance: float
    overlap: tuple[tuple[int, int, float], ...] = ()  # (new, old, share of old's continuing customers now in new)
    reasons: tuple[tuple[int, str], ...] = ()  # (new id, why it was matched or not), by new id

    @property
    def old_of(self) -> dict[int, int]:
        """The matched old id of each matched new id."""
        return {new: old for new, old, _ in self.pairs}


def _centroids(centroids: np.ndarray, which: str) -> np.ndarray:
    matrix = np.asarray(centroids, dtype=float)
    if matrix.ndim != 2:
        raise BaselineError(f"{which} centroids must be a 2-D array (segments × features), got shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise BaselineError(f"{which} centroids contain missing or infinite values")
    return matrix


def default_max_distance(old_centroids: np.ndarray) -> float:
    """Half the median distance between last month's centroids.

    A new centroid within half the typical spacing of old segments lies nearer to its partner than to the
    midpoint towards a typical neighbour, so calling it the same segment is unambiguous; further out it could
    as well be a neighbour that moved, and is better reported as new. Scaling by the old spacing keeps the rule
    meaningful whatever the feature space (standardised, PCA, or log-scaled).

    Parameters
    ----------
    old_centroids
        Last month's centroids, one row per segment.

    Returns
    -------
    float
        The distance; ``inf`` (accept every match) when there are fewer than two old centroids to space.
    """
    matrix = _centroids(old_centroids, "old")
    if len(matrix) < 2:
        return math.inf
    return float(np.median(pdist(matrix))) / 2


def match_segments(old_centroids: np.ndarray, new_centroids: np.ndarray, max_distance: float) -> SegmentMatch:
    """Pair new segments with old ones by minimum total centroid distance.

    Parameters
    ----------
    old_centroids, new_centroids
        Centroids of each run, one row per segment (the row index is the segment id), in the same features.
    max_distance
        The largest centroid distance still counted as the same segment (see :func:`default_max_distance`).

    Returns
    -------
    SegmentMatch
        Matched pairs, unmatched new segments and retired old ones, each sorted by id.

    Raises
    ------
    BaselineError
        If the centroids are not comparable (different feature counts, missing values).
    ConfigError
        If ``max_distance`` is negative or NaN.
    """
    old, new = _centroids(old_centroids, "old"), _centroids(new_centroids, "new")
    if old.shape[1] != new.shape[1]:
        raise BaselineError(f"centroids are in different feature spaces: {old.shape[1]} features last month, "
                            f"{new.shape[1]} now")
    if not max_distance >= 0:
        raise ConfigError(f"segment matching distance must be zero or more, not {max_distance}")
    pairs: list[tuple[int, int, float]] = []
    if len(old) and len(new):
        distances = cdist(new, old)
        rows, cols = linear_sum_assignment(distances)
        # The cap is applied after the assignment, not folded into its costs: otherwise a segment could be
        # pushed onto a worse partner merely so that some other pair stays under the cap.
        pairs = [(int(r), int(c), float(distances[r, c])) for r, c in zip(rows, cols, strict=True)
                 if distances[r, c] <= max_distance]
    pairs.sort()
    matched_new, matched_old = {p[0] for p in pairs}, {p[1] for p in pairs}
    return SegmentMatch(tuple(pairs), tuple(i for i in range(len(new)) if i not in matched_new),
                        tuple(i for i in range(len(old)) if i not in matched_old), float(max_distance))




def overlap_shares(old_ids: np.ndarray, old_labels: np.ndarray, new_ids: np.ndarray, new_labels: np.ndarray,
                   k_old: int, k_new: int) -> np.ndarray:
    """``shares[new, old]``: the share of old segment's customers present in both runs who are now in ``new``."""
    old = dict(zip(map(str, old_ids), map(int, old_labels), strict=True))
    counts = np.zeros((k_new, k_old))
    for customer, label in zip(map(str, new_ids), map(int, new_labels), strict=True):
        before = old.get(customer)
        if before is not None and before < k_old:
            counts[label, before] += 1
    totals = counts.sum(axis=0, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def match_by_customers(old_centroids: np.ndarray, new_centroids: np.ndarray, max_distance: float,
                       shares: np.ndarray, old_names: dict[int, str] | None = None) -> SegmentMatch:
    """Pair segments on the overlap of their customers first, centroid distance second.

    Parameters
    ----------
    old_centroids, new_centroids
        Centroids of each run in the baseline's model space.
    max_distance
        The largest centroid distance that alone still counts as the same segment.
    shares
        :func:`overlap_shares` (new × old).
    old_names
        Names of the old segments, for the reasons.

    Returns
    -------
    SegmentMatch
        A pair is kept when the new segment holds at least ``MIN_OVERLAP`` of the old one's continuing customers
        or their centres lie within ``max_distance``; each new segment's reason says which.
    """
    base = match_segments(old_centroids, new_centroids, max_distance)
    old, new = _centroids(old_centroids, "old"), _centroids(new_centroids, "new")
    if not len(old) or not len(new):
        return base
    distances = cdist(new, old)
    scale = float(distances.max()) or 1.0
    # Overlap dominates the cost; distance (scaled below one overlap percent) only breaks ties.
    rows, cols = linear_sum_assignment(-shares + 0.001 * distances / scale)
    names = old_names or {}
    pairs, reasons = [], {}
    for r, c in zip(rows, cols, strict=True):
        label = f"'{names[int(c)]}'" if int(c) in names else f"segment {c}"
        share, distance = float(shares[r, c]), float(distances[r, c])
        close = distance <= max_distance
        if share >= MIN_OVERLAP or close:
            pairs.append((int(r), int(c), distance))
            why = (f"it holds {share:.0%} of the customers of {label} who are in both runs" if share >= MIN_OVERLAP
                   else f"its centre lies within {max_distance:.2f} of {label}'s")
            reasons[int(r)] = f"continues {label}: {why}; centroid distance {distance:.2f}"
        else:
            reasons[int(r)] = (f"new: it holds at most {float(shares[r].max()):.0%} of any earlier segment's "
                               f"continuing customers, and its centre is {float(distances[r].min()):.2f} from the "
                               f"nearest (limit {max_distance:.2f})")
    for r in range(len(new)):
        nearest = float(distances[r].min())
        reasons.setdefault(r, f"new: no earlier segment left to pair with (nearest centre {nearest:.2f})")
    pairs.sort()
    matched_new, matched_old = {p[0] for p in pairs}, {p[1] for p in pairs}
    overlap = tuple((int(r), int(c), float(shares[r, c])) for r, c in zip(rows, cols, strict=True))
    return SegmentMatch(tuple(pairs), tuple(i for i in range(len(new)) if i not in matched_new),
                        tuple(i for i in range(len(old)) if i not in matched_old), float(max_distance),
                        tuple(sorted(overlap)), tuple(sorted(reasons.items())))
