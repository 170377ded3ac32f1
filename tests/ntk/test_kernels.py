"""Analytic NNGP/NTK kernels: 50-digit recursion oracle, theory.md 7.5 oracles, backends, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ibtheory.ntk import fc_kernel_blocks, fc_kernels, max_learning_rate
from ibtheory.numeric import fc_kernel_entry

#: float64 recursion vs the 50-digit mpmath recursion (issue 9 target 1e-12; measured ~1e-15).
ORACLE_RTOL = 1e-12
#: numpy vs torch: same formulas, different libm/SIMD paths; a few ulps per layer.
BACKEND_RTOL = 1e-13
#: PSD check: eigenvalues >= -this * largest (round-off of an n x n symmetric eigensolve).
PSD_RTOL = 1e-12


def _data(n: int, d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("depth", [0, 1, 3])
def test_kernels_match_50_digit_recursion_including_diagonal(activation, depth):
    x = _data(12, 7, seed=depth)
    x[5] = x[4] * (1 + 1e-3)  # a near-collinear pair
    res = fc_kernels(x, depth=depth, activation=activation, w_std=1.4, b_std=0.3)
    pairs = [(0, 0), (4, 4), (11, 11), (0, 1), (4, 5), (3, 9)]
    for i, j in pairs:
        nngp, ntk = fc_kernel_entry(x[i], x[j], depth=depth, activation=activation, w_std=1.4, b_std=0.3)
        assert abs(res.nngp[i, j] - nngp) <= ORACLE_RTOL * abs(nngp), (i, j)
        assert abs(res.ntk[i, j] - ntk) <= ORACLE_RTOL * abs(ntk), (i, j)


def test_relu_diagonal_is_exact_where_arccos_form_loses_1e8():
    """At x = x' the arccos form's angle is O(sqrt(eps)); ours is exactly 0 (stable form + exact diagonal)."""
    x = _data(40, 32, seed=3)
    res = fc_kernels(x, depth=3, activation="relu", w_std=1.1, b_std=0.05)
    for i in range(0, 40, 7):
        nngp, ntk = fc_kernel_entry(x[i], x[i], depth=3, activation="relu", w_std=1.1, b_std=0.05)
        assert abs(res.nngp[i, i] - nngp) <= 1e-15 * abs(nngp) * 4
        assert abs(res.ntk[i, i] - ntk) <= 1e-15 * abs(ntk) * 4


def test_relu_step_keeps_pi_minus_theta_accurate_near_antipodal_pairs():
    """Edot = (pi - theta)/(2 pi) is O(sqrt(delta)) as theta -> pi; computing it as pi - atan2(...)
    would leave an absolute error ~ ulp(pi) = 4e-16, i.e. a relative one ~ 3e-12 at delta = 2^-26.
    The generated step (atan2 of the supplementary angle) keeps it to a few ulps. The inputs make
    var1 var2 - nngp^2 exact in float64 (nngp = -(1 - 2^-k), its square needs 2k <= 53 bits), so
    the test sees the angle formula and not the conditioning of that difference."""
    from ibtheory._generated.ntk_numpy import relu_dense_step
    from ibtheory.numeric import gaussian_expectations

    for k in (4, 10, 20, 26):
        nngp = -(1.0 - 2.0**-k)
        out = relu_dense_step(np.array(nngp), np.array(1.0), 1.0, 1.0, 1.0, 0.0)
        _, edot = gaussian_expectations("relu", 1.0, 1.0, nngp)
        assert abs(float(out.ntk - out.nngp) - float(edot)) <= 16 * 2.2e-16 * float(edot), k


def test_relu_sqrt2_diagonal_identities():
    """theory.md 7.5.2: W_std = sqrt(2), b_std = 0: nngp(x,x) = 2|x|^2/d, ntk(x,x) = (depth+1) nngp(x,x)."""
    x = _data(9, 5, seed=1)
    for depth in (0, 1, 2, 4):
        res = fc_kernels(x, depth=depth, activation="relu", w_std=math.sqrt(2), b_std=0.0)
        expected = 2 * np.sum(x**2, axis=1) / x.shape[1]
        np.testing.assert_allclose(np.diag(res.nngp), expected, rtol=1e-14)
        np.testing.assert_allclose(np.diag(res.ntk), (depth + 1) * expected, rtol=1e-14)


def test_erf_diagonal_limit_below_one_and_tends_to_one():
    """theory.md 7.5.3: with w_std = 1, b_std = 0, one hidden erf layer: nngp(x,x) = (2/pi) asin(2S/(1+2S)) < 1."""
    x = np.array([[0.5], [3.0], [1e3]])
    res = fc_kernels(x, depth=1, activation="erf", w_std=1.0, b_std=0.0)
    s = x[:, 0] ** 2
    expected = 2 / np.pi * np.arcsin(2 * s / (1 + 2 * s))
    np.testing.assert_allclose(np.diag(res.nngp), expected, rtol=1e-13)
    assert np.all(np.diag(res.nngp) < 1) and np.diag(res.nngp)[-1] > 0.98


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_kernels_symmetric_psd_and_ntk_dominates_nngp_on_diagonal(activation):
    x = _data(60, 6, seed=5)
    res = fc_kernels(x, depth=2, activation=activation, w_std=1.5, b_std=0.1, block_size=16)
    for k in (res.nngp, res.ntk):
        assert np.array_equal(k, k.T)
        ev = np.linalg.eigvalsh(k)
        assert ev[0] >= -PSD_RTOL * ev[-1]
    assert np.all(np.diag(res.ntk) >= np.diag(res.nngp))


@pytest.mark.parametrize("x2_seed", [None, 9])
def test_threads_do_not_change_results_and_scratch_is_per_thread(x2_seed):
    """Blocks computed by 1 or 3 threads (each with its own scratch arrays, reused across its
    blocks) give identical matrices; so does streaming them with fc_kernel_blocks."""
    # Blocks of 64 x 64: NumPy releases the GIL inside ufuncs on arrays this size, so threads overlap.
    x1 = _data(300, 5, seed=8)
    x2 = None if x2_seed is None else _data(200, 5, seed=x2_seed)
    kw = {"depth": 3, "activation": "relu", "w_std": 1.3, "b_std": 0.2, "block_size": 64}
    one = fc_kernels(x1, x2, threads=1, **kw)
    three = fc_kernels(x1, x2, threads=3, **kw)
    np.testing.assert_array_equal(one.nngp, three.nngp)
    np.testing.assert_array_equal(one.ntk, three.ntk)
    for rows, cols, nngp, ntk in fc_kernel_blocks(x1, x2, threads=3, **kw):
        np.testing.assert_array_equal(nngp, one.nngp[rows, cols])
        np.testing.assert_array_equal(ntk, one.ntk[rows, cols])


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_blocking_does_not_change_results(activation):
    x1, x2 = _data(37, 4, seed=6), _data(23, 4, seed=7)
    big = fc_kernels(x1, x2, depth=2, activation=activation, w_std=1.2, b_std=0.2, block_size=1000)
    small = fc_kernels(x1, x2, depth=2, activation=activation, w_std=1.2, b_std=0.2, block_size=5)
    np.testing.assert_array_equal(big.nngp, small.nngp)
    np.testing.assert_array_equal(big.ntk, small.ntk)
    sym_big = fc_kernels(x1, depth=2, activation=activation, w_std=1.2, b_std=0.2, block_size=1000)
    sym_small = fc_kernels(x1, depth=2, activation=activation, w_std=1.2, b_std=0.2, block_size=6)
    # the symmetric path computes off-diagonal blocks with other matmul shapes (other BLAS rounding)
    np.testing.assert_allclose(sym_small.ntk, sym_big.ntk, rtol=BACKEND_RTOL)
    blocks = list(fc_kernel_blocks(x1, depth=2, activation=activation, w_std=1.2, b_std=0.2, block_size=10))
    assert all(c.start >= r.start for r, c, _, _ in blocks)


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_cross_kernel_agrees_with_symmetric_kernel_off_diagonal(activation):
    x = _data(15, 3, seed=8)
    sym = fc_kernels(x, depth=2, activation=activation, w_std=1.3, b_std=0.4)
    cross = fc_kernels(x[:7], x[7:], depth=2, activation=activation, w_std=1.3, b_std=0.4)
    np.testing.assert_allclose(cross.nngp, sym.nngp[:7, 7:], rtol=1e-14)
    np.testing.assert_allclose(cross.ntk, sym.ntk[:7, 7:], rtol=1e-14)


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_numpy_and_torch_backends_agree(activation):
    torch = pytest.importorskip("torch")
    x1, x2 = _data(30, 5, seed=9), _data(11, 5, seed=10)
    for xb in (None, x2):
        a = fc_kernels(x1, xb, depth=3, activation=activation, w_std=1.5, b_std=0.1)
        b = fc_kernels(x1, xb, depth=3, activation=activation, w_std=1.5, b_std=0.1, backend="torch", block_size=8)
        assert isinstance(b.ntk, torch.Tensor) and b.ntk.dtype == torch.float64
        np.testing.assert_allclose(b.nngp.numpy(), a.nngp, rtol=BACKEND_RTOL)
        np.testing.assert_allclose(b.ntk.numpy(), a.ntk, rtol=BACKEND_RTOL)


def test_zero_input_gives_finite_kernels():
    x = np.array([[0.0, 0.0], [1.0, -2.0]])
    for act in ("relu", "erf"):
        res = fc_kernels(x, depth=2, activation=act, w_std=1.0, b_std=0.0)
        assert np.all(np.isfinite(res.nngp)) and np.all(np.isfinite(res.ntk))
        assert res.nngp[0, 0] == 0.0


def test_max_learning_rate_is_2n_over_largest_eigenvalue():
    x = _data(10, 3, seed=11)
    theta = fc_kernels(x, depth=1, w_std=1.0, b_std=0.1).ntk
    assert math.isclose(max_learning_rate(theta, 2), 2 * 10 * 2 / np.linalg.eigvalsh(theta)[-1], rel_tol=1e-14)


@pytest.mark.parametrize(
    ("theta", "match"),
    [
        ([[1.0, 2.0], [2.0, 1.0]], "not positive semi-definite"),  # eigenvalues 3 and -1 (was accepted: 1.333)
        ([[1.0, 0.5], [0.0, 1.0]], "not symmetric"),
        ([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], "symmetric"),
    ],
)
def test_max_learning_rate_refuses_matrices_that_are_not_kernels(theta, match):
    with pytest.raises(ValueError, match=match):
        max_learning_rate(theta)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x2": np.ones((3, 4))}, "same number of features"),
        ({"depth": -1}, "depth must be an integer >= 0"),
        ({"depth": 1.5}, "depth must be an integer >= 0"),
        ({"activation": "swish"}, "activation must be one of"),
        ({"w_std": -1.0}, "w_std must be >= 0"),
        ({"b_std": -0.1}, "b_std must be >= 0"),
        ({"w_std": float("nan")}, "w_std must be finite"),
        ({"backend": "jax"}, "backend must be one of"),
        ({"block_size": 0}, "block_size must be an integer >= 1"),
        ({"threads": 0}, r"threads \(or None: one per CPU\) must be an integer >= 1"),
        ({"device": "cuda"}, "needs backend=.torch."),
    ],
)
def test_bad_arguments_raise_clear_value_errors(kwargs, match):
    args = {"depth": 1, "activation": "relu", "w_std": 1.0, "b_std": 0.1}
    args.update(kwargs)
    x2 = args.pop("x2", None)
    with pytest.raises(ValueError, match=match):
        fc_kernels(np.ones((2, 3)), x2, **args)


def test_non_finite_or_misshaped_inputs_raise():
    x = np.ones((3, 2))
    x[1, 1] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        fc_kernels(x, depth=1, w_std=1.0, b_std=0.0)
    with pytest.raises(ValueError, match="2-D"):
        fc_kernels(np.ones(4), depth=1, w_std=1.0, b_std=0.0)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_exactly_coincident_points_are_exact_in_cross_kernels_and_duplicates(backend):
    pytest.importorskip("torch")
    x = _data(8, 32, seed=12)
    x[6] = x[2]  # a duplicate inside x1
    x2 = np.concatenate([x[[2, 5]], _data(3, 32, seed=13)])
    for xb in (None, x2):
        res = fc_kernels(x, xb, depth=3, activation="relu", w_std=1.2, b_std=0.1, backend=backend)
        nngp = np.asarray(res.nngp)
        ntk = np.asarray(res.ntk)
        want_nngp, want_ntk = fc_kernel_entry(x[2], x[2], depth=3, activation="relu", w_std=1.2, b_std=0.1)
        i, j = (2, 6) if xb is None else (6, 0)
        assert abs(nngp[i, j] - want_nngp) <= 1e-15 * 4 * abs(want_nngp)
        assert abs(ntk[i, j] - want_ntk) <= 1e-15 * 4 * abs(want_ntk)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("b_std", [0.0, 0.3])
@pytest.mark.parametrize("scale", [1e150, 1e-150])
def test_relu_kernels_of_extreme_inputs_match_50_digit_recursion(scale, b_std, backend):
    """ReLU nets are positively homogeneous (K(c x; b) = c^2 K(x; b / c)): inputs ~1e150, whose
    kernels ~1e300 are representable, come out finite and as accurate as ordinary ones (issue 21)."""
    x = _data(6, 5, seed=11) * scale
    x2 = _data(3, 5, seed=12) * scale
    for res, right in (
        (fc_kernels(x, depth=2, activation="relu", w_std=1.3, b_std=b_std, backend=backend), x),
        (fc_kernels(x, x2, depth=2, activation="relu", w_std=1.3, b_std=b_std, backend=backend), x2),
    ):
        nngp_m, ntk_m = np.asarray(res.nngp), np.asarray(res.ntk)
        for i, j in [(0, 0), (0, 1), (4, 2)]:
            nngp, ntk = fc_kernel_entry(x[i], right[j], depth=2, activation="relu", w_std=1.3, b_std=b_std)
            assert abs(nngp_m[i, j] - nngp) <= ORACLE_RTOL * abs(nngp), (i, j)
            assert abs(ntk_m[i, j] - ntk) <= ORACLE_RTOL * abs(ntk), (i, j)


@pytest.mark.parametrize(
    ("activation", "scale"), [("relu", 1e160), ("gelu", 1e160)]
)
def test_kernels_that_overflow_raise_instead_of_nan(activation, scale):
    """ReLU and GELU at 1e160 have kernels ~1e320 (not a float64): both refuse. (erf is bounded: its
    inputs up to ~1e300 carry their scale and are exact, tests/ntk/test_accuracy.py.)"""
    x = _data(4, 3, seed=5) * scale
    with pytest.raises(ValueError, match=r"overflow float64|not float64 numbers"):
        fc_kernels(x, depth=2, activation=activation, w_std=1.3, b_std=0.1)
