"""Every kernel entry against a high-precision mpmath recursion, on the pairs that defeat the
arccos/determinant forms: coincident, near-coincident (1e-12 .. 1e-6 relative perturbations),
collinear, antipodal and near-antipodal pairs, depths 0 .. 10, ordinary and extreme input scales
(issue 19, item 4).

The oracle (:func:`ibtheory.numeric.fc_kernel_entry`) is the textbook arccos/arcsin recursion typed
from the sources, evaluated at ``dps`` digits and checked again at twice that (the arcsine form
cancels ~2 log10(scale) digits for huge inputs, so ``dps`` grows with the scale).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ibtheory.ntk import fc_kernels
from ibtheory.numeric import fc_kernel_entry

#: Relative error allowed per entry (issue 19: 1e-13 at depths up to 10).
RTOL = 1e-13
#: Plus this fraction of sqrt(K(x, x) K(x', x')): float64 inputs fix the angle between x and x'
#: only to ~eps (x / |x| is rounded), so entries that are O(eps) of that scale (antipodal pairs
#: with b_std = 0, x' = -0.7 x rounded, erf at 1e100 with an angle ~1e-16) are known to ~eps of it.
SCALE_ATOL = 1e-15
#: The oracle at dps and 2 dps must agree to this relative amount before it is used (arccos near
#: rho = 1 keeps only half of the dps digits of the angle: ~1e-25 at 50 digits).
ORACLE_SELF_RTOL = 1e-20


def _oracle(x, y, dps, scale=None, **kw):
    """(nngp, ntk) at 2 dps digits, after checking that dps digits agree (to ORACLE_SELF_RTOL of
    the entry plus of ``scale``, the pair's diagonal scale, below which the textbook forms cancel)."""
    lo = fc_kernel_entry(x, y, dps=dps, **kw)
    hi = fc_kernel_entry(x, y, dps=2 * dps, **kw)
    for f, (a, b) in enumerate(zip(lo, hi, strict=True)):
        assert abs(a - b) <= ORACLE_SELF_RTOL * (abs(b) + (0 if scale is None else scale[f]))
    return hi


def _partner(x: np.ndarray, kind: str, delta: float, noise: np.ndarray, factor: float) -> np.ndarray:
    if kind == "same":
        return x.copy()
    if kind == "near":
        return x * (1 + delta * noise)
    if kind == "near_shift":
        return x + delta * np.linalg.norm(x) * noise / math.sqrt(x.size)
    if kind == "collinear":
        return factor * x
    if kind == "antipodal":
        return -x
    if kind == "near_antipodal":
        return -x * (1 + delta * noise)
    return noise


def _check(x: np.ndarray, y: np.ndarray, *, depth: int, activation: str, w_std: float, b_std: float, dps: int) -> None:
    kw = {"depth": depth, "activation": activation, "w_std": w_std, "b_std": b_std}
    res = fc_kernels(np.stack([x, y]), **kw)
    cross = fc_kernels(x[None, :], y[None, :], **kw)
    kxx = _oracle(x, x, dps, **kw)
    kyy = _oracle(y, y, dps, **kw)
    scales = [mpmath.sqrt(abs(kxx[f] * kyy[f])) for f in (0, 1)]
    kxy = _oracle(x, y, dps, scales, **kw)
    for f, (m, want_xy) in enumerate(((res.nngp, kxy[0]), (res.ntk, kxy[1]))):
        scale = scales[f]
        tol = RTOL * abs(want_xy) + SCALE_ATOL * scale
        for got in (m[0, 1], m[1, 0], (cross.nngp, cross.ntk)[f][0, 0]):
            assert abs(mpmath.mpf(float(got)) - want_xy) <= tol, (("nngp", "ntk")[f], float(got), float(want_xy))
        for got, want in ((m[0, 0], kxx[f]), (m[1, 1], kyy[f])):
            assert abs(mpmath.mpf(float(got)) - want) <= RTOL * abs(want)


PAIR_KINDS = ["same", "near", "near_shift", "collinear", "antipodal", "near_antipodal", "generic"]


@given(
    d=st.integers(1, 8),
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(PAIR_KINDS),
    log_delta=st.floats(-12, -6),
    factor=st.sampled_from([2.0, 0.5, -2.0, -0.5, 3.7, -0.3, 1 + 2**-40]),
    depth=st.integers(0, 10),
    activation=st.sampled_from(["relu", "erf"]),
    w_std=st.floats(0.5, 2.0),
    b_std=st.sampled_from([0.0, 0.05, 0.7]),
    huge=st.booleans(),
)
def test_every_entry_matches_the_high_precision_recursion(d, seed, kind, log_delta, factor, depth, activation, w_std, b_std, huge):
    rng = np.random.default_rng(seed)
    x, noise = rng.normal(size=d), rng.normal(size=d)
    y = _partner(x, kind, 10.0**log_delta, noise, factor)
    scale = (1e150 if activation == "relu" else 1e100) if huge else 1.0
    dps = 50 + (450 if huge and activation == "erf" else 0)
    _check(x * scale, y * scale, depth=depth, activation=activation, w_std=w_std, b_std=b_std, dps=dps)


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("depth", [1, 3, 10])
@pytest.mark.parametrize("delta", [1e-12, 1e-9, 1e-6])
def test_near_coincident_pairs_at_depth_are_accurate(activation, depth, delta):
    """The issue's case: x and x + 1e-9 noise gave 3.5e-9 relative (ReLU, depth 3) before."""
    rng = np.random.default_rng(int(-math.log10(delta)) * 31 + depth)
    x = rng.normal(size=16)
    for b_std in (0.0, 0.3):
        _check(x, x * (1 + delta * rng.normal(size=16)), depth=depth, activation=activation, w_std=1.4, b_std=b_std, dps=50)


def test_erf_inputs_at_1e100_give_finite_correct_kernels():
    """Variances ~1e200 used to overflow det = var1 var2 - nngp^2 (issue 21 refused them)."""
    x = np.random.default_rng(5).normal(size=(4, 3)) * 1e100
    res = fc_kernels(x, depth=2, activation="erf", w_std=1.3, b_std=0.1)
    assert np.all(np.isfinite(res.nngp)) and np.all(np.isfinite(res.ntk))
    for i, j in [(0, 0), (0, 1), (2, 3)]:
        nngp, ntk = _oracle(x[i], x[j], 500, depth=2, activation="erf", w_std=1.3, b_std=0.1)
        assert abs(res.nngp[i, j] - nngp) <= RTOL * abs(nngp)
        assert abs(res.ntk[i, j] - ntk) <= RTOL * abs(ntk)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_torch_backend_takes_the_same_exact_path(backend):
    pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 5))
    x[1] = x[0] * (1 + 1e-9 * rng.normal(size=5))
    x[2] = -x[0]
    res = fc_kernels(x, depth=4, activation="relu", w_std=1.3, b_std=0.2, backend=backend)
    ntk = np.asarray(res.ntk)
    for i, j in [(0, 1), (0, 2)]:
        _, want = _oracle(x[i], x[j], 50, depth=4, activation="relu", w_std=1.3, b_std=0.2)
        assert abs(ntk[i, j] - want) <= RTOL * abs(want)


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("scale, w_std, b_std, depth", [(1e-6, 1e-3, 0.1, 1), (1e-12, 1.0, 0.1, 4)])
def test_a_dominant_bias_makes_orthogonal_inputs_near_parallel_and_they_stay_exact(activation, scale, w_std,
                                                                                   b_std, depth):
    # Found by the property hunt (issue 21): orthogonal inputs are not near-parallel, but after an
    # input layer whose bias dominates they are (rho = 1 - 1e-16); judged on the inputs, such pairs
    # were untracked and 1 - rho cancelled to a negative number (NaN from the square root).
    x = scale * np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.5, 1.0]])
    k = fc_kernels(x, depth=depth, activation=activation, w_std=w_std, b_std=b_std)
    for i in range(4):
        for j in range(4):
            nngp, ntk = fc_kernel_entry(x[i], x[j], depth=depth, activation=activation, w_std=w_std, b_std=b_std)
            assert k.nngp[i, j] == pytest.approx(float(nngp), rel=RTOL)
            assert k.ntk[i, j] == pytest.approx(float(ntk), rel=RTOL)


