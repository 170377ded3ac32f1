"""Kernels of every named activation: derived duals vs independent routes (Gauss-Hermite at high
degree, Monte Carlo), finite-width ensembles vs analytic kernels, the quadrature's self-consistency
(its accuracy against mpmath: tests/ntk/test_quadrature.py), and bad activations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from ibtheory._generated import ntk_numpy
from ibtheory.ntk import ACTIVATIONS, empirical_kernels, fc_kernels
from ibtheory.symbolic import activation_lambda, dual_activation

SMOOTH_CLOSED = ["erf", "gelu", "sin", "cos", "identity"]
#: Closed form vs 2-D Gauss-Hermite with 150 nodes per axis of the same phi (smooth, entire
#: activations: the quadrature converges geometrically; measured agreement ~1e-15).
GH_RTOL = 1e-11
#: Monte Carlo tolerance in standard errors.
K_SE = 5.0


def _gh(activation: str, a: float, c: float, b: float, deg: int = 150) -> tuple[float, float]:
    x, w = np.polynomial.hermite.hermgauss(deg)
    l11, l21 = math.sqrt(a), b / math.sqrt(a)
    l22 = math.sqrt(c - l21 * l21)
    u = math.sqrt(2) * l11 * x[:, None]
    v = math.sqrt(2) * (l21 * x[:, None] + l22 * x[None, :])
    fu, fv = getattr(ntk_numpy, f"{activation}_phi")(u), getattr(ntk_numpy, f"{activation}_phi")(v)
    ww = w[:, None] * w[None, :] / math.pi
    return float((ww * fu.phi * fv.phi).sum()), float((ww * fu.dphi * fv.dphi).sum())


def _one_step(activation: str, a: float, c: float, b: float) -> tuple[float, float]:
    """(E, Edot) read off one generated step with w_std = 1, b_std = 0, ntk = 1."""
    out = getattr(ntk_numpy, f"{activation}_dense_step")(np.array(b), np.array(1.0), np.array(a), np.array(c), 1.0, 0.0)
    return float(out.nngp), float(out.ntk - out.nngp)


@pytest.mark.parametrize("activation", SMOOTH_CLOSED)
@pytest.mark.parametrize(("a", "c", "b"), [(1.3, 0.7, 0.5), (0.4, 2.1, -0.6), (2.0, 2.0, 1.9)])
def test_closed_form_duals_match_gauss_hermite_of_the_same_activation(activation, a, c, b):
    e, edot = _one_step(activation, a, c, b)
    e_q, edot_q = _gh(activation, a, c, b)
    assert abs(e - e_q) <= GH_RTOL * max(abs(e_q), 1.0)
    assert abs(edot - edot_q) <= GH_RTOL * max(abs(edot_q), 1.0)


@pytest.mark.parametrize("activation", [a for a in ACTIVATIONS if hasattr(ntk_numpy, f"{a}_dense_step")])
def test_closed_form_duals_match_monte_carlo(activation):
    rng = np.random.default_rng(11)
    a, c, b = 1.3, 0.9, 0.7
    z = rng.multivariate_normal([0, 0], [[a, b], [b, c]], size=1_000_000)
    f = getattr(ntk_numpy, f"{activation}_phi")
    fu, fv = f(z[:, 0]), f(z[:, 1])
    e, edot = _one_step(activation, a, c, b)
    for got, samples in ((e, fu.phi * fv.phi), (edot, fu.dphi * fv.dphi)):
        se = samples.std() / math.sqrt(samples.size)
        assert abs(samples.mean() - got) <= K_SE * se + 1e-12


def test_sin_and_cos_duals_are_the_textbook_hyperbolic_forms():
    """theory.md 11.4: E[sin u sin v] = exp(-(s11 + s22)/2) sinh(s12), cos: cosh."""
    a, c, b = 0.8, 1.7, -0.4
    assert math.isclose(_one_step("sin", a, c, b)[0], math.exp(-(a + c) / 2) * math.sinh(b), rel_tol=1e-14)
    assert math.isclose(_one_step("cos", a, c, b)[0], math.exp(-(a + c) / 2) * math.cosh(b), rel_tol=1e-14)
    assert math.isclose(_one_step("sin", a, c, b)[1], math.exp(-(a + c) / 2) * math.cosh(b), rel_tol=1e-14)


def test_abs_dual_is_the_textbook_form():
    """theory.md 11.4: E[|u||v|] = (2/pi)(sqrt(det) + s12 asin(rho)), E[sign u sign v] = (2/pi) asin(rho)."""
    a, c, b = 0.8, 1.7, -0.4
    rho = b / math.sqrt(a * c)
    e, edot = _one_step("abs", a, c, b)
    assert math.isclose(e, 2 / math.pi * (math.sqrt(a * c - b * b) + b * math.asin(rho)), rel_tol=1e-14)
    assert math.isclose(edot, 2 / math.pi * math.asin(rho), rel_tol=1e-13)


def test_relu_and_erf_duals_come_out_as_the_arc_cosine_and_arcsine_forms():
    relu, erf = dual_activation("relu"), dual_activation("erf")
    assert relu["method"] == "piecewise-linear" and erf["method"] == "erf"
    for name in ("relu", "erf"):
        e, edot = _one_step(name, 1.1, 0.6, 0.3)
        from ibtheory.numeric import gaussian_expectations

        want_e, want_edot = gaussian_expectations(name, 1.1, 0.6, 0.3)
        assert math.isclose(e, float(want_e), rel_tol=1e-14) and math.isclose(edot, float(want_edot), rel_tol=1e-14)


def test_polynomial_duals_by_wick_match_moments():
    """u^3 - u: E by Isserlis' theorem, checked against the exact Gaussian moments formula."""
    q = sp.Symbol("q")
    d = dual_activation(sp.Lambda(q, q**3 - q))
    assert d["method"] == "polynomial"
    a, c, b = 1.2, 0.5, 0.3
    # E[(u^3 - u)(v^3 - v)] = 9ab c... expanded by hand: E[u^3 v^3] = 9 a c b + 6 b^3, E[u^3 v] = 3 a b
    want = 9 * a * c * b + 6 * b**3 - 3 * a * b - 3 * c * b + b
    got = float(d["e"].subs({sp.Symbol("var1", positive=True): a, sp.Symbol("var2", positive=True): c, sp.Symbol("nngp", real=True): b}))
    assert math.isclose(got, want, rel_tol=1e-14)


