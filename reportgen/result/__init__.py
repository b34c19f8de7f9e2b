"""The frozen result of an analysis: the one structure every renderer reads.

Nothing in here holds a DataFrame, a chart or HTML; everything is plain numbers, strings and tuples, so the
JSON output is simply this structure serialised (:func:`to_dict`). Per-customer rows travel beside it in
:class:`CustomerTable`, because they grow with the input while the result must not.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from reportgen.result.changes import DriftReport, Migration, MixShift, RetrainAdvice

if TYPE_CHECKING:
    from reportgen.config import Config

FORMAT_VERSION = 1


@dataclass(frozen=True)
class ReportMeta:
    """What the cover and running header show."""

    title: str
    company: str
    period: str
    author: str
    accent_color: str
    page_size: str
    currency: str
    logo: str | None = None
    currency_source: str = ""  # where the currency came from: the configuration, the data (and how), or the default

    @classmethod
    def from_config(cls, config: Config, currency_source: str) -> ReportMeta:
        """The report's settings of a run (``report.currency`` already settled), the logo by its resolved path."""
        report = config.report
        logo = str(config.resolve(report.logo)) if report.logo else None
        return cls(report.title, report.company, report.period, report.author, report.accent_color,
                   report.page_size, report.currency, logo, currency_source)


@dataclass(frozen=True)
class RunInfo:
    """Provenance: enough to reproduce the run."""

    tool_version: str
    input_name: str
    input_sha256: str
    input_kind: str
    seed: int
    library_versions: tuple[tuple[str, str], ...]
    config: dict[str, Any]
    model_sha256: str = ""  # digest of model.json, so a later run can tell an edited model file


@dataclass(frozen=True)
class ColumnInfo:
    """One input column and what the analysis made of it."""

    name: str
    kind: str  # id | numeric | categorical | date | ignored
    dtype: str
    missing: int
    unique: int
    role: str | None = None
    reason: str | None = None  # why it was ignored
    label: str = ""  # business label (features.labels, else derived from the name)
    unit: str = ""  # unit kind: currency, days, months, years, count, share, percent, points, number
    note: str = ""  # what was inferred about it and why (role, flag, coded category, sentinel)


@dataclass(frozen=True)
class Count:
    """A labelled count (rows excluded for a reason, values changed by a cleaning step...)."""

    label: str
    count: int
    detail: str = ""


@dataclass(frozen=True)
class CleaningAction:
    """One change cleaning made to the data."""

    column: str
    action: str
    count: int
    detail: str = ""


@dataclass(frozen=True)
class DataQuality:
    """Rows read → excluded (by reason) → segmented, and what was done to the columns."""

    rows_read: int
    exclusions: tuple[Count, ...]
    rows_segmented: int
    id_column: str | None
    columns: tuple[ColumnInfo, ...]
    numeric_features: tuple[str, ...]
    categorical_features: tuple[str, ...]
    derived: tuple[tuple[str, str], ...]  # (name, expression)
    actions: tuple[CleaningAction, ...]
    date_range: tuple[str, str] | None = None  # earliest and latest date in the date columns (YYYY-MM-DD)
    currency: tuple[str, str, str] | None = None  # (ISO code, symbol, evidence) the data states, if it does


@dataclass(frozen=True)
class KCandidate:
    """Quality criteria of one K in the search."""

    k: int
    inertia: float
    silhouette: float
    calinski_harabasz: float
    davies_bouldin: float
    min_share: float
    allowed: bool
    stability: float = float("nan")  # split-half agreement of the labels (adjusted Rand index)


@dataclass(frozen=True)
class KSelection:
    """How K was chosen and why."""

    mode: str  # auto | fixed
    chosen_k: int
    knee_k: int | None
    votes: tuple[tuple[str, int], ...]  # (criterion, preferred k)
    reason: str
    candidates: tuple[KCandidate, ...]
    sample_size: int  # customers the silhouettes were measured on
    search_size: int  # customers the candidate models were fitted on
    scaling: str
    pca_components: int | None
    pca_variance: float | None
    log_features: tuple[str, ...] = ()
    plain_reason: str = ""  # why this number of segments, in words for the manager's pages


