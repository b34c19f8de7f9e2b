"""The model: scale numerics, one-hot categoricals, optional PCA, then K-Means.

Settings come from the config into the constructors and ``random_state`` is passed through; nothing uses
global random state. Labels are renumbered by segment size so the same data gives the same segment ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, RobustScaler, StandardScaler

from reportgen.config import SegmentationConfig

CHUNK_ROWS = 65_536
# Above this many customers the model matrix is held in float32: 7 significant digits are plenty for distances
# between standardised features, and memory (and K-Means time) halves. Smaller tables stay in float64.
FLOAT32_ROWS = 2_000_000


@dataclass(frozen=True)
class FittedModel:
    """A fitted preprocessor and K-Means with segment ids ordered by size (0 = largest)."""

    preprocessor: Pipeline
    centroids: np.ndarray  # in model space, row i = segment i
    labels: np.ndarray
    distances: np.ndarray
    inertia: float


def build_preprocessor(numeric: tuple[str, ...], categorical: tuple[str, ...], cfg: SegmentationConfig) -> Pipeline:
    """Scaling + one-hot encoding (+ PCA when configured), unfitted."""
    scaler = StandardScaler() if cfg.scaling == "standard" else RobustScaler()
    parts = []
    if numeric:
        parts.append(("num", scaler, list(numeric)))
    if categorical:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(categorical)))
    steps: list[tuple[str, object]] = [("columns", ColumnTransformer(parts, remainder="drop"))]
    if cfg.pca != "off":
        solver = "full" if isinstance(cfg.pca, float) else "auto"
        steps.append(("pca", PCA(n_components=cfg.pca, svd_solver=solver, random_state=cfg.seed)))
    return Pipeline(steps)


def signed_log(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``sign(x) · log1p(|x|)`` on ``columns``: tames heavy tails and keeps negative values (returns) negative."""
    if not columns:
        return frame
    frame = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    for column in columns:
        values = frame[column].to_numpy(dtype=np.float64)
        frame[column] = np.sign(values) * np.log1p(np.abs(values))
    return frame


def transform(frame: pd.DataFrame, numeric: tuple[str, ...], categorical: tuple[str, ...],
              cfg: SegmentationConfig, log_features: tuple[str, ...] = ()) -> tuple[np.ndarray, Pipeline]:
    """Fit the preprocessor and return the model-space matrix with it (``log_features`` log-scaled first)."""
    frame = signed_log(frame, log_features)
    if isinstance(cfg.pca, int) and cfg.pca != "off":
        width = len(numeric) + sum(frame[c].nunique() for c in categorical)
        cfg = cfg.model_copy(update={"pca": min(cfg.pca, width, len(frame))})
    preprocessor = build_preprocessor(numeric, categorical, cfg)
    columns: ColumnTransformer = preprocessor.named_steps["columns"]
    if any(frame[c].isna().any() for c in categorical):  # rare: let scikit-learn place the missing level
        matrix = np.ascontiguousarray(columns.fit_transform(frame), dtype=np.float64)
    else:
        matrix = _fit_transform_columns(frame, numeric, categorical, columns)
    if "pca" in preprocessor.named_steps:
        matrix = np.ascontiguousarray(preprocessor.named_steps["pca"].fit_transform(matrix), dtype=np.float64)
    if len(matrix) > FLOAT32_ROWS and matrix.dtype != np.float32:
        matrix = matrix.astype(np.float32)
    return matrix, preprocessor


def _fit_transform_columns(frame: pd.DataFrame, numeric: tuple[str, ...], categorical: tuple[str, ...],
                           columns: ColumnTransformer) -> np.ndarray:
    """``columns.fit_transform(frame)`` without its copies: the encoder learns its levels from one row per level,
    the scaler is fitted on every row, and the matrix is filled column by column (the same numbers)."""
    firsts = sorted({i for c in categorical for i in np.flatnonzero(~frame[c].duplicated().to_numpy())} or {0})
    columns.fit(frame.iloc[firsts])
    levels_by_column = columns.named_transformers_["cat"].categories_ if categorical else []
    # float32 halves the largest array of a large run; K-Means then runs in float32 as well.
    dtype = np.float32 if len(frame) > FLOAT32_ROWS else np.float64
    matrix = np.zeros((len(frame), len(numeric) + sum(len(levels) for levels in levels_by_column)), dtype=dtype)
    if numeric:
        scaler = columns.named_transformers_["num"].fit(frame[list(numeric)])
        center = scaler.mean_ if isinstance(scaler, StandardScaler) else scaler.center_
        for j, column in enumerate(numeric):
            matrix[:, j] = frame[column].to_numpy(dtype=np.float64)
            matrix[:, j] -= center[j]
            matrix[:, j] /= scaler.scale_[j]
    offset, rows = len(numeric), np.arange(len(frame))
    for column, levels in zip(categorical, levels_by_column, strict=True):
        codes = pd.Index(levels).get_indexer(frame[column].astype(object))
        matrix[rows, offset + codes] = 1.0
        offset += len(levels)
    return matrix


def kmeans(k: int, cfg: SegmentationConfig, init: np.ndarray | None = None) -> KMeans:
    """A K-Means estimator configured from the segmentation settings."""
    if init is not None:
        return KMeans(n_clusters=k, init=init, n_init=1, random_state=cfg.seed)
    return KMeans(n_clusters=k, init="k-means++", n_init=cfg.n_init, random_state=cfg.seed)


def fit_all(model: KMeans, matrix: np.ndarray, cfg: SegmentationConfig) -> KMeans:
    """The chosen model for every customer: ``model`` itself when it was fitted on all of ``matrix``, otherwise
    Lloyd iterations over all of them started from its (sample) centroids."""
    if len(model.labels_) == len(matrix):
        return model
    # copy_x=False: K-Means centres the data in place and restores it, instead of copying the whole matrix.
    return kmeans(model.n_clusters, cfg, init=model.cluster_centers_).set_params(copy_x=False).fit(matrix)


def order_by_size(model: KMeans, matrix: np.ndarray, preprocessor: Pipeline) -> FittedModel:
    """Renumber segments by size (largest first; ties by centroid coordinates) and measure distances."""
    labels = model.labels_  # fitted on all of ``matrix`` (see fit_all)
    sizes = np.bincount(labels, minlength=model.n_clusters)
    centers = model.cluster_centers_
    order = sorted(range(model.n_clusters), key=lambda i: (-sizes[i], *np.round(centers[i], 9)))
    rank = np.empty(model.n_clusters, dtype=np.int64)
    rank[order] = np.arange(model.n_clusters)
    new_labels = rank[labels]
    centroids = centers[order]
    distances = np.empty(len(matrix))
    for start in range(0, len(matrix), CHUNK_ROWS):  # in chunks: no second copy of a large matrix
        part = matrix[start:start + CHUNK_ROWS] - centroids[new_labels[start:start + CHUNK_ROWS]]
        distances[start:start + CHUNK_ROWS] = np.sqrt(np.einsum("ij,ij->i", part, part))
    return FittedModel(preprocessor, centroids, new_labels, distances, float((distances**2).sum()))
