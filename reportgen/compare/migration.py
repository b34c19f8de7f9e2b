"""Where last month's customers went: segment-to-segment flows between two runs, matched by customer id.

Customers in both runs fill an old-segment × new-segment table; those only in last month's run are lost, those
only in this month's are added. Ids are compared as text, so ``1042`` from a CSV and ``"1042"`` from Parquet
are the same customer.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from reportgen.errors import DataError
from reportgen.result.changes import Migration, Move

LARGEST_MOVES = 3


def _keys(ids: ArrayLike, segments: ArrayLike, which: str) -> tuple[pd.Index, np.ndarray]:
    raw = pd.Index(np.asarray(ids, dtype=object))
    labels = np.asarray(segments)
    if len(raw) != len(labels):
        raise DataError(f"{which} run: {len(raw):,} customer ids but {len(labels):,} segment labels")
    if raw.hasnans:
        raise DataError(f"{which} run: missing customer ids: {int(raw.isna().sum()):,}")
    keys = raw.astype(str)
    if keys.has_duplicates:
        first = keys[keys.duplicated()][0]
        raise DataError(f"{which} run: customer id {first!r} appears more than once")
    return keys, labels.astype(np.int64)


def _segment_ids(labels: np.ndarray, names: Mapping[int, str]) -> np.ndarray:
    return np.union1d(np.unique(labels), np.fromiter(names, dtype=np.int64, count=len(names)))


def _tally(positions: np.ndarray, size: int, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    counts = np.bincount(positions, minlength=size)
    return counts, None if weights is None else np.bincount(positions, weights=weights, minlength=size)


def _plain(value: np.ndarray | None, index: int) -> float | None:
    return None if value is None else float(value[index])


def migration(old_ids: ArrayLike, old_segments: ArrayLike, new_ids: ArrayLike, new_segments: ArrayLike,
              new_values: ArrayLike | None, old_names: Mapping[int, str], new_names: Mapping[int, str],
              matched: Mapping[int, int] | None = None) -> Migration:
    """Count customers moving between last month's and this month's segments.

    Parameters
    ----------
    old_ids, old_segments
        Last month's customer ids and their segment ids.
    new_ids, new_segments
        This month's customer ids and their segment ids.
    new_values
        This month's value of each new customer (e.g. spend), summed per cell; missing values count as 0.
    old_names, new_names
        Segment names by id; segments named but without customers still get their (zero) rows and columns.
    matched
        This month's segment id → last month's, from :func:`reportgen.compare.matching.match_segments`; it decides
        which cells are the diagonal (staying put). Without it, equal ids are the same segment.

    Returns
    -------
    Migration
        Every old × new cell, its row and column totals, the lost and added customers, and the largest moves.

    Raises
    ------
    DataError
        If ids and labels differ in length, or an id is missing or repeated within a run.
    """
    old_keys, old_labels = _keys(old_ids, old_segments, "last month's")
    new_keys, new_labels = _keys(new_ids, new_segments, "this month's")
    values = None
    if new_values is not None:
        values = np.nan_to_num(np.asarray(new_values, dtype=float), nan=0.0)
        if len(values) != len(new_labels):
            raise DataError(f"this month's run: {len(values):,} values for {len(new_labels):,} customers")
    rows, cols = _segment_ids(old_labels, old_names), _segment_ids(new_labels, new_names)
    old_pos, new_pos = np.searchsorted(rows, old_labels), np.searchsorted(cols, new_labels)
    where_old = old_keys.get_indexer(new_keys)  # each new customer's row last month, -1 if absent
    present = where_old >= 0
    still_there = np.zeros(len(old_keys), dtype=bool)
    still_there[where_old[present]] = True

    flat = old_pos[where_old[present]] * len(cols) + new_pos[present]
    counts, sums = _tally(flat, len(rows) * len(cols), None if values is None else values[present])
    lost, _ = _tally(old_pos[~still_there], len(rows), None)
    added, added_value = _tally(new_pos[~present], len(cols), None if values is None else values[~present])
    grid = counts.reshape(len(rows), len(cols))

    def same(old_id: int, new_id: int) -> bool:
        return matched.get(new_id) == old_id if matched is not None else old_id == new_id

    cells = tuple((int(o), int(n), int(counts[i * len(cols) + j]), _plain(sums, i * len(cols) + j))
                  for i, o in enumerate(rows) for j, n in enumerate(cols))
    moves = sorted((c for c in cells if c[2] and not same(c[0], c[1])), key=lambda c: (-c[2], c[0], c[1]))
    return Migration(
        cells=cells,
        row_totals=tuple((int(o), int(t)) for o, t in zip(rows, grid.sum(axis=1), strict=True)),
        column_totals=tuple((int(n), int(t)) for n, t in zip(cols, grid.sum(axis=0), strict=True)),
        lost_by_segment=tuple((int(o), int(t)) for o, t in zip(rows, lost, strict=True)),
        added_by_segment=tuple((int(n), int(t), _plain(added_value, j))
                               for j, (n, t) in enumerate(zip(cols, added, strict=True))),
        both=int(present.sum()), added=int((~present).sum()), lost=int((~still_there).sum()),
        stayed=sum(c[2] for c in cells if same(c[0], c[1])),
        largest_moves=tuple(Move(o, old_names.get(o, f"Segment {o}"), n, new_names.get(n, f"Segment {n}"), count,
                                 value) for o, n, count, value in moves[:LARGEST_MOVES]),
    )
