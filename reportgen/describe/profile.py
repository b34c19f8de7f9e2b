"""Profile each segment in business units: grouped statistics of the observed values of its customers.

No inverse-transformed centroids and no cleaned values: means, medians, value shares and category shares come
from grouping the observed values (:mod:`reportgen.prepare.observed`) by segment, compared with the whole base
(z-scores, lifts); missing values are left out and counted. The model frame (imputed, clipped) is used only to
say where values beyond the outlier fences dominate a mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from reportgen.describe.definitions import DOMINANCE
from reportgen.model.kselect import sample_rows
from reportgen.model.silhouette import silhouette_values
from reportgen.result import CategoryShare, FeatureStat, MapPoint, SegmentMap, Trait

MAX_TRAITS = 4
MAP_POINTS = 1000  # customers drawn on the map: enough for its structure, flat in the input size


@dataclass(frozen=True)
class SegmentProfile:
    """Everything measured about one segment before it has a name."""

    id: int
    size: int
    share: float
    value_share: float | None
    silhouette: float
    stats: tuple[FeatureStat, ...]
    categories: tuple[CategoryShare, ...]
    traits: tuple[Trait, ...]


def _strength(z: float) -> str:
    size = abs(z)
    word = "far" if size >= 1.5 else "well" if size >= 0.8 else "somewhat"
    return f"{word} {'above' if z > 0 else 'below'} average"


def traits(stats: list[FeatureStat], categories: list[CategoryShare]) -> tuple[Trait, ...]:
    """A segment's distinguishing traits: its strongest z-scores, then its over-represented levels (every engine)."""
    numeric = sorted((s for s in stats if abs(s.z) >= 0.3), key=lambda s: (-abs(s.z), s.feature))
    traits = [Trait(s.feature, "numeric", "high" if s.z > 0 else "low", s.z,
                    f"{s.feature} {_strength(s.z)} ({s.z:+.1f}σ)") for s in numeric[:MAX_TRAITS]]
    lifted = sorted((c for c in categories if c.lift >= 1.3 and c.share >= 0.1),
                    key=lambda c: (-c.lift, c.column, c.level))
    traits += [Trait(f"{c.column}={c.level}", "categorical", "high", c.lift,
                     f"{c.column} '{c.level}' over-represented ({c.share:.0%} vs {c.base_share:.0%})")
               for c in lifted[:2]]
    if not traits and numeric == [] and stats:
        closest = sorted(stats, key=lambda s: (-abs(s.z), s.feature))[0]
        traits.append(Trait(closest.feature, "numeric", "high" if closest.z >= 0 else "low", closest.z,
                            f"close to average on every feature (largest gap: {closest.feature} {closest.z:+.1f}σ)"))
    return tuple(traits)


def _numeric_summary(frame: pd.DataFrame, numeric: tuple[str, ...], labels: np.ndarray, k: int) -> tuple[dict, ...]:
    """Per segment mean and median, and the base mean and σ, of every numeric column; one column at a time,
    so no copy of the whole table is made (missing values are left out, as pandas does)."""
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(k + 1))
    means, medians, base_mean, base_std, missing = {}, {}, {}, {}, {}
    for column in numeric:
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)[order]
        parts = [values[bounds[s]:bounds[s + 1]] for s in range(k)]
        missing[column] = [int(np.isnan(part).sum()) for part in parts]
        parts = [part[~np.isnan(part)] for part in parts]
        means[column] = [float(part.mean()) if len(part) else float("nan") for part in parts]
        medians[column] = [float(np.median(part)) if len(part) else float("nan") for part in parts]
        present = values[~np.isnan(values)]
        base_mean[column] = float(present.mean()) if len(present) else float("nan")
        base_std[column] = float(present.std()) if len(present) else float("nan")
    return means, medians, base_mean, base_std, missing


def _capped_means(observed: pd.DataFrame, model: pd.DataFrame, numeric: tuple[str, ...], labels: np.ndarray,
                  k: int) -> dict[str, list[tuple[float, int]]]:
    """Per column and segment: the mean of the model's (clipped) values over the customers with an observed
    value, and how many of them the model saw changed; only columns where clipping changed something."""
    out: dict[str, list[tuple[float, int]]] = {}
    for column in numeric:
        raw = observed[column].to_numpy(dtype=np.float64, na_value=np.nan)
        seen = model[column].to_numpy(dtype=np.float64, na_value=np.nan)
        present = ~np.isnan(raw)
        changed = present & ~np.isclose(raw, seen, rtol=1e-9, atol=0.0, equal_nan=True)
        if not changed.any():
            continue
        sums = np.bincount(labels[present], weights=seen[present], minlength=k)
        counts = np.bincount(labels[present], minlength=k)
        moved = np.bincount(labels[changed], minlength=k)
        out[column] = [(float(sums[s] / counts[s]) if counts[s] else float("nan"), int(moved[s])) for s in range(k)]
    return out


def mean_note(mean: float, capped: tuple[float, int] | None, median: float) -> str:
    if capped is None or not capped[1] or not np.isfinite(mean) or not np.isfinite(capped[0]):
        return ""
    scale = max(abs(mean), abs(capped[0]))
    if scale == 0 or abs(mean - capped[0]) < DOMINANCE * scale:
        return ""
    return (f"{capped[1]:,} extreme value(s) beyond the outlier fence dominate this mean: {mean:,.4g} with them, "
            f"{capped[0]:,.4g} with them capped; the median is {median:,.4g}")


