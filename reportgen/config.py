"""The configuration, declared once: every key with its type, default and one-line help.

A TOML file and command-line overrides are merged into one dict and validated here; every problem is
reported together as ``Config value 'section.key': <problem> but received <value>``.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reportgen.errors import ConfigError

ROLE_NAMES = (
    "monetary", "frequency", "recency", "income", "age", "tenure", "web_purchases", "store_purchases",
    "catalog_purchases", "deal_purchases", "web_visits", "campaign_responses", "children", "complaints",
    "credit_limit", "balance", "utilization", "contacts", "products", "experience",
)


Format = Literal["pdf", "html", "json", "csv"]
FORMATS: tuple[str, ...] = typing.get_args(Format)  # the output formats, in the order they are listed


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class DataConfig(_Section):
    path: str | None = Field(None, description="Input file: CSV/TSV (optionally .gz), Parquet or Excel .xlsx.")
    url: str | None = Field(None, description="Database to read instead of a file: postgresql://host/db, "
                            "sqlite:///file.db or duckdb:///file.duckdb (no password here: PGPASSWORD, ~/.pgpass or "
                            "a service file).")
    table: str | None = Field(None, description="Database table or view to read (optionally schema.table).")
    query: str | None = Field(None, description="SELECT to read instead of a table, in the database's own SQL.")
    input: Literal["auto", "customers", "transactions"] = Field(
        "auto", description="One row per customer, or a transaction log (one row per invoice line); auto detects.")
    id_column: str | None = Field(None, description="Customer id column; inferred when unset.")
    sep: str | None = Field(None, description="Field separator of a text file; sniffed when unset.")
    encoding: str | None = Field(None, description="Text encoding; detected when unset (UTF-8, UTF-16, cp1252).")
    decimal: str | None = Field(None, description="Decimal mark of a text file ('.' or ','); sniffed when unset.")
    sheet: str | int | None = Field(None, description="Excel sheet name or index; the first sheet when unset.")
    date_formats: dict[str, str] = Field(
        default_factory=dict, description="strftime format per date column, e.g. {Dt_Customer = '%d-%m-%Y'}.")
    reference_date: str | None = Field(
        None, description="Date that 'days since' features count from (YYYY-MM-DD); latest date in the data if unset.")
    duplicate_ids: Literal["error", "keep-first"] = Field(
        "keep-first", description="What to do with repeated customer ids: stop, or keep the first row (reported).")


class TransactionsConfig(_Section):
    customer: str | None = Field(None, description="Customer id column of the log; recognised by name if unset.")
    invoice: str | None = Field(None, description="Invoice / order id column.")
    timestamp: str | None = Field(None, description="Date-time column of each line.")
    quantity: str | None = Field(None, description="Quantity column (negative for returns).")
    unit_price: str | None = Field(None, description="Unit price column (line amount = quantity × unit price).")
    amount: str | None = Field(None, description="Line amount column, instead of quantity × unit price.")
    margin: str | None = Field(None, description="Profit / margin column of each line (optional), summed per "
                               "customer as the 'margin' feature.")
    product: str | None = Field(None, description="Product / stock code column (optional).")
    channel: str | None = Field(None, description="Sales channel column (optional).")
    country: str | None = Field(None, description="Country column (optional).")
    timestamp_format: str | None = Field(None, description="strftime format of the timestamp; detected from the "
                                         "values if unset.")
    as_of: str | None = Field(None, description="Date the features are computed at (YYYY-MM-DD); the day after the "
                              "last transaction if unset.")
    window: str = Field("12M", description="History used before as_of: e.g. 90D, 26W, 12M, 2Y, or 'all'.")
    cancel_prefix: str | None = Field("C", description="Invoice prefix that marks a cancellation; none if empty.")
    negative_quantity_is_return: bool = Field(True, description="Lines with negative quantity are returns.")
    exclude_codes: list[str] = Field(
        default_factory=lambda: ["POST", "DOT", "M", "BANK CHARGES", "AMAZONFEE", "B", "C2", "D", "S", "CRUK",
                                 "PADS", "ADJUST", "ADJUST2", "TEST001", "TEST002"],
        description="Product codes that are not products (postage, manual, fees, bad-debt adjustments...).")
    exclude_code_patterns: list[str] = Field(
        default_factory=lambda: ["gift_0001_%"], description="SQL LIKE patterns of further non-product codes.")
    drop_duplicates: bool = Field(True, description="Drop exact duplicate lines.")
    recent_days: int = Field(90, ge=1, description="Days counted as 'recent' for the recent-spend feature.")
    memory_limit: str = Field("2GB", description="DuckDB memory limit for the aggregation.")
    threads: int | None = Field(None, ge=1, description="DuckDB threads; all cores if unset.")
    rfm_groups: str | None = Field(None, description="TOML file of RFM group score ranges replacing the built-in map.")


class RolesConfig(_Section):
    monetary: str | None = Field(None, description="Column of total spend / value; drives value share.")
    frequency: str | None = Field(None, description="Column of purchase count.")
    recency: str | None = Field(None, description="Column of days since the last purchase (higher = more lapsed).")
    income: str | None = Field(None, description="Column of income.")
    age: str | None = Field(None, description="Column of age in years.")
    tenure: str | None = Field(None, description="Column of days (or months) as a customer.")
    web_purchases: str | None = Field(None, description="Column of purchases made online.")
    store_purchases: str | None = Field(None, description="Column of purchases made in store.")
    catalog_purchases: str | None = Field(None, description="Column of purchases made by catalogue.")
    deal_purchases: str | None = Field(None, description="Column of purchases made with a discount.")
    web_visits: str | None = Field(None, description="Column of website visits.")
    campaign_responses: str | None = Field(None, description="Column of accepted campaigns / responses.")
    children: str | None = Field(None, description="Column of children in the household.")
    complaints: str | None = Field(None, description="Column of complaints.")
    credit_limit: str | None = Field(None, description="Column of credit limit.")
    balance: str | None = Field(None, description="Column of balance held (e.g. revolving balance).")
    utilization: str | None = Field(None, description="Column of credit utilisation (balance / limit).")
    contacts: str | None = Field(None, description="Column of contacts with the company (calls, tickets).")
    products: str | None = Field(None, description="Column of products held.")
    experience: str | None = Field(None, description="Column of years of work experience (career stage).")


class FeaturesConfig(_Section):
    numeric: list[str] | None = Field(None, description="Numeric feature columns; inferred when unset.")
    categorical: list[str] | None = Field(None, description="Categorical feature columns; inferred when unset.")
    exclude: list[str] = Field(default_factory=list, description="Columns never used as features.")
    derived: dict[str, str] = Field(
        default_factory=dict, description="New features as arithmetic over columns, e.g. {Age = '2014 - Year_Birth'}.")
    roles: RolesConfig = Field(default_factory=RolesConfig, description="Which column plays each business role.")
    max_categories: int = Field(20, ge=2, description="Text columns with at most this many levels are categorical.")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Business label per feature, e.g. {MntWines = 'Wine spend'}; derived "
        "from the column name when unset.")


class RangeConfig(_Section):
    min: float | None = Field(None, description="Lowest plausible value.")
    max: float | None = Field(None, description="Highest plausible value.")
    action: Literal["missing", "drop"] = Field(
        "missing", description="Out-of-range values become missing (then imputed) or their rows are dropped.")


class CleaningConfig(_Section):
    numeric_missing: Literal["median", "mean", "drop"] = Field(
        "median", description="Missing numeric values: impute the median or mean, or drop the row.")
    categorical_missing: Literal["mode", "drop"] = Field(
        "mode", description="Missing categorical values: impute the most frequent level, or drop the row.")
    missing: dict[str, Literal["median", "mean", "mode", "drop"]] = Field(
        default_factory=dict, description="Per-column missing-value policy, overriding the two defaults.")
    outliers: Literal["none", "iqr", "quantile"] = Field(
        "iqr", description="Outlier policy for numeric features: clip beyond IQR fences or quantiles, or none.")
    iqr_factor: float = Field(3.0, gt=0, description="IQR fences at Q1 - f*IQR and Q3 + f*IQR.")
    quantiles: tuple[float, float] = Field((0.01, 0.99), description="Lower and upper clipping quantiles.")
    sentinels: dict[str, list[float]] | None = Field(
        None, description="Codes per column that stand for 'none' (e.g. {pdays = [999]}), made missing for the model; "
        "detected (-1, 999, 9999 … set apart from the other values) when unset, none with {}.")
    outlier_columns: list[str] | None = Field(
        None, description="Columns outlier clipping applies to; all numeric if unset.")
    ranges: dict[str, RangeConfig] = Field(
        default_factory=dict, description="Plausible range per column, e.g. {Year_Birth = {min = 1920}}.")
    merge: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Category merges per column, e.g. {Marital_Status = {Together = 'Married'}}.")

    @field_validator("quantiles")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= value[0] < value[1] <= 1:
            raise ValueError("expected two quantiles 0 <= low < high <= 1")
        return value


class SegmentationConfig(_Section):
    k: Literal["auto"] | int = Field("auto", description="Number of segments, or 'auto' to choose it.")
    k_min: int = Field(3, ge=2, description="Smallest K tried when k = 'auto'.")
    k_max: int = Field(8, ge=2, le=30, description="Largest K tried when k = 'auto'.")
    scaling: Literal["standard", "robust"] = Field("standard", description="Scaling of numeric features.")
    log_features: list[str] | None = Field(
        None, description="Features put on a signed log scale before scaling (heavy-tailed spend, counts); "
        "none for customer tables and spend/count features for transaction logs when unset.")
    pca: Literal["off"] | int | float = Field(
        "off", description="PCA before K-Means: 'off', a component count, or a variance share in (0, 1).")
    seed: int = Field(42, description="Random seed (K-Means init, sampling): same seed, same result.")
    min_segment_share: float = Field(
        0.05, ge=0, lt=0.5, description="Smallest allowed segment, as a share of customers.")
    n_init: int = Field(10, ge=1, description="K-Means restarts per K.")
    sample_size: int = Field(
        5000, ge=200, description="Rows used for silhouette scores and the map when data is larger.")
    search_sample: int = Field(
        10_000, ge=500, description="Rows K-Means is fitted on while choosing K (a seeded sample when data is "
        "larger); the chosen K is then fitted on every customer.")
    names: dict[str, str] = Field(
        default_factory=dict, description="Segment names to use instead of generated ones, by segment id.")

    @field_validator("k")
    @classmethod
    def _k_positive(cls, value: Any) -> Any:
        if isinstance(value, int) and value < 2:
            raise ValueError("expected 'auto' or an integer >= 2 (one segment is no segmentation)")
        return value

    @field_validator("pca")
    @classmethod
    def _pca_valid(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("expected 'off', an integer >= 2 or a share in (0, 1)")
        if isinstance(value, int) and value < 2:
            raise ValueError("expected a component count >= 2")
        if isinstance(value, float) and not 0 < value < 1:
            raise ValueError("expected a variance share in (0, 1)")
        return value

    @model_validator(mode="after")
    def _k_range(self) -> SegmentationConfig:
        if self.k_min > self.k_max:
            raise ValueError(f"k_min ({self.k_min}) must not exceed k_max ({self.k_max})")
        return self


class ReportConfig(_Section):
    title: str = Field("Customer segmentation brief", description="Report title.")
    company: str = Field("", description="Company name on the cover.")
    period: str = Field("", description="Period the report covers, e.g. 2026-10.")
    author: str = Field("", description="Author shown on the cover and in PDF metadata.")
    logo: str | None = Field(None, description="Logo image file for the cover (PNG, JPEG or SVG).")
    accent_color: str = Field("#1f5f8b", description="Accent colour (hex, e.g. #1f5f8b).")
    page_size: Literal["A4", "Letter"] = Field("A4", description="PDF page size.")
    currency: str | None = Field(None, description="Currency symbol for monetary values; inferred from the data when "
                                 "unset (a currency column, symbols in values or column names, the main country), "
                                 "else $.")
    explorer_rows: int = Field(5000, ge=1, le=20_000, description="Most customers listed in the HTML report's "
                               "customer explorer; above it, a seeded sample from each segment.")

    @field_validator("accent_color")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not re.fullmatch(r"#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3}", value):
            raise ValueError("expected a hex colour like #1f5f8b")
        return value


class ComparisonConfig(_Section):
    baseline: str | None = Field(None, description="A previous run's output folder to compare this run with.")
    reuse_model: bool = Field(
        False, description="Assign this month's customers with the baseline's model instead of refitting.")
    match_distance: float | None = Field(
        None, gt=0, description="Largest centroid distance for a segment to keep its identity; half the median "
        "distance between the baseline's centroids when unset.")
    psi_moderate: float = Field(0.1, gt=0, description="PSI from which a feature counts as drifted (moderate).")
    psi_major: float = Field(0.25, gt=0, description="PSI from which drift is major.")
    distance: float = Field(
        0.1, gt=0, description="Normalised Wasserstein / Jensen–Shannon distance from which a feature drifted.")
    dataset_share: float = Field(
        0.5, gt=0, le=1, description="Share of drifted features from which the data set as a whole drifted.")
    min_bin_count: int = Field(5, ge=1, description="Expected customers per bin below which drift is flagged as "
                               "a small-sample result.")
    min_ari: float = Field(0.8, ge=0, le=1, description="Agreement (adjusted Rand index) between last month's "
                           "model and a fresh fit below which retraining is advised.")

    @model_validator(mode="after")
    def _psi_bands(self) -> ComparisonConfig:
        if not self.psi_moderate < self.psi_major:
            raise ValueError(f"psi_moderate ({self.psi_moderate}) must be below psi_major ({self.psi_major})")
        return self


class RulesConfig(_Section):
    file: str | None = Field(None, description="TOML rules file that extends or replaces the built-in rulebook.")
    mode: Literal["extend", "replace"] = Field("extend", description="Add to the built-in rules, or replace them.")


class OutputConfig(_Section):
    dir: str | None = Field(
        None, description="Output folder; ./reportgen-report in the working folder when unset (a relative path set "
        "in a config file is relative to that file).")
    formats: list[Format] = Field(default_factory=lambda: list(FORMATS), description="Outputs to write.")
    template_dir: str | None = Field(None, description="Folder of templates that override the built-in ones.")
    database: str | None = Field(None, description="Database the segments are written back to (postgresql://…, "
                                 "sqlite:///…, duckdb:///…); report.period names the rows.")
    segments_table: str = Field("segments", description="Table of one row per customer and period written back.")
    summary_table: str = Field("segment_summary", description="Table of one row per segment and period written back.")


class Config(_Section):
    data: DataConfig = Field(default_factory=DataConfig, description="Input file and how to read it.")
    transactions: TransactionsConfig = Field(
        default_factory=TransactionsConfig, description="Reading a transaction log into customer features.")
    features: FeaturesConfig = Field(default_factory=FeaturesConfig, description="Features and roles.")
    cleaning: CleaningConfig = Field(default_factory=CleaningConfig, description="Cleaning policies.")
    segmentation: SegmentationConfig = Field(default_factory=SegmentationConfig, description="Choosing K and fitting.")
    report: ReportConfig = Field(default_factory=ReportConfig, description="What the report says about itself.")
    rules: RulesConfig = Field(default_factory=RulesConfig, description="The recommendation rulebook.")
    comparison: ComparisonConfig = Field(
        default_factory=ComparisonConfig, description="Comparing with a previous run (monthly briefs).")
    output: OutputConfig = Field(default_factory=OutputConfig, description="Where and what to write.")
    base_dir: str = Field(".", exclude=True, description="Folder relative paths are resolved against.")

    def resolve(self, path: str | None) -> Path | None:
        """Resolve a path from the config against the config file's folder."""
        if path is None:
            return None
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else Path(self.base_dir) / candidate


