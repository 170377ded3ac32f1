"""Extreme but valid inputs of the discrete solvers found by the property hunt (issue 21).

Each case once returned NaN, raised a float warning (warnings are errors in tests), ran to the
iteration cap, or accepted a malformed argument. The assertions are properties of the true answer,
not the code's earlier output: finite information, 0 <= I(T;Y) <= I(X;T) <= H(X), I(X;T)
non-decreasing in beta along an optimal curve, and a converged flag that agrees with a plain
alternation of the returned encoder (recomputed here with the generated step).
"""

from __future__ import annotations

import numpy as np
import pytest

from ibtheory import critical_betas, ib_curve, solve_dual_ib, solve_ib
from ibtheory._generated import ib_numpy

#: Information values are sums of a few float64 logs; solves stop at a residual of 1e-10.
INFO_TOL = 1e-7
#: These problems converge in at most a few hundred alternations (the cap is 20,000): a solve
#: that uses more is iterating on round-off, not converging.
FAST_ITER = 2_000


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def _plain_residual(sol, p_xy: np.ndarray) -> float:
    """max |delta p(t|x)| of one generated alternation from the returned encoder."""
    p_xy = np.asarray(p_xy, dtype=np.float64)
    p_xy = p_xy / p_xy.sum()
    p_x = p_xy.sum(1)
    step = ib_numpy.ib_step if sol.method == "ib" else ib_numpy.dual_ib_step
    with np.errstate(divide="ignore"):
        log_q = np.log(sol.p_t_given_x)[None]
    new = step(log_q, p_x, p_xy / p_x[:, None], np.array([sol.beta])).log_p_t_given_x
    return float(np.max(np.abs(np.exp(new[0]) - sol.p_t_given_x)))


def _check_point(i_xt: float, i_ty: float, p_xy: np.ndarray) -> None:
    h_x = _entropy(np.asarray(p_xy).sum(1))
    assert np.isfinite(i_xt) and np.isfinite(i_ty)
    assert -INFO_TOL <= i_ty <= i_xt + INFO_TOL <= h_x + 2 * INFO_TOL


@pytest.mark.parametrize("m", [2.5e-13, 2.5e-16])
def test_curve_with_a_rare_uninformative_row_is_finite_and_monotone(m):
    # item 1: the rare x held its mass only in its own light cluster; dropping it made the row 0/0
    p_xy = np.array([[0.5, 0.0], [0.0, 0.5], [m, m]])
    p_xy /= p_xy.sum()
    curve = ib_curve(p_xy, [1e-6, 20.09], effort="fast", locate_transitions=False)
    for i_xt, i_ty in zip(curve.i_xt, curve.i_ty, strict=True):
        _check_point(float(i_xt), float(i_ty), p_xy)
    assert np.all(np.diff(curve.i_xt) >= -INFO_TOL)
    # at beta = 20 the two heavy rows are resolved: I(T;Y) ~ ln 2
    assert curve.i_ty[-1] == pytest.approx(np.log(2), abs=1e-6)


def test_curve_with_deterministic_rare_rows_warns_nothing():
    p_xy = np.array([[1e-3, 0], [0, 1e-3], [0, 0.998]])
    curve = ib_curve(p_xy, [1.0, 1e3], effort="fast")
    for i_xt, i_ty in zip(curve.i_xt, curve.i_ty, strict=True):
        _check_point(float(i_xt), float(i_ty), p_xy)
    assert np.all(np.diff(curve.i_xt) >= -INFO_TOL)


SINGLE = [
    # item 3 (overflow in the SQUAREM step) and item 5 (capped yet converged=True)
    ("dualib", [[0, 1e-3], [0, 1e-3], [0.998, 0]], 1e4),
    ("dualib", [[0, 1e-3], [0, 1e-3], [0.998, 0]], 1e8),
    ("dualib", [[1e-3, 0], [0, 1e-3], [0, 0.998]], 1e8),
    ("dualib", [[1e-15, 0], [1e-15, 0], [0.5, 0.5]], 1e8),
    ("ib", [[1e-15, 0], [1e-15, 0], [0.5, 0.5]], 1e8),
    # item 4 (rare rows left without kept mass: 0/0 in compaction)
    ("ib", [[1e-15, 0], [0, 1e-15], [1, 0]], 1e8),
    ("ib", [[1e-15, 0], [0.999999999, 0], [0, 5.6e-9]], 1e4),
    # item 10: an ordinary joint at small beta (one step reaches the trivial fixed point; the
    # SQUAREM second difference vanishes)
    ("ib", [[7.48e-4, 2.50e-4], [0.2312, 0.7668], [2.31e-4, 7.67e-4]], 1e-6),
]


@pytest.mark.parametrize(("method", "p_xy", "beta"), SINGLE)
def test_single_solves_at_extremes_are_finite_and_honestly_converged(method, p_xy, beta):
    # ib at 1e8 with two rows of mass 1e-15: the trivial-like point is unstable with an eigenvalue
    # ~1 + 1e-6 (gains of beta * 1e-15) and objective changes sit below round-off, so 20,000
    # alternations do not reach tol; the flag must then say so.
    expect_slow = method == "ib" and beta == 1e8 and np.asarray(p_xy)[0][0] == 1e-15 and np.asarray(p_xy)[1][0] == 1e-15
    solve = solve_ib if method == "ib" else solve_dual_ib
    sol = solve(p_xy, beta, normalize=True)
    p = np.asarray(p_xy, dtype=np.float64) / np.sum(p_xy)
    _check_point(sol.i_xt, sol.i_ty, p)
    assert np.all(np.isfinite(sol.p_t_given_x))
    assert np.allclose(sol.p_t_given_x.sum(1), 1.0)
    # the flag agrees with one plain alternation of what was returned
    plain = _plain_residual(sol, p)
    if sol.converged:
        assert sol.n_iter < FAST_ITER and plain <= 10 * sol.tol
    else:
        assert plain > sol.tol and sol.residual > sol.tol
    assert sol.converged or expect_slow


