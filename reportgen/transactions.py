"""Turn a transaction log (one row per invoice line) into one row per customer with RFM-style features.

DuckDB reads the CSV (optionally gzipped) or Parquet file itself and works out of core within
``transactions.memory_limit``; only the per-customer table comes back to pandas. Every excluded line is
counted once, by the first rule that excludes it, so raw rows − exclusions = lines used.
"""

from __future__ import annotations

import calendar
import csv
import gzip
import re
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from reportgen.config import DataConfig, TransactionsConfig
from reportgen.errors import ConfigError, DataError
from reportgen.load import _QUOTED, SAMPLE_BYTES, _clean_names, _decode, _reading, _separator
from reportgen.result import Count

ID_COLUMN = "customer_id"
ROLES = ("customer", "invoice", "timestamp", "quantity", "unit_price", "amount", "product", "channel", "country")
_ALIASES = {
    "customer": "customerid customer customerno customernumber customercode custid client clientid clientno userid "
                "memberid buyerid accountid",
    "invoice": "invoiceno invoice invoiceid invoicenumber orderid order orderno ordernumber transactionid "
               "transaction receiptid receiptno receipt basketid",
    "timestamp": "invoicedate date timestamp orderdate datetime transactiondate purchasedate saledate time "
                 "orderdatetime createdat",
    "quantity": "quantity qty units",
    "unit_price": "unitprice price priceeach itemprice",
    "amount": "amount linetotal lineamount revenue sales total value",
    "product": "stockcode sku productid product productcode itemid itemcode item",
    "channel": "channel saleschannel",
    "country": "country countryname",
}
_WINDOW = re.compile(r"\s*(\d+)\s*([dwmy])\s*", re.IGNORECASE)
# cp1252 differs from latin-1 only in 0x80-0x9f (€, curly quotes), which ids, codes and numbers do not use.
_ENCODINGS = {"utf8": "utf-8", "utf8sig": "utf-8", "utf16": "utf-16", "latin1": "latin-1", "iso88591": "latin-1",
              "cp1252": "latin-1", "windows1252": "latin-1"}


@dataclass(frozen=True)
class LogColumns:
    """Which column of the log plays each role; optional roles are None when the log has no such column."""

    customer: str
    invoice: str
    timestamp: str
    quantity: str | None = None
    unit_price: str | None = None
    amount: str | None = None
    product: str | None = None
    channel: str | None = None
    country: str | None = None


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


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name.lower())


def _roles(columns: list[str], cfg: TransactionsConfig) -> dict[str, str | None]:
    by_norm: dict[str, str] = {}
    for column in columns:
        by_norm.setdefault(_norm(column), column)
    found: dict[str, str | None] = {}
    for role in ROLES:
        explicit = getattr(cfg, role)
        if explicit is not None:
            found[role] = explicit if explicit in columns else by_norm.get(_norm(explicit))
        elif role == "amount" and found["quantity"] and found["unit_price"]:
            found[role] = None  # quantity × unit price is the line amount; a 'total' column may be anything
        else:
            found[role] = next((by_norm[a] for a in _ALIASES[role].split() if a in by_norm), None)
    return found


def detect_log_columns(columns: list[str], cfg: TransactionsConfig) -> LogColumns | None:
    """Map a log's columns to roles by name (ignoring case, spaces, '_' and '-'); explicit ``cfg`` names win.

    Returns
    -------
    LogColumns | None
        None unless a customer, invoice and timestamp column and either quantity + unit price or an amount
        column are found. An amount column is only looked for by name when quantity and unit price are not.
    """
    found = _roles(columns, cfg)
    priced = found["amount"] or (found["quantity"] and found["unit_price"])
    if not (found["customer"] and found["invoice"] and found["timestamp"] and priced):
        return None
    return LogColumns(**found)  # type: ignore[arg-type]  # the required roles are all set here


def _header(path: Path, data: DataConfig, notes: list[str]) -> tuple[str, list[str], str, str]:
    """Format (parquet | gzip | text), column names, separator and DuckDB encoding, from the first 64 KB."""
    if not path.is_file():
        raise DataError(f"{path}: is a directory, not a file" if path.is_dir() else f"input file not found: {path}")
    with _reading(path), path.open("rb") as handle:
        magic = handle.read(4)
    if magic == b"PAR1" or path.suffix.lower() in (".parquet", ".pq"):
        with _reading(path):
            return "parquet", _clean_names(path, pq.read_schema(path).names, notes), "", ""
    if magic.startswith(b"PK") or path.suffix.lower() in (".xlsx", ".xls"):
        raise DataError(f"{path}: a transaction log must be CSV/TSV (optionally .gz) or Parquet, not Excel")
    gz = magic[:2] == b"\x1f\x8b"
    with _reading(path, gz), gzip.open(path, "rb") if gz else path.open("rb") as handle:
        raw = handle.read(SAMPLE_BYTES + 1)
    complete, raw = len(raw) <= SAMPLE_BYTES, raw[:SAMPLE_BYTES]
    encoding, text = _decode(path, raw, complete, data.encoding, notes)
    if (duck := _ENCODINGS.get(re.sub(r"[\s_\-]", "", encoding.lower()))) is None:
        raise ConfigError(f"Config value 'data.encoding': a transaction log is read as UTF-8, UTF-16 or latin-1 "
                          f"but received {data.encoding!r}")
    if not text.replace("\ufeff", "").strip():
        raise DataError(f"{path}: the file is empty")
    sep = _separator(path, _QUOTED.sub("", text), complete, data.sep, notes)
    first = next(csv.reader([text.split("\n")[0].rstrip("\r")], delimiter=sep))
    return "gzip" if gz else "text", _clean_names(path, first, notes), sep, duck


