"""Column names read as words: tokens in any naming style, readable labels and the unit kind of each feature.

``MntWines``, ``Total_Trans_Amt``, ``NUM_WEB_VISITS``, ``order.count`` and ``Annual Income ($)`` all become
lower-case word tokens; labels expand the common abbreviations (Num, Mnt, Amt, Avg, Ct, Trx, Bal, Pct, Dt …)
so that the report speaks the reader's words, never the column's. A label from ``features.labels`` wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Unit kinds a feature's values are read in; the formatting of each lives in :mod:`reportgen.describe.plain`.
UNIT_KINDS = ("currency", "days", "months", "years", "count", "share", "percent", "points", "number")

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
# Abbreviation -> words, as they appear in labels (tokens are matched lower-case).
ABBREVIATIONS: dict[str, str] = {
    "num": "number of", "no": "number of", "nb": "number of", "mnt": "amount spent on", "amt": "amount",
    "avg": "average", "ct": "count", "cnt": "count", "trx": "transaction", "txn": "transaction",
    "trans": "transaction", "tran": "transaction", "bal": "balance", "pct": "percent", "perc": "percent",
    "dt": "date", "qty": "quantity", "yr": "year", "yrs": "years", "mon": "months", "mth": "months",
    "mths": "months", "chng": "change", "chg": "change", "cust": "customer", "prod": "product",
    "prods": "products", "cmp": "campaign", "util": "utilization", "tot": "total", "rev": "revenue",
    "acct": "account", "freq": "frequency", "lim": "limit", "cred": "credit", "val": "value", "purch": "purchases",
    "dep": "dependent", "inc": "income", "sal": "salary", "visit": "visit", "tx": "transaction",
}
_KEEP_UPPER = {"q1", "q2", "q3", "q4", "id", "vip", "sms", "atm", "pos", "ltv", "clv", "rfm"}
_UNIT_NOTE = re.compile(r"\s*[\(\[]([^)\]]*)[\)\]]\s*")


def tokens(name: str) -> list[str]:
    """Lower-case word tokens of a column name in any style: ``NumWebVisitsMonth`` → num, web, visits, month."""
    words: list[str] = []
    for part in re.split(r"[^A-Za-z0-9]+", str(name)):
        words += [w.lower() for w in _CAMEL.findall(part)]
    merged: list[str] = []
    for word in words:  # quarters stay one word: Q4, not 'q' '4'
        if word.isdigit() and merged and merged[-1] == "q":
            merged[-1] = "q" + word
        else:
            merged.append(word)
    return merged


def snake(name: object) -> str:
    """Lower case, every run of other characters one ``_``: ``" Annual Income (k$)"`` → ``annual_income_k``."""
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def norm(name: str) -> str:
    """Tokens joined by ``_``: one spelling for every naming style, what role patterns are matched against."""
    return "_".join(tokens(name))


def unit_note(name: str) -> str | None:
    """The unit written in a column name's brackets (``Annual Income (k$)`` → ``k$``), or None."""
    found = _UNIT_NOTE.search(str(name))
    return found.group(1).strip() if found else None


def derived_label(name: str) -> str:
    """A readable label from a column name: words split, abbreviations expanded, sentence case.

    ``Total_Trans_Amt`` → 'Total transaction amount'; ``MntWines`` → 'Amount spent on wines';
    ``Dt_Customer_days`` → 'Days since date customer'; ``Spending Score (1-100)`` → 'Spending score (1-100)'.
    """
    text = str(name)
    note = unit_note(text)
    keep_note = note is not None and re.fullmatch(r"[\d\s\-–/%of]+", note) is not None
    base = _UNIT_NOTE.sub(" ", text).strip() if note is not None else text
    words = tokens(base)
    days = len(words) > 1 and words[-1] == "days" and (words[0] in ("dt", "date") or "date" in words)
    if days:
        words = [w for w in words[:-1] if w not in ("dt", "date")] or ["date"]
    out: list[str] = []
    for i, word in enumerate(words):
        if word.isdigit() and i > 0 and i + 1 < len(words) and words[i + 1] in ("mon", "months", "m", "mth"):
            out.append(f"(last {word}")
            continue
        if out and out[-1].startswith("(last ") and word in ("mon", "months", "m", "mth"):
            out[-1] += " months)"
            continue
        expanded = ABBREVIATIONS.get(word, word)
        expanded = expanded.upper() if word in _KEEP_UPPER else expanded
        if out and expanded == "number of" and i == len(words) - 1:
            expanded = "number"
        out.append(expanded)
    label = " ".join(out) or str(name)
    label = re.sub(r"\bnumber of (\w+) number of\b", r"number of \1", label)
    label = re.sub(r"\b(Q\d) (Q\d)\b", r"\1 vs \2", label)
    label = re.sub(r"^year birth$", "year of birth", label)
    label = re.sub(r"^(number of .+) (month|week|day|year)$", r"\1 per \2", label)
    if days:
        label = f"days since {label}"
    if keep_note:
        label += f" ({note})"
    return label[:1].upper() + label[1:]


