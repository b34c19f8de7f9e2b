"""The one-pass silhouette agrees with scikit-learn's, and K search on a sample still labels every customer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_samples

from reportgen.config import SegmentationConfig
from reportgen.model.fit import fit_all, order_by_size, transform
from reportgen.model.kselect import select_k
from reportgen.model.silhouette import BLOCK_ROWS, silhouette_values


def _blobs(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4, size=(4, 6))
    return centres[rng.integers(0, 4, n)] + rng.normal(size=(n, 6))


@pytest.mark.parametrize("k", [2, 3, 7])
def test_matches_scikit_learn_across_blocks(k: int) -> None:
    points = _blobs(BLOCK_ROWS + 337)
    labels = np.random.default_rng(k).integers(0, k, len(points))
    ours = silhouette_values(points, [labels])[0]
    np.testing.assert_allclose(ours, silhouette_samples(points, labels), atol=1e-9)


def test_many_labelings_at_once_equal_one_at_a_time() -> None:
    points = _blobs(600)
    labelings = [np.random.default_rng(k).integers(0, k, 600) for k in range(2, 9)]
    together = silhouette_values(points, labelings)
    for labels, values in zip(labelings, together, strict=True):
        np.testing.assert_array_equal(values, silhouette_values(points, [labels])[0])


def test_singletons_and_single_cluster_score_zero() -> None:
    points = _blobs(50)
    lonely = np.zeros(50, dtype=int)
    lonely[7] = 1
    values = silhouette_values(points, [lonely, np.zeros(50, dtype=int)])
    assert values[0][7] == 0.0
    np.testing.assert_allclose(values[0], silhouette_samples(points, lonely), atol=1e-9)
    assert not values[1].any()


def test_search_on_a_sample_then_every_customer_is_assigned() -> None:
    frame = pd.DataFrame(_blobs(3000), columns=[f"f{i}" for i in range(6)])
    cfg = SegmentationConfig(k_max=6, search_sample=800, sample_size=300)
    matrix, preprocessor = transform(frame, tuple(frame.columns), (), cfg)
    selection, models = select_k(matrix, cfg, len(matrix), None, None)
    assert (selection.search_size, selection.sample_size, selection.chosen_k) == (800, 300, 4)
    fitted = order_by_size(fit_all(models[4], matrix, cfg), matrix, preprocessor)
    assert len(fitted.labels) == 3000 and np.bincount(fitted.labels).min() > 500
    # The full fit agrees with a fit on every customer from scratch (same partition up to renumbering).
    full_cfg = cfg.model_copy(update={"search_sample": 5000})
    _, full_models = select_k(matrix, full_cfg, len(matrix), None, None)
    full = order_by_size(full_models[4], matrix, preprocessor)
    assert (fitted.labels == full.labels).mean() > 0.99


@pytest.mark.parametrize("scaling", ["standard", "robust"])
@pytest.mark.parametrize("pca", ["off", 3])
def test_transform_equals_the_column_transformer(scaling: str, pca: str | int) -> None:
    from reportgen.model.fit import build_preprocessor

    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"spend": rng.gamma(2, 300, 900), "visits": rng.integers(0, 30, 900).astype(float),
                          "constant": np.ones(900)})
    frame["channel"] = pd.array(rng.choice(["web", "store", "phone"], 900), dtype="string")
    frame["tier"] = pd.array(rng.choice(["gold", "basic"], 900), dtype="string")
    cfg = SegmentationConfig(scaling=scaling, pca=pca)
    numeric, categorical = ("spend", "visits", "constant"), ("channel", "tier")
    matrix, preprocessor = transform(frame, numeric, categorical, cfg)
    reference = build_preprocessor(numeric, categorical, cfg)
    np.testing.assert_array_equal(matrix, np.asarray(reference.fit_transform(frame), dtype=np.float64))
    fitted, expected = preprocessor.named_steps["columns"], reference.named_steps["columns"]
    np.testing.assert_array_equal(fitted.named_transformers_["num"].scale_, expected.named_transformers_["num"].scale_)
    assert [list(c) for c in fitted.named_transformers_["cat"].categories_] == \
        [list(c) for c in expected.named_transformers_["cat"].categories_]


def test_large_tables_segment_in_float32_with_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    import reportgen.model.fit as segment

    frame = pd.DataFrame(_blobs(3000), columns=[f"f{i}" for i in range(6)])
    cfg = SegmentationConfig(k_max=6)

    def labels() -> tuple[np.dtype, np.ndarray]:
        matrix, preprocessor = transform(frame, tuple(frame.columns), (), cfg)
        selection, models = select_k(matrix, cfg, len(matrix), None, None)
        fitted = order_by_size(fit_all(models[selection.chosen_k], matrix, cfg), matrix, preprocessor)
        return matrix.dtype, fitted.labels

    dtype64, labels64 = labels()
    monkeypatch.setattr(segment, "FLOAT32_ROWS", 1000)
    dtype32, labels32 = labels()
    assert (dtype64, dtype32) == (np.float64, np.float32)
    assert len(labels32) == len(labels64) and (labels32 == labels64).mean() > 0.99
