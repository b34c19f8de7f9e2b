"""This month against last month: segment identities, migration, drift, mix vs behaviour, retrain advice.

:func:`identities` runs before naming (matched segments keep their name and colour); :func:`compare` runs
after profiling and assembles the :class:`~reportgen.result.Comparison` the reports show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from reportgen.compare.baseline import Baseline
from reportgen.compare.drift import DriftThresholds, feature_drift
from reportgen.compare.matching import (
    SegmentMatch,
    default_max_distance,
    match_by_customers,
    match_segments,
    overlap_shares,
)
from reportgen.compare.migration import migration
from reportgen.compare.mixshift import mix_behaviour
from reportgen.compare.stability import RetrainThresholds, retrain_advice
from reportgen.config import ComparisonConfig
from reportgen.errors import BaselineError
from reportgen.model.modelfile import assign, model_space
from reportgen.result import BaselineSegment, Comparison, Segment, SegmentIdentity


@dataclass(frozen=True)
class Carried:
    """What this run inherits from the baseline before naming: names and colours of matched segments."""

    match: SegmentMatch
    names: dict[int, str]  # this run's segment id -> baseline name
    colors: dict[int, str]
    old_labels: np.ndarray  # this month's customers under last month's model
    ari: float
    retired_names: frozenset[str] = frozenset()  # names of baseline segments without a successor


def check_compatible(baseline: Baseline, numeric: tuple[str, ...], categorical: tuple[str, ...]) -> None:
    """Refuse a baseline whose model used other features: its distances and segments would mean something else."""
    old_num, old_cat = list(baseline.model["numeric"]), list(baseline.model["categorical"])
    if sorted(old_num) == sorted(numeric) and sorted(old_cat) == sorted(categorical):
        return
    missing = sorted(set(old_num + old_cat) - set(numeric + categorical))
    added = sorted(set(numeric + categorical) - set(old_num + old_cat))
    detail = "; ".join(part for part in (f"only in the baseline: {', '.join(missing)}" if missing else "",
                                         f"only in this run: {', '.join(added)}" if added else "") if part)
    raise BaselineError(f"{baseline.folder}: the baseline was segmented on other features ({detail or 'other kinds'})"
                        "; compare runs made with the same features config")


def identities(baseline: Baseline, frame: pd.DataFrame, labels: np.ndarray, cfg: ComparisonConfig,
               ids: np.ndarray | None = None) -> Carried:
    """Match this run's segments to the baseline's on the overlap of the customers in both runs (``ids``) and on
    centroid distance in the baseline's model space."""
    matrix = model_space(baseline.model, frame[baseline.model["numeric"] + baseline.model["categorical"]])
    old_labels, _ = assign(baseline.model, frame)
    k = int(labels.max()) + 1
    new_centroids = np.vstack([matrix[labels == s].mean(axis=0) for s in range(k)])
    old_centroids = np.asarray(baseline.model["centroids"], dtype=np.float64)
    limit = cfg.match_distance or default_max_distance(old_centroids)
    if ids is None:
        match = match_segments(old_centroids, new_centroids, limit)
    else:
        shares = overlap_shares(baseline.ids.to_numpy(), baseline.segments.to_numpy(), ids, labels,
                                len(old_centroids), k)
        match = match_by_customers(old_centroids, new_centroids, limit, shares, baseline.segment_names)
    names, colors = baseline.segment_names, baseline.segment_colors
    carried_names = {new: names[old] for new, old in match.old_of.items() if old in names}
    carried_colors = {new: colors[old] for new, old in match.old_of.items() if old in colors}
    ari = float(adjusted_rand_score(old_labels, labels))
    retired = frozenset(names[old] for old in match.retired if old in names)
    return Carried(match, carried_names, carried_colors, old_labels, ari, retired)


def reused(baseline: Baseline, frame: pd.DataFrame, fresh_labels: np.ndarray) -> Carried:
    """Identities when last month's model assigns this month's customers: every segment continues itself."""
    old_labels, _ = assign(baseline.model, frame)
    k = len(baseline.model["centroids"])
    match = SegmentMatch(pairs=tuple((s, s, 0.0) for s in range(k)), new=(), retired=(), max_distance=0.0)
    return Carried(match, baseline.segment_names, baseline.segment_colors, old_labels,
                   float(adjusted_rand_score(old_labels, fresh_labels)))


def _baseline_segments(baseline: Baseline) -> tuple[BaselineSegment, ...]:
    out = []
    for s in baseline.summary.get("segments", []):
        value = next((st["mean"] for st in s.get("stats", []) if st.get("role") == "monetary"), None)
        out.append(BaselineSegment(int(s["id"]), str(s["name"]), str(s["color"]), int(s["size"]), float(s["share"]),
                                   s.get("value_share"), value))
    return tuple(out)


