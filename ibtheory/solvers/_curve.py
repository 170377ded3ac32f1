"""Optimal IB / dualIB curves by deterministic annealing (theory.md 1.3, 1.5), batched over beta and
certified by the lower envelope of every solution found (:mod:`._envelope`).

Algorithm of the default ``effort="optimum"`` (all updates are the generated kernels of a
:class:`._engine.KernelSet`, looped by :func:`._engine.iterate`):

1. **forward annealing**: from the trivial encoder (one cluster) at the smallest beta, upwards;
   at each beta the clusters whose split is unstable there (beta lambda > 1, the bifurcation
   analysis of :mod:`._critical`) are split in two along their unstable direction, the
   alternation converges, and dead clusters are dropped and identical ones merged (so the width
   grows only at bifurcations, where a split lowers the objective);
2. **reverse annealing**: from a near-identity encoder (one cluster per x when the capacity allows)
   at the largest beta, downwards, warm-started and merged (the sweep direction of genIB.py,
   theory.md 1.3);
3. near-identity seeds are solved at evenly spread betas (all of them on small problems, batched
   within SEED_BUDGET); per beta the best candidate is kept; betas whose grid neighbours have a
   different cluster count are re-solved from those neighbours, sweep after sweep while that
   improves some beta (a first-order transition can hide a branch from the annealing sweeps);
   all betas are then **polished** down to ``tol`` in batched kernel calls (at most BATCH_ENTRIES
   entries each, jobs of very different widths apart): NEWTON_AFTER alternations, then, for the
   members still above ``tol``, rounds of compaction (clusters that became one merged, dying ones
   dropped: their neutral and boundary modes are what made the alternation crawl), Newton's method
   on the fixed point (:mod:`._newton`; the IB on NumPy, where the Newton system is small) and
   COMPACT_EVERY alternations;
4. **envelope repair**: every encoder found is a line in beta, F_q(beta) = a_q + beta s_q, and the
   optimal objective is below their lower envelope; a polished point above any line found is
   provably not optimal, so it is re-seeded from that line's encoder and polished again, until
   every point lies on the lower envelope of all lines found (at most REPAIR_ROUNDS rounds).
   ``IBCurve.optimality`` reports, per beta, the gap to the lowest line, whether the point was
   repaired and how many independent starts agreed;
5. **global transitions** are a query, not part of the curve: ``IBCurve.transition_estimates`` are
   the crossings of the curve's own lines where the cluster count changes (free);
   ``IBCurve.transitions`` bisects each such gap in log beta to ``transition_rtol`` on first access
   (both branches continued into the gap and compared), never inside ``ib_curve``.

``effort="fast"`` runs step 2 alone, each beta stopped at embo-like tolerances (FAST_TOL,
FAST_OBJ_TOL, FAST_MAX_ITER), then the same envelope repair (FAST_REPAIR_ROUNDS rounds with the loose
rule; a point still above a line then takes that line's encoder unsolved), so every point lies on
the lower envelope of the lines found and I(X;T) never falls as beta rises. It is a good curve, not
a certified optimum (benchmarks/bench_ib.py compares both efforts with embo).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .._generated import ib_numpy
from ..display import repr_html
from ..numeric import (
    ArrayBackend,
    array_backend,
    as_generator,
    check_joint,
    check_positive,
    check_positive_int,
    check_units,
    single_threaded_blas,
    to_units,
)
from ._critical import split_unstable
from ._engine import (
    REFINE_GAIN,
    KernelSet,
    compact,
    iterate,
    iterate_on_device,
    kernel_set,
    max_change,
    near_identity,
    pad_encoders,
    point_objective,
    split_clusters,
)
from ._envelope import Lines, Optimality, below_envelope, envelope_crossings
from ._family import IBFamilyCurve, check_betas
from ._family_dispatch import FAMILY_METHODS, check_alpha_for, family_curve
from ._newton import newton_polish
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
#: Size budget (entries of n_x * n_y * capacity per seed) of the batch of near-identity seeds: one
#: seed per beta on small problems, fewer (evenly spread, then propagated) on large ones.
SEED_BUDGET = 4_000_000
#: Objectives of two starts "agree" within this, relative to max(1, |objective|): the precision at
#: which the default curve is compared with peers and earlier versions (1e-8 nats on O(1) objectives).
AGREE_RTOL = 1e-8
#: Memory budget of one batched kernel call: batch * n_x * width <= BATCH_ENTRIES (the step's largest
#: temporaries are (batch, n_x, width); the contractions over y are matmuls, so nothing of size
#: n_x * n_y * width is formed). 2**21 entries = 16 MiB per float64 temporary.
BATCH_ENTRIES = 2**21
#: Rounds of envelope repair (re-seed every point above a line found, polish, compare again).
REPAIR_ROUNDS = 8
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
#: effort="fast": rounds of envelope repair with the loose rule (each re-solves only the points above
#: a line found, a few per curve); points still above one then take that line's encoder unsolved.
FAST_REPAIR_ROUNDS = 2
FAST_OBJ_TOL = 1e-3
FAST_MAX_ITER = 30
EFFORTS = ("optimum", "fast")
#: Alternations between compactions of the members the polish has not finished (:meth:`_Annealer.run`).
COMPACT_EVERY = 200
#: The polish alternates this many times before the members still above ``tol`` take Newton steps
#: (:mod:`._newton`; most betas converge by then, the slow ones are those Newton's method is for).
NEWTON_AFTER = 60
#: Newton polish only where its system is small: n_x * width * n_y entries per member at most
#: (a step costs ~2 n_x of those in products; at the bound that is ~30 alternations' work).
NEWTON_ENTRIES = 2**20
#: Memory budget of one chunk of Newton steps (its largest array has n_x * width * n_y entries per member).
NEWTON_BATCH_ENTRIES = 2**22


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
    converged: (B,) bool; n_iter: (B,) alternations of the polish (generated steps, including the
        residual checks of its Newton steps); residual: (B,) last max |delta p(t|x)|.
    transition_rtol: relative precision (in beta) of ``transitions``.
    optimality: per-beta certificate (:class:`~ibtheory.solvers.Optimality`): gap to the lower
        envelope of every encoder found, repaired points, agreeing starts.
    transition_estimates: (M,) where the cluster count changes between grid neighbours, the beta at
        which their two lines cross (free, from the curve itself); transition_estimate_clusters:
        (M, 2) the counts below / above each.

    Properties (computed on first access, then kept)
    ----------
    transitions: (M,) betas where the optimal number of effective clusters changes (global
        transitions, located by comparing branches to relative precision ``transition_rtol``;
        empty when ``ib_curve(..., locate_transitions=False)``). A continuous transition (a
        cluster splitting smoothly) is located only to where the two branches' objectives part by
        more than round-off, which can be wider: random_joint(8, 3, seed=2) splits at beta ~17.039
        and is located at 17.06-17.09, where the branches still agree to 1e-15;
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
    transition_rtol: float
    optimality: Optimality | None = None
    transition_estimates: np.ndarray = field(default_factory=lambda: np.zeros(0))
    transition_estimate_clusters: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    _located: Any = field(default=None, repr=False, compare=False)
    _repr_html_ = repr_html  # a summary table in Jupyter (ibtheory.display)

    @property
    def transitions(self) -> np.ndarray:
        """(M,) global transitions located to ``transition_rtol`` (on first access; see the class docstring)."""
        return np.zeros(0) if self._located is None else self._located.get()[0]

    @property
    def transition_clusters(self) -> np.ndarray:
        """(M, 2) effective cluster counts below / above each of ``transitions``."""
        return np.zeros((0, 2), dtype=np.int64) if self._located is None else self._located.get()[1]


class _LocatedTransitions:
    """The bisection of the global transitions (:func:`_locate_transitions`), run on first use.

    Holds its own copy of the annealer's random state, so the result does not depend on when it is
    asked for; pickling computes it first (the annealer, with its backend, is not kept)."""

    def __init__(self, ann: _Annealer, encoders: list[np.ndarray], betas_sorted: np.ndarray, rtol: float) -> None:
        self._ann: _Annealer | None = copy.copy(ann)
        self._ann.rng = copy.deepcopy(ann.rng)
        self._encoders, self._betas, self._rtol = encoders, betas_sorted, rtol
        self._result: tuple[np.ndarray, np.ndarray] | None = None

    def get(self) -> tuple[np.ndarray, np.ndarray]:
        if self._result is None:
            ann = self._ann
            if ann is None:  # unreachable: the annealer is dropped only once the result is kept
                raise RuntimeError("transitions were neither located nor kept")
            with single_threaded_blas():
                trans, trans_k = _locate_transitions(ann, self._encoders, self._betas, self._rtol)
            self._result = (np.array(trans, dtype=np.float64), np.array(trans_k, dtype=np.int64).reshape(-1, 2))
            self._ann = None
        return self._result

    def __getstate__(self) -> dict[str, Any]:
        return {"_result": self.get(), "_ann": None, "_encoders": self._encoders, "_betas": self._betas,
                "_rtol": self._rtol}


class _Run(NamedTuple):
    """One solved job: compacted encoder, its generated point summary, objective (nats), alternations, residual."""

    encoder: np.ndarray
    point: Any
    objective: float
    n_iter: int
    residual: float


class _Annealer:
    """Warm-started solves on the chosen backend, several (encoder, beta) jobs per batched kernel call.

    ``kernels``: the :class:`KernelSet` the iteration runs (on ``be``'s arrays; default: the generated
    set of ``method``), ``host_kernels`` the NumPy set whose ``point`` summarises results (the seam
    through which run-time generated kernels for a user functional run the same machinery).
    """

    def __init__(self, be: ArrayBackend, p_x: np.ndarray, p_y_given_x: np.ndarray, method: str, capacity: int,
                 rng: np.random.Generator, tol: float, max_iter: int,
                 obj_tol: float | None = ANNEAL_OBJ_TOL, kernels: KernelSet | None = None,
                 host_kernels: KernelSet | None = None) -> None:
        self.be, self.method, self.capacity, self.rng = be, method, capacity, rng
        self.p_x, self.p_y_given_x = p_x, p_y_given_x
        self.bp_x, self.bp_y = be.asarray(p_x), be.asarray(p_y_given_x)
        self.tol, self.max_iter, self.obj_tol = tol, max_iter, obj_tol
        self.kernels = kernel_set(be.kernels("ib"), method) if kernels is None else kernels
        self.host = kernel_set(ib_numpy, method) if host_kernels is None else host_kernels
        self.point = self.host.point
        # on an accelerator the iteration keeps its decisions on the device (no transfer per round)
        self.on_device = bool(be.is_torch and be.device.type != "cpu")
        # the Newton polish solves the IB's own fixed point, on the host
        self.newton = kernels is None and method == "ib" and not be.is_torch

    def run(self, jobs: list[tuple[np.ndarray, float]], tol: float, max_iter: int, obj_tol: float | None,
            start_objective: np.ndarray | None = None, newton: bool = False) -> list[_Run]:
        """Solve each (encoder, beta) job to ``tol`` / ``max_iter`` / ``obj_tol`` (:func:`iterate`), in
        batches of at most BATCH_ENTRIES (n_x * width per job); jobs of very different widths run in
        separate batches. ``start_objective``: the jobs' starting objectives, when known."""
        widths = [q.shape[1] for q, _ in jobs]
        per_job = self.p_x.size * max(widths)
        if len(jobs) > 1 and len(jobs) * per_job > BATCH_ENTRIES:
            half = len(jobs) // 2
            lo_so = None if start_objective is None else start_objective[:half]
            hi_so = None if start_objective is None else start_objective[half:]
            return (self.run(jobs[:half], tol, max_iter, obj_tol, lo_so, newton)
                    + self.run(jobs[half:], tol, max_iter, obj_tol, hi_so, newton))
        if len(jobs) > 1 and max(widths) > max(BATCH_WIDTH_SLACK, 2 * min(widths)) and max(widths) * len(jobs) > 4 * sum(widths):
            order = np.argsort(widths)
            half = len(jobs) // 2
            parts = (order[:half], order[half:])
            out: list[_Run] = [None] * len(jobs)  # type: ignore[list-item]
            for part in parts:
                part_so = None if start_objective is None else start_objective[part]
                for i, r in zip(part, self.run([jobs[i] for i in part], tol, max_iter, obj_tol, part_so, newton),
                                strict=True):
                    out[i] = r
            return out
        log_q = self.be.asarray(np.log(pad_encoders([q for q, _ in jobs], max(widths))))
        betas = np.array([b for _, b in jobs], dtype=np.float64)
        loop = iterate_on_device if self.on_device and max_iter >= 3 else iterate
        first = min(max_iter, NEWTON_AFTER) if newton and not self.be.is_torch else max_iter
        log_q, n_iter, residual = loop(self.be, log_q, self.bp_x, self.bp_y, self.be.asarray(betas), self.kernels,
                                       tol, first, obj_tol=obj_tol, start_objective=start_objective)
        if first < max_iter:
            log_q, n_iter, residual = self._newton_then_alternate(log_q, betas, n_iter, residual, tol, max_iter, obj_tol)
        log_all = self.be.to_numpy(log_q)
        q_all = np.exp(log_all)
        out = []
        for i, beta in enumerate(betas):
            q, point = self.compact(q_all[i], log_all[i])
            out.append(_Run(q, point, float(point_objective(point, beta)), int(n_iter[i]), float(residual[i])))
        return out

    def newton_fits(self, width: int) -> bool:
        """Whether the Newton polish applies: the generated IB kernels on NumPy, and a Newton
        system of at most NEWTON_ENTRIES entries (n_x * width * n_y) per member."""
        return self.newton and self.p_y_given_x.size * width <= NEWTON_ENTRIES

    def _newton_then_alternate(self, log_q: np.ndarray, betas: np.ndarray, n_iter: np.ndarray, residual: np.ndarray,
                               tol: float, max_iter: int, obj_tol: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Members still above ``tol`` after NEWTON_AFTER alternations: rounds of compaction
        (clusters whose decoders became one are merged, dead ones dropped), Newton steps where the
        system fits (:func:`._newton.newton_polish`, in chunks of NEWTON_BATCH_ENTRIES; only a
        finished polish is kept) and COMPACT_EVERY alternations, until ``max_iter`` alternations.

        Why compact as it goes: two clusters that converge onto one decoder keep a neutral mode (mass
        moving between equal copies, eigenvalue 1), which stalls Newton's method (J - I singular) and
        leaves the stated residual crawling; merged, they are one cluster and the objective is unchanged
        (:func:`._engine.compact`)."""
        width = log_q.shape[-1]
        left = max_iter - NEWTON_AFTER  # the alternations' own budget (Newton's checks not counted)
        slow = np.flatnonzero(residual > tol)
        tried = np.full(log_q.shape[0], width + 1)  # width at the last Newton attempt of each member
        while slow.size:
            encs = [self.compact(np.exp(log_q[i]), log_q[i])[0] for i in slow]
            widths = np.array([q.shape[1] for q in encs])
            log_q[slow] = np.log(pad_encoders(encs, width))
            # Newton's method again only where the compaction changed the member (else it would stall as before)
            newton = slow[(widths < tried[slow]) & np.array([self.newton_fits(k) for k in widths], dtype=bool)]
            if newton.size:
                narrow = int(max(widths[np.isin(slow, newton)]))
                tried[newton] = widths[np.isin(slow, newton)]
                chunk = max(1, NEWTON_BATCH_ENTRIES // (self.p_y_given_x.size * narrow))
                for start in range(0, newton.size, chunk):
                    part = newton[start:start + chunk]
                    lq, spent, res = newton_polish(log_q[part][..., :narrow], self.p_x, self.p_y_given_x, betas[part], tol)
                    done = res <= tol
                    if done.any():
                        residual[part[done]] = res[done]
                        log_q[part[done]] = np.log(pad_encoders(list(np.exp(lq[done])), width))
                    n_iter[part] += spent
            rest = slow[residual[slow] > tol]
            steps = min(left, COMPACT_EVERY)
            if rest.size == 0 or steps <= 0:
                break
            lq, it, res = iterate(self.be, log_q[rest], self.bp_x, self.bp_y, betas[rest], self.kernels, tol, steps,
                                  obj_tol=obj_tol)
            log_q[rest], residual[rest] = lq, res
            n_iter[rest] += it
            left -= steps
            slow = rest[res > tol]
        return log_q, n_iter, residual

    def residuals(self, jobs: list[tuple[np.ndarray, float]]) -> list[_Run]:
        """Each (compacted encoder, beta) job as it is, with the residual of one plain alternation
        from it (the encoder is kept, not stepped) and no alternation counted."""
        widths = [q.shape[1] for q, _ in jobs]
        log_q = self.be.asarray(np.log(pad_encoders([q for q, _ in jobs], max(widths))))
        betas = self.be.asarray(np.array([b for _, b in jobs], dtype=np.float64))
        stepped = self.kernels.step(log_q, self.bp_x, self.bp_y, betas).log_p_t_given_x
        residual = max_change(self.be, stepped, log_q)
        out = []
        for (q, beta), res in zip(jobs, residual, strict=True):
            point = self.point(self.p_x, self.p_y_given_x, q)
            out.append(_Run(q, point, float(point_objective(point, beta)), 0, float(res)))
        return out

    def solve_many(self, jobs: list[tuple[np.ndarray, float]]) -> list[tuple[np.ndarray, float]]:
        """Solve each (encoder, beta) job at the annealer's tolerances: (compacted encoder, objective)."""
        return [(r.encoder, r.objective) for r in self.run(jobs, self.tol, self.max_iter, self.obj_tol)]

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
        return split_clusters(q, self.capacity, self.rng)

    def split_unstable(self, q: np.ndarray, beta: float) -> np.ndarray:
        """Split the clusters of ``q`` whose split is unstable at ``beta``, along their unstable
        directions (:func:`._critical.split_unstable`); stable ones stay whole."""
        return split_unstable(self.method, self.p_x, self.p_y_given_x, q, beta, self.capacity)


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
    alpha: float | None = None,
    functional: Any = None,
    params: Mapping[Any, Any] | None = None,
    cache_dir: Any = None,
) -> IBCurve | IBFamilyCurve:
    """The optimal IB (``method="ib"``) or dualIB (``"dualib"``) curve of ``p_xy`` on ``betas``.

    The IB family and users' functionals go through the same call: ``method="gib"`` with ``alpha``
    (the generalized IB, :func:`gib_curve`), ``method="dib"`` (the deterministic IB, exact for
    n_x <= 10, :func:`dib_curve`); ``functional=L`` with ``params`` (any Lagrangian of the
    :mod:`ibtheory.symbolic` vocabulary, kernels generated at run time and cached in ``cache_dir``,
    :func:`functional_curve`).

    Deterministic annealing in both directions with cluster splitting and merging, the better
    branch kept per beta, then a batched polish (module docstring; theory.md 1.3, 1.5, 3.2). The
    capacity ``n_clusters`` (default n_x) bounds the number of clusters. ``backend="torch"`` with
    ``device=`` runs the kernels in torch (float64). Information in nats (``units="bits"`` on request).

    ``effort="optimum"`` (default) runs the whole pipeline of the module docstring, made to find the
    optimum at every beta; ``effort="fast"`` runs the reverse annealing sweep alone with loose
    per-beta stopping (FAST_TOL, FAST_OBJ_TOL, FAST_MAX_ITER;
    ``tol`` and ``max_iter`` then do not apply, and ``converged`` reports residual <= FAST_TOL).
    Both report ``optimality`` (the gap of each point to the lower envelope of every encoder found).

    ``locate_transitions``: ``curve.transitions`` are located (to ``transition_rtol``) on first
    access, never inside this call; False leaves them empty. ``curve.transition_estimates`` are free.

    Cost: each alternation touches n_x * n_clusters entries per beta (the sums over y are matrix
    products), in batched calls of at most BATCH_ENTRIES entries. On the 2-core benchmark machine
    (benchmarks/results/ib.json, 80 betas) 64x8 joints take seconds with the default effort and a
    fraction of a second fast; the default effort's capacity of n_x clusters makes it grow steeply
    with n_x (n_x in the hundreds: pass a smaller ``n_clusters``, the curve is then optimal among
    encoders with at most that many clusters, which binds at large beta, or use ``effort="fast"``).
    """
    if functional is not None:
        if method != "ib" or alpha is not None:
            raise ValueError("functional= poses its own Lagrangian; leave method and alpha at their defaults "
                             "(put alpha and other parameters in params=)")
        from ._functional import functional_curve  # _functional imports this module

        return functional_curve(p_xy, betas, functional, params=params, n_clusters=n_clusters, units=units,
                                normalize=normalize, tol=tol, max_iter=max_iter, backend=backend, device=device,
                                seed=seed, reverse=reverse, forward=forward, locate_transitions=locate_transitions,
                                transition_rtol=transition_rtol, effort=effort, cache_dir=cache_dir)
    if params is not None or cache_dir is not None:
        raise ValueError("params= and cache_dir= apply to functional= only")
    check_alpha_for(method, alpha)
    if method in FAMILY_METHODS:
        return family_curve(p_xy, betas, method=method, alpha=alpha, units=units, normalize=normalize,
                            n_clusters=n_clusters, seed=seed, backend=backend, device=device,
                            locate_transitions=locate_transitions, transition_rtol=transition_rtol)
    opts = _CurveOptions.checked(method=method, units=units, tol=tol, max_iter=max_iter, reverse=reverse,
                                 forward=forward, locate_transitions=locate_transitions,
                                 transition_rtol=transition_rtol, effort=effort)
    joint = check_joint(p_xy, normalize=normalize)
    betas_sorted = check_betas(betas)
    p_x, p_y_given_x = marginals(joint)
    capacity = check_n_clusters(n_clusters, p_x.size)
    rng = as_generator(seed)
    ann = _Annealer(array_backend(backend, device), p_x, p_y_given_x, method, capacity, rng,
                    min(ANNEAL_TOL, opts.tol * 100), ANNEAL_MAX_ITER)
    # the reverse sweep starts from one cluster per x when the capacity allows, else at random
    q_rev = near_identity(p_x.size, capacity) if capacity >= p_x.size else rng.dirichlet(np.ones(capacity), size=p_x.size)
    with single_threaded_blas():  # many small products: threads cost more than they save
        if opts.effort == "fast":
            runs, pool, repaired, starts = _fast(ann, betas_sorted, q_rev)
            return _finish(ann, runs, pool, repaired, starts, betas_sorted, FAST_TOL, FAST_OBJ_TOL, opts)
        runs, pool, repaired, starts = _optimum(ann, betas_sorted, q_rev, opts)
        return _finish(ann, runs, pool, repaired, starts, betas_sorted, opts.tol, AGREE_RTOL, opts)


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


