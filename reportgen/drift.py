"""Feature drift of this month's cleaned features against a baseline run, from the baseline's summary alone.

A run stores :func:`reference_stats` (a few hundred numbers per feature), not its rows. Numeric features are
compared on the baseline's decile bins (PSI) and quantile functions (Wasserstein distance in baseline σ);
categorical features on their level shares (PSI and Jensen–Shannon distance).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon

from reportgen.changes import DriftReport, DriftThresholds, FeatureDrift
from reportgen.errors import BaselineError

FORMAT = 1
EPSILON = 1e-4  # stands in for an empty bin so PSI stays finite
MAX_DISTANCE = 1e6  # JSON has no infinity: a constant baseline that moved gets this instead
MISSING_LEVEL = "(missing)"  # a categorical feature going missing more often is drift too
QUANTILES = 101
_DIGITS = 12
# Trapezoid weights over the 101 quantile levels: the integral of |F⁻¹ − G⁻¹| is W1, and halving the 0 % and
# 100 % points keeps the two most erratic values (minimum and maximum) from weighing as much as the rest.
_WEIGHTS = np.r_[0.5, np.ones(QUANTILES - 2), 0.5] / (QUANTILES - 1)
_METRIC = {"numeric": "wasserstein/σ", "categorical": "jensen-shannon"}


def _round(values: Any) -> list[float]:
    # Rounded so the stored summary is identical across platforms; identical data then compares exactly equal.
    return [float(f"{v:.{_DIGITS}g}") for v in np.atleast_1d(np.asarray(values, dtype=float))]


def _finite(column: pd.Series) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return values[np.isfinite(values)]


def _level_shares(column: pd.Series) -> dict[str, float]:
    shares = column.astype("string").fillna(MISSING_LEVEL).value_counts(normalize=True, sort=False)
    return dict(zip(map(str, shares.index), _round(shares.to_numpy()), strict=True))


def _bin_shares(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    # Right-closed bins, open at both ends: a value equal to an edge falls in the bin the edge closes.
    index = np.searchsorted(np.asarray(edges, dtype=float), values, side="left")
    return np.bincount(index, minlength=len(edges) + 1) / len(values)


def _numeric_stats(values: np.ndarray) -> dict[str, Any]:
    if not len(values):
        return {"n": 0, "mean": None, "std": None, "edges": [], "proportions": [], "quantiles": []}
    # Summing in sorted order makes mean and σ independent of row order (and sorting speeds the quantiles up).
    values = np.sort(values)
    mean = float(np.sum(values)) / len(values)
    std = math.sqrt(float(np.sum((values - mean) ** 2)) / len(values))
    top = values[-1]
    # An edge at the maximum would leave the top bin empty (ties, binary features), so it is dropped.
    edges = sorted({e for e in _round(np.quantile(values, np.linspace(0.1, 0.9, 9))) if e < top})
    return {"n": len(values), "mean": _round(mean)[0], "std": _round(std)[0], "edges": edges,
            "proportions": _round(_bin_shares(values, edges)),
            "quantiles": _round(np.quantile(values, np.linspace(0, 1, QUANTILES)))}


def reference_stats(frame: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> dict[str, Any]:
    """Summarise cleaned features so next month's drift can be measured without these rows.

    Parameters
    ----------
    frame
        The cleaned feature frame of the baseline run.
    numeric, categorical
        Its feature columns of each kind, in report order.

    Returns
    -------
    dict
        JSON-ready ``{"format", "numeric": {feature: {n, mean, std, edges, proportions, quantiles}},
        "categorical": {feature: {n, proportions: {level: share}}}}`` with floats to 12 significant digits.
        Non-finite numeric values are left out; a missing category counts as the level ``(missing)``.
    """
    numeric_stats = {name: _numeric_stats(_finite(frame[name])) for name in numeric}
    # Sorted levels keep the stored summary byte-identical between runs.
    categorical_stats = {name: {"n": len(frame), "proportions": dict(sorted(_level_shares(frame[name]).items()))}
                         for name in categorical}
    return {"format": FORMAT, "numeric": numeric_stats, "categorical": categorical_stats}


def _psi(expected: np.ndarray, actual: np.ndarray) -> float:
    expected, actual = np.clip(expected, EPSILON, None), np.clip(actual, EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def _small(expected: np.ndarray, n: int, thresholds: DriftThresholds) -> bool:
    return bool(n < thresholds.min_bin_count * len(expected) or np.any(expected * n < thresholds.min_bin_count))


def _result(feature: str, kind: str, psi: float, distance: float, small: bool, notes: list[str],
            thresholds: DriftThresholds) -> FeatureDrift:
    band = "major" if psi >= thresholds.psi_major else "moderate" if psi >= thresholds.psi_moderate else "none"
    drifted = psi >= thresholds.psi_moderate or distance >= thresholds.distance
    if drifted and band == "none":
        notes.append(f"distance {distance:.3g} reached {thresholds.distance:g} while PSI stayed low")
    if small:
        notes.append("small sample: too few customers per bin for a reliable PSI")
    return FeatureDrift(feature, kind, psi, distance, _METRIC[kind], band, drifted, small, "; ".join(notes))


def _empty(feature: str, kind: str, baseline_n: int) -> FeatureDrift:
    note = "no values " + ("in the baseline" if not baseline_n else "this month")
    return FeatureDrift(feature, kind, math.nan, math.nan, _METRIC[kind], "none", False, True, note)


def _numeric_drift(feature: str, stats: Mapping[str, Any], column: pd.Series,
                   thresholds: DriftThresholds) -> FeatureDrift:
    values = _finite(column)
    if not stats["n"] or not len(values):
        return _empty(feature, "numeric", stats["n"])
    expected = np.asarray(stats["proportions"], dtype=float)
    actual = np.asarray(_round(_bin_shares(values, stats["edges"])))
    reference = np.asarray(stats["quantiles"], dtype=float)
    current = np.asarray(_round(np.quantile(values, np.linspace(0, 1, QUANTILES))))
    w1 = float(_WEIGHTS @ np.abs(current - reference))
    std = stats["std"]
    distance = min(w1 / std, MAX_DISTANCE) if std > 0 else 0.0 if w1 == 0 else MAX_DISTANCE
    notes = [] if std > 0 or w1 == 0 else ["constant in the baseline (σ = 0) but not now; distance set to its cap"]
    return _result(feature, "numeric", _psi(expected, actual), distance, _small(expected, len(values), thresholds),
                   notes, thresholds)


def _categorical_drift(feature: str, stats: Mapping[str, Any], column: pd.Series,
                       thresholds: DriftThresholds) -> FeatureDrift:
    if not stats["n"] or not len(column):
        return _empty(feature, "categorical", stats["n"])
    baseline: Mapping[str, float] = stats["proportions"]
    current = _level_shares(column)
    added = sorted(set(current) - set(baseline))
    levels = [*baseline, *added]
    expected = np.array([baseline.get(level, 0.0) for level in levels], dtype=float)
    actual = np.array([current.get(level, 0.0) for level in levels])
    # Rounding can leave a Jensen–Shannon divergence a hair below zero; its square root is then NaN, not 0.
    with np.errstate(invalid="ignore"):
        distance = float(jensenshannon(expected, actual, base=2))
    gone = [level for level in baseline if level not in current]
    notes = [f"{label}: {', '.join(found)}" for label, found in (("new levels", added), ("levels gone", gone)) if found]
    small = _small(np.asarray(list(baseline.values()), dtype=float), len(column), thresholds)
    return _result(feature, "categorical", _psi(expected, actual), 0.0 if math.isnan(distance) else distance,
                   small, notes, thresholds)


def feature_drift(reference: Mapping[str, Any], frame: pd.DataFrame, thresholds: DriftThresholds) -> DriftReport:
    """Measure how far each feature of ``frame`` moved from a baseline's :func:`reference_stats`.

    Parameters
    ----------
    reference
        The baseline's reference statistics, as stored (e.g. read back from JSON).
    frame
        This month's cleaned feature frame.
    thresholds
        PSI bands, distance threshold, data-set drift share and the small-sample bin count.

    Returns
    -------
    DriftReport
        One :class:`FeatureDrift` per feature in both, in baseline order; features in only one of the two
        (or numeric in the baseline but no longer numeric) are listed as ``missing``.

    Raises
    ------
    BaselineError
        If ``reference`` is not a reference summary this version can read.
    """
    try:
        if reference["format"] != FORMAT:
            raise BaselineError(f"baseline statistics have format {reference['format']}, expected {FORMAT}")
        numeric, categorical = dict(reference["numeric"]), dict(reference["categorical"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BaselineError(f"baseline statistics are malformed ({exc!r})") from None
    results, missing = [], []
    features = [(_numeric_drift, n, s) for n, s in numeric.items()]
    features += [(_categorical_drift, n, s) for n, s in categorical.items()]
    for measure, name, stats in features:
        numeric_now = name in frame.columns and pd.api.types.is_numeric_dtype(frame[name])
        if name not in frame.columns or (measure is _numeric_drift and not numeric_now):
            missing.append(name)
            continue
        try:
            results.append(measure(name, stats, frame[name], thresholds))
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError) as exc:
            raise BaselineError(f"baseline statistics of {name!r} are malformed ({exc!r})") from None
    missing += [str(c) for c in frame.columns if c not in numeric and c not in categorical]
    drifted = tuple(r.feature for r in results if r.drifted)
    share = len(drifted) / len(results) if results else 0.0
    return DriftReport(tuple(results), drifted, share, bool(results) and share >= thresholds.dataset_share,
                       tuple(r.feature for r in results), tuple(missing))
