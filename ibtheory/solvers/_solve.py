"""Single-beta discrete IB and dualIB solvers (theory.md 1.3 and 3.2).

The alternation is the generated kernel ``ib_step`` / ``dual_ib_step`` iterated in the log domain
(see :mod:`ibtheory.solvers._engine` for the stated residual). Information is in nats inside;
results are converted to ``units`` at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._generated import ib_numpy
from ..display import repr_html
from ..numeric import (
    array_backend,
    as_generator,
    check_beta,
    check_joint,
    check_positive,
    check_positive_int,
    check_units,
    to_units,
)
from ._engine import (
    METHODS,
    compact,
    iterate,
    objective_kernel,
    point_kernel,
    point_objective,
)

#: Default stopping tolerance on max_{x,t} |p_{k+1}(t|x) - p_k(t|x)|: far below every accuracy the
#: tests ask for (1e-6), above float64 round-off of a normalised row (~1e-16 * n_t).
DEFAULT_TOL = 1e-10
#: Iteration cap of one solve; near a critical beta the alternation slows (critical slowing down),
#: and ``converged`` reports whether the residual got below ``tol`` in time.
DEFAULT_MAX_ITER = 20_000
#: A cluster with p(t) at or below this mass counts as dead (it is dropped when compacting).
MASS_TOL = 1e-8
#: Two clusters whose decoders differ by at most this (max abs over y) are one effective cluster.
#: Converged split branches differ by far more; unconverged copies of one cluster by ~tol/(1-lambda).
MERGE_TOL = 1e-5


@dataclass(frozen=True)
class IBSolution:
    """A converged (or capped) solution of the IB or dualIB self-consistent equations at one beta.

    Fields
    ------
    method: ``"ib"`` or ``"dualib"``.
    beta: the trade-off parameter (dimensionless).
    p_t_given_x: encoder, shape (n_x, n_t); rows sum to one.
    p_t: cluster marginal, shape (n_t,).
    p_y_given_t: the method's decoder, shape (n_y, n_t) (arithmetic mean for the IB, normalised
        geometric mean for the dualIB; theory.md 1.2, 3.2).
    i_xt, i_ty: I(X;T) and I(T;Y) in ``units``; I(T;Y) always with the Markov decoder
        sum_x p(y|x) p(x|t), for both methods (theory.md 3.2).
    objective: IB: I(X;T) - beta I(T;Y); dualIB: I(X;T) + beta E_{p(x,t)} KL[p(y|t) || p(y|x)]
        (geometric-mean decoder), in ``units``.
    n_clusters: effective clusters (distinct decoders with mass > MASS_TOL).
    converged: residual <= tol; n_iter: alternations; residual: last max |delta p(t|x)|; tol.
    units: ``"nats"`` or ``"bits"``.
    """

    method: str
    beta: float
    p_t_given_x: np.ndarray
    p_t: np.ndarray
    p_y_given_t: np.ndarray
    i_xt: float
    i_ty: float
    objective: float
    n_clusters: int
    converged: bool
    n_iter: int
    residual: float
    tol: float
    units: str
    _repr_html_ = repr_html  # a summary table in Jupyter (ibtheory.display)


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be 'ib' or 'dualib', got {method!r}")
    return method


def check_n_clusters(n_clusters: Any, n_x: int) -> int:
    """The cluster capacity: ``n_clusters`` (an integer >= 1), or n_x when None."""
    return n_x if n_clusters is None else check_positive_int(n_clusters, "n_clusters")


def marginals(p_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """p(x) and p(y|x) of a validated joint (every row has positive mass)."""
    p_x = p_xy.sum(axis=1)
    return p_x, p_xy / p_x[:, None]


def objective_nats(method: str, p_x: np.ndarray, p_y_given_x: np.ndarray, p_t_given_x: np.ndarray, beta: Any) -> Any:
    """The method's objective in nats (generated ``ib_lagrangian`` / ``dual_ib_functional``); batched."""
    return objective_kernel(ib_numpy, method)(p_x, p_y_given_x, p_t_given_x, beta)


def random_encoders(rng: np.random.Generator, n_batch: int, n_x: int, n_t: int) -> np.ndarray:
    """Encoders with each row p(.|x) ~ Dirichlet(1, ..., 1) (uniform on the simplex), (B, n_x, n_t)."""
    return rng.dirichlet(np.ones(n_t), size=(n_batch, n_x))


def finish(method: str, beta: float, p_x: np.ndarray, p_y_given_x: np.ndarray, p_t_given_x: np.ndarray,
           n_iter: int, residual: float, tol: float, units: str,
           log_p_t_given_x: np.ndarray | None = None) -> IBSolution:
    """Compute the reported quantities of an encoder with the generated kernels (``log_p_t_given_x``,
    its logs when known, lets :func:`compact` count clusters without 0/0 in rare rows)."""
    point = point_kernel(ib_numpy, method)(p_x, p_y_given_x, p_t_given_x)
    obj = point_objective(point, beta)
    k = compact(p_t_given_x, p_x, p_y_given_x, method, MASS_TOL, MERGE_TOL, point, log_p_t_given_x).shape[1]
    return IBSolution(
        method=method, beta=float(beta), p_t_given_x=p_t_given_x, p_t=point.p_t, p_y_given_t=point.p_y_given_t,
        i_xt=float(to_units(max(float(point.i_xt), 0.0), units)), i_ty=float(to_units(max(float(point.i_ty), 0.0), units)),
        objective=float(to_units(float(obj), units)), n_clusters=int(k), converged=bool(residual <= tol),
        n_iter=int(n_iter), residual=float(residual), tol=float(tol), units=units,
    )


