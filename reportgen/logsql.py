"""The DuckDB SQL that reads a transaction log into typed lines and sums the lines used into per-customer features.

Only SQL text is built here; :mod:`reportgen.logaggregate` runs it. Column names and config text come from the
user, so they only enter the SQL through :func:`ident` and :func:`literal`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from reportgen.config import DataConfig, TransactionsConfig
from reportgen.logcolumns import LogColumns

ID_COLUMN = "customer_id"


def ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """``text`` as a quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def lines_sql(path: Path, kind: str, names: list[str], sep: str, encoding: str, cols: LogColumns,
              data: DataConfig, cfg: TransactionsConfig, source: str | None = None) -> tuple[str, str]:
    """SQL of the line table (one typed, flagged row per raw line) and of one timestamp that does not parse.

    Parameters
    ----------
    path
        The log file.
    kind
        ``parquet``, ``gzip`` or ``text``, as the header sniffing found.
    names
        All column names of the file, in order.
    sep, encoding
        Separator and DuckDB encoding of a text file (ignored for Parquet).
    cols
        The columns playing each role.
    data, cfg
        ``data.decimal``; the timestamp format and the rules for returns.
    source
        A table or view to read instead of the file (a database's log); its columns are typed, as in Parquet.

    Returns
    -------
    tuple[str, str]
        A SELECT of columns ``cust, inv, ts, has_ts, v, ret, bad``, the optional ``prod, country, channel``,
        ``__row`` (hash of the raw row) and ``n`` (1), and a SELECT of one unparseable timestamp.
    """
    """SQL of the line table (one typed, flagged row per raw line) and of one timestamp that does not parse."""
    if source is not None:
        src, kind = source, "parquet"
    elif kind == "parquet":
        src = f"read_parquet({literal(str(path))})"
    else:
        types = ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names)
        src = (f"read_csv({literal(str(path))}, header=true, auto_detect=false, delim={literal(sep)}, quote='\"', "
               f"escape='\"', columns={{{types}}}, encoding={literal(encoding)}, "
               f"compression={'gzip' if kind == 'gzip' else 'none'!r})")

    def text(column: str) -> str:
        return f"NULLIF(trim(CAST({ident(column)} AS VARCHAR)), '')"

    def raw(column: str) -> str:  # typed Parquet columns are used as they are
        return ident(column) if kind == "parquet" else text(column)

    def number(column: str) -> str:
        value = raw(column)
        if data.decimal == "," and kind != "parquet":
            value = f"replace({value}, ',', '.')"
        return f"TRY_CAST({value} AS DOUBLE)"

    stamp = text(cols.timestamp)
    ts = (f"CAST(TRY_STRPTIME({stamp}, {literal(cfg.timestamp_format)}) AS TIMESTAMP)" if cfg.timestamp_format
          else f"TRY_CAST({raw(cols.timestamp)} AS TIMESTAMP)")
    fields = {"c": text(cols.customer), "inv": text(cols.invoice), "ts": ts, "has_ts": f"{raw(cols.timestamp)} IS "
              "NOT NULL"} | {k: number(c) for k, c in (("qty", cols.quantity), ("price", cols.unit_price),
                                                         ("amt", cols.amount)) if c}
    optional = {k: c for k, c in (("prod", cols.product), ("country", cols.country), ("channel", cols.channel)) if c}
    typed = ", ".join(f"{sql} AS {k}" for k, sql in (fields | {k: text(c) for k, c in optional.items()}).items())
    # Money is summed as exact decimals so that totals, and which customers net to zero, never depend on the
    # order in which threads add up the lines.
    value = f"TRY_CAST(round({'amt' if cols.amount else 'qty * price'}, 6) AS DECIMAL(18, 6))"
    returns = [f"starts_with(inv, {literal(cfg.cancel_prefix)})"] if cfg.cancel_prefix else []
    returns += [f"{'qty' if cols.quantity else 'amt'} < 0"] if cfg.negative_quantity_is_return else []
    bad = "v IS NULL OR v = 0" + (" OR coalesce(price <= 0, false)" if cols.unit_price else "")
    # The hash of the whole raw row is how logaggregate finds exact duplicates.
    lines = (rf"SELECT CASE WHEN suffix(c, '.0') THEN regexp_replace(c, '^(\d+)\.0+$', '\1') ELSE c END AS cust, "
             f"inv, ts, has_ts, v, coalesce({' OR '.join(returns) or 'false'}, false) AS ret, {bad} AS bad, "
             + "".join(f"{k}, " for k in optional) + "__row, 1::INTEGER AS n FROM (SELECT *, "
             f"{value} AS v FROM (SELECT {typed}, hash({', '.join(map(ident, names))}) AS __row FROM {src}))")
    return lines, f"SELECT {stamp} FROM {src} WHERE {stamp} IS NOT NULL AND {ts} IS NULL LIMIT 1"


def customers_sql(cols: LogColumns, as_of: date, recent: date) -> str:
    """Per-customer features from the lines used: invoices first, then customers (cheaper than DISTINCT counts).

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
            f"FILTER (ts >= TIMESTAMP '{recent}') AS recent FROM u GROUP BY cust, inv, ret), a AS (SELECT cust, "
            "max(CAST(t1 AS DATE)) FILTER (NOT ret) AS last_day, min(CAST(t0 AS DATE)) FILTER (NOT ret) AS "
            "first_day, count(inv) FILTER (NOT ret) AS frequency, coalesce(sum(signed) FILTER (NOT ret), 0) AS "
            "gross, coalesce(sum(size) FILTER (ret), 0) AS returned, coalesce(sum(recent), 0) AS recent_spend "
            f"FROM o GROUP BY cust){ctes} "
            f"SELECT cust AS {ID_COLUMN}, date_diff('day', last_day, {at}) AS recency_days, frequency, "
            "CAST(gross - returned AS DOUBLE) AS monetary, CAST(gross AS DOUBLE) / NULLIF(frequency, 0) AS "
            f"avg_order_value, date_diff('day', first_day, {at}) AS tenure_days, "
            "date_diff('day', first_day, last_day) / NULLIF(frequency - 1, 0) AS mean_days_between, "
            + ("coalesce(distinct_products, 0) AS distinct_products, " if cols.product else "")
            + "least(greatest(CAST(returned / NULLIF(gross, 0) AS DOUBLE), 0), 1) AS return_rate, "
            "CAST(recent_spend AS DOUBLE) AS recent_spend, " + "".join(f"{c}, " for c in modes)
            + "gross, returned FROM a " + "".join(f"LEFT JOIN {c}_mode USING (cust) " for c in modes)
            + ("LEFT JOIN products USING (cust)" if cols.product else ""))