def _fields_of(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at ``loc``; a ``dict[str, Section]`` (``cleaning.ranges.<column>``) is looked through."""
    model: Any = Config
    parts = list(loc)
    while parts:
        fields = getattr(model, "model_fields", None)
        part = parts.pop(0)
        if fields is None or part not in fields:
            return []
        annotation = fields[part].annotation
        if typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]
            if not parts:  # the dict's own keys are column names: nothing to suggest
                return []
            parts.pop(0)
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return list(getattr(model, "model_fields", {}))


def _describe(error: dict[str, Any]) -> str:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith(("literal[", "function-"))))
    loc = tuple(p for p in loc if p not in ("int", "float", "str", "bool", "list[str]", "tuple[float, float]"))
    path = ".".join(str(p) for p in loc) or "(top level)"
    received = error.get("input")
    if error["type"] == "extra_forbidden":
        parent, key = loc[:-1], str(loc[-1])
        hint = difflib.get_close_matches(key, _fields_of(parent), n=1)
        suggestion = f" (did you mean '{'.'.join(map(str, (*parent, hint[0])))}'?)" if hint else ""
        return f"Config key '{path}' is not known{suggestion}"
    message = error["msg"].removeprefix("Value error, ")
    return f"Config value '{path}': {message[0].lower() + message[1:]} but received {received!r}"


def _group(errors: list[Any]) -> list[str]:
    """One message per key: alternatives of a union (``'auto' | int``) are joined with 'or'."""
    by_key: dict[str, list[str]] = {}
    for error in errors:
        head, _, tail = _describe(error).partition(": ")
        if tail and " but received " in tail:
            problem, _, received = tail.rpartition(" but received ")
            by_key.setdefault(head, []).append(problem)
            by_key.setdefault(head + "\0", [received])
        else:
            by_key.setdefault(head, [])
    lines = []
    for head, problems in by_key.items():
        if head.endswith("\0"):
            continue
        if not problems:
            lines.append(head)
        else:
            unique = list(dict.fromkeys(problems))
            lines.append(f"{head}: {' or '.join(unique)} but received {by_key[head + chr(0)][0]}")
    return lines


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for dotted, value in overrides.items():
        if value is None:
            continue
        node = merged
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {}) if isinstance(node.get(key, {}), dict) else {}
        node[leaf] = value
    return merged


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning any problem into a :class:`ConfigError` naming the file."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Build the configuration from an optional TOML file and dotted-key overrides.

    Parameters
    ----------
    path
        TOML config file; relative paths inside it are resolved against its folder.
    overrides
        Values such as ``{"segmentation.k": 5}`` that take precedence over the file.

    Raises
    ------
    ConfigError
        With every problem found, each naming the key path and the value received.
    """
    raw: dict[str, Any] = {}
    base_dir = "."
    if path is not None:
        path = Path(path)
        raw = read_toml(path)
        base_dir = str(path.parent)
    raw = _merge(raw, overrides or {})
    raw.pop("base_dir", None)
    try:
        return Config.model_validate({**raw, "base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(_group(exc.errors()), source=str(path) if path else None) from None


def effective_config(config: Config) -> dict[str, Any]:
    """The configuration as plain data, for the report appendix and summary.json.

    Folders are left out (the output folder, the folders around input files) so the same run gives the same
    summary wherever it is written, and no local paths travel with a report.
    """
    plain = config.model_dump(mode="json", exclude={"base_dir"})
    plain["output"].pop("dir", None)
    for section, key in (("data", "path"), ("output", "template_dir"), ("rules", "file"), ("report", "logo"),
                         ("comparison", "baseline"), ("transactions", "rfm_groups")):
        if plain[section].get(key):
            plain[section][key] = Path(plain[section][key]).name
    return plain
