"""Choosing K: inertia, silhouette, Calinski–Harabasz and Davies–Bouldin for every K, a knee, and a vote.

Each criterion votes for its best K among the K values whose smallest segment respects the minimum share;
the K with most votes wins (ties go to the better silhouette), and the reason says who agreed and who did not.

On large tables the candidates are fitted on a seeded sample of ``search_sample`` customers (silhouettes on a
smaller one of ``sample_size``); the chosen K is then refitted on every customer, starting from the sample's
centroids (``segment.fit_all``). Fits run single-threaded, several K at a time: K-Means' own OpenMP threads
gain little on small data, collapse when the machine is busy, and change the last bits of the result with
the core count.
"""

from __future__ import annotations

import functools
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score
from threadpoolctl import ThreadpoolController

from reportgen.config import SegmentationConfig
from reportgen.errors import AnalysisError
from reportgen.model.fit import kmeans
from reportgen.model.silhouette import silhouette_mean, silhouette_values
from reportgen.result import KCandidate, KSelection

CRITERIA = {"silhouette": "silhouette", "calinski_harabasz": "Calinski–Harabasz",
            "davies_bouldin": "Davies–Bouldin", "elbow": "the elbow (knee of inertia)",
            "stability": "stability (split-half agreement)"}
STABLE = 0.8  # split-half agreement (ARI) from which a K's segments count as reproducible
_STABILITY_ROWS = 2000
_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def sample_rows(n_rows: int, size: int, seed: int) -> np.ndarray:
    """Sorted row indices of a seeded random sample (all rows when there are few)."""
    if n_rows <= size:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=size, replace=False))


def _knee(ks: list[int], inertia: list[float]) -> int | None:
    if len(ks) < 3:
        return None
    from kneed import KneeLocator  # imports SciPy's interpolation: only when there is a curve to read

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        knee = KneeLocator(ks, inertia, curve="convex", direction="decreasing", S=1.0).knee
    return int(knee) if knee is not None else None


@functools.cache
def _threadpools() -> ThreadpoolController:
    """The native thread pools (OpenMP, BLAS), looked up once: each lookup scans every loaded library (4 ms)."""
    return ThreadpoolController()


def _fit(matrix: np.ndarray, k: int, cfg: SegmentationConfig) -> KMeans:
    # Per thread: OpenMP's thread count is a thread-local setting.
    with _threadpools().limit(limits=1):
        return kmeans(k, cfg).fit(matrix)


def _fit_all(matrix: np.ndarray, ks: list[int], cfg: SegmentationConfig) -> list[KMeans]:
    # On near-degenerate data K-Means may find fewer distinct clusters than K; it warns, and that K is ruled out
    # below (an empty segment). The warning filter is process-wide and ``catch_warnings`` is not thread-safe
    # (a thread leaving it restores the filters another thread still relies on), so it is set once, here.
    workers = min(len(ks), os.cpu_count() or 1, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if workers < 2:
            return [_fit(matrix, k, cfg) for k in ks]
        with _threadpools().limit(limits=1), ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda k: _fit(matrix, k, cfg), ks))