@pytest.mark.parametrize("w_std", [1e-3, 1.0])
def test_erf_inputs_near_1e300_carry_their_scale_and_are_correct(w_std):
    """w_std^2 |x|^2 / d ~ 1e594 is not a float64: the inputs are carried as x / 2**e through the input
    layer and the first erf step (erf is bounded), instead of the ValueError of before."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(5, 3)) * 1e300
    x[1] = x[0] * (1 + 1e-6 * rng.normal(size=3))
    x[2] = -x[0]
    kw = {"depth": 3, "activation": "erf", "w_std": w_std, "b_std": 0.1}
    res = fc_kernels(x, **kw)
    assert np.all(np.isfinite(res.nngp)) and np.all(np.isfinite(res.ntk))
    # the textbook arcsine form cancels ~1200 digits at variances ~1e594: 1300 digits, self-checked at 1400
    def oracle(i, j, scale):
        lo, hi = (fc_kernel_entry(x[i], x[j], dps=dps, **kw) for dps in (1300, 1400))
        for f in (0, 1):
            assert abs(lo[f] - hi[f]) <= ORACLE_SELF_RTOL * (abs(hi[f]) + scale[f])
        return hi

    diag = {i: oracle(i, i, (0, 0)) for i in range(5)}
    for i, j in [(0, 1), (0, 2), (3, 4), (0, 3), (1, 1)]:
        scale = [mpmath.sqrt(diag[i][f] * diag[j][f]) for f in (0, 1)]
        want = oracle(i, j, scale)
        for f, m in enumerate((res.nngp, res.ntk)):
            assert abs(mpmath.mpf(float(m[i, j])) - want[f]) <= RTOL * abs(want[f]) + SCALE_ATOL * scale[f], (i, j, f)


@pytest.mark.parametrize("activation", ["relu", "abs", "gelu", "tanh", "sin", ("relu", "erf")])
def test_kernels_that_are_not_float64_numbers_at_1e300_raise_a_value_error(activation):
    x = np.random.default_rng(0).normal(size=(3, 4)) * 1e300
    with pytest.raises(ValueError, match=r"not float64 numbers|overflow float64"):
        fc_kernels(x, depth=2, activation=list(activation) if isinstance(activation, tuple) else activation, w_std=1e-3, b_std=0.1)


def test_erf_inputs_beyond_float64_variances_with_much_smaller_ones_are_refused():
    x = np.random.default_rng(0).normal(size=(3, 4)) * 1e300
    x[2] = 1.0
    with pytest.raises(ValueError, match="not supported"):
        fc_kernels(x, depth=2, activation="erf", w_std=1e-3, b_std=0.1)
