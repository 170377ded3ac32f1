"""The deterministic IB (Strouse & Schwab 2017; theory.md 11.1): concavity, exact optimum, heuristic.

Oracles: the DIB objective written literally here with NumPy (independent of the generated kernels),
brute-force enumeration of every partition by the classic recursion (not restricted growth strings
built array-wise, as the solver does), and the Bell numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ibtheory.models import random_joint
from ibtheory.solvers import dib_curve, set_partitions

#: Objectives are sums of O(n_x n_y) float64 terms of size O(1): agreement to 1e-12 nats.
ROUNDOFF = 1e-12
BELL = [1, 1, 2, 5, 15, 52, 203, 877, 4140, 21147, 115975]
BETAS = np.linspace(0.1, 40.0, 80)


def _literal(p_xy: np.ndarray, q: np.ndarray) -> tuple[float, float, float]:
    """(H(T), H(T|X), I(T;Y)) in nats of an encoder q = p(t|x), written out (Cover & Thomas eqs. 2.1, 2.28)."""
    p_x = p_xy.sum(1)
    p_xt = p_x[:, None] * q
    p_t = p_xt.sum(0)
    p_ty = q.T @ p_xy
    p_y = p_xy.sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h_t = -np.sum(np.where(p_t > 0, p_t * np.log(p_t), 0.0))
        h_tx = -np.sum(np.where(p_xt > 0, p_xt * np.log(q), 0.0))
        i_ty = np.sum(np.where(p_ty > 0, p_ty * np.log(p_ty / np.outer(p_t, p_y)), 0.0))
    return float(h_t), float(h_tx), float(i_ty)


def _partitions(n: int) -> list[list[int]]:
    """Every set partition of {0..n-1} as block labels, by the classic recursion (element n-1 joins
    each block of a partition of {0..n-2}, or a block of its own): independent of set_partitions."""
    if n == 1:
        return [[0]]
    out = []
    for p in _partitions(n - 1):
        for label in range(max(p) + 2):
            out.append([*p, label])
    return out


def _brute_force(p_xy: np.ndarray, beta: float) -> float:
    """min over every partition of X of H(T) - beta I(T;Y), written out with NumPy (vectorised
    over the partitions; clusters indexed by label)."""
    n_x = p_xy.shape[0]
    labels = np.array(_partitions(n_x))
    q = (labels[:, :, None] == np.arange(n_x)).astype(float)  # (P, x, t)
    p_ty = np.einsum("pxt,xy->pty", q, p_xy)
    p_t = p_ty.sum(-1)
    p_y = p_xy.sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h_t = -np.sum(np.where(p_t > 0, p_t * np.log(p_t), 0.0), axis=-1)
        i_ty = np.sum(np.where(p_ty > 0, p_ty * np.log(p_ty / (p_t[..., None] * p_y)), 0.0), axis=(-2, -1))
    return float(np.min(h_t - beta * i_ty))


def test_set_partitions_counts_are_bell_numbers() -> None:
    for n in range(1, 11):
        assert set_partitions(n).shape == (BELL[n], n)


def test_set_partitions_are_distinct_restricted_growth_strings() -> None:
    parts = set_partitions(6)
    assert len({p.tobytes() for p in parts}) == parts.shape[0]
    # restricted growth: each label is at most one more than the largest before it
    running = np.maximum.accumulate(parts, axis=1)
    assert np.all(parts[:, 1:] <= running[:, :-1] + 1) and np.all(parts[:, 0] == 0)


def test_set_partitions_respect_the_block_limit() -> None:
    parts = set_partitions(7, max_blocks=3)
    assert parts.max() == 2
    # Stirling numbers of the second kind S(7,1) + S(7,2) + S(7,3) = 1 + 63 + 301
    assert parts.shape[0] == 365


@pytest.mark.parametrize("seed", range(5))
def test_dib_objective_lies_above_the_chord_between_two_encoders(seed: int) -> None:
    """Concavity in the encoder (module docstring of ibtheory.solvers._dib): along a segment
    q(lam) = (1 - lam) q0 + lam q1 the objective is at or above the chord, so the minimum over
    encoders is at a vertex (a deterministic encoder)."""
    rng = np.random.default_rng(seed)
    p_xy = random_joint(6, 3, seed=seed)
    q0, q1 = rng.dirichlet(np.ones(4), size=6), rng.dirichlet(np.ones(4), size=6)
    beta = float(rng.uniform(0.5, 10))

    def obj(q: np.ndarray) -> float:
        h, _, i = _literal(p_xy, q)
        return h - beta * i

    for lam in np.linspace(0.05, 0.95, 19):
        chord = (1 - lam) * obj(q0) + lam * obj(q1)
        assert obj((1 - lam) * q0 + lam * q1) >= chord - ROUNDOFF


@pytest.mark.parametrize(("n_x", "n_y", "seed"), [(4, 3, 0), (5, 2, 1), (6, 3, 2), (7, 4, 3), (8, 3, 4)])
def test_exact_dib_equals_brute_force_enumeration(n_x: int, n_y: int, seed: int) -> None:
    p_xy = random_joint(n_x, n_y, seed=seed)
    betas = np.array([0.5, 2.0, 5.0, 12.0, 40.0])
    curve = dib_curve(p_xy, betas)
    assert curve.exact
    for k, beta in enumerate(betas):
        assert curve.objective[k] == pytest.approx(_brute_force(p_xy, float(beta)), abs=ROUNDOFF)
        h, h_tx, i = _literal(p_xy, curve.encoders[k])
        assert h_tx == 0.0
        assert curve.h_t[k] == pytest.approx(h, abs=ROUNDOFF)
        assert curve.i_ty[k] == pytest.approx(i, abs=ROUNDOFF)
        assert curve.i_xt[k] == pytest.approx(h, abs=ROUNDOFF)


@pytest.mark.parametrize("seed", range(3))
def test_exact_dib_equals_brute_force_at_nine_symbols(seed: int) -> None:
    p_xy = random_joint(9, 3, seed=seed)
    betas = np.array([1.0, 4.0, 15.0])
    curve = dib_curve(p_xy, betas)
    for k, beta in enumerate(betas):
        assert curve.objective[k] == pytest.approx(_brute_force(p_xy, float(beta)), abs=ROUNDOFF)


def test_exact_transitions_are_where_two_partitions_tie() -> None:
    p_xy = random_joint(7, 3, seed=4)
    curve = dib_curve(p_xy, BETAS)
    assert curve.transitions.size > 0 and curve.transition_rtol == 0.0
    for b, (k_lo, k_hi) in zip(curve.transitions, curve.transition_clusters, strict=True):
        below = dib_curve(p_xy, [b * (1 - 1e-9)])
        above = dib_curve(p_xy, [b * (1 + 1e-9)])
        h0, _, i0 = _literal(p_xy, below.encoders[0])
        h1, _, i1 = _literal(p_xy, above.encoders[0])
        assert h0 - b * i0 == pytest.approx(h1 - b * i1, abs=1e-9)
        assert (below.n_clusters[0], above.n_clusters[0]) == (k_lo, k_hi)
        assert not np.array_equal(below.encoders[0], above.encoders[0])


def test_exact_dib_curve_is_the_lower_envelope_concave_in_beta() -> None:
    curve = dib_curve(random_joint(8, 3, seed=5), BETAS)
    second = np.diff(curve.objective, 2)
    assert np.all(second <= ROUNDOFF)  # a minimum of lines is concave
    assert np.all(np.diff(curve.i_ty) >= -ROUNDOFF) and np.all(np.diff(curve.h_t) >= -ROUNDOFF)


@pytest.mark.parametrize("seed", range(4))
def test_heuristic_dib_finds_the_exact_optimum_on_small_joints(seed: int) -> None:
    p_xy = random_joint(8, 3, seed=seed)
    betas = np.linspace(0.1, 40.0, 30)
    exact = dib_curve(p_xy, betas)
    heur = dib_curve(p_xy, betas, exact=False)
    assert not heur.exact
    np.testing.assert_allclose(heur.objective, exact.objective, atol=ROUNDOFF)


def test_heuristic_dib_runs_beyond_the_exact_range() -> None:
    p_xy = random_joint(14, 3, seed=0)
    curve = dib_curve(p_xy, np.linspace(0.5, 20, 8))
    assert not curve.exact
    for k in range(8):
        q = curve.encoders[k]
        assert np.all((q == 0) | (q == 1)) and np.all(q.sum(1) == 1)
        h, _, i = _literal(p_xy, q)
        assert curve.objective[k] == pytest.approx(h - curve.betas[k] * i, abs=ROUNDOFF)


def test_local_search_deltas_are_literal_objective_changes_with_a_warm_cache() -> None:
    """Every move and merge delta the local search reads (from the per-(beta, cluster) cache after the
    first call) equals the change of the literal objective of the moved/merged partition."""
    from ibtheory.solvers._dib import _Search

    p_xy = random_joint(7, 3, seed=5)
    p_x = p_xy.sum(1)
    search = _Search(p_x, p_xy / p_x[:, None], 7)
    beta = 3.0

    def obj(labels: np.ndarray) -> float:
        h, _, i = _literal(p_xy, (labels[:, None] == np.arange(7)).astype(float))
        return h - beta * i

    rng = np.random.default_rng(0)
    for _ in range(4):  # later partitions share clusters with earlier ones: cache hits
        labels = np.array([0, 0, 1, 1, 2, 2, 3])
        labels[rng.integers(0, 7)] = rng.integers(0, 4)
        labels = np.unique(labels, return_inverse=True)[1]
        k = int(labels.max()) + 1
        move, pa, pb, merge = search.deltas(labels, k + 1, beta)
        base = obj(labels)
        for x in range(7):
            for b in range(k + 1):
                moved = labels.copy()
                moved[x] = b
                assert move[x, b] == pytest.approx(obj(moved) - base, abs=ROUNDOFF)
        for m in range(pa.size):
            merged = np.where(labels == pb[m], pa[m], labels)
            assert merge[m] == pytest.approx(obj(merged) - base, abs=ROUNDOFF)
    assert search.cache[beta]  # the cache was used


def test_units_bits_are_nats_over_ln2() -> None:
    p_xy = random_joint(6, 3, seed=1)
    nats, bits = dib_curve(p_xy, BETAS[:10]), dib_curve(p_xy, BETAS[:10], units="bits")
    np.testing.assert_allclose(bits.objective, nats.objective / math.log(2), rtol=1e-14)
    np.testing.assert_allclose(bits.i_ty, nats.i_ty / math.log(2), rtol=1e-14)
    assert bits.units == "bits" and nats.units == "nats"


def test_capacity_bounds_the_clusters() -> None:
    curve = dib_curve(random_joint(7, 3, seed=2), BETAS, n_clusters=2)
    assert curve.n_clusters.max() <= 2


def test_bad_input_raises_value_error() -> None:
    p_xy = random_joint(12, 3, seed=0)
    with pytest.raises(ValueError, match="exact=True"):
        dib_curve(p_xy, [1.0], exact=True)
    with pytest.raises(ValueError, match="n_restarts"):
        dib_curve(random_joint(4, 2, seed=0), [1.0], exact=False, n_restarts=-1)
    with pytest.raises(ValueError, match="betas"):
        dib_curve(random_joint(4, 2, seed=0), [])
    with pytest.raises(ValueError, match="units"):
        dib_curve(random_joint(4, 2, seed=0), [1.0], units="hartleys")
