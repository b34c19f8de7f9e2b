"""Read the analysis input from a database: a customer table as a file would arrive, or a transaction log
aggregated per customer inside the database, so that only one row per customer travels.

PostgreSQL runs the log aggregation itself (the DuckDB SQL translated by :mod:`reportgen.inputs.database.dialect`); a
DuckDB file runs it as written; a SQLite file's log lines are read into an in-memory DuckDB, which aggregates them.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from reportgen.config import Config, DataConfig, TransactionsConfig
from reportgen.errors import ConfigError, DataError
from reportgen.inputs.database.connection import Database, connect
from reportgen.inputs.database.url import DatabaseUrl, parse_url, redact, split_password
from reportgen.inputs.files import LoadedTable, _inexact_as_float
from reportgen.inputs.logs.aggregate import LogAggregate, aggregate
from reportgen.inputs.logs.columns import LogColumns, describe_roles, detect_log_columns, require_log_columns
from reportgen.inputs.logs.source import SAMPLE_ROWS, LogSource
from reportgen.inputs.logs.sql import lines_sql

SOURCE_VIEW = "reportgen_source"


@dataclass(frozen=True)
class DatabaseInput:
    """What the config asks to read: the database, and a table or a query."""

    target: DatabaseUrl
    table: str | None
    query: str | None

    @property
    def label(self) -> str:
        """How the input is named in messages and in the report: ``<url> table <name>`` or ``<url> query``."""
        return f"{self.target.shown} " + (f"table {self.table}" if self.table else "query")

    @property
    def name(self) -> str:
        """The input's name in summary.json: the table's name, or ``query``."""
        return self.table or "query"


def refuse_password(url: str, key: str) -> None:
    """A password written into a configured URL is refused (it would travel with the config)."""
    if split_password(url)[1] is not None:
        raise ConfigError(f"Config value {key!r}: a password does not belong in the config; set PGPASSWORD, "
                          f"use ~/.pgpass or a service file, but received {redact(url)!r}")


def database_input(data: DataConfig) -> DatabaseInput | None:
    """The database input named by ``data.url`` with ``data.table`` or ``data.query``; None for a file.

    Raises
    ------
    ConfigError
        For a URL with a password or an unknown scheme, and unless exactly one of table and query is set.
    """
    if not data.url:
        if data.table or data.query:
            key = "data.table" if data.table else "data.query"
            raise ConfigError(f"Config value {key!r}: needs a database in data.url (or a URL on the command line) "
                              f"but received {data.table or data.query!r}")
        return None
    refuse_password(data.url, "data.url")
    target = parse_url(data.url)
    if bool(data.table) == bool(data.query):
        raise ConfigError("Config value 'data.table': give a table (--table) or a query (--query) to read from "
                          f"{target.shown}, not " + ("both" if data.table else "neither")
                          + f" but received {data.table!r}")
    return DatabaseInput(target, data.table, data.query)


def relation(db: Database, source: DatabaseInput) -> str:
    """The SELECT of every row of the input, in the database's own SQL."""
    if source.query:
        return source.query.strip().rstrip(";")
    parts = [p.strip() for p in source.table.split(".")] if source.table else []
    if not all(parts):
        raise ConfigError(f"Config value 'data.table': expected a table name (optionally schema.table) but "
                          f"received {source.table!r}")
    return "SELECT * FROM " + ".".join('"' + p.strip('"').replace('"', '""') + '"' for p in parts)


def _typname(field: pa.Field) -> str:
    meta = field.metadata or {}
    return (meta.get(b"ADBC:postgresql:typname") or meta.get(b"POSTGRESQL:type") or b"").decode()


