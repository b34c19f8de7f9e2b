"""From a loaded table to the cleaned feature frame in business units, with the data-quality record.

Steps: infer column roles → dates become "days since" → clean (ids, merges, ranges, missing) → derived
features → outlier clipping → drop features that ended constant. Profiles later group *these* columns.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reportgen.config import Config
from reportgen.errors import ConfigError, DataError
from reportgen.inputs.files import LoadedTable
from reportgen.prepare import expressions
from reportgen.prepare.clean import CleaningLog, clean_values, clip_outliers, config_problems, dedupe_ids
from reportgen.prepare.colnames import feature_labels, unit_kind
from reportgen.prepare.columns import coded_categories, flags, id_column, leaks, near_duplicates, sentinels
from reportgen.prepare.currency import infer_currency
from reportgen.prepare.observed import observed_frame
from reportgen.prepare.roles import infer_roles_explained, suggest_totals
from reportgen.prepare.schema import Schema, infer_schema
from reportgen.result import CleaningAction, ColumnInfo, DataQuality

MIN_ROWS = 3  # K-Means with K >= 2 and a silhouette need at least three customers
# Dates outside this span are export placeholders (0001-01-01, 9999-12-31) for "unknown"; kept, the latest one
# would become the reference date and every "days since" feature would count millennia.
_PLAUSIBLE_DATES = (pd.Timestamp("1800-01-01"), pd.Timestamp("2200-12-31"))


@dataclass(frozen=True)
class PreparedData:
    """Cleaned features (numeric then categorical columns, original units), one row per customer."""

    frame: pd.DataFrame
    ids: np.ndarray
    id_name: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    roles: dict[str, str]
    quality: DataQuality
    reference_date: str | None
    observed: pd.DataFrame | None = None  # the same customers' values before imputation, clipping and merges
    fences: dict[str, tuple[float, float]] = field(default_factory=dict)  # outlier fences used
    fills: dict[str, float | str] = field(default_factory=dict)  # values imputed per column
    labels: dict[str, str] = field(default_factory=dict)  # feature -> business label
    units: dict[str, str] = field(default_factory=dict)  # feature -> unit kind (colnames.UNIT_KINDS)
    value: np.ndarray | None = None  # each customer's value measure (monetary role) as observed (reported figures)

    @property
    def reported(self) -> pd.DataFrame:
        """What every reported figure is computed on: the observed values (the model frame if none were kept)."""
        return self.observed if self.observed is not None else self.frame


def _reference_date(frame: pd.DataFrame, dates: tuple[tuple[str, str], ...], configured: str | None) -> pd.Timestamp:
    if configured:
        try:
            return pd.Timestamp(configured)
        except ValueError:
            raise ConfigError(f"Config value 'data.reference_date': expected YYYY-MM-DD but received {configured!r}")\
                from None
    latest = [frame[c].max() for c, _ in dates if frame[c].notna().any()]
    return max(latest) if latest else pd.Timestamp("1970-01-01")


def _dates_to_days(frame: pd.DataFrame, dates: tuple[tuple[str, str], ...], configured: str | None,
                   log: CleaningLog) -> tuple[pd.DataFrame, list[str], pd.Timestamp | None]:
    """Turn each date column into ``<column>_days``: days from the date to the reference date."""
    if not dates:
        return frame, [], None
    frame = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    for column, fmt in dates:
        raw = frame[column]
        parsed = pd.to_datetime(raw, format=fmt, errors="coerce") if fmt else pd.to_datetime(raw, errors="coerce")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            # The reference date is a calendar date without zone, and other columns may have none either.
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        bad = int((parsed.isna() & raw.notna()).sum())
        if bad:
            log.actions.append(CleaningAction(column, "unparseable date → missing", bad, f"format {fmt or 'auto'}"))
        implausible = (parsed < _PLAUSIBLE_DATES[0]) | (parsed > _PLAUSIBLE_DATES[1])
        if implausible.any():
            parsed = parsed.mask(implausible)
            span = " to ".join(str(d.year) for d in _PLAUSIBLE_DATES)
            log.actions.append(CleaningAction(column, "implausible date → missing", int(implausible.sum()),
                                              f"outside {span}"))
        frame[column] = parsed
    reference = _reference_date(frame, dates, configured)
    names = []
    for column, _ in dates:
        name = f"{column}_days"
        frame[name] = (reference - frame[column]).dt.days.astype("float64")
        names.append(name)
    return frame, names, reference


def _date_range(frame: pd.DataFrame, dates: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
    """Earliest and latest observed date over the customers' date columns, or None without dates."""
    found = [(frame[c].min(), frame[c].max()) for c, _ in dates if c in frame and frame[c].notna().any()]
    if not found:
        return None
    return min(f[0] for f in found).date().isoformat(), max(f[1] for f in found).date().isoformat()


