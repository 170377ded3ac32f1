"""Optimal IB / dualIB curves by deterministic annealing (theory.md 1.5), batched over beta.

Algorithm (all updates are the generated kernels, looped by :func:`._engine.iterate`):

1. **forward annealing**: from the trivial encoder (one cluster) at the smallest beta, upwards;
   at each beta every effective cluster is duplicated and slightly perturbed (cluster splitting),
   the alternation converges, and dead clusters are dropped and identical ones merged;
2. **reverse annealing**: from the best of (the forward solution, a near-identity encoder with one
   cluster per x when the capacity allows) at the largest beta, downwards, warm-started and merged
   (the sweep direction of genIB.py, theory.md 1.3);
3. near-identity seeds are solved at evenly spread betas (all of them on small problems, batched
   within SEED_BUDGET); per beta the best candidate is kept; betas whose grid neighbours have a
   different cluster count are re-solved from those neighbours, sweep after sweep while that
   improves some beta (a first-order transition can hide a branch from the annealing sweeps);
   all betas are then **polished together**
   as one batch (padded with dead clusters) down to ``tol``;
4. **global transitions**: where the optimal number of effective clusters changes between grid
   points, the two branches are continued into the gap and compared; bisection in log beta
   locates the switch to a relative precision ``transition_rtol``.

``effort="fast"`` runs step 2 alone, each beta stopped at embo-like tolerances (FAST_TOL, FAST_OBJ_TOL,
FAST_MAX_ITER), then step 4: no forward sweep, seeds, re-seeding or polish. It is a good curve,
not a certified optimum (benchmarks/bench_ib.py compares both efforts with embo and dit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._generated import ib_numpy
from ..display import repr_html
from ..numeric import (
    ArrayBackend,
    array_backend,
    as_generator,
    check_beta,
    check_joint,
    check_positive,
    check_positive_int,
    check_units,
    to_units,
)
from ._engine import compact, iterate, point_kernel, point_objective
from ._solve import (
    DEFAULT_TOL,
    MASS_TOL,
    MERGE_TOL,
    check_method,
    check_n_clusters,
    marginals,
)

#: Tolerance of the annealing sweeps (each beta is polished to ``tol`` afterwards).
ANNEAL_TOL = 1e-6
#: The sweeps also stop a solve once a round lowers the objective by at most this, relative
#: (converged in value; slow drifts of mass between clusters with nearly equal decoders, which
#: barely move the objective, are left to the polish).
ANNEAL_OBJ_TOL = 1e-12
#: Iteration cap per beta in the sweeps; the polish uses ``max_iter``. On random 64x8 joints 200
#: instead of 500 changed no objective by more than 7e-9 nats and took 40% less time.
ANNEAL_MAX_ITER = 200
#: Alternation cap of the batched polish. Slow modes that remain after it are drifts of mass between
#: clusters with nearly equal decoders, which change the objective by less than round-off; the
#: result's ``converged`` and ``residual`` say where the cap was hit.
CURVE_MAX_ITER = 3000
#: Size budget (entries of the (B, x, y, t) step arrays) of the batch of near-identity seeds: one
#: seed per beta on small problems, fewer (evenly spread, then propagated) on large ones.
SEED_BUDGET = 4_000_000
#: A neighbour-seeded solution replaces the current one when better by more than this (nats).
REFINE_GAIN = 1e-12
#: Relative size of the split perturbation p(t|x) (1 +- eps r(x)), r ~ U(-1, 1).
PERTURBATION = 1e-2
#: Smoothing of the near-identity start of the reverse sweep: p(t|x) = (1 - eps) [t = x] + eps / n_t.
IDENTITY_SMOOTHING = 1e-3
#: Mass given to padding clusters and floor of encoder entries when batching (far below MASS_TOL,
#: so padding is dropped when compacting and changes objectives by < 1e-150).
PAD_MASS = 1e-200
#: Jobs of very different cluster counts (padding would more than quadruple the work, widths above
#: this) are split into batches by width.
BATCH_WIDTH_SLACK = 8
#: Relative precision (in beta) to which global transitions are located.
TRANSITION_RTOL = 1e-3
#: effort="fast": residual tolerance, relative flat-objective tolerance and alternation cap per beta
#: of the single reverse sweep, after embo's default stopping rule (relative change of the cost below
#: rtol = 1e-3 between alternations, at most 100 alternations, 3 restarts per beta); ours compares
#: accelerated rounds of 3 alternations. On random 64x8 joints 1e-3 instead of 1e-4 took a third fewer
#: alternations and left the curve within 9e-4 nats of the optimum (4e-4 with 1e-4), still at or
#: below embo's objective at every beta (benchmarks/bench_ib.py).
FAST_TOL = 1e-3
FAST_OBJ_TOL = 1e-3
FAST_MAX_ITER = 30
EFFORTS = ("optimum", "fast")


@dataclass(frozen=True)
class IBCurve:
    """An optimal information curve on a grid of betas.

    Fields
    ------
    method: ``"ib"`` or ``"dualib"``; units: ``"nats"`` or ``"bits"``.
    betas: (B,) ascending.
    i_xt, i_ty: (B,) I(X;T) and I(T;Y) in ``units`` (I(T;Y) with the Markov decoder for both methods).
    objective: (B,) IB: I(X;T) - beta I(T;Y); dualIB: I(X;T) + beta E KL[p(y|t)||p(y|x)], in ``units``.
    n_clusters: (B,) effective clusters (distinct decoders with mass > MASS_TOL).
    encoders: tuple of B arrays p(t|x), each (n_x, K_b) with K_b = n_clusters[b] (compacted).
    converged: (B,) bool; n_iter: (B,) alternations of the polish; residual: (B,) last max |delta p(t|x)|.
    transitions: (M,) betas where the optimal number of effective clusters changes (global
        transitions, located by comparing branches to relative precision ``transition_rtol``);
        transition_clusters: (M, 2) the counts below / above each.
    """

    method: str
    units: str
    betas: np.ndarray
    i_xt: np.ndarray
    i_ty: np.ndarray
    objective: np.ndarray
    n_clusters: np.ndarray
    encoders: tuple[np.ndarray, ...]
    converged: np.ndarray
    n_iter: np.ndarray
    residual: np.ndarray
    transitions: np.ndarray
    transition_clusters: np.ndarray
    transition_rtol: float
    _repr_html_ = repr_html  # a summary table in Jupyter (ibtheory.display)


class _Annealer:
    """Warm-started solves on the chosen backend, several (encoder, beta) jobs per batch."""

    def __init__(self, be: ArrayBackend, p_x: np.ndarray, p_y_given_x: np.ndarray, method: str, capacity: int,
                 rng: np.random.Generator, tol: float, max_iter: int,
                 obj_tol: float | None = ANNEAL_OBJ_TOL) -> None:
        self.be, self.method, self.capacity, self.rng = be, method, capacity, rng
        self.p_x, self.p_y_given_x = p_x, p_y_given_x
        self.bp_x, self.bp_y = be.asarray(p_x), be.asarray(p_y_given_x)
        self.tol, self.max_iter, self.obj_tol = tol, max_iter, obj_tol
        self.point = point_kernel(ib_numpy, method)

    def solve_many(self, jobs: list[tuple[np.ndarray, float]]) -> list[tuple[np.ndarray, float]]:
        """Solve each (encoder, beta) job; jobs of very different widths run in separate batches."""
        widths = [q.shape[1] for q, _ in jobs]
        per_job = self.p_x.size * self.p_y_given_x.shape[1] * max(widths)
        if len(jobs) > 1 and len(jobs) * per_job > SEED_BUDGET:
            half = len(jobs) // 2
            return self.solve_many(jobs[:half]) + self.solve_many(jobs[half:])
        if len(jobs) > 1 and max(widths) > max(BATCH_WIDTH_SLACK, 2 * min(widths)) and max(widths) * len(jobs) > 4 * sum(widths):
            order = np.argsort(widths)
            half = len(jobs) // 2
            lo = self.solve_many([jobs[i] for i in order[:half]])
            hi = self.solve_many([jobs[i] for i in order[half:]])
            out: list[tuple[np.ndarray, float]] = [(np.empty(0), 0.0)] * len(jobs)
            for k, i in enumerate(order):
                out[i] = lo[k] if k < half else hi[k - half]
            return out
        log_q = self.be.asarray(np.log(_pad([q for q, _ in jobs], max(widths))))
        betas = np.array([b for _, b in jobs], dtype=np.float64)
        log_q, _, _ = iterate(self.be, log_q, self.bp_x, self.bp_y, self.be.asarray(betas), self.method,
                              self.tol, self.max_iter, obj_tol=self.obj_tol)
        log_all = self.be.to_numpy(log_q)
        q_all = np.exp(log_all)
        out = []
        for i, beta in enumerate(betas):
            q, point = self.compact(q_all[i], log_all[i])
            out.append((q, float(point_objective(point, beta))))
        return out

    def compact(self, q: np.ndarray, log_q: np.ndarray | None = None) -> tuple[np.ndarray, Any]:
        """The compacted encoder and its generated point summary (p(t), decoder, I(X;T), I(T;Y), slope).

        ``log_q``: the encoder's logs when the caller has them (rare rows are then renormalised in
        the log domain, see :func:`compact`)."""
        point = self.point(self.p_x, self.p_y_given_x, q)
        out = compact(q, self.p_x, self.p_y_given_x, self.method, MASS_TOL, MERGE_TOL, point, log_q)
        if out.shape != q.shape:  # clusters dropped or merged: summarise the compacted encoder
            point = self.point(self.p_x, self.p_y_given_x, out)
        return out, point

    def solve(self, q: np.ndarray, beta: float) -> tuple[np.ndarray, float]:
        return self.solve_many([(q, beta)])[0]

    def split(self, q: np.ndarray) -> np.ndarray:
        """Duplicate each cluster (largest first, within capacity) into two perturbed halves."""
        n_split = min(q.shape[1], self.capacity - q.shape[1])
        if n_split <= 0:
            return q
        r = self.rng.uniform(-1.0, 1.0, size=(q.shape[0], n_split))
        a = q[:, :n_split] * 0.5 * (1 + PERTURBATION * r)
        b = q[:, :n_split] * 0.5 * (1 - PERTURBATION * r)
        return np.concatenate([a, q[:, n_split:], b], axis=1)


def _pad(encoders: list[np.ndarray], width: int) -> np.ndarray:
    """Stack encoders (n_x, K_i) as (B, n_x, width); extra clusters get mass PAD_MASS (then renormalised).

    Exact zeros would make a dead cluster's distortion infinite, and 0 * inf at beta = 0 is NaN.
    """
    out = np.full((len(encoders), encoders[0].shape[0], width), PAD_MASS)
    for i, q in enumerate(encoders):
        out[i, :, : q.shape[1]] = np.maximum(q, PAD_MASS)
    return out / out.sum(axis=-1, keepdims=True)


def ib_curve(
    p_xy: Any,
    betas: Any,
    *,
    method: str = "ib",
    n_clusters: int | None = None,
    units: str = "nats",
    normalize: bool = False,
    tol: float = DEFAULT_TOL,
    max_iter: int = CURVE_MAX_ITER,
    backend: str = "numpy",
    device: Any = None,
    seed: Any = 0,
    reverse: bool = True,
    forward: bool = True,
    locate_transitions: bool = True,
    transition_rtol: float = TRANSITION_RTOL,
    effort: str = "optimum",
) -> IBCurve:
    """The optimal IB (``method="ib"``) or dualIB (``"dualib"``) curve of ``p_xy`` on ``betas``.

    Deterministic annealing in both directions with cluster splitting and merging, the better
    branch kept per beta, then a batched polish (module docstring; theory.md 1.3, 1.5, 3.2). The
    capacity ``n_clusters`` (default n_x) bounds the number of clusters. ``backend="torch"`` with
    ``device=`` runs the kernels in torch (float64). Information in nats (``units="bits"`` on request).

    ``effort="optimum"`` (default) runs the whole pipeline of the module docstring, made to find the
    optimum at every beta; ``effort="fast"`` runs the reverse annealing sweep alone with loose
    per-beta stopping (FAST_TOL, FAST_OBJ_TOL, FAST_MAX_ITER; ``tol`` and ``max_iter`` then do not
    apply, and ``converged`` reports residual <= FAST_TOL).

    Cost: each alternation touches n_x * n_y * n_clusters entries per beta. A random 64x8 joint on 80
    betas takes 9-21 s with the default effort and 0.15-0.23 s with ``effort="fast"`` on one CPU core
    (two machines); 512x16 takes 5-7 s fast (benchmarks/bench_ib.py). For n_x in the hundreds and
    the default effort pass a smaller ``n_clusters``: the curve is then optimal among encoders with
    at most that many clusters, which binds at large beta (``n_clusters`` of the result shows where
    it saturates).
    """
    opts = _CurveOptions.checked(method=method, units=units, tol=tol, max_iter=max_iter, reverse=reverse,
                                 forward=forward, locate_transitions=locate_transitions,
                                 transition_rtol=transition_rtol, effort=effort)
    joint = check_joint(p_xy, normalize=normalize)
    betas_sorted = np.sort(np.atleast_1d(check_beta(betas, name="betas")))
    if betas_sorted.size == 0:
        raise ValueError("betas is empty; pass at least one beta")
    p_x, p_y_given_x = marginals(joint)
    capacity = check_n_clusters(n_clusters, p_x.size)
    rng = as_generator(seed)
    ann = _Annealer(array_backend(backend, device), p_x, p_y_given_x, method, capacity, rng,
                    min(ANNEAL_TOL, opts.tol * 100), ANNEAL_MAX_ITER)
    q_eye = _near_identity(p_x.size, capacity)
    # the reverse sweep starts from one cluster per x when the capacity allows, else at random
    q_rev = q_eye if capacity >= p_x.size else rng.dirichlet(np.ones(capacity), size=p_x.size)
    if opts.effort == "fast":
        encoders, points, n_iter, residual = _fast_sweep(ann, q_rev, betas_sorted)
        return _finish(ann, encoders, points, betas_sorted, n_iter, residual, FAST_TOL, opts)
    candidates = _anneal_both_ways(ann, betas_sorted, q_rev, forward=opts.forward, reverse=opts.reverse)
    if opts.reverse and capacity >= p_x.size:
        _add_identity_seeds(ann, betas_sorted, q_eye, candidates)
    best = _reseed_from_neighbours(ann, betas_sorted, [min(c, key=lambda s: s[1]) for c in candidates])
    encoders, points, n_iter, residual = _polish(ann, betas_sorted, [q for q, _ in best], opts.tol, opts.max_iter)
    return _finish(ann, encoders, points, betas_sorted, n_iter, residual, opts.tol, opts)


@dataclass(frozen=True)
class _CurveOptions:
    """The validated settings of :func:`ib_curve` that its phases read."""

    method: str
    units: str
    tol: float
    max_iter: int
    reverse: bool
    forward: bool
    locate_transitions: bool
    transition_rtol: float
    effort: str

    @classmethod
    def checked(cls, *, method: str, units: str, tol: Any, max_iter: Any, reverse: bool, forward: bool,
                locate_transitions: bool, transition_rtol: Any, effort: str) -> _CurveOptions:
        check_method(method)
        check_units(units)
        if effort not in EFFORTS:
            raise ValueError(f"effort must be one of {EFFORTS}, got {effort!r}")
        if not (reverse or forward):
            raise ValueError("at least one of reverse=True or forward=True is needed")
        if effort == "fast" and not reverse:
            raise ValueError("effort='fast' runs the reverse sweep only; it needs reverse=True")
        return cls(method=method, units=units, tol=check_positive(tol, "tol"),
                   max_iter=check_positive_int(max_iter, "max_iter"), reverse=bool(reverse), forward=bool(forward),
                   locate_transitions=bool(locate_transitions),
                   transition_rtol=check_positive(transition_rtol, "transition_rtol"), effort=effort)


def _near_identity(n_x: int, capacity: int) -> np.ndarray:
    """p(t|x) = (1 - eps) [t = x] + eps / capacity, rows renormalised (eps = IDENTITY_SMOOTHING)."""
    eye = (1 - IDENTITY_SMOOTHING) * np.eye(n_x, capacity) + IDENTITY_SMOOTHING / capacity
    return eye / eye.sum(axis=1, keepdims=True)


Solved = tuple[np.ndarray, float]  # (compacted encoder, objective in nats)


def _anneal_both_ways(ann: _Annealer, betas_sorted: np.ndarray, q_rev: np.ndarray, *, forward: bool,
                      reverse: bool) -> list[list[Solved]]:
    """Phase 1-2: the forward sweep (from one cluster, split at each beta, upwards) and the reverse
    sweep (from ``q_rev`` downwards), each warm-started from its previous beta, both in one batch
    per step. Returns the candidate solutions at each beta."""
    n_b = betas_sorted.size
    candidates: list[list[Solved]] = [[] for _ in range(n_b)]
    q_fwd = np.ones((q_rev.shape[0], 1))
    for k in range(n_b):
        jobs = []
        if forward:
            jobs.append((ann.split(q_fwd), float(betas_sorted[k])))
        if reverse:
            jobs.append((q_rev, float(betas_sorted[n_b - 1 - k])))
        solved = ann.solve_many(jobs)
        if forward:
            q_fwd = solved[0][0]
            candidates[k].append(solved[0])
        if reverse:
            q_rev = solved[-1][0]
            candidates[n_b - 1 - k].append(solved[-1])
    return candidates


def _add_identity_seeds(ann: _Annealer, betas_sorted: np.ndarray, q_eye: np.ndarray,
                        candidates: list[list[Solved]]) -> None:
    """Phase 3a: near-identity seeds (one cluster per x) solved at evenly spread betas, as many as
    fit one batch of SEED_BUDGET entries; each result joins its beta's candidates."""
    n_b = betas_sorted.size
    n_x, n_y = ann.p_y_given_x.shape
    n_seed = int(min(n_b, max(1, SEED_BUDGET // (n_x * n_y * ann.capacity))))
    seed_idx = np.unique(np.round(np.linspace(0, n_b - 1, n_seed)).astype(int))
    for i, sol in zip(seed_idx, ann.solve_many([(q_eye, float(betas_sorted[i])) for i in seed_idx]), strict=True):
        candidates[i].append(sol)


def _reseed_from_neighbours(ann: _Annealer, betas_sorted: np.ndarray, best: list[Solved]) -> list[Solved]:
    """Phase 3b: re-solve each beta from its grid neighbours' solutions where their cluster counts
    differ, sweep after sweep while that improves some beta (by more than REFINE_GAIN): a
    first-order transition can hide a branch from the annealing sweeps."""
    n_b = betas_sorted.size
    best = list(best)
    # (source j, target i) seedings already solved with the current best[j]: solving one again gives
    # the same result, which best[i] (only ever lowered) already beats or holds
    tried: set[tuple[int, int]] = set()
    for _ in range(n_b):
        jobs, where = [], []
        for i in range(n_b):
            for j in (i - 1, i + 1):
                if 0 <= j < n_b and best[j][0].shape[1] != best[i][0].shape[1] and (j, i) not in tried:
                    jobs.append((best[j][0], float(betas_sorted[i])))
                    where.append((j, i))
        if not jobs:
            break
        tried.update(where)
        improved = set()
        for (_, i), sol in zip(where, ann.solve_many(jobs), strict=True):
            if sol[1] < best[i][1] - REFINE_GAIN:
                best[i] = sol
                improved.add(i)
        if not improved:
            break
        tried = {(j, i) for j, i in tried if j not in improved}
    return best


def _polish(ann: _Annealer, betas_sorted: np.ndarray, chosen: list[np.ndarray], tol: float,
            max_iter: int) -> tuple[list[np.ndarray], list[Any], np.ndarray, np.ndarray]:
    """Phase 3c: all chosen encoders iterated together (padded with dead clusters) down to ``tol``,
    then compacted. Returns encoders, point summaries, alternations and residuals."""
    be = ann.be
    width = max(q.shape[1] for q in chosen)
    log_q = be.asarray(np.log(_pad(chosen, width)))
    log_q, n_iter, residual = iterate(be, log_q, ann.bp_x, ann.bp_y, be.asarray(betas_sorted), ann.method, tol,
                                      max_iter)
    log_all = be.to_numpy(log_q)
    q_all = np.exp(log_all)
    encoders, points = zip(*(ann.compact(q_all[i], log_all[i]) for i in range(betas_sorted.size)), strict=True)
    return list(encoders), list(points), n_iter, residual


def _fast_sweep(ann: _Annealer, q_start: np.ndarray, betas_sorted: np.ndarray) -> tuple[list[np.ndarray], list[Any], np.ndarray, np.ndarray]:
    """effort="fast": the reverse sweep from ``q_start`` at the largest beta down, each beta
    warm-started from the one above, stopped at FAST_TOL / FAST_OBJ_TOL / FAST_MAX_ITER and compacted.

    Returns the encoders, their point summaries (:meth:`_Annealer.compact`), alternations and
    residuals. The objective is affine in beta at a fixed encoder, so the start objective of each
    beta comes from the summary of the solution above it (no extra pass).
    """
    be, n_b = ann.be, betas_sorted.size
    encoders: list[np.ndarray] = [q_start] * n_b
    points: list[Any] = [None] * n_b
    n_iter, residual = np.zeros(n_b, dtype=np.int64), np.zeros(n_b)
    q, point = ann.compact(q_start)
    for k in range(n_b - 1, -1, -1):
        beta = betas_sorted[k : k + 1]
        start_obj = np.array([point_objective(point, beta[0])], dtype=np.float64)
        log_q, it, res = iterate(be, be.asarray(np.log(_pad([q], q.shape[1]))), ann.bp_x, ann.bp_y, be.asarray(beta),
                                 ann.method, FAST_TOL, FAST_MAX_ITER, obj_tol=FAST_OBJ_TOL, start_objective=start_obj)
        log_k = be.to_numpy(log_q)[0]
        q, point = ann.compact(np.exp(log_k), log_k)
        encoders[k], points[k], n_iter[k], residual[k] = q, point, it[0], res[0]
    return encoders, points, n_iter, residual


def _finish(ann: _Annealer, encoders: list[np.ndarray], points: list[Any], betas_sorted: np.ndarray,
            n_iter: np.ndarray, residual: np.ndarray, tol: float, opts: _CurveOptions) -> IBCurve:
    """The reported quantities of the chosen encoders (from their point summaries,
    :meth:`_Annealer.compact`), and the located global transitions (phase 4)."""
    i_xt = np.maximum(np.array([float(v.i_xt) for v in points]), 0.0)
    i_ty = np.maximum(np.array([float(v.i_ty) for v in points]), 0.0)
    objective = np.array([float(point_objective(v, beta)) for v, beta in zip(points, betas_sorted, strict=True)])
    counts = np.array([q.shape[1] for q in encoders], dtype=np.int64)
    trans, trans_k = _locate_transitions(ann, encoders, betas_sorted, opts) if opts.locate_transitions else ([], [])
    units = opts.units
    return IBCurve(
        method=ann.method, units=units, betas=betas_sorted, i_xt=to_units(i_xt, units), i_ty=to_units(i_ty, units),
        objective=to_units(objective, units), n_clusters=counts, encoders=tuple(encoders), converged=residual <= tol,
        n_iter=n_iter, residual=residual, transitions=np.array(trans, dtype=np.float64),
        transition_clusters=np.array(trans_k, dtype=np.int64).reshape(-1, 2), transition_rtol=float(opts.transition_rtol),
    )


def _locate_transitions(ann: _Annealer, encoders: list[np.ndarray], betas_sorted: np.ndarray,
                        opts: _CurveOptions) -> tuple[list[float], list[tuple[int, int]]]:
    """Phase 4: the betas where the optimal cluster count changes between grid neighbours (located by
    :func:`_locate`), with the counts below and above each."""
    trans: list[float] = []
    trans_k: list[tuple[int, int]] = []
    for i in range(betas_sorted.size - 1):
        k_lo, k_hi = encoders[i].shape[1], encoders[i + 1].shape[1]
        if k_lo != k_hi:
            trans.append(_locate(ann, encoders[i], encoders[i + 1], float(betas_sorted[i]), float(betas_sorted[i + 1]),
                                 k_hi, opts.transition_rtol))
            trans_k.append((k_lo, k_hi))
    return trans, trans_k


def _locate(ann: _Annealer, q_lo: np.ndarray, q_hi: np.ndarray, lo: float, hi: float, k_hi: int, rtol: float) -> float:
    """Bisect (in log beta) where the branch through ``q_hi`` (k_hi clusters) becomes optimal.

    At each midpoint both branches are continued (warm starts from either side, plus a split of the
    low branch so that a continuous bifurcation is followed) and the better solution decides the side.
    """
    if lo <= 0:
        lo = min(hi * 1e-3, 1e-12) if hi > 0 else 0.0
        if lo == 0.0:
            return hi
    while hi / lo - 1 > rtol:
        mid = math.sqrt(lo * hi)
        cands = ann.solve_many([(q_lo, mid), (q_hi, mid), (ann.split(q_lo), mid)])
        q, _ = min(cands, key=lambda s: s[1])
        if q.shape[1] == k_hi:
            hi, q_hi = mid, q
        else:
            lo, q_lo = mid, q
    return math.sqrt(lo * hi)
