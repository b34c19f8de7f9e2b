"""RFM scores (1–5 by rank quintiles), the named groups they fall into, and what each segment holds of them.

The map from (R, F, M) scores to group names is data: the built-in ``data/rfm_groups.toml`` or a user's file
(``transactions.rfm_groups``). It is validated when loaded to cover each of the 125 cells exactly once.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import AfterValidator, Field

from reportgen.describe.tables import Text, UserTable, read_table
from reportgen.errors import ConfigError, DataError
from reportgen.resources import package_data
from reportgen.result import Count, RfmSummary

SCORE_COLUMNS = {"r_score": "recency_days", "f_score": "frequency", "m_score": "monetary"}
SCORES = ("r_score", "f_score", "m_score", "rfm_group")  # what a scored customer carries
_SHOWN = 10  # cells listed in a problem before it is cut short


@dataclass(frozen=True)
class RfmGroups:
    """The validated map: group names in file order and, per (r, f, m) cell, the index of its group."""

    names: tuple[str, ...]
    descriptions: tuple[str, ...]
    cells: np.ndarray  # shape (5, 5, 5), cells[r - 1, f - 1, m - 1] indexes ``names``
    source: str

    def group_of(self, r: int, f: int, m: int) -> str:
        """The group name of one score cell."""
        return self.names[self.cells[r - 1, f - 1, m - 1]]


def rfm_slug(name: str) -> str:
    """The metric-name form of a group name: ``"Can't lose them"`` → ``"cant_lose_them"``."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", re.sub(r"['’`]", "", text)).strip("_")


def _cells(cells: list[tuple[int, int, int]]) -> str:
    shown = ", ".join(f"({r},{f},{m})" for r, f, m in cells[:_SHOWN])
    return shown + (f", … ({len(cells)} cells)" if len(cells) > _SHOWN else "")


def _score_range(value: Any) -> tuple[int, int]:
    if type(value) is int:
        value = [value, value]
    if (isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)
            and 1 <= value[0] <= value[1] <= 5):
        return value[0], value[1]
    raise ValueError("not a score range")


ScoreRange = Annotated[Any, AfterValidator(_score_range)]
_RANGE = "a score 1-5 or a range [low, high] with 1 <= low <= high <= 5"


class GroupTable(UserTable):
    """One ``[[group]]`` table: a named box of (R, F, M) score cells."""

    name: Text = Field(description="a non-empty text")
    description: str = Field("", description="a text")
    r: ScoreRange = Field(description=_RANGE)
    f: ScoreRange = Field(description=_RANGE)
    m: ScoreRange = Field(description=_RANGE)


def _boxes(data: dict[str, Any]) -> tuple[list[tuple[str, str, list[tuple[int, int]]]], list[str]]:
    """The (name, description, [r, f, m ranges]) of each [[group]] table, and the problems found in them."""
    problems = [f"unknown top-level key '{key}' (groups are [[group]] tables)" for key in data if key != "group"]
    raw = data.get("group")
    if not isinstance(raw, list) or not raw:
        return [], [*problems, f"expected one or more [[group]] tables but received {raw!r}"]
    boxes = []
    for index, table in enumerate(raw, 1):
        group, found = read_table(GroupTable, table, "group")
        name = table.get("name") if isinstance(table, dict) else None
        where = f"group '{name}'" if isinstance(name, str) and name.strip() else f"group #{index}"
        if group is not None and not rfm_slug(group.name):
            found.append(f"'name' must be a non-empty text but received {name!r}")
        problems += [f"{where}: {problem}" for problem in found]
        if group is not None and not found:
            boxes.append((group.name.strip(), group.description.strip(), [group.r, group.f, group.m]))
    return boxes, problems