Solved = tuple[np.ndarray, float]  # (compacted encoder, objective in nats)
Starts = list[list[float]]  # per beta: the objective each independent start reached there (nats)


def _sweep(ann: _Annealer, betas_sorted: np.ndarray, q_start: np.ndarray, *, down: bool, split: bool) -> list[_Run]:
    """One loose annealing sweep (FAST_TOL, FAST_OBJ_TOL, FAST_MAX_ITER per beta), each beta
    warm-started from the previous one and compacted: downwards from ``q_start`` (``down``) or
    upwards with every cluster split in two perturbed halves before each beta (``split``; halves that
    do not separate are merged back by the compaction, so the width only grows where a split lowers
    the objective). The objective is affine in beta at a fixed encoder, so without a split the
    starting objective of each beta comes from the previous summary (no extra pass)."""
    n_b = betas_sorted.size
    out: list[_Run] = [None] * n_b  # type: ignore[list-item]
    q, point = ann.compact(q_start)
    for k in (range(n_b - 1, -1, -1) if down else range(n_b)):
        beta = float(betas_sorted[k])
        start = ann.split(q) if split else q
        start_obj = None if split else np.array([point_objective(point, beta)], dtype=np.float64)
        out[k] = ann.run([(start, beta)], FAST_TOL, FAST_MAX_ITER, FAST_OBJ_TOL, start_objective=start_obj)[0]
        q, point = out[k].encoder, out[k].point
    return out


