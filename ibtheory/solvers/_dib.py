"""The deterministic information bottleneck (DIB) curve, exactly on small alphabets.

Strouse & Schwab 2017 (Neural Computation 29(6):1611-1630; theory.md 11.1): minimise over encoders

    L_DIB[p(t|x)] = H(T) - beta I(T;Y).

**The minimum is at a deterministic encoder.** L_DIB is concave in the encoder: p(t) is linear in
p(t|x) and H is concave; p(t|y) = sum_x p(t|x) p(x|y) is linear in the encoder and I(T;Y) is convex
in the channel p(t|y) for the fixed input p(y) (Cover & Thomas 2006, Thm 2.7.4), so -beta I(T;Y) is
concave. A concave function on the product of simplices {p(.|x)} attains its minimum at a vertex,
i.e. at a one-hot encoder: a partition of X into clusters [DERIVED; tested in
tests/solvers/test_dib.py along segments between encoders].

**Exact optimum (n_x <= EXACT_MAX_NX).** At a fixed partition the objective is a line in beta,
a - beta s with a = H(T) and s = I(T;Y). Every set partition of X (Bell(10) = 115975 of them) is
enumerated once, its (H(T), I(T;Y)) computed by the generated ``ib_point`` kernel (for a one-hot
encoder I(X;T) = H(T)), and the optimum at any beta is the lower envelope of these lines. The
envelope's breakpoints are the DIB's transitions, exactly (crossings of two lines).

**Larger alphabets (heuristic, ``exact=False``).** Strouse & Schwab's algorithm 2 (each x assigned
to argmax_t [log p(t) - beta D_KL(p(y|x) || p(y|t))], the argmax of the generated ``ib_step``'s
log-encoder) annealed in both directions, followed by a greedy local search over single moves of an
x to another or a new cluster and over merges of two clusters (each accepted move lowers the
objective exactly: the objective is a sum of per-cluster terms, so moves on disjoint clusters add),
and the lower envelope of every partition found re-seeds each beta (theory.md 1.5's idea for the
IB, here with all partitions as lines).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._generated import gib_numpy, ib_numpy
from ..numeric import as_generator, check_joint, check_positive_int, check_units
from ._family import IBFamilyCurve, check_betas, family_curve

#: Largest n_x solved exactly by default (Bell(10) = 115975 partitions; Bell(11) = 678570).
EXACT_MAX_NX = 10
#: Largest n_x allowed with exact=True (Bell(11) partitions take about 6x the time of n_x = 10).
EXACT_LIMIT_NX = 11
#: Partitions per batch of the generated kernel (bounds the (B, x, t) arrays to ~10 MB).
PARTITION_CHUNK = 16384
#: A local-search move is taken when it lowers the objective by more than this (nats): above the
#: rounding of an objective summed over ~1e3 terms, far below any difference the tests resolve.
MOVE_TOL = 1e-12
#: Divisor for the decoder of an empty cluster (its joint is 0, so its decoder is 0, not 0/0).
EMPTY_MASS = 1e-300
#: Clusters kept in the per-(beta, cluster) cache of :meth:`_Search.deltas` before it is emptied
#: (each holds two n_x vectors: 64 MB at n_x = 512).
CACHE_MAX = 8192
#: Cap on local-search sweeps per start (each sweep takes at least one improving move).
MAX_SWEEPS = 500
#: Cap on Strouse & Schwab argmax alternations per start.
MAX_ARGMAX_STEPS = 100
#: Rounds of re-seeding every beta from the lower envelope of the partitions found.
ENVELOPE_ROUNDS = 4
#: Merge and split kicks per beta and round (:func:`_kicks`).
KICKS = 1
#: Depth of the bisection that separates two partitions at a transition between grid points.
TRANSITION_DEPTH = 12


# ----------------------------------------------------------------------------- partitions
def set_partitions(n: int, max_blocks: int | None = None) -> np.ndarray:
    """Every set partition of {0, ..., n-1} with at most ``max_blocks`` blocks, as restricted growth
    strings: row r gives the block label of each element, labels in order of first appearance.

    Shape (B, n), B = Bell(n) without a block limit (Knuth, TAOCP 7.2.1.5, restricted growth strings).
    """
    n = check_positive_int(n, "n")
    cap = n if max_blocks is None else min(n, check_positive_int(max_blocks, "max_blocks"))
    labels = np.zeros((1, 1), dtype=np.int8)
    top = np.zeros(1, dtype=np.int64)  # the largest label used so far
    for _ in range(1, n):
        choices = np.minimum(top + 2, cap)  # 0..top, or a new block top+1 when allowed
        rows = np.repeat(np.arange(labels.shape[0]), choices)
        starts = np.cumsum(choices) - choices
        new = (np.arange(rows.size) - np.repeat(starts, choices)).astype(np.int8)
        labels = np.concatenate([labels[rows], new[:, None]], axis=1)
        top = np.maximum(top[rows], new)
    return labels


def one_hot(labels: np.ndarray, n_blocks: int | None = None) -> np.ndarray:
    """(..., n_x) block labels -> (..., n_x, n_blocks) deterministic encoders."""
    k = int(labels.max()) + 1 if n_blocks is None else n_blocks
    return (labels[..., None] == np.arange(k)).astype(np.float64)


def partition_information(p_x: np.ndarray, p_y_given_x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """H(T) and I(T;Y) in nats of each partition (rows of ``labels``, (B, n_x)).

    Partitions with k blocks are evaluated together through their cluster joints p(t, y) =
    sum_{x in t} p(x, y): the generated ``ib_point`` with the k clusters as its inputs and the
    identity encoder gives I(X;T) = H(T) and I(T;Y) (its p(y) is the sum over all clusters, the
    original one). This touches (B, k, k) arrays instead of (B, n_x, n_x) one-hot encoders.
    """
    h_t = np.empty(labels.shape[0])
    i_ty = np.empty(labels.shape[0])
    p_xy = p_x[:, None] * p_y_given_x
    blocks = labels.max(axis=1) + 1
    for k in np.unique(blocks).tolist():
        rows = np.flatnonzero(blocks == k)
        for s in range(0, rows.size, PARTITION_CHUNK):
            r = rows[s : s + PARTITION_CHUNK]
            joints = np.swapaxes(one_hot(labels[r], k), -1, -2) @ p_xy  # (b, k, n_y)
            mass = joints.sum(axis=-1)
            point = ib_numpy.ib_point(mass, joints / mass[..., None], np.eye(k))
            h_t[r] = point.i_xt
            i_ty[r] = point.i_ty
    return h_t, i_ty


def lower_envelope(a: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lines a_k - beta s_k (s = I(T;Y) >= 0) that are minimal for some beta >= 0, in order of
    increasing beta, and the breakpoints between consecutive ones (length one less).

    Pareto filter first (a line with both a larger a and a smaller s than another is never minimal
    for beta >= 0), then the monotone hull of the few that remain.
    """
    order = np.lexsort((-s, a))  # by a, ties by larger s first
    best_s = np.maximum.accumulate(s[order])
    keep = np.ones(order.size, dtype=bool)
    keep[1:] = s[order][1:] > best_s[:-1]  # strictly more information than every cheaper line
    cand = order[keep]  # a increasing, s increasing
    hull: list[int] = []
    cross: list[float] = []
    for k in cand.tolist():
        while hull:
            j = hull[-1]
            b = (a[k] - a[j]) / (s[k] - s[j])  # where line k becomes better than line j
            if cross and b <= cross[-1]:
                hull.pop()
                cross.pop()
                continue
            break
        if hull:
            cross.append(float((a[k] - a[hull[-1]]) / (s[k] - s[hull[-1]])))
        hull.append(k)
    return np.array(hull, dtype=np.int64), np.array(cross)


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Relabel a partition in order of first appearance (a restricted growth string)."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    return rank[inverse].astype(np.int64)


