"""Recognise which column of a transaction log plays which role (customer, invoice, timestamp, amounts, …).

Columns are matched by name, ignoring case, spaces, '_' and '-', against common aliases; names set in the
``transactions`` config win over the aliases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from reportgen.config import TransactionsConfig
from reportgen.errors import DataError

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


def require_log_columns(path: Path, names: list[str], cfg: TransactionsConfig) -> LogColumns:
    """Map a log's columns to roles as :func:`detect_log_columns` does, but say what is missing.

    Raises
    ------
    DataError
        Naming the configured columns not in the file, or else the roles no column was found for, with the
        columns the file has.
    """
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
