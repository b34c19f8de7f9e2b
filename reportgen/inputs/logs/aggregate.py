"""Run a transaction log's SQL in DuckDB: drop duplicates, account for every line left out, sum per customer.

Every excluded line is counted once, by the first rule that excludes it, so raw rows − exclusions = lines used.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from reportgen.config import TransactionsConfig
from reportgen.errors import ConfigError, DataError
from reportgen.inputs.logs.columns import LogColumns
from reportgen.inputs.logs.sql import ID_COLUMN, customers_sql, literal

if TYPE_CHECKING:
    import duckdb
from reportgen.result import Count

_WINDOW = re.compile(r"\s*(\d+)\s*([dwmy])\s*", re.IGNORECASE)


@dataclass(frozen=True)
class LogAggregate:
    """The customers kept for segmentation, and the accounting of every line and customer left out.

    ``totals`` are over the kept customers, except ``lines_used`` which counts every line used.
    """

    customers: pd.DataFrame
    columns: LogColumns
    as_of: str
    window_start: str | None
    window: str
    reconciliation: tuple[Count, ...]
    excluded_customers: tuple[Count, ...]
    totals: dict[str, float]
    notes: tuple[str, ...]
    first_date: str | None = None  # the log's first dated line
    history_warning: str | None = None  # the window asks for more history than the log holds


def window_start(as_of: date, window: str) -> date | None:
    """The first day of ``transactions.window`` (``90D``, ``26W``, ``12M``, ``2Y``) before ``as_of``; None for ``all``.

    Raises
    ------
    ConfigError
        If ``window`` is none of these.
    """
    if window.strip().lower() == "all":
        return None
    if not (match := _WINDOW.fullmatch(window)) or int(match[1]) < 1:
        raise ConfigError(f"Config value 'transactions.window': expected e.g. '90D', '26W', '12M', '2Y' or 'all' "
                          f"but received {window!r}")
    n, unit = int(match[1]), match[2].upper()
    if unit in "DW":
        return as_of - timedelta(days=n * (7 if unit == "W" else 1))
    year, month = divmod(as_of.year * 12 + as_of.month - 1 - n * (12 if unit == "Y" else 1), 12)
    # Calendar months, like DuckDB's intervals: 31 March − 1M is the last day of February.
    return date(year, month + 1, min(as_of.day, calendar.monthrange(year, month + 1)[1]))


def _reconcile(con: duckdb.DuckDBPyConnection, path: Path, cols: LogColumns, cfg: TransactionsConfig,
               bad_stamp: str, timestamp_format: str | None) -> tuple[date, date | None, tuple[Count, ...], date]:
    """Check the lines, fix the window and classify every line: as-of date, window start, reconciliation."""
    raw, unparsed, first, last, numeric, nonzero = con.execute(
        "SELECT sum(n), sum(n) FILTER (has_ts AND ts IS NULL), min(ts), max(ts), count(v), "
        "count(*) FILTER (v <> 0) FROM lines").fetchone()
    amounts = " × ".join(repr(c) for c in ((cols.amount,) if cols.amount else (cols.quantity, cols.unit_price)))
    if unparsed:
        how = f"the format {timestamp_format!r}" if timestamp_format else "ISO dates (YYYY-MM-DD[ HH:MM])"
        raise DataError(f"{path}: column {cols.timestamp!r} has {unparsed:,} value(s) that are not {how}, e.g. "
                        f"{con.execute(bad_stamp).fetchone()[0]!r}; set transactions.timestamp_format")
    if first is None:
        raise DataError(f"{path}: column {cols.timestamp!r} has no dates" if raw else f"{path}: has no data rows")
    if not nonzero:
        raise DataError(f"{path}: every line amount ({amounts}) is {'zero' if numeric else 'missing or not a number'}")
    as_of = date.fromisoformat(cfg.as_of) if cfg.as_of else last.date() + timedelta(days=1)
    start = window_start(as_of, cfg.window)
    window = f"{start or 'the first line'} to {as_of} (exclusive)"
    outside = f"ts IS NULL OR ts >= TIMESTAMP '{as_of}'" + (f" OR ts < TIMESTAMP '{start}'" if start else "")
    con.execute(f"CREATE OR REPLACE TEMP VIEW classified AS {classified_sql(cols, cfg, outside)}")
    counts = con.execute(COUNTS_SQL).fetchone()
    reconciliation = reconcile(counts, raw, path, cols, cfg, window, amounts, first, last)
    return as_of, start, reconciliation, first.date()


# How many lines each rule took, in the order :func:`reconcile` reads them (plain CASE: every engine's SQL). A
# repeated line inside the window counts once as used or excluded by a later rule; its copies are duplicates.
COUNTS_SQL = ("SELECT sum(CASE WHEN rule = 1 THEN n END), sum(CASE WHEN rule <> 1 THEN n - 1 END), "
              "count(CASE WHEN rule = 2 THEN 1 END), count(CASE WHEN rule = 3 THEN 1 END), "
              "count(CASE WHEN rule = 4 THEN 1 END), count(CASE WHEN rule = 0 THEN 1 END), "
              "sum(CASE WHEN NOT has_ts THEN n END), count(CASE WHEN rule = 0 AND ret THEN 1 END) FROM classified")


def classified_sql(cols: LogColumns, cfg: TransactionsConfig, outside: str) -> str:
    """Every line with the first exclusion rule it meets (0: used; 1 outside the window, 2 no customer id,
    3 a non-product code, 4 a bad amount); ``outside`` is the window test in the engine's SQL."""
    codes = [f"prod IN ({', '.join(literal(c.strip()) for c in cfg.exclude_codes)})"] if cfg.exclude_codes else []
    codes += [f"prod LIKE {literal(p)}" for p in cfg.exclude_code_patterns]
    return (f"SELECT *, CASE WHEN {outside} THEN 1 WHEN cust IS NULL THEN 2 WHEN "
            f"{' OR '.join(codes) if cols.product and codes else 'false'} THEN 3 WHEN bad THEN 4 ELSE 0 END AS rule "
            "FROM lines")