def split_half_stability(matrix: np.ndarray, k: int, cfg: SegmentationConfig) -> float:
    """Agreement (adjusted Rand index) of the labels two K-Means fits on disjoint halves give every customer.

    Near 1 the segments come out the same whoever is sampled; low values mean the split is arbitrary.
    """
    rows = sample_rows(len(matrix), _STABILITY_ROWS, cfg.seed)
    data = matrix[rows]
    order = np.random.default_rng(cfg.seed + 1).permutation(len(data))
    halves = order[: len(data) // 2], order[len(data) // 2:]
    if min(len(h) for h in halves) <= k:
        return float("nan")
    labels = []
    # Called from the main thread once the pool is done, so this warning filter races with no other thread.
    with _threadpools().limit(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for half in halves:
            model = KMeans(n_clusters=k, init="k-means++", n_init=3, random_state=cfg.seed).fit(data[half])
            labels.append(model.predict(data))
    return float(adjusted_rand_score(labels[0], labels[1]))


def _candidate(matrix: np.ndarray, model: KMeans, silhouette: float, cfg: SegmentationConfig) -> KCandidate:
    labels, k = model.labels_, model.n_clusters
    shares = np.bincount(labels, minlength=k) / len(labels)
    scorable = 1 < len(np.unique(labels)) < len(labels)
    return KCandidate(
        k=k, inertia=float(model.inertia_), silhouette=silhouette,
        calinski_harabasz=float(calinski_harabasz_score(matrix, labels)) if scorable else float("nan"),
        davies_bouldin=float(davies_bouldin_score(matrix, labels)) if scorable else float("nan"),
        min_share=float(shares.min()), allowed=bool(shares.min() >= cfg.min_segment_share and shares.min() > 0),
        stability=split_half_stability(matrix, k, cfg) if cfg.k == "auto" else float("nan"))


def _silhouettes(matrix: np.ndarray, models: list[KMeans], rows: np.ndarray) -> list[float]:
    labelings = [model.labels_[rows] for model in models]
    values = silhouette_values(matrix[rows], labelings)
    return [silhouette_mean(v) if 1 < len(np.unique(labels)) < len(rows) else float("nan")
            for v, labels in zip(values, labelings, strict=True)]


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
    stable = [c for c in pool if np.isfinite(c.stability) and c.stability >= STABLE]
    if stable:  # the finest grain whose segments come out the same on either half of the customers
        votes["stability"] = max(c.k for c in stable)
        pool = stable
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


def _spelled(k: int) -> str:
    return _NUMBERS[k] if k < len(_NUMBERS) else str(k)


def plain_reason(chosen: int, votes: dict[str, int], candidates: list[KCandidate], mode: str,
                 smallest: int = 2) -> str:
    """Why this number of segments, in words a manager reads (no statistics' names)."""
    count = _spelled(chosen).capitalize()
    if mode != "auto":
        return f"{count} segments, as set by the analyst."
    parts = []
    chosen_candidate = next((c for c in candidates if c.k == chosen), None)
    if chosen_candidate is not None and np.isfinite(chosen_candidate.stability):
        if chosen_candidate.stability >= STABLE:
            parts.append("the groups come out the same when the analysis is repeated on different halves of the "
                         "customers")
        else:
            parts.append("no grouping stayed fully the same across halves of the customers, so the boundaries "
                         "between these segments are soft")
    agree = sum(1 for c, k in votes.items() if k == chosen and c != "stability")
    if agree >= 2:
        parts.append("the segments are the most clearly separated among the options tried")
    elif agree == 1:
        parts.append("it balances clear separation with enough detail to act on")
    text = f"{count} segments"
    if chosen < smallest:
        parts.insert(0, "the data does not hold more groups of a useful size (a larger number left a segment "
                        "empty or too small)")
    return text + (": " + "; ".join(parts) if parts else "") + "."


def select_k(matrix: np.ndarray, cfg: SegmentationConfig, n_customers: int,
             pca_components: int | None, pca_variance: float | None) -> tuple[KSelection, dict[int, KMeans]]:
    """Fit K-Means for every K in range (or the fixed K) and choose K.

    Returns the selection and the fitted models by K; they were fitted on the search sample, which is every
    customer unless there are more than ``cfg.search_sample``.
    """
    if n_customers < 3:
        raise AnalysisError(f"only {n_customers} customer(s) left to segment; at least 3 are needed")
    search = sample_rows(len(matrix), cfg.search_sample, cfg.seed)
    searched = matrix[search] if len(search) < len(matrix) else matrix
    rows = sample_rows(len(searched), cfg.sample_size, cfg.seed)
    distinct_points = len(np.unique(searched[rows], axis=0))
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
    fitted = _fit_all(searched, ks, cfg)
    silhouettes = _silhouettes(searched, fitted, rows)
    candidates = [_candidate(searched, model, sil, cfg) for model, sil in zip(fitted, silhouettes, strict=True)]
    fewer = [k for k in range(2, min(ks)) if k < distinct_points + 1] if cfg.k == "auto" else []
    if fewer and not any(c.allowed for c in candidates):  # the data clearly holds fewer groups than the range
        extra = _fit_all(searched, fewer, cfg)
        candidates = [*(_candidate(searched, m, sil, cfg) for m, sil in
                        zip(extra, _silhouettes(searched, extra, rows), strict=True)), *candidates]
        fitted, ks = [*extra, *fitted], [*fewer, *ks]
    models = dict(zip(ks, fitted, strict=True))
    knee = _knee(ks, [c.inertia for c in candidates])
    if cfg.k != "auto":
        chosen, votes = ks[0], {}
        reason = f"K = {chosen} was set in the configuration (segmentation.k)."
        if not candidates[0].allowed:
            reason += f" Its smallest segment holds {candidates[0].min_share:.1%} of customers."
    else:
        chosen, votes = _decide(candidates, knee)
        reason = _reason(chosen, votes, candidates, cfg)
    plain = plain_reason(chosen, votes, candidates, "auto" if cfg.k == "auto" else "fixed", cfg.k_min)
    selection = KSelection(
        mode="auto" if cfg.k == "auto" else "fixed", chosen_k=chosen, knee_k=knee, votes=tuple(votes.items()),
        reason=reason, candidates=tuple(candidates), sample_size=len(rows), search_size=len(search),
        scaling=cfg.scaling, pca_components=pca_components, pca_variance=pca_variance, plain_reason=plain)
    return selection, models
