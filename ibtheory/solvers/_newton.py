"""Newton's method on the IB fixed point: the polish where the alternation converges slowly.

Near a transition the alternation of the self-consistent equations (theory.md 1.3) converges
linearly at a rate close to 1 (critical slowing down), so polishing to ``tol`` can take thousands
of alternations. The fixed point is a root of a map of small dimension, which Newton's method
reaches in a few steps (derived here; the Jacobian is checked against finite differences of the
generated step in tests/solvers/test_newton.py).

Variables: the joint n(t, y) = sum_x p(x, y) p(t|x) (K x n_y; p(t) and the decoder follow from it).
One alternation maps n to n' through the encoder it implies (Tishby, Pereira & Bialek 1999):

    l_t = log sum_y n(t, y),   logit(x, t) = (1 - beta) l_t + beta sum_y p(y|x) log n(t, y)
    (= log p(t) - beta KL[p(y|x) || p(y|t)] up to a term constant in t),
    q = softmax_t(logit),      n'(t, y) = sum_x p(x, y) q(x, t).

Its Jacobian, with a(x, s, y) = (1 - beta) p(y|s) + beta p(y|x) = d logit(x, s) / d log n(s, y):

    dn'(t, y) / dn(s, z) = [t = s] T_t(y, z) - sum_x g(x, t, y) h(x, s, z),
    T_t(y, z) = sum_x p(x, y) q(x, t) a(x, t, z) / n(t, z),
    g(x, t, y) = p(x, y) q(x, t),   h(x, s, z) = q(x, s) a(x, s, z) / n(s, z),

block diagonal (K blocks n_y x n_y) minus a product of rank n_x. The Newton system
(J - I) d = -(n' - n) is solved by the Woodbury identity: n_x x n_x and K small systems per beta.
Entries of n at or below FROZEN (clusters without mass, values of y a cluster never sees) are
held fixed: their logs carry no information and would make the system singular.

Each step is safeguarded: the step length is cut by 4 until the stated residual (one generated
alternation, :func:`._engine.max_change`) decreases, at most LINE_SEARCH times; a member that
cannot make progress leaves Newton's method (the caller continues with alternations).
NumPy only; ``method="ib"`` only (the dualIB's decoder is a geometric mean, another map).
"""

from __future__ import annotations

import numpy as np

from .._generated import ib_numpy
from ..numeric import array_backend
from ._engine import max_change

#: Entries of the joint n(t, y) at or below this are held fixed (padding clusters carry mass
#: ~1e-200; a cluster's share of a y it never sees underflows towards the step's 1e-300 floor).
FROZEN = 1e-150
#: Floor of n(t, y) inside logarithms, as the generated step floors p(t) and the decoder.
FLOOR = 1e-300
#: Step-length cuts (by 4) tried before a member leaves Newton's method.
LINE_SEARCH = 5
#: Newton steps at most per member (convergence is quadratic: from a residual of 1e-6, three
#: steps reach round-off when the step is not cut).
MAX_STEPS = 12
#: A step is accepted when it lowers the objective by more than this (relative to max(1, |L|)),
#: or lowers the residual without raising the objective by more than this (round-off).
OBJ_SLACK = 1e-15

_NP = array_backend("numpy")


