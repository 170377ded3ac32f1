"""Information in infinite ensembles (Shwartz-Ziv & Alemi; theory.md 4.2-4.5; issue 6).

Independent routes: Monte Carlo sampling of the Gaussian channel Z | x (I(X;Z), I(Z;Y) with
standard-error tolerances), scipy/numpy log-densities for the Gibbs / Bayes / KL terms, the t = 0
and t -> inf limits, and a trained finite-width ensemble as the width grows.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from ibtheory.models import digits_data, npz_data, synthetic_data
from ibtheory.ntk import (
    ensemble_information,
    ensemble_prediction,
    finite_ensemble,
    generalisation_signals,
    information_vs_train_size,
    information_vs_w_std,
    output_information,
)
from ibtheory.testing import pairwise_rounding

ARCH: dict[str, Any] = dict(depth=2, activation="erf", w_std=1.5, b_std=0.05, learning_rate=1.0)
TIMES = np.array([0.0, 1.0, 10.0, 100.0, 1e3, np.inf])
#: Float64 agreement of two routes through Cholesky solves of well-conditioned 20x20 matrices.
RTOL = 1e-9
#: Monte Carlo tolerance in standard errors (a 5-sigma miss has probability ~6e-7).
N_SIGMA = 5.0


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True) * math.sqrt(x.shape[1])


@pytest.fixture(scope="module")
def data():
    d = synthetic_data(24, 20, n_classes=3, dim=6, spread=0.6, seed=0)
    return _unit_rows(d.x_train), d.y_train, _unit_rows(d.x_test), d.labels_test


@pytest.fixture(scope="module")
def info(data):
    return ensemble_information(*data, TIMES, **ARCH)


def test_shapes_and_names(info):
    for name in ("i_xz_lower", "i_xz_upper", "i_zy_lower", "i_zy_upper", "h_z_given_x", "infonce_lower",
                 "infonce_upper", "gibbs_loss_train", "gibbs_loss_test", "bayes_loss_train", "bayes_loss_test",
                 "kl_to_prior"):
        assert getattr(info, name).shape == TIMES.shape, name
        assert np.all(np.isfinite(getattr(info, name))), name


def test_t0_limit_prior_and_no_information(data, info):
    # equal-norm inputs: at t = 0 every z | x ~ N(0, K(x,x) I) with one common K(x,x): I = 0 exactly.
    pred = ensemble_prediction(data[0], data[1], data[2], [0.0], **{k: v for k, v in ARCH.items()})
    kxx = np.diag(pred.k_test_test)
    np.testing.assert_allclose(kxx, kxx[0], rtol=1e-13)
    for name in ("i_xz_lower", "i_xz_upper", "i_zy_lower", "i_zy_upper", "infonce_lower", "infonce_upper"):
        assert abs(getattr(info, name)[0]) < 1e-10, name
    assert abs(info.kl_to_prior[0]) < 1e-9
    k = data[1].shape[1]
    assert info.h_z_given_x[0] == pytest.approx(0.5 * k * math.log(2 * math.pi * math.e * kxx[0]), rel=1e-13)


def test_t_inf_limit(data, info):
    late = ensemble_information(*data, [1e14], **ARCH)
    for name in ("i_xz_lower", "i_xz_upper", "i_zy_upper", "h_z_given_x", "gibbs_loss_test", "bayes_loss_test", "kl_to_prior"):
        assert getattr(late, name)[0] == pytest.approx(getattr(info, name)[-1], rel=1e-6), name
    # on the training set the converged ensemble interpolates: mean Y, variance 0, so both
    # likelihoods are sum over outputs of ln N(0; 0, 1) = -(k/2) ln 2 pi.
    k = data[1].shape[1]
    assert info.gibbs_loss_train[-1] == pytest.approx(-0.5 * k * math.log(2 * math.pi), rel=1e-9)
    assert info.bayes_loss_train[-1] == pytest.approx(-0.5 * k * math.log(2 * math.pi), rel=1e-9)


def test_bayes_at_least_gibbs(info):
    assert np.all(info.bayes_loss_train >= info.gibbs_loss_train - 1e-12)
    assert np.all(info.bayes_loss_test >= info.gibbs_loss_test - 1e-12)


def test_orderings(data, info):
    """The UNCLIPPED pairwise bounds obey 0 <= I_BD <= I_KL <= ln N and, for I(Z;Y), lower <= upper
    and 0 <= I(Z;Y) <= H(Y), up to the round-off of the pairwise terms at each time."""
    log_n = math.log(info.n_eval)
    pred = ensemble_prediction(data[0], data[1], data[2], TIMES, **ARCH)
    var = np.diagonal(pred.cov, axis1=1, axis2=2)
    tol = np.array([pairwise_rounding(m, v) for m, v in zip(pred.mean, var, strict=True)])
    p_y = np.bincount(data[3]) / data[3].size
    h_y = float(-np.sum(p_y[p_y > 0] * np.log(p_y[p_y > 0])))
    assert np.all(-tol <= info.i_xz_lower_raw) and np.all(info.i_xz_lower_raw <= info.i_xz_upper_raw + tol)
    assert np.all(info.i_xz_upper_raw <= log_n + tol)
    assert np.all(info.i_zy_lower_raw <= info.i_zy_upper_raw + tol)
    assert np.all(info.i_zy_upper_raw >= -tol) and np.all(info.i_zy_lower_raw <= h_y + tol)
    # the public values are the raw ones clipped as documented
    np.testing.assert_allclose(info.i_xz_lower, np.clip(info.i_xz_lower_raw, 0.0, log_n), rtol=0, atol=1e-15)
    np.testing.assert_allclose(info.i_zy_lower, np.maximum(info.i_zy_lower_raw, 0.0), rtol=0, atol=float(tol.max()))
    assert np.all(info.infonce_lower <= log_n + 1e-12)  # not clipped: ln N + mean(s_ii - lse_j s_ij)
    assert np.all(info.kl_to_prior >= -1e-9)
    # information grows with training here: compression is not expected for this kernel regression.
    assert info.i_xz_upper[-1] > info.i_xz_upper[1]


def _channel(data, t):
    pred = ensemble_prediction(data[0], data[1], data[2], [t], **ARCH)
    return pred, pred.mean[0], np.diag(pred.cov[0]).copy()


def test_losses_and_kl_against_scipy(data):
    t = 37.0
    pred, mean, var = _channel(data, t)
    info = ensemble_information(*data, [t], **ARCH)
    codes = np.eye(data[1].shape[1])[data[3]]  # one-hot targets of the eval labels
    gibbs = np.mean(np.sum(-0.5 * (codes - mean) ** 2 - 0.5 * var[:, None] - 0.5 * math.log(2 * math.pi), axis=1))
    cov = pred.cov[0]
    n = cov.shape[0]
    bayes = sum(multivariate_normal(mean[:, c], cov + np.eye(n)).logpdf(codes[:, c]) for c in range(codes.shape[1])) / n
    assert info.gibbs_loss_test[0] == pytest.approx(gibbs, rel=RTOL)
    assert info.bayes_loss_test[0] == pytest.approx(bayes, rel=RTOL)
    prior = pred.k_test_test
    inv = np.linalg.inv(prior)
    kl = np.mean([
        0.5 * (np.trace(inv @ cov) + mean[:, c] @ inv @ mean[:, c] - n
               + np.linalg.slogdet(prior)[1] - np.linalg.slogdet(cov)[1])
        for c in range(codes.shape[1])
    ])
    # the KL adds a 1e-10 relative jitter to both covariances (KL_JITTER)
    assert info.kl_to_prior[0] == pytest.approx(kl, rel=1e-5)


def test_information_bounds_against_monte_carlo(data):
    _, mean, var = _channel(data, 25.0)
    info = output_information(mean, var, data[3])
    rng = np.random.default_rng(1)
    n, k = mean.shape
    n_mc = 30_000
    idx = rng.integers(n, size=n_mc)
    z = mean[idx] + np.sqrt(var[idx])[:, None] * rng.standard_normal((n_mc, k))
    logp = -0.5 * ((z[:, None] - mean[None]) ** 2).sum(-1) / var[None] - 0.5 * k * np.log(2 * np.pi * var[None])
    log_pz = logsumexp(logp, axis=1) - math.log(n)
    labels = data[3]
    log_pzy = np.empty(n_mc)
    for c in np.unique(labels):
        rows = labels == c
        sel = labels[idx] == c
        log_pzy[sel] = logsumexp(logp[sel][:, rows], axis=1) - math.log(rows.sum())
    i_xz = logp[np.arange(n_mc), idx] - log_pz
    i_zy = log_pzy - log_pz
    for est, lo, hi in ((i_xz, "i_xz_lower", "i_xz_upper"), (i_zy, "i_zy_lower", "i_zy_upper")):
        m, se = est.mean(), est.std(ddof=1) / math.sqrt(n_mc)
        assert info[lo + "_raw"] <= m + N_SIGMA * se, lo
        assert m - N_SIGMA * se <= info[hi + "_raw"], hi
    # InfoNCE / leave-one-out bound I(X;Z) in expectation over the draw: average 200 seeds.
    lo = np.array([output_information(mean, var, labels, seed=s)["infonce_lower"] for s in range(200)])
    hi = np.array([output_information(mean, var, labels, seed=s)["infonce_upper"] for s in range(200)])
    m, se = i_xz.mean(), i_xz.std(ddof=1) / math.sqrt(n_mc)
    assert lo.mean() <= m + N_SIGMA * (se + lo.std(ddof=1) / math.sqrt(200))
    assert hi.mean() >= m - N_SIGMA * (se + hi.std(ddof=1) / math.sqrt(200))


def test_bits_are_nats_over_ln2(data):
    nats = ensemble_information(*data, [5.0], **ARCH)
    bits = ensemble_information(*data, [5.0], **ARCH, units="bits")
    for name, v in nats.as_columns().items():
        if name != "time":
            np.testing.assert_allclose(getattr(bits, name), v / math.log(2), rtol=1e-14, err_msg=name)


def test_finite_width_approaches_analytic_quick():
    _finite_width_check(widths=(2, 128), n_networks=1000, final_tol=0.03)


@pytest.mark.slow
def test_finite_width_approaches_analytic_slow():
    _finite_width_check(widths=(4, 32, 256), n_networks=4000, final_tol=0.015)


def _finite_width_check(widths, n_networks, final_tol):
    """I(X;Z) bounds from M trained finite networks (sample mean / variance of their outputs) vs the
    analytic infinite-width values. The error floor is the sampling error of M networks (~0.01 nats
    at M = 1000, measured), the trend the O(1/width) finite-width bias."""
    d = synthetic_data(8, 8, n_classes=2, dim=4, spread=0.5, seed=1)
    arch: dict[str, Any] = dict(depth=1, activation="erf", w_std=1.5, b_std=0.1, learning_rate=1.0)
    times = [0.0, 20.0, 60.0]
    pred = ensemble_prediction(d.x_train, d.y_train, d.x_test, times, **arch)
    ana = output_information(pred.mean, np.diagonal(pred.cov, axis1=1, axis2=2), d.labels_test)
    errors = []
    for width in widths:
        fe = finite_ensemble(d.x_train, d.y_train, d.x_test, times, n_networks=n_networks, width=width, seed=0, **arch)
        fin = output_information(fe.mean, np.diagonal(fe.cov, axis1=1, axis2=2), d.labels_test)
        errors.append(max(float(np.max(np.abs(fin[k] - ana[k]))) for k in ("i_xz_lower", "i_xz_upper")))
    assert all(b < a for a, b in itertools.pairwise(errors)), errors
    assert errors[-1] < errors[0] / 3, errors
    assert errors[-1] < final_tol, errors


def test_sweeps_and_signals(data):
    sizes = information_vs_train_size(data[0], data[1], data[2], data[3], [3, 12, 24], time=100.0, **ARCH)
    assert sizes["i_xz_upper"].shape == (3,)
    assert np.all(np.diff(sizes["gibbs_loss_test"]) > 0)  # more data, better test likelihood here
    arch = {k: v for k, v in ARCH.items() if k != "w_std"}
    ws = information_vs_w_std(data[0], data[1], data[2], data[3], [0.5, 1.5], [0.0, 10.0], **arch)
    assert ws["i_xz_upper"].shape == (2, 2)
    info = ensemble_information(*data, TIMES, **ARCH)
    sig = generalisation_signals(info)
    assert len(sig.quantities) == len(sig.rho_test_loss) == len(sig.rho_gap)
    assert np.all(np.abs(sig.rho_test_loss) <= 1 + 1e-12)
    # the Bayes test likelihood tracks the (Gibbs) test loss with the opposite sign
    assert sig.rho_test_loss[sig.quantities.index("bayes_loss_test")] < 0


def test_digits_and_npz_loaders(tmp_path):
    d = digits_data(30, 20, seed=0)
    assert d.x_train.shape == (30, 64) and d.y_train.shape == (30, 10)
    assert d.x_train.min() >= -1 and d.x_train.max() <= 1
    path = tmp_path / "mnist_like.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x_train=rng.integers(0, 256, (12, 4, 4)), y_train=np.arange(12) % 3,
             x_test=rng.integers(0, 256, (6, 4, 4)), y_test=np.arange(6) % 3)
    u = npz_data(path, seed=0)
    assert u.x_train.shape == (12, 16) and u.n_classes == 3
    np.testing.assert_allclose(u.y_train.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="lacks the arrays"):
        np.savez(tmp_path / "bad.npz", x_train=np.zeros((2, 2)))
        npz_data(tmp_path / "bad.npz", seed=0)


def test_bad_input(data):
    x, y, xe, le = data
    cases = [
        ((x, y, xe, le[:-1], [1.0]), "labels_eval must be a 1-D array"),
        ((x, y, xe, le + 5, [1.0]), "no training target encodes"),
        ((x, y, xe[:1], le[:1], [1.0]), "at least 2 inputs"),
        ((x, y[:, :1], xe, le * 0, [1.0]), "one column per class"),
        ((x, y, xe[:, :3], le, [1.0]), "x_eval must be a 2-D"),
        ((x, y, np.where(xe == xe[0, 0], np.nan, xe), le, [1.0]), "x_eval contains a non-finite"),
        ((x, y, xe, le, [-1.0]), "times must be >= 0"),
        ((x, y, x[:5], np.argmax(y[:5], axis=1), [np.inf]), "channel is deterministic"),
    ]
    for args, match in cases:
        with pytest.raises(ValueError, match=match):
            ensemble_information(*args, **ARCH)
    with pytest.raises(ValueError, match="units must be"):
        ensemble_information(x, y, xe, le, [1.0], **ARCH, units="bit")
    with pytest.raises(ValueError, match="variances must be > 0"):
        output_information(np.zeros((3, 2)), np.array([1.0, 0.0, 1.0]), [0, 1, 1])


def test_ntk_info_command_writes_csv_and_figure(tmp_path):
    from ibtheory.report._ntk_info import ntk_info_command

    written = ntk_info_command(data="synthetic", n_train=20, n_eval=15, depth=1, activation="relu", w_std=1.4,
                               b_std=0.1, units="bits", out=tmp_path, seed=0)
    assert [p.name for p in written] == ["ntk_info.csv", "ntk_info.png"]
    table = np.genfromtxt(written[0], delimiter=",", names=True)
    assert "i_xz_upper" in table.dtype.names and table.shape[0] > 10
    assert np.all(table["i_xz_upper"] <= math.log2(15) + 1e-9)
    with pytest.raises(ValueError, match="unknown data"):
        ntk_info_command(data="mnist", n_train=20, n_eval=15, depth=1, activation="relu", w_std=1.4,
                         b_std=0.1, units="nats", out=tmp_path, seed=0)


#: Adaptive quadrature of 1-D Gaussian-mixture entropies (smooth integrands, |error| ~ 1e-10).
QUADRATURE_ATOL = 1e-8


def _mixture_entropy_1d(mu: np.ndarray, var: float) -> float:
    from scipy import integrate
    from scipy.stats import norm

    def minus_f_log_f(z: float) -> float:
        f = float(np.mean(norm.pdf(z, mu, math.sqrt(var))))
        return -f * math.log(f) if f > 0 else 0.0

    reach = 12 * math.sqrt(var)
    return integrate.quad(minus_f_log_f, mu.min() - reach, mu.max() + reach, points=sorted(mu), limit=500)[0]


def test_output_information_upper_bound_capped_at_h_y_stays_a_bound():
    # issue 21: the pairwise upper bound on I(Z;Y) exceeded H(Y) = ln 2 here (0.758); capped at H(Y)
    # it is still an upper bound of the truth, I(Z;Y) = H(Z) - sum_y p(y) H(Z|y) by quadrature
    mu = np.array([1.768, 1.36, -1.28, -0.002])
    var, labels = 0.668, np.array([0, 0, 1, 1])
    r = output_information(mu[:, None], np.full(4, var), labels)
    h_y = math.log(2)
    assert r["i_zy_upper_raw"] > h_y  # the case exercises the cap
    truth = _mixture_entropy_1d(mu, var) - 0.5 * (_mixture_entropy_1d(mu[:2], var) + _mixture_entropy_1d(mu[2:], var))
    assert r["i_zy_lower"] - QUADRATURE_ATOL <= truth <= r["i_zy_upper"] + QUADRATURE_ATOL
    assert r["i_zy_upper"] <= h_y


def test_output_information_names_its_own_arguments():
    with pytest.raises(ValueError, match="mean"):
        output_information(np.full((4, 1), np.nan), np.ones(4), np.array([0, 0, 1, 1]))
