"""The Gaussian IB / dualIB derivations: hand-written matrix identities checked entry by entry on
explicit 2x2 and 3x3 matrices (exact rationals), and the derived closed forms checked against the
formulas of theory.md 2 (typed here as literal oracles)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from ibtheory.symbolic import DERIVATIONS
from ibtheory.symbolic import _gaussian as g

EPS = sp.Symbol("eps")
#: Closed forms evaluated in float64 from exact SymPy expressions: a few ulps.
FLOAT_RTOL = 1e-12


def _spd_rational(n: int, seed: int) -> sp.Matrix:
    """An exactly symmetric positive-definite rational matrix R R^T + I (by construction)."""
    rng = np.random.default_rng(seed)
    r = sp.Matrix(n, n, [sp.Rational(int(v), 3) for v in rng.integers(-3, 4, size=n * n)])
    return r * r.T + sp.eye(n)


def _rational(rows: int, cols: int, seed: int) -> sp.Matrix:
    rng = np.random.default_rng(seed)
    return sp.Matrix(rows, cols, [sp.Rational(int(v), 4) for v in rng.integers(-4, 5, size=rows * cols)])


def _shapes(rule: g.MatrixRule, k: int, n: int) -> dict[str, tuple[int, int]]:
    """Argument shapes of each rule for A of shape (k, n)."""
    table = {
        "logdet-congruence": {"A": (k, n), "S": (n, n), "C": (k, k)},
        "logdet-information-form": {"A": (k, n), "P": (n, n), "N": (k, k)},
        "trace-inverse-information-form": {"A": (k, n), "W": (n, n), "P": (n, n), "N": (k, k)},
    }
    return table[rule.name]


def _explicit_args(rule: g.MatrixRule, k: int, n: int, seed: int) -> tuple[list[sp.MatrixSymbol], dict]:
    shapes = _shapes(rule, k, n)
    syms, values = [], {}
    for j, name in enumerate(rule.arg_names):
        rows, cols = shapes[name]
        sym = sp.MatrixSymbol(name, rows, cols)
        syms.append(sym)
        if name in rule.symmetric:
            values[sym] = _spd_rational(rows, seed + j)
        else:
            values[sym] = _rational(rows, cols, seed + j)
    return syms, values


@pytest.mark.parametrize("rule", g.MATRIX_RULES, ids=lambda r: r.name)
@pytest.mark.parametrize(("k", "n"), [(2, 2), (3, 3), (2, 3)])
def test_matrix_rule_gradient_equals_entrywise_derivative_of_explicit_scalar(rule, k, n):
    syms, values = _explicit_args(rule, k, n, seed=10 * k + n)
    a_sym, a0 = syms[0], values[syms[0]]
    claimed = g.to_explicit(rule.gradient(*syms), values)
    assert claimed.shape == a0.shape
    for i in range(a0.rows):
        for j in range(a0.cols):
            bump = sp.zeros(a0.rows, a0.cols)
            bump[i, j] = EPS
            scalar = g.to_explicit(rule.scalar(*syms), {**values, a_sym: a0 + bump})
            exact = sp.diff(scalar, EPS).subs(EPS, 0)
            assert sp.simplify(exact - claimed[i, j]) == 0, (rule.name, i, j)


@pytest.mark.parametrize("rule", g.MATRIX_RULES, ids=lambda r: r.name)
def test_matrix_rule_is_not_trivially_zero(rule):
    """Guard against the failure this replaces: SymPy's own matrix calculus returning 0."""
    syms, values = _explicit_args(rule, 2, 3, seed=3)
    claimed = g.to_explicit(rule.gradient(*syms), values)
    assert any(v != 0 for v in claimed)