def _lines_of(runs: list[_Run], pool: Lines) -> None:
    for r in runs:
        pool.add(r.encoder, float(r.point.i_xt), float(r.point.slope))


def _repair(ann: _Annealer, betas_sorted: np.ndarray, runs: list[_Run], pool: Lines, starts: Starts, polish: Any,
            rounds: int) -> np.ndarray:
    """Re-seed every point above the lowest line found at its beta from that line's encoder, solve
    (``polish(betas, seeds)``), keep what is lower, add the new lines, repeat (``rounds`` at most).
    A point still above a line after the last round takes that line's encoder as it is (no solve:
    its objective there is the line's, lower than the point's), so every point ends on the lower
    envelope of the lines found and I(X;T) never falls as beta rises (the argmin lines of a lower
    envelope have non-decreasing intercepts). Returns which betas were repaired."""
    repaired = np.zeros(betas_sorted.size, dtype=bool)
    for _ in range(rounds):
        objective = np.array([r.objective for r in runs])
        idx, lowest = pool.lowest(betas_sorted)
        bad = np.flatnonzero(below_envelope(objective, lowest))
        if bad.size == 0:
            return repaired
        new = polish(betas_sorted[bad], [pool.encoders[idx[i]] for i in bad])
        _lines_of(new, pool)
        for i, r in zip(bad, new, strict=True):
            starts[i].append(r.objective)
            if r.objective < runs[i].objective:
                runs[i] = r._replace(n_iter=runs[i].n_iter + r.n_iter)
                repaired[i] = True
    objective = np.array([r.objective for r in runs])
    idx, lowest = pool.lowest(betas_sorted)
    bad = np.flatnonzero(below_envelope(objective, lowest))
    if bad.size:
        for i, r in zip(bad, ann.residuals([(pool.encoders[idx[i]], float(betas_sorted[i])) for i in bad]), strict=True):
            runs[i] = r._replace(n_iter=runs[i].n_iter)
            starts[i].append(r.objective)
            repaired[i] = True
    return repaired


