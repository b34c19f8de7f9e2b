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
    complete = found["customer"] and found["invoice"] and found["timestamp"]
    return LogColumns(**found) if complete and (found["amount"] or (found["quantity"] and found["unit_price"])) \
        else None  # type: ignore[arg-type]


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


def _sql(path: Path, kind: str, names: list[str], sep: str, encoding: str, cols: LogColumns, data: DataConfig,
         cfg: TransactionsConfig) -> tuple[str, str, str]:
    """The source relation, the line table (deduplicated, typed, flagged) and the timestamp's raw text."""
    if kind == "parquet":
        src = f"read_parquet({_lit(str(path))})"
    else:
        types = ", ".join(f"{_lit(n)}: 'VARCHAR'" for n in names)
        src = (f"read_csv({_lit(str(path))}, header=true, auto_detect=false, delim={_lit(sep)}, quote='\"', "
               f"escape='\"', columns={{{types}}}, encoding={_lit(encoding)}, "
               f"compression={'gzip' if kind == 'gzip' else 'none'!r})")

    def text(column: str | None) -> str:
        return f"NULLIF(trim(CAST({_q(column)} AS VARCHAR)), '')" if column else "NULL::VARCHAR"

    def number(column: str | None) -> str:
        raw = _q(column or "") if kind == "parquet" else text(column)
        return "NULL::DOUBLE" if column is None else \
            f"TRY_CAST({f'replace({raw}, {_lit(chr(44))}, {_lit(chr(46))})' if data.decimal == ',' else raw} AS DOUBLE)"

    stamp = text(cols.timestamp)
    ts = (f"CAST(TRY_STRPTIME({stamp}, {_lit(cfg.timestamp_format)}) AS TIMESTAMP)" if cfg.timestamp_format
          else f"TRY_CAST({_q(cols.timestamp) if kind == 'parquet' else stamp} AS TIMESTAMP)")
    rows = f"(SELECT *, count(*) AS n FROM {src} GROUP BY ALL)" if cfg.drop_duplicates else \
        f"(SELECT *, 1 AS n FROM {src})"
    typed = (f"SELECT {text(cols.customer)} AS c, {text(cols.invoice)} AS inv, {ts} AS ts, {stamp} IS NOT NULL AS "
             f"has_ts, {number(cols.quantity)} AS qty, {number(cols.unit_price)} AS price, {number(cols.amount)} AS "
             f"amt, {text(cols.product)} AS prod, {text(cols.country)} AS country, {text(cols.channel)} AS channel, "
             f"n FROM {rows}")
    value = "amt" if cols.amount else "qty * price"
    returns = [f"starts_with(inv, {_lit(cfg.cancel_prefix)})"] if cfg.cancel_prefix else []
    returns += [f"{'qty' if cols.quantity else 'amt'} < 0"] if cfg.negative_quantity_is_return else []
    lines = (rf"SELECT CASE WHEN suffix(c, '.0') THEN regexp_replace(c, '^(\d+)\.0+$', '\1') ELSE c END AS cust, "
             f"inv, ts, has_ts, {value} AS v, coalesce({' OR '.join(returns) or 'false'}, false) AS ret, "
             f"{value} IS NULL OR {value} = 0 OR coalesce(price <= 0, false) AS bad, prod, country, channel, n "
             f"FROM ({typed})")
    return src, lines, f"SELECT {stamp} FROM {src} WHERE {stamp} IS NOT NULL AND {ts} IS NULL LIMIT 1"