# ----------------------------------------------------------------------------- heuristic search
class _Search:
    """Local search over partitions of X for H(T) - beta I(T;Y), with a pool of the partitions found."""

    def __init__(self, p_x: np.ndarray, p_y_given_x: np.ndarray, capacity: int) -> None:
        self.p_x, self.p_y_given_x, self.capacity = p_x, p_y_given_x, capacity
        self.p_xy = p_x[:, None] * p_y_given_x
        self.pool: dict[bytes, tuple[np.ndarray, float, float]] = {}  # partitions found, as lines
        # per beta and cluster (packed membership): its term, with each x added, without each x
        self.cache: dict[float, dict[bytes, tuple[float, np.ndarray, np.ndarray]]] = {}
        self.cached = 0

    def line(self, labels: np.ndarray) -> tuple[float, float]:
        """(H(T), I(T;Y)) of a partition; the partition joins the pool."""
        key = labels.astype(np.int8).tobytes()
        if key not in self.pool:
            h, i = partition_information(self.p_x, self.p_y_given_x, labels[None, :])
            self.pool[key] = (labels.copy(), float(h[0]), float(i[0]))
        _, h0, i0 = self.pool[key]
        return h0, i0

    def terms(self, joints: np.ndarray, beta: float) -> np.ndarray:
        """The per-cluster terms of the objective (generated ``dib_cluster_terms``) of clusters given by
        their joints p(t, .) along the second-to-last axis (..., K, n_y) -> (..., K); empty clusters
        (all-zero joints: p(t) = 0 and p(y|t) = 0, so every xlogy is 0) give 0."""
        mass = joints.sum(axis=-1)
        cond = joints / np.maximum(mass, EMPTY_MASS)[..., None]
        return np.asarray(gib_numpy.dib_cluster_terms(mass, np.swapaxes(cond, -1, -2), beta))

    def joints(self, labels: np.ndarray, n_rows: int) -> np.ndarray:
        out = np.zeros((n_rows, self.p_xy.shape[1]))
        np.add.at(out, labels, self.p_xy)
        return out

    def deltas(self, labels: np.ndarray, n_b: int, beta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Objective changes of every single move and merge from the generated per-cluster terms.
        ``n_b``: clusters of ``labels`` plus empty targets (new clusters) after them.

        A cluster's own term, the terms of it with each x added and without each of its members
        depend on that cluster and beta only, so they are kept per (beta, cluster) and only clusters
        not seen before at this beta go through the kernel (the local search changes few clusters
        per sweep, and kicks and re-seeding revisit the same clusters); the values are the same
        numbers a fresh evaluation gives (row by row, same operations).

        Returns (move (n_x, n_b): x moved to cluster b, 0 where b is x's own cluster; pa, pb, merge:
        clusters a < b merged, over the pairs of non-empty clusters).
        """
        k = int(labels.max()) + 1
        joints = self.joints(labels, n_b)
        n_x, n_y = self.p_xy.shape
        cache = self.cache.setdefault(beta, {})
        members = labels[None, :] == np.arange(k)[:, None]
        keys = [m.tobytes() for m in np.packbits(members, axis=1)]
        if b"" not in cache:  # an empty cluster: its term, and each x alone
            g0 = self.terms(np.concatenate([np.zeros((1, n_y)), self.p_xy]), beta)
            cache[b""] = (float(g0[0]), g0[1:], np.zeros(n_x))
        missing = [c for c in range(k) if keys[c] not in cache]
        if missing:
            self.cached += len(missing)
            jm = joints[missing]
            g_all = self.terms(np.concatenate([
                jm,
                (jm[:, None, :] + self.p_xy[None, :, :]).reshape(-1, n_y),  # cluster c with each x
                np.maximum(jm[:, None, :] - self.p_xy[None, :, :], 0.0).reshape(-1, n_y),  # without each x
            ]), beta)
            m = len(missing)
            with_x = g_all[m : m + m * n_x].reshape(m, n_x)
            without_x = g_all[m + m * n_x :].reshape(m, n_x)
            for r, c in enumerate(missing):
                cache[keys[c]] = (float(g_all[r]), with_x[r], without_x[r])
        entries = [cache[key] for key in keys] + [cache[b""]] * (n_b - k)
        g = np.array([e[0] for e in entries])
        dst = np.stack([e[1] for e in entries], axis=1)  # (n_x, n_b)
        src = np.stack([e[2] for e in entries[:k]])[labels, np.arange(n_x)]
        move = (src - g[labels])[:, None] + dst - g[None, :]
        move[np.arange(n_x), labels] = 0.0
        pa, pb = np.triu_indices(k, 1)
        merge = self.terms(joints[pa] + joints[pb], beta) - g[pa] - g[pb]
        if self.cached > CACHE_MAX:  # bound the memory: start afresh
            self.cache.clear()
            self.cached = 0
        return move, pa, pb, merge

    def argmax_steps(self, labels: np.ndarray, beta: float) -> np.ndarray:
        """Strouse & Schwab's DIB alternation: x -> argmax_t [log p(t) - beta KL(p(y|x)||p(y|t))], the
        argmax of the generated ``ib_step``'s log-encoder (log Z(x) does not depend on t)."""
        for _ in range(MAX_ARGMAX_STEPS):
            with np.errstate(divide="ignore"):
                log_q = np.log(one_hot(labels))
            new = _canonical(np.argmax(ib_numpy.ib_step(log_q, self.p_x, self.p_y_given_x, beta).log_p_t_given_x, axis=-1))
            if np.array_equal(new, labels):
                break
            labels = new
        return labels

    def local_search(self, labels: np.ndarray, beta: float) -> tuple[np.ndarray, int]:
        """Greedy descent by single moves (x to another or a new cluster) and merges of two clusters.

        The objective is a sum over clusters of a term of that cluster's joint p(t, .) plus a constant
        (``dib_cluster_terms``), so the changes of moves that touch disjoint clusters add: each sweep
        takes the improving moves (best first) whose clusters no earlier move of the sweep touched.
        Returns the partition and the number of sweeps.
        """
        labels = _canonical(labels)
        for sweep in range(1, MAX_SWEEPS + 1):
            k = int(labels.max()) + 1
            n_b = k + 1 if k < self.capacity else k  # row k: a new cluster
            delta, pa, pb, m_delta = self.deltas(labels, n_b, beta)
            if n_b > k:
                alone = np.bincount(labels, minlength=k)[labels] == 1
                delta[alone, k] = 0.0  # a singleton moved to a new cluster is the same partition
            moves = [(float(delta[i, j]), int(i), int(j)) for i, j in zip(*np.nonzero(delta < -MOVE_TOL), strict=True)]
            moves += [(float(m_delta[m]), -1 - int(m), 0) for m in np.flatnonzero(m_delta < -MOVE_TOL)]
            if not moves:
                return labels, sweep
            moves.sort()
            touched: set[int] = set()
            new = labels.copy()
            for _, i, j in moves:
                src, dst = (int(labels[i]), j) if i >= 0 else (int(pb[-1 - i]), int(pa[-1 - i]))
                if src in touched or dst in touched:
                    continue
                touched.update((src, dst))
                if i >= 0:
                    new[i] = dst
                else:
                    new[labels == src] = dst
            labels = _canonical(new)
        return labels, MAX_SWEEPS

    def descend(self, labels: np.ndarray, beta: float) -> tuple[np.ndarray, int]:
        """Argmax alternation, then local search; the result joins the pool of lines."""
        labels = self.argmax_steps(_canonical(labels), beta)
        labels, sweeps = self.local_search(labels, beta)
        self.line(labels)
        return labels, sweeps

    def best_in_pool(self, beta: float) -> tuple[np.ndarray, float]:
        parts = list(self.pool.values())
        obj = np.array([h - beta * i for _, h, i in parts])
        j = int(np.argmin(obj))
        return parts[j][0], float(obj[j])


def _heuristic(search: _Search, betas: np.ndarray, n_restarts: int, rng: np.random.Generator) -> tuple[list[np.ndarray], np.ndarray]:
    """Annealing both ways with local search, random restarts, then envelope and neighbour re-seeding
    and kicks (module docstring)."""
    n_x, n_b = search.p_x.size, betas.size
    sweeps = np.zeros(n_b, dtype=np.int64)
    done: set[tuple[bytes, int]] = set()  # (partition, beta index) pairs known to be local optima

    def descend(start: np.ndarray, k: int) -> np.ndarray:
        out, s = search.descend(start, float(betas[k]))
        sweeps[k] += s
        done.add((start.astype(np.int8).tobytes(), k))
        done.add((out.astype(np.int8).tobytes(), k))
        return out

    q = np.minimum(np.arange(n_x), search.capacity - 1)
    sizes = np.ones(n_b, dtype=np.int64)
    for k in range(n_b - 1, -1, -1):  # reverse: from one cluster per x, downwards
        q = descend(q, k)
        sizes[k] = int(q.max()) + 1
    q = np.zeros(n_x, dtype=np.int64)
    for k in range(n_b):  # forward: from one cluster, upwards (moves to a new cluster split)
        q = descend(q, k)
    if n_restarts:  # random partitions into as many clusters as the reverse sweep found there (+1)
        for k in np.unique(np.round(np.linspace(0, n_b - 1, min(n_b, n_restarts))).astype(int)).tolist():
            descend(rng.integers(0, min(search.capacity, int(sizes[k]) + 1), size=n_x), k)
    # every beta from the best partition found for it and from its grid neighbours' choices (a
    # first-order transition hides a branch from the sweeps), while that finds new partitions;
    # then kicks, and again while they find better partitions
    kicked = False
    for _ in range(ENVELOPE_ROUNDS):
        before = len(search.pool)
        chosen = [search.best_in_pool(float(b))[0] for b in betas]
        for k in range(n_b):
            for j in (k, k - 1, k + 1):
                if 0 <= j < n_b and (chosen[j].astype(np.int8).tobytes(), k) not in done:
                    descend(chosen[j], k)
        if len(search.pool) == before:
            if kicked or not _kicks(search, betas, sweeps):
                break
            kicked = True
    return [search.best_in_pool(float(b))[0] for b in betas], sweeps


def _kicks(search: _Search, betas: np.ndarray, sweeps: np.ndarray) -> bool:
    """Kicks out of a local optimum: at each beta, the KICKS least costly merges of two clusters of its
    chosen partition and the KICKS least costly moves of one x to a new cluster, each followed by
    local search (a merge or split plus moves can be better when neither alone is). Returns whether
    a better partition was found for some beta."""
    found = False
    for k, beta in enumerate(betas.tolist()):
        labels, obj = search.best_in_pool(beta)
        n_k = int(labels.max()) + 1
        n_b = n_k + 1 if n_k < search.capacity else n_k
        move, pa, pb, m_delta = search.deltas(labels, n_b, beta)
        starts = [np.where(labels == pb[m], pa[m], labels) for m in np.argsort(m_delta)[:KICKS].tolist()]
        if n_b > n_k:
            to_new = move[:, n_k]
            to_new[np.bincount(labels)[labels] == 1] = np.inf  # singletons: no split
            for i in np.argsort(to_new)[:KICKS].tolist():
                if np.isfinite(to_new[i]):
                    start = labels.copy()
                    start[i] = n_k
                    starts.append(start)
        for start in starts:
            out, s = search.local_search(start, beta)
            sweeps[k] += s
            h, i_ty = search.line(out)
            found |= h - beta * i_ty < obj - MOVE_TOL
    return found


def _heuristic_transitions(search: _Search, betas: np.ndarray, chosen: list[np.ndarray]) -> tuple[list[float], list[tuple[int, int]]]:
    """Where neighbouring grid points' partitions differ: the crossing of the two lines, refined by
    a local search at the crossing (a third partition better there splits the interval)."""
    trans: list[float] = []
    counts: list[tuple[int, int]] = []

    def crossing(lo_q: np.ndarray, hi_q: np.ndarray, lo: float, hi: float, depth: int) -> None:
        h0, i0 = search.line(lo_q)
        h1, i1 = search.line(hi_q)
        if i1 <= i0:  # not separable by a crossing (equal lines): report the midpoint
            trans.append(math.sqrt(lo * hi) if lo > 0 else hi / 2)
            counts.append((int(lo_q.max()) + 1, int(hi_q.max()) + 1))
            return
        b = (h1 - h0) / (i1 - i0)
        b = min(max(b, lo), hi)
        mid_q, _ = search.descend(hi_q if b > (lo + hi) / 2 else lo_q, b)
        h2, i2 = search.line(mid_q)
        better = h2 - b * i2 < h0 - b * i0 - MOVE_TOL
        if depth > 0 and better and not np.array_equal(mid_q, lo_q) and not np.array_equal(mid_q, hi_q):
            crossing(lo_q, mid_q, lo, b, depth - 1)
            crossing(mid_q, hi_q, b, hi, depth - 1)
            return
        trans.append(float(b))
        counts.append((int(lo_q.max()) + 1, int(hi_q.max()) + 1))

    for k in range(betas.size - 1):
        if not np.array_equal(chosen[k], chosen[k + 1]):
            crossing(chosen[k], chosen[k + 1], float(betas[k]), float(betas[k + 1]), TRANSITION_DEPTH)
    return trans, counts


def dib_curve(
    p_xy: Any,
    betas: Any,
    *,
    units: str = "nats",
    normalize: bool = False,
    exact: bool | None = None,
    n_clusters: int | None = None,
    n_restarts: int = 8,
    seed: Any = 0,
    locate_transitions: bool = True,
) -> IBFamilyCurve:
    """The deterministic IB curve: min over encoders of H(T) - beta I(T;Y) on ``betas``
    (Strouse & Schwab 2017; theory.md 11.1; the module docstring states why the minimiser is a partition).

    ``exact=None`` (default) enumerates every partition of X when n_x <= EXACT_MAX_NX (10) and returns
    the global optimum at every beta (``exact=True`` in the result) with the transitions at the
    envelope's breakpoints; above it, or with ``exact=False``, the heuristic of the module docstring
    (``n_restarts`` random partitions, seeded, join the search). ``exact=True`` forces enumeration
    (at most EXACT_LIMIT_NX). ``n_clusters`` bounds the number of clusters (default n_x).
    Information in nats (``units="bits"`` on request).
    """
    check_units(units)
    joint = check_joint(p_xy, normalize=normalize)
    b_sorted = check_betas(betas)
    p_x = joint.sum(axis=1)
    p_y_given_x = joint / p_x[:, None]
    n_x = p_x.size
    capacity = n_x if n_clusters is None else min(n_x, check_positive_int(n_clusters, "n_clusters"))
    n_restarts = int(n_restarts)
    if n_restarts < 0:
        raise ValueError(f"n_restarts must be >= 0, got {n_restarts}")
    if exact is None:
        exact = n_x <= EXACT_MAX_NX
    elif exact and n_x > EXACT_LIMIT_NX:
        raise ValueError(
            f"exact=True enumerates every partition of X; n_x = {n_x} > {EXACT_LIMIT_NX} is out of reach "
            "(Bell numbers); pass exact=None or False for the heuristic search"
        )
    if exact:
        labels, trans, trans_k, h_t, i_ty = _exact(p_x, p_y_given_x, capacity, b_sorted)
        sweeps = np.zeros(b_sorted.size, dtype=np.int64)
    else:
        search = _Search(p_x, p_y_given_x, capacity)
        chosen, sweeps = _heuristic(search, b_sorted, n_restarts, as_generator(seed))
        labels = np.array(chosen)
        lines = [search.line(q) for q in chosen]
        h_t = np.array([h for h, _ in lines])
        i_ty = np.array([i for _, i in lines])
        trans, trans_k = _heuristic_transitions(search, b_sorted, chosen) if locate_transitions else ([], [])
    if not locate_transitions:
        trans, trans_k = [], []
    return family_curve("dib", 0.0, units, b_sorted, h_t, np.zeros_like(h_t), i_ty, [one_hot(q) for q in labels],
                        exact=bool(exact), converged=np.ones(b_sorted.size, dtype=bool), n_iter=sweeps,
                        residual=np.zeros(b_sorted.size), transitions=trans, transition_clusters=trans_k,
                        transition_rtol=0.0)


def _exact(p_x: np.ndarray, p_y_given_x: np.ndarray, capacity: int, betas: np.ndarray
           ) -> tuple[np.ndarray, list[float], list[tuple[int, int]], np.ndarray, np.ndarray]:
    """Enumerate all partitions; the lower envelope of their lines gives the optimum at each beta and
    the transitions (breakpoints inside the grid's range)."""
    parts = set_partitions(p_x.size, capacity)
    h_t, i_ty = partition_information(p_x, p_y_given_x, parts)
    hull, cross = lower_envelope(h_t, i_ty)
    # line hull[j] is optimal on [cross[j-1], cross[j]]; at a breakpoint itself the lower-beta one is kept
    which = hull[np.searchsorted(cross, betas, side="left")]
    labels = parts[which].astype(np.int64)
    inside = (cross > betas[0]) & (cross < betas[-1])
    counts = parts[hull].max(axis=1) + 1
    trans = cross[inside].tolist()
    trans_k = [(int(counts[j]), int(counts[j + 1])) for j in np.flatnonzero(inside)]
    return labels, trans, trans_k, h_t[which], i_ty[which]