def _encoder(log_n: np.ndarray, p_y_given_x: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """log q(x, t) of the joints ``log_n`` (B, K, n_y) (module docstring)."""
    m = log_n.max(axis=-1, keepdims=True)
    log_mass = (m + np.log(np.exp(log_n - m).sum(axis=-1, keepdims=True)))[..., 0]  # (B, K)
    logit = (1 - beta)[:, None, None] * log_mass[:, None, :] + beta[:, None, None] * np.einsum(
        "xy,bty->bxt", p_y_given_x, log_n)
    # shifted before normalising (not logit - logsumexp(logit)): logits reach ~beta * log 1e-300, and
    # rounding of logit - (m + log sum) there moved the residual enough to stall 11 of 80 line searches
    logit -= logit.max(axis=-1, keepdims=True)
    return logit - np.log(np.exp(logit).sum(axis=-1, keepdims=True))


def _step(log_q: np.ndarray, p_x: np.ndarray, p_y_given_x: np.ndarray, beta: np.ndarray) -> np.ndarray:
    return ib_numpy.ib_step(log_q, p_x, p_y_given_x, beta).log_p_t_given_x


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched ``np.linalg.solve``; a member whose matrix is singular gets NaN (it leaves Newton's method)."""
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        out = np.full(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], np.nan)
        for i in range(a.shape[0]):
            try:
                out[i] = np.linalg.solve(a[i], b[i])
            except np.linalg.LinAlgError:
                pass
        return out


def newton_direction(n: np.ndarray, q: np.ndarray, n_next: np.ndarray, p_xy: np.ndarray, p_y_given_x: np.ndarray,
                     beta: np.ndarray, live: np.ndarray) -> np.ndarray:
    """The Newton step d for the joints ``n`` (B, K, n_y), with q = q(n) (B, n_x, K) and n' = n(q):
    (J - I) d = -(n' - n) over the ``live`` entries (others: d = 0), by the Woodbury identity."""
    n_b, k, n_y = n.shape
    safe_n = np.where(live, n, 1.0)
    decoder = n / n.sum(axis=-1, keepdims=True)
    a = (1 - beta)[:, None, None, None] * decoder[:, None] + beta[:, None, None, None] * p_y_given_x[None, :, None, :]
    h = q[..., None] * a / safe_n[:, None]  # (B, x, K, y)
    h = np.where(live[:, None], h, 0.0)
    g = p_xy[None, :, None, :] * q[..., None]  # (B, x, K, y)
    g = np.where(live[:, None], g, 0.0)
    # M = T - I per cluster, frozen entries as -1 on the diagonal (their d is then 0)
    t_blocks = np.einsum("bxty,bxtz->btyz", g, a) / safe_n[:, :, None, :]
    t_blocks = np.where(live[..., :, None] & live[..., None, :], t_blocks, 0.0)
    m = t_blocks - np.eye(n_y)
    f = np.where(live, n_next - n, 0.0)
    # (M - G H)^-1 f = M^-1 f + M^-1 G (I - H M^-1 G)^-1 H M^-1 f
    g_cols = np.moveaxis(g, 1, -1)  # (B, K, y, x)
    minv_f = _solve(m, f[..., None])[..., 0]  # (B, K, y)
    minv_g = _solve(m, g_cols)  # (B, K, y, x)
    h_flat = h.reshape(n_b, -1, k * n_y)  # (B, x, D)
    cap = np.eye(h_flat.shape[1]) - h_flat @ minv_g.reshape(n_b, k * n_y, -1)
    z = _solve(cap, h_flat @ minv_f.reshape(n_b, k * n_y, 1))  # (B, x, 1)
    d = minv_f + (minv_g.reshape(n_b, k * n_y, -1) @ z).reshape(n_b, k, n_y)
    return -np.where(live, d, 0.0)


def newton_polish(log_q: np.ndarray, p_x: np.ndarray, p_y_given_x: np.ndarray, betas: np.ndarray, tol: float,
                  max_steps: int = MAX_STEPS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Safeguarded Newton steps (module docstring) on the IB encoders ``log_q`` (B, n_x, K) at
    ``betas`` (B,) until each residual is <= ``tol``, ``max_steps`` are taken, or a step cannot
    lower the residual. Returns (log_q, generated alternations spent on residual checks, residual)."""
    p_xy = p_x[:, None] * p_y_given_x
    log_q = np.array(log_q, dtype=np.float64)
    betas = np.asarray(betas, dtype=np.float64)
    n_b = log_q.shape[0]
    spent = np.zeros(n_b, dtype=np.int64)
    residual = max_change(_NP, _step(log_q, p_x, p_y_given_x, betas), log_q)
    objective = ib_numpy.ib_lagrangian(p_x, p_y_given_x, np.exp(log_q), betas)
    spent += 1
    active = np.flatnonzero(residual > tol)
    for _ in range(max_steps):
        if active.size == 0:
            break
        b = betas[active]
        q = np.exp(log_q[active])
        n = np.einsum("bxt,xy->bty", q, p_xy)
        live = n > FROZEN
        log_n = np.log(np.maximum(n, FLOOR))
        q_n = np.exp(_encoder(log_n, p_y_given_x, b))
        n_next = np.einsum("bxt,xy->bty", q_n, p_xy)
        with np.errstate(all="ignore"):
            d = newton_direction(n, q_n, n_next, p_xy, p_y_given_x, b, live)
        ok = np.isfinite(d).all(axis=(1, 2))
        alpha = np.ones(active.size)
        accepted = np.zeros(active.size, dtype=bool)
        for _ in range(LINE_SEARCH):
            todo = np.flatnonzero(ok & ~accepted)
            if todo.size == 0:
                break
            trial = n[todo] + alpha[todo, None, None] * d[todo]  # (frozen entries: d = 0)
            positive = (trial > 0) | ~live[todo]
            lq = _encoder(np.log(np.maximum(trial, FLOOR)), p_y_given_x, b[todo])
            res = max_change(_NP, _step(lq, p_x, p_y_given_x, b[todo]), lq)
            obj = ib_numpy.ib_lagrangian(p_x, p_y_given_x, np.exp(lq), b[todo])
            spent[active[todo]] += 1
            slack = OBJ_SLACK * np.maximum(1.0, np.abs(objective[active[todo]]))
            better = ((obj < objective[active[todo]] - slack) | ((res < residual[active[todo]]) & (obj <= objective[active[todo]] + slack))) & positive.all(axis=(1, 2))
            idx = active[todo[better]]
            log_q[idx] = lq[better]
            residual[idx] = res[better]
            objective[idx] = obj[better]
            accepted[todo[better]] = True
            alpha[todo[~better]] /= 4
        active = active[accepted & (residual[active] > tol)]
    return log_q, spent, residual
