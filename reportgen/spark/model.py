"""The model in Spark: scaling statistics and levels over all rows, model-space columns, samples pulled to the
driver by row position, Lloyd iterations over every customer as aggregations, and the final assignment.

The model space is the local engine's (:func:`reportgen.model.fit.transform`): signed log of the log features,
standard (mean, population σ) or robust (median, IQR) scaling, one column per level of every categorical feature
(levels sorted), then optionally PCA (fitted on the search sample). Segments are numbered by size as
:func:`reportgen.model.fit.order_by_size` numbers them.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from reportgen.config import SegmentationConfig
from reportgen.model.modelfile import KIND, MODEL_FORMAT
from reportgen.spark.prepare import category_name, numeric_name
from reportgen.spark.stats import quantiles

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
    from sklearn.decomposition import PCA

POS = "__pos"  # row position 0..n-1 in input order (what the local engine's samples index)
SEQ = "__seq"
LABEL = "__label"
DISTANCE = "__distance"
MEMORY_ROWS = 2_000_000
_PARTITION_BITS = 33  # monotonically_increasing_id: partition id in the upper bits, row in partition below


def space_name(i: int) -> str:
    """The i-th model-space column."""
    return f"__m{i}"


def storage_level(rows: int) -> Any:
    """Memory (spilling to disk) for up to ``MEMORY_ROWS`` customers; beyond, disk only: building a cached block in
    memory first needs the heap for the whole block (20 million customers ran a 4 GB heap out of memory)."""
    from pyspark import StorageLevel

    return StorageLevel.MEMORY_AND_DISK if rows <= MEMORY_ROWS else StorageLevel.DISK_ONLY


def numbered(frame: DataFrame, rows: int) -> DataFrame:
    """``frame`` persisted with its row position (``__pos``), counted per partition so no row moves."""
    from pyspark.sql import functions as F

    frame = frame.withColumn(SEQ, F.monotonically_increasing_id()).persist(storage_level(rows))
    part = F.shiftright(F.col(SEQ), _PARTITION_BITS)
    counts = sorted((r["p"], r["count"]) for r in frame.groupBy(part.alias("p")).count().collect())
    offsets, total = [], 0
    for partition, count in counts:
        offsets += [F.lit(partition), F.lit(total)]
        total += count
    start = F.create_map(*offsets)[part] if offsets else F.lit(0)
    return frame.withColumn(POS, start + (F.col(SEQ) - F.shiftleft(part, _PARTITION_BITS)))


def take_rows(frame: DataFrame, positions: np.ndarray, columns: list[str]) -> Any:
    """The rows at ``positions`` (sorted), as pandas, in that order."""
    import pandas as pd
    from pyspark.sql import functions as F

    from reportgen.spark.read import to_pandas

    # The positions travel as one small table (Arrow), not as literals: a join, not 200,000 expressions.
    wanted = frame.sparkSession.createDataFrame(pd.DataFrame({POS: np.asarray(positions, dtype=np.int64)}))
    chosen = frame.join(F.broadcast(wanted), POS)
    return to_pandas(chosen.select(POS, *columns).orderBy(POS)).set_index(POS)


def _signed_log(value: Column) -> Column:
    from pyspark.sql import functions as F

    return F.signum(value) * F.log1p(F.abs(value))


@dataclass(frozen=True)
class SparkModel:
    """How customers map into model space, and the centroids there."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    log_features: tuple[str, ...]
    scaler: str  # StandardScaler | RobustScaler
    center: np.ndarray
    scale: np.ndarray
    levels: tuple[tuple[str, ...], ...]
    pca_mean: np.ndarray | None = None
    pca_components: np.ndarray | None = None
    pca_variance: np.ndarray | None = field(default=None, compare=False)
    centroids: np.ndarray | None = None

    @property
    def width(self) -> int:
        """Columns of the model space."""
        if self.pca_components is not None:
            return int(self.pca_components.shape[0])
        return len(self.numeric) + sum(len(levels) for levels in self.levels)

    def encoded(self) -> list[Column]:
        """Scaled numerics and one-hot levels, before PCA."""
        from pyspark.sql import functions as F

        parts = []
        for j, column in enumerate(self.numeric):
            value = F.col(numeric_name(j))
            value = _signed_log(value) if column in self.log_features else value
            parts.append((value - float(self.center[j])) / float(self.scale[j]))
        for j, levels in enumerate(self.levels):
            text = F.col(category_name(j))
            parts += [F.when(text == level, 1.0).otherwise(0.0) for level in levels]
        return parts

    def space(self) -> list[Column]:
        """The model-space columns, PCA applied when fitted."""
        from pyspark.sql import functions as F

        parts = self.encoded()
        if self.pca_components is None or self.pca_mean is None:
            return parts
        rows = []
        for row in self.pca_components:
            terms = [(p - float(m)) * float(w) for p, m, w in zip(parts, self.pca_mean, row, strict=True) if w != 0.0]
            rows.append(functools.reduce(operator.add, terms) if terms else F.lit(0.0))
        return rows

    def as_dict(self, names: list[str], seed: int) -> dict[str, Any]:
        """The model file's content (:func:`reportgen.model.modelfile.export_model`'s format)."""
        model: dict[str, Any] = {"kind": KIND, "format_version": MODEL_FORMAT, "numeric": list(self.numeric),
                                 "categorical": list(self.categorical), "log_features": list(self.log_features),
                                 "seed": seed}
        if self.numeric:
            model["scaler"] = {"type": self.scaler, "center": self.center.tolist(), "scale": self.scale.tolist()}
        if self.categorical:
            model["categories"] = [list(levels) for levels in self.levels]
        if self.pca_components is not None and self.pca_mean is not None:
            model["pca"] = {"mean": self.pca_mean.tolist(), "components": self.pca_components.tolist()}
        model["centroids"] = [] if self.centroids is None else self.centroids.tolist()
        model["segment_names"] = names
        return model


