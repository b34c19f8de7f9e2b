"""Database URLs and the DuckDB → PostgreSQL translation of the log SQL, without a server (the statements
themselves run on a real PostgreSQL in test_database.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from reportgen.config import DataConfig, TransactionsConfig
from reportgen.errors import ConfigError
from reportgen.inputs.database.dialect import to_postgres
from reportgen.inputs.database.url import is_url, parse_url, redact, split_password
from reportgen.inputs.logs.columns import detect_log_columns
from reportgen.inputs.logs.source import LogSource
from reportgen.inputs.logs.sql import customers_sql, lines_sql

NAMES = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]


def test_urls() -> None:
    assert is_url("postgresql://h/db") and is_url("sqlite:///x.db") and not is_url("data/x.csv")
    assert not is_url("C:\\data\\x.csv") and not is_url(None)
    assert parse_url("sqlite:///rel/x.db").file == Path("rel/x.db")
    assert parse_url("duckdb:////abs/x.duckdb").file == Path("/abs/x.duckdb")
    assert parse_url("postgres://h/db").kind == "postgres"
    with pytest.raises(ConfigError, match="expected a postgresql://"):
        parse_url("mysql://u:pw@h/db")
    with pytest.raises(ConfigError, match="names a file"):
        parse_url("sqlite://x.db")
    assert split_password("postgresql://u:p%40ss@h:5/db") == ("postgresql://u@h:5/db", "p@ss")
    assert split_password("postgresql://u@/db?host=/tmp/s&port=5") == ("postgresql://u@/db?host=/tmp/s&port=5", None)
    assert redact("cannot reach postgresql://u:secret@h/db?password=x") == \
        "cannot reach postgresql://u:***@h/db?password=***"
    with pytest.raises(ConfigError) as refused:
        parse_url("mysql://u:pw@h/db")
    assert "pw@" not in str(refused.value)


def _columns(table: str) -> list[str]:
    return {"lines": ["cust", "inv", "__row", "n"], "per": ["customer_id", "monetary", "gross", "returned"]}[table]


def test_duckdb_constructs_become_postgresql() -> None:
    cfg = TransactionsConfig(timestamp_format="%d/%m/%Y %H:%M")
    cols = detect_log_columns(NAMES, cfg)
    assert cols is not None
    log = LogSource(original=Path("log"), path=Path("log"), kind="parquet", names=NAMES,
                    sample=pd.DataFrame(columns=NAMES))
    lines, _ = lines_sql(log, cols, cfg.timestamp_format, DataConfig(), cfg, relation="src")
    (sql,) = to_postgres(lines, _columns)
    assert "FROM src" in sql and "READ_PARQUET" not in sql
    assert "HASHTEXTEXTENDED(CAST(ROW(" in sql and "SUFFIX" not in sql and "TO_TIMESTAMP(" in sql
    assert "ROUND(CAST(qty * price AS DECIMAL), 6)" in sql  # PostgreSQL rounds numerics only
    assert ") AS q0" in sql  # every subquery in FROM gets an alias (PostgreSQL 15)
    (per,) = to_postgres(customers_sql(cols, date(2011, 12, 10), date(2011, 9, 10)), _columns)
    assert 'ARRAY_AGG(country ORDER BY k DESC NULLS LAST, country COLLATE "C"))[1]' in per
    assert "GROUP BY cust, country" in per and "GROUP BY ALL" not in per
    assert "(CAST('2011-12-10' AS DATE) - CAST(last_day AS DATE)) AS recency_days" in per
    drop, create = to_postgres("CREATE OR REPLACE TEMP TABLE repeated AS SELECT * EXCLUDE (n), count(*)::INTEGER "
                               "AS n FROM lines GROUP BY ALL", _columns)
    assert drop == "DROP TABLE IF EXISTS repeated"
    assert create == ('CREATE TEMPORARY TABLE repeated AS SELECT "cust", "inv", "__row", CAST(COUNT(*) AS INT) AS n '
                      'FROM lines GROUP BY "cust", "inv", "__row"')
    (kept,) = to_postgres("SELECT * EXCLUDE (gross, returned) FROM per WHERE monetary > 0 ORDER BY customer_id",
                          _columns)
    assert kept == 'SELECT "customer_id", "monetary" FROM per WHERE monetary > 0 ORDER BY customer_id COLLATE "C"'
