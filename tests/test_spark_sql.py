"""The pieces the Spark engine translates: DuckDB SQL to Spark SQL, strftime formats, derived features."""

from __future__ import annotations

import numpy as np
import pytest

from reportgen.prepare import expressions
from reportgen.spark.logs import to_spark, window_start
from reportgen.spark.prepare import java_pattern


def test_duckdb_functions_without_a_spark_twin_are_rewritten() -> None:
    sql = to_spark("SELECT suffix(c, '.0') AS a, regexp_replace(c, '^(\\d+)\\.0+$', '\\1') AS b, "
                   "TRY_STRPTIME(x, '%d/%m/%Y %H:%M') AS t, first(c ORDER BY k DESC, c) AS m, hash(a, b) AS h, "
                   "date_diff('day', d0, d1) AS d, returned / NULLIF(gross, 0) AS r FROM t")
    assert "ENDSWITH(c, '.0')" in sql
    assert "'$1'" in sql
    assert "TRY_TO_TIMESTAMP(x, 'd/M/yyyy H:mm')" in sql
    assert "MIN_BY(c, STRUCT(-k, c))" in sql
    assert "XXHASH64(a, b)" in sql
    assert "DATEDIFF(d1, d0)" in sql
    assert "CAST(returned AS DOUBLE) / NULLIF(gross, 0)" in sql


def test_java_patterns() -> None:
    assert java_pattern("%Y-%m-%d") == "yyyy-M-d"
    assert java_pattern("%d.%m.%Y %I:%M %p") == "d.M.yyyy h:mm a"
    assert java_pattern("%Y%m%dT%H") == "yyyyMd'T'H"


def test_window_start_uses_calendar_months() -> None:
    from datetime import date

    assert window_start(date(2011, 3, 31), "1M") == date(2011, 2, 28)
    assert window_start(date(2011, 12, 10), "90D") == date(2011, 9, 11)
    assert window_start(date(2011, 12, 10), "all") is None


@pytest.mark.parametrize("text", ["a + b * 2", "abs(a - b) / (b + 1)", "min(a, b) + max(a, b, 3)", "a // b",
                                  "a % 3", "log(b + 1) + sqrt(b)", "`x y` - a", "-a ** 2"])
def test_derived_features_match_the_local_evaluation(spark_settings: dict, text: str) -> None:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from reportgen.spark.expr import to_column

    spark = SparkSession.getActiveSession()
    rows = [(1.0, 2.0, 5.0), (-3.0, 0.5, 1.0), (7.5, 4.0, None), (0.0, 9.0, 2.0)]
    frame = spark.createDataFrame(rows, "a double, b double, `x y` double")
    got = [r[0] for r in frame.select(to_column(text, {c: F.col(f"`{c}`") for c in frame.columns})).collect()]
    env = {name: np.array([r[i] if r[i] is not None else np.nan for r in rows]) for i, name in
           enumerate(["a", "b", "x y"])}
    expected = expressions.parse(text).evaluate(env)
    for value, want in zip(got, np.broadcast_to(expected, (len(rows),)), strict=True):
        if value is None or not np.isfinite(want):
            assert value is None or not np.isfinite(value) or not np.isfinite(want)
        else:
            assert value == pytest.approx(want, rel=1e-12)
