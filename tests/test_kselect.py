"""Choosing K: every criterion computed, knee found, the vote and its stated reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from reportgen import build_report
from reportgen.config import SegmentationConfig, load_config
from reportgen.errors import AnalysisError
from reportgen.model.kselect import sample_rows, select_k


def _blobs(centers: int = 4, n: int = 800) -> np.ndarray:
    matrix, _ = make_blobs(n_samples=n, centers=centers, cluster_std=0.6, random_state=3)
    return matrix


def test_recovers_obvious_k_and_explains() -> None:
    selection, models = select_k(_blobs(4), SegmentationConfig(k_max=8), 800, None, None)
    assert selection.chosen_k == 4
    assert [c.k for c in selection.candidates] == list(range(3, 9))  # the default search starts at 3
    assert dict(selection.votes)["silhouette"] == 4
    assert selection.reason.startswith("K = 4: preferred by silhouette")
    assert set(models) == set(range(3, 9))
    four = next(c for c in selection.candidates if c.k == 4)
    assert four.stability > 0.95  # well-separated blobs come out the same on either half
    assert selection.plain_reason.startswith("Four segments: the groups come out the same")
    assert not any(word in selection.plain_reason for word in ("K =", "silhouette", "σ"))
    for candidate in selection.candidates:
        assert candidate.inertia > 0 and -1 <= candidate.silhouette <= 1 and candidate.davies_bouldin > 0


def test_stability_measures_reproducibility() -> None:
    from reportgen.model.kselect import split_half_stability

    cfg = SegmentationConfig()
    assert split_half_stability(_blobs(4), 4, cfg) > 0.95
    noise = np.random.default_rng(0).normal(size=(800, 4))  # no structure: any split into 7 is arbitrary
    assert split_half_stability(noise, 7, cfg) < 0.8
    assert split_half_stability(_blobs(4), 4, cfg) == split_half_stability(_blobs(4), 4, cfg)


def test_min_share_rules_out_k() -> None:
    matrix = np.vstack([_blobs(3, 600), np.full((6, 2), 40.0)])  # a 1% cluster far away
    cfg = SegmentationConfig(k_min=2, k_max=5, min_segment_share=0.05)
    selection, _ = select_k(matrix, cfg, len(matrix), None, None)
    barred = [c.k for c in selection.candidates if not c.allowed]
    assert barred and selection.chosen_k not in barred
    assert "ruled out" in selection.reason


def test_fixed_k() -> None:
    selection, models = select_k(_blobs(), SegmentationConfig(k=3), 800, None, None)
    assert selection.mode == "fixed" and selection.chosen_k == 3 and list(models) == [3]
    assert "set in the configuration" in selection.reason


@pytest.mark.parametrize(("k", "n", "message"), [
    (50, 20, "segmentation.k = 50 is larger than the number of customers (20)"),
    ("auto", 2, "only 2 customer(s) left to segment"),
])
def test_too_few_customers(k: object, n: int, message: str) -> None:
    with pytest.raises(AnalysisError, match=message.replace("(", r"\(").replace(")", r"\)")):
        select_k(_blobs(n=n), SegmentationConfig(k=k), n, None, None)


def test_identical_rows() -> None:
    with pytest.raises(AnalysisError, match="too few distinct customers"):
        select_k(np.ones((50, 3)), SegmentationConfig(), 50, None, None)


def test_deterministic_and_sampled() -> None:
    first, _ = select_k(_blobs(), SegmentationConfig(k_max=5, sample_size=300), 800, None, None)
    second, _ = select_k(_blobs(), SegmentationConfig(k_max=5, sample_size=300), 800, None, None)
    assert first == second and first.sample_size == 300
    assert list(sample_rows(10, 20, 0)) == list(range(10))


def test_near_degenerate_data_runs_without_warnings(tmp_path: Path) -> None:
    # Robust scaling of a column that is zero but for two huge values: K-Means finds fewer clusters than K.
    rows = ["customer_id,MntWines,Dt_Customer"] + [
        f"{i + 1},{999999 if i == 3 else 5075642810091256.0 if i == 7 else 0},0" for i in range(33)]
    (tmp_path / "x.csv").write_text("\n".join(rows) + "\n")
    config = load_config(None, {"data.path": str(tmp_path / "x.csv"), "segmentation.scaling": "robust",
                                "output.dir": str(tmp_path / "out"), "output.formats": ["json"]})
    outcome = build_report(config)  # warnings are errors under pytest
    selection = outcome.analysis.result.k_selection
    assert all(s.size > 0 for s in outcome.analysis.result.segments)
    assert selection.chosen_k in [c.k for c in selection.candidates if c.min_share > 0]
