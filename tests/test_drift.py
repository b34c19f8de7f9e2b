"""Feature drift against a stored baseline summary: PSI bands, distances, small samples and incompatibilities."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from reportgen.drift import EPSILON, MAX_DISTANCE, DriftThresholds, feature_drift, reference_stats
from reportgen.errors import BaselineError, ConfigError

THRESHOLDS = DriftThresholds()


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
    assert income["n"] == 5000 and len(income["quantiles"]) == 101 and len(income["edges"]) == 9
    assert income["proportions"] == pytest.approx([0.1] * 10) and income["mean"] == pytest.approx(50_000, rel=0.01)
    assert sum(stats["categorical"]["channel"]["proportions"].values()) == pytest.approx(1)


def test_edges_at_the_maximum_are_dropped() -> None:
    web = _stats(_customers())["numeric"]["web"]  # a 0/1 feature: deciles are all 0 or 1
    assert web["edges"] == [0.0] and len(web["proportions"]) == 2 and min(web["proportions"]) > 0.45


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
    channel = feature_drift(stats, now, DriftThresholds(min_bin_count=1)).features[0]
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
    assert channel.note == "new levels: (missing), app; levels gone: catalogue"


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


@pytest.mark.parametrize("reference", [{}, {"format": 2, "numeric": {}, "categorical": {}},
                                       {"format": 1, "numeric": {"income": {"n": 3}}, "categorical": {}}])
def test_malformed_reference(reference: dict) -> None:
    with pytest.raises(BaselineError, match="baseline statistics"):
        feature_drift(reference, _customers(100), THRESHOLDS)


@pytest.mark.parametrize("fields", [{"psi_moderate": 0.3}, {"distance": 0}, {"dataset_share": 1.5},
                                    {"min_bin_count": 0}])
def test_threshold_validation(fields: dict) -> None:
    with pytest.raises(ConfigError):
        DriftThresholds(**fields)
