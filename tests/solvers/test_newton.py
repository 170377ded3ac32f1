"""Newton's method on the IB fixed point (ibtheory.solvers._newton) and the default polish that uses it.

Routes: the map n -> n' against the generated alternation ``ib_step``; the Newton direction against
central finite differences of that map (so the hand-derived Jacobian is checked, not restated);
convergence against long runs of the alternation, which reach the same fixed point slowly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ibtheory._generated import ib_numpy
from ibtheory.models import random_joint
from ibtheory.numeric import array_backend
from ibtheory.solvers import _curve, ib_curve
from ibtheory.solvers._engine import iterate, pad_encoders
from ibtheory.solvers._newton import FROZEN, _encoder, newton_direction, newton_polish
from ibtheory.solvers._solve import DEFAULT_TOL, marginals

#: _encoder vs the generated step: the same formulas evaluated in another order (float64 round-off).
MAP_ATOL = 1e-13
#: Central differences with step H_FD of a smooth map with O(1) second derivatives: error ~H_FD^2
#: times the curvature, plus round-off ~eps / H_FD (both ~1e-9 relative to the step's size).
H_FD = 1e-6
FD_RTOL = 1e-6
#: A Newton polish ends at residual <= tol; two fixed-point routes to the same point agree in the
#: objective to round-off of a sum of ~n_x * K terms.
OBJ_ATOL = 1e-12
DATA = Path(__file__).parent / "data"


def _problem(seed: int = 0, n_x: int = 12, n_y: int = 4):
    p_x, p_y_given_x = marginals(random_joint(n_x, n_y, concentration=0.8, seed=seed))
    return p_x, p_y_given_x, p_x[:, None] * p_y_given_x


def _random_encoder(rng, n_x: int, k: int) -> np.ndarray:
    return rng.dirichlet(np.ones(k), size=n_x)


def test_the_map_of_the_joint_is_one_generated_alternation():
    p_x, p_y, p_xy = _problem()
    rng = np.random.default_rng(0)
    q = _random_encoder(rng, p_x.size, 5)
    betas = np.array([0.7, 3.0, 25.0])
    log_q = np.log(np.stack([q] * 3))
    n = np.einsum("bxt,xy->bty", np.exp(log_q), p_xy)
    ours = _encoder(np.log(n), p_y, betas)
    generated = ib_numpy.ib_step(log_q, p_x, p_y, betas).log_p_t_given_x
    np.testing.assert_allclose(np.exp(ours), np.exp(generated), atol=MAP_ATOL)


@pytest.mark.parametrize("beta", [0.5, 4.0, 30.0])
def test_newton_direction_solves_the_finite_difference_newton_system(beta):
    """(J - I) d = -(n' - n) with J from central differences of n -> n'(n)."""
    p_x, p_y, p_xy = _problem(seed=1)
    rng = np.random.default_rng(1)
    q0 = _random_encoder(rng, p_x.size, 4)
    b = np.array([beta])

    def image(n: np.ndarray) -> np.ndarray:
        return np.einsum("bxt,xy->bty", np.exp(_encoder(np.log(n), p_y, b)), p_xy)

    n = np.einsum("xt,xy->ty", q0, p_xy)[None]
    n_next = image(n)
    q_n = np.exp(_encoder(np.log(n), p_y, b))
    d = newton_direction(n, q_n, n_next, p_xy, p_y, b, n > FROZEN)
    jd = (image(n + H_FD * d) - image(n - H_FD * d)) / (2 * H_FD)  # J d by central differences
    lhs = jd - d
    np.testing.assert_allclose(lhs, -(n_next - n), rtol=FD_RTOL, atol=FD_RTOL * np.abs(n_next - n).max())


def test_newton_polish_reaches_the_fixed_point_the_alternation_approaches_slowly():
    p_x, p_y, _ = _problem(seed=2, n_x=16, n_y=4)
    be = array_backend("numpy")
    rng = np.random.default_rng(2)
    betas = np.array([2.0, 6.0, 15.0])
    start = np.log(np.stack([_random_encoder(rng, p_x.size, 6) for _ in betas]))
    # a short run of alternations brings each member near its fixed point ...
    near, _, _ = iterate(be, start.copy(), p_x, p_y, betas, "ib", 1e-14, 60)
    # ... which Newton's method finishes, and a long run reaches too
    polished, _, residual = newton_polish(near.copy(), p_x, p_y, betas, tol=1e-13)
    long, _, long_res = iterate(be, near.copy(), p_x, p_y, betas, "ib", 1e-13, 200_000)
    assert np.all(residual <= 1e-13)
    assert np.all(long_res <= 1e-13)  # the oracle itself converged
    obj = ib_numpy.ib_lagrangian(p_x, p_y, np.exp(polished), betas)
    obj_long = ib_numpy.ib_lagrangian(p_x, p_y, np.exp(long), betas)
    np.testing.assert_allclose(obj, obj_long, rtol=0, atol=OBJ_ATOL)


def test_padding_clusters_are_held_fixed():
    """Padded (dead) clusters, as in the batched polish, neither move nor stop the others' Newton steps."""
    p_x, p_y, _ = _problem(seed=3)
    be = array_backend("numpy")
    rng = np.random.default_rng(3)
    q = _random_encoder(rng, p_x.size, 3)
    near, _, _ = iterate(be, np.log(q)[None], p_x, p_y, np.array([5.0]), "ib", 1e-14, 30)
    padded = np.log(pad_encoders([np.exp(near[0])], 6))
    polished, _, residual = newton_polish(padded, p_x, p_y, np.array([5.0]), tol=1e-12)
    assert residual[0] <= 1e-12
    assert np.exp(polished[0][:, 3:]).max() < 1e-150


def test_default_curve_with_and_without_the_newton_polish_agree(monkeypatch):
    """The Newton polish changes how the fixed points are reached, not which: objectives agree to
    the stated residual's effect, and no point gets worse."""
    p = random_joint(16, 4, concentration=0.5, seed=4)
    betas = np.geomspace(0.5, 30, 16)
    with_newton = ib_curve(p, betas)
    monkeypatch.setattr(_curve._Annealer, "newton_fits", lambda self, width: False)
    without = ib_curve(p, betas)
    assert np.all(with_newton.objective <= without.objective + 1e-9)
    assert with_newton.converged.sum() >= without.converged.sum()


@pytest.mark.parametrize("plant", ["copy", "light"])
def test_the_polish_compacts_copies_and_dying_clusters_as_it_goes(plant):
    """A cluster duplicated into two equal halves ("copy") or a cluster of mass ~1e-9 ("light"),
    planted near a stable fixed point, leaves the default polish compacted: that fixed point (by the
    long plain alternation), its width, within NEWTON_AFTER + COMPACT_EVERY alternations."""
    p_x, p_y, _ = _problem(seed=5)
    beta = 6.0
    be = array_backend("numpy")
    rng = np.random.default_rng(5)
    optimum = ib_curve(p_x[:, None] * p_y, [beta], locate_transitions=False).encoders[0]  # a stable fixed point
    fixed, _, fixed_res = iterate(be, np.log(optimum)[None], p_x, p_y, np.array([beta]), "ib", 1e-14, 200_000)
    assert fixed_res[0] <= 1e-13  # the oracle: the plain alternation to round-off
    q = np.exp(fixed[0]) * (1 + 1e-3 * rng.uniform(-1, 1, size=fixed[0].shape))  # near it, off it
    q /= q.sum(axis=1, keepdims=True)
    if plant == "copy":
        planted = np.concatenate([q[:, :1] * 0.5, q[:, :1] * 0.5, q[:, 1:]], axis=1)
    else:
        planted = np.concatenate([q, np.full((p_x.size, 1), 1e-9)], axis=1)  # mass ~1e-9
        planted /= planted.sum(axis=1, keepdims=True)
    ann = _curve._Annealer(be, p_x, p_y, "ib", p_x.size, np.random.default_rng(0), 1e-8, 200)
    run = ann.run([(planted, beta)], 1e-12, _curve.CURVE_MAX_ITER, None, newton=True)[0]
    assert run.residual <= 1e-12
    assert run.n_iter <= _curve.NEWTON_AFTER + _curve.COMPACT_EVERY
    assert run.encoder.shape[1] == optimum.shape[1]
    obj_fixed = float(ib_numpy.ib_lagrangian(p_x, p_y, np.exp(fixed[0]), np.array([beta]))[0])
    assert run.objective == pytest.approx(obj_fixed, abs=OBJ_ATOL)


def test_compacting_as_it_goes_finishes_a_polish_that_stalls_without_it():
    """A recorded polish start (the default's pipeline on random_joint(64, 8, seed=0) at beta
    14.75, 54 clusters): the alternation stays above tol for 3000 alternations and Newton's method
    from there stalls too (clusters that merge and die keep slow and null modes); compacting them
    as the polish goes finishes it, at an objective no higher than the stalled route's."""
    data = np.load(DATA / "polish_start_dirichlet1_64x8_beta14.npz")
    q0, beta = data["p_t_given_x"], float(data["beta"])
    p_x, p_y = marginals(random_joint(64, 8, concentration=1.0, seed=0))
    be = array_backend("numpy")
    tol = DEFAULT_TOL
    plain, _, plain_res = iterate(be, np.log(q0)[None], p_x, p_y, np.array([beta]), "ib", tol, _curve.CURVE_MAX_ITER)
    stalled, _, stalled_res = newton_polish(plain, p_x, p_y, np.array([beta]), tol)
    assert plain_res[0] > tol and stalled_res[0] > tol  # the premise
    ann = _curve._Annealer(be, p_x, p_y, "ib", p_x.size, np.random.default_rng(0), 1e-8, 200)
    run = ann.run([(q0, beta)], tol, _curve.CURVE_MAX_ITER, None, newton=True)[0]
    assert run.residual <= tol
    assert run.n_iter < _curve.CURVE_MAX_ITER // 3
    obj_stalled = float(ib_numpy.ib_lagrangian(p_x, p_y, np.exp(stalled), np.array([beta]))[0])
    assert run.objective <= obj_stalled + OBJ_ATOL