#: The quadrature activations' default trapezoid rule (QUADRATURE_STRIP, QUADRATURE_EXPONENT) against
#: the same rule with half the strip, i.e. half the step and twice the nodes per axis (depth 2, w_std
#: 1.3, b_std 0.2, unit-normal 4-D inputs): measured 1.5e-15 (tanh), 1.1e-15 (sigmoid), 9e-16
#: (softplus), i.e. rounding. (The default's error against an independent mpmath oracle is bounded in
#: tests/ntk/test_quadrature.py; the Gauss-Hermite rule with 25 nodes per axis it replaced was off by
#: 9.1e-2 here for tanh, 7.2e-5 sigmoid, 3.6e-5 softplus.) Bound: 10x the largest.
QUADRATURE_SELF_CONSISTENCY = 1.5e-14


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus"])
def test_quadrature_activations_error_is_as_stated(activation):
    from ibtheory.ntk._kernels import QUADRATURE_STRIP

    x = np.random.default_rng(3).normal(size=(12, 4))
    kw = {"depth": 2, "activation": activation, "w_std": 1.3, "b_std": 0.2}
    ref = fc_kernels(x, quadrature_strip=QUADRATURE_STRIP[activation] / 2, **kw)
    got = fc_kernels(x, **kw)
    err = max(np.abs(getattr(got, k) - getattr(ref, k)).max() / np.abs(getattr(ref, k)).max() for k in ("nngp", "ntk"))
    assert err <= QUADRATURE_SELF_CONSISTENCY, err


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_finite_width_ensembles_approach_the_analytic_kernels(activation):
    """depth 1: the empirical NNGP and NTK are unbiased for the analytic ones at any width; their
    means over 400 networks agree within K_SE standard errors (plus 1e-6 for rounding)."""
    x = np.random.default_rng(5).normal(size=(4, 3))
    kw = {"depth": 1, "activation": activation, "w_std": 1.3, "b_std": 0.2}
    emp = empirical_kernels(x, n_networks=400, width=64, seed=2, **kw)
    exact = fc_kernels(x, **kw)
    for k in ("nngp", "ntk"):
        samples = getattr(emp, k)
        se = samples.std(axis=0) / math.sqrt(samples.shape[0])
        assert np.all(np.abs(samples.mean(axis=0) - getattr(exact, k)) <= K_SE * se + 1e-6)


