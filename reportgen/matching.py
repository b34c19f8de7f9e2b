"""Which of this month's segments is which of last month's: a one-to-one matching of centroids.

K-Means numbers its clusters arbitrarily, so segment 2 this month need not be last month's segment 2. The
centroids of both runs, expressed in the same feature space, are paired by the assignment that minimises the
total Euclidean distance; a pair further apart than ``max_distance`` is not the same segment, so the new one
counts as new and the old one as retired.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist, pdist

from reportgen.errors import BaselineError, ConfigError


@dataclass(frozen=True)
class SegmentMatch:
    """This month's segments paired with last month's."""

    pairs: tuple[tuple[int, int, float], ...]  # (new id, old id, centroid distance), by new id
    new: tuple[int, ...]  # new segments with no old segment close enough
    retired: tuple[int, ...]  # old segments no new segment took over
    max_distance: float

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
