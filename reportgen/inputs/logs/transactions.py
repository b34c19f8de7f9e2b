"""Turn a transaction log (one row per invoice line or order) into one row per customer with RFM-style features.

DuckDB reads the CSV (optionally gzipped) or Parquet file itself, or a UTF-8 copy of what it cannot read
(other encodings, whitespace-aligned text, Excel), and works out of core within ``transactions.memory_limit``;
only the per-customer table comes back to pandas. This module runs the whole:
:mod:`reportgen.inputs.logs.source` opens the log, :mod:`reportgen.inputs.logs.columns` maps columns to roles,
:mod:`reportgen.inputs.logs.dates` finds the date format, :mod:`reportgen.inputs.logs.sql` builds the SQL and
:mod:`reportgen.inputs.logs.aggregate` runs it and accounts for every line left out.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.config import DataConfig, TransactionsConfig
from reportgen.errors import ConfigError, DataError
from reportgen.inputs.logs.aggregate import LogAggregate, aggregate
from reportgen.inputs.logs.columns import LogColumns, describe_roles, detect_log_columns, require_log_columns
from reportgen.inputs.logs.dates import detect_format
from reportgen.inputs.logs.source import LogSource, convert_text, open_log
from reportgen.inputs.logs.sql import ID_COLUMN, lines_sql, literal, unparsed_sql

if TYPE_CHECKING:
    import duckdb

__all__ = ["ID_COLUMN", "LogAggregate", "LogColumns", "aggregate_log", "detect_log_columns", "log_header",
           "log_mapping", "looks_like_log"]

def looks_like_log(path: Path, data: DataConfig, cfg: TransactionsConfig) -> bool:
    """Whether ``path`` is a transaction log: as ``data.input`` says, or for ``auto`` judged by its header and
    first rows (customer ids that repeat, a date, an amount)."""
    if data.input != "auto":
        return data.input == "transactions"
    try:
        source = open_log(Path(path), data, None, [])
        return detect_log_columns(source.names, cfg, source.sample) is not None
    except (DataError, ConfigError):
        return False


def _timestamp_format(con: duckdb.DuckDBPyConnection, source: LogSource, cols: LogColumns,
                      cfg: TransactionsConfig, notes: list[str]) -> str | None:
    """The configured timestamp format, or the one the values show (None: ISO text or a typed Parquet date)."""
    if cfg.timestamp_format:
        notes.append(f"dates: column {cols.timestamp!r} read with {cfg.timestamp_format!r} (configured)")
        return cfg.timestamp_format
    kind = source.types.get(cols.timestamp, "string")
    if kind.startswith(("timestamp", "date")):
        notes.append(f"dates: column {cols.timestamp!r} is typed {kind}")
        return None

    def misses(fmt: str) -> int:
        return con.execute(unparsed_sql(source, cols.timestamp, fmt)).fetchone()[0]

    values = source.sample[cols.timestamp].dropna().tolist() if cols.timestamp in source.sample else []
    found = detect_format(con, values, cols.timestamp, misses)
    if found is None:  # the line check names a value that does not parse
        return None
    notes.append(found.note)
    return found.format


def aggregate_log(path: Path, data: DataConfig, cfg: TransactionsConfig) -> LogAggregate:
    """Aggregate a transaction log into one row per customer (``customer_id`` first, sorted by it as text).

    Parameters
    ----------
    path
        CSV/TSV/TXT file (optionally ``.gz``), whitespace-aligned text, Parquet or ``.xlsx`` with one row per
        line (an invoice line, or an order).
    data
        ``sep``, ``encoding`` and ``decimal`` are honoured for text files, ``sheet`` for Excel.
    cfg
        Column names, timestamp format, as-of date, window, exclusion rules and DuckDB resources.

    Raises
    ------
    DataError
        One line naming the file and column: missing or unreadable file, no customer/date/amount column,
        unparseable timestamps, no transactions in the window, all amounts zero.
    ConfigError
        For a bad ``transactions.window``, ``as_of`` or ``memory_limit``.
    """
    path, notes = Path(path), []
    try:
        date.fromisoformat(cfg.as_of or "2000-01-01")
    except ValueError:
        raise ConfigError(f"Config value 'transactions.as_of': expected a date YYYY-MM-DD but received "
                          f"{cfg.as_of!r}") from None
    import duckdb  # only transaction logs need the SQL engine

    with tempfile.TemporaryDirectory(prefix="reportgen-duckdb-") as tmp, duckdb.connect() as con:
        source = open_log(path, data, Path(tmp), notes)
        cols, why = require_log_columns(path, source.names, cfg, source.sample)
        notes += describe_roles(cols, why)
        try:
            con.execute(f"SET memory_limit = {literal(cfg.memory_limit)}")
        except duckdb.Error:
            raise ConfigError(f"Config value 'transactions.memory_limit': expected a size such as '2GB' but "
                              f"received {cfg.memory_limit!r}") from None
        con.execute(f"SET temp_directory = {literal(tmp)}")
        con.execute("SET preserve_insertion_order = false")  # lets DuckDB stream and spill without keeping order
        con.execute(f"SET threads = {cfg.threads}" if cfg.threads else "RESET threads")
        try:
            try:
                fmt = _timestamp_format(con, source, cols, cfg, notes)
                return aggregate(con, path, lines_sql(source, cols, fmt, data, cfg), cols, cfg, notes, fmt)
            except duckdb.InvalidInputException as exc:
                # UTF-8 was only guessed from the first 64 KB; a later non-UTF-8 byte means a legacy encoding.
                if source.converted or "encoding: utf-8" not in notes or "unicode" not in str(exc).lower():
                    raise
                notes[:] = [n for n in notes if not n.startswith("encoding:")] + ["encoding: cp1252"]
                source = convert_text(source, "cp1252", Path(tmp), notes)
                fmt = _timestamp_format(con, source, cols, cfg, notes)
                return aggregate(con, path, lines_sql(source, cols, fmt, data, cfg), cols, cfg, notes, fmt)
        except duckdb.Error as exc:
            reason = " ".join(str(exc).split("Possible fixes")[0].split())
            raise DataError(f"{path}: cannot be read ({reason if len(reason) <= 200 else reason[:197] + '...'})") \
                from None


def log_header(path: Path, data: DataConfig) -> list[str]:
    """The column names of a log file (read from its first bytes only)."""
    return open_log(Path(path), data, None, []).names


def log_mapping(path: Path, data: DataConfig, cfg: TransactionsConfig) -> tuple[LogColumns | None, list[str]]:
    """The roles recognised in a log, and one line per role saying which column was taken and why."""
    source = open_log(Path(path), data, None, [])
    if detect_log_columns(source.names, cfg, source.sample) is None:
        return None, []
    cols, why = require_log_columns(Path(path), source.names, cfg, source.sample)
    return cols, describe_roles(cols, why)
