"""Turn a transaction log (one row per invoice line) into one row per customer with RFM-style features.

DuckDB reads the CSV (optionally gzipped) or Parquet file itself and does all the work out of core, within
``transactions.memory_limit``; only the per-customer table comes back to pandas. Every excluded line is
counted once, by the first rule that excludes it, so raw rows − exclusions = lines used.
"""

from __future__ import annotations

import csv
import gzip
import re
import tempfile
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from reportgen.config import DataConfig, TransactionsConfig
from reportgen.errors import ConfigError, DataError
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
_ENCODINGS = {"utf8": "utf-8", "utf8sig": "utf-8", "utf16": "utf-16", "utf16le": "utf-16", "latin1": "latin-1",
              "iso88591": "latin-1", "cp1252": "latin-1", "windows1252": "latin-1"}
_RULES = ("outside the window", "exact duplicate rows", "missing customer id", "non-product codes",
          "zero or negative unit price")


@dataclass(frozen=True)
class LogColumns:
    """Which column of the log plays each role (optional roles are None when absent)."""

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
        found[role] = explicit if explicit is None or explicit in columns else by_norm.get(_norm(explicit))
        if explicit is None and not (role == "amount" and found["quantity"] and found["unit_price"]):
            found[role] = next((by_norm[a] for a in _ALIASES[role].split() if a in by_norm), None)
    return found


def detect_log_columns(columns: list[str], cfg: TransactionsConfig) -> LogColumns | None:
    """Map the log's columns to roles by name (case, space and underscore insensitive); explicit ``cfg`` wins.

    Returns None unless a customer, invoice and timestamp column and either quantity + unit price or an
    amount column are all found. An amount column is only looked for when quantity and unit price are not.
    """
    found = _roles(columns, cfg)
    if not (found["customer"] and found["invoice"] and found["timestamp"]):
        return None
    if not (found["amount"] or (found["quantity"] and found["unit_price"])):
        return None
    return LogColumns(**found)  # type: ignore[arg-type]


def _kind(path: Path) -> str:
    if not path.is_file():
        raise DataError(f"{path}: is a directory, not a file" if path.is_dir() else f"input file not found: {path}")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic == b"PAR1" or path.suffix.lower() in (".parquet", ".pq"):
        return "parquet"
    if magic.startswith(b"PK") or path.suffix.lower() in (".xlsx", ".xls"):
        raise DataError(f"{path}: a transaction log must be CSV/TSV (optionally .gz) or Parquet, not Excel")
    return "gzip" if magic[:2] == b"\x1f\x8b" else "text"


def _header(path: Path, data: DataConfig, notes: list[str]) -> tuple[str, list[str], str, str]:
    """Format, column names, separator and DuckDB encoding, from the schema or the first 64 KB of the file."""
    kind = _kind(path)
    if kind == "parquet":
        try:
            return kind, pq.read_schema(path).names, "", ""
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"{path}: cannot be read as Parquet ({' '.join(str(exc).split())[:160]})") from None
    try:
        with gzip.open(path, "rb") if kind == "gzip" else path.open("rb") as handle:
            raw = handle.read(65536)
    except (OSError, EOFError, zlib.error):
        raise DataError(f"{path}: the file is not a valid gzip archive (truncated or corrupt)") from None
    wanted = _ENCODINGS.get(re.sub(r"[\s_\-]", "", (data.encoding or "").lower()))
    if data.encoding and wanted is None:
        raise ConfigError(f"Config value 'data.encoding': a transaction log is read as UTF-8, UTF-16 or latin-1 "
                          f"but received {data.encoding!r}")
    encoding = wanted or ("utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8")
    text = raw.decode("utf-16" if encoding == "utf-16" else encoding, errors="replace" if wanted else "strict") \
        if encoding != "utf-8" or wanted else _utf8_or_latin1(raw, notes)
    encoding = "latin-1" if "encoding: latin-1" in notes else encoding
    lines = [line for line in text.lstrip("\ufeff").splitlines()[:50] if line.strip()][:-1 or None]
    if not lines:
        raise DataError(f"{path}: the file is empty")
    sep = "\t" if (data.sep or "").lower() in ("tab", "\\t") else data.sep or _sniff(lines)
    names = [n.strip() or f"column_{i}" for i, n in enumerate(next(csv.reader(lines[:1], delimiter=sep)), 1)]
    if len(set(names)) < len(names):
        raise DataError(f"{path}: duplicate column names in the header; column names must be unique")
    return kind, names, sep, encoding


def _utf8_or_latin1(raw: bytes, notes: list[str]) -> str:
    try:
        return raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 3:  # a character cut by the 64 KB boundary, not bad bytes
            return raw[: exc.start].decode("utf-8")
        notes.append("encoding: latin-1 (not UTF-8)")
        return raw.decode("latin-1")


def _sniff(lines: list[str]) -> str:
    """The separator that splits every sampled line into the same number of fields, preferring more fields."""
    bare = [re.sub(r'"[^"]*"', "", line) for line in lines]
    scores = {sep: (len({line.count(sep) for line in bare}) == 1, bare[0].count(sep)) for sep in ",;\t|"}
    best = max(scores, key=lambda sep: scores[sep])
    return best if scores[best][1] else ","


def looks_like_log(path: Path, data: DataConfig, cfg: TransactionsConfig) -> bool:
    """Whether ``path`` is a transaction log: ``data.input`` when set, else its header names (cheap)."""
    if data.input != "auto":
        return data.input == "transactions"
    try:
        return detect_log_columns(_header(Path(path), data, [])[1], cfg) is not None
    except (DataError, ConfigError):
        return False
