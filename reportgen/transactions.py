"""Turn a transaction log (one row per invoice line) into one row per customer with RFM-style features.

DuckDB reads the CSV (optionally gzipped) or Parquet file itself and works out of core within
``transactions.memory_limit``; only the per-customer table comes back to pandas. This module reads the log's
header and runs the whole; :mod:`reportgen.logcolumns` maps columns to roles, :mod:`reportgen.logsql` builds the
SQL and :mod:`reportgen.logaggregate` runs it and accounts for every line left out.
"""

from __future__ import annotations

import csv
import re
import tempfile
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from reportgen.config import DataConfig, TransactionsConfig
from reportgen.errors import ConfigError, DataError
from reportgen.logaggregate import LogAggregate, aggregate
from reportgen.logcolumns import LogColumns, detect_log_columns, require_log_columns
from reportgen.logsql import ID_COLUMN, lines_sql, literal
from reportgen.sniff import clean_names, read_magic, read_sample, reading, require_file, sniff_separator, unquoted

__all__ = ["ID_COLUMN", "LogAggregate", "LogColumns", "aggregate_log", "detect_log_columns", "log_header",
           "looks_like_log"]

# cp1252 differs from latin-1 only in 0x80-0x9f (€, curly quotes), which ids, codes and numbers do not use.
_ENCODINGS = {"utf8": "utf-8", "utf8sig": "utf-8", "utf16": "utf-16", "latin1": "latin-1", "iso88591": "latin-1",
              "cp1252": "latin-1", "windows1252": "latin-1"}


def _header(path: Path, data: DataConfig, notes: list[str]) -> tuple[str, list[str], str, str]:
    """Format (parquet | gzip | text), column names, separator and DuckDB encoding, from the first 64 KB."""
    require_file(path)
    magic = read_magic(path)
    if magic == b"PAR1" or path.suffix.lower() in (".parquet", ".pq"):
        with reading(path):
            return "parquet", clean_names(path, pq.read_schema(path).names, notes), "", ""
    if magic.startswith(b"PK") or path.suffix.lower() in (".xlsx", ".xls"):
        raise DataError(f"{path}: a transaction log must be CSV/TSV (optionally .gz) or Parquet, not Excel")
    gz = magic[:2] == b"\x1f\x8b"
    encoding, text, complete = read_sample(path, gz, data.encoding, notes)
    if (duck := _ENCODINGS.get(re.sub(r"[\s_\-]", "", encoding.lower()))) is None:
        raise ConfigError(f"Config value 'data.encoding': a transaction log is read as UTF-8, UTF-16 or latin-1 "
                          f"but received {data.encoding!r}")
    if not text.replace("\ufeff", "").strip():
        raise DataError(f"{path}: the file is empty")
    sep = sniff_separator(path, unquoted(text), complete, data.sep, notes)
    first = next(csv.reader([text.split("\n")[0].rstrip("\r")], delimiter=sep))
    return "gzip" if gz else "text", clean_names(path, first, notes), sep, duck


def looks_like_log(path: Path, data: DataConfig, cfg: TransactionsConfig) -> bool:
    """Whether ``path`` is a transaction log: as ``data.input`` says, or for ``auto`` judged by its header alone."""
    if data.input != "auto":
        return data.input == "transactions"
    try:
        return detect_log_columns(_header(Path(path), data, [])[1], cfg) is not None
    except (DataError, ConfigError):
        return False


def aggregate_log(path: Path, data: DataConfig, cfg: TransactionsConfig) -> LogAggregate:
    """Aggregate a transaction log into one row per customer (``customer_id`` first, sorted by it as text).

    Parameters
    ----------
    path
        CSV/TSV file (optionally ``.gz``) or Parquet file with one row per invoice line.
    data
        ``sep``, ``encoding`` and ``decimal`` are honoured for text files.
    cfg
        Column names, timestamp format, as-of date, window, exclusion rules and DuckDB resources.

    Raises
    ------
    DataError
        One line naming the file and column: missing or unreadable file, no customer/invoice/date/amount
        column, unparseable timestamps, no transactions in the window, all amounts zero.
    ConfigError
        For a bad ``transactions.window``, ``as_of`` or ``memory_limit``, or an encoding DuckDB cannot read.
    """
    path, notes = Path(path), []
    try:
        date.fromisoformat(cfg.as_of or "2000-01-01")
    except ValueError:
        raise ConfigError(f"Config value 'transactions.as_of': expected a date YYYY-MM-DD but received "
                          f"{cfg.as_of!r}") from None
    kind, names, sep, encoding = _header(path, data, notes)
    cols = require_log_columns(path, names, cfg)
    import duckdb  # only transaction logs need the SQL engine

    with tempfile.TemporaryDirectory(prefix="reportgen-duckdb-") as tmp, duckdb.connect() as con:
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
                return aggregate(con, path, lines_sql(path, kind, names, sep, encoding, cols, data, cfg), cols,
                                 cfg, notes)
            except duckdb.InvalidInputException as exc:
                # UTF-8 was only guessed from the first 64 KB; a later non-UTF-8 byte means a legacy encoding.
                if "encoding: utf-8" not in notes or "unicode" not in str(exc).lower():
                    raise
                notes[:] = [n for n in notes if not n.startswith("encoding:")] + ["encoding: latin-1"]
                return aggregate(con, path, lines_sql(path, kind, names, sep, "latin-1", cols, data, cfg), cols,
                                 cfg, notes)
        except duckdb.Error as exc:
            reason = " ".join(str(exc).split("Possible fixes")[0].split())
            raise DataError(f"{path}: cannot be read ({reason if len(reason) <= 200 else reason[:197] + '...'})") \
                from None


def log_header(path: Path, data: DataConfig) -> list[str]:
    """The column names of a log file (read from its first bytes only)."""
    return _header(Path(path), data, [])[1]
