"""Exact GP inference with the NNGP / NTK: against 50-digit mpmath linear algebra, against the
trained ensemble at t = inf, against scipy's multivariate normal, and by Monte Carlo."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import scipy.stats

from ibtheory.ntk import ensemble_prediction, fc_kernels, gp_inference

NET = {"depth": 2, "activation": "relu", "w_std": 1.4, "b_std": 0.2}
#: Cholesky (float64) vs mpmath LU at 50 digits on small well-conditioned kernels: ~cond * eps.
DIRECT_RTOL = 1e-10
#: gp_inference (Cholesky) vs ensemble_prediction (eigendecomposition): two float64 routes.
ROUTE_RTOL = 1e-9


def _data(seed: int, n: int = 6, m: int = 4, d: int = 3, k: int = 2):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, k)), rng.normal(size=(m, d))


def _mp(a: np.ndarray) -> mpmath.matrix:
    return mpmath.matrix(a.tolist())


def _close(got: np.ndarray, want: mpmath.matrix, rtol: float) -> None:
    want_np = np.array(want.tolist(), dtype=float)
    scale = max(float(np.abs(want_np).max()), 1e-300)
    assert np.abs(got - want_np).max() <= rtol * scale


def test_nngp_posterior_and_log_marginal_likelihood_match_mpmath_formulas():
    xtr, ytr, xte = _data(0)
    reg = 1e-3
    post = gp_inference(xtr, ytr, xte, kernel="nngp", diag_reg=reg, **NET)
    kern = fc_kernels(np.concatenate([xtr, xte]), **NET)
    n = xtr.shape[0]
    k, kx, kxx = kern.nngp[:n, :n], kern.nngp[n:, :n], kern.nngp[n:, n:]
    with mpmath.workdps(50):
        s2 = mpmath.mpf(reg) * mpmath.fsum(mpmath.mpf(float(v)) for v in np.diag(k)) / n
        a = _mp(k) + s2 * mpmath.eye(n)
        a_inv = mpmath.inverse(a)  # LU, not Cholesky
        mean = _mp(kx) * a_inv * _mp(ytr)
        cov = _mp(kxx) - _mp(kx) * a_inv * _mp(kx).T
        lml = mpmath.mpf(0)
        for c in range(ytr.shape[1]):
            yc = _mp(ytr[:, c])
            lml += -(yc.T * a_inv * yc)[0] / 2 - mpmath.log(mpmath.det(a)) / 2 - n * mpmath.log(2 * mpmath.pi) / 2
    assert math.isclose(post.noise_variance, float(s2), rel_tol=1e-15)
    _close(post.mean, mean, DIRECT_RTOL)
    _close(post.cov, cov, DIRECT_RTOL)
    assert abs(post.log_marginal_likelihood - float(lml)) <= DIRECT_RTOL * abs(float(lml))


def test_log_marginal_likelihood_is_the_sum_of_multivariate_normal_log_densities():
    xtr, ytr, _ = _data(1, n=8, k=3)
    post = gp_inference(xtr, ytr, kernel="nngp", diag_reg=0.05, **NET)
    cov = post.k_train_train + post.noise_variance * np.eye(8)
    want = [scipy.stats.multivariate_normal(np.zeros(8), cov).logpdf(ytr[:, c]) for c in range(3)]
    np.testing.assert_allclose(post.log_marginal_likelihood_per_output, want, rtol=1e-12)
    assert math.isclose(post.log_marginal_likelihood, sum(want), rel_tol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("reg", [0.0, 1e-4])
def test_ntk_posterior_is_the_trained_ensemble_at_infinite_time(activation, reg):
    xtr, ytr, xte = _data(2)
    net = dict(NET, activation=activation)
    post = gp_inference(xtr, ytr, xte, kernel="ntk", diag_reg=reg, **net)
    ens = ensemble_prediction(xtr, ytr, xte, [np.inf], learning_rate=1.0, diag_reg=reg, **net)
    scale = np.abs(ens.cov[0]).max()
    assert np.abs(post.mean - ens.mean[0]).max() <= ROUTE_RTOL * np.abs(ens.mean[0]).max()
    assert np.abs(post.cov - ens.cov[0]).max() <= ROUTE_RTOL * scale
    assert post.log_marginal_likelihood is None


def test_ntk_posterior_matches_mpmath_formula():
    xtr, ytr, xte = _data(3)
    post = gp_inference(xtr, ytr, xte, kernel="ntk", diag_reg=1e-3, **NET)
    n = xtr.shape[0]
    kern = fc_kernels(np.concatenate([xtr, xte]), **NET)
    k, kx, kxx = kern.nngp[:n, :n], kern.nngp[n:, :n], kern.nngp[n:, n:]
    th, thx = kern.ntk[:n, :n], kern.ntk[n:, :n]
    with mpmath.workdps(50):
        reg = mpmath.mpf(1e-3) * mpmath.fsum(mpmath.mpf(float(v)) for v in np.diag(th)) / n
        inv = mpmath.inverse(_mp(th) + reg * mpmath.eye(n))
        g = _mp(thx) * inv
        mean = g * _mp(ytr)
        cov = _mp(kxx) + g * _mp(k) * g.T - g * _mp(kx).T - _mp(kx) * g.T
    _close(post.mean, mean, DIRECT_RTOL)
    _close(post.cov, cov, DIRECT_RTOL)


def test_nngp_posterior_is_the_conditional_of_the_joint_gaussian_by_monte_carlo():
    """Sample (f(X) + noise, f(x)) from the prior; the least-squares regression of f(x) on the
    noisy training outputs estimates the posterior mean map K_x (K + s^2)^{-1} and the residual
    covariance estimates the posterior covariance (CLT tolerances)."""
    xtr, _, xte = _data(4, n=3, m=2, d=2)
    post = gp_inference(xtr, np.zeros(3), xte, kernel="nngp", diag_reg=0.1, **NET)
    n, m = 3, 2
    joint = np.block([[post.k_train_train, post.k_test_train.T], [post.k_test_train, post.k_test_test]])
    rng = np.random.default_rng(7)
    samples = 400_000
    f = rng.multivariate_normal(np.zeros(n + m), joint, size=samples)
    yobs = f[:, :n] + math.sqrt(post.noise_variance) * rng.normal(size=(samples, n))
    coef, *_ = np.linalg.lstsq(yobs, f[:, n:], rcond=None)  # (n, m): E[f(x) | y] = coef^T y
    resid = f[:, n:] - yobs @ coef
    cov_mc = resid.T @ resid / samples
    want_map = np.linalg.solve(post.k_train_train + post.noise_variance * np.eye(n), post.k_test_train.T)
    # standard errors: regression coefficients ~ sqrt(resid var / (samples var(y))); covariance ~ sqrt(2/samples)
    se_map = math.sqrt(np.max(np.diag(post.cov)) / (samples * np.min(np.linalg.eigvalsh(post.k_train_train))))
    assert np.abs(coef - want_map).max() <= 5 * se_map
    se_cov = math.sqrt(2 / samples) * np.max(np.diag(post.cov))
    assert np.abs(cov_mc - post.cov).max() <= 5 * se_cov


def test_training_set_posterior_without_regulariser_is_the_targets_with_zero_variance():
    xtr, ytr, _ = _data(5)
    for kernel in ("nngp", "ntk"):
        post = gp_inference(xtr, ytr, kernel=kernel, **NET)
        np.testing.assert_array_equal(post.mean, ytr)
        np.testing.assert_array_equal(post.cov, np.zeros((6, 6)))
    reg = gp_inference(xtr, ytr, kernel="nngp", diag_reg=0.1, **NET)
    assert np.all(np.diag(reg.cov) > 0) and not np.allclose(reg.mean, ytr)


def test_duplicate_training_points_need_a_regulariser():
    xtr, ytr, xte = _data(6)
    xtr[1] = xtr[0]
    with pytest.raises(ValueError, match=r"not positive definite.*diag_reg > 0"):
        gp_inference(xtr, ytr, xte, kernel="nngp", **NET)
    post = gp_inference(xtr, ytr, xte, kernel="ntk", diag_reg=1e-6, **NET)
    assert np.all(np.isfinite(post.mean))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kernel": "gp"}, "kernel must be one of"),
        ({"diag_reg": -1.0}, "diag_reg must be >= 0"),
        ({"x_test": np.ones((2, 5))}, "x_test must be a 2-D array with 3 features"),
        ({"y_train": np.ones(5)}, "y_train must have shape"),
    ],
)
def test_bad_arguments_raise_value_errors(kwargs, match):
    xtr, ytr, xte = _data(8)
    args = {"x_train": xtr, "y_train": ytr, "x_test": xte, **NET}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        gp_inference(**args)
