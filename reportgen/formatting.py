"""Numbers as the reports write them: one module for rules, templates, charts, highlights and portraits.

Every figure a reader sees goes through these functions, so the same value reads the same everywhere: in a rule's
action text, a template, a chart label or a summary sentence. Missing values print as a dash, negative numbers
take the minus sign (U+2212), amounts show cents only below 100.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MISSING = "–"
MINUS = "\u2212"  # the one minus sign of the reports, in text as on the charts' axes
_HYPHEN_MINUS = re.compile(r"(?<![\w.\-])-(?=\.?\d)")  # a hyphen starting a number ("-0.6", "(-2"), not "2012-07"


def typographic_minus(text: str) -> str:
    """``text`` with every negative number's hyphen-minus written as the minus sign (U+2212)."""
    return _HYPHEN_MINUS.sub(MINUS, text) if "-" in text else text


def finite(value: Any) -> float | None:
    """The value as a finite float, or None when it is not a number (bools, text, None, NaN and ±inf)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _missing(value: Any) -> str:
    """What a value that is not a finite number prints as: a dash when missing, text as it is."""
    return MISSING if value is None or isinstance(value, float) else str(value)


def num(value: Any) -> str:
    """Smart number: ``1234567 → 1,234,567``, ``12.0 → 12``, ``12.345 → 12.3``, ``0.1234 → 0.12``."""
    number = finite(value)
    if number is None:
        return _missing(value)
    size = abs(number)
    if number.is_integer() or size >= 100:
        text = f"{number:,.0f}"
    elif size >= 10:
        text = f"{number:,.1f}"
    elif size >= 0.01 or size == 0:
        text = f"{number:.2f}"
    else:
        text = f"{number:.2g}"
    return typographic_minus(text)


def int_fmt(value: Any) -> str:
    """Whole number with thousands separators: ``12345.6 → 12,346``."""
    number = finite(value)
    return _missing(value) if number is None else typographic_minus(f"{round(number):,}")


def pct(value: Any, digits: int = 1) -> str:
    """Share as a percentage: ``0.1234 → 12.3%``."""
    number = finite(value)
    return _missing(value) if number is None else typographic_minus(f"{number * 100:.{digits}f}%")


def pct_short(value: Any) -> str:
    """Share in a sentence: whole percents from 10% (``0.42 → 42%``), one decimal below (``0.034 → 3.4%``)."""
    number = finite(value)
    if number is None:
        return _missing(value)
    return typographic_minus(f"{number:.0%}" if abs(number) >= 0.1 else f"{number:.1%}")


def money(value: Any, currency: str = "$", sign: bool = False) -> str:
    """Amount: ``1234.5 → $1,235``, ``12.5 → $12.50`` (cents only below 100); the sign goes before the symbol,
    ``+`` too when ``sign`` is set."""
    number = finite(value)
    if number is None:
        return _missing(value)
    body = f"{abs(number):,.0f}" if abs(number) >= 100 else f"{abs(number):,.2f}"
    prefix = MINUS if number < 0 else "+" if sign and number > 0 else ""
    return f"{prefix}{currency}{body}"


def signed(value: Any) -> str:
    """A z-score with its sign and unit: ``1.2 → +1.20σ``."""
    number = finite(value)
    if number is None:
        return _missing(value)
    return "0.00σ" if round(number, 2) == 0 else typographic_minus(f"{number:+.2f}σ")


def times(value: Any) -> str:
    """A ratio such as a lift: ``1.43 → 1.4×``."""
    number = finite(value)
    return _missing(value) if number is None else typographic_minus(f"{number:.1f}×")


def filters(currency: str) -> dict[str, Any]:
    """The number filters a template or a rule's action text may use, ``money`` in the report's currency."""
    return {"num": num, "int_fmt": int_fmt, "pct": pct, "signed": signed, "times": times,
            "money": lambda value: money(value, currency)}


def toml_value(value: Any, unset: str | None = None) -> str:
    """A TOML literal for a scalar, list or inline table (what ``init`` writes and the appendix lists).

    TOML has no null: a None is written as ``unset`` when one is given (the appendix's "(unset)"), else refused.
    """
    if value is None and unset is not None:
        return unset
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):  # a TOML basic string: JSON's escapes (\t, \", \\, \uXXXX) are TOML's too
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v, unset) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v, unset)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def toml_key(key: str) -> str:
    """A bare TOML key when possible, else a quoted one."""
    return key if key and key.replace("_", "").replace("-", "").isascii() and \
        key.replace("_", "").replace("-", "").isalnum() else toml_value(key)
