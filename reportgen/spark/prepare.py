"""Cleaning in Spark: the plan is inferred on a sample, every statistic and every row change is made in Spark.

The local engine's :func:`reportgen.prepare.features.prepare` runs on a seeded sample of the input (all of it when the
input is small) and settles what is inferred from values: the id, the feature columns and their roles, labels and
units, sentinel codes, coded categories, derived totals. The same steps are then applied to every row in Spark, in
the local order: empty rows, sentinels, dates to days, missing and repeated ids, merges, plausible ranges,
non-finite values, missing values (the median, mean or mode of all rows), derived features, outlier fences (the
quantiles of all rows). Next to each cleaned column the observed value (:mod:`reportgen.prepare.observed`) is kept, the
one
every reported figure is computed on.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from reportgen.config import Config
from reportgen.errors import DataError
from reportgen.prepare.clean import MAX_MAGNITUDE
from reportgen.prepare.columns import sentinels
from reportgen.prepare.features import MIN_ROWS, PreparedData
from reportgen.result import CleaningAction, Count
from reportgen.spark.expr import to_column
from reportgen.spark.stats import quantiles

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

MID = "__mid"  # the input order (monotonically increasing within and across partitions)
ID = "__id"  # the customer id as text


def numeric_name(j: int) -> str:
    """The model (cleaned) column of the j-th numeric feature."""
    return f"__f{j}"


def category_name(j: int) -> str:
    """The model (cleaned, merged) column of the j-th categorical feature."""
    return f"__c{j}"


def observed_name(j: int) -> str:
    """The observed value of the j-th numeric feature (before imputation, clipping)."""
    return f"__o{j}"


def observed_category_name(j: int) -> str:
    """The observed level of the j-th categorical feature (as written, trimmed, unmerged)."""
    return f"__oc{j}"


@dataclass(frozen=True)
class SparkPrepared:
    """The cleaned customers in Spark plus what the plan settled (the local engine's result on the sample)."""

    frame: DataFrame  # MID, ID, model columns, observed columns
    rows: int
    plan: PreparedData  # columns, roles, labels, units, quality (with the counts of all rows)
    fences: dict[str, tuple[float, float]] = field(default_factory=dict)
    fills: dict[str, float | str] = field(default_factory=dict)


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def java_pattern(fmt: str) -> str:
    """A strftime format as a Spark datetime pattern (the directives dates are written with)."""
    table = {"%Y": "yyyy", "%y": "yy", "%m": "M", "%d": "d", "%H": "H", "%I": "h", "%M": "mm", "%S": "ss",
             "%f": "SSSSSS", "%b": "MMM", "%B": "MMMM", "%p": "a", "%j": "D", "%%": "%"}
    out, i = [], 0
    while i < len(fmt):
        token = fmt[i:i + 2]
        if token in table:
            out.append(table[token])
            i += 2
        else:
            char = fmt[i]
            out.append(f"'{char}'" if char.isalpha() else char)
            i += 1
    return "".join(out)


def _is_numeric(frame: DataFrame, column: str) -> bool:
    kind = frame.schema[column].dataType.typeName()
    return kind in ("byte", "short", "integer", "long", "float", "double", "decimal")


def _finite(value: Column) -> Column:
    """NULL for NaN, ±inf and values beyond ±MAX_MAGNITUDE (what cleaning makes missing)."""
    from pyspark.sql import functions as F

    number = value.cast("double")
    return F.when(F.isnan(number) | (F.abs(number) > MAX_MAGNITUDE), F.lit(None).cast("double")).otherwise(number)


def _counts(frame: DataFrame, conditions: dict[str, Column]) -> dict[str, int]:
    """How many rows meet each condition, in one pass."""
    from pyspark.sql import functions as F

    if not conditions:
        return {}
    row = frame.agg(*(F.sum(F.when(c, 1).otherwise(0)).alias(f"c{i}") for i, c in enumerate(conditions.values())))
    values = row.first()
    return {key: int(values[i] or 0) for i, key in enumerate(conditions)}


def _mode(frame: DataFrame, column: str) -> Any:
    """The most frequent present value; ties go to the smallest (pandas' ``mode`` sorts)."""
    from pyspark.sql import functions as F

    row = (frame.where(F.col(column).isNotNull()).groupBy(column).count()
           .orderBy(F.desc("count"), F.asc(column)).first())
    return None if row is None else row[0]


class _Log:
    def __init__(self) -> None:
        self.actions: list[CleaningAction] = []
        self.exclusions: list[Count] = []
        self.fences: dict[str, tuple[float, float]] = {}
        self.fills: dict[str, float | str] = {}

    def exclude(self, frame: DataFrame, mask: Column, label: str, detail: str = "") -> DataFrame:
        count = _counts(frame, {"x": mask})["x"]
        if count:
            self.exclusions.append(Count(label, count, detail))
            return frame.where(~mask)
        return frame


def _dates(frame: DataFrame, dates: list[tuple[str, str | None]], configured: str | None,
           log: _Log) -> DataFrame:
    """Each date column becomes ``<column>_days``, whole days from the date to the reference date."""
    from pyspark.sql import functions as F

    if not dates:
        return frame
    parsed = {}
    for column, fmt in dates:
        raw = F.col(column)
        kind = frame.schema[column].dataType.typeName()
        if kind in ("timestamp", "timestamp_ntz", "date"):
            value = raw.cast("timestamp")
        else:
            text = F.trim(raw.cast("string"))
            value = F.try_to_timestamp(text, F.lit(java_pattern(fmt))) if fmt else text.try_cast("timestamp")
            if fmt:
                bad = _counts(frame, {"x": value.isNull() & raw.isNotNull()})["x"]
                if bad:
                    log.actions.append(CleaningAction(column, "unparseable date → missing", bad, f"format {fmt}"))
        implausible = (value < F.lit("1800-01-01").cast("timestamp")) | (value > F.lit("2200-12-31").cast("timestamp"))
        if n := _counts(frame, {"x": implausible})["x"]:
            log.actions.append(CleaningAction(column, "implausible date → missing", n, "outside 1800 to 2200"))
        parsed[column] = F.when(implausible, F.lit(None).cast("timestamp")).otherwise(value)
    frame = frame.withColumns(parsed)
    if configured:
        reference = pd.Timestamp(configured)
    else:
        row = frame.agg(*(F.max(c) for c in parsed)).first()
        latest = [pd.Timestamp(v) for v in row if v is not None]
        reference = max(latest) if latest else pd.Timestamp("1970-01-01")
    at = F.lit(reference.to_pydatetime()).cast("timestamp")
    seconds = {f"{c}_days": F.floor((F.unix_timestamp(at) - F.unix_timestamp(F.col(c))) / 86400).cast("double")
               for c in parsed}
    return frame.withColumns(seconds)


def _id_text(frame: DataFrame, column: str) -> Column:
    """Ids as text; whole numbers stored as floats lose ``.0`` (as the local engine writes them)."""
    from pyspark.sql import functions as F

    kind = frame.schema[column].dataType.typeName()
    if kind in ("float", "double"):
        value = F.col(column)
        return F.when(value == F.floor(value), value.cast("bigint").cast("string")).otherwise(value.cast("string"))
    return F.col(column).cast("string")


def _impute(frame: DataFrame, columns: dict[str, str], categorical: set[str], log: _Log, rows: int) -> DataFrame:
    """Fill the gaps of each column with its median, mean or mode over all rows (``columns``: name → policy)."""
    from pyspark.sql import functions as F

    gaps = _counts(frame, {c: F.col(c).isNull() for c in columns})
    fills: dict[str, Any] = {}
    medians = [c for c, p in columns.items() if gaps[c] and p == "median" and c not in categorical]
    for column, value in zip(medians, quantiles(frame, medians, 0.5, rows), strict=True):
        fills[column] = value
    means = [c for c, p in columns.items() if gaps[c] and p == "mean" and c not in categorical]
    if means:
        row = frame.agg(*(F.mean(c) for c in means)).first()
        fills |= {c: row[i] for i, c in enumerate(means)}
    for column, policy in columns.items():
        if gaps[column] and (column in categorical or policy == "mode"):
            value = _mode(frame, column)
            fills[column] = "(missing)" if value is None and column in categorical else value
    for column in columns:  # in the order of the columns, as the local cleaning logs them
        value = fills.get(column)
        if not gaps[column] or value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        value = str(value) if column in categorical or isinstance(value, str) else float(value)
        log.fills[column] = value
        shown = value if isinstance(value, str) else _fmt(value)
        log.actions.append(CleaningAction(column, f"missing → {columns[column]}", gaps[column], f"filled with {shown}"))
    return frame.fillna({c: v for c, v in log.fills.items() if c in columns})


def _clean(frame: DataFrame, numeric: list[str], categorical: list[str], config: Config, log: _Log,
           with_rules: bool = True) -> tuple[DataFrame, int]:
    """:func:`reportgen.prepare.clean.clean_values` over all rows; returns the frame and its row count."""
    from pyspark.sql import functions as F

    cfg = config.cleaning
    if with_rules:
        for column, mapping in cfg.merge.items():
            text = F.trim(F.col(column).cast("string"))
            changed = _counts(frame, {"x": text.isin(list(mapping))})["x"]
            if changed:
                counts = (frame.where(text.isin(list(mapping))).groupBy(text.alias("v")).count().orderBy("v")
                          .collect())
                detail = ", ".join(f"{r['v']} → {mapping[r['v']]} ({r['count']:,})" for r in counts)
                replaced = functools.reduce(lambda acc, kv: F.when(text == kv[0], F.lit(kv[1])).otherwise(acc),
                                            mapping.items(), text)
                frame = frame.withColumn(column, replaced)
                log.actions.append(CleaningAction(column, "merged categories", changed, detail))
        for column, rule in cfg.ranges.items():
            values = F.col(column).try_cast("double")
            outside = F.lit(False)
            if rule.min is not None:
                outside = outside | (values < rule.min)
            if rule.max is not None:
                outside = outside | (values > rule.max)
            outside = F.coalesce(outside, F.lit(False))
            low = _fmt(rule.min) if rule.min is not None else "−∞"
            bounds = f"[{low}, {_fmt(rule.max) if rule.max is not None else '∞'}]"
            if rule.action == "drop":
                frame = log.exclude(frame, outside, f"{column} outside plausible range", bounds)
            elif n := _counts(frame, {"x": outside})["x"]:
                frame = frame.withColumn(column, F.when(outside, F.lit(None).cast("double")).otherwise(values))
                log.actions.append(CleaningAction(column, "out of plausible range → missing", n, bounds))
    checks = {}
    for column in numeric:
        number = F.col(column).cast("double")
        checks[f"{column}\0inf"] = F.isnan(number) | (F.abs(number) == float("inf"))
        checks[f"{column}\0huge"] = (F.abs(number) > MAX_MAGNITUDE) & (F.abs(number) != float("inf"))
    found = _counts(frame, checks)
    frame = frame.withColumns({c: _finite(F.col(c)) for c in numeric})
    for column in numeric:
        if found[f"{column}\0inf"]:
            log.actions.append(CleaningAction(column, "infinite value → missing", found[f"{column}\0inf"]))
        if found[f"{column}\0huge"]:
            log.actions.append(CleaningAction(column, "value too large → missing", found[f"{column}\0huge"],
                                              f"beyond ±{MAX_MAGNITUDE:.0e}"))
    missing = cfg.missing if with_rules else {}
    policies = {c: missing.get(c, cfg.numeric_missing) for c in numeric}
    policies |= {c: missing.get(c, cfg.categorical_missing) for c in categorical}
    for column, policy in policies.items():
        if policy == "drop":
            frame = log.exclude(frame, F.col(column).isNull(), f"missing {column}", "missing-value policy: drop")
    rows = frame.count()
    if rows == 0:
        return frame, 0
    frame = _impute(frame, {c: p for c, p in policies.items() if p != "drop"}, set(categorical), log, rows)
    return frame, rows


def _clip(frame: DataFrame, columns: list[str], config: Config, rows: int, log: _Log) -> DataFrame:
    """Clip at IQR fences or quantiles computed over all rows (:func:`reportgen.prepare.clean.clip_outliers`)."""
    from pyspark.sql import functions as F

    cfg = config.cleaning
    if cfg.outliers == "none" or not columns:
        return frame
    levels = [0.25, 0.75] if cfg.outliers == "iqr" else list(cfg.quantiles)
    found = quantiles(frame, columns, levels, rows)
    fences = {}
    for column, (low, high) in zip(columns, found, strict=True):
        if low is None or high is None:
            continue
        if cfg.outliers == "iqr":
            spread = high - low
            if spread <= 0:
                continue
            low, high = low - cfg.iqr_factor * spread, high + cfg.iqr_factor * spread
        fences[column] = (float(low), float(high))
    outside = _counts(frame, {c: (F.col(c) < lo) | (F.col(c) > hi) for c, (lo, hi) in fences.items()})
    how = (f"IQR × {cfg.iqr_factor:g}" if cfg.outliers == "iqr"
           else f"quantiles {cfg.quantiles[0]:g}–{cfg.quantiles[1]:g}")
    for column, (low, high) in fences.items():
        log.fences[column] = (low, high)
        if outside[column]:
            log.actions.append(CleaningAction(column, "outliers clipped", outside[column],
                                              f"{how}: to [{_fmt(low)}, {_fmt(high)}]"))
    return frame.withColumns({c: F.least(F.greatest(F.col(c), F.lit(lo)), F.lit(hi))
                              for c, (lo, hi) in fences.items() if outside[c]})


def _observed(frame: DataFrame, numeric: tuple[str, ...], derived: dict[str, str], config: Config) -> dict[str, Column]:
    """The observed value of every numeric feature and derived input
    (:func:`reportgen.prepare.observed.observed_frame`)."""
    from pyspark.sql import functions as F

    def invalid_to_missing(value: Column, column: str) -> Column:
        number = _finite(value.try_cast("double"))
        rule = config.cleaning.ranges.get(column)
        if rule is not None and rule.action == "missing":
            outside = F.lit(False)
            if rule.min is not None:
                outside = outside | (number < rule.min)
            if rule.max is not None:
                outside = outside | (number > rule.max)
            number = F.when(F.coalesce(outside, F.lit(False)), F.lit(None).cast("double")).otherwise(number)
        return number

    columns = {c: invalid_to_missing(F.col(c), c) for c in frame.columns if not c.startswith("__")}
    for name, text in derived.items():
        columns[name] = invalid_to_missing(to_column(text, columns), name)
    return {c: columns[c] for c in numeric}


def prepare_spark(frame: DataFrame, plan: PreparedData, sample: pd.DataFrame, config: Config, source: str,
                  rows_read: int) -> SparkPrepared:
    """Clean every customer in Spark following ``plan`` (the local engine's result on ``sample``).

    Parameters
    ----------
    frame
        The input as Spark reads it, with the input order in column ``__mid``.
    plan
        :func:`reportgen.prepare.features.prepare` of the sample: what is inferred from the values.
    sample
        The sampled rows as the plan saw them (sentinel codes are detected on them).
    config
        The run's configuration.
    source
        The input's name, used in errors.
    rows_read
        How many rows the input holds.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    log = _Log()
    columns = [c for c in frame.columns if c != MID]
    present = functools.reduce(operator.or_, (F.col(c).isNotNull() for c in columns))
    frame = log.exclude(frame, ~present, "empty row", "every cell blank")
    configured = config.cleaning.sentinels
    if configured is not None:
        codes = {c: (v, "set in the config (cleaning.sentinels)") for c, v in configured.items() if v}
    else:
        codes = {c: ([code], why) for c, (code, _, why) in sentinels(sample, [c for c in sample.columns
                                                                             if c in columns]).items()}
    hits = _counts(frame, {c: F.col(c).isin(v) for c, (v, _) in codes.items()})
    for column, (values, why) in codes.items():
        if hits[column]:
            frame = frame.withColumn(column, F.when(F.col(column).isin(values), F.lit(None)).otherwise(F.col(column)))
            shown = ", ".join(f"{c:g}" for c in values)
            log.actions.append(CleaningAction(column, "sentinel value → missing", hits[column], f"{shown}: {why}"))
    kinds = {c.name: c.kind for c in plan.quality.columns}
    categorical = list(plan.categorical)
    frame = frame.withColumns({c: F.col(c).cast("bigint").cast("string") for c in categorical
                               if c in columns and _is_numeric(frame, c)})
    dates = [(c, config.data.date_formats.get(c)) for c in columns if kinds.get(c) == "date"]
    frame = _dates(frame, dates, config.data.reference_date, log)
    id_column = plan.quality.id_column
    if id_column is not None:
        frame = frame.withColumn(ID, _id_text(frame, id_column))
        frame = log.exclude(frame, F.col(ID).isNull(), "missing customer id", f"column {id_column!r}")
        row = frame.agg(F.count("*"), F.count_distinct(ID)).first()
        if row[0] != row[1]:
            if config.data.duplicate_ids == "error":
                first = frame.groupBy(ID).agg(F.count("*").alias("n"), F.min(MID).alias("m")).where("n > 1") \
                    .orderBy("m").first()[0]
                raise DataError(f"{source}: column {id_column!r} has {row[0] - row[1]:,} repeated customer ids "
                                f"(first: {first}); set data.duplicate_ids = 'keep-first' to keep the first row "
                                "of each")
            log.exclusions.append(Count("duplicate customer id", row[0] - row[1],
                                        f"kept the first row of each id in {id_column!r}"))
            first = F.row_number().over(Window.partitionBy(ID).orderBy(MID))
            frame = frame.withColumn("__first", first).where("__first = 1").drop("__first")
    derived = dict(plan.quality.derived)
    numeric = list(plan.numeric)
    inputs = sorted({n for text in derived.values() for n in _names(text)} - set(derived))
    base_numeric = [c for c in dict.fromkeys([*numeric, *inputs]) if c not in derived and c in frame.columns]
    observed = _observed(frame, plan.numeric, derived, config)
    frame = frame.withColumns({observed_name(j): observed[c] for j, c in enumerate(plan.numeric)})
    frame = frame.withColumns({observed_category_name(j): F.nullif(F.trim(F.col(c).cast("string")), F.lit(""))
                               for j, c in enumerate(categorical)})
    frame, rows = _clean(frame, base_numeric, categorical, config, log)
    if rows < MIN_ROWS:
        excluded = ", ".join(f"{c.count:,} {c.label}" for c in log.exclusions)
        left = "no rows" if rows == 0 else f"only {rows} customer row(s)"
        raise DataError(f"{source}: {left} left after cleaning ({excluded}); at least {MIN_ROWS} are needed")
    values = {c: F.col(c) for c in frame.columns}
    for name, text in derived.items():
        values[name] = to_column(text, values)
        frame = frame.withColumn(name, values[name])
        values[name] = F.col(name)
    frame, _ = _clean(frame, list(derived), [], config, log, with_rules=False)
    targets = config.cleaning.outlier_columns
    clipped = [c for c in (targets if targets is not None else numeric) if c in numeric or targets is not None]
    frame = _clip(frame, clipped, config, rows, log)
    model = {numeric_name(j): F.col(c).cast("double") for j, c in enumerate(plan.numeric)}
    model |= {category_name(j): F.col(c).cast("string") for j, c in enumerate(categorical)}
    keep = [MID, *([ID] if id_column else []), *model, *(observed_name(j) for j in range(len(plan.numeric))),
            *(observed_category_name(j) for j in range(len(categorical)))]
    frame = frame.withColumns(model)
    if id_column is None:
        frame = frame.withColumn(ID, (F.row_number().over(Window.orderBy(MID))).cast("string"))
        keep.insert(1, ID)
    frame = frame.select(*keep)
    quality = dataclasses.replace(plan.quality, rows_read=rows_read, exclusions=tuple(log.exclusions),
                                  rows_segmented=rows, actions=tuple(log.actions))
    return SparkPrepared(frame, rows, dataclasses.replace(plan, quality=quality, fences=dict(log.fences),
                                                          fills=dict(log.fills)),
                         dict(log.fences), dict(log.fills))


def _names(text: str) -> frozenset[str]:
    from reportgen.prepare import expressions

    return expressions.parse(text).names
