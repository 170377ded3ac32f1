"""Infinite-ensemble dynamics (theory.md 4.1): limits, a literal closed-form oracle, singular NTKs, bad inputs."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from scipy.linalg import expm

from ibtheory.ntk import ensemble_prediction, fc_kernels

#: Eigenbasis algorithm vs the literal expm/solve formula on a well-conditioned kernel
#: (condition number ~1e3: the literal route loses ~cond * eps).
LITERAL_RTOL = 1e-10
#: Limits that hold exactly in exact arithmetic; float64 round-off of n x n products.
LIMIT_ATOL = 1e-12

ARCH = {"depth": 2, "activation": "relu", "w_std": 1.5, "b_std": 0.1}


def _problem(n=12, m=5, d=4, k=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, k)), rng.normal(size=(m, d))


def _literal(xtr, ytr, xte, t, lr, arch):
    """theory.md 4.1 typed literally: Theta^{-1} by solve, E_t by scipy expm."""
    n, k = ytr.shape
    kk = fc_kernels(np.concatenate([xtr, xte]), **arch)
    K, T = kk.nngp[:n, :n], kk.ntk[:n, :n]
    Kx, Tx, Kxx = kk.nngp[n:, :n], kk.ntk[n:, :n], kk.nngp[n:, n:]
    E = np.eye(n) - expm(-lr * T * t / (n * k))
    A = Tx @ np.linalg.solve(T, E)
    mean = A @ ytr
    cov = Kxx + A @ K @ A.T - (A @ Kx.T + Kx @ A.T)
    return mean, cov


def test_matches_literal_closed_form_at_finite_times():
    xtr, ytr, xte = _problem()
    res = ensemble_prediction(xtr, ytr, xte, [0.5, 7.0, 300.0], learning_rate=0.9, **ARCH)
    for i, t in enumerate(res.times):
        mean, cov = _literal(xtr, ytr, xte, t, 0.9, ARCH)
        np.testing.assert_allclose(res.mean[i], mean, rtol=LITERAL_RTOL, atol=LITERAL_RTOL * np.abs(mean).max())
        np.testing.assert_allclose(res.cov[i], cov, rtol=LITERAL_RTOL, atol=LITERAL_RTOL * np.abs(cov).max())


def test_time_zero_gives_zero_mean_and_nngp_covariance():
    xtr, ytr, xte = _problem()
    res = ensemble_prediction(xtr, ytr, xte, [0.0], learning_rate=1.0, **ARCH)
    assert np.all(res.mean[0] == 0)
    np.testing.assert_allclose(res.cov[0], res.k_test_test, rtol=0, atol=LIMIT_ATOL)
    on_train = ensemble_prediction(xtr, ytr, None, [0.0], learning_rate=1.0, **ARCH)
    np.testing.assert_allclose(on_train.cov[0], on_train.k_train_train, rtol=1e-13, atol=LIMIT_ATOL)


def test_infinite_time_fits_training_targets_with_zero_variance():
    xtr, ytr, _ = _problem()
    res = ensemble_prediction(xtr, ytr, None, [np.inf], learning_rate=1.0, **ARCH)
    np.testing.assert_allclose(res.mean[0], ytr, rtol=0, atol=LIMIT_ATOL)
    assert np.max(np.abs(res.cov[0])) <= LIMIT_ATOL
    # Test inputs equal to training inputs give the same limit through the general formula.
    gen = ensemble_prediction(xtr, ytr, xtr, [np.inf], learning_rate=1.0, **ARCH)
    np.testing.assert_allclose(gen.mean[0], ytr, atol=1e-9)


def test_long_finite_time_approaches_infinite_time():
    xtr, ytr, xte = _problem()
    res = ensemble_prediction(xtr, ytr, xte, [1e9, np.inf], learning_rate=1.0, **ARCH)
    np.testing.assert_allclose(res.mean[0], res.mean[1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.cov[0], res.cov[1], rtol=1e-9, atol=1e-12)


def test_tiny_times_are_first_order_accurate_via_expm1():
    """mean(t) = tau Theta_x Y + O(tau^2): 1 - exp(-x) computed without cancellation."""
    xtr, ytr, xte = _problem()
    t = 1e-10
    res = ensemble_prediction(xtr, ytr, xte, [t], learning_rate=1.0, **ARCH)
    n, k = ytr.shape
    first_order = (t / (n * k)) * res.ntk_test_train @ ytr
    np.testing.assert_allclose(res.mean[0], first_order, rtol=1e-8)


def test_mean_matches_50_digit_mpmath_route_on_ill_conditioned_kernel():
    """Near-duplicate training points make Theta ill-conditioned (cond ~1e9); the eigenbasis
    route keeps the train-set mean E_t Y accurate (it is bounded by |Y|)."""
    xtr, ytr, _ = _problem(n=6, seed=2)
    xtr[1] = xtr[0] + 1e-5
    res = ensemble_prediction(xtr, ytr, None, [50.0], learning_rate=1.0, **ARCH)
    theta = res.ntk_train_train
    with mpmath.workdps(50):
        T = mpmath.matrix(theta.tolist()) * mpmath.mpf(50.0) / (6 * 2)
        E = mpmath.eye(6) - mpmath.expm(-T)
        want = E * mpmath.matrix(ytr.tolist())
        want = np.array(want.tolist(), dtype=float)
    np.testing.assert_allclose(res.mean[0], want, atol=1e-12)


def test_duplicate_training_points_finite_times_ok_infinite_time_needs_regulariser():
    xtr, ytr, xte = _problem()
    xtr[3] = xtr[2]
    ytr[3] = ytr[2]
    res = ensemble_prediction(xtr, ytr, xte, [0.0, 10.0, 1e4], learning_rate=1.0, **ARCH)
    assert np.all(np.isfinite(res.mean)) and np.all(np.isfinite(res.cov))
    with pytest.raises(ValueError, match=r"singular.*diag_reg"):
        ensemble_prediction(xtr, ytr, xte, [np.inf], learning_rate=1.0, **ARCH)
    reg = ensemble_prediction(xtr, ytr, xte, [np.inf], learning_rate=1.0, diag_reg=1e-8, **ARCH)
    assert np.all(np.isfinite(reg.mean)) and np.all(np.isfinite(reg.cov))


def test_result_exposes_the_kernels_it_used():
    xtr, ytr, xte = _problem()
    res = ensemble_prediction(xtr, ytr, xte, [1.0], learning_rate=1.0, **ARCH)
    kk = fc_kernels(np.concatenate([xtr, xte]), **ARCH)
    np.testing.assert_array_equal(res.ntk_train_train, kk.ntk[:12, :12])
    np.testing.assert_array_equal(res.k_test_train, kk.nngp[12:, :12])
    np.testing.assert_allclose(
        res.ntk_eigenvectors @ np.diag(res.ntk_eigenvalues) @ res.ntk_eigenvectors.T, res.ntk_train_train, atol=1e-12
    )
    assert res.mean.shape == (1, 5, 2) and res.cov.shape == (1, 5, 5)


def test_one_dimensional_targets_are_one_output():
    xtr, ytr, xte = _problem(k=1)
    a = ensemble_prediction(xtr, ytr[:, 0], xte, [3.0], learning_rate=1.0, **ARCH)
    b = ensemble_prediction(xtr, ytr, xte, [3.0], learning_rate=1.0, **ARCH)
    np.testing.assert_array_equal(a.mean, b.mean)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"times": [-1.0]}, "times must be >= 0"),
        ({"times": [np.nan]}, "NaN"),
        ({"learning_rate": -0.1}, "learning_rate must be > 0"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0"),
        ({"diag_reg": -1.0}, "diag_reg must be >= 0"),
        ({"w_std": -1.0}, "w_std must be >= 0"),
        ({"depth": -2}, "depth must be an integer >= 0"),
        ({"activation": "swish"}, "activation must be one of"),
        ({"x_test": np.ones((3, 5))}, "features"),
        ({"y_train": np.ones((11, 2))}, "y_train must have shape"),
        ({"y_train": np.full((12, 2), np.nan)}, "non-finite"),
    ],
)
def test_bad_inputs_raise_clear_value_errors(kwargs, match):
    xtr, ytr, xte = _problem()
    args = {"x_train": xtr, "y_train": ytr, "x_test": xte, "times": [1.0], "learning_rate": 1.0, **ARCH}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        ensemble_prediction(**args)


@pytest.mark.parametrize("times", [("a",), None, [1j]])
def test_times_that_are_not_real_numbers_are_type_errors_naming_times(times):
    # ("a",) gave numpy's "could not convert string to float", which does not say which argument
    xtr, ytr, xte = _problem()
    with pytest.raises(TypeError, match="times"):
        ensemble_prediction(xtr, ytr, xte, times, learning_rate=1.0, **ARCH)
