"""The generalized information bottleneck (GIB) curve (Strouse & Schwab 2017; theory.md 11.1).

Minimise L_alpha[p(t|x)] = H(T) - alpha H(T|X) - beta I(T;Y) (alpha > 0; alpha = 1 is the IB) by
iterating the derived self-consistent update (generated ``gib_step``)

    p(t|x) = exp[(log p(t) - beta D_KL[p(y|x) || p(y|t)]) / alpha] / Z(x),

which never raised the objective in our tests (tests/solvers/test_gib.py checks it along the
iteration). As for the IB (:func:`ibtheory.solvers.ib_curve`), one alternation finds a stationary
point, so the curve is a careful multi-start search:

1. reverse annealing from one cluster per x at the largest beta, downwards, warm-started;
2. forward annealing from one cluster at the smallest beta, upwards, every cluster split in two
   perturbed halves at each beta (deterministic annealing, theory.md 1.5);
3. ``n_restarts`` random near-identity encoders (Strouse & Schwab's initialisation, seeded) at every
   beta, in one batch; for n_x <= 10 also every partition on the exact DIB's lower envelope (one-hot
   starts: a partition's GIB objective is its DIB objective, and they reach basins soft starts miss);
4. at a fixed encoder L is affine in beta (a line h_t - alpha h_t_given_x - beta i_ty): every
   encoder found is a line, and each beta is re-solved from the best line at it and from its grid
   neighbours' choices, then all betas are polished together to ``tol``.

Solutions are compacted between steps (dead clusters dropped, clusters with equal decoders merged):
at a fixed point two clusters with equal decoders have p(t1|x)/p(t2|x) constant in x, so merging
them leaves I(X;T) and I(T;Y) unchanged and lowers H(T) and H(T|X) by the same amount, which
changes L by -(1 - alpha) times it: merging never hurts for alpha <= 1 [DERIVED]; for alpha > 1
it is only done on clusters whose decoders coincide to MERGE_TOL and the polish re-checks.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._generated import gib_numpy
from ..numeric import (
    ArrayBackend,
    array_backend,
    as_generator,
    check_joint,
    check_positive,
    check_positive_int,
    check_units,
)
from ._dib import EXACT_MAX_NX, lower_envelope, one_hot, partition_information, set_partitions
from ._engine import REFINE_GAIN, compact, max_change, near_identity, pad_encoders, split_clusters
from ._engine import _extrapolate as extrapolate
from ._family import IBFamilyCurve, check_betas, family_curve
from ._solve import MASS_TOL, MERGE_TOL

#: Residual tolerance (max |delta p(t|x)|) of the final polish.
GIB_TOL = 1e-9
#: Residual tolerance and alternation cap of the annealing sweeps and restarts.
ANNEAL_TOL = 1e-6
ANNEAL_MAX_ITER = 300
#: Alternation cap of the final polish.
POLISH_MAX_ITER = 3000
#: Relative flat-objective stop of the sweeps: a solve stops once an alternation lowers L by at most
#: this times max(1, |L|) (converged in value, which is what choosing between branches needs).
ANNEAL_OBJ_TOL = 1e-10
#: Plain alternations before SQUAREM from a random start: extrapolating from the very first steps
#: jumps between basins (on random 64x8 joints at alpha = 0.5 it landed 0.005 nats above the basin
#: that plain iteration reaches from the same start).
PLAIN_WARMUP = 60
#: Rounds of re-seeding from the best lines and grid neighbours.
RESEED_ROUNDS = 3
#: Relative precision (in beta) of located transitions.
TRANSITION_RTOL = 1e-3


def check_alpha(alpha: Any) -> float:
    """The generalized IB's alpha: a finite number > 0 (alpha = 0 is the DIB: ``method="dib"``)."""
    if alpha is None:
        raise ValueError("method='gib' needs alpha > 0 (alpha = 1 is the IB; for alpha = 0 use method='dib')")
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a finite number > 0, got {alpha!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"alpha must be finite and > 0 for method='gib', got {alpha!r} (alpha = 0 is the deterministic IB: method='dib')"
        )
    return value