def reconcile(counts: Sequence[Any], raw: int, path: Path | str, cols: LogColumns, cfg: TransactionsConfig,
              window: str, amounts: str, first: datetime, last: datetime) -> tuple[Count, ...]:
    """The reconciliation of a log's lines from :data:`COUNTS_SQL`'s counts, the same for every engine.

    Raises
    ------
    DataError
        When no line lies in the window, or no line is left to aggregate.
    """
    outside_n, duplicates, no_id, codes_n, bad_n, used, undated, returns = (int(x or 0) for x in counts)
    if outside_n == raw:
        raise DataError(f"{path}: no transactions in the window {window}; column {cols.timestamp!r} spans "
                        f"{first.date()} to {last.date()} (set transactions.as_of / transactions.window)")
    reconciliation = (
        Count("raw rows", int(raw)),
        Count("outside the window", outside_n, window + (f"; {undated:,} without a date" if undated else "")),
        Count("exact duplicate rows", duplicates, "" if cfg.drop_duplicates else "kept (drop_duplicates = false)"),
        Count("missing customer id", no_id, f"column {cols.customer!r}"),
        Count("non-product codes", codes_n, f"column {cols.product!r}" if cols.product else "no product column"),
        Count("zero or negative unit price" if cols.unit_price and not cols.amount else "zero or missing amount",
              bad_n, amounts),
        Count("lines used", used, "; ".join([f"{returns:,} of them returns, netted against purchases"] * bool(returns)
                                            + ["no invoice column: an order is a customer's purchases on one day"]
                                            * (not cols.invoice))))
    if not used:
        left_out = "; ".join(f"{c.label} ({c.detail}): {c.count:,}" for c in reconciliation[1:-1] if c.count)
        raise DataError(f"{path}: no lines left to aggregate ({left_out})")
    return reconciliation


def short_history(window: str, start: date | None, first: date, as_of: date) -> str | None:
    """A warning when the window starts before the log's first line: the run holds less history than asked."""
    if start is None or first <= start:
        return None
    held, asked = (as_of - first).days, (as_of - start).days
    return (f"The {window} window asks for history from {start} to {as_of}, but the log starts on {first}: this run "
            f"holds {held:,} of the {asked:,} days asked for, so tenure, frequency and spend cover a shorter span.")


