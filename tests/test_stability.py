"""Retrain advice: each threshold, their combination, and the sentence given when none is crossed."""

from __future__ import annotations

import math

import pytest

from reportgen.compare.stability import RetrainThresholds, retrain_advice
from reportgen.errors import ConfigError

DEFAULT = RetrainThresholds.from_config()


@pytest.mark.parametrize(("ari", "drift", "share", "unmatched", "action", "reasons"), [
    (0.93, False, 0.2, 0, "keep", ["No retraining threshold crossed: ARI 0.930 is at or above 0.80, no data-set "
                                   "drift (20% of features drifted), and every segment matched last month's."]),
    (0.80, False, 0.0, 0, "keep", ["No retraining threshold crossed: ARI 0.800 is at or above 0.80, no data-set "
                                   "drift (0% of features drifted), and every segment matched last month's."]),
    (0.62, False, 0.1, 0, "retrain", ["Last month's segments and a fresh fit on this month's data agree at "
                                      "ARI 0.620, below the 0.80 threshold."]),
    (0.95, True, 0.6, 0, "retrain", ["The data set drifted: 60% of the compared features moved, reaching the "
                                     "share that marks data-set drift."]),
    (0.95, False, 0.0, 1, "retrain", ["1 segment appeared or retired since last month, more than the 0 tolerated."]),
    (0.5, True, 0.75, 2, "retrain", [
        "Last month's segments and a fresh fit on this month's data agree at ARI 0.500, below the 0.80 threshold.",
        "The data set drifted: 75% of the compared features moved, reaching the share that marks data-set drift.",
        "2 segments appeared or retired since last month, more than the 0 tolerated.",
    ]),
    (math.nan, False, 0.0, 0, "keep", ["No retraining threshold crossed: ARI was not measured, no data-set drift "
                                       "(0% of features drifted), and every segment matched last month's."]),
])
def test_advice(ari: float, drift: bool, share: float, unmatched: int, action: str, reasons: list[str]) -> None:
    advice = retrain_advice(ari, drift, share, unmatched, DEFAULT)
    assert advice.action == action and list(advice.reasons) == reasons
    assert advice.ari == ari or (math.isnan(ari) and math.isnan(advice.ari))


def test_custom_thresholds() -> None:
    lenient = RetrainThresholds.from_config(min_ari=0.5, max_unmatched=1)
    advice = retrain_advice(0.6, False, 0.0, 1, lenient)
    assert advice.action == "keep"
    assert advice.reasons[0].endswith("ARI 0.600 is at or above 0.50, no data-set drift (0% of features drifted), "
                                      "and 1 segment unmatched, within the 1 tolerated.")
    assert retrain_advice(0.49, False, 0.0, 2, lenient).reasons == (
        "Last month's segments and a fresh fit on this month's data agree at ARI 0.490, below the 0.50 threshold.",
        "2 segments appeared or retired since last month, more than the 1 tolerated.",
    )


@pytest.mark.parametrize(("ari", "share", "unmatched"), [(1.5, 0.0, 0), (0.9, -0.1, 0), (0.9, 0.0, -1)])
def test_invalid_inputs(ari: float, share: float, unmatched: int) -> None:
    with pytest.raises(ValueError):
        retrain_advice(ari, False, share, unmatched, DEFAULT)


@pytest.mark.parametrize("fields", [{"min_ari": 1.2}, {"max_unmatched": -1}])
def test_invalid_thresholds(fields: dict) -> None:
    with pytest.raises(ConfigError):
        RetrainThresholds.from_config(**fields)
