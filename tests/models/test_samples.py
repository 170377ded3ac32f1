"""Joints from samples and time series; plug-in bias of I(X;Y) (ibtheory.models._samples)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ibtheory.models import (
    joint_from_samples,
    joint_from_time_series,
    mutual_information_from_samples,
)


def _embo_p_joint(x1: np.ndarray, x2: np.ndarray, wx: int, wy: int) -> dict:
    """embo 1.1.0's ``utils.p_joint`` loop, transcribed (its windows: past x1[i-wx+1..i], future
    x2[i..i+wy-1], i = wx-1 .. N-wy), returning {(past word, future word): probability}."""
    counts: dict = {}
    for i in range(wx - 1, len(x1) - (wy - 1)):
        key = (tuple(x1[i - wx + 1 : i + 1].tolist()), tuple(x2[i : i + wy].tolist()))
        counts[key] = counts.get(key, 0) + 1
    total = sum(counts.values())
    return {k: v / total for k, v in counts.items()}


def test_joint_counts_pairs_and_returns_symbol_tables() -> None:
    j = joint_from_samples(["b", "a", "b", "c"], [1, 2, 1, 1])
    assert j.x_symbols == ("a", "b", "c") and j.y_symbols == (1, 2) and j.n_samples == 4
    np.testing.assert_array_equal(j.p_xy, [[0, 0.25], [0.5, 0], [0.25, 0]])
    counts = joint_from_samples(["b", "a", "b", "c"], [1, 2, 1, 1], normalize=False)
    np.testing.assert_array_equal(counts.p_xy, [[0, 1], [2, 0], [1, 0]])


def test_integer_and_tuple_symbols_work() -> None:
    j = joint_from_samples(np.array([3, 1, 3]), [(0, 1), (0, 1), (1, 1)])
    assert j.x_symbols == (1, 3) and j.y_symbols == ((0, 1), (1, 1))
    assert j.p_xy.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(("past", "future"), [(1, 1), (3, 2), (2, 4)])
def test_time_series_windows_follow_embo(past: int, future: int) -> None:
    rng = np.random.default_rng(1)
    x, y = rng.integers(0, 3, 300), rng.integers(0, 2, 300)
    j = joint_from_time_series(x, y, past=past, future=future)
    oracle = _embo_p_joint(x, y, past, future)
    got = {(wx, wy): j.p_xy[a, b] for a, wx in enumerate(j.x_symbols) for b, wy in enumerate(j.y_symbols) if j.p_xy[a, b] > 0}
    assert got.keys() == oracle.keys()
    for key, value in oracle.items():
        assert got[key] == pytest.approx(value, abs=1e-15)
    assert j.n_samples == 300 - past - future + 2


def test_single_series_uses_itself_for_the_future() -> None:
    j = joint_from_time_series("abracadabra", past=2, future=1)
    assert ("a", "b") in j.x_symbols and j.n_samples == 10


def test_miller_madow_removes_most_of_the_plugin_bias_for_independent_symbols() -> None:
    """X independent of Y, 4 x 4 symbols, N = 200: E[I_plugin] ~ (4 - 1)^2 / (2N) = 0.0225 nats, true I = 0.
    The Miller-Madow mean must be within 4 standard errors of 0 plus the O(1/N^2) remainder, and the
    plug-in mean within 4 standard errors of the first-order bias."""
    rng = np.random.default_rng(0)
    n, reps = 200, 300
    plug, mm = [], []
    for _ in range(reps):
        est = mutual_information_from_samples(rng.integers(0, 4, n), rng.integers(0, 4, n), n_bootstrap=1)
        plug.append(est.plugin)
        mm.append(est.miller_madow)
    plug_a, mm_a = np.array(plug), np.array(mm)
    se_plug, se_mm = plug_a.std(ddof=1) / math.sqrt(reps), mm_a.std(ddof=1) / math.sqrt(reps)
    second_order = 5.0 / n**2  # the next term of the bias expansion, O(1/N^2)
    assert abs(plug_a.mean() - 9 / (2 * n)) <= 4 * se_plug + second_order + 2e-3
    assert abs(mm_a.mean()) <= 4 * se_mm + second_order + 2e-3
    assert abs(mm_a.mean()) < abs(plug_a.mean()) / 3


def test_bootstrap_interval_is_seeded_and_covers_the_true_information() -> None:
    """Y = X + 1 (mod 3) with probability 0.2, else Y = X, X uniform: I(X;Y) = log 3 - h(0.2)."""
    rng = np.random.default_rng(3)
    n = 4000
    x = rng.integers(0, 3, n)
    y = (x + (rng.uniform(size=n) < 0.2)) % 3
    true = math.log(3) + 0.2 * math.log(0.2) + 0.8 * math.log(0.8)
    a = mutual_information_from_samples(x, y, seed=5)
    b = mutual_information_from_samples(x, y, seed=5)
    np.testing.assert_array_equal(a.interval, b.interval)
    assert a.interval[0] <= true <= a.interval[1]
    assert a.interval[1] - a.interval[0] < 0.1
    bits = mutual_information_from_samples(x, y, seed=5, units="bits")
    assert bits.plugin == pytest.approx(a.plugin / math.log(2), rel=1e-14)


def test_bad_input_raises_value_error() -> None:
    with pytest.raises(ValueError, match="same length"):
        joint_from_samples([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="empty"):
        joint_from_samples([], [])
    with pytest.raises(ValueError, match="hashable"):
        joint_from_samples([[1], [2]], [1, 2])
    with pytest.raises(ValueError, match="past"):
        joint_from_time_series([1, 2, 3], past=3, future=2)
    with pytest.raises(ValueError, match="empty"):
        joint_from_time_series([], past=1, future=1)
    with pytest.raises(ValueError, match="same length"):
        joint_from_time_series([1, 2, 3], [1, 2], past=1, future=1)
    with pytest.raises(ValueError, match="past"):
        joint_from_time_series([1, 2, 3], past=0)
