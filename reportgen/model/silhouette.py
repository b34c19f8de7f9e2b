"""Silhouette values of several labelings of the same points, in one pass over their pairwise distances.

scikit-learn's ``silhouette_samples`` walks the full distance matrix once per labeling; choosing K needs one
labeling per candidate K. Here the distances are computed once, block by block, and every block is multiplied by
the one-hot matrices of all labelings together, so the per-cluster distance sums of all K come out of one BLAS
product and no n × n matrix is ever held.
"""

from __future__ import annotations

import numpy as np

BLOCK_ROWS = 256  # rows of the distance matrix held at once (256 × sample size floats): as fast as larger blocks


def _cluster_sums(points: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """Row i, column j: the sum of distances from point i to the points of (labeling, cluster) column j."""
    squared = np.einsum("ij,ij->i", points, points)
    sums = np.empty((len(points), onehot.shape[1]))
    for start in range(0, len(points), BLOCK_ROWS):
        # |x - y|² = |x|² + |y|² - 2 x·y, with two temporaries instead of four (the same operations in the same
        # order as the one-line expression, so the same bits)
        distances = np.add.outer(squared[start:start + BLOCK_ROWS], squared)
        gram = points[start:start + BLOCK_ROWS] @ points.T
        gram *= 2.0
        distances -= gram
        np.maximum(distances, 0.0, out=distances)
        np.sqrt(distances, out=distances)
        sums[start:start + BLOCK_ROWS] = distances @ onehot
    return sums


def silhouette_values(points: np.ndarray, labelings: list[np.ndarray]) -> list[np.ndarray]:
    """Per-point silhouette values for each labeling of ``points`` (Euclidean distance).

    Parameters
    ----------
    points
        The points, one row each (already sampled when data is large: the cost is quadratic in rows).
    labelings
        Integer cluster labels ``0..k-1`` for every point, one array per labeling.

    Returns
    -------
    list of numpy.ndarray
        One array of silhouette values per labeling, NaN-free; a point alone in its cluster scores 0, as in
        scikit-learn, and a labeling with a single cluster scores 0 everywhere.
    """
    points = np.asarray(points, dtype=np.float64)
    ks = [int(labels.max()) + 1 if len(labels) else 0 for labels in labelings]
    offsets = np.concatenate([[0], np.cumsum(ks)])
    onehot = np.zeros((len(points), int(offsets[-1])))
    rows = np.arange(len(points))
    for labels, offset in zip(labelings, offsets, strict=False):
        onehot[rows, offset + labels] = 1.0
    sums = _cluster_sums(points, onehot)
    values = []
    for labels, k, offset in zip(labelings, ks, offsets, strict=False):
        counts = np.bincount(labels, minlength=k).astype(np.float64)
        own = sums[rows, offset + labels]
        own_count = counts[labels]
        a = np.divide(own, own_count - 1, out=np.zeros_like(own), where=own_count > 1)
        # Mean distance to every other (non-empty) cluster; the nearest one is b.
        mean_other = np.where(counts > 0, sums[:, offset:offset + k] / np.maximum(counts, 1.0), np.inf)
        mean_other[rows, labels] = np.inf
        b = mean_other.min(axis=1)
        denominator = np.maximum(a, b)
        score = np.divide(b - a, denominator, out=np.zeros_like(a), where=(denominator > 0) & np.isfinite(b))
        score[own_count <= 1] = 0.0
        values.append(score)
    return values


def silhouette_mean(values: np.ndarray) -> float:
    """The silhouette score: the mean of the per-point values."""
    return float(values.mean()) if len(values) else float("nan")
