"""Infer what each column is: the id, numeric features, categoricals, dates, and what to ignore (and why).

Zero-config must work on any customer table, so every decision here is made from names and values alone and
every ignored column comes back with its reason. The config can pin any of it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reportgen.config import FeaturesConfig
from reportgen.errors import ConfigError
from reportgen.inputs.files import LONG_ID_DIGITS
from reportgen.prepare.colnames import snake

_ID_NAME = re.compile(r"(^|[^a-z])(id|key|no|number|code)$"
                      r"|^(customer|client|user|member|account)[ _]?(id|no|number|key|code)?$")
# Names that can only mean the customer id, strict enough to trust even when a few ids are blank or repeated.
_CUSTOMER_ID_NAME = re.compile(r"(^|_)id$|^(customer|client|user|member|account)_?(id|no|number|key|code)?$")
# Names of whole numbers that label rather than measure: store_id, order_no, zip_code, CustomerNumber.
_CODE_NAME = re.compile(r"(^|_)(id|no|number|key|code)$"
                        r"|^(customer|client|user|member|account)_?(id|no|number|key|code)$")
_LONG_ID = re.compile(rf"\d{{{LONG_ID_DIGITS},}}")
_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d-%m-%Y", "%d/%m/%Y", "%m/%d/%Y",
                 "%Y/%m/%d", "%d.%m.%Y", "%m-%d-%Y", "%Y%m%d")
_NUMERIC_TEXT = re.compile(r"^\s*[-+]?[$€£¥]?\s*[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?\s*%?\s*$")


@dataclass(frozen=True)
class Schema:
    """What each column of the input is for."""

    id_column: str | None
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    dates: tuple[tuple[str, str], ...]  # (column, strftime format)
    ignored: tuple[tuple[str, str], ...]  # (column, reason)
    id_unique: bool = False  # the id column was checked complete and unique: nothing for deduplication to do


def date_format(values: pd.Series, preferred: str | None = None) -> str | None:
    """The strftime format that parses (nearly) all of ``values``, or None when it is not a date column."""
    sample = values.dropna().astype(str).str.strip()
    sample = sample[sample != ""].head(500)
    if sample.empty or not sample.str.contains(r"\d", regex=True).all():
        return None
    for fmt in ((preferred,) if preferred else _DATE_FORMATS):
        parsed = pd.to_datetime(sample, format=fmt, errors="coerce")
        if parsed.notna().mean() >= 0.95:
            return fmt
    return None


def numeric_text(values: pd.Series) -> pd.Series | None:
    """Text such as ``1,234``, ``$5`` or ``12%`` as numbers, or None when the column is not numeric text."""
    text = values.dropna()
    if len(text) > 2000:  # a seeded sample settles most text columns (names, ids) before the full scan
        probe = text.sample(1000, random_state=0).astype(str)
        if probe.str.match(_NUMERIC_TEXT).mean() < 0.9:
            return None
    text = text.astype(str)
    if text.empty or text.str.match(_NUMERIC_TEXT).mean() < 0.98:
        return None
    if text.str.fullmatch(_LONG_ID).any():  # ids the loader kept as text: as numbers they would lose digits
        return None
    cleaned = values.astype("string").str.replace(r"[\s$€£¥,%]", "", regex=True)
    # From a nullable string column pandas makes nullable Int64, which refuses the median or mean imputed later.
    return pd.to_numeric(cleaned, errors="coerce").astype("float64")


def _is_id_like(series: pd.Series, name: str) -> bool:
    non_null = series.dropna()
    # A repeat among the first rows settles most feature columns without hashing the whole column.
    if len(non_null) < len(series) or non_null.iloc[:2000].duplicated().any() or non_null.nunique() < len(series):
        return False
    if _ID_NAME.search(snake(name)):
        return True
    if pd.api.types.is_integer_dtype(series):
        ordered = np.sort(non_null.to_numpy())
        return bool(len(ordered) > 1 and (np.diff(ordered) == 1).all())
    return False


def _is_dirty_id(series: pd.Series, name: str) -> bool:
    """A column named as the customer id whose few blank or repeated values cleaning drops and counts.

    Without this, one repeated id in a monthly export would demote the id column to ignored text, and the
    duplicates would be segmented silently as separate customers.
    """
    if not _CUSTOMER_ID_NAME.search(snake(name)) or pd.api.types.is_bool_dtype(series):
        return False
    non_null = series.dropna()
    if pd.api.types.is_float_dtype(series) and not (non_null == non_null.round()).all():
        return False
    return len(non_null) > 0 and len(series) - non_null.nunique() <= max(1, len(series) // 10)


def _identifier_numbers(non_null: pd.Series, name: str) -> str | None:
    """Why whole numbers that are not unique still are no measure to segment on, or None.

    Numbers beyond 2**53 (16 digits and more) are identifiers that a float could not even hold exactly, and a
    column named like an id or a code (``store_id``, ``customer_no``, ``zip_code``) labels things, it does not
    measure them.
    """
    if pd.api.types.is_bool_dtype(non_null):
        return None
    values = non_null.to_numpy(dtype=float)
    if not np.array_equal(values, np.round(values)):
        return None
    if 2 ** 53 < np.abs(values).max() < 1e20:  # larger still is overflow garbage, which cleaning deals with
        return "numbers of 16 digits or more: identifiers, not measures (and beyond exact floating point)"
    if _CODE_NAME.search(snake(name)):
        return ("named like an identifier or code, not a measure (list it in features.categorical or "
                "features.numeric to use it)")
    return None


def _classify(series: pd.Series, name: str, features: FeaturesConfig) -> tuple[str, str]:
    """Return (kind, reason) for one column: kind is numeric | categorical | date | ignored."""
    n = len(series)
    non_null = series.dropna()
    if non_null.empty:
        return "ignored", "all values missing"
    numeric = pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series)
    # Numbers are constant when every value equals the first: no need to count distinct values.
    uniques = (1 if (non_null == non_null.iloc[0]).all() else 2) if numeric else non_null.nunique()
    if uniques == 1:
        value = non_null.iloc[0]
        return "ignored", f"constant (always {value.item() if hasattr(value, 'item') else value!r})"
    if numeric:
        if _is_id_like(series, name):
            return "ignored", "ID-like (unique per row)"
        if reason := _identifier_numbers(non_null, name):
            return "ignored", reason
        return "numeric", ""
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date", ""
    if non_null.astype(str).str.fullmatch(_LONG_ID).all():
        return "ignored", (f"ids of 16+ digits that repeat ({uniques:,} distinct in {n:,} rows); spreadsheets keep "
                           "15 significant digits, so longer numbers saved from one collide")
    if uniques == n or (uniques > features.max_categories and uniques >= 0.9 * n):
        return "ignored", f"near-unique text ({uniques:,} distinct values in {n:,} rows)"
    if uniques <= features.max_categories:
        return "categorical", ""
    return "ignored", f"too many categories ({uniques:,} > max_categories {features.max_categories})"


def infer_schema(frame: pd.DataFrame, features: FeaturesConfig, id_column: str | None = None,
                 date_formats: dict[str, str] | None = None, required: set[str] | None = None,
                 virtual: set[str] | None = None) -> Schema:
    """Decide the role of every column; explicit config choices win over inference.

    ``frame`` is modified in place where text columns turn out to hold numbers (``1,234``, ``$5``, ``12%``).
    ``required`` lists columns derived features or roles need, so they are kept even when they'd be ignored;
    ``virtual`` names features that do not exist yet (derived, ``<date>_days``) but may be listed.
    """
    date_formats = date_formats or {}
    known = set(frame.columns) | (virtual or set()) | {f"{c}_days" for c in frame.columns}
    if problems := _config_problems(frame, features, id_column, date_formats, known):
        raise ConfigError(problems)
    id_unique = False
    if id_column is None:
        id_column = next((c for c in frame.columns if _ID_NAME.search(snake(c)) and _is_id_like(frame[c], c)), None)
        id_unique = id_column is not None
    if id_column is None:
        id_column = next((c for c in frame.columns if _is_dirty_id(frame[c], c)), None)
    numeric, categorical, dates, ignored, mismatched = [], [], [], [], []
    for column in frame.columns:
        if column == id_column:
            continue
        if column in features.exclude:
            ignored.append((column, "excluded in config"))
            continue
        series = frame[column]
        if not pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_datetime64_any_dtype(series):
            fmt = date_format(series, date_formats.get(column))
            if fmt is not None:
                dates.append((column, fmt))
                continue
            # An export whose date format changed must not lose the column to "text" silently.
            if column in date_formats and (problem := _format_mismatch(series, column, date_formats[column])):
                mismatched.append(problem)
                continue
            converted = numeric_text(series)
            if converted is not None:
                frame[column] = converted
                series = converted
        kind, reason = _classify(series, column, features)
        if column in (features.numeric or []) or (kind == "ignored" and column in (required or set())
                                                   and pd.api.types.is_numeric_dtype(series)):
            kind = "numeric"
        elif column in (features.categorical or []):
            kind = "categorical"
        elif features.numeric is not None and kind == "numeric":
            kind, reason = "ignored", "not listed in features.numeric"
        elif features.categorical is not None and kind == "categorical":
            kind, reason = "ignored", "not listed in features.categorical"
        if kind == "date":
            dates.append((column, ""))
        elif kind == "numeric":
            numeric.append(column)
        elif kind == "categorical":
            categorical.append(column)
        else:
            ignored.append((column, reason))
    if mismatched:
        raise ConfigError(mismatched)
    return Schema(id_column, tuple(numeric), tuple(categorical), tuple(dates), tuple(ignored), id_unique)


def missing_columns(key: str, named: Iterable[str | None], known: Collection[str],
                    present: Sequence[str]) -> list[str]:
    """A problem for each column named under config ``key`` that is not ``known``, with the closest of
    ``present`` (the data's columns) as a hint."""
    problems = []
    for column in (c for c in named if c is not None and c not in known):
        hint = difflib.get_close_matches(str(column), list(present), n=1)
        problems.append(f"Config value '{key}': column {column!r} named in the config is not in the data"
                        + (f" (did you mean {hint[0]!r}?)" if hint else ""))
    return problems


def date_format_problems(date_formats: dict[str, str]) -> list[str]:
    """A problem for each ``data.date_formats`` entry that is not a strftime format pandas accepts."""
    problems = []
    for column, fmt in date_formats.items():
        try:
            pd.to_datetime(pd.Series(["2000-01-01"]), format=fmt, errors="coerce")
        except ValueError as exc:
            problems.append(f"Config value 'data.date_formats.{column}': not a date format ({exc}) but received "
                            f"{fmt!r}")
    return problems


def _config_problems(frame: pd.DataFrame, features: FeaturesConfig, id_column: str | None,
                     date_formats: dict[str, str], known: set[str]) -> list[str]:
    """Every column the config names that the data lacks (with the closest column), and every date format that
    is not one, each with its key."""
    present = [str(c) for c in frame.columns]
    named = {"data.id_column": [id_column], "features.numeric": features.numeric or [],
             "features.categorical": features.categorical or [], "data.date_formats": list(date_formats)}
    problems = [problem for key, columns in named.items() for problem in missing_columns(key, columns, known, present)]
    return problems + date_format_problems(date_formats)


def _format_mismatch(series: pd.Series, column: str, fmt: str) -> str | None:
    """The problem line for a configured date format that fails on some of the column's values, else None."""
    text = series.dropna().astype(str).str.strip()
    text = text[text != ""]
    failed = text[pd.to_datetime(text, format=fmt, errors="coerce").isna()]
    if failed.empty:
        return None
    return (f"Config value 'data.date_formats.{column}': {fmt!r} does not parse {len(failed):,} of the "
            f"{len(text):,} values (e.g. {failed.iloc[0]!r})")