@dataclass(frozen=True)
class FeatureStat:
    """A numeric feature within one segment, in business units, against the whole base."""

    feature: str
    role: str | None
    mean: float
    median: float
    base_mean: float
    base_std: float
    z: float
    missing: int = 0  # customers of the segment without an observed value, left out of mean and median
    note: str = ""  # context a reader needs beside the mean (e.g. a few extreme values dominate it)


@dataclass(frozen=True)
class CategoryShare:
    """One level of a categorical feature within a segment."""

    column: str
    level: str
    share: float
    base_share: float
    lift: float


@dataclass(frozen=True)
class Trait:
    """A distinguishing trait of a segment, with the sentence that states it."""

    feature: str
    kind: str  # numeric | categorical
    direction: str  # high | low
    score: float  # z for numeric, lift for categorical
    text: str


@dataclass(frozen=True)
class Evidence:
    """A metric a rule looked at, and its value for the segment."""

    metric: str
    value: float | str
    text: str


@dataclass(frozen=True)
class Recommendation:
    """A fired rule: the action for one segment with the evidence behind it."""

    rule_id: str
    segment_id: int
    segment_name: str
    title: str
    action: str
    rationale: str
    priority: int  # 1 = highest
    audience: int
    evidence: tuple[Evidence, ...]
    fallback: bool = False
    value_at_stake: float | None = None  # targeted customers' current value (monetary role), in its unit
    value_share_at_stake: float | None = None  # that value as a share of every customer's
    target: str = "the whole segment"  # who in the segment is targeted
    audience_file: str = ""  # CSV of the targeted customer ids (written with the csv format)
    lead: bool = False  # the segment's first action


@dataclass(frozen=True)
class Segment:
    """One segment: size, profile, name with its justification, recommendations."""

    id: int
    name: str
    name_reason: str
    color: str
    size: int
    share: float
    value_share: float | None
    silhouette: float
    stats: tuple[FeatureStat, ...]
    categories: tuple[CategoryShare, ...]
    traits: tuple[Trait, ...]
    recommendations: tuple[Recommendation, ...]
    portrait: str = ""  # one sentence from the strongest traits


@dataclass(frozen=True)
class MapPoint:
    """A sampled customer on the 2-D PCA map."""

    x: float
    y: float
    segment: int


@dataclass(frozen=True)
class SegmentMap:
    """A 2-D PCA projection of a sample of customers."""

    points: tuple[MapPoint, ...]
    explained_variance: tuple[float, float]
    total_customers: int


@dataclass(frozen=True)
class LogSummary:
    """How a transaction log became customers: the window, the columns used, and every row accounted for."""

    as_of: str
    window: str
    window_start: str | None
    columns: tuple[tuple[str, str], ...]  # (role in the log, column)
    reconciliation: tuple[Count, ...]  # raw rows, each exclusion rule, lines used
    excluded_customers: tuple[Count, ...]
    totals: tuple[tuple[str, float], ...]  # active customers, revenue, orders, average order value...
    notes: tuple[str, ...] = ()  # how the log was read: columns taken for each role and why, date format, orders
    first_date: str | None = None  # the log's first dated line
    history_warning: str | None = None  # set when the window asks for more history than the log holds


@dataclass(frozen=True)
class RfmSummary:
    """RFM scores and groups beside the K-Means segments."""

    groups: tuple[Count, ...]  # customers per RFM group, in map order
    crosstab: tuple[tuple[int, str, int], ...]  # (segment id, RFM group, customers)
    scores: tuple[tuple[str, int, int], ...]  # (score letter r/f/m, score 1-5, customers)


@dataclass(frozen=True)
class BaselineSegment:
    """A segment of the baseline run, as its summary recorded it."""

    id: int
    name: str
    color: str
    size: int
    share: float
    value_share: float | None
    mean_value: float | None


