"""Spark and local engines agree on the shared data: the same K, the same customers in the same segments (adjusted
Rand index ≥ 0.99), sizes, value shares and profile means within 0.1%."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from reportgen.config import load_config
from reportgen.pipeline import build_report

REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-3


def _run(config: Path | None, settings: dict, out: Path) -> tuple[dict, pd.DataFrame]:
    build_report(load_config(config, settings | {"output.dir": str(out), "output.formats": ["json", "csv"]}))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return summary, pd.read_csv(out / "segments.csv", dtype=str)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b), 1e-12)


def check_parity(config: Path | None, settings: dict, spark_settings: dict, tmp_path: Path) -> None:
    local, local_rows = _run(config, settings, tmp_path / "local")
    spark, spark_rows = _run(config, settings | spark_settings, tmp_path / "spark")
    assert spark["k_selection"]["chosen_k"] == local["k_selection"]["chosen_k"]
    assert spark["data"]["rows_segmented"] == local["data"]["rows_segmented"]
    key = local_rows.columns[0]
    both = local_rows.merge(spark_rows, on=key, suffixes=("_local", "_spark"))
    assert len(both) == len(local_rows) == len(spark_rows)
    assert adjusted_rand_score(both["segment_id_local"], both["segment_id_spark"]) >= 0.99
    for ours, theirs in zip(local["segments"], spark["segments"], strict=True):
        assert _close(ours["size"], theirs["size"]), (ours["size"], theirs["size"])
        assert _close(ours["value_share"], theirs["value_share"])
        for a, b in zip(ours["stats"], theirs["stats"], strict=True):
            assert a["feature"] == b["feature"]
            assert _close(a["mean"], b["mean"]), (a["feature"], a["mean"], b["mean"])
    assert spark["run"]["config"]["engine"] == "spark"
    assert "engine" not in local["run"]["config"]  # the local summary is as it was before the Spark engine


@pytest.mark.slow
def test_marketing_campaign(datasets_dir: Path, spark_settings: dict, tmp_path: Path) -> None:
    check_parity(REPO / "examples" / "marketing_campaign.toml",
                 {"data.path": str(datasets_dir / "marketing_campaign.csv")}, spark_settings, tmp_path)


@pytest.mark.slow
def test_bank_churners(datasets_dir: Path, spark_settings: dict, tmp_path: Path) -> None:
    # 10,127 customers: more than the search sample, so the chosen K is refitted on every customer in Spark
    check_parity(None, {"data.path": str(datasets_dir / "bank_churners.csv")}, spark_settings, tmp_path)


@pytest.mark.slow
def test_online_retail_log(datasets_dir: Path, spark_settings: dict, tmp_path: Path) -> None:
    check_parity(None, {"data.path": str(datasets_dir / "online_retail.csv.gz"), "transactions.as_of": "2011-12-10"},
                 spark_settings, tmp_path)
