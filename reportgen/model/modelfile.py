"""The model file: written as plain JSON (never a pickle), checked when read back, and applied to new data.

A later run reuses it to assign this month's customers with last month's model; reading it never executes
anything, and a file that does not add up (shapes, numbers, its recorded digest) is refused.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from reportgen.errors import BaselineError
from reportgen.model.fit import FittedModel, signed_log

MODEL_FORMAT = 1
KIND = "reportgen-kmeans"
MAX_CENTROIDS = 1000
MAX_WIDTH = 100_000


def export_model(fitted: FittedModel, numeric: tuple[str, ...], categorical: tuple[str, ...],
                 names: list[str], seed: int, log_features: tuple[str, ...] = ()) -> dict[str, Any]:
    """The model as plain JSON data: enough to assign new customers later."""
    columns = fitted.preprocessor.named_steps["columns"]
    model: dict[str, Any] = {"kind": KIND, "format_version": MODEL_FORMAT, "numeric": list(numeric),
                             "categorical": list(categorical), "log_features": list(log_features), "seed": seed}
    if numeric:
        scaler = columns.named_transformers_["num"]
        center = scaler.mean_ if isinstance(scaler, StandardScaler) else scaler.center_
        model["scaler"] = {"type": type(scaler).__name__, "center": center.tolist(), "scale": scaler.scale_.tolist()}
    if categorical:
        encoder = columns.named_transformers_["cat"]
        model["categories"] = [[str(level) for level in levels] for levels in encoder.categories_]
    if "pca" in fitted.preprocessor.named_steps:
        pca = fitted.preprocessor.named_steps["pca"]
        model["pca"] = {"mean": pca.mean_.tolist(), "components": pca.components_.tolist()}
    model["centroids"] = fitted.centroids.tolist()
    model["segment_names"] = names
    return model


def model_digest(model: dict[str, Any]) -> str:
    """SHA-256 of the model's canonical JSON text; recorded in summary.json to detect edited model files."""
    text = json.dumps(model, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _matrix(value: Any, rows: int | None, cols: int | None, what: str, source: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise BaselineError(f"{source}: '{what}' is not a table of numbers") from None
    shape_ok = array.ndim == 2 and (rows is None or array.shape[0] == rows) and (cols is None or array.shape[1] == cols)
    if not shape_ok or not np.isfinite(array).all():
        raise BaselineError(f"{source}: '{what}' has the wrong shape or non-finite values (file edited or corrupt)")
    return array


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def check_model(model: Any, source: str) -> None:
    """Refuse a model file that is not one of ours, is from a newer format, or whose parts do not fit together."""
    if not isinstance(model, dict) or model.get("kind") != KIND:
        raise BaselineError(f"{source}: not a reportgen model file")
    version = model.get("format_version")
    if not isinstance(version, int) or version > MODEL_FORMAT:
        raise BaselineError(f"{source}: written by a newer reportgen (model format {version!r}; this version reads "
                            f"{MODEL_FORMAT}); upgrade reportgen to compare with it")
    numeric, categorical = model.get("numeric"), model.get("categorical")
    if not _texts(numeric) or not _texts(categorical) or not _texts(model.get("log_features", [])):
        raise BaselineError(f"{source}: feature lists are missing (file edited or corrupt)")
    categories = model.get("categories", [])
    if not isinstance(categories, list) or not all(_texts(levels) for levels in categories):
        raise BaselineError(f"{source}: 'categories' is not a list of level lists (file edited or corrupt)")
    width = len(numeric) + sum(len(levels) for levels in categories)
    if width > MAX_WIDTH:
        raise BaselineError(f"{source}: more than {MAX_WIDTH:,} model columns; not a model a run writes")
    centroids = model.get("centroids")
    if not isinstance(centroids, list) or not 1 <= len(centroids) <= MAX_CENTROIDS:
        raise BaselineError(f"{source}: 'centroids' must list 1 to {MAX_CENTROIDS} segments (file edited or corrupt)")
    if "pca" in model and not isinstance(model["pca"], dict):
        raise BaselineError(f"{source}: 'pca' is not an object (file edited or corrupt)")
    if not isinstance(model.get("segment_names", []), list):
        raise BaselineError(f"{source}: 'segment_names' is not a list (file edited or corrupt)")
    if numeric:
        scaler = model.get("scaler") or {}
        if not isinstance(scaler, dict):
            raise BaselineError(f"{source}: 'scaler' is not an object (file edited or corrupt)")
        for part in ("center", "scale"):
            _matrix([scaler.get(part)], 1, len(numeric), f"scaler.{part}", source)
    if len(categories) != len(categorical):
        raise BaselineError(f"{source}: categories do not match the categorical features (file edited or corrupt)")
    if "pca" in model:
        components = _matrix(model["pca"].get("components"), None, width, "pca.components", source)
        _matrix([model["pca"].get("mean")], 1, width, "pca.mean", source)
        width = components.shape[0]
    _matrix(model.get("centroids"), None, width, "centroids", source)


def model_space(model: dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    """``frame``'s customers in ``model``'s feature space (its log scaling, scaler, one-hot levels and PCA)."""
    parts = []
    numeric, categorical = model["numeric"], model["categorical"]
    if numeric:
        values = signed_log(frame[numeric], tuple(model.get("log_features", ()))).to_numpy(dtype=np.float64)
        center, scale = np.asarray(model["scaler"]["center"]), np.asarray(model["scaler"]["scale"])
        parts.append((values - center) / np.where(scale == 0, 1.0, scale))
    for column, levels in zip(categorical, model.get("categories", []), strict=True):
        text = frame[column].astype("string").to_numpy(dtype=object)
        parts.append(np.column_stack([text == level for level in levels]).astype(np.float64))
    matrix = np.hstack(parts) if parts else np.zeros((len(frame), 0))
    if "pca" in model:
        matrix = (matrix - np.asarray(model["pca"]["mean"])) @ np.asarray(model["pca"]["components"]).T
    return matrix


def assign(model: dict[str, Any], frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Segment ids and distances of ``frame``'s customers under ``model`` (nearest centroid in model space)."""
    matrix = model_space(model, frame)
    centroids = np.asarray(model["centroids"], dtype=np.float64)
    # ‖x − c‖² expanded, so memory stays n × k rather than n × k × features.
    squared = (matrix**2).sum(axis=1)[:, None] - 2 * matrix @ centroids.T + (centroids**2).sum(axis=1)[None, :]
    labels = squared.argmin(axis=1)
    return labels, np.sqrt(np.maximum(squared[np.arange(len(labels)), labels], 0.0))
