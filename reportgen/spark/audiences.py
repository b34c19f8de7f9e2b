"""Who each recommendation targets and its value at stake, counted in Spark (:mod:`reportgen.describe.stakes`' rules).

A target's thresholds are the whole base's medians of the model's values (as
:func:`reportgen.describe.stakes.target_masks`
takes them); every (segment, target) audience is counted and its observed value summed in one aggregation. The
ranking is the local one: by value at stake, the rule's fallback and priority breaking ties, each segment's first
recommendation its lead action.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from reportgen.describe.stakes import TARGETS, by_stake
from reportgen.spark.model import LABEL
from reportgen.spark.prepare import numeric_name, observed_name
from reportgen.spark.stats import quantiles

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


def audience_file(rule_id: str, segment_id: int) -> str:
    """The audience file's name, as the local engine names it."""
    import re

    return f"audience_segment{segment_id}_{re.sub(r'[^A-Za-z0-9_-]+', '-', rule_id)}.csv"


def _tests(roles: dict[str, str], numeric: tuple[str, ...], medians: dict[str, float]) -> dict[str, Column]:
    from pyspark.sql import functions as F

    values = {role: F.col(numeric_name(numeric.index(c))) for role, c in roles.items() if c in numeric}
    above = {"lapsed": ("recency",), "high_value": ("monetary",), "frequent_contacts": ("contacts",),
             "high_utilization": ("utilization",)}
    below = {"low_value": ("monetary",), "low_activity": ("frequency",), "single_product": ("products",)}
    tests: dict[str, Column] = {}
    for name, target in TARGETS.items():
        if not all(role in values for role in target.roles):
            continue
        if name == "lapsed_high_value":
            test = (values["recency"] > medians["recency"]) & (values["monetary"] > medians["monetary"])
        elif name in above:
            test = values[above[name][0]] > medians[above[name][0]]
        elif name in below:
            test = values[below[name][0]] < medians[below[name][0]]
        else:
            continue
        tests[name] = F.coalesce(test, F.lit(False))
    return tests


def audience_sizes(frame: DataFrame, k: int, roles: dict[str, str], numeric: tuple[str, ...],
                   rows: int) -> tuple[dict[tuple[int, str], int], Any, dict[str, Column]]:
    """Audience counts, the sizer :func:`reportgen.pipeline.name_and_recommend` ranks with, and each target's test.

    Returns
    -------
    tuple
        ``{(segment, target): customers}``, ``size(recommendations, targets) → (ranked, {})`` and
        ``{target: Spark condition}`` (for writing the audience files).
    """
    from pyspark.sql import functions as F

    present = {role: c for role, c in roles.items() if c in numeric}
    found = quantiles(frame, [numeric_name(numeric.index(c)) for c in present.values()], 0.5, rows)
    medians = {role: (float("nan") if v is None else v) for role, v in zip(present, found, strict=True)}
    tests = _tests(roles, numeric, medians)
    monetary = roles.get("monetary")
    value = F.col(observed_name(numeric.index(monetary))) if monetary in numeric else None
    parts = [F.count("*").alias("size")] + ([F.sum(value).alias("value")] if value is not None else [])
    for i, test in enumerate(tests.values()):
        parts.append(F.sum(F.when(test, 1).otherwise(0)).alias(f"n{i}"))
        if value is not None:
            parts.append(F.sum(F.when(test, value)).alias(f"v{i}"))
    by_segment = {r[LABEL]: r for r in frame.groupBy(LABEL).agg(*parts).collect()}
    counts, stakes = {}, {}
    for seg in range(k):
        row = by_segment.get(seg)
        stakes[(seg, None)] = (int(row["size"]) if row else 0, float(row["value"] or 0.0) if row and value is not None
                               else None)
        for i, name in enumerate(tests):
            counts[(seg, name)] = int(row[f"n{i}"]) if row else 0
            stakes[(seg, name)] = (counts[(seg, name)], float(row[f"v{i}"] or 0.0) if row and value is not None
                                   else None)
    total = sum(v for (_, t), (_, v) in stakes.items() if t is None and v is not None) if value is not None else 0.0

    def size(recommendations: list, targets: dict[str, str | None]) -> tuple[tuple, dict]:
        sized = []
        for rec in recommendations:
            target = targets.get(rec.rule_id)
            key = (rec.segment_id, target) if target and (rec.segment_id, target) in stakes else (rec.segment_id, None)
            audience, stake = stakes[key]
            sized.append(dataclasses.replace(
                rec, audience=audience, value_at_stake=stake,
                value_share_at_stake=stake / total if stake is not None and total > 0 else None,
                target=TARGETS[target].description if target and target in TARGETS else "the whole segment",
                audience_file=audience_file(rec.rule_id, rec.segment_id)))
        return by_stake(sized), {}

    return counts, size, tests

