"""Exact Gaussian-process inference with the NNGP or NTK of a fully connected network.

``kernel="nngp"``: the Bayesian posterior of the infinitely wide network (Rasmussen & Williams
2006, GPML eqs. 2.25-2.30; theory.md 11.5) with observation-noise variance
s^2 = diag_reg * mean(diag K(X, X)):

    mean = K(x, X) (K + s^2 I)^{-1} Y,     cov = K(x, x') - K(x, X) (K + s^2 I)^{-1} K(X, x'),
    log p(Y) = sum over output columns y of  -1/2 y^T (K + s^2 I)^{-1} y - 1/2 log|K + s^2 I| - n/2 log 2 pi.

``kernel="ntk"``: the infinite ensemble trained by gradient flow to convergence (t = inf; Lee et al.
2019; theory.md 4.1): with Theta_r = Theta(X, X) + diag_reg * mean(diag Theta) I,

    mean = Theta(x, X) Theta_r^{-1} Y,
    cov  = K(x, x') + Theta(x, X) Theta_r^{-1} K Theta_r^{-1} Theta(X, x')
           - (Theta(x, X) Theta_r^{-1} K(X, x') + K(x, X) Theta_r^{-1} Theta(X, x')),

equal to :func:`ibtheory.ntk.ensemble_prediction` at ``times=inf`` with the same ``diag_reg``.

``diag_reg`` follows neural-tangents ``predict.gp_inference(..., diag_reg,
diag_reg_absolute_scale=False)``: it is relative, ``diag_reg * trace(k_train_train) / n`` is added
to the diagonal of the training kernel that is inverted (K for the NNGP, Theta for the NTK); the
NNGP noise variance this amounts to is recorded as ``noise_variance``. Every inverse is a Cholesky
solve (scipy ``cho_factor``); a training kernel that is not positive definite (duplicate training
points with ``diag_reg = 0``) raises ``ValueError`` asking for ``diag_reg > 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg

from ..display import repr_html
from ..numeric import check_finite_array, check_positive
from ._ensemble import SINGULAR_RCOND, check_targets
from ._kernels import fc_kernels

#: The kernels a posterior can be computed with.
GP_KERNELS = ("nngp", "ntk")


@dataclass(frozen=True)
class GPPosterior:
    """The exact GP posterior on the test inputs.

    Attributes
    ----------
    mean:
        (n_test, n_out) posterior mean.
    cov:
        (n_test, n_test) posterior covariance, shared by the output columns (kernels are K (x) I_k).
    kernel:
        ``"nngp"`` (Bayesian posterior) or ``"ntk"`` (gradient flow to t = inf).
    diag_reg:
        As passed (relative: see ``noise_variance``).
    noise_variance:
        The value added to the diagonal of the inverted training kernel: ``diag_reg * mean(diag)``
        of K (``"nngp"``; the observation-noise variance s^2) or of Theta (``"ntk"``).
    log_marginal_likelihood:
        ``"nngp"``: log p(Y | X) = sum over output columns of log N(y; 0, K + s^2 I), in nats
        (GPML eq. 2.30); None for ``"ntk"`` (gradient flow is not a likelihood model).
    log_marginal_likelihood_per_output:
        (n_out,) the per-column terms of that sum (``"nngp"``), else None.
    k_train_train, ntk_train_train:
        (n, n) NNGP and NTK of the training inputs (unregularised).
    k_test_train, ntk_test_train, k_test_test:
        (n_test, n), (n_test, n) and (n_test, n_test) kernels of the test inputs (the training
        blocks again when ``x_test`` was None).
    on_train:
        True when ``x_test`` was None (the posterior at the training inputs).
    """

    mean: np.ndarray
    cov: np.ndarray
    kernel: str
    diag_reg: float
    noise_variance: float
    log_marginal_likelihood: float | None
    log_marginal_likelihood_per_output: np.ndarray | None
    k_train_train: np.ndarray
    ntk_train_train: np.ndarray
    k_test_train: np.ndarray
    ntk_test_train: np.ndarray
    k_test_test: np.ndarray
    on_train: bool
    _repr_html_ = repr_html  # a summary table in Jupyter (ibtheory.display)


def _cholesky(k: np.ndarray, reg: float, name: str) -> tuple[tuple[np.ndarray, bool], float]:
    """Cholesky factor of k + reg * mean(diag k) I, and the value added."""
    n = k.shape[0]
    added = reg * float(np.trace(k)) / n
    a = k + added * np.eye(n)
    try:
        factor = scipy.linalg.cho_factor(a, lower=True, check_finite=True)
        pivots = np.diag(factor[0]) ** 2
        # a pivot at round-off level (vs the largest diagonal entry) means a singular matrix whose
        # factorisation merely did not break down: its solves would be round-off noise
        if float(pivots.min()) > SINGULAR_RCOND * n * np.finfo(float).eps * float(np.max(np.diag(a))):
            return factor, added
    except np.linalg.LinAlgError:
        pass
    raise ValueError(
        f"the training {name} kernel{' plus diag_reg' if reg > 0 else ''} is not positive definite "
        "(duplicate or collinear training points?): pass diag_reg > 0 (e.g. 1e-8), or a larger one"
    )


def gp_inference(
    x_train: Any,
    y_train: Any,
    x_test: Any = None,
    *,
    kernel: str = "nngp",
    diag_reg: float = 0.0,
    depth: int,
    activation: Any = "relu",
    w_std: Any,
    b_std: Any,
    block_size: int = 256,
    threads: int | None = None,
) -> GPPosterior:
    """Exact GP posterior (mean, covariance) with the NNGP or the NTK (module docstring).

    Parameters
    ----------
    x_train, y_train:
        (n, d) training inputs and (n,) or (n, k) targets.
    x_test:
        (m, d) test inputs; None for the posterior at the training inputs (with ``diag_reg = 0``
        that is N(Y, 0), returned exactly, as neural-tangents does).
    kernel:
        ``"nngp"`` (Bayesian posterior, with the log marginal likelihood) or ``"ntk"`` (the
        trained infinite ensemble at t = inf).
    diag_reg:
        Relative diagonal regulariser (>= 0): ``diag_reg * mean(diag)`` of the inverted training
        kernel is added to its diagonal (neural-tangents ``diag_reg_absolute_scale=False``).
    depth, activation, w_std, b_std, block_size, threads:
        The network and how its kernels are computed, as :func:`ibtheory.ntk.fc_kernels`.
    """
    if kernel not in GP_KERNELS:
        raise ValueError(f"kernel must be one of {GP_KERNELS}, got {kernel!r}")
    xtr = check_finite_array(x_train, "x_train")
    if xtr.ndim != 2 or xtr.shape[0] < 1:
        raise ValueError(f"x_train must be a 2-D (n_points, n_features) array with at least one point, got shape {xtr.shape}")
    n = xtr.shape[0]
    y = check_targets(y_train, n)
    reg = check_positive(diag_reg, "diag_reg", allow_zero=True)
    on_train = x_test is None
    if on_train:
        x_all = xtr
    else:
        xte = check_finite_array(x_test, "x_test")
        if xte.ndim != 2 or xte.shape[1] != xtr.shape[1]:
            raise ValueError(f"x_test must be a 2-D array with {xtr.shape[1]} features like x_train, got shape {xte.shape}")
        x_all = np.concatenate([xtr, xte])
    kern = fc_kernels(x_all, depth=depth, activation=activation, w_std=w_std, b_std=b_std, block_size=block_size, threads=threads)
    k_all, th_all = np.asarray(kern.nngp), np.asarray(kern.ntk)
    k_tt, th_tt = k_all[:n, :n], th_all[:n, :n]
    test = slice(0, n) if on_train else slice(n, None)
    k_x, th_x, k_xx = k_all[test, :n], th_all[test, :n], k_all[test, test]

    lml: float | None = None
    lml_cols: np.ndarray | None = None
    if on_train and reg == 0:  # interpolation: N(Y, 0) exactly
        factor, added = _cholesky(k_tt if kernel == "nngp" else th_tt, 0.0, kernel.upper())
        mean, cov = y.copy(), np.zeros((n, n))
        if kernel == "nngp":
            lml_cols = _log_marginal(factor, y)
    elif kernel == "nngp":
        factor, added = _cholesky(k_tt, reg, "NNGP")
        mean = k_x @ scipy.linalg.cho_solve(factor, y)
        v = scipy.linalg.solve_triangular(factor[0], k_x.T, lower=True)  # L^{-1} K(X, x)
        cov = k_xx - v.T @ v
        lml_cols = _log_marginal(factor, y)
    else:
        factor, added = _cholesky(th_tt, reg, "NTK")
        mean = th_x @ scipy.linalg.cho_solve(factor, y)
        g = scipy.linalg.cho_solve(factor, th_x.T)  # Theta_r^{-1} Theta(X, x)
        cross = k_x @ g  # K(x, X) Theta_r^{-1} Theta(X, x)
        cov = k_xx + g.T @ k_tt @ g - cross - cross.T
    cov = 0.5 * (cov + cov.T)
    if lml_cols is not None:
        lml = float(lml_cols.sum())
    return GPPosterior(
        mean=mean, cov=cov, kernel=kernel, diag_reg=reg, noise_variance=added, log_marginal_likelihood=lml,
        log_marginal_likelihood_per_output=lml_cols, k_train_train=k_tt, ntk_train_train=th_tt, k_test_train=k_x,
        ntk_test_train=th_x, k_test_test=k_xx, on_train=on_train,
    )


def _log_marginal(factor: tuple[np.ndarray, bool], y: np.ndarray) -> np.ndarray:
    """log N(y_col; 0, L L^T) for each column of y (GPML eq. 2.30, Cholesky form)."""
    low = factor[0]
    alpha = scipy.linalg.solve_triangular(low, y, lower=True)
    n = y.shape[0]
    half_logdet = float(np.sum(np.log(np.diag(low))))
    return -0.5 * np.sum(alpha * alpha, axis=0) - half_logdet - 0.5 * n * math.log(2 * math.pi)