@pytest.mark.parametrize(
    ("activation", "match"),
    [
        ("swish", "activation must be one of"),
        (sp.Lambda((sp.Symbol("p"), sp.Symbol("q")), sp.Symbol("p") * sp.Symbol("q")), "exactly one variable"),
        (sp.Lambda(sp.Symbol("q"), sp.exp(sp.Symbol("q") ** 2)), "Gaussian moments"),
        (sp.Lambda(sp.Symbol("q"), sp.Symbol("q") * sp.Symbol("k")), "free symbols"),
    ],
)
def test_bad_activations_raise_value_errors_naming_them(activation, match):
    with pytest.raises(ValueError, match=match):
        activation_lambda(activation)


def test_unknown_activation_name_is_refused_by_fc_kernels():
    with pytest.raises(ValueError, match="activation must be one of"):
        fc_kernels(np.ones((2, 3)), depth=1, activation="swish", w_std=1.0, b_std=0.0)


def _textbook_relu_recursion(x, y, w, b):
    """The recursion of theory.md 7.2 with the arc-cosine forms of 7.3, one (w, b) per Dense layer."""
    d = x.size
    s11, s22, s12 = (w[0] ** 2 * v / d + b[0] ** 2 for v in (x @ x, y @ y, x @ y))
    t12 = s12
    for wl, bl in zip(w[1:], b[1:], strict=True):
        theta = math.acos(max(-1.0, min(1.0, s12 / math.sqrt(s11 * s22))))
        e = math.sqrt(s11 * s22) / (2 * math.pi) * (math.sin(theta) + (math.pi - theta) * math.cos(theta))
        edot = (math.pi - theta) / (2 * math.pi)
        s12, s11, s22 = wl**2 * e + bl**2, wl**2 * s11 / 2 + bl**2, wl**2 * s22 / 2 + bl**2
        t12 = s12 + wl**2 * edot * t12
    return s12, t12


def test_per_layer_stds_follow_the_textbook_recursion_layer_by_layer():
    rng = np.random.default_rng(21)
    x = rng.normal(size=(5, 6))
    w, b = [1.1, 1.6, 0.8, 1.3], [0.0, 0.4, 0.1, 0.7]
    res = fc_kernels(x, depth=3, activation="relu", w_std=w, b_std=b)
    assert res.w_std == tuple(w) and res.b_std == tuple(b)
    for i, j in [(0, 1), (2, 4), (3, 3)]:
        nngp, ntk = _textbook_relu_recursion(x[i], x[j], w, b)
        assert math.isclose(res.nngp[i, j], nngp, rel_tol=1e-12) and math.isclose(res.ntk[i, j], ntk, rel_tol=1e-12)


