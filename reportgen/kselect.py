"""Choosing K: inertia, silhouette, Calinski–Harabasz and Davies–Bouldin for every K, a knee, and a vote.

Each criterion votes for its best K among the K values whose smallest segment respects the minimum share;
the K with most votes wins (ties go to the better silhouette), and the reason says who agreed and who did not.
"""

from __future__ import annotations

import warnings

import numpy as np
from kneed import KneeLocator
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from reportgen.config import SegmentationConfig
from reportgen.errors import AnalysisError
from reportgen.result import KCandidate, KSelection
from reportgen.segment import kmeans

CRITERIA = {"silhouette": "silhouette", "calinski_harabasz": "Calinski–Harabasz",
            "davies_bouldin": "Davies–Bouldin", "elbow": "the elbow (knee of inertia)"}


def sample_rows(n_rows: int, size: int, seed: int) -> np.ndarray:
    """Sorted row indices of a seeded random sample (all rows when there are few)."""
    if n_rows <= size:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=size, replace=False))


def _knee(ks: list[int], inertia: list[float]) -> int | None:
    if len(ks) < 3:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        knee = KneeLocator(ks, inertia, curve="convex", direction="decreasing", S=1.0).knee
    return int(knee) if knee is not None else None


def _evaluate(matrix: np.ndarray, k: int, cfg: SegmentationConfig, rows: np.ndarray) -> tuple[KMeans, KCandidate]:
    model = kmeans(k, cfg).fit(matrix)
    labels = model.labels_
    shares = np.bincount(labels, minlength=k) / len(labels)
    distinct = len(np.unique(labels[rows]))
    silhouette = float(silhouette_score(matrix[rows], labels[rows])) if 1 < distinct < len(rows) else float("nan")
    scorable = 1 < len(np.unique(labels)) < len(labels)
    return model, KCandidate(
        k=k, inertia=float(model.inertia_), silhouette=silhouette,
        calinski_harabasz=float(calinski_harabasz_score(matrix, labels)) if scorable else float("nan"),
        davies_bouldin=float(davies_bouldin_score(matrix, labels)) if scorable else float("nan"),
        min_share=float(shares.min()), allowed=bool(shares.min() >= cfg.min_segment_share))


def _decide(candidates: list[KCandidate], knee: int | None) -> tuple[int, dict[str, int]]:
    pool = [c for c in candidates if c.allowed] or candidates
    valid = [c for c in pool if np.isfinite(c.silhouette)] or pool
    votes = {
        "silhouette": max(valid, key=lambda c: (c.silhouette, -c.k)).k,
        "calinski_harabasz": max(pool, key=lambda c: (c.calinski_harabasz, -c.k)).k,
        "davies_bouldin": min(pool, key=lambda c: (c.davies_bouldin, c.k)).k,
    }
    if knee is not None and any(c.k == knee for c in pool):
        votes["elbow"] = knee
    by_k = {c.k: c for c in pool}
    tally = {k: sum(v == k for v in votes.values()) for k in by_k}
    chosen = max(by_k, key=lambda k: (tally[k], np.nan_to_num(by_k[k].silhouette, nan=-1.0), -k))
    return chosen, votes


def _reason(chosen: int, votes: dict[str, int], candidates: list[KCandidate], cfg: SegmentationConfig) -> str:
    agree = [CRITERIA[c] for c, k in votes.items() if k == chosen]
    disagree = [f"{CRITERIA[c]} preferred K = {k}" for c, k in votes.items() if k != chosen]
    text = f"K = {chosen}: " + (f"preferred by {', '.join(agree)}" if agree else "the best silhouette left")
    if "elbow" not in votes:
        text += "; the inertia curve has no clear knee in range"
    if disagree:
        text += "; " + "; ".join(disagree)
    barred = [c.k for c in candidates if not c.allowed]
    if barred:
        text += (f". K = {', '.join(map(str, barred))} ruled out: a segment below "
                 f"{cfg.min_segment_share:.0%} of customers")
    return text + "."


def select_k(matrix: np.ndarray, cfg: SegmentationConfig, n_customers: int,
             pca_components: int | None, pca_variance: float | None) -> tuple[KSelection, dict[int, KMeans]]:
    """Fit K-Means for every K in range (or the fixed K) and choose K; returns the fitted models too."""
    if n_customers < 3:
        raise AnalysisError(f"only {n_customers} customer(s) left to segment; at least 3 are needed")
    rows = sample_rows(len(matrix), cfg.sample_size, cfg.seed)
    distinct_points = len(np.unique(matrix[rows], axis=0))
    if cfg.k != "auto":
        if cfg.k > n_customers:
            raise AnalysisError(f"segmentation.k = {cfg.k} is larger than the number of customers ({n_customers:,})")
        if cfg.k > distinct_points and len(rows) < len(matrix):
            distinct_points = len(np.unique(matrix, axis=0))  # the sample may have missed some profiles
        if cfg.k > distinct_points:
            # K-Means would return empty segments and the report would promise K groups that do not exist.
            raise AnalysisError(f"segmentation.k = {cfg.k} is larger than the number of distinct customers "
                                f"({distinct_points:,} different feature profiles among {n_customers:,} customers)")
        ks = [int(cfg.k)]
    else:
        ks = [k for k in range(cfg.k_min, cfg.k_max + 1) if k < min(n_customers, distinct_points + 1)]
        if not ks:
            raise AnalysisError(f"too few distinct customers ({distinct_points:,}) for K between "
                                f"{cfg.k_min} and {cfg.k_max}")
    models, candidates = {}, []
    for k in ks:
        models[k], candidate = _evaluate(matrix, k, cfg, rows)
        candidates.append(candidate)
    knee = _knee(ks, [c.inertia for c in candidates])
    if cfg.k != "auto":
        chosen, votes = ks[0], {}
        reason = f"K = {chosen} was set in the configuration (segmentation.k)."
        if not candidates[0].allowed:
            reason += f" Its smallest segment holds {candidates[0].min_share:.1%} of customers."
    else:
        chosen, votes = _decide(candidates, knee)
        reason = _reason(chosen, votes, candidates, cfg)
    selection = KSelection(
        mode="auto" if cfg.k == "auto" else "fixed", chosen_k=chosen, knee_k=knee, votes=tuple(votes.items()),
        reason=reason, candidates=tuple(candidates), sample_size=len(rows), scaling=cfg.scaling,
        pca_components=pca_components, pca_variance=pca_variance)
    return selection, models