class _Solver:
    """Batched GIB alternations on one backend, with compaction and the pool of lines."""

    def __init__(self, be: ArrayBackend, p_x: np.ndarray, p_y_given_x: np.ndarray, alpha: float, capacity: int,
                 rng: np.random.Generator) -> None:
        self.be, self.alpha, self.capacity, self.rng = be, alpha, capacity, rng
        self.p_x, self.p_y_given_x = p_x, p_y_given_x
        self.bp_x, self.bp_y = be.asarray(p_x), be.asarray(p_y_given_x)
        self.k = be.kernels("gib")
        self.k_np = gib_numpy

    def iterate(self, log_q: Any, betas: np.ndarray, tol: float, max_iter: int,
                obj_tol: float | None, warmup: int = 0) -> tuple[Any, np.ndarray, np.ndarray]:
        """Alternate ``gib_step`` on a batch until each member's residual is <= ``tol`` (or, with
        ``obj_tol``, its objective is flat). Returns the encoders (logs), alternations and residuals.

        Each round takes two steps, a SQUAREM extrapolation (the engine's, Varadhan & Roland 2008) and
        one step from it, and keeps the extrapolated branch only where its objective (generated
        ``gib_objective``) is not above that of the plain two steps, so a round never does worse
        than plain iteration. The residual is the change of the last plain step. The first
        ``warmup`` alternations are plain (see PLAIN_WARMUP).
        """
        be = self.be
        n = int(log_q.shape[0])
        b_all = be.asarray(betas)
        a_all = be.asarray(np.full(n, self.alpha))
        n_iter = np.zeros(n, dtype=np.int64)
        residual = np.full(n, np.inf)
        last = np.full(n, np.inf)
        active = np.arange(n)
        step, objective = self.k.gib_step, self.k.gib_objective
        while active.size and n_iter[active[0]] < max_iter:
            idx = be.index(active)
            full = active.size == n
            x0 = log_q if full else log_q[idx]
            b = b_all if full else b_all[idx]
            a = a_all if full else a_all[idx]
            x1 = step(x0, self.bp_x, self.bp_y, b, a).log_p_t_given_x
            if n_iter[active[0]] < warmup:  # plain alternations first (see PLAIN_WARMUP)
                res = max_change(be, x1, x0)
                if full:
                    log_q = x1
                else:
                    log_q[idx] = x1
                n_iter[active] += 1
                residual[active] = res
                active = active[res > tol]
                continue
            x2 = step(x1, self.bp_x, self.bp_y, b, a).log_p_t_given_x
            xe = extrapolate(be, x0, x1, x2)
            x3 = step(xe, self.bp_x, self.bp_y, b, a).log_p_t_given_x
            both = be.to_numpy(objective(self.bp_x, self.bp_y, be.xp.exp(be.concat([x2, x3])), be.concat([b, b]),
                                         be.concat([a, a])))
            obj2, obj3 = both[: active.size], both[active.size :]
            use3 = np.isfinite(obj3) & (obj3 <= obj2)
            pick = be.index(use3[:, None, None])
            new, prev = be.xp.where(pick, x3, x2), be.xp.where(pick, xe, x1)
            res = max_change(be, new, prev)
            obj = np.where(use3, obj3, obj2)
            stop = res <= tol
            if obj_tol is not None:
                stop |= last[active] - obj <= obj_tol * np.maximum(1.0, np.abs(obj))
            last[active] = obj
            if full:
                log_q = new
            else:
                log_q[idx] = new
            n_iter[active] += 3
            residual[active] = res
            active = active[~stop]
        return log_q, n_iter, residual

    def solve_many(self, jobs: list[tuple[np.ndarray, float]], tol: float = ANNEAL_TOL, max_iter: int = ANNEAL_MAX_ITER,
                   obj_tol: float | None = ANNEAL_OBJ_TOL, warmup: int = 0) -> list[tuple[np.ndarray, float, int, float]]:
        """Solve each (encoder, beta) job in one batch; returns (compacted encoder, objective, n_iter, residual)."""
        width = max(q.shape[1] for q, _ in jobs)
        betas = np.array([b for _, b in jobs], dtype=np.float64)
        log_q = self.be.asarray(np.log(pad_encoders([q for q, _ in jobs], width)))
        log_q, n_iter, residual = self.iterate(log_q, betas, tol, max_iter, obj_tol, warmup)
        q_all = np.exp(self.be.to_numpy(log_q))
        out = []
        for i, beta in enumerate(betas.tolist()):
            q = compact(q_all[i], self.p_x, self.p_y_given_x, "ib", MASS_TOL, MERGE_TOL)
            out.append((q, self.objective(q, beta), int(n_iter[i]), float(residual[i])))
        return out

    def point(self, q: np.ndarray) -> Any:
        return self.k_np.gib_point(self.p_x, self.p_y_given_x, q)

    def line(self, q: np.ndarray) -> tuple[float, float]:
        """(h_t - alpha h_t_given_x, i_ty) of an encoder: its objective is a - beta s."""
        pt = self.point(q)
        return float(pt.h_t - self.alpha * pt.h_t_given_x), float(pt.i_ty)

    def objective(self, q: np.ndarray, beta: float) -> float:
        a, s = self.line(q)
        return a - beta * s

    def split(self, q: np.ndarray) -> np.ndarray:
        """Duplicate each cluster (within capacity) into two perturbed halves."""
        return split_clusters(q, self.capacity, self.rng)