def _derive(frame: pd.DataFrame, derived: dict[str, str]) -> pd.DataFrame:
    """Evaluate derived features in order; every problem is reported together."""
    problems: list[str] = []
    frame = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    for name, text in derived.items():
        if name in frame.columns:  # replacing it would turn an id, date or text column into numbers
            problems.append(f"Config value 'features.derived.{name}': the data already has a column {name!r}; "
                            f"give the derived feature another name but received {text!r}")
            continue
        try:
            expr = expressions.parse(text)
        except expressions.ExpressionError as exc:
            problems.append(f"Config value 'features.derived.{name}': {exc} but received {text!r}")
            continue
        unknown = sorted(n for n in expr.names if n not in frame.columns)
        for n in unknown:
            hint = difflib.get_close_matches(n, [str(c) for c in frame.columns], n=1)
            problems.append(f"Config value 'features.derived.{name}': unknown column {n!r}"
                            + (f" (did you mean {hint[0]!r}?)" if hint else "") + f" but received {text!r}")
        if unknown:
            continue
        env = {n: pd.to_numeric(frame[n], errors="coerce").astype("float64").to_numpy() for n in expr.names}
        try:
            with np.errstate(all="ignore"):
                value = np.asarray(expr.evaluate(env), dtype="float64")
        except (expressions.ExpressionError, TypeError, ValueError) as exc:
            problems.append(f"Config value 'features.derived.{name}': {exc} but received {text!r}")
            continue
        frame[name] = np.broadcast_to(value, (len(frame),)).copy()
    if problems:
        raise ConfigError(problems)
    return frame


def _column_info(frame: pd.DataFrame, schema: Schema, numeric: list[str], categorical: list[str],
                 roles: dict[str, str], ignored: dict[str, str], notes: dict[str, list[str]] | None = None,
                 labels: dict[str, str] | None = None, units: dict[str, str] | None = None) -> tuple[ColumnInfo, ...]:
    role_of = {column: role for role, column in roles.items()}
    kinds = {schema.id_column: "id"} | {c: "date" for c, _ in schema.dates}
    kinds |= {c: "numeric" for c in numeric} | {c: "categorical" for c in categorical}
    infos = []
    for column in frame.columns:
        series = frame[column]
        kind = "ignored" if column in ignored else kinds.get(column, "ignored")
        distinct = len(series) if schema.id_unique and column == schema.id_column else series.nunique(dropna=True)
        infos.append(ColumnInfo(str(column), kind, str(series.dtype), int(series.isna().sum()), int(distinct),
                                role_of.get(column), ignored.get(column), (labels or {}).get(column, ""),
                                (units or {}).get(column, ""), "; ".join((notes or {}).get(column, []))))
    return tuple(infos)


def _id_text(ids: pd.Series) -> np.ndarray:
    """Customer ids as text; whole-number ids that read as floats (a blank id makes the column float) lose ``.0``."""
    if pd.api.types.is_float_dtype(ids) and (ids.dropna() == ids.dropna().round()).all():
        ids = ids.astype("Int64")
    return ids.astype("string").to_numpy(dtype=object)


