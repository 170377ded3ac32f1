"""Infinite ensembles of infinitely wide networks trained by gradient flow on MSE (theory.md 4.1).

The ensemble output at time t is Gaussian (Lee et al. 2019; neural-tangents
``predict.gradient_descent_mse_ensemble``, whose normalisation tau = eta t / (n k) we follow):

    mu_t(x)       = Theta_x Theta^{-1} E_t Y,       E_t = I - exp(-tau Theta)
    Sigma_t(x,x') = K(x,x') + Theta_x Theta^{-1} E_t K E_t Theta^{-1} Theta_x'^T
                    - (Theta_x Theta^{-1} E_t K_x'^T + K_x E_t Theta^{-1} Theta_x'^T)

and on the training inputs mu_t = E_t Y, Sigma_t = e^{-tau Theta} K e^{-tau Theta}.

Algorithm (derived here): one eigendecomposition Theta = U diag(lambda) U^T serves all times.
Everything is rotated once into the eigenbasis (P = Theta_x U, Kx = K_x U, Kt = U^T K U,
Yt = U^T Y); per time only the per-eigenvalue factors gain = (1 - e^{-lambda tau})/lambda (via
expm1), growth and decay (generated kernel ``ensemble_factors``) change. Theta^{-1} is never formed:
gain <= min(tau, 1/lambda) stays bounded for finite times however ill-conditioned Theta is, and
the training-set forms avoid the cancellation K - 2(...) + (...) entirely.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..display import repr_html
from ..numeric import as_real_array, check_finite_array, check_positive
from ._kernels import fc_kernels

#: A training NTK whose smallest eigenvalue is below this multiple of n * eps * lambda_max is
#: treated as singular (duplicate training points): t = inf then needs ``diag_reg > 0``.
SINGULAR_RCOND = 10.0


@dataclass(frozen=True)
class EnsemblePrediction:
    """The Gaussian output distribution of the infinite ensemble at each requested time.

    Attributes
    ----------
    times:
        (n_times,) the requested times t (``inf`` allowed), in gradient-descent steps of size
        ``learning_rate`` (neural-tangents units).
    tau:
        (n_times,) scaled times learning_rate * t / (n_train * n_out).
    mean:
        (n_times, n_test, n_out) ensemble mean mu_t(x) for each test input and output.
    cov:
        (n_times, n_test, n_test) covariance Sigma_t(x, x'), shared by all outputs (kernels are
        Theta (x) I_k).
    k_train_train, ntk_train_train:
        (n, n) NNGP K(X, X) and NTK Theta(X, X) on the training inputs (``ntk_train_train`` before
        the regulariser).
    k_test_train, ntk_test_train:
        (n_test, n) K(x, X) and Theta(x, X); ``None`` when ``x_test`` was None (then the test set is
        the training set).
    k_test_test:
        (n_test, n_test) K(x, x') (the t = 0 covariance); the training NNGP when ``x_test`` is None.
    ntk_eigenvalues, ntk_eigenvectors:
        (n,) ascending and (n, n) orthonormal columns: the eigendecomposition of the regularised
        training NTK Theta + diag_reg * mean(diag Theta) I that the dynamics used.
    learning_rate, diag_reg:
        As passed.
    on_train:
        True when ``x_test`` was None.
    """

    times: np.ndarray
    tau: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    k_train_train: np.ndarray
    ntk_train_train: np.ndarray
    k_test_train: np.ndarray | None
    ntk_test_train: np.ndarray | None
    k_test_test: np.ndarray
    ntk_eigenvalues: np.ndarray
    ntk_eigenvectors: np.ndarray
    learning_rate: float
    diag_reg: float
    on_train: bool
    _repr_html_ = repr_html  # a summary table in Jupyter (ibtheory.display)


def check_times(times: Any, *, allow_inf: bool = True) -> np.ndarray:
    """Validate training times: a scalar or 1-D array of values >= 0 (``inf`` allowed if ``allow_inf``)."""
    arr = np.atleast_1d(as_real_array(times, "times"))  # text, None, complex: an error naming times
    if arr.ndim != 1:
        raise ValueError(f"times must be a scalar or a 1-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("times must contain at least one time")
    if np.any(np.isnan(arr)):
        raise ValueError("times contains NaN; pass times >= 0 (inf is allowed for the limit)")
    if np.any(arr < 0):
        raise ValueError(f"times must be >= 0, got {float(arr.min())!r}")
    if not allow_inf and np.any(np.isinf(arr)):
        raise ValueError("times must be finite here (a finite network cannot be trained for ever)")
    return arr


def check_targets(y_train: Any, n_train: int) -> np.ndarray:
    """Validate regression targets: (n,) or (n, k) finite; returned as (n, k)."""
    y = check_finite_array(y_train, "y_train")
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] != n_train:
        raise ValueError(
            f"y_train must have shape ({n_train},) or ({n_train}, k) to match x_train, got {np.shape(y_train)}"
        )
    if y.shape[1] < 1:
        raise ValueError("y_train must have at least one output column")
    return y


def ensemble_prediction(
    x_train: Any,
    y_train: Any,
    x_test: Any = None,
    times: Any = (0.0, np.inf),
    *,
    depth: int,
    activation: str = "relu",
    w_std: float,
    b_std: float,
    learning_rate: float,
    diag_reg: float = 0.0,
    block_size: int = 256,
    threads: int | None = None,
) -> EnsemblePrediction:
    """Mean and covariance of an infinite ensemble of infinitely wide networks at each time.

    Closed forms of theory.md 4.1 (Lee et al. 2019; neural-tangents
    ``gradient_descent_mse_ensemble(..., get="ntk", compute_cov=True)`` conventions): full-batch
    gradient flow on ||f(X) - Y||^2 / (2 n k) with learning rate ``learning_rate``, kernels from
    :func:`fc_kernels` (NTK parameterisation, ``depth`` hidden layers). ``times`` may include 0
    (mean 0, covariance = NNGP) and ``inf`` (the converged ensemble).

    ``diag_reg`` adds ``diag_reg * mean(diag Theta)`` to the training NTK's diagonal (the
    neural-tangents convention with ``diag_reg_absolute_scale=False``; it acts on Theta only, K is
    unchanged). A (numerically) singular training NTK, e.g. from duplicate training points, is
    fine at finite times (zero modes do not move); ``t = inf`` then raises a ``ValueError`` asking
    for ``diag_reg > 0`` instead of returning inf/NaN.

    ``block_size`` and ``threads`` are passed to :func:`fc_kernels` (which computes the kernels of
    train and test inputs together, so coincident train/test points get exact diagonal entries).

    Returns
    -------
    EnsemblePrediction (see its fields; it also carries the kernel blocks it computed).
    """
    from .._generated import ntk_numpy as gen

    xtr = check_finite_array(x_train, "x_train")
    if xtr.ndim != 2:
        raise ValueError(f"x_train must be a 2-D (n_points, n_features) array, got shape {xtr.shape}")
    n = xtr.shape[0]
    if n < 1:
        raise ValueError("x_train must contain at least one point")
    y = check_targets(y_train, n)
    k_out = y.shape[1]
    ts = check_times(times)
    lr = check_positive(learning_rate, "learning_rate")
    reg = check_positive(diag_reg, "diag_reg", allow_zero=True)
    on_train = x_test is None
    if not on_train:
        xte = check_finite_array(x_test, "x_test")
        if xte.ndim != 2 or xte.shape[1] != xtr.shape[1]:
            raise ValueError(
                f"x_test must be a 2-D array with {xtr.shape[1]} features like x_train, got shape {xte.shape}"
            )
        x_all = np.concatenate([xtr, xte], axis=0)
    else:
        x_all = xtr
    kern = fc_kernels(
        x_all, depth=depth, activation=activation, w_std=w_std, b_std=b_std, block_size=block_size,
        threads=threads,
    )
    k_tt, th_tt = kern.nngp[:n, :n], kern.ntk[:n, :n]
    theta = th_tt.copy()
    if reg > 0:
        theta[np.diag_indices(n)] += reg * float(np.mean(np.diag(th_tt)))
    lam, u = np.linalg.eigh(theta)
    lam_max = max(float(lam[-1]), np.finfo(float).tiny)
    singular = float(lam[0]) <= SINGULAR_RCOND * n * np.finfo(float).eps * lam_max
    if singular and np.any(np.isinf(ts)):
        raise ValueError(
            f"the training NTK is singular (smallest eigenvalue {float(lam[0]):.3e}, largest {lam_max:.3e}; "
            "duplicate or collinear training points?), so the t = inf ensemble is undefined; "
            "pass diag_reg > 0 (e.g. 1e-8) or remove the duplicates"
        )
    tau = ts * lr / (n * k_out)
    factors = gen.ensemble_factors(lam[None, :], tau[:, None])  # each (n_times, n)
    gain, growth, decay = factors.gain, factors.growth, factors.decay
    y_rot = u.T @ y  # (n, k)
    k_rot = u.T @ k_tt @ u  # (n, n)
    n_t = ts.size
    if on_train:
        # mu_t(X) = U diag(growth) U^T Y;  Sigma_t(X, X) = U diag(decay) Kt diag(decay) U^T.
        mean = np.einsum("ij,tj,jk->tik", u, growth, y_rot)
        cov = np.empty((n_t, n, n))
        for i in range(n_t):
            a = u * decay[i][None, :]
            cov[i] = a @ k_rot @ a.T
        k_test_test, k_x, th_x = k_tt, None, None
    else:
        k_x, th_x = kern.nngp[n:, :n], kern.ntk[n:, :n]
        k_test_test = kern.nngp[n:, n:]
        p = th_x @ u  # Theta_x U
        kx_rot = k_x @ u  # K_x U
        mean = np.einsum("ij,tj,jk->tik", p, gain, y_rot)
        m = p.shape[0]
        cov = np.empty((n_t, m, m))
        for i in range(n_t):
            pg = p * gain[i][None, :]  # Theta_x Theta^{-1} E_t in the eigenbasis
            # K_xx + G K G^T - G Kx^T - Kx G^T is the symmetric part of K_xx + (G K - 2 Kx) G^T (the
            # difference is antisymmetric and the symmetrisation below removes it): 3 products, not 4
            cov[i] = k_test_test + (pg @ k_rot - 2.0 * kx_rot) @ pg.T
    cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
    return EnsemblePrediction(
        times=ts, tau=tau, mean=mean, cov=cov, k_train_train=k_tt, ntk_train_train=th_tt,
        k_test_train=k_x, ntk_test_train=th_x, k_test_test=k_test_test, ntk_eigenvalues=lam,
        ntk_eigenvectors=u, learning_rate=lr, diag_reg=reg, on_train=on_train,
    )