def _anneal_both_ways(ann: _Annealer, betas_sorted: np.ndarray, q_rev: np.ndarray, *, forward: bool,
                      reverse: bool) -> list[list[Solved]]:
    """Phases 1-2: the forward sweep (from one cluster, its unstable clusters split at each beta, upwards) and the reverse
    sweep (from ``q_rev`` downwards), each warm-started from its previous beta, both in one batch
    per step. Returns the candidate solutions at each beta."""
    n_b = betas_sorted.size
    candidates: list[list[Solved]] = [[] for _ in range(n_b)]
    q_fwd = np.ones((q_rev.shape[0], 1))
    for k in range(n_b):
        jobs = []
        if forward:
            beta = float(betas_sorted[k])
            jobs.append((ann.split_unstable(q_fwd, beta), beta))
        if reverse:
            jobs.append((q_rev, float(betas_sorted[n_b - 1 - k])))
        if len(jobs) == 2 and max(q.shape[1] for q, _ in jobs) > 2 * min(q.shape[1] for q, _ in jobs):
            solved = [ann.solve_many([job])[0] for job in jobs]  # padding the narrow one would double the work
        else:
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


def _optimum(ann: _Annealer, betas_sorted: np.ndarray, q_rev: np.ndarray,
             opts: _CurveOptions) -> tuple[list[_Run], Lines, np.ndarray, Starts]:
    """Phases 1-4 of the module docstring: both annealing sweeps, identity seeds, neighbour re-seeding,
    the batched polish and the envelope repair over every line found."""
    candidates = _anneal_both_ways(ann, betas_sorted, q_rev, forward=opts.forward, reverse=opts.reverse)
    if opts.reverse and ann.capacity >= ann.p_x.size:
        _add_identity_seeds(ann, betas_sorted, near_identity(ann.p_x.size, ann.capacity), candidates)
    best = _reseed_from_neighbours(ann, betas_sorted, [min(c, key=lambda s: s[1]) for c in candidates])
    pool = Lines()
    for cands in candidates:
        for q, _ in cands:
            _lines_of_encoder(ann, q, pool)

    def polish(betas: np.ndarray, seeds: list[np.ndarray]) -> list[_Run]:
        return ann.run([(q, float(b)) for q, b in zip(seeds, betas, strict=True)], opts.tol, opts.max_iter, None,
                       newton=True)

    runs = polish(betas_sorted, [q for q, _ in best])
    _lines_of(runs, pool)
    starts: Starts = [[v for _, v in cands] for cands in candidates]
    repaired = _repair(ann, betas_sorted, runs, pool, starts, polish, REPAIR_ROUNDS)
    return runs, pool, repaired, starts