def looks_like_log(path: Path, data: DataConfig, cfg: TransactionsConfig) -> bool:
    """Whether ``path`` is a transaction log: as ``data.input`` says, or for ``auto`` judged by its header alone."""
    if data.input != "auto":
        return data.input == "transactions"
    try:
        return detect_log_columns(_header(Path(path), data, [])[1], cfg) is not None
    except (DataError, ConfigError):
        return False


def _log_columns(path: Path, names: list[str], cfg: TransactionsConfig) -> LogColumns:
    found = _roles(names, cfg)
    lacking = [f"'{getattr(cfg, r)}' (transactions.{r})" for r in ROLES if getattr(cfg, r) and not found[r]]
    if not lacking:
        lacking = [f"{r} (transactions.{r})" for r in ROLES[:3] if not found[r]]
        lacking += [] if found["amount"] or (found["quantity"] and found["unit_price"]) else \
            ["quantity + unit_price or amount (transactions.amount)"]
    if lacking:
        shown = ", ".join(map(repr, names[:40])) + (", …" if len(names) > 40 else "")
        raise DataError(f"{path}: no column found for {', '.join(lacking)}; columns found: {shown}")
    return LogColumns(**found)  # type: ignore[arg-type]


def _window_start(as_of: date, window: str) -> date | None:
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


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _lines_sql(path: Path, kind: str, names: list[str], sep: str, encoding: str, cols: LogColumns,
               data: DataConfig, cfg: TransactionsConfig) -> tuple[str, str]:
    """SQL of the line table (one typed, flagged row per raw line) and of one timestamp that does not parse."""
    if kind == "parquet":
        src = f"read_parquet({_lit(str(path))})"
    else:
        types = ", ".join(f"{_lit(n)}: 'VARCHAR'" for n in names)
        src = (f"read_csv({_lit(str(path))}, header=true, auto_detect=false, delim={_lit(sep)}, quote='\"', "
               f"escape='\"', columns={{{types}}}, encoding={_lit(encoding)}, "
               f"compression={'gzip' if kind == 'gzip' else 'none'!r})")

    def text(column: str) -> str:
        return f"NULLIF(trim(CAST({_q(column)} AS VARCHAR)), '')"

    def raw(column: str) -> str:  # typed Parquet columns are used as they are
        return _q(column) if kind == "parquet" else text(column)

    def number(column: str) -> str:
        value = raw(column)
        if data.decimal == "," and kind != "parquet":
            value = f"replace({value}, ',', '.')"
        return f"TRY_CAST({value} AS DOUBLE)"

    stamp = text(cols.timestamp)
    ts = (f"CAST(TRY_STRPTIME({stamp}, {_lit(cfg.timestamp_format)}) AS TIMESTAMP)" if cfg.timestamp_format
          else f"TRY_CAST({raw(cols.timestamp)} AS TIMESTAMP)")
    fields = {"c": text(cols.customer), "inv": text(cols.invoice), "ts": ts, "has_ts": f"{raw(cols.timestamp)} IS "
              "NOT NULL"} | {k: number(c) for k, c in (("qty", cols.quantity), ("price", cols.unit_price),
                                                         ("amt", cols.amount)) if c}
    optional = {k: c for k, c in (("prod", cols.product), ("country", cols.country), ("channel", cols.channel)) if c}
    typed = ", ".join(f"{sql} AS {k}" for k, sql in (fields | {k: text(c) for k, c in optional.items()}).items())
    # Money is summed as exact decimals so that totals, and which customers net to zero, never depend on the
    # order in which threads add up the lines.
    value = f"TRY_CAST(round({'amt' if cols.amount else 'qty * price'}, 6) AS DECIMAL(18, 6))"
    returns = [f"starts_with(inv, {_lit(cfg.cancel_prefix)})"] if cfg.cancel_prefix else []
    returns += [f"{'qty' if cols.quantity else 'amt'} < 0"] if cfg.negative_quantity_is_return else []
    bad = "v IS NULL OR v = 0" + (" OR coalesce(price <= 0, false)" if cols.unit_price else "")
    # The hash of the whole raw row is how _deduplicate finds exact duplicates.
    lines = (rf"SELECT CASE WHEN suffix(c, '.0') THEN regexp_replace(c, '^(\d+)\.0+$', '\1') ELSE c END AS cust, "
             f"inv, ts, has_ts, v, coalesce({' OR '.join(returns) or 'false'}, false) AS ret, {bad} AS bad, "
             + "".join(f"{k}, " for k in optional) + "__row, 1::INTEGER AS n FROM (SELECT *, "
             f"{value} AS v FROM (SELECT {typed}, hash({', '.join(map(_q, names))}) AS __row FROM {src}))")
    return lines, f"SELECT {stamp} FROM {src} WHERE {stamp} IS NOT NULL AND {ts} IS NULL LIMIT 1"