@dataclass(frozen=True)
class SegmentIdentity:
    """Which baseline segment a segment of this run continues, if any."""

    segment_id: int
    status: str  # kept | new
    baseline_id: int | None
    baseline_name: str | None
    distance: float | None  # centroid distance in the baseline's model space
    overlap: float | None = None  # share of the baseline segment's continuing customers now in this segment
    reason: str = ""  # why it continues a baseline segment, or why it is new


@dataclass(frozen=True)
class Comparison:
    """This run against the previous one: identities, migration, drift, mix vs behaviour, retrain advice."""

    baseline_period: str
    baseline_folder: str
    mode: str  # refit | reuse-model
    baseline_segments: tuple[BaselineSegment, ...]
    identities: tuple[SegmentIdentity, ...]
    retired: tuple[int, ...]  # baseline segment ids with no successor
    baseline_customers: int
    migration: Migration
    drift: DriftReport
    mix: MixShift | None
    ari: float  # agreement of last month's model with a fresh fit on this month's data
    advice: RetrainAdvice
    sentences: tuple[str, ...]  # the "Since <period>" block of the executive summary
    history_warnings: tuple[str, ...] = ()  # a baseline or current window holding less history than asked


@dataclass(frozen=True)
class AnalysisResult:
    """Everything the reports say, computed once."""

    format_version: int
    report: ReportMeta
    run: RunInfo
    data: DataQuality
    roles: tuple[tuple[str, str], ...]  # (role, column)
    k_selection: KSelection
    segments: tuple[Segment, ...]
    recommendations: tuple[Recommendation, ...]
    highlights: tuple[str, ...]
    segment_map: SegmentMap
    value_column: str | None
    rules_not_applicable: tuple[tuple[str, str], ...] = ()  # (rule id, reason)
    transactions: LogSummary | None = None
    rfm: RfmSummary | None = None
    comparison: Comparison | None = None
    labels: tuple[tuple[str, str], ...] = ()  # (feature, business label)
    units: tuple[tuple[str, str], ...] = ()  # (feature, unit kind)
    value_unit: str = ""  # unit kind of the value measure (currency, points …)

    @property
    def label_map(self) -> dict[str, str]:
        """Business label of every feature (its name where none is known)."""
        return dict(self.labels)

    @property
    def role_map(self) -> dict[str, str]:
        """Roles as a dict ``role -> column``."""
        return dict(self.roles)

    @property
    def customers(self) -> int:
        """Customers segmented."""
        return self.data.rows_segmented


@dataclass(frozen=True)
class CustomerTable:
    """Per-customer output rows (one entry per segmented customer, in a deterministic order).

    ``columns`` holds extra per-customer columns (name → array) that some inputs add, such as the aggregated
    features of a transaction log. ``features`` holds a few key feature values in business units (name → float
    array), shown in the HTML report's customer explorer.
    """

    ids: np.ndarray
    segment: np.ndarray
    distance: np.ndarray
    segment_names: tuple[str, ...]
    id_name: str = "customer_id"
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    features: dict[str, np.ndarray] = field(default_factory=dict)
    total: int | None = None  # set on a sample of the table: how many customers the full table has
    audiences: dict[str, np.ndarray] = field(default_factory=dict)  # audience file name -> customer rows

    def take(self, rows: np.ndarray) -> CustomerTable:
        """The given rows only, without the extra ``columns``, remembering the full table's size."""
        return CustomerTable(self.ids[rows], self.segment[rows], self.distance[rows], self.segment_names,
                             self.id_name, {}, {name: values[rows] for name, values in self.features.items()},
                             self.total or len(self.segment))


def _plain(value: Any) -> Any:
    """Make a value JSON-safe: NaN/inf become None, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 10)
    return value


def to_dict(result: AnalysisResult) -> dict[str, Any]:
    """Serialise the result to plain JSON-ready data (deterministic: no timestamps, no timings)."""
    return _plain(dataclasses.asdict(result))