def gib_curve(
    p_xy: Any,
    betas: Any,
    *,
    alpha: Any,
    units: str = "nats",
    normalize: bool = False,
    n_clusters: int | None = None,
    n_restarts: int = 1,
    tol: float = GIB_TOL,
    max_iter: int = POLISH_MAX_ITER,
    seed: Any = 0,
    backend: str = "numpy",
    device: Any = None,
    locate_transitions: bool = True,
    transition_rtol: float = TRANSITION_RTOL,
    sweeps: bool = True,
) -> IBFamilyCurve:
    """The generalized IB curve: min over encoders of H(T) - alpha H(T|X) - beta I(T;Y) on ``betas``.

    ``alpha`` > 0 (finite; 1 is the IB, alpha -> 0 approaches the deterministic IB, :func:`dib_curve`).
    The search of the module docstring (annealing both ways, ``n_restarts`` seeded random near-identity starts
    per beta, re-seeding from the lines of every encoder found, a batched polish to ``tol`` on
    max |delta p(t|x)|). ``n_clusters`` bounds the clusters (default n_x); ``backend="torch"`` with
    ``device=`` runs the generated kernels in torch. Information in nats (``units="bits"`` on request).
    The result is a heuristic optimum (``exact=False``).
    """
    a = check_alpha(alpha)
    check_units(units)
    joint = check_joint(p_xy, normalize=normalize)
    b_sorted = check_betas(betas)
    tol = check_positive(tol, "tol")
    max_iter = check_positive_int(max_iter, "max_iter")
    transition_rtol = check_positive(transition_rtol, "transition_rtol")
    n_restarts = int(n_restarts)
    if n_restarts < 0:
        raise ValueError(f"n_restarts must be >= 0, got {n_restarts}")
    p_x = joint.sum(axis=1)
    p_y_given_x = joint / p_x[:, None]
    n_x, n_b = p_x.size, b_sorted.size
    capacity = n_x if n_clusters is None else min(n_x, check_positive_int(n_clusters, "n_clusters"))
    rng = as_generator(seed)
    sv = _Solver(array_backend(backend, device), p_x, p_y_given_x, a, capacity, rng)

    cands: list[list[np.ndarray]] = [[] for _ in range(n_b)]
    q_rev = near_identity(n_x, capacity)
    q_fwd = np.ones((n_x, 1))
    for k in range(n_b if sweeps else 0):  # phases 1-2 in one batch per step
        kr = n_b - 1 - k
        (q_fwd, *_), (q_rev, *_) = sv.solve_many([(sv.split(q_fwd), float(b_sorted[k])), (q_rev, float(b_sorted[kr]))])
        cands[k].append(q_fwd)
        cands[kr].append(q_rev)
    if n_restarts:  # phase 3
        jobs = [(q, float(b)) for b in b_sorted for q in _starts(rng, n_restarts, n_x, capacity)]
        for j, (q, *_) in enumerate(sv.solve_many(jobs, warmup=PLAIN_WARMUP)):
            cands[j // n_restarts].append(q)
    if n_x <= EXACT_MAX_NX:  # phase 3b: every partition on the exact DIB envelope, at every beta
        seeds = _dib_seeds(p_x, p_y_given_x, capacity)
        for j, (q, *_) in enumerate(sv.solve_many([(q, float(b)) for b in b_sorted for q in seeds])):
            cands[j // len(seeds)].append(q)
    best = _reseed(sv, b_sorted, cands)
    solved = sv.solve_many([(q, float(b)) for q, b in zip(best, b_sorted, strict=True)], tol, max_iter, None)
    encoders = [q for q, *_ in solved]
    n_iter = np.array([n for *_, n, _ in solved])
    residual = np.array([r for *_, r in solved])
    points = [sv.point(q) for q in encoders]
    trans, trans_k = _transitions(sv, encoders, b_sorted, transition_rtol) if locate_transitions else ([], [])
    return family_curve(
        "gib", a, units, b_sorted, np.array([float(pt.h_t) for pt in points]),
        np.array([float(pt.h_t_given_x) for pt in points]), np.array([float(pt.i_ty) for pt in points]), encoders,
        exact=False, converged=residual <= tol, n_iter=n_iter, residual=residual, transitions=trans,
        transition_clusters=trans_k, transition_rtol=transition_rtol,
    )


def _dib_seeds(p_x: np.ndarray, p_y_given_x: np.ndarray, capacity: int) -> list[np.ndarray]:
    """The partitions on the exact DIB's lower envelope (enumerated, as in :func:`dib_curve`), one-hot.

    A partition has H(T|X) = 0, so its GIB objective is its DIB objective, and the alternation from
    it only lowers L; these hard starts reach basins the soft starts miss (on random_joint(5, 3,
    seed=4) at alpha = 0.5, beta = 6 a 2-cluster fixed point at -0.0963 nats that annealing and 20
    near-identity restarts per beta miss, stopping at -0.0655).
    """
    parts = set_partitions(p_x.size, capacity)
    h_t, i_ty = partition_information(p_x, p_y_given_x, parts)
    hull, _ = lower_envelope(h_t, i_ty)
    return [one_hot(parts[j].astype(np.int64)) for j in hull.tolist()]


def _starts(rng: np.random.Generator, n: int, n_x: int, capacity: int) -> list[np.ndarray]:
    """``n`` random near-identity encoders (Strouse & Schwab's initialisation, as embo draws it): mass
    0.75 - u on t = x (u ~ U(0, 0.2); t = x mod capacity), the rest spread at random over the other clusters."""
    out = []
    for _ in range(n):
        q = rng.uniform(1.0, 2.0, size=(n_x, capacity))
        diag = np.arange(n_x) % capacity
        q[np.arange(n_x), diag] = 0.0
        main = 0.75 - 0.2 * rng.uniform(size=n_x)
        q = q / q.sum(axis=1, keepdims=True) * (1 - main)[:, None] if capacity > 1 else np.zeros((n_x, 1))
        q[np.arange(n_x), diag] += main if capacity > 1 else 1.0
        out.append(q)
    return out


def _reseed(sv: _Solver, betas: np.ndarray, cands: list[list[np.ndarray]]) -> list[np.ndarray]:
    """Phase 4: every encoder found is a line; each beta is re-solved from the best line at it and from
    its grid neighbours' choices while that improves some beta by more than REFINE_GAIN."""
    pool = [q for c in cands for q in c]
    lines = np.array([sv.line(q) for q in pool])

    def best_at(b: float) -> tuple[np.ndarray, float]:
        obj = lines[:, 0] - b * lines[:, 1]
        j = int(np.argmin(obj))
        return pool[j], float(obj[j])

    chosen = [best_at(float(b)) for b in betas]
    for _ in range(RESEED_ROUNDS):
        jobs, where = [], []
        for k in range(betas.size):
            for j in (k, k - 1, k + 1):
                if 0 <= j < betas.size and (j == k or chosen[j][0].shape[1] != chosen[k][0].shape[1]):
                    jobs.append((chosen[j][0], float(betas[k])))
                    where.append(k)
        improved = False
        for k, (q, obj, *_) in zip(where, sv.solve_many(jobs), strict=True):
            pool.append(q)
            if obj < chosen[k][1] - REFINE_GAIN:
                chosen[k] = (q, obj)
                improved = True
        lines = np.array([sv.line(q) for q in pool])
        chosen = [min(chosen[k], best_at(float(b)), key=lambda c: c[1]) for k, b in enumerate(betas)]
        if not improved:
            break
    return [q for q, _ in chosen]


def _transitions(sv: _Solver, encoders: list[np.ndarray], betas: np.ndarray,
                 rtol: float) -> tuple[list[float], list[tuple[int, int]]]:
    """Where the cluster count changes between grid neighbours: bisection in log beta, continuing both
    branches (and a split of the lower one) at each midpoint and keeping the better (as for the IB)."""
    trans: list[float] = []
    counts: list[tuple[int, int]] = []
    for i in range(betas.size - 1):
        q_lo, q_hi = encoders[i], encoders[i + 1]
        k_lo, k_hi = q_lo.shape[1], q_hi.shape[1]
        if k_lo == k_hi:
            continue
        lo, hi = float(betas[i]), float(betas[i + 1])
        lo = lo if lo > 0 else hi * 1e-3
        while hi / lo - 1 > rtol:
            mid = math.sqrt(lo * hi)
            q, *_ = min(sv.solve_many([(q_lo, mid), (q_hi, mid), (sv.split(q_lo), mid)]), key=lambda s: s[1])
            if q.shape[1] == k_hi:
                hi, q_hi = mid, q
            else:
                lo, q_lo = mid, q
        trans.append(math.sqrt(lo * hi))
        counts.append((k_lo, k_hi))
    return trans, counts
