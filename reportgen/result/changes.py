"""What changed since the baseline run, as frozen records: drift, migration, the mix shift and the retrain advice.

The records live apart from the code that computes them (:mod:`reportgen.compare.drift`,
:mod:`reportgen.compare.migration`) so the result model, and whatever only presents it, loads without the analysis
libraries.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reportgen.errors import ConfigError

if TYPE_CHECKING:
    from reportgen.config import ComparisonConfig


@dataclass(frozen=True)
class DriftThresholds:
    """When a feature, and the whole data set, count as drifted."""

    psi_moderate: float
    psi_major: float
    distance: float
    dataset_share: float
    min_bin_count: int

    @classmethod
    def from_config(cls, cfg: ComparisonConfig | None = None, **overrides: Any) -> DriftThresholds:
        """The thresholds a run uses: the ``[comparison]`` settings (their defaults live in the config schema)."""
        from reportgen.config import ComparisonConfig  # pydantic: only where thresholds are made

        cfg = cfg or ComparisonConfig()
        settings = {name: getattr(cfg, name) for name in
                    ("psi_moderate", "psi_major", "distance", "dataset_share", "min_bin_count")}
        return cls(**(settings | overrides))

    def __post_init__(self) -> None:
        checks = [(0 < self.psi_moderate <= self.psi_major, f"drift PSI thresholds need 0 < moderate "
                   f"({self.psi_moderate}) <= major ({self.psi_major})"),
                  (self.distance > 0, f"drift distance threshold must be positive, not {self.distance}"),
                  (0 < self.dataset_share <= 1, f"drift dataset share must be in (0, 1], not {self.dataset_share}"),
                  (self.min_bin_count >= 1, f"drift minimum bin count must be at least 1, not {self.min_bin_count}")]
        problems = [message for ok, message in checks if not ok]
        if problems:
            raise ConfigError(problems)


@dataclass(frozen=True)
class FeatureDrift:
    """How far one feature moved from the baseline."""

    feature: str
    kind: str  # numeric | categorical
    psi: float
    distance: float
    distance_kind: str  # wasserstein/σ | jensen-shannon
    band: str  # none | moderate | major (by PSI)
    drifted: bool
    small_sample: bool
    note: str = ""
    missing_share: float | None = None  # share of this month's customers without a value (compared apart)
    baseline_missing_share: float | None = None


@dataclass(frozen=True)
class DriftReport:
    """Per-feature drift and the verdict on the data set as a whole."""

    features: tuple[FeatureDrift, ...]
    drifted_features: tuple[str, ...]
    share_drifted: float
    dataset_drift: bool
    compared: tuple[str, ...]
    missing: tuple[str, ...]  # in the baseline but not in the data, or the other way round


@dataclass(frozen=True)
class Move:
    """A flow of customers from one segment to a different one."""

    old_id: int
    old_name: str
    new_id: int
    new_name: str
    count: int
    value: float | None


@dataclass(frozen=True)
class Migration:
    """Customers followed from last month's segments to this month's.

    ``value`` figures are sums of this month's value (e.g. spend) of the customers counted, or None when no
    value was given.
    """

    cells: tuple[tuple[int, int, int, float | None], ...]  # (old id, new id, customers, value), every pair
    row_totals: tuple[tuple[int, int], ...]  # (old id, customers of it still present)
    column_totals: tuple[tuple[int, int], ...]  # (new id, customers in it who were present last month)
    lost_by_segment: tuple[tuple[int, int], ...]  # (old id, customers gone this month)
    added_by_segment: tuple[tuple[int, int, float | None], ...]  # (new id, customers new this month, value)
    both: int
    added: int
    lost: int
    stayed: int  # customers of both runs whose new segment is their old one (matched, or equal ids)
    largest_moves: tuple[Move, ...]


@dataclass(frozen=True)
class SegmentShift:
    """One segment's part in the change of the overall mean (share 0 and mean None in a period it is absent from)."""

    key: Hashable
    old_share: float
    new_share: float
    old_mean: float | None
    new_mean: float | None
    mix: float
    behaviour: float

    @property
    def total(self) -> float:
        """The segment's whole contribution, ``mix + behaviour``."""
        return self.mix + self.behaviour


@dataclass(frozen=True)
class MixShift:
    """The change of the mean value per customer, split into mix and behaviour effects."""

    old_mean: float
    new_mean: float
    total_change: float
    mix_effect: float
    behaviour_effect: float
    segments: tuple[SegmentShift, ...]  # last month's order, then segments new this month in their order


@dataclass(frozen=True)
class RetrainThresholds:
    """When the segmentation counts as no longer stable."""

    min_ari: float
    max_unmatched: int = 0  # segments that appeared or retired, tolerated before advising a retrain (no config key)

    @classmethod
    def from_config(cls, cfg: ComparisonConfig | None = None, **overrides: Any) -> RetrainThresholds:
        """The thresholds a run uses: the ``[comparison]`` settings (their defaults live in the config schema)."""
        from reportgen.config import ComparisonConfig  # pydantic: only where thresholds are made

        cfg = cfg or ComparisonConfig()
        return cls(**({"min_ari": cfg.min_ari} | overrides))

    def __post_init__(self) -> None:
        if not -1 <= self.min_ari <= 1:
            raise ConfigError(f"retrain ARI threshold must be between -1 and 1, not {self.min_ari}")
        if self.max_unmatched < 0:
            raise ConfigError(f"retrain unmatched-segment allowance must be zero or more, not {self.max_unmatched}")


@dataclass(frozen=True)
class RetrainAdvice:
    """Keep last month's model or retrain it, and why."""

    action: str  # keep | retrain
    reasons: tuple[str, ...]
    ari: float
