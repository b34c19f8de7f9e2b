"""Mix against behaviour: the symmetric split of the change in mean value per customer."""

from __future__ import annotations

import numpy as np
import pytest

from reportgen.compare.mixshift import mix_behaviour

OLD = [(0, 0.5, 100.0), (1, 0.5, 20.0)]  # overall mean 60


@pytest.mark.parametrize(("new", "total", "mix", "behaviour"), [
    # Nothing changes.
    (OLD, 0.0, 0.0, 0.0),
    # Only sizes change: a quarter of the customers move to the cheaper segment.
    ([(0, 0.25, 100.0), (1, 0.75, 20.0)], -20.0, -20.0, 0.0),
    # Only means change: everyone spends 10 more.
    ([(0, 0.5, 110.0), (1, 0.5, 30.0)], 10.0, 0.0, 10.0),
    # Both: (0.75 − 0.5)·(100 + 120)/2 + (0.25 − 0.5)·(20 + 20)/2 = 27.5 − 5 = 22.5 mix; 20·0.625 = 12.5 behaviour.
    ([(0, 0.75, 120.0), (1, 0.25, 20.0)], 35.0, 22.5, 12.5),
    # A new segment takes a quarter of the customers: its whole contribution is mix.
    ([(0, 0.5, 100.0), (1, 0.25, 20.0), (2, 0.25, 60.0)], 10.0, 10.0, 0.0),
    # Segment 1 retires (−10 of mix) and segment 0 absorbs it at a lower mean (+45 mix, −15 behaviour).
    ([(0, 1.0, 80.0)], 20.0, 35.0, -15.0),
])
def test_decomposition(new: list, total: float, mix: float, behaviour: float) -> None:
    result = mix_behaviour(OLD, new)
    assert result.old_mean == 60.0 and result.new_mean == pytest.approx(60.0 + total)
    assert result.total_change == pytest.approx(total)
    assert result.mix_effect == pytest.approx(mix, abs=1e-12)
    assert result.behaviour_effect == pytest.approx(behaviour, abs=1e-12)
    assert result.mix_effect + result.behaviour_effect == pytest.approx(result.total_change, abs=1e-12)


def test_segment_contributions() -> None:
    result = mix_behaviour(OLD, [(1, 0.5, 20.0), (2, 0.5, 50.0)])
    by_key = {s.key: s for s in result.segments}
    assert [s.key for s in result.segments] == [0, 1, 2]
    assert (by_key[0].new_share, by_key[0].new_mean, by_key[0].mix, by_key[0].behaviour) == (0.0, None, -50.0, 0.0)
    assert (by_key[2].old_share, by_key[2].old_mean, by_key[2].mix, by_key[2].total) == (0.0, None, 25.0, 25.0)
    assert by_key[1].total == 0.0
    assert sum(s.total for s in result.segments) == pytest.approx(result.total_change)


def test_swapping_periods_flips_both_effects() -> None:
    new = [(0, 0.7, 130.0), (1, 0.2, 15.0), (2, 0.1, 40.0)]
    forward, backward = mix_behaviour(OLD, new), mix_behaviour(new, OLD)
    assert backward.mix_effect == pytest.approx(-forward.mix_effect)
    assert backward.behaviour_effect == pytest.approx(-forward.behaviour_effect)


@pytest.mark.parametrize("seed", range(5))
def test_effects_add_up_on_random_segments(seed: int) -> None:
    rng = np.random.default_rng(seed)
    old_shares, new_shares = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(5))
    old_means, new_means = rng.gamma(2, 50, 6), rng.gamma(2, 50, 5)
    old = [(f"s{i}", float(old_shares[i]), float(old_means[i])) for i in range(6)]
    new = [(f"s{i + 2}", float(new_shares[i]), float(new_means[i])) for i in range(5)]  # s0, s1 retire; s6 is new
    result = mix_behaviour(old, new)
    assert result.mix_effect + result.behaviour_effect == pytest.approx(result.total_change, rel=1e-12, abs=1e-12)
    assert result.total_change == pytest.approx(result.new_mean - result.old_mean)


@pytest.mark.parametrize(("old", "new", "message"), [
    ([(0, 0.5, 1.0), (0, 0.5, 2.0)], OLD, "lists segment 0 twice"),
    ([(0, -0.1, 1.0)], OLD, "finite share >= 0"),
    (OLD, [(0, 1.0, float("nan"))], "finite mean"),
])
def test_invalid(old: list, new: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mix_behaviour(old, new)