def fit_scaling(frame: DataFrame, numeric: tuple[str, ...], categorical: tuple[str, ...], cfg: SegmentationConfig,
                log_features: tuple[str, ...], rows: int) -> SparkModel:
    """Scaling statistics and category levels over every customer."""
    from pyspark.sql import functions as F

    values = {numeric_name(j): (_signed_log(F.col(numeric_name(j))) if c in log_features else F.col(numeric_name(j)))
              for j, c in enumerate(numeric)}
    logged = frame.select(*(v.alias(k) for k, v in values.items())) if numeric else frame
    if not numeric:
        center = scale = np.zeros(0)
    elif cfg.scaling == "standard":
        row = logged.agg(*(F.mean(k) for k in values), *(F.stddev_pop(k) for k in values)).first()
        center = np.array([row[j] for j in range(len(values))], dtype=np.float64)
        scale = np.array([row[len(values) + j] for j in range(len(values))], dtype=np.float64)
    else:
        found = quantiles(logged, list(values), [0.25, 0.5, 0.75], rows)
        center = np.array([q[1] for q in found], dtype=np.float64)
        scale = np.array([q[2] - q[0] for q in found], dtype=np.float64)
    # scikit-learn's scalers leave a constant column unscaled
    scale = np.where(np.isfinite(scale) & (np.abs(scale) > 10 * np.finfo(np.float64).eps), scale, 1.0)
    levels = []
    for j in range(len(categorical)):
        found = frame.select(category_name(j)).where(F.col(category_name(j)).isNotNull()).distinct().collect()
        levels.append(tuple(sorted(str(r[0]) for r in found)))
    return SparkModel(numeric, categorical, log_features, "StandardScaler" if cfg.scaling == "standard"
                      else "RobustScaler", center, scale, tuple(levels))


def fit_pca(model: SparkModel, encoded: np.ndarray, cfg: SegmentationConfig) -> tuple[SparkModel, PCA | None]:
    """PCA fitted on the encoded search sample (the local engine fits it on every customer)."""
    if cfg.pca == "off":
        return model, None
    from sklearn.decomposition import PCA

    components = cfg.pca
    if isinstance(components, int):
        components = min(components, encoded.shape[1], len(encoded))
    pca = PCA(n_components=components, svd_solver="full" if isinstance(components, float) else "auto",
              random_state=cfg.seed).fit(encoded)
    return SparkModel(**{**model.__dict__, "pca_mean": pca.mean_, "pca_components": pca.components_,
                         "pca_variance": pca.explained_variance_ratio_}), pca