def _deduplicate(con: duckdb.DuckDBPyConnection) -> None:
    """Replace each set of identical lines by one line whose ``n`` counts them.

    Lines are grouped on every column, the raw-row hash included, which tells apart lines that differ only in
    unused columns (descriptions); different rows would need equal values and a 64-bit hash collision to merge.
    Only lines whose hash repeats are grouped, so the one grouping over all lines holds hashes, not whole rows:
    this is what keeps large logs within memory.
    """
    con.execute("CREATE OR REPLACE TEMP TABLE repeated AS SELECT * EXCLUDE (n), count(*)::INTEGER AS n FROM lines "
                "WHERE __row IN (SELECT __row FROM lines GROUP BY __row HAVING count(*) > 1) GROUP BY ALL")
    con.execute("DELETE FROM lines WHERE __row IN (SELECT __row FROM repeated)")
    con.execute("INSERT INTO lines SELECT * FROM repeated")


def aggregate(con: duckdb.DuckDBPyConnection, path: Path, sql: tuple[str, str], cols: LogColumns,
              cfg: TransactionsConfig, notes: list[str], timestamp_format: str | None = None) -> LogAggregate:
    """Aggregate the lines selected by ``sql`` into the customers kept and the accounting of all left out.

    Parameters
    ----------
    con
        An open DuckDB connection, set up for memory and threads; it gets temporary tables.
    path
        The log file, named in errors.
    sql
        The line SQL and the bad-timestamp SQL from :func:`reportgen.inputs.logs.sql.lines_sql`.
    cols, cfg
        The columns playing each role; the as-of date, window, exclusion rules and ``recent_days``.
    notes
        What was sniffed so far; the as-of date, window and return rules are added.
    timestamp_format
        The strftime format the line SQL parses timestamps with (None: ISO), named when one does not parse.

    Raises
    ------
    DataError
        If timestamps do not parse, every amount is zero, nothing lies in the window, or no line or no customer
        is left.
    ConfigError
        For a bad ``transactions.window``.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE lines AS {sql[0]}")
    if cfg.drop_duplicates:
        _deduplicate(con)
    as_of, start, reconciliation, first = _reconcile(con, path, cols, cfg, sql[1], timestamp_format)
    con.execute(f"CREATE OR REPLACE TEMP TABLE per AS "
                f"{customers_sql(cols, as_of, as_of - timedelta(days=cfg.recent_days))}")
    kept = "frequency > 0 AND monetary > 0"
    net_le_0, returns_only, active, revenue, orders, returned = con.execute(
        f"SELECT count(*) FILTER (frequency > 0 AND monetary <= 0), count(*) FILTER (frequency = 0), "
        f"count(*) FILTER ({kept}), sum(gross - returned) FILTER ({kept}), sum(frequency) FILTER ({kept}), "
        f"sum(returned) FILTER ({kept}) FROM per").fetchone()
    if not active:
        raise DataError(f"{path}: no customer has a net monetary value above zero between {start or 'the first line'}"
                        f" and {as_of}")
    customers = con.execute(f"SELECT * EXCLUDE (gross, returned) FROM per WHERE {kept} ORDER BY {ID_COLUMN}").df()
    returns = " and ".join([f"invoices starting with {cfg.cancel_prefix!r} not followed by a letter"]
                           * bool(cfg.cancel_prefix and cols.invoice)
                           + [f"negative {'quantities or ' * bool(cols.quantity)}amounts"]
                           * cfg.negative_quantity_is_return)
    notes += [f"as of {as_of}" + ("" if cfg.as_of else " (the day after the last transaction)"),
              f"window {cfg.window}: {reconciliation[1].detail}"]
    notes += [f"returns ({returns}) are netted against purchases"] if returns else []
    return LogAggregate(
        customers=customers, columns=cols, as_of=as_of.isoformat(), window_start=start and start.isoformat(),
        window=cfg.window, reconciliation=reconciliation,
        excluded_customers=(Count("net monetary value ≤ 0", int(net_le_0)),
                            Count("no purchase in window (returns only)", int(returns_only))),
        totals={"active_customers": float(active), "revenue": float(revenue), "orders": float(orders),
                "average_order_value": float(revenue) / float(orders),
                "lines_used": float(reconciliation[-1].count), "returned_value": float(returned)},
        notes=tuple(notes), first_date=first.isoformat(),
        history_warning=short_history(cfg.window, start, first, as_of))