def _map(boxes: list[tuple[str, str, list[tuple[int, int]]]]) -> tuple[RfmGroups, list[str]]:
    names: list[str] = list(dict.fromkeys(name for name, _, _ in boxes))
    descriptions = {name: text for name, text, _ in reversed(boxes) if text}
    owners: dict[tuple[int, int, int], list[str]] = {cell: [] for cell in product(range(1, 6), repeat=3)}
    for name, _, spans in boxes:
        for cell in product(*(range(low, high + 1) for low, high in spans)):
            owners[cell].append(name)
    problems, clashes = [], {}
    for cell, owned in owners.items():
        if len(owned) > 1:
            clashes.setdefault(tuple(owned), []).append(cell)
    for owned, cells in clashes.items():
        times = Counter(owned)
        named = [f"'{name}'" + (f" ({k} times)" if k > 1 and len(times) > 1 else "") for name, k in times.items()]
        both = (f"in {named[0]} {len(owned)} times" if len(named) == 1 else "in both " + " and ".join(named)
                if len(named) == 2 else "in " + ", ".join(named[:-1]) + " and " + named[-1])
        problems.append(f"{'cell' if len(cells) == 1 else 'cells'} {_cells(cells)} {'is' if len(cells) == 1 else 'are'}"
                        f" {both}")
    if gaps := [cell for cell, owned in owners.items() if not owned]:
        problems.append(f"{'cell' if len(gaps) == 1 else 'cells'} {_cells(gaps)} {'is' if len(gaps) == 1 else 'are'}"
                        f" not covered by any group")
    slugs: dict[str, str] = {}
    for name in names:
        if slugs.setdefault(rfm_slug(name), name) != name:
            problems.append(f"groups '{slugs[rfm_slug(name)]}' and '{name}' share the metric name "
                            f"'rfm_share_{rfm_slug(name)}'")
    cells = np.zeros((5, 5, 5), dtype=np.int64)
    for (r, f, m), owned in owners.items():
        cells[r - 1, f - 1, m - 1] = names.index(owned[0]) if owned else -1
    groups = RfmGroups(tuple(names), tuple(descriptions.get(n, "") for n in names), cells, "")
    return groups, problems


def load_rfm_groups(path: Path | None = None) -> RfmGroups:
    """Load and validate an RFM group map (the built-in one when ``path`` is None).

    Raises
    ------
    ConfigError
        Naming the file and listing every problem at once: TOML errors, unknown keys, bad names or ranges,
        cells covered by no group and cells covered more than once.
    """
    source = Path(path) if path is not None else package_data("rfm_groups.toml")
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("RFM groups file not found", source=str(source)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML ({exc})", source=str(source)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot be read ({exc})", source=str(source)) from None
    boxes, problems = _boxes(data)
    groups, found = _map(boxes) if boxes and not problems else (None, [])
    if problems + found or groups is None:
        raise ConfigError(problems + found, source=str(source))
    return RfmGroups(groups.names, groups.descriptions, groups.cells, str(source))


