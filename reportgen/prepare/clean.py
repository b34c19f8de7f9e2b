"""Cleaning: category merges, plausible ranges, missing values, duplicate ids and outlier clipping.

Every change is counted: each step returns :class:`~reportgen.result.CleaningAction` records for values it
changed and :class:`~reportgen.result.Count` records for rows it excluded, so the report can show them all.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reportgen.config import CleaningConfig, Config
from reportgen.errors import ConfigError, DataError
from reportgen.prepare import expressions
from reportgen.prepare.schema import date_format_problems, missing_columns
from reportgen.result import CleaningAction, Count

# No customer measure comes near this; beyond it (placeholders such as 1e308) squares and sums overflow float64
# in scaling, IQR fences and profiles, so such values are treated as missing.
MAX_MAGNITUDE = 1e100


@dataclass
class CleaningLog:
    """What cleaning did, in order."""

    actions: list[CleaningAction] = field(default_factory=list)
    exclusions: list[Count] = field(default_factory=list)
    fences: dict[str, tuple[float, float]] = field(default_factory=dict)  # outlier fences, per clipped column
    fills: dict[str, float | str] = field(default_factory=dict)  # the value imputed into each column

    def exclude(self, frame: pd.DataFrame, mask: pd.Series, label: str, detail: str = "") -> pd.DataFrame:
        """Drop the rows where ``mask`` is true and record how many went."""
        count = int(mask.sum())
        if count:
            self.exclusions.append(Count(label, count, detail))
            frame = frame.loc[~mask]
        return frame


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def dedupe_ids(frame: pd.DataFrame, id_column: str, policy: str, log: CleaningLog, source: str) -> pd.DataFrame:
    """Drop rows without an id, then repeated ids (keep the first) or stop, as ``policy`` says."""
    frame = log.exclude(frame, frame[id_column].isna(), "missing customer id", f"column {id_column!r}")
    duplicated = frame[id_column].duplicated(keep="first")
    if duplicated.any() and policy == "error":
        first = frame.loc[duplicated, id_column].iloc[0]
        raise DataError(f"{source}: column {id_column!r} has {int(duplicated.sum()):,} repeated customer ids "
                        f"(first: {first}); set data.duplicate_ids = 'keep-first' to keep the first row of each")
    return log.exclude(frame, duplicated, "duplicate customer id", f"kept the first row of each id in {id_column!r}")


def config_problems(columns: Iterable[str], config: Config) -> list[str]:
    """Every problem between the config and the data's columns, found before any work so all come at once.

    Columns the config names that the data lacks (with the closest existing one), derived features that do not
    parse, read unknown columns or reuse a column's name, and date formats that are not formats; each problem
    names its key and the value received.
    """
    present = [str(c) for c in columns]
    derived = config.features.derived
    known = {*present, *(f"{c}_days" for c in present)}

    def missing(key: str, named: Iterable[str | None], extra: Iterable[str] = ()) -> list[str]:
        return missing_columns(key, named, known | set(extra), present)

    cleaning, roles = config.cleaning, config.features.roles.model_dump()
    problems = missing("data.id_column", [config.data.id_column])
    problems += missing("features.numeric", config.features.numeric or [], derived)
    problems += missing("features.categorical", config.features.categorical or [])
    problems += missing("segmentation.log_features", config.segmentation.log_features or [], derived)
    problems += missing("cleaning.outlier_columns", cleaning.outlier_columns or [], derived)
    for key, named in (("data.date_formats", config.data.date_formats), ("cleaning.merge", cleaning.merge),
                       ("cleaning.ranges", cleaning.ranges), ("cleaning.missing", cleaning.missing)):
        problems += [problem for column in named for problem in missing(f"{key}.{column}", [column])]
    problems += [problem for role, column in roles.items() for problem in missing(f"features.roles.{role}",
                                                                                 [column], derived)]
    problems += date_format_problems(config.data.date_formats)
    defined = set(known)
    for name, text in derived.items():
        key = f"Config value 'features.derived.{name}'"
        if name in present:
            problems.append(f"{key}: the data already has a column {name!r}; give the derived feature another name "
                            f"but received {text!r}")
        try:
            unknown = sorted(expressions.parse(text).names - defined)
        except expressions.ExpressionError as exc:
            problems.append(f"{key}: {exc} but received {text!r}")
            unknown = []
        for column in unknown:
            hint = difflib.get_close_matches(column, sorted(defined), n=1)
            problems.append(f"{key}: unknown column {column!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                            + f" but received {text!r}")
        defined.add(name)
    return problems


def _check_columns(frame: pd.DataFrame, columns: list[str], key: str) -> None:
    missing = [f"{key}.{c}: column {c!r} is not in the data" for c in columns if c not in frame.columns]
    if missing:
        raise ConfigError(missing)


def clean_values(frame: pd.DataFrame, numeric: list[str], categorical: list[str], cfg: CleaningConfig,
                 log: CleaningLog) -> pd.DataFrame:
    """Merge categories, apply plausible ranges, make infinite or unscalably large numbers missing, and drop or
    impute missing values."""
    _check_columns(frame, list(cfg.merge), "cleaning.merge")
    _check_columns(frame, list(cfg.ranges), "cleaning.ranges")
    _check_columns(frame, list(cfg.missing), "cleaning.missing")
    frame = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    for column, mapping in cfg.merge.items():
        text = frame[column].astype("string").str.strip()
        changed = text.isin(list(mapping))
        if changed.any():
            counts = text[changed].value_counts().sort_index()
            detail = ", ".join(f"{old} → {mapping[old]} ({n:,})" for old, n in counts.items())
            frame[column] = text.replace(mapping)
            log.actions.append(CleaningAction(column, "merged categories", int(changed.sum()), detail))
    for column, rule in cfg.ranges.items():
        values = pd.to_numeric(frame[column], errors="coerce")
        outside = (values < rule.min if rule.min is not None else False) | (
            values > rule.max if rule.max is not None else False)
        outside = pd.Series(outside, index=frame.index).fillna(False).astype(bool)
        low = _fmt(rule.min) if rule.min is not None else "−∞"
        bounds = f"[{low}, {_fmt(rule.max) if rule.max is not None else '∞'}]"
        if rule.action == "drop":
            frame = log.exclude(frame, outside, f"{column} outside plausible range", bounds)
        elif outside.any():
            frame[column] = values.mask(outside)
            log.actions.append(CleaningAction(column, "out of plausible range → missing", int(outside.sum()), bounds))
    for column in numeric:
        values = frame[column].astype("float64")
        infinite = np.isinf(values)
        huge = (values.abs() > MAX_MAGNITUDE) & ~infinite
        if infinite.any() or huge.any():
            frame[column] = values.mask(infinite | huge)
        if infinite.any():
            log.actions.append(CleaningAction(column, "infinite value → missing", int(infinite.sum())))
        if huge.any():
            log.actions.append(CleaningAction(column, "value too large → missing", int(huge.sum()),
                                              f"beyond ±{MAX_MAGNITUDE:.0e}"))
    policies = {c: cfg.missing.get(c, cfg.numeric_missing) for c in numeric}
    policies |= {c: cfg.missing.get(c, cfg.categorical_missing) for c in categorical}
    for column, policy in policies.items():
        if policy == "drop":
            frame = log.exclude(frame, frame[column].isna(), f"missing {column}", "missing-value policy: drop")
    if frame.empty:
        return frame
    for column, policy in policies.items():
        gaps = frame[column].isna()
        if policy == "drop" or not gaps.any():
            continue
        if column in categorical or policy == "mode":
            fill = frame[column].mode(dropna=True)
            value = fill.iloc[0] if not fill.empty else "(missing)"
        else:
            value = frame[column].median() if policy == "median" else frame[column].mean()
        if pd.isna(value):
            continue  # all missing: the column is dropped as a feature later, with its reason
        frame[column] = frame[column].fillna(value)
        log.fills[column] = value if isinstance(value, str) else float(value)
        shown = value if isinstance(value, str) else _fmt(float(value))
        log.actions.append(CleaningAction(column, f"missing → {policy}", int(gaps.sum()), f"filled with {shown}"))
    return frame


def clip_outliers(frame: pd.DataFrame, columns: list[str], cfg: CleaningConfig, log: CleaningLog) -> pd.DataFrame:
    """Clip numeric features at IQR fences or quantiles (the policy in ``cfg.outliers``)."""
    if cfg.outliers == "none":
        return frame
    targets = cfg.outlier_columns if cfg.outlier_columns is not None else columns
    _check_columns(frame, list(targets), "cleaning.outlier_columns")
    frame = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    for column in targets:
        # The column as it is (integers stay integers: no float copy unless something gets clipped); the
        # quantiles are numpy's linear ones over the present values, exactly what pandas' quantile computes.
        data = frame[column].to_numpy()
        if data.dtype.kind not in "iuf":
            data = frame[column].to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(data) if data.dtype.kind == "f" else None
        present = data[~missing] if missing is not None and missing.any() else data
        if present.size == 0:
            continue
        if cfg.outliers == "iqr":
            q1, q3 = np.quantile(present, [0.25, 0.75])
            spread = q3 - q1
            if spread <= 0:
                continue  # mostly-constant columns (flags) have no meaningful fences
            low, high = q1 - cfg.iqr_factor * spread, q3 + cfg.iqr_factor * spread
            how = f"IQR × {cfg.iqr_factor:g}"
        else:
            low, high = np.quantile(present, list(cfg.quantiles))
            how = f"quantiles {cfg.quantiles[0]:g}–{cfg.quantiles[1]:g}"
        log.fences[column] = (float(low), float(high))
        outside = (data < low) | (data > high)
        if outside.any():
            frame[column] = frame[column].astype("float64").clip(low, high)
            log.actions.append(CleaningAction(column, "outliers clipped", int(outside.sum()),
                                              f"{how}: to [{_fmt(float(low))}, {_fmt(float(high))}]"))
    return frame
