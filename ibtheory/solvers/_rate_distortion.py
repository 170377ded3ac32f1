"""Rate-distortion curves by Blahut-Arimoto (Cover & Thomas 2006, 10.8; theory.md 11.3).

At slope parameter beta the alternation p(t) = sum_x p(x) p(t|x), p(t|x) = p(t) exp(-beta d(x,t)) / Z(x)
(generated ``rd_step``, derived in the ``rate-distortion`` derivation) converges to the optimal
channel of min I(X;T) + beta E d(X,T) from any start with p(t) > 0: the problem is convex (Csiszar &
Tusnady 1984). Every beta is one member of one batch, started from the uniform channel; rounds of
two alternations are accelerated by the engine's SQUAREM step, kept only where it does not raise
the objective I(X;T) + beta E d (as for the IB). Each beta
gives a point (D, R(D)) of the curve, where R'(D) = -beta.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._generated import rate_distortion_numpy
from ..numeric import (
    array_backend,
    check_finite_array,
    check_positive,
    check_positive_int,
    check_units,
    to_units,
)
from ._engine import _extrapolate as extrapolate
from ._engine import max_change
from ._family import check_betas

#: Default residual tolerance on max |delta p(t|x)| and alternation cap.
RD_TOL = 1e-10
RD_MAX_ITER = 20_000


@dataclass(frozen=True)
class RDCurve:
    """A rate-distortion curve on a grid of slope parameters.

    Fields
    ------
    betas: (B,) ascending (minus the slope of R(D) at each point).
    rate: (B,) R = I(X;T) in ``units``; distortion: (B,) D = E d(X,T) (the distortion's own units).
    encoders: (B, n_x, n_t) optimal channels p(t|x); p_t: (B, n_t) output marginals.
    converged: (B,) residual <= tol; n_iter: (B,) alternations; residual: (B,) last max |delta p(t|x)|.
    units: ``"nats"`` or ``"bits"`` (of ``rate``).
    """

    betas: np.ndarray
    rate: np.ndarray
    distortion: np.ndarray
    encoders: np.ndarray
    p_t: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    residual: np.ndarray
    units: str


def check_source(p_x: Any, *, normalize: bool = False) -> np.ndarray:
    """A source distribution p(x): 1-D, finite, >= 0, positive total (1 unless ``normalize``)."""
    arr = check_finite_array(p_x, "p_x")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"p_x must be a non-empty one-dimensional distribution, got shape {arr.shape}")
    if np.any(arr < 0):
        raise ValueError(f"p_x has a negative entry {float(arr.min())!r}; probabilities must be >= 0")
    total = float(arr.sum())
    if total <= 0:
        raise ValueError("p_x sums to 0")
    if not normalize and abs(total - 1.0) > 1e-9:
        raise ValueError(f"p_x sums to {total!r}, not 1; pass normalize=True to divide by the total")
    return arr / total


def check_distortion(distortion: Any, n_x: int) -> np.ndarray:
    """A distortion matrix d(x, x_hat): (n_x, n_t), finite, >= 0."""
    arr = check_finite_array(distortion, "distortion")
    if arr.ndim != 2 or arr.shape[0] != n_x or arr.shape[1] < 1:
        raise ValueError(f"distortion must be an (n_x={n_x}, n_t) matrix d(x, x_hat), got shape {arr.shape}")
    if np.any(arr < 0):
        i, j = np.argwhere(arr < 0)[0]
        raise ValueError(f"distortion has a negative entry {float(arr[i, j])!r} at ({i}, {j}); distortions must be >= 0")
    return arr


def rd_curve(
    p_x: Any,
    distortion: Any,
    betas: Any,
    *,
    units: str = "nats",
    normalize: bool = False,
    tol: float = RD_TOL,
    max_iter: int = RD_MAX_ITER,
    backend: str = "numpy",
    device: Any = None,
) -> RDCurve:
    """The rate-distortion curve of source ``p_x`` (n_x,) with distortion matrix ``distortion``
    (n_x, n_t) at slope parameters ``betas``, by Blahut-Arimoto (module docstring).

    Returns an :class:`RDCurve` with the rate in ``units`` and the distortion E d(X, X_hat).
    Raises ``ValueError`` for a distortion with negative or non-finite entries or the wrong shape.
    """
    check_units(units)
    px = check_source(p_x, normalize=normalize)
    d = check_distortion(distortion, px.size)
    b_sorted = check_betas(betas)
    tol = check_positive(tol, "tol")
    max_iter = check_positive_int(max_iter, "max_iter")
    be = array_backend(backend, device)
    kernels = be.kernels("rate_distortion")
    n_b, n_t = b_sorted.size, d.shape[1]
    log_q = be.asarray(np.full((n_b, px.size, n_t), -np.log(n_t)))
    bp_x, b_d, b_all = be.asarray(px), be.asarray(d), be.asarray(b_sorted)
    n_iter = np.zeros(n_b, dtype=np.int64)
    residual = np.full(n_b, np.inf)
    active = np.arange(n_b)
    while active.size and n_iter[active[0]] < max_iter:
        full = active.size == n_b
        idx = be.index(active)
        x0 = log_q if full else log_q[idx]
        b = b_all if full else b_all[idx]
        x1 = kernels.rd_step(x0, bp_x, b_d, b).log_p_t_given_x
        x2 = kernels.rd_step(x1, bp_x, b_d, b).log_p_t_given_x
        xe = extrapolate(be, x0, x1, x2)
        x3 = kernels.rd_step(xe, bp_x, b_d, b).log_p_t_given_x
        pt = kernels.rd_point(bp_x, b_d, be.xp.exp(be.concat([x2, x3])))
        both = be.to_numpy(pt.rate + be.concat([b, b]) * pt.expected_distortion)
        obj2, obj3 = both[: active.size], both[active.size :]
        use3 = be.index((np.isfinite(obj3) & (obj3 <= obj2))[:, None, None])
        new, prev = be.xp.where(use3, x3, x2), be.xp.where(use3, xe, x1)
        res = max_change(be, new, prev)
        if full:
            log_q = new
        else:
            log_q[idx] = new
        n_iter[active] += 3
        residual[active] = res
        active = active[res > tol]
    q = np.exp(be.to_numpy(log_q))
    point = rate_distortion_numpy.rd_point(px, d, q)
    return RDCurve(
        betas=b_sorted, rate=to_units(np.maximum(np.asarray(point.rate), 0.0), units),
        distortion=np.asarray(point.expected_distortion), encoders=q, p_t=np.asarray(point.p_t),
        converged=residual <= tol, n_iter=n_iter, residual=residual, units=units,
    )
