"""Customer migration between two runs: the old × new table, its totals, lost and added customers."""

from __future__ import annotations

import time

import numpy as np
import pytest

from reportgen.compare.migration import migration
from reportgen.errors import DataError
from reportgen.result.changes import Migration, Move

OLD_NAMES = {0: "Big spenders", 1: "Bargain hunters", 2: "Lapsed"}
NEW_NAMES = {0: "Big spenders", 1: "Bargain hunters", 2: "Lapsed", 3: "Newcomers"}


def _small() -> Migration:
    old_ids = [1, 2, 3, 4, 5, 6, 7, "c8"]
    old_segments = [0, 0, 0, 1, 1, 2, 2, 2]
    # 1 stays, 2 and 3 drop to bargain hunters, 4 lapses, 6 returns to bargain hunters; 5 and 7 are lost.
    new_ids = ["1", "2", "3", "4", "6", "c8", "9", "10"]
    new_segments = [0, 1, 1, 2, 1, 2, 3, 3]
    values = [500.0, 80.0, 70.0, 0.0, 40.0, np.nan, 25.0, 35.0]
    return migration(old_ids, old_segments, new_ids, new_segments, values, OLD_NAMES, NEW_NAMES)


def test_small_table() -> None:
    result = _small()
    table = {(o, n): (count, value) for o, n, count, value in result.cells}
    assert len(result.cells) == 3 * 4
    assert table[0, 0] == (1, 500.0) and table[0, 1] == (2, 150.0) and table[1, 2] == (1, 0.0)
    assert table[2, 1] == (1, 40.0) and table[2, 2] == (1, 0.0)  # a missing value counts as 0
    assert sum(c for _, _, c, _ in result.cells if c) == 6 and table[1, 3] == (0, 0.0)
    assert result.row_totals == ((0, 3), (1, 1), (2, 2))
    assert result.column_totals == ((0, 1), (1, 3), (2, 2), (3, 0))
    assert result.lost_by_segment == ((0, 0), (1, 1), (2, 1))
    assert result.added_by_segment == ((0, 0, 0.0), (1, 0, 0.0), (2, 0, 0.0), (3, 2, 60.0))
    assert (result.both, result.added, result.lost, result.stayed) == (6, 2, 2, 2)
    assert result.largest_moves == (
        Move(0, "Big spenders", 1, "Bargain hunters", 2, 150.0),
        Move(1, "Bargain hunters", 2, "Lapsed", 1, 0.0),
        Move(2, "Lapsed", 1, "Bargain hunters", 1, 40.0),
    )


def test_matching_defines_the_diagonal() -> None:
    # New segment 1 is old segment 0 relabelled, and the other way round.
    result = migration([1, 2, 3], [0, 0, 1], [1, 2, 3], [1, 1, 0], None, {0: "A", 1: "B"}, {0: "B", 1: "A"},
                       matched={0: 1, 1: 0})
    assert result.stayed == 3 and result.largest_moves == ()
    assert all(value is None for *_, value in result.cells) and result.added_by_segment[0][2] is None
    unmatched = migration([1, 2, 3], [0, 0, 1], [1, 2, 3], [1, 1, 0], None, {0: "A", 1: "B"}, {0: "B", 1: "A"})
    assert unmatched.stayed == 0 and [m.count for m in unmatched.largest_moves] == [2, 1]


@pytest.mark.parametrize(("n_old", "n_new", "overlap", "k_old", "k_new"), [
    (1000, 1000, 1000, 4, 4),
    (1000, 1200, 700, 5, 3),
    (500, 300, 0, 3, 6),
    (2000, 2000, 1999, 1, 2),
])
def test_rows_and_columns_add_up(n_old: int, n_new: int, overlap: int, k_old: int, k_new: int) -> None:
    rng = np.random.default_rng(n_old + n_new + overlap)
    old_ids = rng.permutation(n_old)
    new_ids = rng.permutation(np.arange(n_old - overlap, n_old - overlap + n_new)).astype(str)
    old_segments, new_segments = rng.integers(0, k_old, n_old), rng.integers(0, k_new, n_new)
    values = rng.gamma(2.0, 40.0, n_new)
    result = migration(old_ids, old_segments, new_ids, new_segments, values,
                       {i: f"o{i}" for i in range(k_old)}, {i: f"n{i}" for i in range(k_new)})
    grid = np.zeros((k_old, k_new), dtype=int)
    for o, n, count, _ in result.cells:
        grid[o, n] = count
    assert [t for _, t in result.row_totals] == list(grid.sum(axis=1))
    assert [t for _, t in result.column_totals] == list(grid.sum(axis=0))
    assert (result.both, result.lost, result.added) == (overlap, n_old - overlap, n_new - overlap)
    assert sum(t for _, t in result.lost_by_segment) == result.lost
    assert sum(t for _, t, _ in result.added_by_segment) == result.added
    assert grid.sum() + result.lost == n_old and grid.sum() + result.added == n_new
    spent = sum(v for *_, v in result.cells) + sum(v for *_, v in result.added_by_segment)
    assert spent == pytest.approx(values.sum(), rel=1e-12)
    counts = [m.count for m in result.largest_moves]
    assert counts == sorted(counts, reverse=True) and len(counts) <= 3


def test_million_customers() -> None:
    rng = np.random.default_rng(11)
    n = 1_000_000
    started = time.perf_counter()
    result = migration(np.arange(n), rng.integers(0, 6, n), np.arange(100_000, n + 100_000), rng.integers(0, 6, n),
                       rng.gamma(2.0, 40.0, n), {}, {})
    assert time.perf_counter() - started < 20
    assert (result.both, result.lost, result.added) == (900_000, 100_000, 100_000)
    assert sum(c for _, _, c, _ in result.cells) == 900_000 and len(result.cells) == 36
    assert result.largest_moves[0].old_name.startswith("Segment ")


@pytest.mark.parametrize(("old_ids", "old_segments", "new_ids", "message"), [
    ([1, 2, "2"], [0, 0, 1], [1], "customer id '2' appears more than once"),
    ([1, 2], [0], [1], "2 customer ids but 1 segment labels"),
    ([1, None], [0, 1], [1], "missing customer ids: 1"),
])
def test_invalid_ids(old_ids: list, old_segments: list, new_ids: list, message: str) -> None:
    with pytest.raises(DataError, match=message):
        migration(old_ids, old_segments, new_ids, [0] * len(new_ids), None, {}, {})
