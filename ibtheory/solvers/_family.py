"""The result of the generalized and deterministic IB curves (Strouse & Schwab 2017; theory.md 11.1).

L_alpha[p(t|x)] = H(T) - alpha H(T|X) - beta I(T;Y): alpha = 1 is the IB, alpha -> 0 the
deterministic IB (DIB). :func:`ibtheory.solvers.gib_curve` and :func:`ibtheory.solvers.dib_curve`
both return an :class:`IBFamilyCurve`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..numeric import check_beta, check_units, to_units


@dataclass(frozen=True)
class IBFamilyCurve:
    """A generalized-IB (``method="gib"``) or deterministic-IB (``"dib"``) curve on a grid of betas.

    Fields
    ------
    method: ``"gib"`` or ``"dib"``; alpha: the weight of H(T|X) (0.0 for the DIB); units: ``"nats"`` or ``"bits"``.
    betas: (B,) ascending.
    h_t, h_t_given_x, i_xt, i_ty: (B,) H(T), H(T|X), I(X;T) = H(T) - H(T|X) and I(T;Y) (Markov decoder),
        in ``units`` (for the DIB H(T|X) = 0 and I(X;T) = H(T)).
    objective: (B,) H(T) - alpha H(T|X) - beta I(T;Y) in ``units``.
    n_clusters: (B,) clusters with positive mass.
    encoders: tuple of B arrays p(t|x), each (n_x, n_clusters[b]) (one-hot rows for the DIB).
    exact: True when every point is the proven global optimum (DIB by enumeration of all partitions
        of X); False for a heuristic optimum (annealing, restarts, local search).
    converged: (B,) bool; n_iter: (B,) alternations (GIB) or local-search sweeps (DIB);
        residual: (B,) last max |delta p(t|x)| (0 for the DIB, whose search stops at a local optimum).
    transitions: (M,) betas where the optimal encoder changes its number of clusters (GIB) or its
        partition (DIB); transition_clusters: (M, 2) the cluster counts below / above each;
        transition_rtol: their relative precision in beta (0.0 when exact: crossings of two lines).
    """

    method: str
    alpha: float
    units: str
    betas: np.ndarray
    h_t: np.ndarray
    h_t_given_x: np.ndarray
    i_xt: np.ndarray
    i_ty: np.ndarray
    objective: np.ndarray
    n_clusters: np.ndarray
    encoders: tuple[np.ndarray, ...]
    exact: bool
    converged: np.ndarray
    n_iter: np.ndarray
    residual: np.ndarray
    transitions: np.ndarray
    transition_clusters: np.ndarray
    transition_rtol: float


def check_betas(betas: Any) -> np.ndarray:
    """Sorted 1-D betas (finite, >= 0, at least one)."""
    out = np.sort(np.atleast_1d(check_beta(betas, name="betas")))
    if out.size == 0:
        raise ValueError("betas is empty; pass at least one beta")
    return out


def family_curve(method: str, alpha: float, units: str, betas: np.ndarray, h_t: np.ndarray, h_t_given_x: np.ndarray,
                 i_ty: np.ndarray, encoders: list[np.ndarray], *, exact: bool, converged: np.ndarray,
                 n_iter: np.ndarray, residual: np.ndarray, transitions: list[float],
                 transition_clusters: list[tuple[int, int]], transition_rtol: float) -> IBFamilyCurve:
    """Assemble an :class:`IBFamilyCurve` from quantities in nats (converted to ``units`` here)."""
    check_units(units)
    h_t = np.maximum(h_t, 0.0)
    h_t_given_x = np.maximum(h_t_given_x, 0.0)
    i_ty = np.maximum(i_ty, 0.0)
    i_xt = np.maximum(h_t - h_t_given_x, 0.0)
    objective = h_t - alpha * h_t_given_x - betas * i_ty
    return IBFamilyCurve(
        method=method, alpha=float(alpha), units=units, betas=betas, h_t=to_units(h_t, units),
        h_t_given_x=to_units(h_t_given_x, units), i_xt=to_units(i_xt, units), i_ty=to_units(i_ty, units),
        objective=to_units(objective, units), n_clusters=np.array([q.shape[1] for q in encoders], dtype=np.int64),
        encoders=tuple(encoders), exact=bool(exact), converged=np.asarray(converged, dtype=bool),
        n_iter=np.asarray(n_iter, dtype=np.int64), residual=np.asarray(residual, dtype=np.float64),
        transitions=np.array(transitions, dtype=np.float64),
        transition_clusters=np.array(transition_clusters, dtype=np.int64).reshape(-1, 2),
        transition_rtol=float(transition_rtol),
    )
