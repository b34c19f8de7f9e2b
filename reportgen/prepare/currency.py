"""The currency the data's amounts are in, where the data says it: a currency column, symbols in the values, or
the country most customers are in.

Used when ``report.currency`` is not set; the report states which currency it used and why, and ``reportgen init``
writes the suggestion into the config it drafts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from reportgen.prepare.colnames import snake

if TYPE_CHECKING:
    from reportgen.config import Config
    from reportgen.result import DataQuality

SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "JPY": "¥", "CNY": "¥", "INR": "₹", "KRW": "₩", "BRL": "R$",
           "CAD": "C$", "AUD": "A$", "NZD": "NZ$", "CHF": "CHF ", "SEK": "SEK ", "NOK": "NOK ", "DKK": "DKK ",
           "PLN": "zł ", "CZK": "CZK ", "HUF": "HUF ", "RUB": "₽", "TRY": "₺", "ILS": "₪", "ZAR": "R ", "MXN": "MX$",
           "SGD": "S$", "HKD": "HK$", "AED": "AED ", "SAR": "SAR ", "THB": "฿", "PHP": "₱", "NGN": "₦", "VND": "₫",
           "IDR": "Rp ", "MYR": "RM "}
_EURO = ["austria", "belgium", "croatia", "cyprus", "estonia", "finland", "france", "germany", "greece", "ireland",
         "eire", "italy", "latvia", "lithuania", "luxembourg", "malta", "netherlands", "portugal", "slovakia",
         "slovenia", "spain"]
COUNTRIES = {**{name: "EUR" for name in _EURO},
             "united kingdom": "GBP", "uk": "GBP", "great britain": "GBP", "england": "GBP", "scotland": "GBP",
             "wales": "GBP", "northern ireland": "GBP", "channel islands": "GBP", "united states": "USD",
             "united states of america": "USD", "usa": "USD", "us": "USD", "japan": "JPY", "china": "CNY",
             "india": "INR", "south korea": "KRW", "korea": "KRW", "brazil": "BRL", "canada": "CAD",
             "australia": "AUD", "new zealand": "NZD", "switzerland": "CHF", "sweden": "SEK", "norway": "NOK",
             "denmark": "DKK", "poland": "PLN", "czech republic": "CZK", "czechia": "CZK", "hungary": "HUF",
             "russia": "RUB", "turkey": "TRY", "israel": "ILS", "south africa": "ZAR", "rsa": "ZAR", "mexico": "MXN",
             "singapore": "SGD", "hong kong": "HKD", "united arab emirates": "AED", "uae": "AED",
             "saudi arabia": "SAR", "thailand": "THB", "philippines": "PHP", "nigeria": "NGN", "vietnam": "VND",
             "indonesia": "IDR", "malaysia": "MYR",
             # ISO 3166 alpha-2 codes, as logs often write them
             "gb": "GBP", "de": "EUR", "fr": "EUR", "es": "EUR", "it": "EUR", "nl": "EUR", "be": "EUR", "at": "EUR",
             "ie": "EUR", "pt": "EUR", "fi": "EUR", "jp": "JPY", "cn": "CNY", "in": "INR", "br": "BRL", "ca": "CAD",
             "au": "AUD", "ch": "CHF", "se": "SEK", "no": "NOK", "dk": "DKK", "pl": "PLN", "mx": "MXN"}
_MARKS = {"$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY", "₹": "INR"}
_SYMBOL_IN_VALUE = re.compile(r"^\s*[-+]?\s*([$£€¥₹])|([$£€¥₹])\s*$")
_SYMBOL_IN_NAME = re.compile(r"[(\[]\s*(?:k|m|000s?)?\s*([$£€¥₹]|usd|gbp|eur|jpy|inr)\s*[)\]]", re.IGNORECASE)
_CURRENCY_NAME = re.compile(r"(^|[^a-z])(currency|curr|ccy|currency_?code)$")
_COUNTRY_NAME = re.compile(r"(^|[^a-z])country($|[^a-z])|^(main_?)?country")
MIN_SHARE = 0.9  # a currency column or the symbols in values must agree this often
MIN_COUNTRY_SHARE = 0.5  # most customers in one country
SAMPLE = 20_000  # rows looked at per column


@dataclass(frozen=True)
class CurrencyGuess:
    """The currency found and the evidence, as the report states it."""

    code: str
    symbol: str
    evidence: str


def _top(values: pd.Series) -> tuple[str, float] | None:
    counts = values.dropna().astype(str).str.strip().value_counts()
    return (str(counts.index[0]), float(counts.iloc[0] / counts.sum())) if len(counts) else None


def infer_currency(frame: pd.DataFrame) -> CurrencyGuess | None:
    """The currency of ``frame``'s amounts (raw text as read, before numbers are parsed), or None if it does not say.

    A column named like ``currency`` holding ISO codes or symbols comes first, then currency symbols written in the
    values of a column (``£12.50``), then the country most customers (rows) are in.
    """
    head = frame.iloc[:SAMPLE]
    for column in head.columns:
        if _CURRENCY_NAME.search(snake(column)) and (top := _top(head[column])) and top[1] >= MIN_SHARE:
            code = top[0].upper() if top[0].upper() in SYMBOLS else _MARKS.get(top[0])
            if code:
                return CurrencyGuess(code, SYMBOLS[code], f"the {column} column, {top[1]:.0%} {top[0]}")
    for column in head.columns:
        values = head[column]
        if values.dtype != object and not pd.api.types.is_string_dtype(values):
            continue
        marks = values.dropna().astype(str).str.extract(_SYMBOL_IN_VALUE)
        found = marks[0].fillna(marks[1]).dropna()
        if len(found) >= max(1, 0.5 * values.notna().sum()) and (top := _top(found)) and top[1] >= MIN_SHARE:
            code = _MARKS[top[0]]
            return CurrencyGuess(code, SYMBOLS[code], f"the {top[0]} sign in the {column} values")
    for column in head.columns:
        if (match := _SYMBOL_IN_NAME.search(str(column))) and (code := _MARKS.get(match[1]) or match[1].upper()) \
                in SYMBOLS:
            return CurrencyGuess(code, SYMBOLS[code], f"the column name {column}")
    for column in head.columns:
        if _COUNTRY_NAME.search(snake(column)) and (top := _top(head[column])) and top[1] >= MIN_COUNTRY_SHARE:
            code = COUNTRIES.get(top[0].lower())
            if code:
                return CurrencyGuess(code, SYMBOLS[code], f"the {column} column, {top[1]:.0%} {top[0]}")
    return None


def settle_currency(config: Config, quality: DataQuality) -> tuple[Config, str]:
    """The config with ``report.currency`` settled (set, else the data's own, else $) and where it came from."""
    if config.report.currency is not None:
        return config, "set in the configuration"
    symbol, source = (quality.currency[1], f"from {quality.currency[2]}") if quality.currency else ("$", "the default")
    return config.model_copy(update={"report": config.report.model_copy(update={"currency": symbol})}), source
