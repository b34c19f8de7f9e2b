"""What changed since the baseline run, as frozen records: feature drift and customer migration.

The records live apart from the code that computes them (:mod:`reportgen.compare.drift`,
:mod:`reportgen.compare.migration`) so the result model, and whatever only presents it, loads without the analysis
libraries.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.errors import ConfigError


@dataclass(frozen=True)
class DriftThresholds:
    """When a feature, and the whole data set, count as drifted."""

    psi_moderate: float = 0.1
    psi_major: float = 0.25
    distance: float = 0.1
    dataset_share: float = 0.5
    min_bin_count: int = 5

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
