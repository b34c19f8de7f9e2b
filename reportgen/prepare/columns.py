"""What the values of an unseen table's columns mean, beyond their type.

- coded categories: whole numbers with a few levels named like a code (``Region`` 1/2/3, ``Channel``) are
  categories, not measures;
- 0/1 flags: measures whose mean is a share of customers;
- sentinel values (-1, 999, 9999 for "never", "not contacted") are missing values, not extremes;
- leaks: a model's output (scores, probabilities, predicted labels, named as such) or the outcome being
  explained (churn, attrition, target) says what the segments would be, so it is no trait to segment on;
- near-duplicates: a column that is another one scaled, or the sum or difference of two others, adds nothing.

Every finding carries the sentence the report and ``init`` show for it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from reportgen.prepare.colnames import derived_label, norm, tokens

_CODE_WORDS = {"region", "code", "zone", "area", "channel", "segment", "type", "class", "category", "group",
               "cluster", "status", "tier", "plan", "branch", "store", "city", "state", "country", "gender", "sex",
               "marital", "education", "occupation", "profession", "job", "cat", "grade", "district", "province"}
_MEASURE_WORDS = {"count", "ct", "cnt", "num", "number", "size", "total", "amount", "amt", "sum", "days", "months",
                  "years", "age", "income", "spend", "score", "rate", "ratio"}
MAX_CODE_LEVELS = 12
_LEAK = re.compile(r"classifier|naive_bayes|predict|(^|_)pred(_|$)|proba|probability|(^|_)prob(_|$)|propensity"
                   r"|yhat|y_hat|model_(score|output)|(churn|risk|attrition)_score|score_model")
_OUTCOME = re.compile(r"^(y|target|label|churn|churned|churn_flag|attrition|attrition_flag|attrited|exited"
                      r"|default|defaulted|is_churn|has_churned|will_churn|default_payment_next_month)$")
_SENTINELS = (-1.0, -9.0, -99.0, -999.0, -9999.0, 99.0, 999.0, 9999.0, 99999.0, 999999.0)
MIN_SENTINEL_SHARE = 0.005
_DUPLICATE_ROWS = 5000
_DUPLICATE_MAX_FEATURES = 30


_ID_WORDS = re.compile(r"^(client|cust|customer|member|account|acct|user|subscriber|card|contract)_?"
                       r"(num|nbr|no|number|id|code|key|ref)?$|(^|_)(num|nbr|ref)$|num$")


def id_column(frame: pd.DataFrame, columns: Iterable[str]) -> str | None:
    """A whole-number column unique per row and named like a customer number (``CLIENTNUM``, ``cust_nbr``)."""
    for column in columns:
        series = frame[column]
        if not pd.api.types.is_integer_dtype(series) or series.isna().any():
            continue
        named = _ID_WORDS.search(norm(column).replace("_", "")) or _ID_WORDS.search(norm(column))
        if named and series.is_unique:
            return column
    return None


def coded_categories(frame: pd.DataFrame, columns: Iterable[str]) -> dict[str, str]:
    """Whole-number columns that are codes: a few levels and a name that says code, type, region, channel …

    Returns column → reason.
    """
    found = {}
    for column in columns:
        series = frame[column]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        words = set(tokens(column))
        if not words & _CODE_WORDS or words & _MEASURE_WORDS:
            continue
        values = series.dropna().to_numpy(dtype=float)
        if not len(values) or not np.array_equal(values, np.round(values)):
            continue
        levels = np.unique(values)
        if 2 <= len(levels) <= MAX_CODE_LEVELS:
            shown = ", ".join(f"{v:g}" for v in levels[:6]) + (" …" if len(levels) > 6 else "")
            found[column] = (f"coded category: {len(levels)} whole-number levels ({shown}) in a column named like "
                             "a code, so treated as categories, not as a measure")
    return found


def flags(frame: pd.DataFrame, columns: Iterable[str]) -> set[str]:
    """Numeric columns holding only 0 and 1 (both present): flags, read as a share of customers."""
    out = set()
    for column in columns:
        series = frame[column]
        if pd.api.types.is_bool_dtype(series):
            out.add(column)
            continue
        if not pd.api.types.is_numeric_dtype(series):
            continue
        values = series.dropna()
        if len(values) and values.isin([0, 1]).all() and values.nunique() == 2:
            out.add(column)
    return out


def sentinels(frame: pd.DataFrame, columns: Iterable[str]) -> dict[str, tuple[float, int, str]]:
    """Sentinel values per column: (value, rows, reason) for a code such as -1 or 999 standing for "none".

    A value counts as a sentinel when it is one of the usual codes, at least 0.5% of the rows hold it, and it sits
    apart from every other value: the only negative one in a column otherwise never negative, or at least five
    times the largest other value.
    """
    found = {}
    for column in columns:
        series = frame[column]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        values = series.dropna().to_numpy(dtype=float)
        if len(values) < 20:
            continue
        for code in _SENTINELS:
            hits = values == code
            count = int(hits.sum())
            if count < max(5, MIN_SENTINEL_SHARE * len(values)) or count == len(values):
                continue
            rest = values[~hits]
            apart = (rest.min() >= 0) if code < 0 else (rest.max() * 5 <= code)
            if apart and len(np.unique(rest)) >= 2:
                meaning = "'none' or 'not applicable'" if code < 0 else "'never' or 'not recorded'"
                found[column] = (code, count, f"{code:g} stands apart from every other value (a code for {meaning})")
                break
    return found


def leaks(columns: Iterable[str]) -> dict[str, str]:
    """Columns named as a model's output or as the outcome being explained, with the reason to leave them out."""
    found = {}
    for column in columns:
        name = norm(column)
        if _LEAK.search(name):
            found[column] = ("a model's output (score, probability or prediction): it would make the segments "
                             "repeat that model, so it is left out")
        elif _OUTCOME.fullmatch(name):
            found[column] = ("the outcome to explain (churn, attrition, target): segments describe customers, so "
                             "it is left out and can be read per segment afterwards")
    return found