def prepare(table: LoadedTable, config: Config) -> PreparedData:
    """Validate, clean and build the feature frame; raises DataError when nothing usable is left."""
    source = table.path.name
    if problems := config_problems(table.frame.columns, config):
        raise ConfigError(problems)
    log = CleaningLog()
    log.actions.extend(CleaningAction(column, "column not read", table.rows_read, reason)
                       for column, reason in table.skipped)
    # Rows with every cell blank (",,,," lines, formatted but empty spreadsheet rows) are no customers; kept, they
    # would be imputed into fake ones and their missing ids would hide the id column.
    raw = log.exclude(table.frame, table.frame.isna().all(axis=1), "empty row", "every cell blank")
    if len(raw) < MIN_ROWS:
        dropped = f" left after cleaning ({log.exclusions[0].count:,} empty row(s))" if log.exclusions else ""
        raise DataError(f"{source}: only {len(raw)} customer row(s){dropped}; at least {MIN_ROWS} are needed to "
                        "segment")
    derived = dict(config.features.derived)
    needs = set(config.cleaning.ranges) | set(config.cleaning.merge)
    for text in derived.values():
        with contextlib.suppress(expressions.ExpressionError):  # reported with its key by _derive
            needs |= expressions.parse(text).names
    currency = infer_currency(raw)  # before the schema turns "£12.50" text into numbers
    notes: dict[str, list[str]] = {}
    raw = _mask_sentinels(raw, config, log, notes)
    schema = infer_schema(raw, config.features, config.data.id_column, config.data.date_formats, needs, set(derived))
    schema, raw = _understand(raw, schema, config, notes)
    frame, date_features, reference = _dates_to_days(raw, schema.dates, config.data.reference_date, log)
    listed = config.features.numeric
    numeric = [*schema.numeric, *(d for d in date_features if listed is None or d in listed)]
    if not config.features.derived and config.features.numeric is None:
        suggested = suggest_totals(numeric, config.features.roles.model_dump(), derived)
        derived = {name: formula for name, formula in suggested.items() if name not in frame.columns}
    if schema.id_column is not None and not schema.id_unique:  # hashing ten million ids again takes seconds
        frame = dedupe_ids(frame, schema.id_column, config.data.duplicate_ids, log, source)
    dated = frame
    frame = clean_values(frame, numeric, list(schema.categorical), config.cleaning, log)
    if len(frame) < MIN_ROWS:
        excluded = ", ".join(f"{c.count:,} {c.label}" for c in log.exclusions)
        left = "no rows" if frame.empty else f"only {len(frame)} customer row(s)"
        raise DataError(f"{source}: {left} left after cleaning ({excluded}); at least {MIN_ROWS} are needed")
    frame = _derive(frame, derived)
    numeric += [d for d in derived if d not in numeric]
    numeric = [c for c in numeric if c not in config.features.exclude]
    frame = clean_values(frame, list(derived), [], config.cleaning.model_copy(update={"ranges": {}, "merge": {},
                                                                                      "missing": {}}), log)
    unclipped = frame  # the value at stake is summed over observed values, not the capped ones the model sees
    frame = clip_outliers(frame, numeric, config.cleaning, log)
    ignored = dict(schema.ignored)
    if config.features.numeric is None:
        ignored.update(_flag_parts(frame, derived, numeric))
        rare = _rare_flags(frame, [c for c in numeric if c not in ignored], config.segmentation.min_segment_share)
        ignored.update(rare)
    for column in [*numeric, *schema.categorical]:
        values = frame[column].dropna()
        if values.empty:
            ignored[column] = "all values missing after cleaning"
        elif (values == values.iloc[0]).all():  # one comparison pass, no hashing
            ignored[column] = "constant after cleaning"
    numeric = [c for c in numeric if c not in ignored]
    categorical = [c for c in schema.categorical if c not in ignored]
    if not numeric and not categorical:
        reasons = "; ".join(f"{c}: {r}" for c, r in list(ignored.items())[:6]) or (
            f"the only column is the id {schema.id_column!r}" if schema.id_column else "no columns")
        raise DataError(f"{source}: no usable feature column ({reasons})")
    # Derived totals first: a declared total plays its role before any of its parts.
    explained = infer_roles_explained([*(d for d in derived if d in numeric), *numeric],
                                      config.features.roles.model_dump())
    if config.features.numeric is None:
        protected = [*derived, *date_features]
        duplicates = near_duplicates(raw, [c for c in numeric if c in raw.columns], {r: c for r, (c, _) in
                                                                                     explained.items()}, protected)
        if duplicates:
            ignored.update(duplicates)
            numeric = [c for c in numeric if c not in duplicates]
            explained = infer_roles_explained([*(d for d in derived if d in numeric), *numeric],
                                              config.features.roles.model_dump())
    roles = {role: column for role, (column, _) in explained.items()}
    for role, (column, why) in explained.items():
        notes.setdefault(column, []).append(f"role {role}: {why}")
    unknown = [f"Config value 'features.roles.{r}': column {c!r} is not a numeric feature"
               for r, c in config.features.roles.model_dump().items() if c and c not in numeric]
    if unknown:
        raise ConfigError(unknown)
    ids = (_id_text(frame[schema.id_column]) if schema.id_column
           else np.asarray([str(i + 1) for i in range(len(frame))], dtype=object))
    features = frame[numeric].astype("float64").join(frame[categorical].astype("string"))
    labels = feature_labels([*numeric, *categorical], config.features.labels, roles)
    role_of = {column: role for role, column in roles.items()}
    flagged = flags(features, numeric)
    units = {c: unit_kind(c, role_of.get(c), c in flagged, _max(features[c])) for c in numeric}
    for column in flagged:
        notes.setdefault(column, []).append("0/1 flag: read as the share of customers")
    quality = DataQuality(
        rows_read=table.rows_read, exclusions=tuple(log.exclusions), rows_segmented=len(frame),
        id_column=schema.id_column, columns=_column_info(raw.join(frame[list(derived)]) if derived else raw,
                                                         schema, numeric, categorical, roles, ignored, notes,
                                                         labels, units),
        numeric_features=tuple(numeric), categorical_features=tuple(categorical),
        derived=tuple(derived.items()), actions=tuple(log.actions), date_range=_date_range(frame, schema.dates),
        currency=(currency.code, currency.symbol, currency.evidence) if currency else None)
    observed = observed_frame(dated, frame.index, tuple(numeric), tuple(categorical), derived, config.cleaning)
    return PreparedData(features.reset_index(drop=True), ids, schema.id_column or "row", tuple(numeric),
                        tuple(categorical), roles, quality, reference.date().isoformat() if reference else None,
                        observed=observed, fences=dict(log.fences), fills=dict(log.fills), labels=labels,
                        units=units, value=_value(observed, unclipped, roles))


