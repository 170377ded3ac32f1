"""abs, leaky ReLU and GELU kernels against a high-precision recursion on the pairs that defeat the
determinant forms (issue 19, item 4): coincident, near-coincident (1e-12 .. 1e-6), collinear,
antipodal and near-antipodal pairs, depths 0 .. 10.

The oracle is the textbook recursion of theory.md 7.2 with the duals as printed in the sources
(abs: (2/pi)(sqrt(det) + nngp asin(rho)); leaky ReLU: Cho & Saul's arc-cosine kernels of relu(u) and
relu(-u); GELU: Tsuchida et al. 2021 / neural-tangents ``stax.Gelu``), typed here in mpmath at
``dps`` digits and checked again at 2 dps. The duals themselves are checked against an independent
route, 1-D mpmath quadrature of the defining integral (the inner Gaussian integral in closed form).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ibtheory.ntk import fc_kernels

from .test_accuracy import PAIR_KINDS, _partner

#: Relative error allowed per entry (issue 19: 1e-13 at depths up to 10).
RTOL = 1e-13
#: Plus this fraction of sqrt(K(x, x) K(x', x')): float64 inputs fix the angle between x and x' only
#: to ~eps (x / |x| is rounded), so entries that are O(eps) of that scale are known to ~eps of it.
SCALE_ATOL = 1e-15
#: The oracle at dps and 2 dps must agree to this relative amount (arccos near rho = 1 keeps half
#: of the digits of the angle: ~1e-25 at 50 digits).
ORACLE_SELF_RTOL = 1e-20
#: The typed duals against 1-D quadrature of their defining integrals (tanh-sinh at 40 digits).
QUAD_RTOL = 1e-25
#: leaky_relu's negative slope (ibtheory.symbolic.NAMED_ACTIVATIONS, PyTorch's default).
LEAKY = mpmath.mpf(1) / 100


def _relu_arccos(a, c, b):
    """E[relu(u) relu(v)], P(u > 0, v > 0) and theta (Cho & Saul 2009)."""
    r = mpmath.sqrt(a * c)
    theta = mpmath.acos(max(min(b / r, 1), -1))
    return r / (2 * mpmath.pi) * (mpmath.sin(theta) + (mpmath.pi - theta) * mpmath.cos(theta)), (mpmath.pi - theta) / (2 * mpmath.pi), theta


def _dual(activation, a, c, b):
    """(E, Edot) for (u, v) ~ N(0, [[a, b], [b, c]]), as printed in the sources."""
    if activation == "abs":  # theory.md 11.4: (2/pi)(sqrt(det) + nngp asin(rho)), sqrt(det) = r sin(theta)
        # (sin of the same theta: sqrt(det) from a rounded det is inconsistent with it at half the digits)
        r = mpmath.sqrt(a * c)
        theta = mpmath.acos(max(min(b / r, 1), -1))
        return 2 / mpmath.pi * r * (mpmath.sin(theta) + mpmath.cos(theta) * (mpmath.pi / 2 - theta)), 1 - 2 * theta / mpmath.pi
    if activation == "leaky_relu":  # phi = relu(u) - s relu(-u)
        e1, p1, theta = _relu_arccos(a, c, b)
        e2, _, _ = _relu_arccos(a, c, -b)
        return (1 + LEAKY**2) * e1 - 2 * LEAKY * e2, (1 + LEAKY**2) * p1 + 2 * LEAKY * theta / (2 * mpmath.pi)
    if activation == "relu":
        return _relu_arccos(a, c, b)[:2]
    if activation == "erf":  # Williams 1997 (theory.md 7.3)
        den = (1 + 2 * a) * (1 + 2 * c)
        return 2 / mpmath.pi * mpmath.asin(2 * b / mpmath.sqrt(den)), 4 / mpmath.pi / mpmath.sqrt(den - 4 * b * b)
    if activation == "identity":
        return b, mpmath.mpf(1)
    if activation == "gelu":  # Tsuchida et al. 2021 (neural-tangents stax.Gelu)
        delta2 = (1 + a) * (1 + c) - b * b
        delta = mpmath.sqrt(delta2)
        angle = mpmath.atan2(b, delta)
        prod = (a + 1) * (c + 1)
        e = b / 4 + ((b * b + a * c * delta2) / (prod * delta) + b * angle) / (2 * mpmath.pi)
        edot = mpmath.mpf(1) / 4 + angle / (2 * mpmath.pi) + b / delta / (2 * mpmath.pi) * (1 / delta2 + (1 - a * c) / prod + 1)
        return e, edot
    raise ValueError(activation)


def kernel_entry(x1, x2, *, depth, activation, w_std, b_std, dps=50):
    """(nngp, ntk) of one pair by the recursion of theory.md 7.2 at ``dps`` digits (inputs exact);
    ``activation`` one name, or a list with one per hidden layer."""
    acts = list(activation) if isinstance(activation, (list, tuple)) else [activation] * depth
    with mpmath.workdps(dps):
        w, b = mpmath.mpf(w_std), mpmath.mpf(b_std)
        p = [mpmath.mpf(float(v)) for v in x1]
        q = [mpmath.mpf(float(v)) for v in x2]

        def dot(f, g):
            return mpmath.fsum(fi * gi for fi, gi in zip(f, g, strict=True)) / len(p)

        s11, s22, s12 = (w**2 * k + b**2 for k in (dot(p, p), dot(q, q), dot(p, q)))
        t12 = s12
        for act in acts:
            e, edot = _dual(act, s11, s22, s12)
            s12_next = w**2 * e + b**2
            t12 = s12_next + w**2 * edot * t12
            s12, s11, s22 = s12_next, w**2 * _dual(act, s11, s11, s11)[0] + b**2, w**2 * _dual(act, s22, s22, s22)[0] + b**2
        return +s12, +t12


def _oracle(x, y, scale=None, dps=50, **kw):
    lo = kernel_entry(x, y, dps=dps, **kw)
    hi = kernel_entry(x, y, dps=2 * dps, **kw)
    for f, (a, b) in enumerate(zip(lo, hi, strict=True)):
        assert abs(a - b) <= ORACLE_SELF_RTOL * (abs(b) + (0 if scale is None else scale[f]))
    return hi


def _check(x, y, **kw):
    res = fc_kernels(np.stack([x, y]), **kw)
    cross = fc_kernels(x[None, :], y[None, :], **kw)
    kxx, kyy = _oracle(x, x, **kw), _oracle(y, y, **kw)
    scales = [mpmath.sqrt(abs(kxx[f] * kyy[f])) for f in (0, 1)]
    kxy = _oracle(x, y, scales, **kw)
    for f, (m, want) in enumerate(((res.nngp, kxy[0]), (res.ntk, kxy[1]))):
        tol = RTOL * abs(want) + SCALE_ATOL * scales[f]
        for got in (m[0, 1], m[1, 0], (cross.nngp, cross.ntk)[f][0, 0]):
            assert abs(mpmath.mpf(float(got)) - want) <= tol, (("nngp", "ntk")[f], float(got), float(want))
        for got, want_diag in ((m[0, 0], kxx[f]), (m[1, 1], kyy[f])):
            assert abs(mpmath.mpf(float(got)) - want_diag) <= RTOL * abs(want_diag)


@given(
    d=st.integers(1, 8),
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(PAIR_KINDS),
    log_delta=st.floats(-12, -6),
    factor=st.sampled_from([2.0, 0.5, -2.0, -0.5, 3.7, -0.3, 1 + 2**-40]),
    depth=st.integers(0, 10),
    activation=st.sampled_from(["abs", "leaky_relu", "gelu"]),
    w_std=st.floats(0.5, 2.0),
    b_std=st.sampled_from([0.0, 0.05, 0.7]),
    big=st.booleans(),
)
def test_every_entry_matches_the_high_precision_recursion(d, seed, kind, log_delta, factor, depth, activation, w_std, b_std, big):
    rng = np.random.default_rng(seed)
    x, noise = rng.normal(size=d), rng.normal(size=d)
    y = _partner(x, kind, 10.0**log_delta, noise, factor)
    # abs and leaky ReLU are positively homogeneous (rescaled like ReLU): inputs at 1e150 too.
    scale = 1e150 if big and activation != "gelu" else 1.0
    _check(x * scale, y * scale, depth=depth, activation=activation, w_std=w_std, b_std=b_std)


@pytest.mark.parametrize("activation", ["abs", "leaky_relu", "gelu"])
@pytest.mark.parametrize("depth", [1, 3, 10])
@pytest.mark.parametrize("delta", [1e-12, 1e-9, 1e-6])
def test_near_coincident_and_near_antipodal_pairs_at_depth_are_accurate(activation, depth, delta):
    """x and x (1 + delta noise) gave ~1e-8 relative (abs, leaky ReLU) with the determinant forms."""
    rng = np.random.default_rng(int(-math.log10(delta)) * 31 + depth)
    x = rng.normal(size=16)
    for b_std in (0.0, 0.3):
        for sign in (1, -1):
            _check(x, sign * x * (1 + delta * rng.normal(size=16)), depth=depth, activation=activation, w_std=1.4, b_std=b_std)


def _quad_dual(activation, a, c, b):
    """(E, Edot) by 1-D quadrature: u = sqrt(a) z, v | z ~ N(m, s^2) with m = b z / sqrt(a),
    s^2 = c - b^2 / a; E[phi(v) | z] and E[phi'(v) | z] in closed form (Gaussian integrals)."""
    sa = mpmath.sqrt(a)
    s = mpmath.sqrt(c - b * b / a)
    pdf, cdf = mpmath.npdf, mpmath.ncdf

    def inner(m):
        """(E[phi(v)], E[phi'(v)]) for v ~ N(m, s^2)."""
        if activation == "abs":  # E|v|, E sign(v)
            return m * (2 * cdf(m / s) - 1) + 2 * s * pdf(m / s), 2 * cdf(m / s) - 1
        if activation == "leaky_relu":  # relu(v) - L relu(-v); H(v) + L H(-v)
            relu_p, relu_m = m * cdf(m / s) + s * pdf(m / s), -m * cdf(-m / s) + s * pdf(m / s)
            return relu_p - LEAKY * relu_m, cdf(m / s) + LEAKY * cdf(-m / s)
        # gelu: E[v Phi(v)] = m Phi(m/t) + s^2 phi(m/t)/t (Stein's lemma) and E[Phi(v) + v phi(v)] =
        # Phi(m/t) + m phi(m/t)/t^3 (product of two Gaussian densities), t = sqrt(1 + s^2)
        t = mpmath.sqrt(1 + s * s)
        return m * cdf(m / t) + s * s / t * pdf(m / t), cdf(m / t) + m / t**3 * pdf(m / t)

    def phi(u):
        if activation == "abs":
            return abs(u), mpmath.sign(u)
        if activation == "leaky_relu":
            return (u, 1) if u > 0 else (LEAKY * u, LEAKY)
        return u * cdf(u), cdf(u) + u * pdf(u)

    def integrand(z, k):
        return phi(sa * z)[k] * inner(b / sa * z)[k] * pdf(z)

    return tuple(mpmath.quad(lambda z, k=k: integrand(z, k), [-mpmath.inf, 0, mpmath.inf]) for k in (0, 1))


@pytest.mark.parametrize("activation", ["abs", "leaky_relu", "gelu"])
@pytest.mark.parametrize(("a", "c", "rho"), [(1.3, 0.7, 0.35), (0.4, 2.1, -0.6), (2.0, 2.5, 0.999), (3.0, 0.5, -0.999)])
def test_typed_duals_match_quadrature_of_their_integrals(activation, a, c, rho):
    with mpmath.workdps(40):
        a, c = mpmath.mpf(a), mpmath.mpf(c)
        b = mpmath.mpf(rho) * mpmath.sqrt(a * c)
        for got, want in zip(_dual(activation, a, c, b), _quad_dual(activation, a, c, b), strict=True):
            assert abs(got - want) <= QUAD_RTOL * abs(want)


#: Per-layer networks whose every layer has an exact angle-carrying step (near pairs tracked
#: throughout), and one ending in GELU (closed form; its own step's accuracy, last layer).
MIXED = [["relu", "identity", "abs"], ["abs", "relu", "leaky_relu", "identity", "relu"], ["relu", "abs", "gelu"]]
#: Per-layer networks with an erf layer followed by a ReLU-type (or another erf) layer: the erf step
#: before a tracked layer carries 1 -+ rho' with relative accuracy (erf_dense_step_exact_gaps, ntk-angles
#: "erf_exact_gaps"); with sqrt(E_a E_c) - E taken directly these were off by up to 3.4e-7 relative.
MIXED_ERF = [["erf", "relu"], ["abs", "relu", "leaky_relu", "identity", "erf", "relu"], ["relu", "identity", "erf"],
             ["erf", "erf", "relu"], ["erf", "identity", "abs"], ["relu", "erf", "leaky_relu", "erf", "relu"]]
#: The Hypothesis test of such lists keeps every erf layer's pre-activation variance >= ~0.2 (inputs with
#: |x|^2 / d = 1, w_std >= 1.5: no layer shrinks the variance). The erf gap's unequal-variance part loses
#: ~1 / a relative digits at variance a (its terms cancel to O(a^2) of their size), so near-collinear pairs
#: with erf variances ~1e-4 (w_std ~0.6, b_std = 0, |x| ~ 0.03) leave errors up to ~1.4e-12 relative.
ERF_LIST_W_STD = (1.5, 2.0)
#: The activations drawn for those lists (those with an angle-carrying step).
ERF_LIST_POOL = ["erf", "relu", "abs", "leaky_relu", "identity"]


@pytest.mark.parametrize("acts", MIXED, ids=["-".join(a) for a in MIXED])
@pytest.mark.parametrize("kind", ["near", "near_antipodal", "collinear", "generic", "same"])
def test_per_layer_activations_match_the_high_precision_recursion(acts, kind):
    rng = np.random.default_rng(len(acts) * 7 + PAIR_KINDS.index(kind))
    x, noise = rng.normal(size=5), rng.normal(size=5)
    for delta in (1e-12, 1e-8):
        for b_std in (0.0, 0.3):
            _check(x, _partner(x, kind, delta, noise, -0.5), depth=len(acts), activation=acts, w_std=1.3, b_std=b_std)


@pytest.mark.parametrize("acts", MIXED_ERF, ids=["-".join(a) for a in MIXED_ERF])
@pytest.mark.parametrize("kind", ["near", "near_antipodal", "collinear", "antipodal", "generic", "same"])
def test_per_layer_networks_with_erf_before_relu_match_the_high_precision_recursion(acts, kind):
    for seed in range(2):
        rng = np.random.default_rng(seed)
        x, noise = rng.normal(size=5), rng.normal(size=5)
        for delta in (1e-12, 1e-8):
            for b_std in (0.0, 0.3):
                _check(x, _partner(x, kind, delta, noise, -0.5), depth=len(acts), activation=acts, w_std=1.3, b_std=b_std)


@given(
    d=st.integers(1, 8),
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(PAIR_KINDS),
    log_delta=st.floats(-12, -6),
    factor=st.sampled_from([2.0, 0.5, -2.0, -0.5, 3.7, -0.3, 1 + 2**-40]),
    acts=st.lists(st.sampled_from(ERF_LIST_POOL), min_size=1, max_size=9).map(lambda a: ["erf", *a]),
    shift=st.integers(0, 9),
    w_std=st.floats(*ERF_LIST_W_STD),
    b_std=st.sampled_from([0.0, 0.05, 0.7]),
)
def test_per_layer_lists_with_erf_match_the_high_precision_recursion(d, seed, kind, log_delta, factor, acts, shift, w_std, b_std):
    acts = acts[shift % len(acts):] + acts[:shift % len(acts)]  # the erf layer anywhere
    rng = np.random.default_rng(seed)
    x, noise = rng.normal(size=d), rng.normal(size=d)
    x = x * math.sqrt(d / float(x @ x))  # |x|^2 / d = 1 (ERF_LIST_W_STD)
    y = _partner(x, kind, 10.0**log_delta, noise, factor)
    _check(x, y, depth=len(acts), activation=acts, w_std=w_std, b_std=b_std)