def _close(left: np.ndarray, right: np.ndarray) -> bool:
    scale = np.maximum(np.abs(left), np.abs(right)) + 1e-9
    return bool(np.mean(np.abs(left - right) <= 1e-6 * scale + 1e-6) >= 0.999)


def near_duplicates(frame: pd.DataFrame, columns: list[str], roles: Mapping[str, str],
                    protected: Iterable[str] = ()) -> dict[str, str]:
    """Columns derivable from others: a multiple of one column, or the sum or difference of two.

    Of a related set the column without a business role is dropped (else the derivable one); ``protected``
    columns (derived features, explicitly listed ones) are never dropped nor used as a source.
    """
    keep = set(protected)
    role_of = {column: role for role, column in roles.items()}
    usable = [c for c in columns if c not in keep and frame[c].nunique(dropna=True) >= 20][:_DUPLICATE_MAX_FEATURES]
    if len(usable) < 2:
        return {}
    sample = frame[usable].head(_DUPLICATE_ROWS).astype("float64")
    data = {c: sample[c].to_numpy() for c in usable}
    complete = ~np.isnan(np.column_stack(list(data.values()))).any(axis=1)
    if complete.sum() < 20:
        return {}
    data = {c: v[complete] for c, v in data.items()}
    dropped: dict[str, str] = {}
    for a, b in itertools.combinations(usable, 2):
        if a in dropped or b in dropped:
            continue
        x, y = data[a], data[b]
        if np.std(x) > 0 and np.std(y) > 0 and abs(np.corrcoef(x, y)[0, 1]) >= 0.9999:
            drop, other = (b, a) if role_of.get(a) or not role_of.get(b) else (a, b)
            dropped[drop] = f"near-duplicate: moves in step with {derived_label(other)} ({other})"
    for a, b, c in itertools.permutations([u for u in usable if u not in dropped], 3):
        if b > a or c in dropped or a in dropped or b in dropped:
            continue
        if _close(data[a] + data[b], data[c]):  # c = a + b
            trio = {a: f"{derived_label(c)} − {derived_label(b)}", b: f"{derived_label(c)} − {derived_label(a)}",
                    c: f"{derived_label(a)} + {derived_label(b)}"}
            unroled = [col for col in (a, b, c) if not role_of.get(col)]
            drop = unroled[0] if unroled else c
            dropped[drop] = f"near-duplicate: equals {trio[drop]} in every row, so it adds nothing"
    return dropped
