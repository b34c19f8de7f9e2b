"""The DuckDB SQL that reads a transaction log into typed lines and sums the lines used into per-customer features.

Only SQL text is built here; :mod:`reportgen.inputs.logs.aggregate` runs it. Column names and config text come from the
user, so they only enter the SQL through :func:`ident` and :func:`literal`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from reportgen.config import DataConfig, TransactionsConfig
from reportgen.inputs.logs.columns import LogColumns, formatted_money

if TYPE_CHECKING:
    from reportgen.inputs.logs.source import LogSource

ID_COLUMN = "customer_id"


def ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """``text`` as a quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def source_sql(source: LogSource) -> str:
    """The DuckDB table function that scans a log file (or its UTF-8 copy) in place, text columns as VARCHAR."""
    if source.kind == "parquet":
        return f"read_parquet({literal(str(source.path))})"
    types = ", ".join(f"{literal(n)}: 'VARCHAR'" for n in source.names)
    return (f"read_csv({literal(str(source.path))}, header={str(source.header).lower()}, auto_detect=false, "
            f"delim={literal(source.sep)}, quote='\"', escape='\"', columns={{{types}}}, encoding='utf-8', "
            f"compression={'gzip' if source.gzip else 'none'!r})")


def unparsed_sql(source: LogSource, column: str, timestamp_format: str) -> str:
    """SQL counting the non-blank values of ``column`` that ``timestamp_format`` does not read."""
    value = f"NULLIF(trim(CAST({ident(column)} AS VARCHAR)), '')"
    return (f"SELECT count(*) FROM {source_sql(source)} WHERE {value} IS NOT NULL AND "
            f"TRY_STRPTIME({value}, {literal(timestamp_format)}) IS NULL")


def _cancelled(source: LogSource, invoice: str, prefix: str) -> str:
    """SQL telling a cancelled invoice by its prefix. The prefix counts when what follows it is not a letter:
    'C536379' is cancelled, 'CA-2016-152156' is not. The letter test is left out (it costs a regular expression
    per line) unless the sampled invoices show the prefix followed by a letter."""
    starts = f"starts_with(inv, {literal(prefix)})"
    sampled = source.sample[invoice].dropna().astype(str) if invoice in source.sample else None
    if sampled is None or not sampled.str.match(re.escape(prefix) + "[A-Za-z]").any():
        return starts
    return f"({starts} AND NOT regexp_matches(inv, {literal('^' + re.escape(prefix) + '[A-Za-z]')}))"


def lines_sql(source: LogSource, cols: LogColumns, timestamp_format: str | None, data: DataConfig,
              cfg: TransactionsConfig, relation: str | None = None) -> tuple[str, str]:
    """SQL of the line table (one typed, flagged row per raw line) and of one timestamp that does not parse.

    Parameters
    ----------
    source
        The log as DuckDB scans it (:func:`reportgen.inputs.logs.source.open_log`).
    cols
        The columns playing each role.
    timestamp_format
        strftime format of the timestamp column; None casts it (ISO text, or a typed Parquet date).
    data, cfg
        ``data.decimal``; the rules for returns.
    relation
        A table or view to scan instead of ``source``'s file (a database's log); its columns are typed, as in
        Parquet, and ``source`` gives only the column names and the sample.

    Returns
    -------
    tuple[str, str]
        A SELECT of columns ``cust, inv, ts, has_ts, v, ret, bad``, the optional ``m`` (margin), ``prod,
        country, channel``, ``__row`` (hash of the raw row) and ``n`` (1), and a SELECT of one unparseable
        timestamp. Without an invoice column ``inv`` is the day of the line: an order is a customer's day.
    """
    src, parquet = (relation, True) if relation else (source_sql(source), source.kind == "parquet")

    def text(column: str) -> str:
        return f"NULLIF(trim(CAST({ident(column)} AS VARCHAR)), '')"

    def raw(column: str) -> str:  # typed Parquet columns are used as they are
        return ident(column) if parquet else text(column)

    comma = (data.decimal or source.decimal) == "," and not parquet

    def number(column: str) -> str:
        value = raw(column)
        if not parquet and formatted_money(source.sample, column):
            # Keep digits, the decimal mark and the sign; '(12.50)' is negative.
            kept = f"regexp_replace({value}, '[^0-9{',' if comma else '.'}(-]', '', 'g')"
            value = f"CASE WHEN {value} LIKE '(%' THEN '-' || replace({kept}, '(', '') ELSE {kept} END"
        if comma:
            value = f"replace({value}, ',', '.')"
        return f"TRY_CAST({value} AS DOUBLE)"

    stamp = text(cols.timestamp)
    ts = (f"CAST(TRY_STRPTIME({stamp}, {literal(timestamp_format)}) AS TIMESTAMP)" if timestamp_format
          else f"TRY_CAST({raw(cols.timestamp)} AS TIMESTAMP)")
    fields = {"c": text(cols.customer), "inv": text(cols.invoice) if cols.invoice else "NULL", "ts": ts,
              "has_ts": f"{raw(cols.timestamp)} IS NOT NULL"} | {
        k: number(c) for k, c in (("qty", cols.quantity), ("price", cols.unit_price), ("amt", cols.amount),
                                  ("mg", cols.margin)) if c}
    optional = {k: c for k, c in (("prod", cols.product), ("country", cols.country), ("channel", cols.channel)) if c}
    typed = ", ".join(f"{sql} AS {k}" for k, sql in (fields | {k: text(c) for k, c in optional.items()}).items())
    # Money is summed as exact decimals so that totals, and which customers net to zero, never depend on the
    # order in which threads add up the lines.
    value = f"TRY_CAST(round({'amt' if cols.amount else 'qty * price'}, 6) AS DECIMAL(18, 6))"
    margin = ", TRY_CAST(round(mg, 6) AS DECIMAL(18, 6)) AS m" if cols.margin else ""
    returns = [_cancelled(source, cols.invoice, cfg.cancel_prefix)] if cfg.cancel_prefix and cols.invoice else []
    returns += ["v < 0"] + (["qty < 0"] if cols.quantity else []) if cfg.negative_quantity_is_return else []
    bad = "v IS NULL OR v = 0" + (" OR coalesce(price <= 0, false)" if cols.unit_price else "")
    inv = "inv" if cols.invoice else "CAST(CAST(ts AS DATE) AS VARCHAR)"
    # The hash of the whole raw row is how logaggregate finds exact duplicates.
    lines = (rf"SELECT CASE WHEN suffix(c, '.0') THEN regexp_replace(c, '^(\d+)\.0+$', '\1') ELSE c END AS cust, "
             f"{inv} AS inv, ts, has_ts, v, coalesce({' OR '.join(returns) or 'false'}, false) AS ret, {bad} AS bad, "
             + "".join(f"{k}, " for k in ["m"] * bool(cols.margin) + list(optional)) + "__row, 1::INTEGER AS n FROM "
             f"(SELECT *, {value} AS v{margin} FROM (SELECT {typed}, hash({', '.join(map(ident, source.names))}) "
             f"AS __row FROM {src}))")
    return lines, f"SELECT {stamp} FROM {src} WHERE {stamp} IS NOT NULL AND {ts} IS NULL LIMIT 1"


