"""Finite-width ensembles in torch vs the analytic kernels and the infinite-ensemble dynamics.

Monte-Carlo tolerances are statistical: |estimate - analytic| <= K_SE standard errors (+ a stated
finite-width bias where one exists), and the error's shrinkage with width is tested on its own.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from ibtheory.ntk import empirical_kernels, ensemble_prediction, fc_kernels, finite_ensemble

#: Standard errors allowed (16-36 entries per test, each within 5 SE with probability 1 - 6e-7).
K_SE = 5.0
#: Finite-width bias of the mean empirical NTK at depth 2 (not present at depth <= 1, where the
#: first layer's pre-activations are exactly Gaussian): |bias| <= BIAS_C * |Theta| / width, with
#: BIAS_C measured as ~2.8 at widths 32-512 (seed-independent to 10%); 4 leaves margin.
BIAS_C = 4.0
ARCH = {"activation": "relu", "w_std": 1.4, "b_std": 0.2}


def _x(n, d=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_depth_one_empirical_kernels_are_unbiased_within_k_standard_errors(activation):
    x = _x(4)
    arch = {**ARCH, "activation": activation}
    an = fc_kernels(x, depth=1, **arch)
    emp = empirical_kernels(x, n_networks=2000, width=64, depth=1, seed=1, **arch)
    for est, exact in ((emp.nngp, an.nngp), (emp.ntk, an.ntk)):
        se = est.std(axis=0, ddof=1) / np.sqrt(est.shape[0])
        assert np.all(np.abs(est.mean(axis=0) - exact) <= K_SE * se)


def test_depth_two_empirical_ntk_within_standard_errors_plus_width_bias():
    x = _x(4, seed=2)
    an = fc_kernels(x, depth=2, **ARCH)
    width = 128
    emp = empirical_kernels(x, n_networks=600, width=width, depth=2, seed=3, **ARCH)
    se = emp.ntk.std(axis=0, ddof=1) / np.sqrt(emp.ntk.shape[0])
    assert np.all(np.abs(emp.ntk.mean(axis=0) - an.ntk) <= K_SE * se + BIAS_C * np.abs(an.ntk) / width)


def test_empirical_ntk_fluctuation_shrinks_as_one_over_sqrt_width():
    """RMS error of one network's NTK ~ width^(-1/2): widths 32 -> 512 should divide it by ~4."""
    x = _x(4, seed=4)
    an = fc_kernels(x, x, depth=1, **ARCH).ntk
    rms = []
    for width in (32, 512):
        emp = empirical_kernels(x, x, n_networks=600, width=width, depth=1, seed=5, **ARCH)
        rms.append(np.sqrt(np.mean((emp.ntk - an) ** 2)))
    # ratio's sampling error with 600 networks: ~5%; 3.2-5.0 brackets 4 generously.
    assert 3.2 < rms[0] / rms[1] < 5.0


def test_empirical_kernels_cross_shapes_and_seed_reproducibility():
    a = empirical_kernels(_x(3), _x(5, seed=1), n_networks=4, width=8, depth=2, seed=7, **ARCH)
    b = empirical_kernels(_x(3), _x(5, seed=1), n_networks=4, width=8, depth=2, seed=7, **ARCH)
    assert a.ntk.shape == (4, 3, 5) and a.nngp.shape == (4, 3, 5)
    np.testing.assert_array_equal(a.ntk, b.ntk)


def _cov_se(cov, m):
    """Standard error of a sample covariance entry for Gaussian data: sqrt((S_ii S_jj + S_ij^2)/(m-1))."""
    d = np.diagonal(cov, axis1=-2, axis2=-1)
    return np.sqrt((d[..., :, None] * d[..., None, :] + cov**2) / (m - 1))