def _value(observed: pd.DataFrame | None, unclipped: pd.DataFrame, roles: dict[str, str]) -> np.ndarray | None:
    """Each customer's value measure (the monetary role) as observed, the sum every value figure is made of."""
    if "monetary" not in roles:
        return None
    column = roles["monetary"]
    source = observed if observed is not None and column in observed else unclipped
    return source[column].to_numpy(dtype="float64", na_value=np.nan)


def _flag_parts(frame: pd.DataFrame, derived: dict[str, str], numeric: list[str]) -> dict[str, str]:
    """0/1 flags that a derived total counts (``AcceptedCmp1 + … + Response``): the total speaks for them, and
    each flag kept beside it would pull a handful of customers into a segment of their own."""
    found = {}
    for name, text in derived.items():
        with contextlib.suppress(expressions.ExpressionError):
            parts = [p for p in expressions.parse(text).names if p in numeric]
            flagged = flags(frame, parts)
            if len(parts) >= 2 and set(parts) == flagged:
                found |= {p: f"0/1 flag counted in the derived total {name}, which is used instead" for p in parts}
    return found


def _rare_flags(frame: pd.DataFrame, numeric: list[str], min_share: float) -> dict[str, str]:
    """0/1 flags set for fewer customers than the smallest segment allowed: segmenting on them would only cut
    those few customers out into a segment of their own."""
    found = {}
    for column in flags(frame, numeric):
        share = float(frame[column].mean())
        rare = min(share, 1 - share)
        if rare < min_share:
            found[column] = (f"rare 0/1 flag ({rare:.1%} of customers), below the smallest segment allowed "
                             f"({min_share:.0%}): it would only cut those customers out")
    return found