def _scores(values: np.ndarray, ids: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """ceil(5 × rank / n), ranking by value (best last) and then by id, so ties split the same way every time."""
    order = np.lexsort((ids, values if higher_is_better else -values))
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(1, len(values) + 1)
    return (5 * rank + len(values) - 1) // len(values)


def rfm_scores(customers: pd.DataFrame, id_column: str, groups: RfmGroups | None = None) -> pd.DataFrame:
    """Add ``r_score``, ``f_score``, ``m_score`` (1–5, 5 best) and ``rfm_group`` to a per-customer table.

    R ranks ``recency_days`` (fewest days = 5), F ``frequency`` and M ``monetary`` (highest = 5). Each score is
    ``ceil(5 × rank / n)`` with ties broken by customer id, so every score holds n/5 customers (±1) and the
    result does not depend on row order.

    Raises
    ------
    DataError
        If a column is missing, holds missing values, or customer ids repeat.
    """
    needed = [id_column, *SCORE_COLUMNS.values()]
    if missing := [c for c in needed if c not in customers.columns]:
        raise DataError(f"RFM scores need column(s) {', '.join(map(repr, missing))}")
    if holes := [c for c in needed if customers[c].isna().any()]:
        raise DataError(f"RFM scores need values in every row but column(s) {', '.join(map(repr, holes))} "
                        f"have missing values")
    if customers[id_column].duplicated().any():
        raise DataError(f"RFM scores need one row per customer but column {id_column!r} repeats ids")
    groups = groups or load_rfm_groups()
    ids = np.unique(customers[id_column].astype(str).to_numpy(), return_inverse=True)[1]
    scores = {score: _scores(customers[column].to_numpy(dtype=float), ids, score != "r_score")
              if len(customers) else np.zeros(0, dtype=np.int64) for score, column in SCORE_COLUMNS.items()}
    cells = groups.cells[scores["r_score"] - 1, scores["f_score"] - 1, scores["m_score"] - 1]
    return customers.assign(**scores, rfm_group=np.asarray(groups.names, dtype=object)[cells])


def segment_rfm_metrics(scores: pd.DataFrame, labels: np.ndarray,
                        groups: RfmGroups) -> dict[int, dict[str, float | str]]:
    """Per segment: mean ``r_score``/``f_score``/``m_score``, ``rfm_share_<slug>`` of every group, ``rfm_top_group``.

    The top group is the most frequent one, ties going to the group listed first in the map.
    """
    labels = np.asarray(labels)
    if len(labels) != len(scores):
        raise ValueError(f"{len(labels)} labels for {len(scores)} scored customers")
    metrics: dict[int, dict[str, float | str]] = {}
    for segment in np.unique(labels):
        rows = scores[labels == segment]
        counts = rows["rfm_group"].value_counts()
        entry: dict[str, float | str] = {score: float(rows[score].mean()) for score in SCORE_COLUMNS}
        entry.update({f"rfm_share_{rfm_slug(n)}": float(counts.get(n, 0)) / len(rows) for n in groups.names})
        entry["rfm_top_group"] = max(groups.names, key=lambda n: (counts.get(n, 0), -groups.names.index(n)))
        metrics[int(segment)] = entry
    return metrics


def rfm_crosstab(scores: pd.DataFrame, labels: np.ndarray,
                 groups: RfmGroups | None = None) -> list[tuple[int, str, int]]:
    """``(segment id, group, customers)`` for every segment × group, zeros included, for the report's cross-tab.

    Groups come in map order when ``groups`` is given, else alphabetically (those present only).
    """
    frame = pd.DataFrame({"segment": np.asarray(labels), "group": scores["rfm_group"].to_numpy()})
    counts = frame.value_counts().to_dict()
    names = groups.names if groups else tuple(sorted(frame["group"].unique()))
    return [(int(s), g, int(counts.get((s, g), 0))) for s in sorted(frame["segment"].unique()) for g in names]


# RFM beside the segments: the report's RFM summary and the customers.csv columns.
SCORE_LETTERS = {"r_score": "r", "f_score": "f", "m_score": "m"}


def aligned_scores(scores: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    """The scores of the segmented customers, in their order (cleaning may have set some customers aside)."""
    return scores.loc[pd.Index(ids.astype(str))].reset_index(drop=True)


def rfm_summary(scores: pd.DataFrame, labels: np.ndarray, groups: RfmGroups) -> RfmSummary:
    """Customers per group, the segment × group cross-tab and the distribution of each score."""
    counts = scores["rfm_group"].value_counts()
    per_score = tuple((letter, int(score), int((scores[column] == score).sum()))
                      for column, letter in SCORE_LETTERS.items() for score in range(1, 6))
    return RfmSummary(groups=tuple(Count(name, int(counts.get(name, 0))) for name in groups.names),
                      crosstab=tuple(rfm_crosstab(scores, labels, groups)), scores=per_score)


def customer_columns(features: pd.DataFrame, id_column: str, scores: pd.DataFrame,
                     ids: np.ndarray) -> dict[str, np.ndarray]:
    """Every aggregated feature and the R/F/M scores and group of each segmented customer, for customers.csv."""
    order = pd.Index(ids.astype(str))
    table = features.set_index(features[id_column].astype(str)).drop(columns=[id_column]).loc[order]
    table = table.join(scores.loc[order])
    return {column: table[column].to_numpy() for column in table.columns}