def test_trained_finite_ensemble_matches_infinite_ensemble_within_standard_errors():
    xtr, xte = _x(6, seed=8), _x(3, seed=9)
    ytr = np.random.default_rng(10).normal(size=(6, 1))
    times = [0.0, 5.0, 50.0]
    m = 300
    ep = ensemble_prediction(xtr, ytr, xte, times, depth=1, learning_rate=1.0, **ARCH)
    fe = finite_ensemble(
        xtr, ytr, xte, times, n_networks=m, width=256, depth=1, learning_rate=1.0, seed=11, dt=0.5, **ARCH
    )
    np.testing.assert_array_equal(fe.times, times)
    se_mean = np.sqrt(np.diagonal(ep.cov, axis1=1, axis2=2) / m)
    # width 256: the lazy-training error of the mean is O(1/sqrt(width)) per network but averages
    # out; the stated extra allowance 0.05 * |Y| covers the O(1/width) drift of the kernel.
    assert np.all(np.abs(fe.mean[..., 0] - ep.mean[..., 0]) <= K_SE * se_mean + 0.05 * np.abs(ytr).max())
    assert np.all(np.abs(fe.cov - ep.cov) <= K_SE * _cov_se(ep.cov, m) + 0.05 * np.abs(ep.cov).max())
    assert np.all(np.diff(fe.train_loss.mean(axis=1)) < 0)  # training lowers the loss


@pytest.mark.slow
def test_wide_depth_two_ensemble_converges_to_infinite_ensemble_as_width_grows():
    """Depth 2, widths 32 -> 256: the trained ensemble approaches ensemble_prediction.

    learning_rate 0.5 is about half of eta_max = 2n/lambda_max (0.96 here) and dt = 0.25 makes the
    per-step change of every NTK mode <= 0.26 (gradient descent close to gradient flow). At width
    256 the mean and covariance agree within K_SE standard errors plus BIAS_C/width; the late-time
    error must shrink at least by 2 from width 32 (measured: ~4x for the mean, ~10x for the
    covariance; O(1/width) predicts 8x).
    """
    xtr, xte = _x(8, seed=12), _x(4, seed=13)
    ytr = np.random.default_rng(14).normal(size=(8, 1))
    times = [2.0, 10.0, 40.0]
    m = 200
    ep = ensemble_prediction(xtr, ytr, xte, times, depth=2, learning_rate=0.5, **ARCH)
    se_mean = np.sqrt(np.diagonal(ep.cov, axis1=1, axis2=2) / m)
    errs = []
    for width in (32, 256):
        fe = finite_ensemble(
            xtr, ytr, xte, times, n_networks=m, width=width, depth=2, learning_rate=0.5, seed=15, dt=0.25, **ARCH
        )
        mean_err = np.abs(fe.mean[..., 0] - ep.mean[..., 0])
        cov_err = np.abs(fe.cov - ep.cov)
        errs.append((mean_err[-1].max(), cov_err[-1].max()))
    assert np.all(mean_err <= K_SE * se_mean + BIAS_C / 256 * np.abs(ytr).max())
    assert np.all(cov_err <= K_SE * _cov_se(ep.cov, m) + BIAS_C / 256 * np.abs(ep.cov).max())
    assert errs[1][0] < errs[0][0] / 2 and errs[1][1] < errs[0][1] / 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"times": [-1.0]}, "times must be >= 0"),
        ({"times": [np.inf]}, "finite"),
        ({"times": [1e20]}, r"times must need at most MAX_STEPS = 1000000000"),
        ({"times": [1.0, 1e9 + 1.0]}, r"times must need at most MAX_STEPS"),
        ({"y_train": np.array([1.0, np.inf, 0.0, 1.0])}, "y_train contains a non-finite value"),
        ({"y_train": np.array([1.0, -np.inf, 0.0, 1.0])}, "y_train contains a non-finite value"),
        ({"y_train": np.array([1.0, np.nan, 0.0, 1.0])}, "y_train contains a non-finite value"),
        ({"learning_rate": -1.0}, "learning_rate must be > 0"),
        ({"width": 0}, "width must be an integer >= 1"),
        ({"n_networks": 0}, "n_networks must be an integer >= 1"),
        ({"seed": None}, r"seed \(explicit seeds only\) must be an integer"),
        ({"depth": -1}, "depth must be an integer >= 0"),
        ({"activation": "swish"}, "activation must be one of"),
        ({"b_std": -1.0}, "b_std must be >= 0"),
        ({"x_test": np.ones((2, 4))}, "features"),
    ],
)
def test_finite_ensemble_bad_inputs_raise(kwargs, match):
    args = {
        "x_train": _x(4), "y_train": np.ones(4), "x_test": None, "times": [1.0], "n_networks": 2, "width": 4,
        "depth": 1, "learning_rate": 1.0, "seed": 0, **ARCH,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        finite_ensemble(**args)
