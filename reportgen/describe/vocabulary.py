"""Segment metrics: what each one is called, which role it needs, and how its value reads in a sentence.

The rulebook (:mod:`reportgen.describe.rules`) and the segment names (:mod:`reportgen.describe.naming`) are both TOML
tables of conditions over these metrics, so the vocabulary, the check of the names a condition reads, the way numbers
are quoted and the reading of such a table file are defined once here.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportgen.config import ROLE_NAMES
from reportgen.formatting import num, pct, times
from reportgen.prepare.expressions import Expression, ExpressionError, parse

GENERAL_METRICS = ("size", "share", "value_share", "silhouette", "k", "max_abs_z")
ROLE_PREFIXES = ("z_", "mean_", "median_", "base_mean_", "ratio_", "show_", "show_base_")
RFM_METRICS = ("r_score", "f_score", "m_score", "rfm_top_group", "rfm_share_champions", "rfm_share_at_risk")
KNOWN_METRICS = GENERAL_METRICS + tuple(p + r for p in ROLE_PREFIXES for r in ROLE_NAMES) + RFM_METRICS


@dataclass(frozen=True)
class SegmentMetrics:
    """What rules and names see of one segment: its scalar metrics and its defining traits."""

    segment_id: int
    name: str
    metrics: dict[str, float | str]
    traits: tuple[str, ...] = ()


def role_of_metric(name: str) -> str | None:
    """The role a metric needs (``z_income`` → ``income``; ``value_share`` → ``monetary``), else None."""
    if name == "value_share":
        return "monetary"
    for prefix in ROLE_PREFIXES:
        if name.startswith(prefix) and name[len(prefix):] in ROLE_NAMES:
            return name[len(prefix):]
    return None


def _is_rfm(name: str) -> bool:
    return name.startswith("rfm_") or name.endswith("_score")


def metric_names_valid(names: Iterable[str]) -> list[str]:
    """The names that are not segment-metric vocabulary, sorted (empty when all are valid)."""
    return sorted({n for n in names if n not in GENERAL_METRICS and not role_of_metric(n) and not _is_rfm(n)})


def hint(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to a mistyped ``name``, or an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def metric_hints(names: Iterable[str]) -> str:
    """Unknown metric names, quoted and comma-separated, each with the closest known metric when one is close."""
    return ", ".join(f"'{name}'{hint(name, KNOWN_METRICS)}" for name in names)


def parse_condition(text: str) -> tuple[Expression | None, str | None]:
    """Parse a ``when`` condition and check its metric names: the expression, or None and the problem."""
    try:
        when = parse(text, conditions=True)
    except ExpressionError as exc:
        return None, f"'when' is invalid: {exc} in {text!r}"
    unknown = metric_names_valid(when.names)
    return (None, f"'when' uses unknown metric(s) {metric_hints(unknown)} in {text!r}") if unknown else (when, None)


def missing_reason(missing: Iterable[str]) -> str:
    """Why a rule cannot apply, from the metrics it reads that the data lacks.

    Parameters
    ----------
    missing
        Metric names the rule reads that the segments do not have.

    Returns
    -------
    str
        The roles, transaction log or other metrics the data would need, e.g.
        ``needs role 'income'; needs RFM metrics from a transaction log (r_score)``.
    """
    missing = sorted(missing)
    roles = sorted({role for name in missing if (role := role_of_metric(name))})
    rfm = [name for name in missing if _is_rfm(name)]
    other = [name for name in missing if not role_of_metric(name) and not _is_rfm(name)]
    parts = [f"needs role{'s' * (len(roles) > 1)} " + ", ".join(f"'{r}'" for r in roles)] if roles else []
    parts += [f"needs RFM metrics from a transaction log ({', '.join(rfm)})"] if rfm else []
    parts += [f"needs metric{'s' * (len(other) > 1)} " + ", ".join(f"'{n}'" for n in other)] if other else []
    return "; ".join(parts)


def finite_number(value: Any) -> float | None:
    """``value`` as a float when it is a finite int or float (bools excluded), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def traits_text(traits: Iterable[str]) -> str:
    """["High Income", "Low Age"] → 'high Income, low Age' (for use mid-sentence)."""
    words = [t[:1].lower() + t[1:] if t[1:2].islower() else t for t in traits]
    return ", ".join(words) if words else "none stands out from the base"


def evidence_text(name: str, metrics: Mapping[str, Any]) -> str:
    """A short readable statement of one metric, e.g. ``z_recency = +1.20 (mean 74 vs 49 base)``."""
    value, role = metrics[name], role_of_metric(name)
    if isinstance(value, str):
        return f"{name} = {value}"
    mean, base = metrics.get(f"mean_{role}"), metrics.get(f"base_mean_{role}")
    if name.startswith("z_") and mean is not None and base is not None:
        return f"{name} = {value:+.2f} (mean {num(mean)} vs {num(base)} base)"
    if name.startswith("ratio_"):
        return f"{name} = {times(value)} the base"
    if name in ("share", "value_share") or name.startswith("rfm_share_"):
        return f"{name} = {pct(value)}"
    return f"{name} = {value:+.2f}" if name.startswith("z_") else f"{name} = {num(value)}"


def read_tables(path: Path, key: str) -> tuple[list[Any], list[str]]:
    """Read a TOML file of ``[[key]]`` tables, such as the rulebook (``rule``) or the names table (``name``).

    Parameters
    ----------
    path
        The file to read.
    key
        The name of its tables; any other top-level key is a problem.

    Returns
    -------
    tuple[list[Any], list[str]]
        The tables as read, still to be validated (empty when the file is unusable), and the problems with the
        file or its top level, each starting with the file name.
    """
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [], [f"{source}: {key}s file not found"]
    except tomllib.TOMLDecodeError as exc:
        return [], [f"{source}: not valid TOML ({exc})"]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{source}: cannot be read ({exc})"]
    problems = [f"{source}: unknown top-level key '{name}' ({key}s are [[{key}]] tables) but received {value!r}"
                for name, value in data.items() if name != key]
    tables = data.get(key, [])
    if not isinstance(tables, list) or not tables:
        problems.append(f"{source}: expected one or more [[{key}]] tables but received {tables!r}")
        tables = []
    return tables, problems
