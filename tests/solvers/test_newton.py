"""Newton's method on the IB fixed point (ibtheory.solvers._newton) and the default polish that uses it.

Routes: the map n -> n' against the generated alternation ``ib_step``; the Newton direction against
central finite differences of that map (so the hand-derived Jacobian is checked, not restated);
convergence against long runs of the alternation, which reach the same fixed point slowly.
"""

from __future__ import annotations

import numpy as np
import pytest

from ibtheory._generated import ib_numpy
from ibtheory.models import random_joint
from ibtheory.numeric import array_backend
from ibtheory.solvers import _curve, ib_curve
from ibtheory.solvers._engine import iterate, pad_encoders
from ibtheory.solvers._newton import FROZEN, _encoder, newton_direction, newton_polish
from ibtheory.solvers._solve import marginals

#: _encoder vs the generated step: the same formulas evaluated in another order (float64 round-off).
MAP_ATOL = 1e-13
#: Central differences with step H_FD of a smooth map with O(1) second derivatives: error ~H_FD^2
#: times the curvature, plus round-off ~eps / H_FD (both ~1e-9 relative to the step's size).
H_FD = 1e-6
FD_RTOL = 1e-6
#: A Newton polish ends at residual <= tol; two fixed-point routes to the same point agree in the
#: objective to round-off of a sum of ~n_x * K terms.
OBJ_ATOL = 1e-12


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