def _composition(column: pd.Series, labels: np.ndarray, k: int) -> tuple[list, np.ndarray, np.ndarray]:
    """Levels seen, each segment's share of them (k × levels) and the base's; missing values count in neither."""
    codes, levels = pd.factorize(column, sort=False)
    seen = codes >= 0
    counts = np.bincount(labels[seen] * len(levels) + codes[seen], minlength=k * len(levels))
    counts = counts.reshape(k, len(levels)).astype(np.float64)
    per_segment = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, per_segment, out=np.zeros_like(counts), where=per_segment > 0)
    total = counts.sum()
    return list(levels), shares, counts.sum(axis=0) / total if total else counts.sum(axis=0)


def profile_segments(frame: pd.DataFrame, labels: np.ndarray, numeric: tuple[str, ...],
                     categorical: tuple[str, ...], roles: dict[str, str],
                     silhouettes: np.ndarray, model: pd.DataFrame | None = None) -> tuple[SegmentProfile, ...]:
    """Profile every segment.

    Parameters
    ----------
    frame
        The observed values of every customer (missing values stay missing and are left out of each figure).
    labels
        Segment id per row of ``frame``.
    numeric, categorical
        Feature columns of each kind.
    roles
        Business role → column.
    silhouettes
        The mean silhouette per segment (NaN if unknown).
    model
        The values the model saw (imputed, clipped), aligned with ``frame``: only used to note means that
        values beyond the outlier fences dominate.
    """
    role_of = {column: role for role, column in roles.items()}
    k = int(labels.max()) + 1 if len(labels) else 0
    sizes = np.bincount(labels, minlength=k)
    means, medians, base_mean, base_std, missing = _numeric_summary(frame, numeric, labels, k)
    # z (traits, names, rules) measures how distinct a segment is in what the model saw: on capped values a few
    # extreme customers cannot swamp the base σ. Every figure in units (mean, median, base mean) is observed.
    seen_means, _, seen_base, seen_std, _ = (_numeric_summary(model, numeric, labels, k) if model is not None
                                             else (means, None, base_mean, base_std, None))
    capped = _capped_means(frame, model, numeric, labels, k) if model is not None else {}
    monetary = roles.get("monetary")
    value = None
    if monetary is not None:
        totals = frame[monetary].groupby(labels).sum()  # missing values are left out of both sums
        grand = float(frame[monetary].sum())
        value = (totals / grand) if grand > 0 else None
    shares_by_column = {column: _composition(frame[column], labels, k) for column in categorical}
    profiles = []
    for seg in range(k):
        stats = []
        for column in numeric:
            std, mean = base_std[column], means[column][seg]
            spread = seen_std[column]
            z = (seen_means[column][seg] - seen_base[column]) / spread if spread > 0 else 0.0
            median = medians[column][seg]
            note = mean_note(mean, capped[column][seg] if column in capped else None, median)
            stats.append(FeatureStat(column, role_of.get(column), mean, median, base_mean[column], std, z,
                                     missing[column][seg], note))
        categories = []
        for column, (levels, shares, base) in shares_by_column.items():
            for i in sorted(range(len(levels)), key=lambda i: str(levels[i])):
                share, base_share = float(shares[seg, i]), float(base[i])
                categories.append(CategoryShare(column, str(levels[i]), share, base_share,
                                                share / base_share if base_share > 0 else 0.0))
        profiles.append(SegmentProfile(
            id=seg, size=int(sizes[seg]), share=float(sizes[seg] / len(labels)),
            value_share=float(value.loc[seg]) if value is not None and seg in value.index else None,
            silhouette=float(silhouettes[seg]), stats=tuple(stats), categories=tuple(categories),
            traits=traits(stats, categories)))
    return tuple(profiles)


def segment_metrics(profile: SegmentProfile, k: int) -> dict[str, float]:
    """The metric vocabulary rules and names speak: size, share, and per-role z/mean/median/ratio."""
    metrics: dict[str, float] = {"size": float(profile.size), "share": profile.share, "k": float(k),
                                 "silhouette": profile.silhouette}
    if profile.value_share is not None:
        metrics["value_share"] = profile.value_share
    for stat in profile.stats:
        if stat.role is None:
            continue
        metrics[f"z_{stat.role}"] = stat.z
        metrics[f"mean_{stat.role}"] = stat.mean
        metrics[f"median_{stat.role}"] = stat.median
        metrics[f"base_mean_{stat.role}"] = stat.base_mean
        metrics[f"ratio_{stat.role}"] = stat.mean / stat.base_mean if stat.base_mean else float("nan")
    return metrics


def segment_silhouettes(matrix: np.ndarray, labels: np.ndarray, k: int, rows: np.ndarray) -> np.ndarray:
    """Mean silhouette of each segment over the sampled ``rows`` (NaN when it cannot be measured)."""
    sub = labels[rows]
    if len(np.unique(sub)) < 2 or len(rows) <= len(np.unique(sub)):
        return np.full(k, np.nan)
    values = silhouette_values(matrix[rows], [sub])[0]
    return np.array([values[sub == s].mean() if (sub == s).any() else np.nan for s in range(k)])


def segment_map(matrix: np.ndarray, labels: np.ndarray, seed: int) -> SegmentMap:
    """A 2-D PCA projection of a seeded sample of customers, for the overview's map."""
    rows = sample_rows(len(matrix), MAP_POINTS, seed)
    sample = matrix[rows]
    if sample.shape[1] >= 2:
        pca = PCA(n_components=2, random_state=seed).fit(sample)
        xy, variance = pca.transform(sample), tuple(float(v) for v in pca.explained_variance_ratio_)
    else:
        xy, variance = np.column_stack([sample[:, 0], np.zeros(len(sample))]), (1.0, 0.0)
    points = tuple(MapPoint(round(float(x), 4), round(float(y), 4), int(s))
                   for (x, y), s in zip(xy, labels[rows], strict=True))
    return SegmentMap(points, (variance[0], variance[1]), len(matrix))