@pytest.mark.parametrize("identity", g.MATRIX_EQUALITIES, ids=lambda e: e.name)
@pytest.mark.parametrize("n", [2, 3])
def test_matrix_equality_holds_exactly_on_explicit_matrices(identity, n):
    if identity.name == "posterior-covariance-woodbury":
        shapes = {"A": (n - 1, n), "S": (n, n), "N": (n - 1, n - 1)}
    else:
        shapes = {"Sx": (n, n), "Sxy": (n, 2), "Sy": (2, 2)}
    syms, values = [], {}
    for j, name in enumerate(identity.arg_names):
        sym = sp.MatrixSymbol(name, *shapes[name])
        syms.append(sym)
        values[sym] = _spd_rational(shapes[name][0], 20 + j) if name in identity.symmetric else _rational(*shapes[name], 30 + j)
    if identity.name == "conditional-precision":
        # keep the joint covariance positive definite: a small cross-covariance
        values[syms[1]] = values[syms[1]] / 8
    lhs = g.to_explicit(identity.lhs(*syms), values)
    rhs = g.to_explicit(identity.rhs(*syms), values)
    assert (lhs - rhs).applyfunc(sp.simplify) == sp.zeros(*lhs.shape)


def test_logdet_head_refuses_sympy_differentiation():
    s = sp.Symbol("s")
    with pytest.raises(NotImplementedError, match="MatrixRule"):
        g.LogDet(s).diff(s)


def test_gib_derivation_results_match_chechik_closed_forms():
    res = g.gaussian_ib_derivation().results
    lam, beta, r = 0.3, 5.0, 2.0
    vals = {g.eigenvalue: lam, g.canonical_correlation_sq: 1 - lam, g.direction_variance: r, g.beta: beta}
    # theory.md 2.2-2.3, typed here as literal oracles
    assert float(res["critical_beta"].subs(vals)) == pytest.approx(1 / (1 - lam), rel=FLOAT_RTOL)
    assert float(res["alpha"].subs(vals)) == pytest.approx(math.sqrt((beta * (1 - lam) - 1) / (lam * r)), rel=FLOAT_RTOL)
    assert float(res["i_xt_beta"].subs(vals)) == pytest.approx(0.5 * math.log((beta - 1) * (1 - lam) / lam), rel=FLOAT_RTOL)
    iy = 0.5 * math.log((beta - 1) * (1 - lam) / lam) - 0.5 * math.log(beta * (1 - lam))
    assert float(res["i_ty_beta"].subs(vals)) == pytest.approx(iy, rel=FLOAT_RTOL)
    assert res["slope"] == 1 / g.beta
    assert float(res["i_xy_direction"].subs(vals)) == pytest.approx(-0.5 * math.log(lam), rel=FLOAT_RTOL)


def test_gib_curve_result_matches_theory_2_4():
    curve = g.gaussian_ib_derivation().results["curve"]
    lams = [0.2, 0.5]
    ix, n = 1.3, 2
    g_lam = math.prod(lams) ** (1 / n)
    g_rho = math.prod(1 - v for v in lams) ** (1 / n)
    expected = ix - n / 2 * math.log(g_rho + math.exp(2 * ix / n) * g_lam)
    got = curve.rhs.subs({g.i_xt: ix, g.n_active: n, g.geo_mean_eigenvalue: g_lam, g.geo_mean_correlation_sq: g_rho})
    assert float(got) == pytest.approx(expected, rel=FLOAT_RTOL)


def test_dual_derivation_critical_beta_is_gib_minus_one_and_encoder_is_gib_at_beta_plus_one():
    gib = g.gaussian_ib_derivation().results
    dual = g.gaussian_dual_ib_derivation().results
    lam = sp.Rational(3, 10)
    rho = {g.eigenvalue: lam, g.canonical_correlation_sq: 1 - lam}
    assert sp.simplify((dual["critical_beta"] - gib["critical_beta"] + 1).subs(rho)) == 0
    shifted = gib["snr"].subs(g.beta, g.beta + 1)
    assert sp.simplify((dual["snr"] - shifted).subs(rho)) == 0
    assert sp.simplify((dual["i_ty_beta"] - gib["i_ty_beta"].subs(g.beta, g.beta + 1)).subs(rho)) == 0
    assert sp.simplify(dual["slope"] - 1 / (g.beta + 1)) == 0
    # the same information curve
    assert sp.simplify(dual["curve"].rhs - gib["curve"].rhs) == 0


