"""Local bifurcations of the IB / dualIB fixed-point map: stability analysis of split clusters.

Split a cluster t into two copies, p(t_a|x) = p(t|x) sigmoid(s(x)), p(t_b|x) = p(t|x) sigmoid(-s(x)),
and consider the map s -> s' = log p'(t_a|x) - log p'(t_b|x) of one alternation (the generated kernel
``ib_step`` / ``dual_ib_step``). s = 0 is a fixed point whenever the unsplit encoder is; the
antisymmetric split mode decouples from the rest by the a<->b symmetry, so the copy is stable iff
every eigenvalue of the Jacobian J = ds'/ds at s = 0, except the neutral one (s constant: moving
mass between identical copies, eigenvalue 1, removed by the projection P = I - 1 w^T with
w(x) = p(x|t)), has modulus < 1 (theory.md 1.5, 3.4).

The Jacobian in closed form (derived here by the chain rule; tests check it against autograd of the
generated torch step). In s' the normaliser Z(x) cancels, leaving
log p(t_a) - log p(t_b) - beta (d(x, t_a) - d(x, t_b)), and at s = 0, for members x, x' of t:

    J = 1 w^T + beta M,   M[x, x'] = w(x') C(x, x'),
    IB (d = KL[p(y|x) || p(y|t)]):      C(x, x') = sum_y p(y|x) p(y|x') / p(y|t) - 1,
    dualIB (d = KL[p(y|t) || p(y|x)], log p(y|t) = lbar(y) - log Z_t, lbar = sum_x w(x) log p(y|x)):
                                        C(x, x') = Cov_{p(y|t)}[log p(y|x) - lbar, log p(y|x') - lbar].

At the trivial solution this is J(beta) = 1 p^T + beta M, so its critical betas are 1 / eig(P M P):
for the IB the largest eigenvalue is rho_m^2 (squared maximal correlation, theory.md 1.5), for the
dualIB lambda_max(P K_dual P) (theory.md 3.4). Later critical points are found by following the
forward-annealed branch and bisecting where the largest split eigenvalue of one of its clusters
crosses 1. NumPy only: no autograd is needed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import expit

from ..numeric import array_backend, check_joint, check_positive_int
from ._engine import compact
from ._solve import MASS_TOL, MERGE_TOL, check_method, marginals

#: Members of a cluster with p(t|x) at or below this take no part in its split analysis
#: (their log p(t|x) is -inf or underflows; they cannot move to a copy at first order).
MEMBER_TOL = 1e-12
#: Eigenvalues of P M P below this are treated as zero (no critical beta from that mode):
#: float64 round-off of a Jacobian of O(1) entries is ~1e-15.
EIG_TOL = 1e-10
#: p(y|x) is floored at this inside the dualIB's logs, as in the generated ``dual_ib_step``.
LOG_FLOOR = 1e-300
#: Relative precision of the bisection of later critical points.
CRITICAL_RTOL = 1e-6
#: Alternation cap of each solve along the branch (tol 1e-12): slow near the bifurcations it tracks.
CRITICAL_MAX_ITER = 10_000


def split_jacobian(method: str, p_x: np.ndarray, p_y_given_x: np.ndarray, p_t_given_x: np.ndarray, t: int,
                   beta: float) -> tuple[np.ndarray, np.ndarray]:
    """(J, w): the Jacobian of the split map of cluster ``t`` over its members (p(t|x) > MEMBER_TOL),
    in closed form (module docstring), and w = p(x|t) on them, renormalised (the neutral direction)."""
    members = np.flatnonzero(p_t_given_x[:, t] > MEMBER_TOL)
    mass = p_x * p_t_given_x[:, t]
    w_all = mass / mass.sum()  # p(x|t) over every x: p(t) and the decoder include all of them
    w = w_all[members]
    if method == "ib":
        p_y_given_t = w_all @ p_y_given_x
        pyx = p_y_given_x[members]
        ratio = np.divide(pyx, p_y_given_t, out=np.zeros_like(pyx), where=p_y_given_t > 0)
        c = pyx @ ratio.T - 1.0
    else:
        log_pyx = np.log(np.maximum(p_y_given_x, LOG_FLOOR))
        lbar = w_all @ log_pyx
        decoder = np.exp(lbar - lbar.max())
        decoder /= decoder.sum()
        g = log_pyx[members] - lbar
        g = g - (g @ decoder)[:, None]
        c = (g * decoder) @ g.T
    jac = np.ones((members.size, 1)) * w[None, :] + beta * c * w[None, :]
    return jac, w / w.sum()


#: Clusters per chunk of the batched split analysis (:func:`split_modes`): its largest temporary
#: has chunk * n_x * n_y entries.
SPLIT_CHUNK_ENTRIES = 2**22


def split_modes(method: str, p_x: np.ndarray, p_y_given_x: np.ndarray, p_t_given_x: np.ndarray,
                beta: float) -> tuple[np.ndarray, np.ndarray]:
    """(eigenvalue (K,), direction (n_x, K)): per cluster, the largest eigenvalue of the projected
    split Jacobian (module docstring) and the split direction s(x) that goes with it, in n_y x n_y
    work per cluster instead of members x members.

    Derived here: C(x, x') = sum_y Phi(x, y) Phi(x', y) has rank <= n_y, with
    IB: Phi(x, y) = p(y|x) / e(y) - e(y), e = sqrt(p(y|t)) (C = A A^T - 1 1^T, A = p(y|x) / e, and A e = 1);
    dualIB: Phi(x, y) = g(x, y) sqrt(p(y|t)), g the centred log-ratio of :func:`split_jacobian`.
    C w = 0 and w^T C = 0 (w = p(x|t)), so P M P = M with M = C diag(w), and the projected
    Jacobian is beta M. The nonzero eigenvalues of Phi Phi^T W are those of S = Phi^T W Phi
    (n_y x n_y, symmetric PSD), and M (Phi v) = Phi S v: the split is unstable where
    beta lambda_max(S) > 1 (theory.md 1.5: lambda = rho_m^2 at the trivial solution), and grows
    along s = Phi v. Tests check lambda against :func:`split_jacobian`.
    """
    n_x, n_y = p_y_given_x.shape
    k = p_t_given_x.shape[1]
    mass = p_x[:, None] * p_t_given_x  # (x, K)
    w = mass / np.maximum(mass.sum(axis=0), np.finfo(float).tiny)  # p(x|t); a cluster without mass: 0
    eig = np.zeros(k)
    direction = np.zeros((n_x, k))
    if method != "ib":
        log_pyx = np.log(np.maximum(p_y_given_x, LOG_FLOOR))
    chunk = max(1, SPLIT_CHUNK_ENTRIES // (n_x * n_y))
    for start in range(0, k, chunk):
        wt = w[:, start:start + chunk].T  # (c, x)
        if method == "ib":
            e = np.sqrt(wt @ p_y_given_x)  # (c, y)
            phi = np.divide(p_y_given_x[None], e[:, None, :], out=np.zeros((wt.shape[0], n_x, n_y)),
                            where=e[:, None, :] > 0) - e[:, None, :]
        else:
            lbar = wt @ log_pyx  # (c, y)
            decoder = np.exp(lbar - lbar.max(axis=1, keepdims=True))
            decoder /= decoder.sum(axis=1, keepdims=True)
            g = log_pyx[None] - lbar[:, None, :]
            g -= (g @ decoder[..., None])  # centred under p(y|t)
            phi = g * np.sqrt(decoder)[:, None, :]
        s = np.einsum("cx,cxy,cxz->cyz", wt, phi, phi)
        vals, vecs = np.linalg.eigh(s)
        eig[start:start + chunk] = beta * vals[:, -1]
        direction[:, start:start + chunk] = np.einsum("cxy,cy->xc", phi, vecs[:, :, -1])
    return eig, direction


#: Size of the split along its unstable direction: p(t_a|x), p(t_b|x) = p(t|x) sigmoid(+-eps s(x)),
#: s normalised to unit p(x|t)-weighted RMS (:func:`split_unstable`).
SPLIT_STEP = 0.1


def split_unstable(method: str, p_x: np.ndarray, p_y_given_x: np.ndarray, p_t_given_x: np.ndarray, beta: float,
                   capacity: int) -> np.ndarray:
    """Split each cluster whose split is unstable at ``beta`` (:func:`split_modes`: beta lambda > 1;
    the most unstable first, within ``capacity``) into two halves along its unstable direction;
    stable clusters are kept whole (a split of them would merge back). Deterministic annealing's
    cluster splitting at its bifurcations (Rose 1998; theory.md 1.3, 1.5)."""
    k = p_t_given_x.shape[1]
    if k >= capacity:
        return p_t_given_x
    eig, direction = split_modes(method, p_x, p_y_given_x, p_t_given_x, beta)
    unstable = np.flatnonzero(eig > 1.0)
    if unstable.size == 0:
        return p_t_given_x
    unstable = unstable[np.argsort(-eig[unstable])][: capacity - k]
    mass = p_x[:, None] * p_t_given_x[:, unstable]
    w = mass / np.maximum(mass.sum(axis=0), np.finfo(float).tiny)
    s = direction[:, unstable]
    s = s / np.maximum(np.sqrt((w * s * s).sum(axis=0)), np.finfo(float).tiny)
    share = expit(SPLIT_STEP * s)
    out = p_t_given_x.copy()
    out[:, unstable] = p_t_given_x[:, unstable] * share
    return np.concatenate([out, p_t_given_x[:, unstable] * (1.0 - share)], axis=1)


def _split_eigenvalue(method: str, p_x: np.ndarray, p_y_given_x: np.ndarray, p_t_given_x: np.ndarray, beta: float) -> float:
    """Largest |eigenvalue| of the projected split Jacobian over all clusters of an encoder."""
    best = 0.0
    for t in range(p_t_given_x.shape[1]):
        jac, w = split_jacobian(method, p_x, p_y_given_x, p_t_given_x, t, beta)
        proj = np.eye(w.size) - np.outer(np.ones(w.size), w)
        ev = np.linalg.eigvals(proj @ jac @ proj)
        best = max(best, float(np.max(np.abs(ev))) if ev.size else 0.0)
    return best


def trivial_critical_betas(p_xy: Any, method: str = "ib", *, normalize: bool = False) -> np.ndarray:
    """All critical betas of the trivial solution, ascending: 1 / eig(P M P) for the positive eigenvalues.

    IB: 1 / rho_i^2 (squared singular values of p(x,y)/sqrt(p(x)p(y)) other than 1; theory.md 1.5).
    dualIB: 1 / eig(P K_dual P) (theory.md 3.4). M is the beta-coefficient of the split Jacobian,
    J(1) - J(0) of the closed-form split Jacobian (module docstring).
    """
    check_method(method)
    joint = check_joint(p_xy, normalize=normalize)
    p_x, p_y_given_x = marginals(joint)
    trivial = np.ones((p_x.size, 1))
    j1, w = split_jacobian(method, p_x, p_y_given_x, trivial, 0, 1.0)
    j0, _ = split_jacobian(method, p_x, p_y_given_x, trivial, 0, 0.0)
    proj = np.eye(w.size) - np.outer(np.ones(w.size), w)
    ev = np.linalg.eigvals(proj @ (j1 - j0) @ proj).real
    ev = np.sort(ev[ev > EIG_TOL])[::-1]
    return 1.0 / ev


def critical_betas(p_xy: Any, method: str = "ib", *, n_critical: int = 1, beta_max: float | None = None,
                   n_grid: int = 60, normalize: bool = False, seed: Any = 0) -> np.ndarray:
    """Ascending betas where the trivial solution, and later a cluster, loses stability (local bifurcations).

    The first value is the trivial solution's instability, 1/rho_m^2 for the IB (theory.md 1.5) and
    1/lambda_max(P K_dual P) for the dualIB (theory.md 3.4), from the Jacobian of the fixed-point
    map (module docstring; NumPy only). With ``n_critical > 1`` the forward-annealed branch
    is followed on ``n_grid`` log-spaced betas up to ``beta_max`` (default 50 beta_1), and each point
    where the largest split eigenvalue of one of its clusters crosses 1 is bisected to relative
    precision CRITICAL_RTOL. Fewer than ``n_critical`` values are returned when no more are found;
    with ``beta_max`` given, none above it (an empty array when even beta_1 is above it).
    These are local points; the global (possibly first-order) transitions of the optimal curve are
    ``ib_curve(...).transitions``.
    """
    from ..numeric import as_generator
    from ._curve import _Annealer

    check_method(method)
    n_critical = check_positive_int(n_critical, "n_critical")
    n_grid = check_positive_int(n_grid, "n_grid")
    if beta_max is not None and not (isinstance(beta_max, int | float | np.floating | np.integer)
                                     and math.isfinite(float(beta_max)) and float(beta_max) > 0):
        # checked whatever n_critical is: a bad beta_max must not pass silently (issue 21)
        raise ValueError(f"beta_max must be a finite positive number, got {beta_max!r}")
    joint = check_joint(p_xy, normalize=normalize)
    trivial = trivial_critical_betas(joint, method)
    if trivial.size == 0:
        return trivial
    found = [float(trivial[0])]
    if beta_max is not None and found[0] > float(beta_max):
        return np.array([], dtype=np.float64)  # none up to beta_max
    if n_critical == 1:
        return np.array(found)
    p_x, p_y_given_x = marginals(joint)
    top = 50.0 * found[0] if beta_max is None else float(beta_max)
    if not (math.isfinite(top) and top > found[0]):
        raise ValueError(f"beta_max must be finite and above the first critical beta {found[0]!r}, got {beta_max!r}")
    # obj_tol=None: follow the branch to the stated residual, not just to a flat objective
    ann = _Annealer(array_backend("numpy"), p_x, p_y_given_x, method, p_x.size, as_generator(seed), 1e-12,
                    CRITICAL_MAX_ITER, obj_tol=None)
    grid = np.geomspace(found[0] * (1 + 1e-2), top, n_grid)
    q = ann.split(np.ones((p_x.size, 1)))
    q, _ = ann.solve(ann.split(q), float(grid[0]))
    prev_beta, prev_q = float(grid[0]), q
    for beta in grid[1:]:
        q_new, _ = ann.solve(prev_q, float(beta))
        if _split_eigenvalue(method, p_x, p_y_given_x, q_new, float(beta)) > 1.0 or q_new.shape[1] != prev_q.shape[1]:
            lo, hi, q_lo = prev_beta, float(beta), prev_q
            while hi / lo - 1 > CRITICAL_RTOL:
                mid = math.sqrt(lo * hi)
                q_mid, _ = ann.solve(q_lo, mid)
                if q_mid.shape[1] == q_lo.shape[1] and _split_eigenvalue(method, p_x, p_y_given_x, q_mid, mid) <= 1.0:
                    lo, q_lo = mid, q_mid
                else:
                    hi = mid
            found.append(math.sqrt(lo * hi))
            if len(found) >= n_critical:
                break
            q_new, _ = ann.solve(ann.split(q_lo), float(beta))
            q_new = compact(q_new, p_x, p_y_given_x, method, MASS_TOL, MERGE_TOL)
        prev_beta, prev_q = float(beta), q_new
    return np.array(found)