def _customers_sql(cols: LogColumns, as_of: date, recent: date) -> str:
    """Per-customer features from the lines used; the mode of country/channel breaks ties alphabetically."""
    modes = [c for c in ("country", "channel") if getattr(cols, c)]
    ctes = "".join(f", {c}_mode AS (SELECT cust, first({c} ORDER BY k DESC, {c}) AS {c} FROM (SELECT cust, {c}, "
                   f"count(*) AS k FROM u WHERE {c} IS NOT NULL GROUP BY ALL) GROUP BY cust)" for c in modes)
    at = f"DATE '{as_of}'"
    return (f"WITH u AS (SELECT * FROM classified WHERE rule = 0), a AS (SELECT cust, "
            "max(CAST(ts AS DATE)) FILTER (NOT ret) AS last_day, min(CAST(ts AS DATE)) FILTER (NOT ret) AS first_day, "
            "count(DISTINCT inv) FILTER (NOT ret) AS frequency, coalesce(sum(v) FILTER (NOT ret), 0) AS gross, "
            "coalesce(sum(abs(v)) FILTER (ret), 0) AS returned, count(DISTINCT prod) FILTER (NOT ret) AS "
            "distinct_products, coalesce(sum(CASE WHEN ret THEN -abs(v) ELSE v END) FILTER "
            f"(ts >= TIMESTAMP '{recent}'), 0) AS recent_spend FROM u GROUP BY cust){ctes} "
            f"SELECT cust AS {ID_COLUMN}, date_diff('day', last_day, {at}) AS recency_days, frequency, "
            "gross - returned AS monetary, gross / NULLIF(frequency, 0) AS avg_order_value, "
            f"date_diff('day', first_day, {at}) AS tenure_days, "
            "date_diff('day', first_day, last_day) / NULLIF(frequency - 1, 0) AS mean_days_between, "
            f"{'distinct_products, ' if cols.product else ''}"
            "least(greatest(returned / NULLIF(gross, 0), 0), 1) AS return_rate, recent_spend, "
            + "".join(f"{c}, " for c in modes) + "gross, returned FROM a "
            + "".join(f"LEFT JOIN {c}_mode USING (cust) " for c in modes))


