"""Gaussian dualIB (derived here, theory.md 10): the closed form against direct minimisation of the
dual functional with torch autograd, the dualIB self-consistent equations, the geometric-mean
decoder by quadrature, the expected dual distortion by Monte Carlo, and its relation to the GIB."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ibtheory import gaussian_dual_ib, gaussian_ib
from ibtheory._generated import gaussian_numpy as kn
from ibtheory._generated import gaussian_torch as kt
from ibtheory.testing import log_uniform, spd_matrices

#: theory.md 2.5 critical betas (6 significant digits), minus one for the dualIB.
ORACLE_ATOL_6 = 2e-6
#: L-BFGS on a smooth 9-parameter problem reaches the minimum value to ~1e-12; the functional is
#: flat (quadratic) there, so the information values of the minimiser agree only to ~sqrt(1e-12).
AUTOGRAD_VALUE_ATOL = 1e-9
AUTOGRAD_INFO_ATOL = 2e-5
#: round-off of 3x3 solves and log-dets
SELF_CONSISTENT_ATOL = 1e-9
#: F(A + perturbation) >= F(A) - this (second-order growth at a minimum; round-off of log-dets).
OPTIMALITY_ATOL = 1e-10
#: Monte Carlo: |estimate - exact| <= K_SIGMA standard errors
K_SIGMA = 5.0


def oracle_problem():
    m = np.random.default_rng(0).normal(size=(5, 5))
    s = m @ m.T + 0.5 * np.eye(5)
    return s[:3, :3], s[:3, 3:], s[3:, 3:]


def distortion_weight(sx, sxy, sy):
    """Literal W = B^T Sigma_{y|x}^{-1} B, B = Sigma_yx Sigma_x^{-1}."""
    b = np.linalg.solve(sx, sxy).T
    cyx = sy - b @ sxy
    return b.T @ np.linalg.solve(cyx, b), b, cyx


def test_dual_critical_betas_are_gib_critical_betas_minus_one():
    res = gaussian_dual_ib(*oracle_problem(), [1.0])
    np.testing.assert_allclose(res.critical_betas[:2], [1.627995 - 1, 3.745439 - 1], atol=ORACLE_ATOL_6)
    assert math.isinf(res.critical_betas[2])
    lam = res.eigenvalues[:2]
    np.testing.assert_allclose(res.critical_betas[:2], lam / (1 - lam), rtol=1e-13)


def test_dual_encoder_at_beta_is_gib_encoder_at_beta_plus_one():
    sx, sxy, sy = oracle_problem()
    betas = np.geomspace(0.1, 300, 40)
    dual = gaussian_dual_ib(sx, sxy, sy, betas)
    gib = gaussian_ib(sx, sxy, sy, betas + 1)
    np.testing.assert_allclose(dual.projections, gib.projections, atol=1e-12)
    np.testing.assert_allclose(dual.i_xt, gib.i_xt, atol=1e-13)
    np.testing.assert_allclose(dual.i_ty, gib.i_ty, atol=1e-13)


def test_dual_curve_lies_on_the_closed_form_gib_curve():
    sx, sxy, sy = oracle_problem()
    dual = gaussian_dual_ib(sx, sxy, sy, [1.5, 2.0, 10.0, 100.0])
    lam = dual.eigenvalues
    for ixt, ity, beta in zip(dual.i_xt, dual.i_ty, dual.betas, strict=True):
        active = dual.critical_betas < beta
        n = int(active.sum())
        g_lam = np.prod(lam[active]) ** (1 / n)
        g_rho = np.prod(1 - lam[active]) ** (1 / n)
        assert kn.gaussian_information_curve(ixt, n, g_lam, g_rho) == pytest.approx(ity, abs=1e-12)


def _minimise_dual(sx, w, beta, seed, n_t=3):
    gen = torch.Generator().manual_seed(seed)
    sx_t, w_t = torch.tensor(sx), torch.tensor(w)
    eye = torch.eye(n_t, dtype=torch.float64)
    a = torch.randn(n_t, sx.shape[0], dtype=torch.float64, generator=gen).requires_grad_(True)
    opt = torch.optim.LBFGS([a], lr=1.0, max_iter=500, tolerance_grad=1e-13, tolerance_change=1e-15, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        _, _, obj = kt.gaussian_dual_ib_functional(a, sx_t, eye, w_t, beta)
        obj.backward()
        return obj

    for _ in range(4):
        opt.step(closure)
    return a.detach().numpy()


@pytest.mark.parametrize("beta", [0.4, 1.5, 5.0, 40.0])
def test_autograd_minimisation_of_the_dual_functional_reaches_the_closed_form(beta):
    sx, sxy, sy = oracle_problem()
    w, _, _ = distortion_weight(sx, sxy, sy)
    res = gaussian_dual_ib(sx, sxy, sy, [beta])
    closed = kn.gaussian_dual_ib_functional(res.projections[0], sx, np.eye(3), w, beta).objective
    cxy = sx - sxy @ np.linalg.solve(sy, sxy.T)
    for seed in range(3):
        a = _minimise_dual(sx, w, beta, seed)
        found = kn.gaussian_dual_ib_functional(a, sx, np.eye(3), w, beta).objective
        assert found >= closed - AUTOGRAD_VALUE_ATOL  # nothing beats the closed form
        assert found == pytest.approx(closed, abs=AUTOGRAD_VALUE_ATOL)
        info = kn.gaussian_channel_information(a, sx, cxy, np.eye(3))
        ixt, ity = info.i_xt, info.i_ty
        assert ixt == pytest.approx(res.i_xt[0], abs=AUTOGRAD_INFO_ATOL)
        assert ity == pytest.approx(res.i_ty[0], abs=AUTOGRAD_INFO_ATOL)


def test_autograd_finds_gib_optimum_is_not_dual_optimum():
    """The two problems differ: the GIB encoder at the same beta is not a dual minimiser."""
    sx, sxy, sy = oracle_problem()
    w, _, _ = distortion_weight(sx, sxy, sy)
    beta = 5.0
    a_dual = gaussian_dual_ib(sx, sxy, sy, [beta]).projections[0]
    a_gib = gaussian_ib(sx, sxy, sy, [beta]).projections[0]
    f_dual = kn.gaussian_dual_ib_functional(a_dual, sx, np.eye(3), w, beta).objective
    f_gib = kn.gaussian_dual_ib_functional(a_gib, sx, np.eye(3), w, beta).objective
    assert f_gib > f_dual + 1e-3


@pytest.mark.parametrize("beta", [0.8, 3.0, 25.0])
def test_optimum_satisfies_the_dual_ib_self_consistent_equations(beta):
    """log p(t|x) - log p(t) + beta KL[p(y|t) || p(y|x)] must not depend on t (theory.md 3.2),
    with p(y|t) the geometric-mean decoder N(B E[x|t], Sigma_{y|x})."""
    sx, sxy, sy = oracle_problem()
    _, b, cyx = distortion_weight(sx, sxy, sy)
    a = gaussian_dual_ib(sx, sxy, sy, [beta]).projections[0]
    eye = np.eye(3)
    st_ = a @ sx @ a.T + eye

    def log_normal(z, mean, cov):
        d = z - mean
        return -0.5 * (d @ np.linalg.solve(cov, d) + np.linalg.slogdet(2 * np.pi * cov)[1])

    def kl_equal_cov(m0, m1, cov):
        d = m1 - m0
        return 0.5 * d @ np.linalg.solve(cov, d)

    rng = np.random.default_rng(1)
    for x in rng.normal(size=(3, 3)):
        vals = []
        for t in rng.normal(size=(6, 3)) * 2:
            m_t = sx @ a.T @ np.linalg.solve(st_, t)
            kl = kl_equal_cov(b @ m_t, b @ x, cyx)
            vals.append(log_normal(t, a @ x, eye) - log_normal(t, np.zeros(3), st_) + beta * kl)
        assert np.ptp(vals) < SELF_CONSISTENT_ATOL


def test_geometric_mean_decoder_is_gaussian_with_averaged_mean_by_quadrature():
    """Normalised prod_x p(y|x)^{p(x|t)} for 1-D Gaussians equals N(b m_t, sigma^2) (derivation
    step 'decoder'), computed by Gauss-Hermite quadrature of E_{x|t} log p(y|x) and a y-grid."""
    b, sigma2, m_t, s2 = 0.7, 0.4, 1.3, 0.25
    nodes, weights = np.polynomial.hermite_e.hermegauss(30)
    xs = m_t + math.sqrt(s2) * nodes
    weights = weights / weights.sum()
    y = np.linspace(-6, 6, 4001)
    log_pyx = -((y[None, :] - b * xs[:, None]) ** 2) / (2 * sigma2)
    log_geo = weights @ log_pyx
    dens = np.exp(log_geo - log_geo.max())
    dens /= np.trapezoid(dens, y)
    expected = np.exp(-((y - b * m_t) ** 2) / (2 * sigma2)) / math.sqrt(2 * math.pi * sigma2)
    np.testing.assert_allclose(dens, expected, atol=1e-9)


def test_expected_dual_distortion_kernel_matches_monte_carlo():
    sx, sxy, sy = oracle_problem()
    w, b, cyx = distortion_weight(sx, sxy, sy)
    rng = np.random.default_rng(7)
    a = rng.normal(size=(2, 3))  # any linear encoder, n_t = 2
    exact = kn.gaussian_dual_ib_functional(a, sx, np.eye(2), w, 1.0).expected_distortion
    n = 200_000
    x = rng.multivariate_normal(np.zeros(3), sx, size=n)
    t = x @ a.T + rng.normal(size=(n, 2))
    st_ = a @ sx @ a.T + np.eye(2)
    m_t = t @ np.linalg.solve(st_, a @ sx)  # E[x|t], rows
    diff = (m_t - x) @ b.T  # decoder mean minus channel mean
    d = 0.5 * np.sum(diff * np.linalg.solve(cyx, diff.T).T, axis=1)  # KL of equal-cov Gaussians
    assert abs(d.mean() - exact) <= K_SIGMA * d.std(ddof=1) / math.sqrt(n)


def test_optimal_expected_distortion_is_reverse_water_filling():
    sx, sxy, sy = oracle_problem()
    w, _, _ = distortion_weight(sx, sxy, sy)
    for beta in [0.3, 1.0, 4.0, 50.0]:
        res = gaussian_dual_ib(sx, sxy, sy, [beta])
        dist = kn.gaussian_dual_ib_functional(res.projections[0], sx, np.eye(3), w, beta).expected_distortion
        lam = res.eigenvalues
        per_direction_variance = (1 - lam) / lam  # eigenvalues of Sigma_x W
        np.testing.assert_allclose(np.sort(np.linalg.eigvals(sx @ w).real), np.sort(per_direction_variance), atol=1e-12)
        assert dist == pytest.approx(0.5 * np.sum(np.minimum(1 / beta, per_direction_variance)), abs=1e-12)


# SPD joint covariances by construction (ibtheory.testing.spd_matrices): orthogonal Q and a
# controlled spectrum in [0.05, 20] (condition number <= 400).
joint_covariances = spd_matrices(5, max_condition=400.0).map(lambda m: 0.05 * m)


def dual_functional(a, sx, w, beta):
    """Literal oracle: (1/2) log|A Sx A^T + I| + (beta/2) tr(W (Sx^{-1} + A^T A)^{-1})."""
    ixt = 0.5 * np.linalg.slogdet(a @ sx @ a.T + np.eye(a.shape[0]))[1]
    post = np.linalg.inv(np.linalg.inv(sx) + a.T @ a)
    return ixt + 0.5 * beta * np.trace(w @ post)


@given(joint=joint_covariances, beta=log_uniform(0.05, 200.0), seed=st.integers(0, 2**32 - 1))
def test_dual_closed_form_is_a_local_minimum_under_random_perturbations(joint, beta, seed):
    sx, sxy, sy = joint[:3, :3], joint[:3, 3:], joint[3:, 3:]
    w, _, _ = distortion_weight(sx, sxy, sy)
    a = gaussian_dual_ib(sx, sxy, sy, [beta]).projections[0]
    base = dual_functional(a, sx, w, beta)
    rng = np.random.default_rng(seed)
    scale = 1e-3 * (1.0 + np.linalg.norm(a))
    for _ in range(30):
        e = rng.normal(size=a.shape)
        assert dual_functional(a + scale * e / np.linalg.norm(e), sx, w, beta) >= base - OPTIMALITY_ATOL


def test_ib_and_dual_expected_distortions_are_logdet_and_trace_of_the_same_matrix():
    """E d_IB = I(X;Y) - I(T;Y) = (1/2) log|I + M| and E d_dual = (1/2) tr M (derivation step
    'distortion-comparison'), so the dual distortion is never smaller; any linear encoder."""
    sx, sxy, sy = oracle_problem()
    w, b, cyx = distortion_weight(sx, sxy, sy)
    cxy = sx - sxy @ np.linalg.solve(sy, sxy.T)
    i_xy = float(kn.gaussian_mutual_information(sx, cxy))
    rng = np.random.default_rng(11)
    for n_t in (1, 2, 3):
        a = rng.normal(size=(n_t, 3)) * rng.uniform(0.1, 3)
        d_dual = kn.gaussian_dual_ib_functional(a, sx, np.eye(n_t), w, 1.0).expected_distortion
        i_ty = kn.gaussian_channel_information(a, sx, cxy, np.eye(n_t)).i_ty
        post = np.linalg.inv(np.linalg.inv(sx) + a.T @ a)
        chol = np.linalg.cholesky(cyx)
        m = np.linalg.solve(chol, b @ post @ b.T) @ np.linalg.inv(chol).T
        assert i_xy - i_ty == pytest.approx(0.5 * np.linalg.slogdet(np.eye(2) + m)[1], abs=1e-12)
        assert d_dual == pytest.approx(0.5 * np.trace(m), abs=1e-12)
        assert d_dual >= i_xy - i_ty


def test_ib_decoder_has_the_dual_decoder_mean_and_a_covariance_larger_by_b_sigma_x_given_t_b():
    """Derivation step 'decoder': p_IB(y|t) = N(B m_t, Sigma_{y|x} + B Sigma_{x|t} B^T) vs the dual
    N(B m_t, Sigma_{y|x}); (a) by conditioning the joint covariance of (y, t) for a random linear
    encoder, (b) in 1-D by quadrature of the arithmetic and geometric means of p(y|x) over p(x|t)."""
    sx, sxy, sy = oracle_problem()
    _, b, cyx = distortion_weight(sx, sxy, sy)
    a = np.random.default_rng(5).normal(size=(2, 3))
    st_ = a @ sx @ a.T + np.eye(2)
    syt = sxy.T @ a.T
    c_y_given_t = sy - syt @ np.linalg.solve(st_, syt.T)  # literal Gaussian conditioning
    c_x_given_t = sx - sx @ a.T @ np.linalg.solve(st_, a @ sx)
    np.testing.assert_allclose(c_y_given_t, cyx + b @ c_x_given_t @ b.T, atol=1e-12)
    t = np.array([0.7, -1.2])
    np.testing.assert_allclose(syt @ np.linalg.solve(st_, t), b @ (sx @ a.T @ np.linalg.solve(st_, t)), atol=1e-12)
    # (b) 1-D: x | t ~ N(m_t, s2), y | x ~ N(b x, sigma2)
    b1, sigma2, m_t, s2 = 0.7, 0.4, 1.3, 0.25
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)
    weights = weights / weights.sum()
    xs = m_t + math.sqrt(s2) * nodes
    y = np.linspace(-8, 8, 8001)
    p_yx = np.exp(-((y[None, :] - b1 * xs[:, None]) ** 2) / (2 * sigma2)) / math.sqrt(2 * math.pi * sigma2)
    arith = weights @ p_yx  # IB decoder
    geo = np.exp(weights @ np.log(p_yx))
    geo /= np.trapezoid(geo, y)  # dual decoder
    for dens, var in ((arith, sigma2 + b1**2 * s2), (geo, sigma2)):
        assert np.trapezoid(y * dens, y) == pytest.approx(b1 * m_t, abs=1e-9)
        assert np.trapezoid((y - b1 * m_t) ** 2 * dens, y) == pytest.approx(var, abs=1e-9)
