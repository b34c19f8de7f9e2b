"""Feature drift of this month's customers against a baseline run, from the baseline's summary alone.

A run stores :func:`reference_stats` (a few hundred numbers per feature), not its rows. Drift measures the
customers, not the cleaning: both months are measured on their observed values (missing values left out), with
the *baseline's* cleaning parameters (outlier fences, bin edges, category levels) applied to both, so a month
with other fences or imputed medians does not look like drift. How often a feature is missing is compared
separately. Numeric features are compared on the baseline's decile bins (PSI) and quantile functions
(Wasserstein distance in baseline σ); categorical features on their level shares (PSI and Jensen–Shannon
distance).

Bin edges lie halfway between two distinct observed values, so no value sits on an edge, rounding cannot move
one across it, and every bin holds at least one baseline customer (no empty or zero-width bins).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon

from reportgen.errors import BaselineError
from reportgen.result.changes import DriftReport, DriftThresholds, FeatureDrift

FORMAT = 2
READABLE = (1, 2)  # format 1 (cleaned values, 101 quantiles, missing as a level) is still compared
EPSILON = 1e-4  # stands in for an empty bin so PSI stays finite
MAX_DISTANCE = 1e6  # JSON has no infinity: a constant baseline that moved gets this instead
MISSING_LEVEL = "(missing)"  # format 1 counted a missing category as a level
QUANTILES = 200
# Quantile levels at the middle of 200 equal slices: the mean absolute gap between two such quantile functions is
# exactly the Wasserstein-1 distance between the two 200-point samples (what scipy computes from them).
LEVELS = (np.arange(QUANTILES) + 0.5) / QUANTILES
MISSING_NOTE = 0.05  # a change in the missing share this large (absolute) is named in the note
_DIGITS = 12
_LEGACY_WEIGHTS = np.r_[0.5, np.ones(99), 0.5] / 100  # format 1: trapezoid over 101 quantiles
_METRIC = {"numeric": "wasserstein/σ", "categorical": "jensen-shannon"}


def _round(values: Any) -> list[float]:
    # Rounded so the stored summary is identical across platforms; identical data then compares exactly equal.
    return [float(f"{v:.{_DIGITS}g}") for v in np.atleast_1d(np.asarray(values, dtype=float))]


def _numbers(column: pd.Series) -> tuple[np.ndarray, int]:
    """The finite values of ``column`` and how many rows had none."""
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    finite = values[np.isfinite(values)]
    return finite, len(values) - len(finite)


def _clip(values: np.ndarray, fence: Sequence[float] | None) -> np.ndarray:
    return np.clip(values, fence[0], fence[1]) if fence else values


def _level_shares(column: pd.Series, missing_level: bool = False) -> dict[str, float]:
    text = column.astype("string")
    text = text.fillna(MISSING_LEVEL) if missing_level else text.dropna()
    if text.empty:
        return {}
    shares = text.value_counts(normalize=True, sort=False)
    return dict(zip(map(str, shares.index), _round(shares.to_numpy()), strict=True))


def _bin_shares(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    # Right-closed bins, open at both ends: a value equal to an edge falls in the bin the edge closes.
    index = np.searchsorted(np.asarray(edges, dtype=float), values, side="left")
    return np.bincount(index, minlength=len(edges) + 1) / len(values)


def bin_edges(values: np.ndarray) -> list[float]:
    """Decile edges placed halfway between the decile value and the next distinct value above it.

    Parameters
    ----------
    values
        Sorted finite values.

    Returns
    -------
    list of float
        Strictly increasing edges (rounded as stored), each strictly between two observed values: every bin is
        non-empty and has positive width. Ties collapse (a 0/1 feature gets one edge).
    """
    distinct = np.unique(values)
    edges: list[float] = []
    for level in np.linspace(0.1, 0.9, 9):
        at = np.quantile(values, level, method="lower")
        i = int(np.searchsorted(distinct, at, side="right"))
        if i >= len(distinct):
            continue  # the decile is the maximum: an edge there would leave the top bin empty
        edge = _round((distinct[i - 1] + distinct[i]) / 2)[0]
        if distinct[i - 1] < edge < distinct[i] and (not edges or edge > edges[-1]):
            edges.append(edge)
    return edges


def _numeric_stats(values: np.ndarray, missing: int, fence: Sequence[float] | None,
                   fill: float | str | None) -> dict[str, Any]:
    rows = len(values) + missing
    base = {"n": len(values), "missing": missing, "missing_share": _round(missing / rows)[0] if rows else 0.0,
            "fence": _round(fence) if fence else None,
            "fill": _round(fill)[0] if isinstance(fill, int | float) else None}
    if not len(values):
        return base | {"mean": None, "std": None, "edges": [], "proportions": [], "quantiles": []}
    # Summing in sorted order makes mean and σ independent of row order (and sorting speeds the quantiles up).
    values = np.sort(_clip(values, fence))
    mean = float(np.sum(values)) / len(values)
    std = math.sqrt(float(np.sum((values - mean) ** 2)) / len(values))
    edges = bin_edges(values)
    return base | {"mean": _round(mean)[0], "std": _round(std)[0], "edges": edges,
                   "proportions": _round(_bin_shares(values, edges)),
                   "quantiles": _round(np.quantile(values, LEVELS))}


def reference_stats(frame: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str],
                    fences: Mapping[str, Sequence[float]] | None = None,
                    fills: Mapping[str, float | str] | None = None) -> dict[str, Any]:
    """Summarise a run's customers and cleaning so next month's drift can be measured without these rows.

    Parameters
    ----------
    frame
        The observed values of the baseline run's customers (missing values missing, nothing clipped).
    numeric, categorical
        Its feature columns of each kind, in report order.
    fences
        The outlier fences cleaning used (feature → (low, high)); both months are clipped at them.
    fills
        The values cleaning imputed into missing cells (stored so the cleaning is known; not used in drift).

    Returns
    -------
    dict
        JSON-ready ``{"format", "numeric": {feature: {n, missing, missing_share, fence, fill, mean, std, edges,
        proportions, quantiles}}, "categorical": {feature: {n, missing, missing_share, fill, levels,
        proportions: {level: share}}}}`` with floats to 12 significant digits.
    """
    fences, fills = fences or {}, fills or {}
    numeric_stats = {name: _numeric_stats(*_numbers(frame[name]), fences.get(name), fills.get(name))
                     for name in numeric}
    categorical_stats = {}
    for name in categorical:
        missing = int(frame[name].isna().sum())
        # Sorted levels keep the stored summary byte-identical between runs.
        shares = dict(sorted(_level_shares(frame[name]).items()))
        categorical_stats[name] = {"n": len(frame) - missing, "missing": missing,
                                   "missing_share": _round(missing / len(frame))[0] if len(frame) else 0.0,
                                   "fill": fills.get(name) if isinstance(fills.get(name), str) else None,
                                   "levels": list(shares), "proportions": shares}
    return {"format": FORMAT, "numeric": numeric_stats, "categorical": categorical_stats}


def _psi(expected: np.ndarray, actual: np.ndarray) -> float:
    expected, actual = np.clip(expected, EPSILON, None), np.clip(actual, EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def _small(expected: np.ndarray, n: int, thresholds: DriftThresholds) -> bool:
    return bool(n < thresholds.min_bin_count * len(expected) or np.any(expected * n < thresholds.min_bin_count))


def _result(feature: str, kind: str, psi: float, distance: float, small: bool, notes: list[str],
            thresholds: DriftThresholds, missing: tuple[float | None, float | None] = (None, None)) -> FeatureDrift:
    band = "major" if psi >= thresholds.psi_major else "moderate" if psi >= thresholds.psi_moderate else "none"
    drifted = psi >= thresholds.psi_moderate or distance >= thresholds.distance
    if drifted and band == "none":
        notes.append(f"distance {distance:.3g} reached {thresholds.distance:g} while PSI stayed low")
    if small:
        notes.append("small sample: too few customers per bin for a reliable PSI")
    before, now = missing
    if before is not None and now is not None and abs(now - before) >= MISSING_NOTE:
        notes.append(f"missing for {now:.0%} of customers now, {before:.0%} in the baseline (compared apart from "
                     "the values)")
    return FeatureDrift(feature, kind, psi, distance, _METRIC[kind], band, drifted, small, "; ".join(notes),
                        missing[1], missing[0])


def _empty(feature: str, kind: str, baseline_n: int) -> FeatureDrift:
    note = "no values " + ("in the baseline" if not baseline_n else "this month")
    return FeatureDrift(feature, kind, math.nan, math.nan, _METRIC[kind], "none", False, True, note)


def _missing_shares(stats: Mapping[str, Any], missing: int, rows: int) -> tuple[float | None, float | None]:
    before = stats.get("missing_share")
    return (float(before) if before is not None else None), (_round(missing / rows)[0] if rows else None)


def _numeric_drift(feature: str, stats: Mapping[str, Any], column: pd.Series,
                   thresholds: DriftThresholds) -> FeatureDrift:
    values, missing = _numbers(column)
    if not stats["n"] or not len(values):
        return _empty(feature, "numeric", stats["n"])
    values = _clip(values, stats.get("fence"))  # the baseline's fences, not this month's
    expected = np.asarray(stats["proportions"], dtype=float)
    actual = np.asarray(_round(_bin_shares(values, stats["edges"])))
    reference = np.asarray(stats["quantiles"], dtype=float)
    if len(reference) == QUANTILES:
        current = np.asarray(_round(np.quantile(values, LEVELS)))
        w1 = float(np.mean(np.abs(current - reference)))
    else:  # format 1
        current = np.asarray(_round(np.quantile(values, np.linspace(0, 1, len(reference)))))
        w1 = float(_LEGACY_WEIGHTS @ np.abs(current - reference))
    std = stats["std"]
    distance = min(w1 / std, MAX_DISTANCE) if std > 0 else 0.0 if w1 == 0 else MAX_DISTANCE
    notes = [] if std > 0 or w1 == 0 else ["constant in the baseline (σ = 0) but not now; distance set to its cap"]
    return _result(feature, "numeric", _psi(expected, actual), distance, _small(expected, len(values), thresholds),
                   notes, thresholds, _missing_shares(stats, missing, len(column)))


def _categorical_drift(feature: str, stats: Mapping[str, Any], column: pd.Series,
                       thresholds: DriftThresholds) -> FeatureDrift:
    baseline: Mapping[str, float] = stats["proportions"]
    legacy = "levels" not in stats  # format 1 counted missing as a level
    present = int(column.notna().sum()) if not legacy else len(column)
    if not stats["n"] or not present:
        return _empty(feature, "categorical", stats["n"])
    current = _level_shares(column, missing_level=legacy)
    added = sorted(set(current) - set(baseline))
    levels = [*baseline, *added]
    expected = np.array([baseline.get(level, 0.0) for level in levels], dtype=float)
    actual = np.array([current.get(level, 0.0) for level in levels])
    # Rounding can leave a Jensen–Shannon divergence a hair below zero; its square root is then NaN, not 0.
    with np.errstate(invalid="ignore"):
        distance = float(jensenshannon(expected, actual, base=2))
    gone = [level for level in baseline if level not in current]
    notes = [f"{label}: {', '.join(found)}" for label, found in (("new levels", added), ("levels gone", gone)) if found]
    small = _small(np.asarray(list(baseline.values()), dtype=float), present, thresholds)
    return _result(feature, "categorical", _psi(expected, actual), 0.0 if math.isnan(distance) else distance,
                   small, notes, thresholds, _missing_shares(stats, len(column) - present, len(column)))


def feature_drift(reference: Mapping[str, Any], frame: pd.DataFrame, thresholds: DriftThresholds) -> DriftReport:
    """Measure how far each feature of ``frame`` moved from a baseline's :func:`reference_stats`.

    Parameters
    ----------
    reference
        The baseline's reference statistics, as stored (e.g. read back from JSON).
    frame
        This month's observed values (missing values missing, nothing clipped or imputed).
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
        if reference["format"] not in READABLE:
            raise BaselineError(f"baseline statistics have format {reference['format']}, expected one of "
                                f"{', '.join(map(str, READABLE))}")
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
