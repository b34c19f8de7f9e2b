"""Segment profiles as Spark aggregations: the figures :func:`reportgen.describe.profile.profile_segments` computes.

Means, medians (exact up to a size, approximate beyond), missing counts and value shares come from the observed
values grouped by segment; z-scores from the model's (imputed, clipped) values; category shares from the observed
levels. Traits and the note on means dominated by values beyond the outlier fences follow the local rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from reportgen.describe.profile import SegmentProfile, mean_note, traits
from reportgen.result import CategoryShare, FeatureStat
from reportgen.spark.model import LABEL
from reportgen.spark.prepare import numeric_name, observed_category_name, observed_name
from reportgen.spark.stats import quantiles

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def profile_spark(frame: DataFrame, k: int, numeric: tuple[str, ...], categorical: tuple[str, ...],
                  roles: dict[str, str], silhouettes: np.ndarray, rows: int) -> tuple[SegmentProfile, ...]:
    """Profile every segment of the assigned customers (``__label``) in Spark.

    Parameters
    ----------
    frame
        Assigned customers with model and observed columns.
    k
        Number of segments.
    numeric, categorical
        Feature columns of each kind (the plan's order).
    roles
        Business role → column.
    silhouettes
        Mean silhouette per segment (from the sample).
    rows
        Customers in ``frame``.
    """
    from pyspark.sql import functions as F

    role_of = {column: role for role, column in roles.items()}
    n_num = len(numeric)
    per_segment = [F.count("*").alias("size")]
    base = []
    for j in range(n_num):
        observed, seen = F.col(observed_name(j)), F.col(numeric_name(j))
        changed = observed.isNotNull() & (F.abs(observed - seen) > 1e-9 * F.abs(seen))
        per_segment += [F.count(observed).alias(f"n{j}"), F.mean(observed).alias(f"mean{j}"),
                        F.mean(seen).alias(f"seen{j}"),
                        F.mean(F.when(observed.isNotNull(), seen)).alias(f"capped{j}"),
                        F.sum(F.when(changed, 1).otherwise(0)).alias(f"moved{j}")]
        base += [F.mean(observed).alias(f"mean{j}"), F.stddev_pop(observed).alias(f"std{j}"),
                 F.mean(seen).alias(f"seen{j}"), F.stddev_pop(seen).alias(f"sstd{j}")]
    monetary = roles.get("monetary")
    if monetary in numeric:
        value = F.col(observed_name(numeric.index(monetary)))
        per_segment.append(F.sum(value).alias("value"))
        base.append(F.sum(value).alias("value"))
    groups = {r[LABEL]: r for r in frame.groupBy(LABEL).agg(*per_segment).collect()}
    whole = frame.agg(*base).first() if base else None
    medians = quantiles(frame, [observed_name(j) for j in range(n_num)], 0.5, rows, groups=LABEL)
    shares = {}
    for j, column in enumerate(categorical):
        level = F.col(observed_category_name(j))
        counts = frame.where(level.isNotNull()).groupBy(LABEL, level.alias("level")).count().collect()
        levels = sorted({r["level"] for r in counts}, key=str)
        table = np.zeros((k, len(levels)))
        for r in counts:
            table[r[LABEL], levels.index(r["level"])] = r["count"]
        per = table.sum(axis=1, keepdims=True)
        segment_shares = np.divide(table, per, out=np.zeros_like(table), where=per > 0)
        total = table.sum()
        shares[column] = (levels, segment_shares, table.sum(axis=0) / total if total else table.sum(axis=0))
    grand = float(whole["value"] or 0.0) if whole is not None and monetary in numeric else 0.0
    profiles = []
    for seg in range(k):
        row = groups.get(seg)
        size = int(row["size"]) if row is not None else 0
        stats = []
        for j, column in enumerate(numeric):
            mean = _nan(row[f"mean{j}"]) if row is not None else float("nan")
            median = _nan((medians.get(seg) or [None] * n_num)[j])
            spread = _nan(whole[f"sstd{j}"]) if whole is not None else float("nan")
            seen = _nan(row[f"seen{j}"]) if row is not None else float("nan")
            z = (seen - _nan(whole[f"seen{j}"])) / spread if spread > 0 else 0.0
            moved = int(row[f"moved{j}"]) if row is not None else 0
            capped = (_nan(row[f"capped{j}"]), moved) if row is not None else None
            missing = size - (int(row[f"n{j}"]) if row is not None else 0)
            stats.append(FeatureStat(column, role_of.get(column), mean, median, _nan(whole[f"mean{j}"]),
                                     _nan(whole[f"std{j}"]), z, missing, mean_note(mean, capped, median)))
        categories = []
        for column, (levels, segment_shares, base_shares) in shares.items():
            for i in range(len(levels)):
                share, base_share = float(segment_shares[seg, i]), float(base_shares[i])
                categories.append(CategoryShare(column, str(levels[i]), share, base_share,
                                                share / base_share if base_share > 0 else 0.0))
        value_share = None
        if monetary in numeric and grand > 0:
            value_share = float((row["value"] or 0.0) / grand) if row is not None else 0.0
        profiles.append(SegmentProfile(id=seg, size=size, share=float(size / rows), value_share=value_share,
                                       silhouette=float(silhouettes[seg]), stats=tuple(stats),
                                       categories=tuple(categories), traits=traits(stats, categories)))
    return tuple(profiles)
