"""A transaction log aggregated per customer in Spark, with the local rules and reconciliation.

The SQL is the DuckDB SQL of :mod:`reportgen.inputs.logs.sql` (typed lines, per-customer features), translated to Spark
SQL
by sqlglot; the few DuckDB functions without a Spark twin of the same name are rewritten on the syntax tree
(``suffix``, ``TRY_STRPTIME``, ``first(… ORDER BY …)``, ``hash``, back-references in ``regexp_replace``,
``date_diff``). Lines are classified by the first rule that excludes them, exactly as
:mod:`reportgen.inputs.logs.aggregate` does, so raw rows − exclusions = lines used.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen.config import Config
from reportgen.errors import ConfigError, DataError
from reportgen.inputs.logs.aggregate import COUNTS_SQL, classified_sql, reconcile, short_history, window_start
from reportgen.inputs.logs.columns import describe_roles, detect_log_columns, require_log_columns
from reportgen.inputs.logs.source import LogSource, open_log
from reportgen.inputs.logs.sql import ID_COLUMN, customers_sql, lines_sql, literal
from reportgen.inputs.sources import LOG_SCALED, log_config
from reportgen.result import Count, LogSummary
from reportgen.spark.customers import Customers
from reportgen.spark.prepare import MID, java_pattern

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from reportgen.spark.read import SparkInput

_WINDOW = re.compile(r"\s*(\d+)\s*([dwmy])\s*", re.IGNORECASE)
RAW_VIEW = "reportgen_raw"


def to_spark(sql: str) -> str:
    """DuckDB SQL (as :mod:`reportgen.inputs.logs.sql` writes it) as Spark SQL."""
    import sqlglot
    from sqlglot import exp

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            args = node.expressions
            if name == "suffix":
                return exp.Anonymous(this="ENDSWITH", expressions=args)
            if name == "hash":  # 64 bits, as DuckDB's hash: duplicate lines are found by it
                return exp.Anonymous(this="XXHASH64", expressions=args)
            if name == "try_strptime":
                pattern = exp.Literal.string(java_pattern(args[1].name))
                return exp.Anonymous(this="TRY_TO_TIMESTAMP", expressions=[args[0], pattern])
        if isinstance(node, exp.RegexpReplace):
            replacement = node.args.get("replacement")
            if isinstance(replacement, exp.Literal):
                node.set("replacement", exp.Literal.string(re.sub(r"\\(\d)", r"$\1", replacement.name)))
        if isinstance(node, exp.First) and isinstance(node.this, exp.Order):
            # first(x ORDER BY k DESC, x): the most frequent level, ties to the first alphabetically
            value = node.this.this
            keys = [(-o.this if o.args.get("desc") else o.this) for o in node.this.expressions]
            return exp.Anonymous(this="MIN_BY", expressions=[value, exp.Anonymous(this="STRUCT", expressions=keys)])
        if isinstance(node, exp.Div) and not node.args.get("_double"):
            # DuckDB divides decimals into a double; Spark would keep a decimal of six places
            return exp.Div(this=exp.Cast(this=node.this, to=exp.DataType.build("DOUBLE")), expression=node.expression,
                           _double=True)
        if isinstance(node, exp.DateDiff):
            return exp.Anonymous(this="DATEDIFF", expressions=[node.this, node.expression])
        return node

    tree = sqlglot.parse_one(sql, read="duckdb").transform(rewrite)
    return tree.sql(dialect="spark")


def is_log(source: SparkInput, config: Config) -> bool:
    """Whether the input is a transaction log: as ``data.input`` says, else recognised from its columns."""
    if config.data.input != "auto":
        return config.data.input == "transactions"
    if source.path is not None and source.kind == "csv":
        from reportgen.inputs.logs.transactions import looks_like_log

        return looks_like_log(source.path, config.data, config.transactions)
    names = [c for c in source.frame.columns if c != MID]
    sample = _text_sample(source.frame.drop(MID))
    return detect_log_columns(names, config.transactions, sample) is not None


def _text_sample(frame: DataFrame, rows: int = 200) -> Any:
    from pyspark.sql import functions as F

    from reportgen.spark.read import to_pandas

    return to_pandas(frame.select(*(F.col(f"`{c}`").cast("string").alias(c) for c in frame.columns)).limit(rows))


def _source(source: SparkInput, config: Config, notes: list[str]) -> LogSource:
    if source.path is not None:
        return open_log(source.path, config.data, None, notes)
    frame = source.frame.drop(MID)
    types = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
    return LogSource(Path(source.name), Path(source.name), "parquet", list(frame.columns), _text_sample(frame),
                     types=types, layout="parquet")


def _timestamp_format(session: SparkSession, source: LogSource, column: str, config: Config,
                      notes: list[str]) -> str | None:
    cfg = config.transactions
    if cfg.timestamp_format:
        notes.append(f"dates: column {column!r} read with {cfg.timestamp_format!r} (configured)")
        return cfg.timestamp_format
    kind = source.types.get(column, "string")
    if kind.startswith(("timestamp", "date")):
        notes.append(f"dates: column {column!r} is typed {kind}")
        return None
    import duckdb

    from reportgen.inputs.logs.dates import detect_format

    def misses(fmt: str) -> int:
        text = f"NULLIF(trim(CAST(`{column.replace('`', '``')}` AS STRING)), '')"
        return session.sql(f"SELECT count(*) FROM {RAW_VIEW} WHERE {text} IS NOT NULL AND "
                           f"TRY_TO_TIMESTAMP({text}, {literal(java_pattern(fmt))}) IS NULL").first()[0]

    values = source.sample[column].dropna().tolist() if column in source.sample else []
    with duckdb.connect() as con:  # tries candidate formats on the sampled values only
        found = detect_format(con, values, column, misses)
    if found is None:
        return None
    notes.append(found.note)
    return found.format


def aggregate_spark(session: SparkSession, source: SparkInput, config: Config) -> Any:
    """Aggregate the log per customer in Spark; returns the engine's customers (one row per customer).

    Raises
    ------
    DataError
        Timestamps that do not parse, no dates, every amount zero, nothing in the window, no customer left.
    """
    from pyspark.sql import functions as F

    cfg, notes = config.transactions, []
    try:
        date.fromisoformat(cfg.as_of or "2000-01-01")
    except ValueError:
        raise ConfigError(f"Config value 'transactions.as_of': expected a date YYYY-MM-DD but received "
                          f"{cfg.as_of!r}") from None
    path = Path(source.name)
    log = _source(source, config, notes)
    cols, why = require_log_columns(path, log.names, cfg, log.sample)
    notes += describe_roles(cols, why)
    source.frame.drop(MID).createOrReplaceTempView(RAW_VIEW)
    fmt = _timestamp_format(session, log, cols.timestamp, config, notes)
    lines_text, bad_stamp = lines_sql(log, cols, fmt, config.data, cfg, relation=RAW_VIEW)
    lines = session.sql(to_spark(lines_text))
    if cfg.drop_duplicates:
        keys = [c for c in lines.columns if c != "n"]
        lines = lines.groupBy(*keys).agg(F.sum("n").cast("int").alias("n"))
    from pyspark import StorageLevel

    lines = lines.persist(StorageLevel.DISK_ONLY)  # a log may be billions of lines
    lines.createOrReplaceTempView("lines")
    row = session.sql("SELECT sum(n), sum(CASE WHEN has_ts AND ts IS NULL THEN n ELSE 0 END), min(ts), max(ts), "
                      "count(v), count(CASE WHEN v <> 0 THEN 1 END) FROM lines").first()
    raw, unparsed, first, last, numeric, nonzero = row
    amounts = " × ".join(repr(c) for c in ((cols.amount,) if cols.amount else (cols.quantity, cols.unit_price)))
    if unparsed:
        example = session.sql(to_spark(bad_stamp)).first()
        how = f"the format {fmt!r}" if fmt else "ISO dates (YYYY-MM-DD[ HH:MM])"
        raise DataError(f"{path}: column {cols.timestamp!r} has {unparsed:,} value(s) that are not {how}, e.g. "
                        f"{example[0] if example else ''!r}; set transactions.timestamp_format")
    if first is None:
        raise DataError(f"{path}: column {cols.timestamp!r} has no dates" if raw else f"{path}: has no data rows")
    if not nonzero:
        raise DataError(f"{path}: every line amount ({amounts}) is {'zero' if numeric else 'missing or not a number'}")
    as_of = date.fromisoformat(cfg.as_of) if cfg.as_of else last.date() + timedelta(days=1)
    start = window_start(as_of, cfg.window)
    window = f"{start or 'the first line'} to {as_of} (exclusive)"
    outside = f"ts IS NULL OR ts >= TIMESTAMP_NTZ '{as_of}'" + (f" OR ts < TIMESTAMP_NTZ '{start}'" if start else "")
    session.sql(classified_sql(cols, cfg, outside)).createOrReplaceTempView("classified")
    reconciliation = reconcile(session.sql(COUNTS_SQL).first(), raw, path, cols, cfg, window, amounts, first, last)
    per = session.sql(to_spark(customers_sql(cols, as_of, as_of - timedelta(days=cfg.recent_days))))
    per = per.persist(StorageLevel.MEMORY_AND_DISK)
    kept = "frequency > 0 AND monetary > 0"
    per.createOrReplaceTempView("per")
    net_le_0, returns_only, active, revenue, orders, returned = session.sql(
        f"SELECT count(CASE WHEN frequency > 0 AND monetary <= 0 THEN 1 END), count(CASE WHEN frequency = 0 THEN 1 "
        f"END), count(CASE WHEN {kept} THEN 1 END), sum(CASE WHEN {kept} THEN gross - returned END), sum(CASE WHEN "
        f"{kept} THEN frequency END), sum(CASE WHEN {kept} THEN returned END) FROM per").first()
    if not active:
        raise DataError(f"{path}: no customer has a net monetary value above zero between {start or 'the first line'}"
                        f" and {as_of}")
    customers = per.where(kept).drop("gross", "returned").orderBy(ID_COLUMN)
    customers = customers.withColumn(MID, F.monotonically_increasing_id())
    lines.unpersist()
    described = " and ".join([f"invoices starting with {cfg.cancel_prefix!r} not followed by a letter"]
                             * bool(cfg.cancel_prefix and cols.invoice)
                             + [f"negative {'quantities or ' * bool(cols.quantity)}amounts"]
                             * cfg.negative_quantity_is_return)
    notes += [f"as of {as_of}" + ("" if cfg.as_of else " (the day after the last transaction)"),
              f"window {cfg.window}: {reconciliation[1].detail}"]
    notes += [f"returns ({described}) are netted against purchases"] if described else []
    totals = {"active_customers": float(active), "revenue": float(revenue), "orders": float(orders),
              "average_order_value": float(revenue) / float(orders), "lines_used": float(reconciliation[-1].count),
              "returned_value": float(returned)}
    summary = LogSummary(
        as_of=as_of.isoformat(), window=cfg.window, window_start=start and start.isoformat(),
        columns=tuple((role, name) for role, name in vars(cols).items() if name), reconciliation=reconciliation,
        excluded_customers=(Count("net monetary value ≤ 0", int(net_le_0)),
                            Count("no purchase in window (returns only)", int(returns_only))),
        totals=tuple(totals.items()), notes=tuple(notes), first_date=first.date().isoformat(),
        history_warning=short_history(cfg.window, start, first.date(), as_of))
    return Customers(customers, int(active), log_config(config), source.name, source.sha256, "transactions",
                      summary, LOG_SCALED, tuple(notes))


