"""Recognise which column of a transaction log plays which role (customer, invoice, timestamp, amounts, …).

Names set in the ``transactions`` config win. Otherwise a column is taken by its name, first among exact aliases
(ignoring case, spaces, '_' and '-'), then by the words in it (``tran_amount``, ``Order Date``, ``dollar_value``,
``customerUniqueId``), and a money or quantity column must hold numbers in the sample. Each choice comes with
the reason it was made, which ``init`` and the report show.

A table is a log when its customer ids repeat, and it has a date and an amount (or quantity and unit price).
Without an invoice column, an order is a customer's purchases on one day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reportgen.config import TransactionsConfig
from reportgen.errors import DataError

ROLES = ("customer", "invoice", "timestamp", "quantity", "unit_price", "amount", "product", "channel", "country",
         "margin")
_ALIASES = {
    "customer": "customeruniqueid customerid customer customerno customernumber customercode custid custno client "
                "clientid clientno clientnumber userid memberid membernumber buyerid accountid accountnumber "
                "shopperid consumerid",
    "invoice": "invoiceno invoice invoiceid invoicenumber orderid order orderno ordernumber transactionid "
               "transaction transid transno txnid receiptid receiptno receipt basketid billno billid ticketid",
    "timestamp": "invoicedate date timestamp orderdate datetime transactiondate transdate trandate txndate "
                 "purchasedate saledate salesdate orderdatetime orderpurchasetimestamp purchasetimestamp "
                 "invoicedatetime transactiontime billdate paymentdate time createdat",
    "quantity": "quantity qty units quantityordered numberofitems",
    "unit_price": "unitprice price priceeach itemprice priceperunit saleprice sellingprice",
    "amount": "amount linetotal lineamount revenue sales total value tranamount transactionamount txnamount "
              "trxamount amt salesamount saleamount totalamount totalprice totalsales netsales netamount "
              "dollarvalue paymentvalue ordervalue ordertotal orderamount purchaseamount invoiceamount spend "
              "amountpaid itemtotal subtotal totalcost",
    "margin": "profit margin grossprofit grossmargin netprofit profitamount contribution",
    "product": "stockcode sku productid product productcode itemid itemcode item articleid articleno",
    "channel": "channel saleschannel",
    "country": "country countryname",
}
# The same roles as German, French, Spanish, Italian, Portuguese and Dutch exports name them.
_FOREIGN = {
    "customer": "kundennummer kundennr kundenid kunde kundeid numeroclient idclient codeclient client cliente "
                "idcliente codcliente codigocliente numerocliente klant klantnummer klantid",
    "invoice": "rechnungsnummer rechnungsnr belegnummer belegnr bestellnummer bestellnr auftragsnummer "
               "numerofacture facture numerocommande commande factura numerofactura pedido numeropedido fattura "
               "ordine numeroordine notafiscal bestelling factuurnummer",
    "timestamp": "datum rechnungsdatum bestelldatum belegdatum kaufdatum date datefacture datecommande fecha "
                 "fechafactura fechapedido fechaventa datafattura dataordine datavenda datacompra besteldatum",
    "quantity": "menge anzahl stueck stuck quantite cantidad quantita quantidade aantal",
    "unit_price": "einzelpreis stueckpreis preis prixunitaire prix preciounitario precio prezzounitario prezzo "
                  "precounitario preco prijs",
    "amount": "betrag umsatz gesamtbetrag gesamtpreis nettobetrag bruttobetrag montant montantttc montantht total "
              "importe monto importetotal importo valor valortotal bedrag omzet",
    "margin": "gewinn marge deckungsbeitrag beneficio ganancia margen utile lucro winst",
    "product": "artikelnummer artikelnr artikel produit referencia producto articolo produto artikelcode",
    "country": "land pays pais paese",
}
for _role, _names in _FOREIGN.items():
    _ALIASES[_role] += " " + _names
# Words of a name that make it a candidate for a role, and words that rule it out.
_IDISH = {"id", "no", "nr", "num", "number", "code", "key", "ref"}
_WORDS: dict[str, tuple[set[str], set[str], bool]] = {  # role: (words, excluded words, needs an id-like word)
    "customer": ({"customer", "cust", "client", "user", "member", "buyer", "shopper", "consumer", "account",
                  "patron", "subscriber"}, {"name", "type", "segment", "city", "state", "zip", "email"}, True),
    "invoice": ({"invoice", "order", "transaction", "trans", "txn", "receipt", "basket", "bill", "ticket"},
                {"date", "time", "line", "item", "status"}, True),
    "timestamp": ({"date", "time", "timestamp", "datetime", "day", "dt", "ts"},
                  {"ship", "shipped", "shipping", "delivery", "delivered", "due", "birth", "dob", "return",
                   "refund", "update", "updated", "modified", "signup", "join", "joined", "expiry", "expires",
                   "approved", "estimated", "carrier", "first", "last", "limit"}, False),
    "quantity": ({"quantity", "qty", "units", "pieces", "pcs"}, {"price", "amount", "value"}, False),
    "unit_price": ({"price"}, {"total", "sum", "line", "amount", "list", "cost"}, False),
    "amount": ({"amount", "amt", "sales", "revenue", "value", "total", "spend", "spent", "payment", "paid",
                "turnover", "subtotal", "gmv"},
               {"quantity", "qty", "count", "id", "no", "number", "discount", "tax", "vat", "profit", "margin",
                "cost", "date", "time", "rate", "pct", "percent", "shipping", "freight", "points", "units",
                "installments", "sequential", "type"}, False),
    "margin": ({"profit", "margin"}, {"rate", "pct", "percent", "ratio"}, False),
    "product": ({"product", "sku", "stock", "item", "article"}, {"name", "description", "category", "desc"},
                True),
}
_MEANING = {"customer": "a customer id", "invoice": "an invoice or order id", "timestamp": "the date of a line",
            "quantity": "a quantity", "unit_price": "a unit price", "amount": "a line amount",
            "margin": "a profit or margin", "product": "a product code", "channel": "a sales channel",
            "country": "a country"}
_NUMERIC_ROLES = ("quantity", "unit_price", "amount", "margin")
_NUMBER = re.compile(r"\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*")
# Money as people type it: a currency sign, thousands separators, a negative in parentheses ($1,234.50, (12.00) €).
_MONEY = re.compile(r"\s*\(?\s*[-+]?\s*[$€£¥₹]?\s*[-+]?(\d{1,3}([,. \u00a0']\d{3})+|\d+)([.,]\d+)?\s*[$€£¥₹]?\s*\)?\s*")
MIN_REPEATED = 0.01  # share of sampled lines whose customer id occurs on an earlier line, for a log


@dataclass(frozen=True)
class LogColumns:
    """Which column of the log plays each role; optional roles are None when the log has no such column."""

    customer: str
    invoice: str | None
    timestamp: str
    quantity: str | None = None
    unit_price: str | None = None
    amount: str | None = None
    product: str | None = None
    channel: str | None = None
    country: str | None = None
    margin: str | None = None


def _squash(name: str) -> str:
    """The name without case and separators (``Customer ID`` → ``customerid``), for matching known spellings."""
    return re.sub(r"[\s_\-./()]", "", name.lower())


def words(name: str) -> list[str]:
    """The words of a column name: ``customerUniqueId`` and ``Customer_Unique ID`` give customer, unique, id."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def _numeric(sample: pd.DataFrame | None, column: str) -> tuple[bool, int]:
    """Whether the sampled cells of ``column`` are numbers (95% of the non-blank ones), and how many there are."""
    if sample is None or column not in sample:
        return True, 0
    cells = sample[column].dropna().astype(str)
    cells = cells[cells.str.strip() != ""]
    if cells.empty:
        return True, 0
    return bool((cells.str.fullmatch(_NUMBER) | cells.str.fullmatch(_MONEY)).mean() >= 0.95), len(cells)