def test_dual_derivation_alpha_matches_the_water_filling_form():
    dual = g.gaussian_dual_ib_derivation().results
    lam, beta, r = 0.4, 3.0, 1.5
    vals = {g.eigenvalue: lam, g.canonical_correlation_sq: 1 - lam, g.direction_variance: r, g.beta: beta}
    expected = math.sqrt((beta * (1 - lam) - lam) / (lam * r))
    assert float(dual["alpha"].subs(vals)) == pytest.approx(expected, rel=FLOAT_RTOL)
    # active direction keeps distortion 1/(2 beta) (water level 1/beta)
    q = dual["snr"].subs(vals)
    assert float(dual["distortion_direction"].subs({**vals, g.snr: q})) == pytest.approx(0.5 / beta, rel=FLOAT_RTOL)


@pytest.mark.parametrize("name", ["gaussian-ib", "gaussian-dualib"])
def test_catalog_entries_render_markdown_with_every_step(name):
    der = DERIVATIONS[name]()
    assert der.name == name
    text = der.to_markdown()
    for step in der.steps:
        assert f". {step.title}\n" in text  # headings are the titles in words; the name is for code
    assert "\\log\\left|" in text  # the LogDet head renders as log|.|
    assert ("Chechik" in der.reference) or ("Derived here" in der.reference)
    assert "critical-beta" in [s.name for s in der.steps]


def _oracle_numbers():
    m = np.random.default_rng(0).normal(size=(5, 5))
    s = m @ m.T + 0.5 * np.eye(5)
    return s[:3, :3], s[:3, 3:], s[3:, 3:]


def _numeric(expr, values, beta_value):
    out = g.to_explicit(expr, {k: sp.Matrix(v) for k, v in values.items()}, sizes={g.n_t: 3})
    out = out.subs(g.beta, beta_value)
    return np.array(sp.N(out, 30).tolist(), dtype=float) if isinstance(out, sp.MatrixBase) else float(sp.N(out, 30))


@pytest.mark.parametrize("method", ["ib", "dualib"])
def test_matrix_level_stationarity_result_is_the_autograd_gradient_and_vanishes_at_the_closed_form(method):
    import torch

    from ibtheory import gaussian_dual_ib, gaussian_ib

    sx, sxy, sy = _oracle_numbers()
    cxy = sx - sxy @ np.linalg.solve(sy, sxy.T)
    b = np.linalg.solve(sx, sxy).T
    w = b.T @ np.linalg.solve(sy - b @ sxy, b)
    beta = 6.0
    if method == "ib":
        res = g.gaussian_ib_derivation().results
        objective, grad = res["lagrangian"], res["stationarity"]
        solver = gaussian_ib
        values = {g.cov_x: sx, g.cov_x_given_y: cxy, g.cov_noise: np.eye(3)}
    else:
        res = g.gaussian_dual_ib_derivation().results
        objective, grad = res["functional"], res["stationarity"]
        solver = gaussian_dual_ib
        values = {g.cov_x: sx, g.distortion_weight: w}
    a_star = solver(sx, sxy, sy, [beta]).projections[0]
    at_opt = _numeric(grad, {**values, g.projection: a_star}, beta)
    assert np.max(np.abs(at_opt)) < 1e-12
    # at a random A the derived gradient equals the autograd gradient of the derived objective,
    # evaluated independently in torch from literal log-dets
    a0 = np.random.default_rng(1).normal(size=(3, 3))
    derived = _numeric(grad, {**values, g.projection: a0}, beta)
    at = torch.tensor(a0, requires_grad=True)
    sx_t, cxy_t, w_t, eye = torch.tensor(sx), torch.tensor(cxy), torch.tensor(w), torch.eye(3, dtype=torch.float64)
    ixt = 0.5 * torch.logdet(at @ sx_t @ at.T + eye)
    if method == "ib":
        obj = ixt - beta * (ixt - 0.5 * torch.logdet(at @ cxy_t @ at.T + eye))
    else:
        obj = ixt + 0.5 * beta * torch.trace(w_t @ torch.linalg.inv(torch.linalg.inv(sx_t) + at.T @ at))
    (auto,) = torch.autograd.grad(obj, at)
    np.testing.assert_allclose(derived, auto.numpy(), atol=1e-10)
    assert _numeric(objective, {**values, g.projection: a0}, beta) == pytest.approx(float(obj.detach()), abs=1e-10)