def _solve(p_xy: Any, beta: Any, method: str, *, n_clusters: Any, init: Any, n_restarts: int, seed: Any,
           tol: float, max_iter: int, units: str, normalize: bool, backend: str, device: Any) -> IBSolution:
    check_method(method)
    joint = check_joint(p_xy, normalize=normalize)
    b = check_beta(beta)
    if b.ndim != 0:
        raise ValueError(f"beta must be a scalar here, got shape {b.shape}; use ib_curve for many betas")
    check_units(units)
    n_restarts = check_positive_int(n_restarts, "n_restarts")
    max_iter = check_positive_int(max_iter, "max_iter")
    tol = check_positive(tol, "tol")
    p_x, p_y_given_x = marginals(joint)
    n_x = joint.shape[0]
    if init is not None:
        q0 = np.asarray(init, dtype=np.float64)
        if q0.ndim != 2 or q0.shape[0] != n_x or not np.all(np.isfinite(q0)) or np.any(q0 < 0):
            raise ValueError(f"init must be a finite non-negative (n_x={n_x}, n_t) encoder, got shape {q0.shape}")
        if not np.allclose(q0.sum(axis=1), 1.0, atol=1e-9):
            raise ValueError("init rows must sum to one (each row is p(t|x) for one x)")
        q0 = np.broadcast_to(q0, (n_restarts, *q0.shape)).copy()
    else:
        k = check_n_clusters(n_clusters, n_x)
        q0 = random_encoders(as_generator(seed), n_restarts, n_x, k)
    be = array_backend(backend, device)
    with np.errstate(divide="ignore"):
        log_q = be.asarray(np.log(q0))
    betas = be.asarray(np.full(n_restarts, float(b)))
    log_q, n_iter, residual = iterate(be, log_q, be.asarray(p_x), be.asarray(p_y_given_x), betas, method, tol, max_iter)
    log_all = be.to_numpy(log_q)
    q = np.exp(log_all)
    obj = objective_nats(method, p_x, p_y_given_x, q, float(b))
    best = int(np.argmin(obj))
    return finish(method, float(b), p_x, p_y_given_x, q[best], int(n_iter[best]), float(residual[best]), tol, units,
                  log_all[best])


def solve_ib(p_xy: Any, beta: float, *, n_clusters: int | None = None, init: Any = None, n_restarts: int = 1,
             seed: Any = 0, tol: float = DEFAULT_TOL, max_iter: int = DEFAULT_MAX_ITER, units: str = "nats",
             normalize: bool = False, backend: str = "numpy", device: Any = None) -> IBSolution:
    """Solve the IB self-consistent equations at one beta (Tishby, Pereira & Bialek 1999; theory.md 1.2-1.3).

    Iterates the generated ``ib_step`` in the log domain from ``init`` (an (n_x, n_t) encoder) or
    from ``n_restarts`` random encoders (rows ~ Dirichlet(1), seeded) with ``n_clusters`` clusters
    (default n_x), run as one batch, and returns the restart with the lowest Lagrangian
    I(X;T) - beta I(T;Y). A single solve finds a stationary point, not necessarily the optimum; use
    :func:`ib_curve` for optimal solutions. Stops when max_{x,t} |delta p(t|x)| <= ``tol``.

    ``p_xy``: the joint (n_x, n_y), summing to one (``normalize=True`` divides counts by their total).
    """
    return _solve(p_xy, beta, "ib", n_clusters=n_clusters, init=init, n_restarts=n_restarts, seed=seed, tol=tol,
                  max_iter=max_iter, units=units, normalize=normalize, backend=backend, device=device)


def solve_dual_ib(p_xy: Any, beta: float, *, n_clusters: int | None = None, init: Any = None, n_restarts: int = 1,
                  seed: Any = 0, tol: float = DEFAULT_TOL, max_iter: int = DEFAULT_MAX_ITER, units: str = "nats",
                  normalize: bool = False, backend: str = "numpy", device: Any = None) -> IBSolution:
    """Solve the dualIB self-consistent equations at one beta (Piran, Shwartz-Ziv & Tishby 2020; theory.md 3.2).

    Same alternation as :func:`solve_ib` with the dual distortion KL[p(y|t) || p(y|x)] and the
    normalised geometric-mean decoder (generated ``dual_ib_step``; p(y|x) is floored at 1e-300
    inside logs, so deterministic labels are allowed). The objective is
    I(X;T) + beta E_{p(x,t)} KL[p(y|t) || p(y|x)]; I(T;Y) is reported with the Markov decoder.
    """
    return _solve(p_xy, beta, "dualib", n_clusters=n_clusters, init=init, n_restarts=n_restarts, seed=seed, tol=tol,
                  max_iter=max_iter, units=units, normalize=normalize, backend=backend, device=device)
