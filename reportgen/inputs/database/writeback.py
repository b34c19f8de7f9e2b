"""Write the segments back to a database, where the CRM and campaign tools read them.

Two tables, created on first use (names from ``output.segments_table`` / ``output.summary_table``):

- ``segments``: ``customer_id`` (the source id's type: integer ids stay integers, text ids keep their zeros),
  ``segment_id``, ``segment_name``, ``distance`` (to the segment's centre, in the model's scaled units),
  ``period``, ``run_id``; one row per customer and period.
- ``segment_summary``: ``period``, ``segment_id``, ``segment_name``, ``customers``, ``share`` (of customers),
  ``value_share`` (of the monetary total; empty without a monetary role), ``lead_action`` (the segment's
  highest-priority recommendation), ``run_id``; one row per segment and period.

The period's earlier rows are deleted and the new ones inserted in one transaction: a rerun never duplicates,
and a run that fails or is killed while writing leaves the previous rows as they were.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from reportgen.config import Config
from reportgen.errors import ConfigError
from reportgen.inputs.database.connection import connect
from reportgen.inputs.database.reader import refuse_password
from reportgen.inputs.database.url import DatabaseUrl, parse_url
from reportgen.result import AnalysisResult, CustomerTable


def write_target(config: Config) -> DatabaseUrl | None:
    """The database to write back to, checked before any data is read; None when none is configured.

    Raises
    ------
    ConfigError
        For a URL with a password or an unknown scheme, a table name that is not a name, or no report.period.
    """
    out = config.output
    if not out.database:
        return None
    refuse_password(out.database, "output.database")
    target = parse_url(out.database, "output.database")
    for key in ("segments_table", "summary_table"):
        name = getattr(out, key)
        if not all(part.strip() for part in name.split(".")) or name.count(".") > 1 or '"' in name:
            raise ConfigError(f"Config value 'output.{key}': expected a table name (optionally schema.table) but "
                              f"received {name!r}")
    if not config.report.period.strip():
        raise ConfigError("Config value 'report.period': the rows written back are labelled with the period "
                          "(--period, e.g. 2026-10) but received ''")
    return target


def _quoted(name: str) -> str:
    return ".".join(f'"{part.strip()}"' for part in name.split("."))


def customer_ids(result: AnalysisResult, customers: CustomerTable) -> tuple[str, pa.Array]:
    """The ids in the source column's type: integers when it held integers (a NULL-holed integer column reads as
    floats), otherwise text, zeros kept; with the SQL type of the column written."""
    column = next((c for c in result.data.columns if c.name == result.data.id_column), None)
    dtype = column.dtype.lower() if column else "str"
    if dtype.startswith(("int", "uint", "float")):
        try:
            return "BIGINT", pa.array([int(v) for v in customers.ids], type=pa.int64())
        except (ValueError, OverflowError):
            pass
    return "TEXT", pa.array([str(v) for v in customers.ids], type=pa.string())


def segment_rows(result: AnalysisResult, customers: CustomerTable, period: str, run_id: str) -> pa.Table:
    """One row per customer, as in segments.csv plus the period and run id."""
    n = len(customers.segment)
    return pa.table({
        "customer_id": customer_ids(result, customers)[1],
        "segment_id": pa.array(customers.segment, type=pa.int32()),
        "segment_name": pa.array(np.asarray(customers.segment_names, dtype=object)[customers.segment],
                                 type=pa.string()),
        "distance": pa.array(customers.distance, type=pa.float64()),
        "period": pa.array([period] * n, type=pa.string()),
        "run_id": pa.array([run_id] * n, type=pa.string())})


def summary_rows(result: AnalysisResult, period: str, run_id: str) -> pa.Table:
    """One row per segment: size, shares, name and lead action."""
    segments = result.segments
    lead = [min(s.recommendations, key=lambda r: (r.priority, r.rule_id)).title if s.recommendations else None
            for s in segments]
    return pa.table({
        "period": pa.array([period] * len(segments), type=pa.string()),
        "segment_id": pa.array([s.id for s in segments], type=pa.int32()),
        "segment_name": pa.array([s.name for s in segments], type=pa.string()),
        "customers": pa.array([s.size for s in segments], type=pa.int64()),
        "share": pa.array([s.share for s in segments], type=pa.float64()),
        "value_share": pa.array([s.value_share for s in segments], type=pa.float64()),
        "lead_action": pa.array(lead, type=pa.string()),
        "run_id": pa.array([run_id] * len(segments), type=pa.string())})


def write_back(config: Config, result: AnalysisResult, customers: CustomerTable) -> str:
    """Replace the period's rows in both tables in one transaction; returns a line saying what was written.

    Raises
    ------
    DataError
        Naming the database (password hidden) when it cannot be reached, the login is refused, or the tables
        cannot be created or written (a read-only database or role); nothing is changed then.
    """
    target = write_target(config)
    assert target is not None
    out, period = config.output, config.report.period
    run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{result.run.model_sha256[:12]}"
    id_sql, _ = customer_ids(result, customers)
    segments, summary = _quoted(out.segments_table), _quoted(out.summary_table)
    ddl = [f"CREATE TABLE IF NOT EXISTS {segments} (customer_id {id_sql} NOT NULL, segment_id INTEGER NOT NULL, "
           "segment_name TEXT NOT NULL, distance DOUBLE PRECISION, period TEXT NOT NULL, run_id TEXT NOT NULL, "
           "PRIMARY KEY (period, customer_id))",
           f"CREATE TABLE IF NOT EXISTS {summary} (period TEXT NOT NULL, segment_id INTEGER NOT NULL, "
           "segment_name TEXT NOT NULL, customers BIGINT NOT NULL, share DOUBLE PRECISION NOT NULL, "
           "value_share DOUBLE PRECISION, lead_action TEXT, run_id TEXT NOT NULL, PRIMARY KEY (period, segment_id))"]
    literal = "'" + period.replace("'", "''") + "'"
    doing = f"cannot write the segments to {out.segments_table} / {out.summary_table}"
    with connect(target, write=True, password=os.environ.get("PGPASSWORD")) as db:
        try:
            db.begin()
            for statement in ddl:
                db.execute(statement, doing)
            db.execute(f"DELETE FROM {segments} WHERE period = {literal}", doing)
            db.append(out.segments_table, segment_rows(result, customers, period, run_id), doing)
            db.execute(f"DELETE FROM {summary} WHERE period = {literal}", doing)
            db.append(out.summary_table, summary_rows(result, period, run_id), doing)
            db.commit(doing)
        except BaseException:
            db.rollback()
            raise
    return (f"{target.shown}: {len(customers.segment):,} rows in {out.segments_table}, {len(result.segments)} in "
            f"{out.summary_table} for period {period}")