@pytest.mark.parametrize(("method", "p_xy", "beta"), [c for c in SINGLE if abs(np.sum(c[1]) - 1) <= 1e-9])
def test_joints_taken_as_given_are_finite_with_an_honest_flag(method, p_xy, beta):
    """The joints summing to one within 1e-9, taken as given (not renormalised)."""
    solve = solve_ib if method == "ib" else solve_dual_ib
    sol = solve(p_xy, beta)
    assert sol.converged == (sol.residual <= sol.tol)
    assert np.isfinite(sol.i_xt) and np.isfinite(sol.i_ty)


@pytest.mark.parametrize("beta_max", [-1.0, 0.0, float("nan"), float("inf"), "big"])
def test_critical_betas_refuses_a_bad_beta_max_whatever_n_critical(beta_max):
    with pytest.raises(ValueError, match="beta_max"):
        critical_betas([[0.4, 0.1], [0.1, 0.4]], beta_max=beta_max)


def test_squarem_step_without_curvature_is_a_plain_step():
    # item 10: a round whose second difference v = x2 - 2 x1 + x0 vanishes (a linear drift, or
    # x0 at the fixed point up to round-off) made alpha = |r| / 1e-300 and alpha^2 overflow.
    # Without curvature there is nothing to extrapolate: the step must be x2 itself.
    from ibtheory.numeric import array_backend
    from ibtheory.solvers._engine import _extrapolate

    be = array_backend("numpy")
    # dyadic numbers: the differences are exact, so v is exactly zero
    x0 = np.array([[[-1.5, -1.25, -0.75], [-0.5, -1.0, -2.5]]])
    drift = np.array([[[2.0**-10, -(2.0**-9), 0.0], [0.0, 2.0**-10, -(2.0**-10)]]])
    x2 = x0 + 2 * drift
    xe = _extrapolate(be, x0, x0 + drift, x2)
    expected = x2 - np.log(np.exp(x2).sum(-1, keepdims=True))
    assert np.all(np.isfinite(xe))
    assert np.allclose(xe, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("m", [5e-4, 5e-7, 5e-13])
def test_fast_dual_curve_keeps_the_one_cluster_solution(m):
    # item 2: the reverse sweep, warm-started on the 2-cluster branch at beta 1.0317, stayed on it
    # at beta 1 although the one-cluster encoder (a fixed point at every beta) is lower there. The
    # optimal objective is the lower envelope of the lines a_q + beta s_q (a_q = I(X;T)); along a
    # lower envelope the slopes fall and the intercepts rise, so I(X;T) cannot decrease in beta.
    p_xy = np.array([[0.25, 0.25], [m, 0.0], [0.5, 0.0]])
    p_xy /= p_xy.sum()
    curve = ib_curve(p_xy, [1.0, 1.0317], method="dualib", effort="fast", locate_transitions=False)
    assert np.all(np.diff(curve.i_xt) >= -INFO_TOL)
    assert np.all(curve.optimality.envelope_gap <= INFO_TOL)
    # the one-cluster objective at beta 1, literally: E_x KL[p(y|t) || p(y|x)] with the normalised
    # geometric-mean decoder (theory.md 3.2) and p(y|x) floored at 1e-300 as in the solver
    p_x = p_xy.sum(1)
    log_pyx = np.log(np.maximum(p_xy / p_x[:, None], 1e-300))
    lbar = p_x @ log_pyx
    dec = np.exp(lbar - lbar.max())
    dec /= dec.sum()
    trivial = float(p_x @ (dec * (np.log(dec) - log_pyx)).sum(1))
    assert curve.objective[0] <= trivial + INFO_TOL


@pytest.mark.parametrize("n_critical", [1, 3])
def test_critical_betas_returns_none_above_beta_max(n_critical):
    # binary symmetric joint with crossover 0.2: rho_m^2 = (1 - 2 * 0.2)^2 = 0.36, beta_1 = 1/0.36
    p_xy = [[0.4, 0.1], [0.1, 0.4]]
    beta_1 = 1 / 0.36
    assert critical_betas(p_xy, beta_max=0.9 * beta_1, n_critical=n_critical).size == 0
    assert critical_betas(p_xy, beta_max=2.0 * beta_1, n_critical=n_critical)[0] == pytest.approx(beta_1, rel=1e-12)


@pytest.mark.parametrize("method", ["ib", "dualib"])
def test_fast_curve_ends_on_the_envelope_so_i_xt_never_falls(method):
    # issue 21: the dualIB fast curve lost 1.3e-3 nats of I(X;T) between betas 1 and 1.064 here (a
    # point left above a line found by the one repair round). The repaired curve lies on the lower
    # envelope of its lines, whose intercepts I(X;T) cannot fall as beta rises.
    p_xy = np.array([[1.0, 1.0], [2.0, 0.0], [0.0, 2.0]]) / 6
    curve = ib_curve(p_xy, [1.0, 1.064], method=method, effort="fast", locate_transitions=False)
    assert curve.optimality.on_envelope.all()
    assert curve.i_xt[1] >= curve.i_xt[0] - INFO_TOL
    for i_xt, i_ty in zip(curve.i_xt, curve.i_ty, strict=True):
        _check_point(float(i_xt), float(i_ty), p_xy)