def _lines_of_encoder(ann: _Annealer, q: np.ndarray, pool: Lines) -> None:
    point = ann.point(ann.p_x, ann.p_y_given_x, q)
    pool.add(q, float(point.i_xt), float(point.slope))


def _fast(ann: _Annealer, betas_sorted: np.ndarray, q_rev: np.ndarray,
          forward: bool = False) -> tuple[list[_Run], Lines, np.ndarray, Starts]:
    """effort="fast": the reverse sweep at loose tolerances, then the envelope repair: a point above
    another beta's line is re-solved from that encoder with the same loose stopping rule
    (FAST_REPAIR_ROUNDS rounds), and a point still above a line then takes its encoder unsolved.
    ``forward`` is not used (callers pass ``opts.forward``; the fast effort has no forward sweep).

    With one repair round the reverse sweep alone was above embo at one beta of the 64x8 benchmark
    family (the 75%-zero joint at beta 9.7, by 2.4e-3 nats: a 51-cluster branch where the optimum
    has 41); with two it is at or below embo at all 480. A loose forward sweep (tried for issue 23)
    fixed that beta too but cost 2x at 64x8 and 20x at 512x16 (every cluster split at every beta)."""
    runs = _sweep(ann, betas_sorted, q_rev, down=True, split=False)
    pool = Lines()
    _lines_of(runs, pool)
    # The one-cluster encoder is a fixed point at every beta, so its line is free and always valid;
    # a reverse sweep warm-started on a split branch may never come back to it (issue 21 item 2:
    # a 2-cluster point above the trivial line at the lowest beta, I(X;T) then falling with beta).
    _lines_of_encoder(ann, np.ones((ann.p_x.size, 1)), pool)
    starts: Starts = [[r.objective] for r in runs]

    def loose(betas: np.ndarray, seeds: list[np.ndarray]) -> list[_Run]:
        return ann.run([(q, float(b)) for q, b in zip(seeds, betas, strict=True)], FAST_TOL, FAST_MAX_ITER, FAST_OBJ_TOL)

    return runs, pool, _repair(ann, betas_sorted, runs, pool, starts, loose, FAST_REPAIR_ROUNDS), starts


