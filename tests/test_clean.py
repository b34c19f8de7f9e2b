"""Cleaning counts every change: merges, ranges, missing values, duplicate ids and outlier clipping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reportgen.config import CleaningConfig
from reportgen.errors import ConfigError, DataError
from reportgen.prepare.clean import CleaningLog, clean_values, clip_outliers, dedupe_ids


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "id": [1, 2, 3, 4, 4, None],
        "Year_Birth": [1990.0, 1893.0, 1985.0, 1970.0, 1970.0, 1960.0],
        "Income": [50_000.0, np.nan, 60_000.0, np.inf, 55_000.0, 52_000.0],
        "Marital_Status": ["Married", "Together", "YOLO", "Single", "Single", None],
    })


def test_merges_ranges_infinite_and_missing_are_counted() -> None:
    cfg = CleaningConfig(ranges={"Year_Birth": {"min": 1920}},
                         merge={"Marital_Status": {"Together": "Married", "YOLO": "Single"}})
    log = CleaningLog()
    out = clean_values(_frame(), ["Year_Birth", "Income"], ["Marital_Status"], cfg, log)
    actions = {(a.column, a.action): a for a in log.actions}
    assert actions[("Marital_Status", "merged categories")].count == 2
    assert actions[("Marital_Status", "merged categories")].detail == "Together → Married (1), YOLO → Single (1)"
    assert actions[("Year_Birth", "out of plausible range → missing")].count == 1
    assert actions[("Income", "infinite value → missing")].count == 1
    assert actions[("Income", "missing → median")].count == 2
    assert actions[("Marital_Status", "missing → mode")].count == 1
    assert out["Year_Birth"].notna().all() and out["Income"].notna().all()
    assert set(out["Marital_Status"]) == {"Married", "Single"}


def test_range_drop_and_missing_drop_exclude_rows() -> None:
    cfg = CleaningConfig(ranges={"Year_Birth": {"min": 1920, "action": "drop"}}, missing={"Income": "drop"})
    log = CleaningLog()
    out = clean_values(_frame(), ["Year_Birth", "Income"], [], cfg, log)
    assert [(c.label, c.count) for c in log.exclusions] == [("Year_Birth outside plausible range", 1),
                                                            ("missing Income", 1)]
    assert len(out) == 4


def test_unknown_column_in_cleaning_config() -> None:
    cfg = CleaningConfig(ranges={"Year_Brith": {"min": 1920}})
    with pytest.raises(ConfigError, match=r"cleaning.ranges.Year_Brith: column 'Year_Brith' is not in the data"):
        clean_values(_frame(), [], [], cfg, CleaningLog())


def test_duplicate_ids_keep_first_or_error() -> None:
    log = CleaningLog()
    out = dedupe_ids(_frame(), "id", "keep-first", log, "x.csv")
    assert [(c.label, c.count) for c in log.exclusions] == [("missing customer id", 1), ("duplicate customer id", 1)]
    assert len(out) == 4
    with pytest.raises(DataError, match=r"x.csv: column 'id' has 1 repeated customer ids \(first: 4"):
        dedupe_ids(_frame(), "id", "error", CleaningLog(), "x.csv")


@pytest.mark.parametrize(("policy", "clipped"), [("iqr", 1), ("quantile", 4), ("none", 0)])
def test_outlier_policies(policy: str, clipped: int) -> None:
    values = [10.0, 11, 12, 13, 12, 11, 10, 12, 11, 500]
    frame = pd.DataFrame({"x": values})
    log = CleaningLog()
    out = clip_outliers(frame, ["x"], CleaningConfig(outliers=policy, quantiles=(0.15, 0.85)), log)
    assert sum(a.count for a in log.actions) == clipped
    if policy == "iqr":
        assert out["x"].max() < 500