def test_per_layer_stds_in_finite_networks_match_the_analytic_kernels():
    x = np.random.default_rng(5).normal(size=(4, 3))
    kw = {"depth": 2, "activation": "tanh", "w_std": [1.1, 1.5, 0.9], "b_std": [0.1, 0.3, 0.0]}
    exact = fc_kernels(x, **kw)
    emp = empirical_kernels(x, n_networks=400, width=128, seed=4, **kw)
    # depth 2: the empirical kernels carry an O(1/width) bias besides the noise (theory.md 7; Lee et al.)
    for k in ("nngp", "ntk"):
        samples = getattr(emp, k)
        se = samples.std(axis=0) / math.sqrt(samples.shape[0])
        assert np.all(np.abs(samples.mean(axis=0) - getattr(exact, k)) <= K_SE * se + 2.0 / 128 * np.abs(getattr(exact, k)).max())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"w_std": [1.0, 1.0]}, r"w_std must be a number or a sequence of depth \+ 1 = 3"),
        ({"b_std": [0.1, 0.1, 0.1, 0.1]}, r"b_std must be a number or a sequence of depth \+ 1 = 3"),
        ({"w_std": [1.0, -1.0, 1.0]}, r"w_std\[1\] must be >= 0"),
        ({"b_std": "0.1"}, "b_std must be a number"),
    ],
)
def test_wrong_per_layer_stds_raise_value_errors_naming_them(kwargs, match):
    args = {"depth": 2, "w_std": 1.0, "b_std": 0.1}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        fc_kernels(np.ones((2, 3)), **args)


LAMBDAS = {
    "polynomial": lambda q: q**3 - q,
    "trigonometric": lambda q: 2 * sp.sin(3 * q) + sp.cos(q),
    "erf": lambda q: 3 * sp.erf(2 * q) + 1,
    "quadrature": lambda q: q * sp.tanh(q),
}


@pytest.mark.parametrize("method", list(LAMBDAS))
def test_a_user_lambda_is_derived_generated_and_matches_its_finite_networks(method):
    from ibtheory.kernels import activation_kernels

    q = sp.Symbol("q")
    kern = activation_kernels(sp.Lambda(q, LAMBDAS[method](q)))
    assert kern.method == method
    x = np.random.default_rng(0).normal(size=(4, 3))
    kw = {"depth": 1, "activation": kern, "w_std": 0.8, "b_std": 0.1}
    exact = fc_kernels(x, **kw)
    emp = empirical_kernels(x, n_networks=400, width=64, seed=0, **kw)
    for k in ("nngp", "ntk"):
        samples = getattr(emp, k)
        se = samples.std(axis=0) / math.sqrt(samples.shape[0])
        assert np.all(np.abs(samples.mean(axis=0) - getattr(exact, k)) <= K_SE * se + 1e-6)


def test_a_named_activation_through_the_run_time_path_equals_the_committed_kernels():
    from ibtheory.kernels import activation_kernels

    x = np.random.default_rng(1).normal(size=(6, 3))
    for name in ("gelu", "sin", "softplus"):
        a = fc_kernels(x, depth=2, activation=name, w_std=1.2, b_std=0.3)
        b = fc_kernels(x, depth=2, activation=activation_kernels(name), w_std=1.2, b_std=0.3)
        np.testing.assert_allclose(b.ntk, a.ntk, rtol=1e-13)


def test_a_raw_lambda_in_fc_kernels_is_derived_on_first_use():
    # a Lambda of a named activation must give that activation's committed kernels, through
    # the run-time pipeline (derive, generate, memoise) rather than the committed module
    q = sp.Symbol("q")
    x = np.random.default_rng(2).normal(size=(5, 3))
    named = fc_kernels(x, depth=2, activation="sin", w_std=1.1, b_std=0.2)
    raw = fc_kernels(x, depth=2, activation=sp.Lambda(q, sp.sin(q)), w_std=1.1, b_std=0.2)
    assert raw.activation == str(sp.Lambda(q, sp.sin(q)))
    np.testing.assert_allclose(raw.ntk, named.ntk, rtol=1e-13)
    np.testing.assert_allclose(raw.nngp, named.nngp, rtol=1e-13)


def test_a_raw_lambda_of_two_variables_is_refused_by_fc_kernels():
    q, r = sp.symbols("q r")
    with pytest.raises(ValueError, match="one variable"):
        fc_kernels(np.ones((2, 3)), depth=1, activation=sp.Lambda((q, r), q * r), w_std=1.0, b_std=0.0)