def _column_sql(field: pa.Field) -> tuple[str | None, str]:
    """How a column is selected so that it arrives as from a file (None: not usable), and why not."""
    name = '"' + field.name.replace('"', '""') + '"'
    kind = field.type
    if isinstance(kind, pa.BaseExtensionType) and _typname(field) == "numeric":
        return f"CAST({name} AS DOUBLE PRECISION) AS {name}", ""
    if isinstance(kind, pa.BaseExtensionType) and getattr(kind, "vendor_name", "") == "PostgreSQL":
        return f"CAST({name} AS TEXT) AS {name}", ""  # enums and other named text types
    if isinstance(kind, pa.BaseExtensionType):
        return None, f"type {_typname(field) or kind} is not supported"
    if pa.types.is_decimal(kind):
        return f"CAST({name} AS DOUBLE) AS {name}", ""
    if pa.types.is_dictionary(kind):
        return f"CAST({name} AS VARCHAR) AS {name}", ""
    if (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
            or pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_date(kind)
            or pa.types.is_timestamp(kind) or pa.types.is_null(kind)):
        return name, ""
    return None, f"type {_typname(field) or kind} is not supported"


def _named_in_config(config: Config) -> set[str]:
    roles = [c for c in config.features.roles.model_dump().values() if c]
    return {c for c in [config.data.id_column, *roles, *(config.features.numeric or []),
                        *(config.features.categorical or [])] if c}


def _as_from_file(table: pa.Table) -> pd.DataFrame:
    """Arrow columns to the pandas types a file gives: 64-bit integers and floats, long ids with gaps as text,
    dates as timestamps."""
    for i, field in enumerate(table.schema):
        column = table.column(i)
        if _inexact_as_float(column):
            column = pc.cast(column, pa.string())
        elif pa.types.is_integer(field.type):
            column = pc.cast(column, pa.int64())
        elif pa.types.is_floating(field.type):
            column = pc.cast(column, pa.float64())
        table = table.set_column(i, pa.field(field.name, column.type), column)
    return table.to_pandas(date_as_object=False)


class _HashSink:
    """A write-only file that only hashes what is written to it."""

    def __init__(self) -> None:
        self.sha, self.closed = hashlib.sha256(), False

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def _digest(table: pa.Table) -> str:
    """SHA-256 of the rows as read (their Arrow IPC stream, streamed into the hash: no second copy)."""
    sink = _HashSink()
    with pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), table.schema.remove_metadata()) as writer:
        writer.write_table(table.replace_schema_metadata(None))
    return sink.sha.hexdigest()


def read_customers(db: Database, source: DatabaseInput, config: Config) -> LoadedTable:
    """Read a customer table (or query) into a :class:`LoadedTable`, typed as the same data from a file.

    Raises
    ------
    DataError
        For an unknown table, a failing query, no rows, or a column the config names whose type cannot be used.
    """
    base = relation(db, source)
    schema = db.schema(base, "cannot read " + (f"table {source.table}" if source.table else "the query"))
    selected, skipped, notes = [], [], []
    named = _named_in_config(config)
    for field in schema:
        sql, why = _column_sql(field)
        if sql is None:
            if field.name in named:
                raise DataError(f"{source.label}: column {field.name!r} has {why}; cast it in --query")
            skipped.append((field.name, why))
            notes.append(f"skipped column {field.name!r} ({why})")
        else:
            selected.append(sql)
    if not selected:
        raise DataError(f"{source.label}: no column of a usable type")
    sql = f"SELECT {', '.join(selected)} FROM ({base}) AS q"
    table = db.arrow(sql, "cannot read " + (f"table {source.table}" if source.table else "the query"))
    if table.num_rows == 0:
        raise DataError(f"{source.label}: " + ("the table has no rows" if source.table else "the query returned "
                                                                                            "no rows"))
    digest, rows = _digest(table), table.num_rows
    frame = _as_from_file(table)
    del table
    notes.insert(0, f"read from {source.label}")
    return LoadedTable(frame, Path(source.name), digest, rows, tuple(notes), tuple(skipped))


def column_names(db: Database, source: DatabaseInput) -> list[str]:
    """The columns of the input, without reading its rows."""
    return db.schema(relation(db, source), "cannot read " + (f"table {source.table}" if source.table
                                                             else "the query")).names