def _customers_sql(cols: LogColumns, as_of: date, recent: date) -> str:
    """Per-customer features from the lines used: invoices first, then customers (cheaper than DISTINCT counts).

    The mode of country and channel is taken over the customer's lines, ties broken alphabetically.
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


def _reconcile(con: duckdb.DuckDBPyConnection, path: Path, cols: LogColumns, cfg: TransactionsConfig,
               bad_stamp: str) -> tuple[date, date | None, tuple[Count, ...]]:
    """Check the lines, fix the window and classify every line: as-of date, window start, reconciliation."""
    raw, unparsed, first, last, numeric, nonzero = con.execute(
        "SELECT sum(n), sum(n) FILTER (has_ts AND ts IS NULL), min(ts), max(ts), count(v), "
        "count(*) FILTER (v <> 0) FROM lines").fetchone()
    amounts = " × ".join(repr(c) for c in ((cols.amount,) if cols.amount else (cols.quantity, cols.unit_price)))
    if unparsed:
        how = f"the format {cfg.timestamp_format!r}" if cfg.timestamp_format else "ISO dates (YYYY-MM-DD[ HH:MM])"
        raise DataError(f"{path}: column {cols.timestamp!r} has {unparsed:,} value(s) that are not {how}, e.g. "
                        f"{con.execute(bad_stamp).fetchone()[0]!r}; set transactions.timestamp_format")
    if first is None:
        raise DataError(f"{path}: column {cols.timestamp!r} has no dates" if raw else f"{path}: has no data rows")
    if not nonzero:
        raise DataError(f"{path}: every line amount ({amounts}) is {'zero' if numeric else 'missing or not a number'}")
    as_of = date.fromisoformat(cfg.as_of) if cfg.as_of else last.date() + timedelta(days=1)
    start = _window_start(as_of, cfg.window)
    window = f"{start or 'the first line'} to {as_of} (exclusive)"
    outside = f"ts IS NULL OR ts >= TIMESTAMP '{as_of}'" + (f" OR ts < TIMESTAMP '{start}'" if start else "")
    codes = [f"prod IN ({', '.join(_lit(c.strip()) for c in cfg.exclude_codes)})"] if cfg.exclude_codes else []
    codes += [f"prod LIKE {_lit(p)}" for p in cfg.exclude_code_patterns]
    con.execute(f"CREATE OR REPLACE TEMP VIEW classified AS SELECT *, CASE WHEN {outside} THEN 1 WHEN cust IS NULL "
                f"THEN 2 WHEN {' OR '.join(codes) if cols.product and codes else 'false'} THEN 3 WHEN bad THEN 4 "
                "ELSE 0 END AS rule FROM lines")
    # A repeated line inside the window counts once as used or excluded by a later rule; its copies are duplicates.
    outside_n, duplicates, no_id, codes_n, bad_n, used, undated = (int(x or 0) for x in con.execute(
        "SELECT sum(n) FILTER (rule = 1), sum(n - 1) FILTER (rule <> 1), count(*) FILTER (rule = 2), count(*) "
        "FILTER (rule = 3), count(*) FILTER (rule = 4), count(*) FILTER (rule = 0), sum(n) FILTER (NOT has_ts) "
        "FROM classified").fetchone())
    if outside_n == raw:
        raise DataError(f"{path}: no transactions in the window {window}; column {cols.timestamp!r} spans "
                        f"{first.date()} to {last.date()} (set transactions.as_of / transactions.window)")
    reconciliation = (
        Count("raw rows", int(raw)),
        Count("outside the window", outside_n, window + (f"; {undated:,} without a date" if undated else "")),
        Count("exact duplicate rows", duplicates, "" if cfg.drop_duplicates else "kept (drop_duplicates = false)"),
        Count("missing customer id", no_id, f"column {cols.customer!r}"),
        Count("non-product codes", codes_n, f"column {cols.product!r}" if cols.product else "no product column"),
        Count("zero or negative unit price" if cols.unit_price and not cols.amount else "zero amount", bad_n, amounts),
        Count("lines used", used))
    if not used:
        left_out = "; ".join(f"{c.label} ({c.detail}): {c.count:,}" for c in reconciliation[1:-1] if c.count)
        raise DataError(f"{path}: no lines left to aggregate ({left_out})")
    return as_of, start, reconciliation


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


def _aggregate(con: duckdb.DuckDBPyConnection, path: Path, sql: tuple[str, str], cols: LogColumns,
               cfg: TransactionsConfig, notes: list[str]) -> LogAggregate:
    con.execute(f"CREATE OR REPLACE TEMP TABLE lines AS {sql[0]}")
    if cfg.drop_duplicates:
        _deduplicate(con)
    as_of, start, reconciliation = _reconcile(con, path, cols, cfg, sql[1])
    con.execute(f"CREATE OR REPLACE TEMP TABLE per AS "
                f"{_customers_sql(cols, as_of, as_of - timedelta(days=cfg.recent_days))}")
    kept = "frequency > 0 AND monetary > 0"
    net_le_0, returns_only, active, revenue, orders, gross, returned = con.execute(
        f"SELECT count(*) FILTER (frequency > 0 AND monetary <= 0), count(*) FILTER (frequency = 0), "
        f"count(*) FILTER ({kept}), sum(gross - returned) FILTER ({kept}), sum(frequency) FILTER ({kept}), "
        f"sum(gross) FILTER ({kept}), sum(returned) FILTER ({kept}) FROM per").fetchone()
    if not active:
        raise DataError(f"{path}: no customer has a net monetary value above zero between {start or 'the first line'}"
                        f" and {as_of}")
    customers = con.execute(f"SELECT * EXCLUDE (gross, returned) FROM per WHERE {kept} ORDER BY {ID_COLUMN}").df()
    returns = " and ".join([f"invoices starting with {cfg.cancel_prefix!r}"] * bool(cfg.cancel_prefix)
                           + ["negative quantities"] * cfg.negative_quantity_is_return)
    notes += [f"as of {as_of}" + ("" if cfg.as_of else " (the day after the last transaction)"),
              f"window {cfg.window}: {reconciliation[1].detail}"]
    notes += [f"returns ({returns}) are netted against purchases"] if returns else []
    return LogAggregate(
        customers=customers, columns=cols, as_of=as_of.isoformat(), window_start=start and start.isoformat(),
        window=cfg.window, reconciliation=reconciliation,
        excluded_customers=(Count("net monetary value ≤ 0", int(net_le_0)),
                            Count("no purchase in window (returns only)", int(returns_only))),
        totals={"active_customers": float(active), "revenue": float(revenue), "orders": float(orders),
                "average_order_value": float(gross) / float(orders),
                "lines_used": float(reconciliation[-1].count), "returned_value": float(returned)},
        notes=tuple(notes))


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
    cols = _log_columns(path, names, cfg)
    with tempfile.TemporaryDirectory(prefix="reportgen-duckdb-") as tmp, duckdb.connect() as con:
        try:
            con.execute(f"SET memory_limit = {_lit(cfg.memory_limit)}")
        except duckdb.Error:
            raise ConfigError(f"Config value 'transactions.memory_limit': expected a size such as '2GB' but "
                              f"received {cfg.memory_limit!r}") from None
        con.execute(f"SET temp_directory = {_lit(tmp)}")
        con.execute("SET preserve_insertion_order = false")  # lets DuckDB stream and spill without keeping order
        con.execute(f"SET threads = {cfg.threads}" if cfg.threads else "RESET threads")
        try:
            try:
                return _aggregate(con, path, _lines_sql(path, kind, names, sep, encoding, cols, data, cfg), cols,
                                  cfg, notes)
            except duckdb.InvalidInputException as exc:
                # UTF-8 was only guessed from the first 64 KB; a later non-UTF-8 byte means a legacy encoding.
                if "encoding: utf-8" not in notes or "unicode" not in str(exc).lower():
                    raise
                notes[:] = [n for n in notes if not n.startswith("encoding:")] + ["encoding: latin-1"]
                return _aggregate(con, path, _lines_sql(path, kind, names, sep, "latin-1", cols, data, cfg), cols,
                                  cfg, notes)
        except duckdb.Error as exc:
            reason = " ".join(str(exc).split("Possible fixes")[0].split())
            raise DataError(f"{path}: cannot be read ({reason if len(reason) <= 200 else reason[:197] + '...'})") \
                from None


def log_header(path: Path, data: DataConfig) -> list[str]:
    """The column names of a log file (read from its first bytes only)."""
    return _header(Path(path), data, [])[1]
