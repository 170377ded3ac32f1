"""The exponential-family dualIB path (theory.md 3.3; Piran, Shwartz-Ziv & Tishby 2020).

For p(y|x) = exp(-sum_r lambda_r(y) A_r(x)) / Z(x) the dualIB decoder stays in the family,
p(y|t) = exp(-sum_r lambda_r(y) A_r(t)) / Z(t) with A_r(t) = sum_x p(x|t) A_r(x), and the dual
distortion is d(x, t) = sum_r lambdabar_r(t) (A_r(x) - A_r(t)) + log Z(x) - log Z(t),
lambdabar_r(t) = E_{p(y|t)} lambda_r(Y) [theory.md 3.3, DERIVED; SRC:code genIB.py
``calc_py_t``, ``calc_d_dualib``]. The alternation below is parametrised by the d statistics
instead of p(y|x): it is deliberately a second, independent route to the dualIB fixed point (the
plain path is the generated ``dual_ib_step``), and the tests check that both give the same encoder
trajectory (theory.md 3.7 oracle 2). One alternation is the generated kernel
``expfam_numpy.dual_ib_expfam_step``, composed from :func:`ibtheory.symbolic.dual_ib_expfam_derivation`
by :mod:`ibtheory.kernels` (the hand-typed step it replaced is kept as a literal oracle in the
tests). Like the plain path it iterates in the log domain and stops on
max_{x,t} |delta p(t|x)| <= tol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logsumexp

from .._generated import expfam_numpy
from ..numeric import (
    as_generator,
    check_beta,
    check_finite_array,
    check_positive,
    check_positive_int,
)
from ._solve import DEFAULT_MAX_ITER, DEFAULT_TOL, random_encoders


@dataclass(frozen=True)
class ExpFamDualIBSolution:
    """Result of :func:`solve_dual_ib_expfam`.

    p_t_given_x (n_x, n_t); p_t (n_t,); stats_t (n_t, d): the cluster statistics A(t);
    log_p_y_given_t (n_t, n_y): the decoder, exponential with the same lambda(y);
    trajectory: tuple of the encoders after each alternation when ``record=True`` (else empty);
    converged, n_iter, residual (last max |delta p(t|x)|), tol.
    """

    p_t_given_x: np.ndarray
    p_t: np.ndarray
    stats_t: np.ndarray
    log_p_y_given_t: np.ndarray
    trajectory: tuple[np.ndarray, ...]
    converged: bool
    n_iter: int
    residual: float
    tol: float


def expfam_conditional(stats: Any, lambdas: Any) -> np.ndarray:
    """p(y|x) = exp(-sum_r lambda_r(y) A_r(x)) / Z(x) for stats A (n_x, d) and lambdas (d, n_y)."""
    a = check_finite_array(stats, "stats", ndim=2)
    lam = check_finite_array(lambdas, "lambdas", ndim=2)
    if a.shape[1] != lam.shape[0]:
        raise ValueError(f"stats (n_x, d) and lambdas (d, n_y) disagree on d: {a.shape} vs {lam.shape}")
    logits = -a @ lam
    return np.exp(logits - logsumexp(logits, axis=1, keepdims=True))


def solve_dual_ib_expfam(p_x: Any, stats: Any, lambdas: Any, beta: float, *, n_clusters: int = 2, init: Any = None,
                         seed: Any = 0, tol: float = DEFAULT_TOL, max_iter: int = DEFAULT_MAX_ITER,
                         record: bool = False) -> ExpFamDualIBSolution:
    """dualIB alternation parametrised by the sufficient statistics (theory.md 3.3; module docstring).

    ``p_x`` (n_x,), ``stats`` A (n_x, d), ``lambdas`` (d, n_y): p(y|x) = exp(-lambda(y).A(x))/Z(x).
    Starts from ``init`` (n_x, n_t) or a seeded random encoder with ``n_clusters`` clusters.
    """
    px = check_finite_array(p_x, "p_x", ndim=1)
    if np.any(px <= 0) or abs(px.sum() - 1) > 1e-9:
        raise ValueError("p_x must be positive and sum to one")
    a = check_finite_array(stats, "stats", ndim=2)
    lam = check_finite_array(lambdas, "lambdas", ndim=2)
    if a.shape[0] != px.size or a.shape[1] != lam.shape[0]:
        raise ValueError(f"shapes disagree: p_x {px.shape}, stats {a.shape} (n_x, d), lambdas {lam.shape} (d, n_y)")
    b = float(check_beta(beta))
    check_positive(tol, "tol")
    max_iter = check_positive_int(max_iter, "max_iter")
    if init is None:
        q0 = random_encoders(as_generator(seed), 1, px.size, check_positive_int(n_clusters, "n_clusters"))[0]
    else:
        q0 = check_finite_array(init, "init", ndim=2)
    logits_x = -a @ lam
    log_z_x = logsumexp(logits_x, axis=1)
    with np.errstate(divide="ignore"):
        log_q = np.log(q0)
    traj: list[np.ndarray] = []
    residual, n_iter = np.inf, 0
    p_t = stats_t = log_pyt = np.empty(0)
    for n_iter in range(1, max_iter + 1):  # noqa: B007
        step = expfam_numpy.dual_ib_expfam_step(log_q, px, a, lam, log_z_x, b)
        new, p_t, stats_t, log_pyt = step.log_p_t_given_x, step.p_t, step.stats_t.T, step.log_p_y_given_t.T
        residual = float(np.max(np.abs(np.exp(new) - np.exp(log_q))))
        log_q = new
        if record:
            traj.append(np.exp(new))
        if residual <= tol:
            break
    return ExpFamDualIBSolution(p_t_given_x=np.exp(log_q), p_t=p_t, stats_t=stats_t, log_p_y_given_t=log_pyt,
                                trajectory=tuple(traj), converged=residual <= tol, n_iter=n_iter,
                                residual=residual, tol=float(tol))
