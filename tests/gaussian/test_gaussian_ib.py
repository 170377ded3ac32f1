"""Gaussian IB (Chechik et al. 2005): oracle numbers (theory.md 2.5), closed form vs log-det
information of the constructed projection, slope, continuity, local optimality, limits, the
self-consistent IB equations, backends and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import ibtheory
from ibtheory import gaussian_dual_ib, gaussian_ib
from ibtheory.testing import log_uniform, spd_matrices

#: theory.md 2.5 quotes 6 significant digits (lambda, beta_c, I(X;Y)) and 4 decimals (curve points).
ORACLE_ATOL_6 = 2e-6
ORACLE_ATOL_4 = 6e-5
#: closed form vs an independent slogdet evaluation of the same A: float64 round-off of a few
#: log-determinants of well-conditioned 3x3 matrices.
LOGDET_ATOL = 1e-11
#: central finite differences with h = 1e-5 beta: truncation O(h^2) ~ 1e-10, round-off ~ 1e-11 / h.
SLOPE_RTOL = 1e-6
#: L(A + perturbation) >= L(A) - this (second-order growth at a minimum; round-off of log-dets).
OPTIMALITY_ATOL = 1e-10
#: the self-consistent equations hold to round-off of 2x2..3x3 solves and log-dets.
SELF_CONSISTENT_ATOL = 1e-9


def oracle_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """theory.md 2.5: M = default_rng(0).normal(size=(5,5)); S = M M^T + 0.5 I; X = first 3."""
    m = np.random.default_rng(0).normal(size=(5, 5))
    s = m @ m.T + 0.5 * np.eye(5)
    return s[:3, :3], s[:3, 3:], s[3:, 3:]


def cond_cov(sx, sxy, sy):
    return sx - sxy @ np.linalg.solve(sy, sxy.T)


def logdet_information(a, sx, sxy, sy):
    """Literal oracle: I(T;X), I(T;Y) of T = A X + xi, xi ~ N(0, I), from numpy slogdet."""
    eye = np.eye(a.shape[-2])
    ixt = 0.5 * np.linalg.slogdet(a @ sx @ np.swapaxes(a, -1, -2) + eye)[1]
    hxy = 0.5 * np.linalg.slogdet(a @ cond_cov(sx, sxy, sy) @ np.swapaxes(a, -1, -2) + eye)[1]
    return ixt, ixt - hxy


def lagrangian(a, sx, sxy, sy, beta):
    ixt, ity = logdet_information(a, sx, sxy, sy)
    return ixt - beta * ity


def test_oracle_eigenvalues_critical_betas_and_mutual_information_match_theory_2_5():
    res = gaussian_ib(*oracle_problem(), [1.0])
    np.testing.assert_allclose(res.eigenvalues, [0.385747, 0.733009, 1.0], atol=ORACLE_ATOL_6)
    assert res.eigenvalues[-1] == 1.0  # n_x > n_y: exactly uninformative, not 1 - 1e-16
    np.testing.assert_allclose(res.critical_betas[:2], [1.627995, 3.745439], atol=ORACLE_ATOL_6)
    assert math.isinf(res.critical_betas[2])
    assert res.i_xy == pytest.approx(0.631585, abs=ORACLE_ATOL_6)


def test_oracle_curve_points_match_theory_2_5():
    res = gaussian_ib(*oracle_problem(), [7.491, 50.0])
    np.testing.assert_allclose(res.i_xt, [1.5980, 3.6195], atol=ORACLE_ATOL_4)
    np.testing.assert_allclose(res.i_ty, [0.4883, 0.6114], atol=ORACLE_ATOL_4)


def test_eigenvectors_are_left_eigenvectors_of_normalized_regression_matrix():
    sx, sxy, sy = oracle_problem()
    res = gaussian_ib(sx, sxy, sy, [2.0])
    mat = cond_cov(sx, sxy, sy) @ np.linalg.inv(sx)
    v = res.eigenvectors
    np.testing.assert_allclose(v @ mat, res.eigenvalues[:, None] * v, atol=1e-12)
    np.testing.assert_allclose(v @ sx @ v.T, np.eye(3), atol=1e-12)  # r_i = 1, Sigma_x-orthogonal
    # independent route: eigenvalues of the non-symmetric matrix by LAPACK geev
    np.testing.assert_allclose(np.sort(np.linalg.eigvals(mat).real), res.eigenvalues, atol=1e-12)


@pytest.mark.parametrize("solver", [gaussian_ib, gaussian_dual_ib], ids=["ib", "dualib"])
def test_closed_form_equals_logdet_information_of_the_constructed_projection(solver):
    sx, sxy, sy = oracle_problem()
    betas = np.concatenate([np.linspace(0.0, 5.0, 26), np.geomspace(5.0, 1e4, 20)])
    res = solver(sx, sxy, sy, betas)
    ixt, ity = logdet_information(res.projections, sx, sxy, sy)
    np.testing.assert_allclose(res.i_xt, ixt, atol=LOGDET_ATOL)
    np.testing.assert_allclose(res.i_ty, ity, atol=LOGDET_ATOL)
    # the generated log-det kernel agrees with the literal oracle too
    from ibtheory._generated import gaussian_numpy as k

    gi_xt, gi_ty = k.gaussian_channel_information(res.projections, sx, cond_cov(sx, sxy, sy), np.eye(3))
    np.testing.assert_allclose(gi_xt, ixt, atol=LOGDET_ATOL)
    np.testing.assert_allclose(gi_ty, ity, atol=LOGDET_ATOL)


def test_alpha_matches_the_main_theorem_formula():
    sx, sxy, sy = oracle_problem()
    beta = 7.0
    res = gaussian_ib(sx, sxy, sy, [beta])
    lam = res.eigenvalues
    r = np.einsum("ij,jk,ik->i", res.eigenvectors, sx, res.eigenvectors)
    expected = np.sqrt(np.maximum(beta * (1 - lam) - 1, 0) / (lam * r))  # theory.md 2.3
    np.testing.assert_allclose(res.alphas[0], expected, atol=1e-13)


@pytest.mark.parametrize(("solver", "shift"), [(gaussian_ib, 0.0), (gaussian_dual_ib, 1.0)], ids=["ib", "dualib"])
@pytest.mark.parametrize("beta", [2.0, 3.0, 7.491, 40.0])
def test_slope_of_curve_is_one_over_beta(solver, shift, beta):
    h = 1e-5 * beta
    res = solver(*oracle_problem(), [beta - h, beta + h])
    if res.i_xt[1] == res.i_xt[0]:
        pytest.skip("no active direction")
    slope = (res.i_ty[1] - res.i_ty[0]) / (res.i_xt[1] - res.i_xt[0])
    assert slope == pytest.approx(1.0 / (beta + shift), rel=SLOPE_RTOL)


def test_curve_and_slope_are_continuous_at_each_critical_beta():
    sx, sxy, sy = oracle_problem()
    for bc in gaussian_ib(sx, sxy, sy, [1.0]).critical_betas[:2]:
        d = 1e-7 * bc
        res = gaussian_ib(sx, sxy, sy, [bc - 2 * d, bc - d, bc + d, bc + 2 * d])
        assert np.max(np.abs(np.diff(res.i_xt))) < 1e-6
        assert np.max(np.abs(np.diff(res.i_ty))) < 1e-6
        left = (res.i_ty[1] - res.i_ty[0]) / (res.i_xt[1] - res.i_xt[0]) if res.i_xt[1] > res.i_xt[0] else None
        right = (res.i_ty[3] - res.i_ty[2]) / (res.i_xt[3] - res.i_xt[2])
        assert right == pytest.approx(1 / bc, rel=1e-5)
        if left is not None:
            assert left == pytest.approx(1 / bc, rel=1e-5)
    # the entering direction has alpha = 0 at its critical point (up to round-off of beta_c)
    crit = gaussian_ib(sx, sxy, sy, [1.0]).critical_betas
    at = gaussian_ib(sx, sxy, sy, crit[:2])
    assert at.alphas[0, 0] < 1e-7 and at.alphas[1, 1] < 1e-7 and at.alphas[1, 0] > 0.1


def test_projection_is_zero_below_first_critical_beta():
    sx, sxy, sy = oracle_problem()
    bc1 = gaussian_ib(sx, sxy, sy, [1.0]).critical_betas[0]
    res = gaussian_ib(sx, sxy, sy, np.linspace(0.0, bc1, 7))
    assert np.all(res.projections == 0) and np.all(res.i_xt == 0) and np.all(res.i_ty == 0)


def test_information_approaches_mutual_information_as_beta_grows():
    sx, sxy, sy = oracle_problem()
    res = gaussian_ib(sx, sxy, sy, [10.0, 1e3, 1e8])
    literal = 0.5 * (np.linalg.slogdet(sx)[1] - np.linalg.slogdet(cond_cov(sx, sxy, sy))[1])
    assert res.i_xy == pytest.approx(literal, abs=1e-12)
    assert np.all(np.diff(res.i_ty) > 0) and np.all(res.i_ty < res.i_xy)
    assert res.i_ty[-1] == pytest.approx(res.i_xy, abs=1e-7)


# SPD joint covariances by construction (ibtheory.testing.spd_matrices): orthogonal Q and a
# controlled spectrum in [0.05, 20] (condition number <= 400).
joint_covariances = spd_matrices(5, max_condition=400.0).map(lambda m: 0.05 * m)


@given(joint=joint_covariances, beta=log_uniform(1.0, 200.0), seed=st.integers(0, 2**32 - 1))
def test_optimal_projection_is_a_local_minimum_under_random_perturbations(joint, beta, seed):
    sx, sxy, sy = joint[:3, :3], joint[:3, 3:], joint[3:, 3:]
    res = gaussian_ib(sx, sxy, sy, [beta])
    a = res.projections[0]
    base = lagrangian(a, sx, sxy, sy, beta)
    rng = np.random.default_rng(seed)
    scale = 1e-3 * (1.0 + np.linalg.norm(a))
    for _ in range(30):
        e = rng.normal(size=a.shape)
        assert lagrangian(a + scale * e / np.linalg.norm(e), sx, sxy, sy, beta) >= base - OPTIMALITY_ATOL
    # the closed form agrees with the log-det information of its own projection on every example
    ixt, ity = logdet_information(a, sx, sxy, sy)
    assert res.i_xt[0] == pytest.approx(ixt, abs=1e-9) and res.i_ty[0] == pytest.approx(ity, abs=1e-9)


@pytest.mark.parametrize("beta", [2.5, 6.0, 30.0])
def test_gradient_vanishes_and_hessian_is_positive_semidefinite_at_the_optimum(beta):
    """First- and second-order optimality via torch autograd on the generated Lagrangian kernel."""
    from ibtheory._generated import gaussian_torch as kt

    sx, sxy, sy = (torch.tensor(m) for m in oracle_problem())
    res = gaussian_ib(sx, sxy, sy, [beta], backend="torch")
    cxy = sx - sxy @ torch.linalg.solve(sy, sxy.T)
    eye = torch.eye(3, dtype=torch.float64)

    def lag(flat):
        return kt.gaussian_ib_lagrangian(flat.reshape(3, 3), sx, cxy, eye, beta)

    a = res.projections[0].reshape(-1).clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(lag(a), a)
    assert float(grad.abs().max()) < 1e-10
    hess = torch.autograd.functional.hessian(lag, a.detach())
    assert float(torch.linalg.eigvalsh((hess + hess.T) / 2).min()) > -1e-10


def _log_normal(z, mean, cov):
    d = z - mean
    return -0.5 * (d @ np.linalg.solve(cov, d) + np.linalg.slogdet(2 * np.pi * cov)[1])


def _gauss_kl(m0, c0, m1, c1):
    """KL[N(m0, c0) || N(m1, c1)] (literal)."""
    n = len(m0)
    d = m1 - m0
    return 0.5 * (np.trace(np.linalg.solve(c1, c0)) + d @ np.linalg.solve(c1, d) - n + np.linalg.slogdet(c1)[1] - np.linalg.slogdet(c0)[1])


@pytest.mark.parametrize("beta", [2.0, 5.0, 40.0])
def test_optimum_satisfies_the_ib_self_consistent_equations(beta):
    """log p(t|x) - log p(t) + beta KL[p(y|x) || p(y|t)] must not depend on t (theory.md 1.2)."""
    sx, sxy, sy = oracle_problem()
    a = gaussian_ib(sx, sxy, sy, [beta]).projections[0]
    eye = np.eye(3)
    st_ = a @ sx @ a.T + eye
    b = sxy.T @ np.linalg.inv(sx)
    cyx = sy - b @ sxy
    syt = sxy.T @ a.T
    cyt = sy - syt @ np.linalg.solve(st_, syt.T)
    rng = np.random.default_rng(0)
    for x in rng.normal(size=(3, 3)):
        vals = []
        for t in rng.normal(size=(6, 3)) * 2:
            kl = _gauss_kl(b @ x, cyx, syt @ np.linalg.solve(st_, t), cyt)
            vals.append(_log_normal(t, a @ x, eye) - _log_normal(t, np.zeros(3), st_) + beta * kl)
        assert np.ptp(vals) < SELF_CONSISTENT_ATOL


def test_numpy_and_torch_backends_agree_and_units_convert():
    sx, sxy, sy = oracle_problem()
    betas = np.geomspace(0.5, 100, 9)
    for solver in (gaussian_ib, gaussian_dual_ib):
        rn = solver(sx, sxy, sy, betas)
        rt = solver(torch.tensor(sx), torch.tensor(sxy), torch.tensor(sy), torch.tensor(betas), backend="torch")
        assert isinstance(rt.i_xt, torch.Tensor) and rt.i_xt.dtype == torch.float64 and rt.backend == "torch"
        for f in ("eigenvalues", "critical_betas", "alphas", "i_xt", "i_ty"):
            np.testing.assert_allclose(getattr(rt, f).numpy(), getattr(rn, f), atol=1e-12)
        # projections agree up to the sign of each eigenvector
        signs = np.sign(np.sum(rt.eigenvectors.numpy() * rn.eigenvectors, axis=1))
        np.testing.assert_allclose(rt.projections.numpy() * signs[None, :, None], rn.projections, atol=1e-12)
        rb = solver(sx, sxy, sy, betas, units="bits")
        assert rb.units == "bits"
        np.testing.assert_allclose(rb.i_ty, rn.i_ty / math.log(2), rtol=1e-15)
        assert rb.i_xy == pytest.approx(rn.i_xy / math.log(2), rel=1e-15)


def test_result_shapes_scalar_beta_and_public_reexports():
    sx, sxy, sy = oracle_problem()
    res = ibtheory.gaussian_ib(sx, sxy, sy, 4.0)
    assert res.projections.shape == (1, 3, 3) and res.alphas.shape == (1, 3) and res.i_xt.shape == (1,)
    assert np.all(np.diff(res.eigenvalues) >= 0) and np.all(np.diff(res.critical_betas) >= 0)
    with pytest.raises(AttributeError):
        res.units = "bits"  # frozen


def test_one_dimensional_problem_matches_hand_formula():
    rho = 0.8
    res = gaussian_ib([[1.0]], [[rho]], [[1.0]], [3.0])
    lam = 1 - rho**2
    assert res.critical_betas[0] == pytest.approx(1 / rho**2, rel=1e-14)
    assert res.i_xt[0] == pytest.approx(0.5 * math.log(2 * rho**2 / lam), rel=1e-13)
    assert res.i_xy == pytest.approx(-0.5 * math.log(lam), rel=1e-13)


def test_extreme_but_valid_covariances_give_finite_answers():
    # nearly deterministic and nearly independent directions, wildly different scales
    sx = np.diag([1e-8, 1.0, 1e8])
    sy = np.diag([1e4, 1e-4])
    rho = np.array([1 - 1e-9, 1e-9])
    sxy = np.zeros((3, 2))
    sxy[0, 0] = rho[0] * math.sqrt(1e-8 * 1e4)
    sxy[2, 1] = rho[1] * math.sqrt(1e8 * 1e-4)
    res = gaussian_ib(sx, sxy, sy, [1.5, 1e3, 1e20])
    assert np.all(np.isfinite(res.i_xt)) and np.all(np.isfinite(res.i_ty))
    assert res.eigenvalues[0] == pytest.approx((1 - rho[0]) * (1 + rho[0]), rel=1e-6)
    assert res.critical_betas[1] == pytest.approx(1e18, rel=1e-6)  # 1/rho^2 without cancellation
    assert res.i_xy == pytest.approx(-0.5 * np.sum(np.log((1 - rho) * (1 + rho))), rel=1e-6)


# ----------------------------------------------------------------------------- bad input
GOOD = oracle_problem()


@pytest.mark.parametrize("solver", [gaussian_ib, gaussian_dual_ib], ids=["ib", "dualib"])
@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((GOOD[0] + np.triu(np.ones((3, 3)), 1), GOOD[1], GOOD[2]), "cov_x is not symmetric"),
        ((GOOD[0], GOOD[1], -GOOD[2]), r"cov_y is not positive definite: its smallest eigenvalue is -"),
        ((GOOD[0], GOOD[1].T, GOOD[2]), r"cov_xy must have shape \(n_x, n_y\) = \(3, 2\)"),
        ((GOOD[0], 10 * GOOD[1], GOOD[2]), r"joint covariance .* is not positive definite: its smallest eigenvalue is -"),
        ((GOOD[0][:2], GOOD[1], GOOD[2]), "cov_x must be a square"),
        ((np.full((3, 3), np.nan), GOOD[1], GOOD[2]), "cov_x contains a non-finite value"),
    ],
    ids=["asymmetric", "not-pd", "shape", "joint-not-pd", "not-square", "nan"],
)
def test_bad_covariances_raise_value_error_naming_the_matrix(solver, args, match):
    with pytest.raises(ValueError, match=match):
        solver(*args, [1.0])


def test_bad_betas_units_and_backend_raise_value_error():
    with pytest.raises(ValueError, match="betas must be >= 0"):
        gaussian_ib(*GOOD, [-1.0])
    with pytest.raises(ValueError, match="betas must be finite"):
        gaussian_ib(*GOOD, [np.inf])
    with pytest.raises(ValueError, match="units must be"):
        gaussian_ib(*GOOD, [1.0], units="dits")
    with pytest.raises(ValueError, match="backend must be one of"):
        gaussian_ib(*GOOD, [1.0], backend="jax")


@pytest.mark.parametrize(("n_x", "n_y"), [(2, 3), (1, 1), (4, 4), (5, 1)])
@pytest.mark.parametrize("solver", [gaussian_ib, gaussian_dual_ib], ids=["ib", "dualib"])
def test_closed_form_equals_logdet_information_for_other_shapes(n_x, n_y, solver):
    m = np.random.default_rng(n_x * 10 + n_y).normal(size=(n_x + n_y, n_x + n_y))
    s = m @ m.T + 0.3 * np.eye(n_x + n_y)
    sx, sxy, sy = s[:n_x, :n_x], s[:n_x, n_x:], s[n_x:, n_x:]
    res = solver(sx, sxy, sy, np.geomspace(0.2, 1e3, 25))
    assert res.projections.shape == (25, n_x, n_x)
    assert int(np.sum(np.isinf(res.critical_betas))) == max(n_x - n_y, 0)
    ixt, ity = logdet_information(res.projections, sx, sxy, sy)
    np.testing.assert_allclose(res.i_xt, ixt, atol=LOGDET_ATOL)
    np.testing.assert_allclose(res.i_ty, ity, atol=LOGDET_ATOL)
    literal_ixy = 0.5 * (np.linalg.slogdet(sx)[1] - np.linalg.slogdet(cond_cov(sx, sxy, sy))[1])
    assert res.i_xy == pytest.approx(literal_ixy, abs=1e-11)
