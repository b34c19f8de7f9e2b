"""Open a database named by a URL and talk to it in Arrow: PostgreSQL and SQLite through ADBC, DuckDB directly.

Every driver error leaves here as a one-line :class:`~reportgen.errors.DataError` that names the database (its
URL with the password hidden) and what was being done; passwords never reach a message.

PostgreSQL credentials are libpq's: the ``PGUSER``/``PGPASSWORD``/``PGHOST``… variables, ``~/.pgpass`` (or
``PGPASSFILE``), and service files (``?service=name``, ``PGSERVICEFILE``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from reportgen.errors import DataError
from reportgen.inputs.database.url import DatabaseUrl, redact

log = logging.getLogger("reportgen.inputs.database")

CONNECT_TIMEOUT = 15  # seconds, unless the URL or PGCONNECT_TIMEOUT says otherwise
# sqlglot's name for each kind of database.
DIALECTS = {"postgres": "postgres", "sqlite": "sqlite", "duckdb": "duckdb"}


def reason(exc: BaseException) -> str:
    """A driver error as one short line: status prefixes, SQL echoes and hints dropped, passwords hidden."""
    text = str(exc)
    text = re.split(r"\n\s*(?:LINE \d+:|Query was:|HINT:|DETAIL:)|Query was:", text)[0]
    text = re.sub(r"^(?:[A-Z_]+: )?(?:\[libpq\] )?", "", text.strip())
    text = re.sub(r"^(?:Failed to (?:prepare|execute) query: |Failed to connect: )", "", text)
    text = re.sub(r"\b(?:ERROR|FATAL):\s+", "", text)
    text = re.sub(r"\s*SQLSTATE: \w+\s*$", "", text)
    text = " ".join(text.split())
    return redact(text if len(text) <= 300 else text[:297] + "...")


class Database:
    """An open database: read Arrow tables, run statements, commit or roll back, append Arrow rows."""

    def __init__(self, target: DatabaseUrl, *, write: bool = False, password: str | None = None) -> None:
        self.target, self.kind, self.dialect = target, target.kind, DIALECTS[target.kind]
        self._secret = password or os.environ.get("PGPASSWORD")
        self._con: Any = None
        with self.errors("cannot connect"):
            self._con = self._open(write)
        if self.kind == "postgres":
            self.execute("SET TimeZone = 'UTC'")

    def _open(self, write: bool) -> Any:
        if self.kind == "duckdb":
            import duckdb

            self._require_file(write)
            return duckdb.connect(str(self.target.file), read_only=not write)
        try:
            if self.kind == "postgres":
                import adbc_driver_postgresql.dbapi as driver
            else:
                import adbc_driver_sqlite.dbapi as driver
        except ImportError:
            raise DataError(f"{self.target.shown}: the database driver is not installed "
                            "(pip install 'reportgen[db]')") from None
        if self.kind == "postgres":
            url = self.target.url
            if "connect_timeout=" not in url and "PGCONNECT_TIMEOUT" not in os.environ:
                # libpq waits for an unreachable host forever by default
                url += ("&" if "?" in url else "?") + f"connect_timeout={CONNECT_TIMEOUT}"
            return driver.connect(url)
        self._require_file(write)
        return driver.connect(f"file:{self.target.file}" + ("" if write else "?mode=ro"))

    def _require_file(self, write: bool) -> None:
        path = self.target.file
        assert path is not None
        if not write and not path.is_file():
            raise DataError(f"{self.target.shown}: no such database file: {path}")

    @contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        """Turn any driver error raised inside into a one-line DataError: ``<url>: <doing> (<reason>)``."""
        try:
            yield
        except DataError:
            raise
        except Exception as exc:
            if not _driver_error(exc):
                raise
            raise DataError(f"{self.target.shown}: {doing} ({redact(reason(exc), self._secret)})") from None

    @property
    def native(self) -> Any:
        """The driver's own connection (a DuckDB connection runs the log SQL as written)."""
        return self._con

    def execute(self, sql: str, doing: str = "a statement failed") -> None:
        """Run one statement, discarding any rows."""
        log.debug("%s", sql)
        with self.errors(doing):
            if self.kind == "duckdb":
                self._con.execute(sql)
            else:
                with self._con.cursor() as cursor:
                    cursor.execute(sql)

    def arrow(self, sql: str, doing: str = "the query failed") -> pa.Table:
        """The rows of a query as an Arrow table."""
        log.debug("%s", sql)
        with self.errors(doing):
            if self.kind == "duckdb":
                return self._con.sql(sql).to_arrow_table()
            with self._con.cursor() as cursor:
                if self.kind == "sqlite":
                    # SQLite's columns have no fixed type: the driver infers one per batch, so one batch for the
                    # whole result lets a column that starts with NULLs or mixes integers and reals keep its values.
                    cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(2**30)})
                cursor.execute(sql)
                return cursor.fetch_arrow_table()

    def schema(self, sql: str, doing: str = "the query failed") -> pa.Schema:
        """The columns a query returns, without fetching its rows."""
        if self.kind == "postgres":
            log.debug("%s", sql)
            with self.errors(doing), self._con.cursor() as cursor:
                return cursor.adbc_execute_schema(sql)
        return self.arrow(f"SELECT * FROM ({sql}) AS q LIMIT 0", doing).schema

    def append(self, table: str, rows: pa.Table, doing: str) -> None:
        """Append Arrow rows to an existing table (``name`` or ``schema.name``), inside the current transaction."""
        schema, _, name = table.strip().rpartition(".")
        with self.errors(doing):
            if self.kind == "duckdb":
                self._con.register("reportgen_rows", rows)
                quoted = ".".join(f'"{p}"' for p in (schema.strip(), name.strip()) if p)
                self._con.execute(f"INSERT INTO {quoted} SELECT * FROM reportgen_rows")
                self._con.unregister("reportgen_rows")
            else:
                with self._con.cursor() as cursor:
                    cursor.adbc_ingest(name.strip(), rows, mode="append", db_schema_name=schema.strip() or None)

    def begin(self) -> None:
        """Start a transaction (ADBC connections are always in one)."""
        if self.kind == "duckdb":
            self.execute("BEGIN TRANSACTION")

    def commit(self, doing: str = "cannot commit") -> None:
        with self.errors(doing):
            self._con.commit()

    def rollback(self) -> None:
        try:
            self._con.rollback()
        except Exception as exc:  # a connection already broken has nothing left to roll back
            if not _driver_error(exc):
                raise

    def close(self) -> None:
        if self._con is not None:
            try:
                self._con.close()
            except Exception as exc:
                if not _driver_error(exc):
                    raise
            self._con = None

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _driver_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a database driver (ADBC or DuckDB) rather than from a bug here."""
    module = type(exc).__module__ or ""
    return module.startswith(("adbc_driver", "_duckdb", "duckdb")) or type(exc).__name__ in ("Error", "DatabaseError")


def connect(target: DatabaseUrl, *, write: bool = False, password: str | None = None) -> Database:
    """Open ``target``; a SQLite or DuckDB file must exist unless ``write``."""
    return Database(target, write=write, password=password)
