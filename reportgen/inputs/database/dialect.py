"""The log aggregation's DuckDB SQL, translated for PostgreSQL, so it is written once and runs where the log is.

:mod:`reportgen.inputs.logs.sql` and :mod:`reportgen.inputs.logs.aggregate` hold the
one definition of the line cleaning, the
reconciliation and the per-customer features, in DuckDB's SQL. sqlglot translates most of it; the rest is
rewritten here on the parsed tree: DuckDB functions PostgreSQL lacks (``suffix``, ``hash``, ``first``,
``try_strptime``), ``SELECT * EXCLUDE``, ``GROUP BY ALL``, subqueries without an alias, ``CREATE OR REPLACE``
for tables, and text ordering, which follows the bytes (``COLLATE "C"``) as in DuckDB rather than the database's
locale, so ties and row order come out the same.

:class:`TranslatingConnection` offers the small part of DuckDB's connection API that the aggregation uses
(``execute(sql).fetchone()`` and ``.df()``), so :func:`reportgen.inputs.logs.aggregate.aggregate` runs unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from reportgen.inputs.database.connection import Database
from reportgen.inputs.logs.sql import ID_COLUMN

Columns = Callable[[str], list[str]]


def _pg(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="postgres")


def _c_order(node: exp.Expression) -> exp.Expression:
    return exp.Collate(this=node, expression=exp.Identifier(this="C", quoted=True))


def _rewrite_function(node: exp.Expression) -> exp.Expression:
    """DuckDB functions without a PostgreSQL namesake."""
    if isinstance(node, exp.Anonymous):
        name, args = node.name.lower(), node.expressions
        if name == "suffix" and len(args) == 2:
            text, end = (a.sql("postgres") for a in args)
            return _pg(f"(RIGHT({text}, LENGTH({end})) = {end})")
        if name == "hash":
            return _pg(f"HASHTEXTEXTENDED(CAST(ROW({', '.join(a.sql('postgres') for a in args)}) AS TEXT), 0)")
        if name == "try_strptime" and len(args) == 2:
            return sqlglot.parse_one(f"STRPTIME({args[0].sql('duckdb')}, {args[1].sql('duckdb')})", read="duckdb")
    if isinstance(node, exp.Round) and node.args.get("decimals") is not None:
        node.set("this", exp.cast(node.this, exp.DataType.build("DECIMAL")))
    if isinstance(node, exp.First) and isinstance(node.this, exp.Order):
        order = node.this
        value = order.this
        for key in order.expressions:
            if key.this == value:
                key.set("this", _c_order(key.this))
        return _pg(f"(ARRAY_AGG({order.sql('postgres')}))[1]")
    return node


def _rewrite_select(select: exp.Select, columns: Columns) -> None:
    """``* EXCLUDE (…)`` spelled out from the table's columns; ``GROUP BY ALL`` spelled out; text ids ordered
    by their bytes."""
    expanded: list[exp.Expression] = []
    for item in select.expressions:
        dropped_columns = item.args.get("except_") or item.args.get("except")  # the key's name varies by release
        if isinstance(item, exp.Star) and dropped_columns:
            source = (select.args.get("from_") or select.args["from"]).this
            dropped = {c.name for c in dropped_columns}
            expanded += [exp.column(name, quoted=True) for name in columns(source.name) if name not in dropped]
        else:
            expanded.append(item)
    select.set("expressions", expanded)
    group = select.args.get("group")
    if group is not None and group.args.get("all"):
        keys = [e.unalias().copy() for e in select.expressions if not e.find(exp.AggFunc)]
        select.set("group", exp.Group(expressions=keys))
    order = select.args.get("order")
    for key in order.expressions if order else ():
        if isinstance(key.this, exp.Column) and key.this.name == ID_COLUMN:
            key.set("this", _c_order(key.this))


def to_postgres(sql: str, columns: Columns) -> list[str]:
    """The PostgreSQL statements that do what the DuckDB statement ``sql`` does.

    Parameters
    ----------
    sql
        One DuckDB statement, as built by :mod:`reportgen.inputs.logs.sql` / :mod:`reportgen.inputs.logs.aggregate`.
    columns
        The column names of a table, for spelling out ``SELECT * EXCLUDE``.
    """
    tree = sqlglot.parse_one(sql, read="duckdb")
    for i, sub in enumerate(tree.find_all(exp.Subquery)):
        if isinstance(sub.parent, (exp.From, exp.Join)) and not sub.alias:
            sub.set("alias", exp.TableAlias(this=exp.to_identifier(f"q{i}")))
    for select in list(tree.find_all(exp.Select)):
        _rewrite_select(select, columns)
    tree = tree.transform(_rewrite_function)
    before: list[str] = []
    if isinstance(tree, exp.Create) and tree.args.get("replace") and tree.kind == "TABLE":
        tree.set("replace", False)
        before.append(f"DROP TABLE IF EXISTS {tree.this.sql('postgres')}")
    return [*before, tree.sql("postgres")]


def _plain(table: pa.Table) -> pa.Table:
    """Columns the driver hands over as opaque PostgreSQL values (``numeric``) as doubles; integers as int64."""
    for i, field in enumerate(table.schema):
        if isinstance(field.type, pa.BaseExtensionType) and (field.metadata or {}).get(
                b"ADBC:postgresql:typname") == b"numeric":
            values = pc.cast(table.column(i).cast(field.type.storage_type), pa.float64())
            table = table.set_column(i, field.name, values)
        elif pa.types.is_integer(field.type) and field.type != pa.int64():
            table = table.set_column(i, field.name, pc.cast(table.column(i), pa.int64()))
        elif pa.types.is_floating(field.type) and field.type != pa.float64():
            table = table.set_column(i, field.name, pc.cast(table.column(i), pa.float64()))
    return table


class _Result:
    def __init__(self, table: pa.Table | None) -> None:
        self._table = table

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._table is None or self._table.num_rows == 0:
            return None
        return tuple(column[0].as_py() for column in self._table.columns)

    def df(self) -> pd.DataFrame:
        assert self._table is not None
        return self._table.to_pandas()


class TranslatingConnection:
    """Runs DuckDB SQL on PostgreSQL: each statement is translated, logged and executed there."""

    def __init__(self, db: Database, doing: str) -> None:
        self.db, self.doing = db, doing

    def _columns(self, table: str) -> list[str]:
        return self.db.schema(f"SELECT * FROM {exp.to_identifier(table).sql('postgres')}").names

    def execute(self, sql: str) -> _Result:
        statements = to_postgres(sql, self._columns)
        table = None
        for statement in statements:
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                table = _plain(self.db.arrow(statement, self.doing))
            else:
                self.db.execute(statement, self.doing)
        return _Result(table)
