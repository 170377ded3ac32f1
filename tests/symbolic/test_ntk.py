"""The NNGP/NTK Gaussian expectations: symbolic checks, and numeric checks against 50-digit quadrature.

Routes: the SymPy closed forms (textbook and stable) evaluated in mpmath at 50 digits, Gauss-Hermite
quadrature (erf) and tanh-sinh quadrature of the reduced defining integral (ReLU, whose kink makes
Gauss-Hermite converge slowly) at 50 digits, and the generated float64 kernels.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

from ibtheory._generated import ntk_numpy
from ibtheory.numeric._ntk_oracle import (
    erf_expectations_by_gauss_hermite,
    gaussian_expectations,
    relu_expectations_by_quadrature,
)
from ibtheory.symbolic import ntk_derivation, stable_forms, textbook_forms
from ibtheory.symbolic.symbols import nngp, var1, var2

#: ReLU: tanh-sinh quadrature of the smooth reduced integral at 60 digits vs the closed forms at 50
#: digits (measured agreement <= 4e-50).
RELU_QUAD_RTOL = 1e-45
#: Erf: 80-node Gauss-Hermite at 50 digits has truncation error (measured <= 3e-18 at these
#: covariances; more nodes cost n^2 50-digit evaluations), so the check is to 1e-16.
ERF_GH_RTOL = 1e-16
#: float64 kernels vs 50-digit values: a few ulps of the ~10 operations per formula.
FLOAT_RTOL = 1e-14
#: Covariances (var1, var2, nngp) as exact decimal strings: generic, negative correlation, near the
#: diagonal, exactly diagonal, large variances (erf asin argument near 1).
POINTS = [
    ("1.3", "0.9", "0.7"),
    ("0.5", "2.0", "-0.8"),
    ("1.0", "1.0", "0.999999"),
    ("0.75", "0.75", "0.75"),
    ("400.0", "250.0", "300.0"),
]


def _mp(expr: sp.Expr, point: tuple[str, str, str]) -> mpmath.mpf:
    with mpmath.workdps(50):
        subs = {var1: sp.Rational(point[0]), var2: sp.Rational(point[1]), nngp: sp.Rational(point[2])}
        return mpmath.mpf(sp.N(expr.subs(subs), 60))


def test_derivation_builds_with_its_symbolic_checks_and_renders():
    d = ntk_derivation()
    assert d.name == "ntk"
    md = d.to_markdown()
    assert "Price" in md and "atan2" in md
    for key in ("relu_step_nngp", "relu_step_ntk", "erf_step_nngp", "erf_step_ntk", "input_nngp"):
        assert key in d.results


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_price_theorem_holds_numerically_for_textbook_forms(activation):
    e, edot = textbook_forms()[f"{activation}_e"], textbook_forms()[f"{activation}_edot"]
    point = ("1.3", "0.9", "0.7")
    assert abs(_mp(sp.diff(e, nngp), point) - _mp(edot, point)) < mpmath.mpf(10) ** -45


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_stable_forms_equal_textbook_forms_at_50_digits(activation, point):
    text, stab = textbook_forms(), stable_forms()
    for part in ("e", "edot"):
        a = _mp(text[f"{activation}_{part}"], point)
        b = _mp(stab[f"{activation}_{part}"], point)
        assert abs(a - b) <= mpmath.mpf(10) ** -40 * max(abs(a), 1)


@pytest.mark.parametrize("point", [POINTS[0], POINTS[1], POINTS[2]])
def test_relu_closed_form_matches_quadrature_of_defining_integral(point):
    e_q, edot_q = relu_expectations_by_quadrature(*point)
    e_c, edot_c = gaussian_expectations("relu", *point)
    assert abs(e_q - e_c) <= RELU_QUAD_RTOL * abs(e_c)
    assert abs(edot_q - edot_c) <= RELU_QUAD_RTOL * abs(edot_c)


@pytest.mark.parametrize("point", [POINTS[0], POINTS[1]])
def test_erf_closed_form_matches_gauss_hermite_quadrature(point):
    e_q, edot_q = erf_expectations_by_gauss_hermite(*point, n=80)
    e_c, edot_c = gaussian_expectations("erf", *point)
    assert abs(e_q - e_c) <= ERF_GH_RTOL * abs(e_c)
    assert abs(edot_q - edot_c) <= ERF_GH_RTOL * abs(edot_c)


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_generated_step_matches_50_digit_closed_forms(activation, point):
    """One activation+Dense step with w_std = 1, b_std = 0: nngp' = E and ntk' = E + Edot * ntk."""
    s11, s22, s12 = (float(p) for p in point)
    step = getattr(ntk_numpy, f"{activation}_dense_step")
    e64, t64 = step(np.float64(s12), np.float64(0.0), np.float64(s11), np.float64(s22), 1.0, 0.0)
    _, t64_1 = step(np.float64(s12), np.float64(1.0), np.float64(s11), np.float64(s22), 1.0, 0.0)
    e, edot = gaussian_expectations(activation, *point)
    assert abs(float(e64) - e) <= FLOAT_RTOL * abs(e)
    assert abs((float(t64_1) - float(t64)) - edot) <= FLOAT_RTOL * abs(edot) * 4


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_diagonal_step_equals_pair_step_at_coincident_points(activation):
    var = np.array([1e-6, 0.3, 1.0, 7.5, 1e4])
    ntk_in = np.array([0.1, 0.5, 2.0, 3.0, 1e3])
    pair = getattr(ntk_numpy, f"{activation}_dense_step")(var, ntk_in, var, var, 1.3, 0.2)
    diag = getattr(ntk_numpy, f"{activation}_dense_step_diag")(var, ntk_in, 1.3, 0.2)
    for a, b in zip(pair, diag, strict=True):
        np.testing.assert_allclose(a, b, rtol=FLOAT_RTOL)


def test_relu_diagonal_limits_are_half_variance_and_half():
    forms = ntk_derivation().results
    assert sp.simplify(forms["diag_relu_e"] - nngp / 2) == 0
    assert forms["diag_relu_edot"] == sp.Rational(1, 2)


def test_erf_diagonal_limit_tends_to_one_for_large_variance():
    e = ntk_derivation().results["diag_erf_e"]
    assert sp.limit(e, nngp, sp.oo) == 1
    assert float(e.subs(nngp, 10**6)) < 1

