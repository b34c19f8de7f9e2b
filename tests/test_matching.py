"""Segment matching between two runs: optimal pairs, the distance cap, label permutations."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from reportgen.compare.matching import default_max_distance, match_by_customers, match_segments, overlap_shares
from reportgen.errors import BaselineError, ConfigError

OLD = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0], [4.0, 4.0]])


def test_moved_relabelled_segments_are_found() -> None:
    new = OLD[[2, 0, 3, 1]] + np.array([[0.1, 0.0], [0.0, 0.2], [-0.3, 0.0], [0.0, 0.0]])
    match = match_segments(OLD, new, 1.0)
    assert [(n, o) for n, o, _ in match.pairs] == [(0, 2), (1, 0), (2, 3), (3, 1)]
    assert [d for _, _, d in match.pairs] == pytest.approx([0.1, 0.2, 0.3, 0.0])
    assert match.new == () and match.retired == () and match.old_of == {0: 2, 1: 0, 2: 3, 3: 1}


def test_optimal_not_greedy() -> None:
    # Nearest-first would give new 0 to old 0 (0.5) and leave new 1 with old 1 at 1.7, a total of 2.2;
    # the assignment pays 0.6 + 0.6 instead.
    old = np.array([[0.0], [1.1]])
    new = np.array([[0.5], [-0.6]])
    match = match_segments(old, new, 10.0)
    assert [(n, o) for n, o, _ in match.pairs] == [(0, 1), (1, 0)]
    assert sum(d for *_, d in match.pairs) == pytest.approx(1.2)


@pytest.mark.parametrize(("new", "cap", "pairs", "fresh", "retired"), [
    (OLD, 0.0, [(0, 0), (1, 1), (2, 2), (3, 3)], (), ()),
    (OLD[:3], 1.0, [(0, 0), (1, 1), (2, 2)], (), (3,)),
    (np.vstack([OLD, [[20.0, 20.0]]]), 1.0, [(0, 0), (1, 1), (2, 2), (3, 3)], (4,), ()),
    (np.vstack([OLD[:3], [[9.0, 9.0]]]), 1.0, [(0, 0), (1, 1), (2, 2)], (3,), (3,)),
    (np.empty((0, 2)), 1.0, [], (), (0, 1, 2, 3)),
])
def test_new_and_retired(new: np.ndarray, cap: float, pairs: list, fresh: tuple, retired: tuple) -> None:
    match = match_segments(OLD, new, cap)
    assert [(n, o) for n, o, _ in match.pairs] == pairs and match.new == fresh and match.retired == retired


@pytest.mark.parametrize("permutation", list(itertools.permutations(range(4))))
def test_permutation_invariance(permutation: tuple[int, ...]) -> None:
    rng = np.random.default_rng(5)
    new = OLD + rng.normal(0, 0.4, OLD.shape)
    new[3] += 10  # one segment too far away to match
    base = match_segments(OLD, new, 1.5)
    permuted = match_segments(OLD, new[list(permutation)], 1.5)
    # Row i of the permuted centroids is original segment permutation[i].
    relabelled = sorted((permutation[n], o, d) for n, o, d in permuted.pairs)
    assert relabelled == list(base.pairs)
    assert sorted(permutation[n] for n in permuted.new) == list(base.new) == [3]
    assert permuted.retired == base.retired


def test_default_max_distance() -> None:
    # Pairwise distances of the square: four sides of 4 and two diagonals of 4√2; median 4, half of it 2.
    assert default_max_distance(OLD) == pytest.approx(2.0)
    assert default_max_distance(OLD[:1]) == math.inf
    assert match_segments(OLD[:1], np.array([[50.0, 50.0]]), default_max_distance(OLD[:1])).pairs[0][:2] == (0, 0)


@pytest.mark.parametrize(("old", "new", "cap", "error"), [
    (OLD, np.zeros((2, 3)), 1.0, BaselineError),
    (OLD, np.zeros(2), 1.0, BaselineError),
    (OLD, np.array([[np.nan, 0.0]]), 1.0, BaselineError),
    (OLD, OLD, -1.0, ConfigError),
    (OLD, OLD, math.nan, ConfigError),
])
def test_invalid_inputs(old: np.ndarray, new: np.ndarray, cap: float, error: type[Exception]) -> None:
    with pytest.raises(error):
        match_segments(old, new, cap)


def test_customers_who_stayed_keep_a_segment_whose_centre_moved() -> None:
    old = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    new = np.array([[0.0, 0.0], [16.0, 0.0], [30.0, 30.0]])  # segment 1 moved beyond the distance cap
    old_ids = np.array([str(i) for i in range(300)])
    old_labels = np.repeat([0, 1, 2], 100)
    new_labels = np.r_[np.zeros(100), np.ones(80), np.full(20, 2), np.full(100, 2)].astype(int)
    shares = overlap_shares(old_ids, old_labels, old_ids, new_labels, 3, 3)
    assert shares[1, 1] == pytest.approx(0.8) and shares[2, 2] == 1.0
    match = match_by_customers(old, new, 3.0, shares, {0: "A", 1: "B", 2: "C"})
    assert match.old_of == {0: 0, 1: 1, 2: 2} and match.new == () and match.retired == ()
    reasons = dict(match.reasons)
    assert "holds 80% of the customers of 'B'" in reasons[1] and "centroid distance 6.00" in reasons[1]
    # Without the customers, the moved segment would have been retired and replaced.
    assert match_segments(old, new, 3.0).retired == (1, 2)


def test_segment_with_other_customers_and_a_far_centre_is_new() -> None:
    shares = np.array([[1.0, 0.0], [0.0, 0.3], [0.0, 0.7]])
    old = np.array([[0.0, 0.0], [10.0, 0.0]])
    new = np.array([[0.0, 0.0], [50.0, 50.0], [10.5, 0.0]])
    match = match_by_customers(old, new, 3.0, shares)
    assert match.old_of == {0: 0, 2: 1} and match.new == (1,)
    assert dict(match.reasons)[1].startswith("new: ")
