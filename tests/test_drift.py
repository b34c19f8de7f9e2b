"""Feature drift against a stored baseline summary: PSI bands, distances, small samples and incompatibilities."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wasserstein_distance

from reportgen.compare.drift import (
    EPSILON,
    LEVELS,
    MAX_DISTANCE,
    QUANTILES,
    DriftThresholds,
    bin_edges,
    feature_drift,
    reference_stats,
)
from reportgen.errors import BaselineError, ConfigError

THRESHOLDS = DriftThresholds.from_config()


def _customers(n: int = 5000, seed: int = 7, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "income": rng.normal(50_000 + shift * 12_000, 12_000, n),
        "visits": rng.poisson(4, n).astype(float),
        "web": rng.integers(0, 2, n).astype(float),
        "channel": rng.choice(["store", "web", "catalogue"], n, p=[0.5, 0.3, 0.2]),
    })


def _stats(frame: pd.DataFrame) -> dict:
    return reference_stats(frame, ["income", "visits", "web"], ["channel"])


def test_identical_data_has_no_drift() -> None:
    frame = _customers()
    report = feature_drift(_stats(frame), frame, THRESHOLDS)
    assert report.compared == ("income", "visits", "web", "channel") and report.missing == ()
    for feature in report.features:
        assert feature.psi == pytest.approx(0, abs=1e-9) and feature.distance == pytest.approx(0, abs=1e-9)
        assert (feature.band, feature.drifted, feature.small_sample, feature.note) == ("none", False, False, "")
    assert report.drifted_features == () and report.share_drifted == 0 and not report.dataset_drift


def test_reference_is_json_ready_and_deterministic() -> None:
    frame = _customers()
    stats = _stats(frame)
    text = json.dumps(stats, allow_nan=False, sort_keys=True)
    shuffled = frame.sample(frac=1, random_state=1).reset_index(drop=True)
    assert json.dumps(_stats(shuffled), allow_nan=False, sort_keys=True) == text
    assert feature_drift(json.loads(text), frame, THRESHOLDS) == feature_drift(stats, frame, THRESHOLDS)
    income = stats["numeric"]["income"]
    assert income["n"] == 5000 and len(income["quantiles"]) == QUANTILES and len(income["edges"]) == 9
    assert income["proportions"] == pytest.approx([0.1] * 10) and income["mean"] == pytest.approx(50_000, rel=0.01)
    assert sum(stats["categorical"]["channel"]["proportions"].values()) == pytest.approx(1)


def test_edges_at_the_maximum_are_dropped() -> None:
    web = _stats(_customers())["numeric"]["web"]  # a 0/1 feature: deciles are all 0 or 1
    assert web["edges"] == [0.5] and len(web["proportions"]) == 2 and min(web["proportions"]) > 0.45


@pytest.mark.parametrize(("shift", "band", "psi_range", "distance"), [
    (0.0, "none", (0.0, 0.01), 0.0),
    (0.4, "moderate", (0.1, 0.25), 0.4),
    (1.0, "major", (0.25, 2.0), 1.0),
])
def test_shifted_normal(shift: float, band: str, psi_range: tuple[float, float], distance: float) -> None:
    stats = _stats(_customers(50_000))
    report = feature_drift(stats, _customers(50_000, seed=8, shift=shift), THRESHOLDS)
    income = report.features[0]
    assert income.feature == "income" and income.distance_kind == "wasserstein/σ"
    assert psi_range[0] <= income.psi < psi_range[1]
    assert income.distance == pytest.approx(distance, abs=0.05 if shift else 0.02)
    assert income.band == band and income.drifted == bool(shift)


def test_mean_plus_one_sigma() -> None:
    report = feature_drift(_stats(_customers()), _customers(seed=8, shift=1.0), THRESHOLDS)
    income = report.features[0]
    assert income.psi > 0.25 and abs(income.distance - 1.0) <= 0.1 and income.band == "major"


def test_outliers_drift_by_distance_alone() -> None:
    frame = _customers()
    moved = frame.assign(income=frame["income"].where(frame.index >= 250, frame["income"] + 120_000))
    income = feature_drift(_stats(frame), moved, THRESHOLDS).features[0]
    assert income.psi < 0.1 and income.distance > 0.4 and income.drifted and income.band == "none"
    assert "while PSI stayed low" in income.note


def test_categorical_shift_psi_and_jensen_shannon() -> None:
    base = pd.DataFrame({"channel": ["store"] * 50 + ["web"] * 50})
    now = pd.DataFrame({"channel": ["store"] * 100})
    stats = reference_stats(base, [], ["channel"])
    channel = feature_drift(stats, now, DriftThresholds.from_config(min_bin_count=1)).features[0]
    psi = 0.5 * math.log(2) + (EPSILON - 0.5) * math.log(EPSILON / 0.5)
    m = np.array([0.75, 0.25])
    js = math.sqrt((0.5 * math.log2(0.5 / m[0]) + 0.5 * math.log2(0.5 / m[1]) + math.log2(1 / m[0])) / 2)
    assert channel.psi == pytest.approx(psi, rel=1e-9) and channel.distance == pytest.approx(js, rel=1e-9)
    assert channel.distance_kind == "jensen-shannon" and channel.band == "major" and channel.drifted
    assert channel.note == "levels gone: web"


def test_categorical_new_level_and_missing_values() -> None:
    frame = _customers()
    stats = _stats(frame)
    rng = np.random.default_rng(3)
    now = frame.assign(channel=rng.choice(["store", "web", "app", None], len(frame), p=[0.4, 0.3, 0.2, 0.1]))
    channel = feature_drift(stats, now, THRESHOLDS).features[-1]
    assert channel.distance > 0.1 and channel.psi > 0.25
    # Missing values are no level: their share is compared on its own.
    assert channel.missing_share == pytest.approx(0.1, abs=0.02) and channel.baseline_missing_share == 0
    assert channel.note.startswith("new levels: app; levels gone: catalogue; missing for 10% of customers now")


@pytest.mark.parametrize(("moved", "share", "dataset_drift"), [
    ((), 0.0, False),
    (("income",), 0.25, False),
    (("income", "visits"), 0.5, True),
    (("income", "visits", "channel"), 0.75, True),
])
def test_dataset_drift_share(moved: tuple[str, ...], share: float, dataset_drift: bool) -> None:
    frame = _customers()
    now = frame.copy()
    if "income" in moved:
        now["income"] += 12_000
    if "visits" in moved:
        now["visits"] += 3
    if "channel" in moved:
        now["channel"] = "web"
    report = feature_drift(_stats(frame), now, THRESHOLDS)
    assert report.drifted_features == moved
    assert report.share_drifted == share and report.dataset_drift is dataset_drift


def test_small_sample_flagged() -> None:
    frame = _customers()
    report = feature_drift(_stats(frame), frame.iloc[:30], THRESHOLDS)
    # 30 rows: too few for 10 income bins (50 needed), enough for 2 bins of web or 3 channels of >= 20 % each
    small = {f.feature: f.small_sample for f in report.features}
    assert small == {"income": True, "visits": True, "web": False, "channel": False}
    assert "small sample" in report.features[0].note
    rare = pd.DataFrame({"tier": ["gold"] * 2 + ["basic"] * 998})
    assert feature_drift(reference_stats(rare, [], ["tier"]), rare, THRESHOLDS).features[0].small_sample


def test_constant_baseline() -> None:
    base = pd.DataFrame({"children": np.zeros(500)})
    stats = reference_stats(base, ["children"], [])
    assert stats["numeric"]["children"]["std"] == 0 and stats["numeric"]["children"]["edges"] == []
    same = feature_drift(stats, base, THRESHOLDS).features[0]
    assert same.psi == 0 and same.distance == 0 and not same.drifted
    moved = feature_drift(stats, base.assign(children=np.arange(500) % 2), THRESHOLDS).features[0]
    assert moved.distance == MAX_DISTANCE and moved.drifted and "σ = 0" in moved.note


def test_incompatible_features_are_listed() -> None:
    frame = _customers()
    now = frame.drop(columns="visits").assign(visits_web=1.0, web=frame["web"].map({0.0: "no", 1.0: "yes"}))
    report = feature_drift(_stats(frame), now, THRESHOLDS)
    assert report.compared == ("income", "channel") and report.missing == ("visits", "web", "visits_web")


def test_empty_current_column() -> None:
    frame = _customers()
    income = feature_drift(_stats(frame), frame.assign(income=np.nan), THRESHOLDS).features[0]
    assert math.isnan(income.psi) and not income.drifted and income.note == "no values this month"


@pytest.mark.parametrize("reference", [{}, {"format": 3, "numeric": {}, "categorical": {}},
                                       {"format": 1, "numeric": {"income": {"n": 3}}, "categorical": {}}])
def test_malformed_reference(reference: dict) -> None:
    with pytest.raises(BaselineError, match="baseline statistics"):
        feature_drift(reference, _customers(100), THRESHOLDS)


@pytest.mark.parametrize("fields", [{"psi_moderate": 0.3}, {"distance": 0}, {"dataset_share": 1.5},
                                    {"min_bin_count": 0}])
def test_threshold_validation(fields: dict) -> None:
    with pytest.raises(ConfigError):
        DriftThresholds.from_config(**fields)


def _numpy_psi(base: np.ndarray, now: np.ndarray, edges: list[float]) -> float:
    """PSI written out with numpy on the same right-closed bins (lo, hi]."""
    bins = np.r_[-np.inf, edges, np.inf]
    expected = np.array([((base > lo) & (base <= hi)).mean() for lo, hi in itertools.pairwise(bins)])
    actual = np.array([((now > lo) & (now <= hi)).mean() for lo, hi in itertools.pairwise(bins)])
    expected, actual = np.maximum(expected, EPSILON), np.maximum(actual, EPSILON)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_psi_and_wasserstein_agree_with_independent_implementations(seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = pd.DataFrame({"x": np.round(rng.gamma(2, 30, 4000), 2)})
    now = pd.DataFrame({"x": np.round(rng.gamma(2.3, 32, 3000), 2)})
    stats = reference_stats(base, ["x"], [])
    drift = feature_drift(stats, now, THRESHOLDS).features[0]
    edges = stats["numeric"]["x"]["edges"]
    assert drift.psi == pytest.approx(_numpy_psi(base["x"].to_numpy(), now["x"].to_numpy(), edges), rel=1e-6)
    std = base["x"].std(ddof=0)
    # Exactly scipy's W1 between the two stored quantile samples, and close to W1 between all the values.
    exact = wasserstein_distance(np.quantile(base["x"], LEVELS), np.quantile(now["x"], LEVELS)) / std
    assert drift.distance == pytest.approx(exact, rel=1e-6)
    assert drift.distance == pytest.approx(wasserstein_distance(base["x"], now["x"]) / std, rel=0.05)


def test_jensen_shannon_agrees_with_a_direct_computation() -> None:
    base = pd.DataFrame({"c": ["a"] * 60 + ["b"] * 30 + ["c"] * 10})
    now = pd.DataFrame({"c": ["a"] * 40 + ["b"] * 40 + ["c"] * 20})
    thresholds = DriftThresholds.from_config(min_bin_count=1)
    drift = feature_drift(reference_stats(base, [], ["c"]), now, thresholds).features[0]
    p, q = np.array([0.6, 0.3, 0.1]), np.array([0.4, 0.4, 0.2])
    m = (p + q) / 2
    js = math.sqrt((np.sum(p * np.log2(p / m)) + np.sum(q * np.log2(q / m))) / 2)
    assert drift.distance == pytest.approx(js, rel=1e-9)


@pytest.mark.parametrize("values", [
    np.r_[np.zeros(900), np.full(100, 0.1234567890123456)],  # a mass at a 16-digit value (a clip fence)
    np.r_[np.zeros(500), np.arange(1, 501) * 1e-13],  # distinct values closer than the stored precision
    np.arange(10.0),
    np.full(50, 3.0),
])
def test_bin_edges_never_make_empty_or_zero_width_bins(values: np.ndarray) -> None:
    edges = bin_edges(np.sort(values))
    assert edges == sorted(set(edges))
    counts = np.histogram(values, np.r_[-np.inf, edges, np.inf])[0]
    assert (counts > 0).all()
    assert not np.isin(values, edges).any()


def test_baseline_fences_are_applied_to_the_new_month() -> None:
    rng = np.random.default_rng(5)
    base = pd.DataFrame({"x": rng.exponential(10, 3000)})
    fences = {"x": (0.0, 40.0)}
    stats = reference_stats(base, ["x"], [], fences, {"x": 7.0})
    assert stats["numeric"]["x"]["fence"] == [0.0, 40.0] and stats["numeric"]["x"]["fill"] == 7.0
    now = base.assign(x=np.where(base["x"] > 40, base["x"] * 50, base["x"]))  # only values beyond the fence moved
    assert feature_drift(stats, now, THRESHOLDS).features[0].distance == 0


def test_missing_share_is_compared_apart_from_the_values() -> None:
    rng = np.random.default_rng(6)
    base = pd.DataFrame({"gap": np.where(rng.random(4000) < 0.42, np.nan, rng.gamma(2, 30, 4000))})
    now = pd.DataFrame({"gap": np.where(rng.random(4000) < 0.36, np.nan, rng.gamma(2, 30, 4000))})
    drift = feature_drift(reference_stats(base, ["gap"], []), now, THRESHOLDS).features[0]
    assert drift.band == "none" and drift.psi < 0.02
    assert drift.baseline_missing_share == pytest.approx(0.42, abs=0.03)
    assert drift.missing_share == pytest.approx(0.36, abs=0.03) and "missing for 37%" in drift.note