def formatted_money(sample: pd.DataFrame, column: str) -> bool:
    """Whether sampled cells of a money column carry currency signs, thousands separators or parentheses, so that
    they must be cleaned before they are read as numbers."""
    if column not in sample:
        return False
    cells = sample[column].dropna().astype(str)
    return bool((~cells.str.fullmatch(_NUMBER) & cells.str.fullmatch(_MONEY)).any())


def _by_words(role: str, column: str) -> bool:
    wanted, excluded, idish = _WORDS[role]
    found = set(words(column))
    if not found & wanted or found & excluded:
        return False
    return not idish or bool(found & _IDISH) or found <= wanted


def _roles(columns: list[str], cfg: TransactionsConfig,
           sample: pd.DataFrame | None = None) -> tuple[dict[str, str | None], dict[str, str]]:
    """Column of each role (None if not found) and why each was taken."""
    by_norm: dict[str, str] = {}
    for column in columns:
        by_norm.setdefault(_squash(column), column)
    found: dict[str, str | None] = {}
    why: dict[str, str] = {}
    taken: set[str] = set()

    def usable(role: str, column: str) -> bool:
        return column not in taken and (role not in _NUMERIC_ROLES or _numeric(sample, column)[0])

    if sample is not None and columns and all(re.fullmatch(r"column_\d+", c) for c in columns):
        found, why = _value_roles(columns, sample)
        for role in ROLES:  # configured names still win
            if getattr(cfg, role) is not None:
                found[role] = getattr(cfg, role) if getattr(cfg, role) in columns else None
                why[role] = f"set by transactions.{role}"
        return found, why
    for role in ROLES:
        explicit = getattr(cfg, role)
        if explicit is not None:
            found[role] = explicit if explicit in columns else by_norm.get(_squash(explicit))
            why[role] = f"set by transactions.{role}"
        elif role == "amount" and found["quantity"] and found["unit_price"]:
            found[role] = None  # quantity × unit price is the line amount; a 'total' column may be anything
        else:
            exact = next((by_norm[a] for a in _ALIASES.get(role, "").split() if a in by_norm
                          and usable(role, by_norm[a])), None)
            fuzzy = None if exact or role not in _WORDS else next(
                (c for c in columns if _by_words(role, c) and usable(role, c)), None)
            found[role] = exact or fuzzy
            if found[role]:
                kind = "a common name for" if exact else "its name's words say"
                numbers = ", and it holds numbers" if role in _NUMERIC_ROLES and sample is not None else ""
                why[role] = f"{kind} {_MEANING[role]}{numbers}"
        if found[role]:
            taken.add(found[role])  # type: ignore[arg-type]
    if not found["customer"] and not cfg.customer:
        # No id column: a customer's name is what tells customers apart (the 'Customer_Name' of some exports).
        named = next((c for c in columns if c not in taken and "name" in words(c)
                      and set(words(c)) & _WORDS["customer"][0]), None)
        if named:
            found["customer"], why["customer"] = named, "no customer id column; the customer's name tells them apart"
    if not found["amount"] and found["unit_price"] and not found["quantity"] and not cfg.unit_price:
        # A price without a quantity is what each line (one order or one item) cost: its amount.
        found["amount"], found["unit_price"] = found["unit_price"], None
        why["amount"] = why.pop("unit_price") + "; with no quantity column it is the line amount"
    return found, why