def _max(values: pd.Series) -> float | None:
    present = values.dropna()
    return float(present.max()) if len(present) else None


def _mask_sentinels(raw: pd.DataFrame, config: Config, log: CleaningLog,
                    notes: dict[str, list[str]]) -> pd.DataFrame:
    """Values that code for "none" (-1, 999 …) become missing before anything else sees them, each reported."""
    configured = config.cleaning.sentinels
    if configured is not None:
        unknown = [c for c in configured if c not in raw.columns]
        if unknown:
            raise ConfigError([f"Config value 'cleaning.sentinels': column {c!r} is not in the data" for c in unknown])
        found = {c: (codes, "set in the config (cleaning.sentinels)") for c, codes in configured.items() if codes}
    else:
        found = {c: ([code], why) for c, (code, _, why) in sentinels(raw, raw.columns).items()}
    if not found:
        return raw
    raw = raw.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    for column, (codes, why) in found.items():
        hits = raw[column].isin(codes)
        count = int(hits.sum())
        if count:
            raw[column] = raw[column].mask(hits)
            shown = ", ".join(f"{c:g}" for c in codes)
            log.actions.append(CleaningAction(column, "sentinel value → missing", count, f"{shown}: {why}"))
            notes.setdefault(column, []).append(f"sentinel {shown} ({count:,} rows) treated as missing: {why}")
    return raw


def _understand(raw: pd.DataFrame, schema: Schema, config: Config,
                notes: dict[str, list[str]]) -> tuple[Schema, pd.DataFrame]:
    """Coded categories become categories and leaked model outputs or outcomes are left out (zero-config only:
    a column listed in ``features.numeric`` or ``features.categorical`` stays as listed)."""
    listed = set(config.features.numeric or []) | set(config.features.categorical or [])
    if schema.id_column is None and config.data.id_column is None and (found := id_column(
            raw, [c for c in schema.numeric if c not in listed])):
        notes.setdefault(found, []).append("customer id: whole numbers unique per row, named like a customer number")
        schema = dataclasses.replace(schema, id_column=found, numeric=tuple(c for c in schema.numeric if c != found),
                                     id_unique=True)
    coded = {} if config.features.categorical is not None else {
        c: why for c, why in coded_categories(raw, schema.numeric).items() if c not in listed}
    leaked = {c: why for c, why in leaks([*schema.numeric, *schema.categorical]).items() if c not in listed}
    if not coded and not leaked:
        return schema, raw
    if coded:
        raw = raw.copy(deep=False)  # copy-on-write: the caller's frame is never changed
        for column in coded:
            raw[column] = raw[column].astype("Int64").astype("string")
            notes.setdefault(column, []).append(coded[column])
    numeric = tuple(c for c in schema.numeric if c not in coded and c not in leaked)
    categorical = tuple(c for c in (*schema.categorical, *(c for c in coded if c not in leaked)) if c not in leaked)
    ignored = (*schema.ignored, *leaked.items())
    return dataclasses.replace(schema, numeric=numeric, categorical=categorical, ignored=ignored), raw
