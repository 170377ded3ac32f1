"""The generated ``gaussian`` kernels: against mpmath closed forms (50 digits, checked at 100),
literal NumPy oracles, NumPy <-> Torch, batching, autograd, and freshness of the committed files."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
import torch

from ibtheory._generated import gaussian_numpy as kn
from ibtheory._generated import gaussian_torch as kt
from ibtheory.kernels._gaussian import _array as to_array_nodes
from ibtheory.symbolic import _gaussian as g

#: float64 kernels vs 50-digit references: a few ulps of O(1) quantities (log, sqrt, ratios).
MP_RTOL = 1e-13
MP_ATOL = 1e-15


def _mp_direction(lam, beta, r, dual, dps):
    """Literal theory.md 2.3 (GIB) and the derived dual forms, in mpmath."""
    with mpmath.workdps(dps):
        lam, beta, r = mpmath.mpf(lam), mpmath.mpf(beta), mpmath.mpf(r)
        bp = beta + 1 if dual else beta
        q = max(bp * (1 - lam) - 1, 0) / lam
        ix = mpmath.log(1 + q) / 2
        iy = ix - mpmath.log(1 + lam * q) / 2
        return q, mpmath.sqrt(q / r), ix, iy


@pytest.mark.parametrize("dual", [False, True], ids=["ib", "dualib"])
def test_direction_kernels_match_mpmath_closed_forms(dual):
    rng = np.random.default_rng(3)
    lam = rng.uniform(0.01, 1.0, size=40)
    beta = np.exp(rng.uniform(np.log(0.1), np.log(1e4), size=40))
    r = rng.uniform(0.1, 10, size=40)
    f = kn.gaussian_dual_ib_direction if dual else kn.gaussian_ib_direction
    ft = kt.gaussian_dual_ib_direction if dual else kt.gaussian_ib_direction
    got = f(lam, 1 - lam, r, beta)
    got_t = ft(torch.tensor(lam), torch.tensor(1 - lam), torch.tensor(r), torch.tensor(beta))
    for i in range(40):
        ref50 = _mp_direction(lam[i], beta[i], r[i], dual, 50)
        ref100 = _mp_direction(lam[i], beta[i], r[i], dual, 100)
        for k in range(4):
            assert abs(ref50[k] - ref100[k]) < mpmath.mpf(10) ** -40
            assert got[k][i] == pytest.approx(float(ref50[k]), rel=MP_RTOL, abs=MP_ATOL)
            assert float(got_t[k][i]) == pytest.approx(float(ref50[k]), rel=MP_RTOL, abs=MP_ATOL)


def test_critical_beta_kernels_are_finite_or_inf_without_warnings():
    lam = np.array([0.2, 0.5, 1.0])
    rho_sq = np.array([0.8, 0.5, 0.0])
    np.testing.assert_allclose(kn.gaussian_ib_critical_beta(lam, rho_sq), [1.25, 2.0, np.inf])
    np.testing.assert_allclose(kn.gaussian_dual_ib_critical_beta(lam, rho_sq), [0.25, 1.0, np.inf])
    out = kt.gaussian_ib_critical_beta(torch.tensor(lam), torch.tensor(rho_sq))
    assert torch.isinf(out[2]) and float(out[0]) == 1.25


def _random_problem(seed, n_x=3, n_y=2):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n_x + n_y, n_x + n_y))
    s = m @ m.T + 0.5 * np.eye(n_x + n_y)
    sx, sxy, sy = s[:n_x, :n_x], s[:n_x, n_x:], s[n_x:, n_x:]
    return sx, sx - sxy @ np.linalg.solve(sy, sxy.T), sxy, sy


def test_matrix_kernels_are_batched_and_match_literal_oracles():
    sx, cxy, sxy, sy = _random_problem(1)
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4, 5, 2, 3))  # batch (4, 5) of (n_t=2, n_x=3) projections
    noise = np.diag([0.5, 2.0])
    beta = np.linspace(0.5, 5.0, 5)
    ixt, ity = kn.gaussian_channel_information(a, sx, cxy, noise)
    assert ixt.shape == (4, 5)
    ld = lambda m: np.linalg.slogdet(m)[1]  # noqa: E731
    at = np.swapaxes(a, -1, -2)
    lit_x = 0.5 * (ld(a @ sx @ at + noise) - ld(noise))
    lit_y = lit_x - 0.5 * (ld(a @ cxy @ at + noise) - ld(noise))
    np.testing.assert_allclose(ixt, lit_x, atol=1e-12)
    np.testing.assert_allclose(ity, lit_y, atol=1e-12)
    lag = kn.gaussian_ib_lagrangian(a, sx, cxy, noise, beta)
    np.testing.assert_allclose(lag, lit_x - beta * lit_y, atol=1e-11)
    # dual functional: the Woodbury form in the kernel equals the derivation's information form
    b = np.linalg.solve(sx, sxy).T
    w = b.T @ np.linalg.solve(sy - b @ sxy, b)
    ixt_d, dist, obj = kn.gaussian_dual_ib_functional(a, sx, noise, w, beta)
    post = np.linalg.inv(np.linalg.inv(sx) + at @ np.linalg.solve(noise, a))
    np.testing.assert_allclose(dist, 0.5 * np.trace(w @ post, axis1=-2, axis2=-1), atol=1e-12)
    np.testing.assert_allclose(ixt_d, lit_x, atol=1e-12)
    np.testing.assert_allclose(obj, lit_x + beta * dist, atol=1e-11)
    out_t = kt.gaussian_dual_ib_functional(torch.tensor(a), torch.tensor(sx), torch.tensor(noise), torch.tensor(w), torch.tensor(beta))
    for o_t, o_n in zip(out_t, (ixt_d, dist, obj), strict=True):
        np.testing.assert_allclose(o_t.numpy(), o_n, atol=1e-12)
    i_xy = kn.gaussian_mutual_information(sx, cxy)
    assert i_xy == pytest.approx(0.5 * (ld(sx) - ld(cxy)), abs=1e-13)


def test_torch_matrix_kernels_pass_gradcheck():
    sx, cxy, sxy, sy = (torch.tensor(m) for m in _random_problem(4))
    noise = torch.eye(2, dtype=torch.float64)
    b = torch.linalg.solve(sx, sxy).T
    w = b.T @ torch.linalg.solve(sy - b @ sxy, b)
    a = torch.randn(2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    assert torch.autograd.gradcheck(lambda p: kt.gaussian_channel_information(p, sx, cxy, noise), (a,))
    assert torch.autograd.gradcheck(lambda p: kt.gaussian_dual_ib_functional(p, sx, noise, w, 2.0), (a,))


def test_direction_mutual_information_kernel_sums_to_logdet_mutual_information():
    sx, cxy, _, _ = _random_problem(5)
    lam = np.linalg.eigvals(cxy @ np.linalg.inv(sx)).real
    total = np.sum(kn.gaussian_direction_mutual_information(lam))
    assert total == pytest.approx(float(kn.gaussian_mutual_information(sx, cxy)), abs=1e-12)


def test_array_translation_handles_middle_and_trailing_inverses_and_refuses_a_bare_identity():
    from ibtheory.codegen import generate

    c, s, d = sp.MatrixSymbol("c", 2, 2), sp.MatrixSymbol("s", 2, 2), sp.MatrixSymbol("d", 2, 2)
    rng = np.random.default_rng(0)
    cv, dv = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
    sv = np.array([[2.0, 0.3], [0.3, 1.0]])
    for expr, expected in [
        (sp.Trace(c * sp.Inverse(s)), np.trace(cv @ np.linalg.inv(sv))),  # trailing
        (sp.Trace(3 * c * sp.Inverse(s) * d), 3 * np.trace(cv @ np.linalg.inv(sv) @ dv)),  # middle
        (g.LogDet(c * s * c.T + s), np.linalg.slogdet(cv @ sv @ cv.T + sv)[1]),
    ]:
        lowered = to_array_nodes(expr)
        f = generate([sp.Symbol("c", real=True), sp.Symbol("d", real=True), sp.Symbol("s", real=True)], lowered)
        assert float(f(cv, dv, sv)) == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="cannot translate"):
        to_array_nodes(sp.Identity(3) + sp.MatrixSymbol("z", 3, 3))


def test_committed_gaussian_kernels_are_fresh():
    from ibtheory.kernels import render_group

    for path, text in render_group("gaussian").items():
        assert path.read_text() == text, f"{path} is stale: run `ibtheory codegen --group gaussian`"


def test_curve_kernel_matches_the_derivation_result_at_random_points():
    curve = g.gaussian_ib_derivation().results["curve"].rhs
    rng = np.random.default_rng(9)
    for _ in range(5):
        n = int(rng.integers(1, 4))
        lams = rng.uniform(0.05, 0.95, size=n)
        ix = float(rng.uniform(0.01, 5))
        gl, gr = np.prod(lams) ** (1 / n), np.prod(1 - lams) ** (1 / n)
        ref = curve.subs({g.i_xt: sp.Float(ix, 30), g.n_active: n, g.geo_mean_eigenvalue: sp.Float(gl, 30), g.geo_mean_correlation_sq: sp.Float(gr, 30)})
        assert float(kn.gaussian_information_curve(ix, n, gl, gr)) == pytest.approx(float(ref), rel=1e-13)
