"""The customers' values as observed: what every reported figure is computed on.

Cleaning shapes what the model sees (missing values imputed, outliers clipped, categories merged, heavy tails
log-scaled). None of that may reach a figure a reader quotes. This module rebuilds, for the customers the model
segmented (same rows, same order), each feature column from the input before imputation, clipping and merges:

- numeric features keep their input values; values the config or the checks declare invalid (outside a
  ``cleaning.ranges`` bound with ``action = "missing"``, infinite, beyond ±1e100, unparseable) are missing;
- derived features are evaluated on those values, so a part that is missing leaves the total missing;
- categorical features keep their levels as written (trimmed), unmerged; missing stays missing.

Missing values are left out of every figure and counted beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.config import CleaningConfig
from reportgen.prepare import expressions
from reportgen.prepare.clean import MAX_MAGNITUDE


def _invalid_to_missing(values: pd.Series, column: str, cfg: CleaningConfig) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    rule = cfg.ranges.get(column)
    if rule is not None and rule.action == "missing":
        if rule.min is not None:
            numbers = numbers.mask(numbers < rule.min)
        if rule.max is not None:
            numbers = numbers.mask(numbers > rule.max)
    return numbers.mask(~np.isfinite(numbers) | (numbers.abs() > MAX_MAGNITUDE))


def observed_frame(dated: pd.DataFrame, index: pd.Index, numeric: tuple[str, ...], categorical: tuple[str, ...],
                   derived: dict[str, str], cfg: CleaningConfig) -> pd.DataFrame:
    """The observed values of the segmented customers, numeric then categorical columns, aligned with the model.

    Parameters
    ----------
    dated
        The input table after date columns became ``<column>_days`` and before any other cleaning.
    index
        The rows left after cleaning (rows dropped by cleaning are no customers of the report).
    numeric, categorical
        The feature columns of the model frame, in its order.
    derived
        Derived features (name → expression), evaluated in order on the observed values.
    cfg
        The cleaning settings (only the plausible ranges that turn values into missing are applied).

    Returns
    -------
    pandas.DataFrame
        One row per segmented customer (index reset), floats for numeric columns, strings for categorical ones.
    """
    rows = dated.loc[index]
    parsed = {name: expressions.parse(text) for name, text in derived.items()}
    needed = set(numeric).union(*(expr.names for expr in parsed.values()))
    columns = {name: _invalid_to_missing(rows[name], name, cfg) for name in dated.columns if name in needed}
    for name, expr in parsed.items():
        env = {n: columns[n].to_numpy(dtype="float64") for n in expr.names}
        with np.errstate(all="ignore"):
            value = np.asarray(expr.evaluate(env), dtype="float64")
        columns[name] = _invalid_to_missing(pd.Series(np.broadcast_to(value, (len(rows),)).copy(), index=rows.index),
                                            name, cfg)
    frame = pd.DataFrame({c: columns[c].to_numpy(dtype="float64") for c in numeric})
    for name in categorical:
        frame[name] = rows[name].astype("string").str.strip().replace("", pd.NA).reset_index(drop=True)
    return frame