def customers_sql(cols: LogColumns, as_of: date, recent: date) -> str:
    """Per-customer features from the lines used: invoices first, then customers (cheaper than DISTINCT counts).

    ``inv`` is the invoice, or the day of a log without invoices, so ``frequency`` counts orders either way; the
    net ``margin`` (profit) of a log with a margin column is summed over purchases and returns alike.

    Reads the lines of the ``classified`` view whose ``rule`` is 0; ``recent`` starts the ``recent_spend``
    period. The mode of country and channel is taken over the customer's lines, ties broken alphabetically.
    """
    modes = [c for c in ("country", "channel") if getattr(cols, c)]
    ctes = "".join(f", {c}_mode AS (SELECT cust, first({c} ORDER BY k DESC, {c}) AS {c} FROM (SELECT cust, {c}, "
                   f"count(*) AS k FROM u WHERE {c} IS NOT NULL GROUP BY ALL) GROUP BY cust)" for c in modes)
    ctes += (", products AS (SELECT cust, count(*) AS distinct_products FROM (SELECT DISTINCT cust, prod FROM u "
             "WHERE NOT ret AND prod IS NOT NULL) GROUP BY cust)") if cols.product else ""
    at = f"DATE '{as_of}'"
    return ("WITH u AS (SELECT * FROM classified WHERE rule = 0), o AS (SELECT cust, inv, ret, min(ts) AS t0, "
            "max(ts) AS t1, sum(v) AS signed, sum(abs(v)) AS size, sum(CASE WHEN ret THEN -abs(v) ELSE v END) "
            f"FILTER (ts >= TIMESTAMP '{recent}') AS recent{', sum(m) AS m' * bool(cols.margin)} FROM u GROUP BY "
            "cust, inv, ret), a AS (SELECT cust, "
            "max(CAST(t1 AS DATE)) FILTER (NOT ret) AS last_day, min(CAST(t0 AS DATE)) FILTER (NOT ret) AS "
            "first_day, count(inv) FILTER (NOT ret) AS frequency, coalesce(sum(signed) FILTER (NOT ret), 0) AS "
            "gross, coalesce(sum(size) FILTER (ret), 0) AS returned, coalesce(sum(recent), 0) AS recent_spend"
            f"{', coalesce(sum(m), 0) AS margin' * bool(cols.margin)} FROM o GROUP BY cust){ctes} "
            f"SELECT cust AS {ID_COLUMN}, date_diff('day', last_day, {at}) AS recency_days, frequency, "
            "CAST(gross - returned AS DOUBLE) AS monetary, CAST(gross AS DOUBLE) / NULLIF(frequency, 0) AS "
            f"avg_order_value, date_diff('day', first_day, {at}) AS tenure_days, "
            "date_diff('day', first_day, last_day) / NULLIF(frequency - 1, 0) AS mean_days_between, "
            + ("coalesce(distinct_products, 0) AS distinct_products, " if cols.product else "")
            + "least(greatest(CAST(returned / NULLIF(gross, 0) AS DOUBLE), 0), 1) AS return_rate, "
            "CAST(recent_spend AS DOUBLE) AS recent_spend, " + "CAST(margin AS DOUBLE) AS margin, " * bool(cols.margin)
            + "".join(f"{c}, " for c in modes)
            + "gross, returned FROM a " + "".join(f"LEFT JOIN {c}_mode USING (cust) " for c in modes)
            + ("LEFT JOIN products USING (cust)" if cols.product else ""))