def _value_roles(columns: list[str], sample: pd.DataFrame) -> tuple[dict[str, str | None], dict[str, str]]:
    """Roles of a log without a header line, from the values: a date column (YYYYMMDD integers or dates with
    separators), the customer id (the first other column whose values repeat), a line amount (the numbers with
    decimals, else the last number column) and a quantity (a column of whole numbers left over)."""
    found: dict[str, str | None] = dict.fromkeys(ROLES)
    why: dict[str, str] = {}
    cells = {c: sample[c].dropna().astype(str).str.strip() for c in columns}
    dates = [c for c in columns if len(cells[c]) and (
        cells[c].str.fullmatch(r"(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])").all()
        or cells[c].str.fullmatch(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}( \d{1,2}:\d\d(:\d\d)?)?").all())]
    if dates:
        found["timestamp"], why["timestamp"] = dates[0], "no header: its values are dates"
    rest = [c for c in columns if c not in dates]
    ids = [c for c in rest if len(cells[c]) and cells[c].duplicated().mean() >= MIN_REPEATED
           and not cells[c].str.contains(r"[.,]\d", regex=True).any()]
    if ids:
        found["customer"], why["customer"] = ids[0], "no header: the first column of ids that repeat"
    numbers = [c for c in rest if c != found["customer"] and len(cells[c]) and cells[c].str.fullmatch(_NUMBER).all()]
    decimals = [c for c in numbers if cells[c].str.contains(r"[.,]\d", regex=True).any()]
    amount = (decimals or numbers or [None])[-1]
    if amount:
        found["amount"], why["amount"] = amount, "no header: " + (
            "the last column of numbers with decimals" if decimals else "the last column of numbers")
        whole = [c for c in numbers if c != amount and c not in decimals]
        if whole:
            found["quantity"], why["quantity"] = whole[0], "no header: a column of whole numbers"
    return found, why


def describe_roles(cols: LogColumns, why: dict[str, str]) -> list[str]:
    """One line per role of the log: the column taken and why, and how orders are counted."""
    lines = [f"{role}: column {column!r} ({why.get(role, 'recognised')})" for role, column in vars(cols).items()
             if column]
    if cols.quantity and cols.unit_price and not cols.amount:
        lines.append(f"line amount = {cols.quantity!r} × {cols.unit_price!r}")
    if not cols.invoice:
        lines.append("no invoice or order id column: an order is a customer's purchases on one day")
    return lines


def detect_log_columns(columns: list[str], cfg: TransactionsConfig,
                       sample: pd.DataFrame | None = None) -> LogColumns | None:
    """Map a log's columns to roles (explicit ``cfg`` names win), or None when it does not look like a log.

    Returns
    -------
    LogColumns | None
        None unless a customer and a timestamp column and either quantity + unit price or an amount column are
        found, and, given a ``sample``, the customer ids repeat (:data:`MIN_REPEATED` of the sampled lines) or
        the log has an invoice column as well. An amount column is only looked for by name when quantity and
        unit price are not.
    """
    found, _ = _roles(columns, cfg, sample)
    priced = found["amount"] or (found["quantity"] and found["unit_price"])
    if not (found["customer"] and found["timestamp"] and priced):
        return None
    if sample is not None and not found["invoice"] and repeated_share(sample, found["customer"]) < MIN_REPEATED:
        return None
    return LogColumns(**found)  # type: ignore[arg-type]  # the required roles are all set here


def repeated_share(sample: pd.DataFrame, column: str) -> float:
    """Share of the sampled lines with a customer id that an earlier sampled line has too."""
    ids = sample[column].dropna() if column in sample else pd.Series(dtype=object)
    return float(ids.duplicated().mean()) if len(ids) else 0.0


def require_log_columns(path: Path, names: list[str], cfg: TransactionsConfig,
                        sample: pd.DataFrame | None = None) -> tuple[LogColumns, dict[str, str]]:
    """Map a log's columns to roles as :func:`detect_log_columns` does, but say what is missing, and why each was
    taken.

    Raises
    ------
    DataError
        Naming the configured columns not in the file, or else the roles no column was found for, with the
        columns the file has.
    """
    found, why = _roles(names, cfg, sample)
    lacking = [f"'{getattr(cfg, r)}' (transactions.{r})" for r in ROLES if getattr(cfg, r) and not found[r]]
    if not lacking:
        lacking = [f"{r} (transactions.{r})" for r in ("customer", "timestamp") if not found[r]]
        lacking += [] if found["amount"] or (found["quantity"] and found["unit_price"]) else \
            ["quantity + unit_price or amount (transactions.amount)"]
    if lacking:
        shown = ", ".join(map(repr, names[:40])) + (", …" if len(names) > 40 else "")
        raise DataError(f"{path}: no column found for {', '.join(lacking)}; columns found: {shown}")
    for role in _NUMERIC_ROLES:
        if found[role] and sample is not None and not _numeric(sample, found[role])[0]:
            raise DataError(f"{path}: column {found[role]!r} (transactions.{role}) does not hold numbers, e.g. "
                            f"{sample[found[role]].dropna().iloc[0]!r}")
    return LogColumns(**found), why  # type: ignore[arg-type]