def with_space(frame: DataFrame, model: SparkModel) -> DataFrame:
    """``frame`` with the model-space columns ``__m0…``."""
    return frame.withColumns({space_name(i): c for i, c in enumerate(model.space())})


def _nearest(centroids: np.ndarray, width: int) -> tuple[Column, Column]:
    """The nearest centroid (first on ties, as numpy's argmin) and the squared distance to it.

    The k squared distances are computed once into an array; its minimum and the position of the first minimum
    give both (no distance is computed twice, whatever Spark's code generation makes of the expression).
    """
    from pyspark.sql import functions as F

    squared = [functools.reduce(operator.add, [(F.col(space_name(i)) - float(c[i])) ** 2 for i in range(width)])
               for c in centroids]
    distances = F.array(*squared)
    best = F.array_min(distances)
    return (F.array_position(distances, best) - 1).cast("int"), best


def lloyd(frame: DataFrame, init: np.ndarray, max_iter: int, tol: float) -> tuple[np.ndarray, int]:
    """Lloyd iterations over every row of ``frame`` (model-space columns), started at ``init``.

    Each iteration is one aggregation: every row is assigned to its nearest centre and each centre moves to the
    mean of its rows (an empty segment keeps its centre). Stops when the centres move less than ``tol`` in total
    squared distance (scikit-learn's rule: ``tol`` × the mean variance of the columns).
    """
    from pyspark.sql import functions as F

    centers = np.array(init, dtype=np.float64)
    width = centers.shape[1]
    if width == 0:
        return centers, 0
    variance = frame.agg(*(F.var_pop(space_name(i)) for i in range(width))).first()
    limit = float(np.mean([v or 0.0 for v in variance])) * tol
    for iteration in range(1, max_iter + 1):
        label, _ = _nearest(centers, width)
        rows = (frame.groupBy(label.alias("k")).agg(F.count("*").alias("n"),
                                                    *(F.sum(space_name(i)).alias(f"s{i}") for i in range(width)))
                .collect())
        moved = centers.copy()
        for row in rows:
            moved[row["k"]] = np.array([row[f"s{i}"] for i in range(width)], dtype=np.float64) / row["n"]
        shift = float(((moved - centers) ** 2).sum())
        centers = moved
        if shift <= limit:
            return centers, iteration
    return centers, max_iter


def ordered(frame: DataFrame, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Centroids renumbered by segment size (largest first; ties by centroid coordinates), the sizes in that
    order and the inertia (:func:`reportgen.model.fit.order_by_size`)."""
    from pyspark.sql import functions as F

    k, width = centers.shape
    label, best = _nearest(centers, width)
    rows = frame.groupBy(label.alias("k")).agg(F.count("*").alias("n"), F.sum(best).alias("d")).collect()
    sizes = np.zeros(k, dtype=np.int64)
    inertia = 0.0
    for row in rows:
        sizes[row["k"]] = row["n"]
        inertia += float(row["d"] or 0.0)
    order = sorted(range(k), key=lambda i: (-sizes[i], *np.round(centers[i], 9)))
    return centers[order], sizes[order], inertia


def assigned(frame: DataFrame, centroids: np.ndarray) -> DataFrame:
    """``frame`` with each customer's segment (``__label``) and distance to its centre (``__distance``)."""
    from pyspark.sql import functions as F

    label, best = _nearest(centroids, centroids.shape[1])
    return frame.withColumns({LABEL: label, DISTANCE: F.sqrt(F.greatest(best, F.lit(0.0)))})


def from_dict(model: dict[str, Any]) -> SparkModel:
    """A model file's content (a baseline's ``model.json``) as a :class:`SparkModel`."""
    numeric, categorical = tuple(model["numeric"]), tuple(model["categorical"])
    scaler = model.get("scaler") or {"type": "StandardScaler", "center": [], "scale": []}
    scale = np.asarray(scaler["scale"], dtype=np.float64)
    pca = model.get("pca")
    return SparkModel(numeric, categorical, tuple(model.get("log_features", ())), scaler["type"],
                      np.asarray(scaler["center"], dtype=np.float64), np.where(scale == 0, 1.0, scale),
                      tuple(tuple(levels) for levels in model.get("categories", [])),
                      np.asarray(pca["mean"]) if pca else None, np.asarray(pca["components"]) if pca else None,
                      None, np.asarray(model["centroids"], dtype=np.float64))