_ROLE_LABELS = {"tenure": "Days as a customer"}


def feature_labels(features: list[str], configured: Mapping[str, str], roles: Mapping[str, str]) -> dict[str, str]:
    """A label for every feature: configured, else derived from its name (tenure from a date: 'Days as a customer').

    Labels are made unique: a repeated label gets its column name in brackets.
    """
    role_of = {column: role for role, column in roles.items()}
    labels: dict[str, str] = {}
    for feature in features:
        if feature in configured and str(configured[feature]).strip():
            labels[feature] = str(configured[feature]).strip()
            continue
        role = role_of.get(feature)
        if role in _ROLE_LABELS and feature.endswith("_days"):
            labels[feature] = _ROLE_LABELS[role]
        else:
            labels[feature] = derived_label(feature)
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label.casefold()] = seen.get(label.casefold(), 0) + 1
    return {f: (f"{label} ({f})" if seen[label.casefold()] > 1 and f not in configured else label)
            for f, label in labels.items()}


MONEY_ROLES = ("monetary", "income", "credit_limit", "balance")
_COUNT_ROLES = ("frequency", "web_purchases", "store_purchases", "catalog_purchases", "deal_purchases",
                "web_visits", "campaign_responses", "children", "complaints", "contacts", "products")


def unit_kind(feature: str, role: str | None, flag: bool = False, max_value: float | None = None) -> str:
    """The unit kind of a feature, from its role, its name and (for ratios) its largest value.

    Returns one of :data:`UNIT_KINDS`: money roles are ``currency`` unless named as a score or points;
    recency and tenure in ``days`` or ``months`` (``years``) as the name says; age in ``years``; counts;
    0/1 flags and ratios up to 1 as a ``share``; a rate named as a percent up to 100 as ``percent``.
    """
    words = set(tokens(feature))
    note = (unit_note(feature) or "").lower()
    if flag:
        return "share"
    if words & {"score", "points", "rating", "index"} or re.fullmatch(r"\d+\s*-\s*\d+", note):
        return "points"
    if role in MONEY_ROLES or (role is None and ("$" in note or "€" in note or "£" in note)):
        return "currency"
    monthly = words & {"month", "months", "mon", "mth", "mths"}
    if role in ("recency", "tenure"):
        if feature.endswith("_days") or "days" in words:
            return "days"
        if monthly:
            return "months"
        if words & {"year", "years", "yr", "yrs"}:
            return "years"
        # A bare 'tenure' of at most 120 is months in practice (telecom, banking); longer spans are days.
        return "months" if role == "tenure" and max_value is not None and max_value <= 120 else "days"
    if role in ("age", "experience"):
        return "years"
    if role in _COUNT_ROLES:
        return "count"
    relative = words & {"ratio", "rate", "share", "pct", "percent", "utilization", "util", "chng", "change", "chg",
                        "growth"}
    if role == "utilization" or relative:
        if max_value is not None and max_value <= 1.0:
            return "share"
        if max_value is not None and max_value <= 100 and words & {"pct", "percent"}:
            return "percent"
        return "number"
    if feature.endswith("_days"):
        return "days"
    if words & {"mnt", "amount", "amt", "spend", "spent", "sales", "revenue", "price", "cost", "charges"}:
        return "currency"
    if words & {"ct", "cnt", "count", "num", "number", "size", "kidhome", "teenhome", "visits", "orders"}:
        return "count"
    return "number"