def _mean_value(segment: Segment) -> float | None:
    return next((st.mean for st in segment.stats if st.role == "monetary"), None)


def _sentences(comparison_parts: dict, period: str) -> tuple[str, ...]:
    mig, drift, advice = comparison_parts["migration"], comparison_parts["drift"], comparison_parts["advice"]
    lines = [f"Since {period}: {mig.added:,} customers joined, {mig.lost:,} left and {mig.both:,} are in both runs; "
             f"{mig.stayed:,} of those stayed in the same segment."]
    if mig.largest_moves:
        move = mig.largest_moves[0]
        lines.append(f"Largest move: {move.count:,} customers from {move.old_name} to {move.new_name}.")
    for text in comparison_parts["changes"][:2]:
        lines.append(text)
    lines.append(("The data drifted" if drift.dataset_drift else "No data-set drift")
                 + f": {len(drift.drifted_features)} of {len(drift.features)} features moved"
                 + (f" ({', '.join(drift.drifted_features[:3])})." if drift.drifted_features else "."))
    lines.append(f"Advice: {advice.action} the model — {advice.reasons[0].rstrip('.')}." if advice.reasons
                 else f"Advice: {advice.action} the model.")
    return tuple(lines)


def compare(baseline: Baseline, carried: Carried, mode: str, frame: pd.DataFrame, ids: np.ndarray,
            labels: np.ndarray, segments: tuple[Segment, ...], value_column: str | None,
            cfg: ComparisonConfig, observed: pd.DataFrame | None = None,
            history_warning: str | None = None) -> Comparison:
    """Assemble the comparison once this run's segments are named and profiled (``observed``: the customers'
    observed values, which the migration's value figures sum; the model frame when absent)."""
    new_names = {s.id: s.name for s in segments}
    reported = observed if observed is not None else frame
    values = reported[value_column].to_numpy(dtype=np.float64) if value_column else None
    moves = migration(baseline.ids.to_numpy(), baseline.segments.to_numpy(), ids, labels, values,
                      baseline.segment_names, new_names, carried.match.old_of)
    thresholds = DriftThresholds.from_config(cfg)
    drift = feature_drift(baseline.reference, reported, thresholds)
    old_segments = _baseline_segments(baseline)
    mix = None
    if value_column and all(s.mean_value is not None for s in old_segments):
        old_rows = [(f"b{s.id}", s.share, s.mean_value) for s in old_segments]
        new_rows = [(f"b{carried.match.old_of[s.id]}" if s.id in carried.match.old_of else f"n{s.id}", s.share,
                     _mean_value(s)) for s in segments]
        mix = mix_behaviour(old_rows, new_rows)
    advice = retrain_advice(carried.ari, drift.dataset_drift, drift.share_drifted,
                            len(carried.match.new) + len(carried.match.retired), RetrainThresholds.from_config(cfg))
    by_old = {s.id: s for s in old_segments}
    shares = {(n, o): share for n, o, share in carried.match.overlap}
    reasons = dict(carried.match.reasons)
    identity = tuple(
        SegmentIdentity(s.id, "kept", old, by_old[old].name if old in by_old else None, distance,
                        shares.get((s.id, old)), reasons.get(s.id, ""))
        if (old := carried.match.old_of.get(s.id)) is not None
        else SegmentIdentity(s.id, "new", None, None, None, None, reasons.get(s.id, ""))
        for s in segments for distance in [next((d for n, _, d in carried.match.pairs if n == s.id), None)])
    changes = [f"{s.name} {'grew' if s.share > by_old[i.baseline_id].share else 'shrank'} from "
               f"{by_old[i.baseline_id].share:.0%} to {s.share:.0%} of customers."
               for s, i in zip(segments, identity, strict=True)
               if i.baseline_id in by_old and abs(s.share - by_old[i.baseline_id].share) >= 0.02]
    changes += [f"New segment: {s.name} ({s.share:.0%} of customers)." for s, i in zip(segments, identity, strict=True)
                if i.status == "new"]
    period = baseline.period
    sentences = _sentences({"migration": moves, "drift": drift, "advice": advice, "changes": changes}, period)
    warnings = _history_warnings(baseline, history_warning)
    return Comparison(period, baseline.folder.name, mode, old_segments, identity, tuple(carried.match.retired),
                      len(baseline.ids), moves, drift, mix, carried.ari, advice, warnings + sentences, warnings)


def _history_warnings(baseline: Baseline, current: str | None) -> tuple[str, ...]:
    """Which of the two runs holds less history than its window asks for (drift in tenure and recency then
    partly measures the shorter span, not the customers)."""
    before = (baseline.summary.get("transactions") or {}).get("history_warning")
    return tuple(f"{label}: {text}" for label, text in (("Baseline", before), ("This run", current)) if text)
