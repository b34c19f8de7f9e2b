"""The Spark engine from the command line: a run, and each way it cannot run as one line, exit 1, nothing
written (no traceback)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from reportgen.cli import main

FAST = ["--formats", "json,csv", "-q", "--engine", "spark", "--spark-master", "local[2]"]


def invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def _refused(result: object, out: Path, *words: str) -> None:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]
    assert not out.exists()


@pytest.fixture(scope="module")
def parquet_table(tmp_path_factory: pytest.TempPathFactory, small_data: Path) -> Path:
    path = tmp_path_factory.mktemp("spark-cli") / "customers.parquet"
    pd.read_csv(small_data).to_parquet(path, index=False)
    return path


def test_run_on_parquet_writes_the_segments_with_spark(spark_settings: dict, parquet_table: Path,
                                                       tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("run", str(parquet_table), "-o", str(out), "--period", "2026-10", *FAST)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    written = pd.read_parquet(out / "segments.parquet")
    assert len(written) == summary["data"]["rows_segmented"] == 120
    assert set(written["period"].astype(str)) == {"2026-10"}
    assert len(pd.read_csv(out / "segments.csv")) == 120
    assert summary["run"]["config"]["spark"]["master"] == "local[2]"
    audiences = [r["audience_file"] for r in summary["recommendations"]]
    assert audiences and all((out / name).is_file() for name in audiences)
    for rec in summary["recommendations"]:
        assert len(pd.read_csv(out / rec["audience_file"])) == rec["audience"]


def test_missing_path(spark_settings: dict, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _refused(invoke("run", str(tmp_path / "nowhere.parquet"), "-o", str(out), *FAST), out, "nowhere.parquet",
             "not found")


def test_schema_without_the_configured_columns(spark_settings: dict, parquet_table: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[features]\nnumeric = ["total_spend", "no_such_column"]\n', encoding="utf-8")
    out = tmp_path / "out"
    _refused(invoke("run", str(parquet_table), "-c", str(config), "-o", str(out), *FAST), out,
             "features.numeric", "no_such_column")


def test_master_unreachable(parquet_table: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [a if a != "local[2]" else "spark://127.0.0.1:9" for a in FAST]
    _refused(invoke("run", str(parquet_table), "-o", str(out), *args), out, "spark://127.0.0.1:9", "reached")


def test_java_missing(parquet_table: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    out = tmp_path / "out"
    _refused(invoke("run", str(parquet_table), "-o", str(out), *FAST), out, "Java")


def test_spark_not_installed(parquet_table: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark raises ImportError
    out = tmp_path / "out"
    _refused(invoke("run", str(parquet_table), "-o", str(out), *FAST), out, "PySpark", "pip install")


def test_local_engine_is_the_default(small_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("run", str(small_data), "-o", str(out), "--formats", "json,csv", "-q")
    assert result.exit_code == 0, result.output
    config = json.loads((out / "summary.json").read_text(encoding="utf-8"))["run"]["config"]
    assert "engine" not in config and "spark" not in config
    assert not (out / "segments.parquet").exists()


def test_catalogue_table(spark_settings: dict, parquet_table: Path, tmp_path: Path) -> None:
    from pyspark.sql import SparkSession

    from reportgen.config import load_config
    from reportgen.pipeline import build_report

    SparkSession.getActiveSession().read.parquet(str(parquet_table)).createOrReplaceTempView("crm_customers")
    out = tmp_path / "out"
    outcome = build_report(load_config(None, spark_settings | {"spark.table": "crm_customers", "output.dir": str(out),
                                                               "output.formats": ["json"], "segmentation.k": 3}))
    assert outcome.analysis.result.data.rows_segmented == 120
    assert outcome.analysis.result.run.input_name == "crm_customers"
    assert (out / "segments.parquet").is_dir() and not (out / "segments.csv").exists()


def test_a_table_the_catalogue_lacks(spark_settings: dict, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('engine = "spark"\n[spark]\nmaster = "local[2]"\ntable = "no_such_table"\n', encoding="utf-8")
    out = tmp_path / "out"
    _refused(invoke("run", "-c", str(config), "-o", str(out), "--formats", "json", "-q"), out, "spark.table",
             "no_such_table")