def _aggregate(con: duckdb.DuckDBPyConnection, path: Path, sql: tuple[str, str, str], cols: LogColumns,
               cfg: TransactionsConfig, notes: list[str]) -> LogAggregate:
    src, lines, bad_stamp = sql
    con.execute(f"CREATE OR REPLACE TEMP TABLE lines AS {lines}")
    raw, unparsed, first, last, numeric, nonzero = con.execute(
        "SELECT sum(n), count(*) FILTER (has_ts AND ts IS NULL), min(ts), max(ts), count(v), "
        "count(*) FILTER (v <> 0) FROM lines").fetchone()
    amount_cols = " × ".join(repr(c) for c in ((cols.amount,) if cols.amount else (cols.quantity, cols.unit_price)))
    if unparsed:
        example = con.execute(bad_stamp).fetchone()[0]
        how = f"the format {cfg.timestamp_format!r}" if cfg.timestamp_format else "ISO dates (YYYY-MM-DD[ HH:MM])"
        raise DataError(f"{path}: column {cols.timestamp!r} has {unparsed:,} value(s) that are not {how}, "
                        f"e.g. {example!r}; set transactions.timestamp_format")
    if first is None:
        raise DataError(f"{path}: column {cols.timestamp!r} has no dates" if raw else f"{path}: has no data rows")
    if not nonzero:
        raise DataError(f"{path}: every line amount ({amount_cols}) is "
                        f"{'zero' if numeric else 'missing or not a number'}")
    as_of = date.fromisoformat(cfg.as_of) if cfg.as_of else last.date() + timedelta(days=1)
    start = _window_start(as_of, cfg.window)
    window = f"{start or 'the start'} to {as_of} (exclusive)"
    outside = f"ts IS NULL OR ts >= TIMESTAMP '{as_of}'" + (f" OR ts < TIMESTAMP '{start}'" if start else "")
    codes = [f"prod IN ({', '.join(_lit(c.strip()) for c in cfg.exclude_codes)})"] if cfg.exclude_codes else []
    codes += [f"prod LIKE {_lit(p)}" for p in cfg.exclude_code_patterns]
    code_rule = " OR ".join(codes) if cols.product and codes else "false"
    con.execute(f"CREATE OR REPLACE TEMP VIEW classified AS SELECT *, CASE WHEN {outside} THEN 1 WHEN cust IS NULL "
                f"THEN 3 WHEN {code_rule} THEN 4 WHEN bad THEN 5 ELSE 0 END AS rule FROM lines")
    counts = [int(x or 0) for x in con.execute(
        "SELECT sum(n) FILTER (rule = 1), sum(n - 1) FILTER (rule <> 1), count(*) FILTER (rule = 3), count(*) "
        "FILTER (rule = 4), count(*) FILTER (rule = 5), count(*) FILTER (rule = 0), count(*) FILTER (NOT has_ts) "
        "FROM classified").fetchone()]
    if counts[0] == raw:
        raise DataError(f"{path}: no transactions in the window {window}; column {cols.timestamp!r} spans "
                        f"{first.date()} to {last.date()} (set transactions.as_of / transactions.window)")
    undated = f"; {counts[6]:,} without a date" if counts[6] else ""
    price_rule = "zero or negative unit price" if cols.unit_price and not cols.amount else "zero amount"
    reconciliation = (
        Count("raw rows", raw), Count("outside the window", counts[0], window + undated),
        Count("exact duplicate rows", counts[1], "" if cfg.drop_duplicates else "not dropped (drop_duplicates off)"),
        Count("missing customer id", counts[2], f"column {cols.customer!r}"),
        Count("non-product codes", counts[3], f"column {cols.product!r}" if cols.product else "no product column"),
        Count(price_rule, counts[4], amount_cols), Count("lines used", counts[5]))
    if not counts[5]:
        left_out = ", ".join(f"{c.label}: {c.count:,}" for c in reconciliation[1:-1] if c.count)
        raise DataError(f"{path}: no lines left to aggregate ({left_out})")
    recent = as_of - timedelta(days=cfg.recent_days)
    con.execute(f"CREATE OR REPLACE TEMP TABLE per AS {_customers_sql(cols, as_of, recent)}")
    kept = "frequency > 0 AND monetary > 0"
    stats = con.execute(
        f"SELECT count(*) FILTER (frequency > 0 AND monetary <= 0), count(*) FILTER (frequency = 0), "
        f"count(*) FILTER ({kept}), sum(monetary) FILTER ({kept}), sum(frequency) FILTER ({kept}), "
        f"sum(gross) FILTER ({kept}), sum(returned) FILTER ({kept}) FROM per").fetchone()
    if not stats[2]:
        raise DataError(f"{path}: no customer has a net monetary value above zero in the window {window}")
    customers = con.execute(f"SELECT * EXCLUDE (gross, returned) FROM per WHERE {kept} ORDER BY {ID_COLUMN}").df()
    returns = " and ".join([f"invoices starting with {cfg.cancel_prefix!r}"] * bool(cfg.cancel_prefix)
                           + ["negative quantities"] * cfg.negative_quantity_is_return)
    notes.extend([f"as of {as_of}" + ("" if cfg.as_of else " (the day after the last transaction)"),
                  f"window {cfg.window}: {window}"] + [f"returns ({returns}) netted against purchases"] * bool(returns))
    return LogAggregate(
        customers=customers, columns=cols, as_of=as_of.isoformat(), window_start=start and start.isoformat(),
        window=cfg.window, reconciliation=reconciliation,
        excluded_customers=(Count("net monetary value ≤ 0", int(stats[0])),
                            Count("no purchase in window (returns only)", int(stats[1]))),
        totals={"active_customers": float(stats[2]), "revenue": float(stats[3]), "orders": float(stats[4]),
                "average_order_value": float(stats[5]) / float(stats[4]), "lines_used": float(counts[5]),
                "returned_value": float(stats[6])},
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
    if cfg.as_of:
        try:
            date.fromisoformat(cfg.as_of)
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
        if cfg.threads:
            con.execute(f"SET threads = {int(cfg.threads)}")
        try:
            try:
                return _aggregate(con, path, _sql(path, kind, names, sep, encoding, cols, data, cfg), cols, cfg, notes)
            except duckdb.InvalidInputException as exc:
                # UTF-8 was only guessed from the first 64 KB; a later non-UTF-8 byte means a legacy encoding.
                if "encoding: utf-8" not in notes or "unicode" not in str(exc).lower():
                    raise
                notes[:] = [n for n in notes if not n.startswith("encoding:")] + ["encoding: latin-1"]
                return _aggregate(con, path, _sql(path, kind, names, sep, "latin-1", cols, data, cfg), cols, cfg,
                                  notes)
        except duckdb.Error as exc:
            reason = " ".join(str(exc).split())
            raise DataError(f"{path}: cannot be read ({reason if len(reason) <= 200 else reason[:197] + '...'})") \
                from None
