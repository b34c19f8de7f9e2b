"""Who each recommendation targets and what is at stake: audiences, their current value, the ranking.

A rule acts on its whole segment, or (``target`` in the rule) on part of it: its lapsed customers, its lapsed
high-value customers, its low-activity customers... The value at stake is the targeted customers' current value
measure (the monetary role) summed; the list is ranked by it, the rule's priority breaking ties, and each
segment's first recommendation is its lead action.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reportgen.result import Recommendation


@dataclass(frozen=True)
class Target:
    """Part of a segment a rule may act on: the roles it reads, its description and its customer test."""

    roles: tuple[str, ...]
    description: str
    test: Callable[[dict[str, np.ndarray], dict[str, float]], np.ndarray]


def _above(role: str) -> Callable[[dict[str, np.ndarray], dict[str, float]], np.ndarray]:
    return lambda v, m: v[role] > m[role]


def _below(role: str) -> Callable[[dict[str, np.ndarray], dict[str, float]], np.ndarray]:
    return lambda v, m: v[role] < m[role]


# Thresholds are the whole base's medians: "longer inactive than the typical customer".
TARGETS: dict[str, Target] = {
    "lapsed": Target(("recency",), "inactive for longer than the typical customer", _above("recency")),
    "lapsed_high_value": Target(
        ("recency", "monetary"), "inactive for longer than the typical customer and of above-typical value",
        lambda v, m: (v["recency"] > m["recency"]) & (v["monetary"] > m["monetary"])),
    "high_value": Target(("monetary",), "of above-typical value", _above("monetary")),
    "low_value": Target(("monetary",), "of below-typical value", _below("monetary")),
    "low_activity": Target(("frequency",), "with fewer transactions than the typical customer", _below("frequency")),
    "frequent_contacts": Target(("contacts",), "in contact more often than the typical customer", _above("contacts")),
    "high_utilization": Target(("utilization",), "using more of their credit than the typical customer",
                               _above("utilization")),
    "single_product": Target(("products",), "holding fewer products than the typical customer", _below("products")),
}


def target_masks(frame: pd.DataFrame, roles: Mapping[str, str],
                 labels: np.ndarray) -> dict[tuple[int, str], np.ndarray]:
    """Row masks of every applicable target within every segment: ``(segment id, target) → bool array``."""
    masks: dict[tuple[int, str], np.ndarray] = {}
    values = {role: frame[column].to_numpy(dtype=np.float64, na_value=np.nan) for role, column in roles.items()}
    medians = {role: float(np.nanmedian(v)) if np.isfinite(v).any() else float("nan") for role, v in values.items()}
    k = int(labels.max()) + 1 if len(labels) else 0
    for name, target in TARGETS.items():
        if not all(role in values for role in target.roles):
            continue
        with np.errstate(invalid="ignore"):
            hit = target.test(values, medians)
        for segment in range(k):
            masks[(segment, name)] = hit & (labels == segment)
    return masks


def _file_name(rule_id: str, segment_id: int) -> str:
    return f"audience_segment{segment_id}_{re.sub(r'[^A-Za-z0-9_-]+', '-', rule_id)}.csv"


def rank(recommendations: list[Recommendation], masks: Mapping[tuple[int, str], np.ndarray],
         labels: np.ndarray, value: np.ndarray | None, targets: Mapping[str, str | None],
         ) -> tuple[tuple[Recommendation, ...], dict[str, np.ndarray]]:
    """Size, value and rank the recommendations; return them with each audience's customer rows by file name.

    Parameters
    ----------
    recommendations
        As the rulebook fired them (one per rule and segment).
    masks
        :func:`target_masks` of this run.
    labels
        Segment of every customer.
    value
        Every customer's current value (the monetary role's column, as observed), or None without one.
    targets
        Each rule id's target (None: the whole segment).
    """
    total = float(np.nansum(value)) if value is not None else 0.0
    sized, rows_by_file = [], {}
    for rec in recommendations:
        target = targets.get(rec.rule_id)
        mask = masks.get((rec.segment_id, target)) if target else None
        mask = mask if mask is not None else labels == rec.segment_id
        rows = np.flatnonzero(mask)
        stake = float(np.nansum(value[rows])) if value is not None else None
        name = _file_name(rec.rule_id, rec.segment_id)
        rows_by_file[name] = rows
        sized.append(dataclasses.replace(
            rec, audience=len(rows), value_at_stake=stake,
            value_share_at_stake=stake / total if stake is not None and total > 0 else None,
            target=TARGETS[target].description if target and target in TARGETS else "the whole segment",
            audience_file=name))
    return by_stake(sized), rows_by_file


def by_stake(recommendations: list[Recommendation]) -> tuple[Recommendation, ...]:
    """Recommendations ranked by value at stake (then specific before fallback, priority, segment, rule), each
    segment's first one marked as its lead; the same ranking for every engine."""
    ordered = sorted(recommendations, key=lambda r: (-(r.value_at_stake or 0.0), r.fallback, r.priority,
                                                     r.segment_id, r.rule_id))
    leads: set[int] = set()
    ranked = []
    for rec in ordered:
        ranked.append(dataclasses.replace(rec, lead=rec.segment_id not in leads))
        leads.add(rec.segment_id)
    return tuple(ranked)
