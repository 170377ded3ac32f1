"""neural-tangents' elementwise-layer tests, ported onto ibtheory as a user of it would write them.

Source: google/neural-tangents, ``tests/stax/elementwise_test.py`` (classes ActivationTest,
ElementwiseTest, ABReluTest), fully connected cases. Each test keeps the peer's architecture,
activations and parameters (Dense(W_std, b_std) -> phi -> Dense readout); neural-tangents'
``stax`` layers become ibtheory names or one-variable SymPy Lambdas (its ``Erf(a, b, c)`` is
``a erf(b u) + c``, ``Sin(a, b, c)`` is ``a sin(b u + c)``, ``Rbf(gamma)`` is
``sqrt(2) sin(sqrt(2 gamma) u + pi / 4)``, ``ABRelu(a, b)`` is ``a min(u, 0) + b max(u, 0)``,
``Exp(a, b)`` is ``a exp(b u)``, ``Gaussian(a, b)`` is ``a exp(b u^2)``, ``Polynomial(coef)`` and
``Monomial(n)`` are polynomials, ``Gabor`` is ``exp(-u^2) sin(u)``).

Where the peer compares with a Monte Carlo kernel at a fixed tolerance (``atol=0.01, rtol=0.05``,
or a relative matrix norm of 0.04-0.08), the port compares with ibtheory's finite-width torch
ensembles of the same description, within K_SE standard errors of the ensemble mean (one hidden
layer: the empirical kernels are unbiased at any width). Where the peer's own closed forms are
literal (its ``nngp_fn``s for Identity, Erf, Sin, Relu; the Rbf kernel; the Exp and Gaussian
kernels), the port checks ibtheory's kernels against them to round-off.

What ibtheory lacks, and so is not ported: convolutional and pooling models ("conv-pool",
"conv-flatten": ibtheory's kernels are fully connected), ``Sign`` (its derivative is a Dirac
delta; refused with a clear error, tested below), ``ExpNormalized``, ``Hermite`` (needs LayerNorm),
``RectifiedMonomial`` of degree >= 2 in closed form (runs by quadrature), ``Gaussian(a, b)`` with
b > 0 (its moments exist only below a variance; refused, tested below), and
``ElementwiseNumerical`` as a user-selectable route for activations that have a closed form
(ibtheory always derives the closed form when one exists; its quadrature is checked against
mpmath in tests/ntk/test_activations.py).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from ibtheory.ntk import empirical_kernels, fc_kernels

u = sp.Symbol("u", real=True)

#: Monte Carlo tolerance in standard errors of the ensemble mean (as tests/ntk/test_activations.py).
K_SE = 5.0
#: Networks per ensemble and hidden width of the ported Monte Carlo tests (one hidden layer: the
#: empirical kernels are unbiased at any width, so the width only sets the noise).
N_NETWORKS, WIDTH = 400, 256
#: Ported literal closed forms vs ibtheory's derived kernels: both exact, so round-off only.
EXACT_RTOL = 1e-12


def _inputs(seed: int, n: int, d: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


def _assert_ensemble_matches(x1, x2, activation, w_std, b_std, *, depth=1, seed=0):
    exact = fc_kernels(x1, x2, depth=depth, activation=activation, w_std=w_std, b_std=b_std)
    emp = empirical_kernels(x1, x2, n_networks=N_NETWORKS, width=WIDTH, depth=depth, activation=activation,
                            w_std=w_std, b_std=b_std, seed=seed)
    for k in ("nngp", "ntk"):
        samples = getattr(emp, k)
        se = samples.std(axis=0) / math.sqrt(samples.shape[0])
        assert np.all(np.abs(samples.mean(axis=0) - getattr(exact, k)) <= K_SE * se + 1e-9), k


# --- ActivationTest.test_activation: Sin, Cos, Erf with (a, b, c) = (0.3, 1.5, -pi/4), Gelu -------

A, B, C = 0.3, 1.5, -math.pi / 4
PARAMETRISED = {
    "Sin(a,b,c)": (sp.Lambda(u, A * sp.sin(B * u + C)), 0.9),  # the peer takes W_std = 0.9 for Sin
    "Erf(a,b,c)": (sp.Lambda(u, A * sp.erf(B * u) + C), 2.0),
    "Cos": ("cos", 2.0),
    "Gelu": ("gelu", 2.0),
}


@pytest.mark.parametrize("name", list(PARAMETRISED))
def test_activation_fc_matches_finite_ensembles(name):
    """ActivationTest.test_activation, model "fc": Dense(1024, W_std, b_std=0.5) -> phi -> Dense."""
    activation, w_std = PARAMETRISED[name]
    _assert_ensemble_matches(_inputs(1, 4, 2), _inputs(2, 2, 2), activation, w_std, 0.5)


# --- ActivationTest.test_monomial / test_polynomial / test_nonparametric (Gabor) ----------------

POLYNOMIALS = {
    "Monomial(0)": 1 + 0 * u, "Monomial(1)": u, "Monomial(2)": u**2, "Monomial(3)": u**3,
    "Monomial(4)": u**4, "Monomial(5)": u**5,
    "Polynomial([1, -1])": 1 - u, "Polynomial([-0.5, 1.2])": -0.5 + 1.2 * u,
    "Polynomial([1.3, 0, -1.2, -0.5])": 1.3 - 1.2 * u**2 - 0.5 * u**3,
    "Polynomial([-0.1, 2.1, 0, 0, -1.2, -0.5])": -0.1 + 2.1 * u - 1.2 * u**4 - 0.5 * u**5,
    "Gabor": sp.exp(-u**2) * sp.sin(u),
    "Sigmoid_like": sp.erf(u / 2.4020563531719796) / 2 + sp.Rational(1, 2),
    "RectifiedMonomial(1)": sp.Max(u, 0),
}


@pytest.mark.parametrize("name", list(POLYNOMIALS))
def test_polynomial_and_nonparametric_activations_match_finite_ensembles(name):
    """ActivationTest._test_activation_fc: x = cos(N(0, 1)) of shape (3, 2) and (2, 2), Dense(1024)
    (W_std = 1, b_std = 0) -> phi -> Dense."""
    x1, x2 = np.cos(_inputs(3, 3, 2)), np.cos(_inputs(4, 2, 2))
    _assert_ensemble_matches(x1, x2, sp.Lambda(u, POLYNOMIALS[name]), 1.0, 0.0, seed=1)


# --- ActivationTest.test_rbf: Rbf(gamma) is the RBF kernel ------------------------------------------

@pytest.mark.parametrize("gamma", [1e-6, 1e-4, 1e-2, 1.0, 2.0])
def test_rbf_activation_gives_the_rbf_kernel(gamma):
    """With W_std = 1, b_std = 0 the NNGP after Rbf(gamma) is exp(-gamma |x - x'|^2 / d) (the
    peer's direct ``_RBF`` kernel); its NTK is the peer's ``nngp + 2 gamma nngp * x.x'/d``."""
    x1, x2 = _inputs(5, 4, 2), _inputs(6, 2, 2)
    lam = sp.Lambda(u, sp.sqrt(2) * sp.sin(sp.sqrt(2 * sp.Float(gamma)) * u + sp.pi / 4))
    got = fc_kernels(x1, x2, depth=1, activation=lam, w_std=1.0, b_std=0.0)
    d = x1.shape[1]
    sq = ((x1[:, None, :] - x2[None, :, :]) ** 2).sum(-1)
    nngp = np.exp(-gamma * sq / d)
    ntk = nngp + 2 * gamma * nngp * (x1 @ x2.T) / d
    np.testing.assert_allclose(got.nngp, nngp, rtol=EXACT_RTOL)
    # ntk = nngp (1 + 2 gamma x.x'/d) cancels where 2 gamma x.x'/d ~ -1 (in both routes): round-off
    # of the NNGP's scale there
    np.testing.assert_allclose(got.ntk, ntk, rtol=EXACT_RTOL, atol=EXACT_RTOL * nngp.max())


# --- ActivationTest.test_nonlineariy: Exp(a, b) and Gaussian(a, b), two hidden layers ---------------

#: Exp and Gaussian have no closed form in ibtheory's symbolic routes, so they run by quadrature;
#: their pre-activation variances here are <= 1, where the quadrature is within ~1e-14
#: (tests/ntk/test_quadrature.py); bound with a wide margin.
QUADRATURE_RTOL = 1e-9


def _exp_dual(a, b, var1, var2, c):
    """The peer's Exp(a, b) dual: E[a e^{bu} a e^{bv}] = a^2 exp(b^2 (var1 + var2) / 2 + b^2 c)."""
    e = a * a * np.exp(b * b * (var1 + var2) / 2 + b * b * c)
    return e, b * b * e


def _gaussian_dual(a, b, var1, var2, c):
    """Gaussian(a, b) = a exp(b u^2): E = a^2 / sqrt(det(I - 2 b Sigma)) (a Gaussian integral);
    Edot = E[4 a^2 b^2 u v e^{b(u^2 + v^2)}] = 4 a^2 b^2 c / det^{3/2}."""
    det = (1 - 2 * b * var1) * (1 - 2 * b * var2) - 4 * b * b * c * c
    return a * a / np.sqrt(det), 4 * a * a * b * b * c / det**1.5


def _two_layer_recursion(x1, x2, dual):
    """Dense(W_std=1, b_std=0) -> phi -> Dense -> phi -> Dense, the recursion of theory.md 7.2 with
    the literal dual ``dual(var1, var2, c) -> (E, Edot)``."""
    d = x1.shape[1]
    v1, v2 = (x1 * x1).sum(1)[:, None] / d, (x2 * x2).sum(1)[None, :] / d
    c = x1 @ x2.T / d
    ntk = c.copy()
    for _ in range(2):
        e, edot = dual(v1, v2, c)
        e11 = dual(v1, v1, v1)[0]
        e22 = dual(v2, v2, v2)[0]
        c, ntk, v1, v2 = e, e + edot * ntk, e11, e22
    return c, ntk


@pytest.mark.parametrize("phi", ["Exp", "Gaussian"])
@pytest.mark.parametrize("a", [-0.5, 0.25])
@pytest.mark.parametrize("b", [-0.5, -0.1, 0.1])
def test_exp_and_gaussian_networks_follow_their_closed_forms(phi, a, b):
    """test_nonlineariy: x = cos(N(0, 1)) of shape (2, 1) and (3, 1), two hidden layers (the peer
    compares with Monte Carlo at 6e-2; here against the closed forms, which ibtheory reaches by
    quadrature)."""
    x1, x2 = np.cos(_inputs(7, 2, 1)), np.cos(_inputs(8, 3, 1))
    lam = sp.Lambda(u, a * (sp.exp(b * u) if phi == "Exp" else sp.exp(b * u**2)))
    if phi == "Gaussian" and b > 0:
        # E[phi(u)^2] exists only for variances below 1 / (4 b): the peer computes it there,
        # ibtheory refuses such activations outright (a variance-dependent domain it does not track)
        with pytest.raises(ValueError, match="Gaussian moments"):
            fc_kernels(x1, x2, depth=2, activation=lam, w_std=1.0, b_std=0.0)
        return
    dual = (lambda v1, v2, c: _exp_dual(a, b, v1, v2, c)) if phi == "Exp" else (lambda v1, v2, c: _gaussian_dual(a, b, v1, v2, c))
    got = fc_kernels(x1, x2, depth=2, activation=lam, w_std=1.0, b_std=0.0)
    nngp, ntk = _two_layer_recursion(x1, x2, dual)
    np.testing.assert_allclose(got.nngp, nngp, rtol=QUADRATURE_RTOL)
    np.testing.assert_allclose(got.ntk, ntk, rtol=QUADRATURE_RTOL)



# --- ElementwiseTest.test_elementwise: the peer's literal nngp_fn's -----------------------------

def _peer_dual(name, v1, v2, c):
    """(E, Edot) of the peer's ``nngp_fn`` for Identity, Erf, Sin, Relu and its derivative in cov12
    (the peer gets the NTK by differentiating nngp_fn; Price's theorem makes that Edot), evaluated
    in mpmath at ORACLE_DPS digits: in float64 the peer's ReLU form cancels on collinear pairs
    (sqrt(var1 var2 - cov12^2), ~1e-8 relative; these 1-D inputs are all collinear or antipodal)."""
    mp = mpmath
    if name == "identity":
        return c, mp.mpf(1)
    if name == "erf":
        prod = (1 + 2 * v1) * (1 + 2 * v2)
        return mp.asin(2 * c / mp.sqrt(prod)) * 2 / mp.pi, 4 / (mp.pi * mp.sqrt(prod - 4 * c * c))
    if name == "sin":
        s = v1 + v2
        return (mp.exp(-s / 2 + c) - mp.exp(-s / 2 - c)) / 2, (mp.exp(-s / 2 + c) + mp.exp(-s / 2 - c)) / 2
    root = mp.sqrt(max(v1 * v2 - c * c, 0))  # relu
    angle = mp.atan2(root, c)
    return root / (2 * mp.pi) + (1 - angle / mp.pi) / 2 * c, (1 - angle / mp.pi) / 2


#: Digits of the mpmath evaluation of the peer's literal forms.
ORACLE_DPS = 50


def _mp_recursion(x1, x2, name):
    """:func:`_two_layer_recursion` entry by entry in mpmath (inputs are 1-D)."""
    nngp, ntk = np.zeros((len(x1), len(x2))), np.zeros((len(x1), len(x2)))
    with mpmath.workdps(ORACLE_DPS):
        for i, a in enumerate(x1[:, 0]):
            for j, b in enumerate(x2[:, 0]):
                v1, v2, c = mpmath.mpf(a) ** 2, mpmath.mpf(b) ** 2, mpmath.mpf(a) * mpmath.mpf(b)
                k = c
                for _ in range(2):
                    e, edot = _peer_dual(name, v1, v2, c)
                    v1, v2 = _peer_dual(name, v1, v1, v1)[0], _peer_dual(name, v2, v2, v2)[0]
                    c, k = e, e + edot * k
                nngp[i, j], ntk[i, j] = float(c), float(k)
    return nngp, ntk


@pytest.mark.parametrize("name", ["identity", "erf", "sin", "relu"])
@pytest.mark.parametrize("same_inputs", [False, True])
def test_elementwise_kernels_equal_the_peers_literal_nngp_fns(name, same_inputs):
    """Dense(1) -> phi -> Dense(1) -> phi (the peer's test has no readout; ibtheory's kernel is that
    of a readout Dense with W_std = 1, b_std = 0, which leaves it unchanged)."""
    x1 = _inputs(9, 5, 1)
    x2 = x1 if same_inputs else _inputs(10, 6, 1)
    got = fc_kernels(x1, None if same_inputs else x2, depth=2, activation=name, w_std=1.0, b_std=0.0)
    nngp, ntk = _mp_recursion(x1, x2, name)
    np.testing.assert_allclose(got.nngp, nngp, rtol=EXACT_RTOL)
    np.testing.assert_allclose(got.ntk, ntk, rtol=EXACT_RTOL)


# --- ABReluTest ----------------------------------------------------------------------------------

def _ab_relu(a, b):
    return sp.Lambda(u, a * sp.Min(u, 0) + b * sp.Max(u, 0))


def _kernels(activation, x, w_std=1.7, b_std=0.3, depth=2):
    return fc_kernels(x, depth=depth, activation=activation, w_std=w_std, b_std=b_std)


@pytest.mark.parametrize(("ab", "named"), [
    ((0, 1), "relu"),                    # test_ab_relu_relu: ABRelu(0, 1) == Relu
    ((0.01, 1), "leaky_relu"),           # test_leaky_relu: ABRelu(alpha, 1) == LeakyRelu(alpha)
    ((-1, 1), "abs"),                    # test_abs: ABRelu(-1, 1) == Abs
])
def test_ab_relu_special_cases_equal_the_named_activations(ab, named):
    x = _inputs(11, 5, 3)
    got, want = _kernels(_ab_relu(*ab), x), _kernels(named, x)
    np.testing.assert_allclose(got.nngp, want.nngp, rtol=EXACT_RTOL)
    np.testing.assert_allclose(got.ntk, want.ntk, rtol=EXACT_RTOL)


@pytest.mark.parametrize("a", [-1.1, 0.7])
def test_ab_relu_with_equal_slopes_is_a_scaled_identity(a):
    """test_ab_relu_id: ABRelu(a, a) == a * Identity; with b_std = 0 every layer scales the kernels
    by a^2 (NNGP) and the NTK's layer terms alike, so depth 1 gives exactly a^2 times identity's."""
    x = _inputs(12, 5, 3)
    got, ident = _kernels(_ab_relu(a, a), x, b_std=0.0, depth=1), _kernels("identity", x, b_std=0.0, depth=1)
    np.testing.assert_allclose(got.nngp, a * a * ident.nngp, rtol=EXACT_RTOL)
    w2, k_in = 1.7**2, 1.7**2 * (x @ x.T) / x.shape[1]
    np.testing.assert_allclose(got.ntk, a * a * w2 * k_in + w2 * a * a * k_in, rtol=EXACT_RTOL)


def test_ab_relu_finite_ensembles_match_the_analytic_kernels():
    """ABRelu(-0.4, 1.3) end to end: derived kernels vs finite torch networks of the same Lambda."""
    _assert_ensemble_matches(_inputs(13, 4, 3), None, _ab_relu(-0.4, 1.3), 1.5, 0.2)


# --- what ibtheory refuses ---------------------------------------------------------------------

def test_sign_is_refused_with_a_clear_error():
    """The peer's Sign has an NTK through its Dirac-delta derivative; ibtheory has no such route."""
    with pytest.raises(ValueError, match=r"jumps .* Dirac delta"):
        fc_kernels(_inputs(14, 3, 2), depth=1, activation=sp.Lambda(u, sp.sign(u)), w_std=1.0, b_std=0.0)