def _finish(ann: _Annealer, runs: list[_Run], pool: Lines, repaired: np.ndarray, starts: Starts,
            betas_sorted: np.ndarray, tol: float, agree_rtol: float, opts: _CurveOptions) -> IBCurve:
    """The reported quantities of the chosen encoders (from their point summaries), the optimality
    report, the free transition estimates and the lazy located transitions (phase 5)."""
    units = opts.units
    encoders = [r.encoder for r in runs]
    a = np.array([float(r.point.i_xt) for r in runs])
    s = np.array([float(r.point.slope) for r in runs])
    i_xt = np.maximum(a, 0.0)
    i_ty = np.maximum(np.array([float(r.point.i_ty) for r in runs]), 0.0)
    objective = np.array([r.objective for r in runs])
    counts = np.array([q.shape[1] for q in encoders], dtype=np.int64)
    _, lowest = pool.lowest(betas_sorted)
    scale = agree_rtol * np.maximum(1.0, np.abs(objective))
    optimality = Optimality(
        envelope_gap=to_units(objective - lowest, units), on_envelope=~below_envelope(objective, lowest),
        repaired=repaired,
        agreeing_starts=np.array([sum(abs(v - o) <= sc for v in st) for st, o, sc in zip(starts, objective, scale, strict=True)],
                                 dtype=np.int64),
        n_lines=len(pool), agree_rtol=float(agree_rtol),
    )
    est, est_k = envelope_crossings(a, s, counts, betas_sorted)
    located = _LocatedTransitions(ann, encoders, betas_sorted, opts.transition_rtol) if opts.locate_transitions else None
    return IBCurve(
        method=ann.method, units=units, betas=betas_sorted, i_xt=to_units(i_xt, units), i_ty=to_units(i_ty, units),
        objective=to_units(objective, units), n_clusters=counts, encoders=tuple(encoders),
        converged=np.array([r.residual <= tol for r in runs]), n_iter=np.array([r.n_iter for r in runs], dtype=np.int64),
        residual=np.array([r.residual for r in runs]), transition_rtol=float(opts.transition_rtol),
        optimality=optimality, transition_estimates=est, transition_estimate_clusters=est_k, _located=located,
    )


def _locate_transitions(ann: _Annealer, encoders: list[np.ndarray], betas_sorted: np.ndarray,
                        rtol: float) -> tuple[list[float], list[tuple[int, int]]]:
    """The betas where the optimal cluster count changes between grid neighbours (located by
    :func:`_locate`), with the counts below and above each."""
    trans: list[float] = []
    trans_k: list[tuple[int, int]] = []
    for i in range(betas_sorted.size - 1):
        k_lo, k_hi = encoders[i].shape[1], encoders[i + 1].shape[1]
        if k_lo != k_hi:
            trans.append(_locate(ann, encoders[i], encoders[i + 1], float(betas_sorted[i]), float(betas_sorted[i + 1]),
                                 k_hi, rtol))
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
