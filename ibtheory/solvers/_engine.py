"""The fixed-point iteration shared by every discrete solver, on NumPy or Torch.

The update itself is the generated kernel ``ib_step`` / ``dual_ib_step`` (ibtheory._generated.ib_*;
theory.md 1.3 and 3.2); this module only loops it, tracks the stated residual and compacts
solutions (drops dead clusters, merges clusters whose decoders coincide, theory.md 1.5).

Stopping rule (stated residual): r_k = max_{x,t} |p_{k+1}(t|x) - p_k(t|x)|, the largest change of
an encoder probability in one alternation; a batch member stops when r_k <= tol. (genIB.py uses the
mean Jensen-Shannon divergence between successive encoders, theory.md 1.3; the max-abs change is
stricter per entry and cheaper.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._generated import ib_numpy
from ..numeric import ArrayBackend

METHODS = ("ib", "dualib")

#: compact() renormalises an encoder row in the log domain when its kept probabilities sum below
#: this: 2**-968 ~ 4e-292, where their exponentials are 2**52 above the subnormal range or lost.
RARE_ROW_SUM = 2.0**-968
#: Largest SQUAREM step length |alpha| = |r| / |v| taken (:func:`_extrapolate`): log-encoder
#: entries are at most ~1e10 in size (beta * KL), so alpha^2 |v| = alpha |r| stays far inside float64.
MAX_STEP = 1e100
#: Every this many accelerated rounds :func:`iterate` also measures the plain step from the round's
#: start (one more residual; rarely enough to leave the speed unchanged).
PLAIN_CHECK_EVERY = 8


@dataclass(frozen=True)
class KernelSet:
    """The per-method kernels the engine loops (the seam for run-time generated kernels).

    Every solver and the annealer receive one of these instead of a method name, so a kernel set
    generated at run time for a user functional (same signatures and axes as the committed ones)
    runs through the same iteration, envelope and polish.

    Fields
    ------
    method: a label recorded in results (``"ib"``, ``"dualib"`` or a user functional's name).
    step: ``(log_p_t_given_x (B, x, t), p_x (x,), p_y_given_x (x, y), beta (B,)) -> .log_p_t_given_x``,
        one alternation of the self-consistent equations (generated ``ib_step`` / ``dual_ib_step``).
    objective: ``(p_x, p_y_given_x, p_t_given_x (B, x, t), beta (B,)) -> (B,)`` in nats
        (``ib_lagrangian`` / ``dual_ib_functional``).
    point: ``(p_x, p_y_given_x, p_t_given_x) -> p_t, p_y_given_t, i_xt, i_ty, slope``, with
        objective = i_xt + beta * slope (affine in beta at a fixed encoder; ``ib_point`` /
        ``dual_ib_point``).
    """

    method: str
    step: Callable[..., Any]
    objective: Callable[..., Any]
    point: Callable[..., Any]


def kernel_set(kernels: Any, method: str | KernelSet) -> KernelSet:
    """The :class:`KernelSet` of ``method`` in a generated kernel module (``ib_numpy`` or ``ib_torch``);
    a :class:`KernelSet` passes through unchanged."""
    if isinstance(method, KernelSet):
        return method
    return KernelSet(method, step_kernel(kernels, method), objective_kernel(kernels, method),
                     point_kernel(kernels, method))


#: Mass given to padding clusters and floor of encoder entries when batching (far below MASS_TOL,
#: so padding is dropped when compacting and changes objectives by < 1e-150).
PAD_MASS = 1e-200


def pad_encoders(encoders: list[np.ndarray], width: int) -> np.ndarray:
    """Stack encoders (n_x, K_i) as (B, n_x, width); extra clusters get mass PAD_MASS (then renormalised).

    Exact zeros would make a dead cluster's distortion infinite, and 0 * inf at beta = 0 is NaN.
    """
    out = np.full((len(encoders), encoders[0].shape[0], width), PAD_MASS)
    for i, q in enumerate(encoders):
        out[i, :, : q.shape[1]] = np.maximum(q, PAD_MASS)
    return out / out.sum(axis=-1, keepdims=True)


#: Relative size of the split perturbation p(t|x) (1 +- eps r(x)), r ~ U(-1, 1) (:func:`split_clusters`).
PERTURBATION = 1e-2
#: Smoothing of the near-identity start: p(t|x) = (1 - eps) [t = x] + eps / n_t (:func:`near_identity`).
IDENTITY_SMOOTHING = 1e-3
#: A re-seeded solution replaces the current one when better by more than this (nats).
REFINE_GAIN = 1e-12


def split_clusters(q: np.ndarray, capacity: int, rng: np.random.Generator) -> np.ndarray:
    """Duplicate each cluster of ``q`` (n_x, K) (the first ones, within ``capacity``) into two
    halves perturbed by 1 +- PERTURBATION r(x): the annealers' cluster splitting (theory.md 1.3)."""
    n_split = min(q.shape[1], capacity - q.shape[1])
    if n_split <= 0:
        return q
    r = rng.uniform(-1.0, 1.0, size=(q.shape[0], n_split))
    a = q[:, :n_split] * 0.5 * (1 + PERTURBATION * r)
    b = q[:, :n_split] * 0.5 * (1 - PERTURBATION * r)
    return np.concatenate([a, q[:, n_split:], b], axis=1)


def near_identity(n_x: int, capacity: int) -> np.ndarray:
    """p(t|x) = (1 - eps) [t = x] + eps / capacity, rows renormalised (eps = IDENTITY_SMOOTHING):
    one cluster per x, the start of the reverse annealing sweeps."""
    eye = (1 - IDENTITY_SMOOTHING) * np.eye(n_x, capacity) + IDENTITY_SMOOTHING / capacity
    return eye / eye.sum(axis=1, keepdims=True)


def step_kernel(kernels: Any, method: str) -> Any:
    """The generated alternation of ``method`` in a kernel module (``ib_numpy`` or ``ib_torch``)."""
    return kernels.ib_step if method == "ib" else kernels.dual_ib_step


def objective_kernel(kernels: Any, method: str) -> Any:
    """The generated objective of ``method``: ``ib_lagrangian`` or ``dual_ib_functional``."""
    return kernels.ib_lagrangian if method == "ib" else kernels.dual_ib_functional


def point_kernel(kernels: Any, method: str) -> Any:
    """The generated one-pass summary of an encoder: ``ib_point`` or ``dual_ib_point``
    (p(t), decoder, I(X;T), I(T;Y), d objective / d beta)."""
    return kernels.ib_point if method == "ib" else kernels.dual_ib_point


def point_objective(point: Any, beta: Any) -> Any:
    """The objective at ``beta`` from a :func:`point_kernel` summary: i_xt + beta * slope (the
    objective is affine in beta at a fixed encoder)."""
    return point.i_xt + beta * point.slope


def _extrapolate(be: ArrayBackend, x0: Any, x1: Any, x2: Any, on_device: bool = False) -> Any:
    """SQUAREM step (Varadhan & Roland 2008, scheme S3) on log-encoders, rows renormalised.

    r = x1 - x0, v = x2 - 2 x1 + x0, alpha = -min(|r|/|v|, ...) <= -1 per batch member, and
    x0 - 2 alpha r + alpha^2 v; entries that are -inf in any iterate stay -inf. ``on_device``: always
    mask (asking whether every entry is finite would wait for the device).
    """
    xp = be.xp
    fin = xp.isfinite(x0) & xp.isfinite(x1) & xp.isfinite(x2)
    all_finite = False if on_device else bool(fin.all())  # the usual case: no masking passes
    if not all_finite:
        x0, x1, x2 = (xp.where(fin, a, 0.0) for a in (x0, x1, x2))
    r = x1 - x0
    v = x2 - 2 * x1 + x0
    nr = xp.sqrt(be.sum(r * r, axis=(-2, -1)))
    nv = xp.sqrt(be.sum(v * v, axis=(-2, -1)))
    # |r| / |v| above MAX_STEP (v ~ 0: already at the fixed point up to round-off, or a linear
    # drift) is no extrapolation but an overflow (alpha^2 v): those members take alpha = -1,
    # for which x0 - 2 alpha r + alpha^2 v = x2, a plain step (issue 21).
    ok = nr <= MAX_STEP * nv
    ratio = xp.where(ok, nr / xp.where(ok & (nv > 0), nv, 1.0), 1.0)  # ok with nv = 0: r = 0
    alpha = -be.clip(ratio, min=1.0)[:, None, None]
    xe = x0 - 2 * alpha * r + alpha**2 * v
    if not all_finite:
        xe = xp.where(fin, xe, -float("inf"))
    return xe - be.logsumexp(xe, axis=-1, keepdims=True)


def max_change(be: ArrayBackend, new: Any, old: Any) -> np.ndarray:
    """max_{x,t} |exp(new) - exp(old)| per batch member (the stated residual), as NumPy."""
    xp = be.xp
    return be.to_numpy(be.max(xp.abs(xp.exp(new) - xp.exp(old)), axis=(-2, -1)))


def iterate(
    be: ArrayBackend, log_q: Any, p_x: Any, p_y_given_x: Any, beta: Any, method: str | KernelSet, tol: float,
    max_iter: int,
    accelerate: bool = True, obj_tol: float | None = None, start_objective: np.ndarray | None = None,
) -> tuple[Any, np.ndarray, np.ndarray]:
    """Alternate the generated step on a batch of encoders until each residual is <= ``tol``.

    ``method``: ``"ib"``, ``"dualib"`` or a :class:`KernelSet` on ``be``'s arrays.
    ``log_q`` (B, n_x, n_t) and ``beta`` (B,) are backend arrays; ``p_x`` (n_x,) and
    ``p_y_given_x`` (n_x, n_y) are shared by the batch. Returns the final encoders, the number of
    alternations (generated steps) and the last residual of each member (converged iff
    residual <= tol). The residual is always the change of one plain alternation.

    With ``accelerate`` each round takes two steps, a SQUAREM extrapolation (:func:`_extrapolate`)
    and one step from it, and keeps the extrapolated branch only when its objective (generated
    ``ib_lagrangian`` / ``dual_ib_functional``) is not above that of the plain two steps, so the
    objective never does worse than plain iteration at each round. Near critical points (slow
    linear convergence) this saves one to two orders of magnitude of steps.

    With ``obj_tol`` (accelerated rounds only) a member also stops once a round lowers its objective
    by at most ``obj_tol * max(1, |objective|)``: converged in value, which is all that choosing
    between annealing branches needs (its residual may then still exceed ``tol``).
    ``start_objective`` (B,), the objective of the starting encoders, lets that happen after the
    first round (a warm start that one round barely moves).
    """
    ks = method if isinstance(method, KernelSet) else kernel_set(be.kernels("ib"), method)
    step, objective = ks.step, ks.objective
    n_batch = int(log_q.shape[0])
    n_iter = np.zeros(n_batch, dtype=np.int64)
    residual = np.full(n_batch, np.inf)
    active = np.arange(n_batch)
    last_obj = np.full(n_batch, np.inf) if start_objective is None else np.array(start_objective, dtype=np.float64)
    rounds = 0
    while active.size and n_iter[active[0]] < max_iter:
        full = active.size == n_batch
        idx = be.index(active)
        x0 = log_q if full else log_q[idx]
        b = beta if full else beta[idx]
        x1 = step(x0, p_x, p_y_given_x, b).log_p_t_given_x
        done = np.zeros(active.size, dtype=bool)
        if not (accelerate and max_iter - n_iter[active[0]] >= 3):
            res = max_change(be, x1, x0)
            new, steps = x1, 1
        else:
            x2 = step(x1, p_x, p_y_given_x, b).log_p_t_given_x
            xe = _extrapolate(be, x0, x1, x2)
            x3 = step(xe, p_x, p_y_given_x, b).log_p_t_given_x
            # both objectives in one call (the kernel's fixed cost dominates on small problems)
            both = be.to_numpy(objective(p_x, p_y_given_x, be.xp.exp(be.concat([x2, x3])), be.concat([b, b])))
            obj2, obj3 = both[: x2.shape[0]], both[x2.shape[0] :]
            use3 = np.isfinite(obj3) & (obj3 <= obj2)
            if use3.all() or not use3.any():  # the usual case: one branch for the whole batch
                new, prev = (x3, xe) if use3[0] else (x2, x1)
            else:
                pick = be.index(use3[:, None, None])
                new, prev = be.xp.where(pick, x3, x2), be.xp.where(pick, xe, x1)
            res = max_change(be, new, prev)
            steps = 3
            rounds += 1
            if rounds % PLAIN_CHECK_EVERY == 0:
                # The residual of an extrapolated branch is that of xe, not of x0: where the fixed
                # points form a manifold (trivial encoders at large beta) xe keeps sliding along it
                # and the round never stops although x0 already is a fixed point (issue 21). Then
                # keep the plain step x1 with its own residual.
                res0 = max_change(be, x1, x0)
                stuck = (res0 <= tol) & (res > tol)
                if stuck.any():
                    new = be.xp.where(be.index(stuck[:, None, None]), x1, new)
                    res = np.where(stuck, res0, res)
            if obj_tol is not None:
                obj_new = np.where(use3, obj3, obj2)
                flat = last_obj[active] - obj_new <= obj_tol * np.maximum(1.0, np.abs(obj_new))
                last_obj[active] = obj_new
                done = done | flat
        if full:
            log_q = new
        else:
            log_q[idx] = new
        n_iter[active] += steps
        residual[active] = res
        active = active[~((res <= tol) | done)]
    return log_q, n_iter, residual


def compact(
    p_t_given_x: np.ndarray, p_x: np.ndarray, p_y_given_x: np.ndarray, method: str, mass_tol: float, merge_tol: float,
    point: Any = None, log_p_t_given_x: np.ndarray | None = None,
) -> np.ndarray:
    """Drop clusters with p(t) <= ``mass_tol`` and merge clusters whose decoders p(y|t) differ by at
    most ``merge_tol`` (max abs); returns the encoder (n_x, K) with clusters sorted by mass.

    ``point``: the output of :func:`point_kernel` for this encoder when the caller has it (its p(t)
    and decoder are used instead of computing them again).

    ``log_p_t_given_x``: the same encoder in logs, when the caller has it. Then a row whose kept
    probabilities sum below :data:`RARE_ROW_SUM` is renormalised over the kept clusters in the log
    domain (shifted by its largest kept entry before exponentiating), so a rare x whose mass sat in
    a dropped cluster keeps its relative weights p(t|x) over the kept ones, whose exponentials may
    all underflow (e.g. -beta KL ~ -2000 at beta = 1e4): in probabilities that row would become
    0/0 (issue 21). Restricting the fixed point
    p(t|x) ~ p(t) exp(-beta d(x,t)) to the kept clusters is exactly this renormalisation.

    Merging two clusters with equal decoders leaves I(X;T), I(T;Y) and both objectives unchanged
    (their distortions d(x,t) coincide, so p(t|x) is proportional across them; theory.md 1.5).
    """
    if point is None:
        point = point_kernel(ib_numpy, method)(p_x, p_y_given_x, p_t_given_x)
    p_t, p_y_given_t = point.p_t, point.p_y_given_t
    order = np.argsort(-p_t, kind="stable")
    order = order[p_t[order] > mass_tol]
    if order.size == 0:
        order = np.argsort(-p_t)[:1]
    # A row with no mass left in the kept clusters (every kept p(t|x) exactly 0, -inf in logs: a
    # rare x alone in a light cluster whose decoder no kept one shares) keeps its own cluster,
    # however light: dropping it would leave that row 0/0 (issue 21).
    held = p_t_given_x if log_p_t_given_x is None else log_p_t_given_x
    lost = ~(held[:, order] > (-np.inf if log_p_t_given_x is not None else 0.0)).any(axis=1)
    if lost.any():
        extra = np.setdiff1d(np.argmax(held[lost], axis=1), order)
        order = np.concatenate([order, extra[np.argsort(-p_t[extra], kind="stable")]])
    # Each cluster (by decreasing mass) joins the first group whose leader's decoder is within
    # merge_tol, else leads a new group. Only the close pairs (found in O(K log K)) can join.
    decoders = p_y_given_t[:, order].T  # (K, n_y)
    kept = p_t_given_x[:, order]
    if log_p_t_given_x is not None:
        rare = kept.sum(axis=1) < RARE_ROW_SUM  # only those rows: the others keep their numbers
        if rare.any():
            log_kept = log_p_t_given_x[np.ix_(rare, order)]
            kept = kept.copy()
            kept[rare] = np.exp(log_kept - log_kept.max(axis=1, keepdims=True))
    close = _close_pairs(decoders, merge_tol)
    if not close:  # no two decoders alike: the usual case
        return kept / kept.sum(axis=1, keepdims=True)
    earlier: dict[int, list[int]] = {}
    for i, j in close:
        earlier.setdefault(max(i, j), []).append(min(i, j))
    group_of = np.empty(order.size, dtype=np.int64)
    leader_group: dict[int, int] = {}
    for k in range(order.size):
        joined = [i for i in earlier.get(k, ()) if i in leader_group]
        if joined:
            group_of[k] = leader_group[min(joined)]
        else:
            group_of[k] = leader_group[k] = len(leader_group)
    out = np.zeros((p_t_given_x.shape[0], len(leader_group)))
    np.add.at(out.T, group_of, kept.T)
    return out / out.sum(axis=1, keepdims=True)


#: Added to the screening tolerance of _close_pairs: far above the rounding of a projection of
#: probabilities (~1e-16), far below any merge tolerance in use (1e-5).
SCREEN_SLACK = 1e-12


def _close_pairs(decoders: np.ndarray, tol: float) -> list[tuple[int, int]]:
    """The pairs of rows of ``decoders`` (K, n_y) within ``tol`` in max-abs distance.

    In O(K log K) plus the near pairs: with weights w, |w|_1 = 1, |w.(a - b)| <= max|a - b|, so only
    pairs whose projections lie within ``tol`` (plus SCREEN_SLACK for their rounding) can be close;
    in sorted projection order those are the pairs at offsets 1, 2, ... until an offset has none.
    The weights are not constant because each decoder sums to 1 over y.
    """
    w = np.arange(1.0, decoders.shape[1] + 1.0)
    proj = decoders @ (w / w.sum())
    rank = np.argsort(proj)
    rows, proj = decoders[rank], proj[rank]
    pairs: list[tuple[int, int]] = []
    for d in range(1, rows.shape[0]):
        near = np.flatnonzero(proj[d:] - proj[:-d] <= tol + SCREEN_SLACK)
        if near.size == 0:
            break
        hit = near[np.max(np.abs(rows[near + d] - rows[near]), axis=1) <= tol]
        pairs.extend(zip(rank[hit].tolist(), rank[hit + d].tolist(), strict=True))
    return pairs


def effective_clusters(p_t_given_x: np.ndarray, p_x: np.ndarray, p_y_given_x: np.ndarray, method: str,
                       mass_tol: float, merge_tol: float) -> int:
    """Number of distinct decoders with mass > ``mass_tol``."""
    return int(compact(p_t_given_x, p_x, p_y_given_x, method, mass_tol, merge_tol).shape[1])


#: Rounds between the host's reads of the stopping flags in :func:`iterate_on_device`.
DEVICE_SYNC_EVERY = 16


def iterate_on_device(
    be: ArrayBackend, log_q: Any, p_x: Any, p_y_given_x: Any, beta: Any, method: str | KernelSet, tol: float,
    max_iter: int, obj_tol: float | None = None, start_objective: np.ndarray | None = None,
    sync_every: int = DEVICE_SYNC_EVERY,
) -> tuple[Any, np.ndarray, np.ndarray]:
    """:func:`iterate` (accelerated rounds, same arguments, returns and stopping rules) for an
    accelerator: the branch choice, residuals, objectives and stopping flags stay on the device and
    the host reads the flags once every ``sync_every`` rounds, so no iteration waits for a transfer.
    The whole batch runs every round; a member that has stopped is frozen (its encoder, residual and
    count no longer change), so results are those of :func:`iterate` but for the rounds a member
    would have saved. Rounds of three alternations while they fit in ``max_iter``.
    """
    ks = method if isinstance(method, KernelSet) else kernel_set(be.kernels("ib"), method)
    xp = be.xp
    n_batch = int(log_q.shape[0])
    done = be.asarray(np.zeros(n_batch)) > 0
    n_iter = be.asarray(np.zeros(n_batch))
    residual = be.asarray(np.full(n_batch, np.inf))
    last_obj = be.asarray(np.full(n_batch, np.inf) if start_objective is None else start_objective)
    rounds = 0
    while 3 * (rounds + 1) <= max_iter:
        x1 = ks.step(log_q, p_x, p_y_given_x, beta).log_p_t_given_x
        x2 = ks.step(x1, p_x, p_y_given_x, beta).log_p_t_given_x
        xe = _extrapolate(be, log_q, x1, x2, on_device=True)
        x3 = ks.step(xe, p_x, p_y_given_x, beta).log_p_t_given_x
        both = ks.objective(p_x, p_y_given_x, xp.exp(be.concat([x2, x3])), be.concat([beta, beta]))
        obj2, obj3 = both[:n_batch], both[n_batch:]
        use3 = xp.isfinite(obj3) & (obj3 <= obj2)
        new = xp.where(use3[:, None, None], x3, x2)
        prev = xp.where(use3[:, None, None], xe, x1)
        res = be.max(xp.abs(xp.exp(new) - xp.exp(prev)), axis=(-2, -1))
        if (rounds + 1) % PLAIN_CHECK_EVERY == 0:
            # as in iterate: a member whose plain step from x0 is already within tol, while the
            # extrapolated branch keeps sliding along a manifold of fixed points, keeps x1
            res0 = be.max(xp.abs(xp.exp(x1) - xp.exp(log_q)), axis=(-2, -1))
            stuck = (res0 <= tol) & (res > tol)
            new = xp.where(stuck[:, None, None], x1, new)
            res = xp.where(stuck, res0, res)
        obj_new = xp.where(use3, obj3, obj2)
        stop = res <= tol
        if obj_tol is not None:
            stop = stop | (last_obj - obj_new <= obj_tol * be.clip(xp.abs(obj_new), min=1.0))
        live = ~done
        log_q = xp.where(live[:, None, None], new, log_q)
        n_iter = xp.where(live, n_iter + 3, n_iter)
        residual = xp.where(live, res, residual)
        last_obj = xp.where(live, obj_new, last_obj)
        done = done | (live & stop)
        rounds += 1
        if rounds % sync_every == 0 and bool(done.all()):
            break
    return log_q, be.to_numpy(n_iter).astype(np.int64), be.to_numpy(residual)
