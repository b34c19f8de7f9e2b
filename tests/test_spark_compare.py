"""The monthly comparison across engines: a local run's output as the baseline of a Spark run, and a Spark run's
output as the baseline of a local run, each giving the comparison the local engine gives."""

from __future__ import annotations

import json
from pathlib import Path

from reportgen.config import load_config
from reportgen.pipeline import build_report


def _run(data: Path, out: Path, **settings: object) -> dict:
    base = {"data.path": str(data), "output.dir": str(out), "output.formats": ["json", "csv"], "segmentation.k": 3,
            "report.period": out.name}
    build_report(load_config(None, base | settings))
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def _comparable(summary: dict) -> dict:
    comparison = dict(summary["comparison"])
    comparison.pop("baseline_folder", None)
    return comparison


def test_baselines_cross_engines(small_data: Path, spark_settings: dict, tmp_path: Path) -> None:
    spark = spark_settings
    october = _run(small_data, tmp_path / "2026-10")
    assert october["comparison"] is None
    november = {"comparison.baseline": str(tmp_path / "2026-10"), "report.period": "2026-11"}
    local_nov = _run(small_data, tmp_path / "local-11", **november)
    spark_nov = _run(small_data, tmp_path / "spark-11", **november, **spark)
    assert spark_nov["comparison"] is not None
    assert _comparable(spark_nov) == _comparable(local_nov)
    # and the other way round: the Spark run's folder is the baseline of a local run
    from_spark = _run(small_data, tmp_path / "from-spark", **{"comparison.baseline": str(tmp_path / "spark-11")})
    from_local = _run(small_data, tmp_path / "from-local", **{"comparison.baseline": str(tmp_path / "local-11")})
    assert _comparable(from_spark) == _comparable(from_local)
    assert [s["name"] for s in from_spark["segments"]] == [s["name"] for s in spark_nov["segments"]]