def log_sample(db: Database, source: DatabaseInput) -> LogSource:
    """The input's column names and first rows as text, as the log recognition reads a file's sample."""
    names = column_names(db, source)
    frame = db.arrow(f"SELECT * FROM ({relation(db, source)}) AS lines LIMIT {SAMPLE_ROWS}",
                     f"cannot read {source.label}").to_pandas()
    sample = frame.astype(object).where(frame.notna(), None).map(lambda v: None if v is None else str(v))
    label = Path(source.label)
    return LogSource(original=label, path=label, kind="parquet", names=names, sample=sample.reset_index(drop=True))


def is_log(db: Database, source: DatabaseInput, config: Config) -> bool:
    """Whether the input is a transaction log: as ``data.input`` says, or recognised from its columns and rows."""
    if config.data.input != "auto":
        return config.data.input == "transactions"
    lines = log_sample(db, source)
    return detect_log_columns(lines.names, config.transactions, lines.sample) is not None


def log_mapping_in_database(db: Database, source: DatabaseInput,
                            config: Config) -> tuple[LogColumns | None, list[str]]:
    """The roles recognised in a database's log, and one line per role saying which column was taken and why."""
    lines = log_sample(db, source)
    if detect_log_columns(lines.names, config.transactions, lines.sample) is None:
        return None, []
    cols, why = require_log_columns(Path(source.label), lines.names, config.transactions, lines.sample)
    return cols, describe_roles(cols, why)


def aggregate_in_database(db: Database, source: DatabaseInput, cfg: TransactionsConfig,
                          data: DataConfig) -> tuple[LogAggregate, str]:
    """Aggregate a log per customer where it lives; returns the aggregate and a digest of the rows that came.

    Raises
    ------
    DataError
        As for a log file (missing roles, timestamps that do not parse, nothing in the window, …), naming the
        database and table.
    """
    from datetime import date

    try:
        date.fromisoformat(cfg.as_of or "2000-01-01")
    except ValueError:
        raise ConfigError(f"Config value 'transactions.as_of': expected a date YYYY-MM-DD but received "
                          f"{cfg.as_of!r}") from None
    lines = log_sample(db, source)
    label = source.label
    cols, why = require_log_columns(Path(label), lines.names, cfg, lines.sample)
    base = relation(db, source)
    notes = [f"aggregated in {'PostgreSQL' if db.kind == 'postgres' else 'DuckDB'}: {label}",
             *describe_roles(cols, why)]
    sql = lines_sql(lines, cols, None, data, cfg, relation=SOURCE_VIEW)
    doing = "cannot aggregate the log"
    if db.kind == "postgres":
        from reportgen.inputs.database.dialect import TranslatingConnection

        db.execute(f"CREATE TEMPORARY VIEW {SOURCE_VIEW} AS {base}", f"cannot read {label}")
        result = aggregate(TranslatingConnection(db, doing), Path(label), sql, cols, cfg, notes)  # type: ignore[arg-type]
        db.rollback()  # the temporary tables go with the transaction
    elif db.kind == "duckdb":
        db.execute(f"CREATE OR REPLACE TEMPORARY VIEW {SOURCE_VIEW} AS {base}", f"cannot read {label}")
        with db.errors(doing):
            result = aggregate(db.native, Path(label), sql, cols, cfg, notes)
    else:
        import duckdb

        lines = db.arrow(base, f"cannot read {label}")
        with duckdb.connect() as con:
            con.register(SOURCE_VIEW, lines)
            try:
                result = aggregate(con, Path(label), sql, cols, cfg, notes)
            except duckdb.Error as exc:
                from reportgen.inputs.database.connection import reason

                raise DataError(f"{label}: {doing} ({reason(exc)})") from None
    frame = result.customers
    return result, hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values.tobytes()).hexdigest()


def open_input(source: DatabaseInput) -> Database:
    """Connect to the input database (read only for files)."""
    return connect(source.target, password=os.environ.get("PGPASSWORD"))
