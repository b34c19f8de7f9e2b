"""Human names for segments, each with the sentence that justifies it.

Names come from a table of conditions (``data/names.toml``) over the same metrics the rulebook reads. A
match scores the sum of |z| of the metrics its condition reads, and names are handed out greedily, best
(segment, name) pair first, so every name is used once and the strongest claim on a name gets it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from reportgen.describe.tables import Text, UserTable, read_table
from reportgen.describe.vocabulary import (
    SegmentMetrics,
    finite_number,
    parse_condition,
    read_tables,
    role_of_metric,
    traits_text,
)
from reportgen.errors import ConfigError
from reportgen.prepare.expressions import Expression, ExpressionError
from reportgen.resources import package_data

ROLE_LABELS = {
    "monetary": "spend", "frequency": "purchase frequency", "recency": "days since last purchase",
    "income": "income", "age": "age", "tenure": "tenure", "web_purchases": "web purchases",
    "store_purchases": "store purchases", "catalog_purchases": "catalogue purchases",
    "deal_purchases": "deal purchases", "web_visits": "web visits", "campaign_responses": "campaign responses",
    "children": "children", "complaints": "complaints", "credit_limit": "credit limit", "balance": "balance",
    "utilization": "credit utilisation", "contacts": "contacts", "products": "products held",
    "experience": "work experience",
}
CONFIG_REASON = "Segment named in the config (segmentation.names)."


@dataclass(frozen=True)
class NameRule:
    """A candidate name: its condition (or a band every z_ metric must lie within) and an optional fixed score."""

    label: str
    when: Expression | None = None
    all_z_within: float | None = None
    score: float | None = None


class NameTable(UserTable):
    """One ``[[name]]`` table as written: a label, and a condition or a band every z_ metric must lie within."""

    label: Text = Field(description="non-empty text")
    when: str | None = Field(None, description="a condition text")
    all_z_within: float | None = Field(None, gt=0, allow_inf_nan=False, description="a positive number")
    score: float | None = Field(None, ge=0, allow_inf_nan=False, description="a number >= 0")


def _parse_entry(raw: Any, index: int, source: str) -> tuple[NameRule | None, list[str]]:
    table, problems = read_table(NameTable, raw, "name")
    if not isinstance(raw, dict):
        return None, [f"{source}: name #{index}: {problems[0]}"]
    label, when_text, band, when = raw.get("label"), raw.get("when"), raw.get("all_z_within"), None
    if (when_text is None) == (band is None):  # a check across keys, made whatever the keys' own problems
        problems.append(f"needs exactly one of 'when' or 'all_z_within' but received when={when_text!r}, "
                        f"all_z_within={band!r}")
    if isinstance(when_text, str):
        when, problem = parse_condition(when_text)
        problems += [problem] if problem else []
    where = f"{source}: name '{label}'" if isinstance(label, str) and label else f"{source}: name #{index}"
    if problems or table is None:
        return None, [f"{where}: {problem}" for problem in problems]
    return NameRule(table.label.strip(), when, table.all_z_within, table.score), []


def load_names(path: Path | None = None) -> tuple[NameRule, ...]:
    """Read and validate a names table (the built-in one when ``path`` is None).

    Raises
    ------
    ConfigError
        Listing every problem, each naming the file, the entry and the value received.
    """
    path = Path(path or package_data("names.toml"))
    raw_names, problems = read_tables(path, "name")
    entries: list[NameRule] = []
    for index, raw in enumerate(raw_names, 1):
        entry, found = _parse_entry(raw, index, str(path))
        if entry and entry.label.casefold() in {e.label.casefold() for e in entries}:
            found = [f"{path}: name '{entry.label}': duplicate label"]
        problems += found
        entries += [entry] if entry and not found else []
    if problems:
        raise ConfigError(problems)
    return tuple(entries)


_builtin_names = functools.cache(load_names)


def _z_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {name: float(v) for name, v in metrics.items()
            if name.startswith("z_") and role_of_metric(name) and finite_number(v) is not None}


def z_phrase(zs: Iterable[tuple[str, float]]) -> str:
    """[("z_income", 1.1), ("z_monetary", 1.4)] → 'income +1.1σ and spend +1.4σ above the base'."""
    items = [(ROLE_LABELS.get(role_of_metric(n) or n, n), z) for n, z in zs]
    same = len({z >= 0 for _, z in items}) == 1
    parts = [f"{label} {z:+.1f}σ" + ("" if same else " above" if z >= 0 else " below") for label, z in items]
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return text + (" above" if items[0][1] >= 0 else " below") * same + " the base"


def plain_phrase(zs: Iterable[tuple[str, float]], metrics: Mapping[str, Any]) -> str:
    """[("z_income", 1.1)] → 'income $82,000 vs $52,000 on average' (σ only when no plain value is known)."""
    zs = list(zs)
    if not any(isinstance(metrics.get(f"show_{role_of_metric(n) or n}"), str) for n, _ in zs):
        return z_phrase(zs)  # metrics without values in their units (a hand-made table, a test)
    parts = []
    for name, z in zs:
        role = role_of_metric(name) or name
        shown, base = metrics.get(f"show_{role}"), metrics.get(f"show_base_{role}")
        label = metrics.get(f"label_{role}") or ROLE_LABELS.get(role, role)
        parts.append(f"{label} {shown} vs {base} on average" if isinstance(shown, str) and isinstance(base, str)
                     else z_phrase([(name, z)]))
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _match(entry: NameRule, segment: SegmentMetrics) -> tuple[float, str] | None:
    """The score and reason of ``entry`` for ``segment``, or None when it does not match or cannot apply."""
    zs = _z_metrics(segment.metrics)
    if entry.when is None:
        widest_any = finite_number(segment.metrics.get("max_abs_z"))
        if not zs or any(abs(z) >= (entry.all_z_within or 0) for z in zs.values()) or (
                widest_any is not None and widest_any >= (entry.all_z_within or 0)):
            return None  # a segment with any strong trait, role or not, is never called average
        widest = max(zs.items(), key=lambda item: (abs(item[1]), item[0]))
        return (entry.score if entry.score is not None else 0.1,
                f"Every measure is close to the average customer's (widest gap: "
                f"{plain_phrase([widest], segment.metrics)}).")
    if not entry.when.names <= segment.metrics.keys():
        return None
    try:
        if not entry.when.evaluate(segment.metrics):
            return None
    except ExpressionError as exc:
        raise ConfigError(f"name '{entry.label}': condition fails on segment {segment.segment_id}: {exc}") from None
    used = [(n, zs[n]) for n in entry.when.ordered_names if n in zs]
    score = entry.score if entry.score is not None else sum(abs(z) for _, z in used)
    reason = plain_phrase(used, segment.metrics) if used else f"matches {entry.when.text!r}"
    return score, reason[:1].upper() + reason[1:] + "."


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{name} ({n})"
    taken.add(candidate.casefold())
    return candidate


def name_segments(segments: list[SegmentMetrics], overrides: dict[int, str], fallback_traits: dict[int, list[str]],
                  *, table: tuple[NameRule, ...] | None = None) -> dict[int, tuple[str, str]]:
    """Give every segment a unique human name and the reason for it.

    Parameters
    ----------
    segments
        The segments with their metrics; their order does not matter.
    overrides
        Names from the config by segment id; they always win.
    fallback_traits
        Each segment's traits, strongest first, used to build a name when no table entry is left for it.
    table
        Name entries to use instead of the built-in ``names.toml``.

    Returns
    -------
    dict[int, tuple[str, str]]
        ``segment id → (name, reason)``, by segment id.
    """
    table = _builtin_names() if table is None else table
    overrides = {int(k): v for k, v in overrides.items()}
    ordered = sorted(segments, key=lambda s: s.segment_id)
    taken: set[str] = set()
    result = {s.segment_id: (_unique(overrides[s.segment_id], taken), CONFIG_REASON)
              for s in ordered if s.segment_id in overrides}
    candidates = [(-m[0], s.segment_id, e.label, m[1]) for s in ordered if s.segment_id not in result
                  for e in table if (m := _match(e, s)) is not None]
    for _, segment_id, label, reason in sorted(candidates):
        if segment_id not in result and label.casefold() not in taken:
            result[segment_id] = (_unique(label, taken), reason)
    for segment in ordered:
        if segment.segment_id not in result:
            traits = list(fallback_traits.get(segment.segment_id, []))[:2]
            name = ", ".join([*traits[:1], traits_text(traits[1:])]) if len(traits) > 1 else (
                traits[0] if traits else f"Segment {segment.segment_id}")
            reason = ("No naming rule was left for it; named after its strongest traits." if traits
                      else "No naming rule matched and no trait stands out.")
            result[segment.segment_id] = (_unique(name, taken), reason)
    return dict(sorted(result.items()))
