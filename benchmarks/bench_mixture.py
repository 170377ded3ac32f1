"""Benchmark: pairwise mixture-entropy bounds for N = 10000 components in dimension 10 (issue 6).

    python benchmarks/bench_mixture.py [--quick] [--n N]

Compares :func:`ibtheory.estimators.mixture_entropy_bounds` (generated kernel over row chunks,
memory O(N x chunk)) with one fused matmul-based pass over the whole N x N matrix written directly
in NumPy (in-place operations, scipy's logsumexp): wall time (best of 2, single thread recommended:
OMP_NUM_THREADS=1) and peak traced memory (tracemalloc, separate runs so tracing does not distort
the times). Target: time within 2x of the fused pass, memory O(N x chunk). Writes
benchmarks/results/mixture.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def fused_reference(means: np.ndarray, var: np.ndarray) -> tuple[float, float]:
    """(H_BD, H_KL) from full N x N matrices: one matmul for the distances, then in-place passes."""
    from scipy.special import logsumexp

    n, k = means.shape
    c = means - means.mean(axis=0)
    sq_norm = np.einsum("ij,ij->i", c, c)
    sq = c @ c.T
    sq *= -2.0
    sq += sq_norm[:, None]
    sq += sq_norm[None, :]
    log_v = np.log(var)
    h = float(np.mean(0.5 * k * (np.log(2 * np.pi * np.e) + log_v)))
    # -KL_ij = -(k/2)(s_i/s_j - 1 - ln s_i + ln s_j) - sq_ij / (2 s_j)
    neg = np.divide(var[:, None], var[None, :])
    neg -= 1.0
    neg -= log_v[:, None]
    neg += log_v[None, :]
    neg *= -0.5 * k
    neg -= sq / (2.0 * var[None, :])
    upper = h - float(np.mean(logsumexp(neg, axis=1) - math.log(n)))
    # -D_B_ij = -sq_ij / (4 (s_i + s_j)) - (k/2) ln((s_i + s_j) / (2 sqrt(s_i s_j)))
    ssum = np.add(var[:, None], var[None, :])
    np.divide(sq, ssum, out=sq)
    sq *= -0.25
    np.log(ssum, out=ssum)
    ssum -= math.log(2.0) + 0.5 * log_v[:, None]
    ssum -= 0.5 * log_v[None, :]
    ssum *= 0.5 * k
    sq -= ssum
    lower = h - float(np.mean(logsumexp(sq, axis=1) - math.log(n)))
    return lower, upper


def _best(fn, repeats=2):
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 2000 instead of 10000")
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--dim", type=int, default=10)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "mixture.json"))
    args = parser.parse_args(argv)
    from ibtheory.estimators import BLOCK_ELEMENTS, mixture_entropy_bounds

    n = args.n or (2000 if args.quick else 10000)
    rng = np.random.default_rng(0)
    means = rng.normal(size=(n, args.dim))
    var = rng.uniform(0.2, 2.0, size=n)
    mixture_entropy_bounds(means[:10], var[:10])  # import / first-call costs out of the timing
    t_ours, (lo, hi) = _best(lambda: mixture_entropy_bounds(means, var))
    t_ref, (lo_ref, hi_ref) = _best(lambda: fused_reference(means, var))
    m_ours = _peak(lambda: mixture_entropy_bounds(means, var))
    m_ref = _peak(lambda: fused_reference(means, var))
    chunk = max(1, BLOCK_ELEMENTS // n)
    result = {
        "n": n,
        "dim": args.dim,
        "chunk_rows": chunk,
        "time_ours_s": t_ours,
        "time_fused_s": t_ref,
        "time_ratio": t_ours / t_ref,
        "peak_bytes_ours": m_ours,
        "peak_bytes_fused": m_ref,
        "peak_ours_over_block_bytes": m_ours / (8 * chunk * n),
        "memory_ratio": m_ours / m_ref,
        "lower": float(lo),
        "upper": float(hi),
        "max_abs_diff_vs_fused": max(abs(float(lo) - lo_ref), abs(float(hi) - hi_ref)),
        "platform": platform.platform(),
        "numpy": np.__version__,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"N = {n}, dim = {args.dim}, chunk = {chunk} rows")
    print(f"{'':10s} {'time [s]':>10s} {'peak [MB]':>10s}")
    print(f"{'chunked':10s} {t_ours:10.3f} {m_ours / 1e6:10.1f}")
    print(f"{'fused':10s} {t_ref:10.3f} {m_ref / 1e6:10.1f}")
    print(f"time ratio {t_ours / t_ref:.2f} (target <= 2), memory ratio {m_ours / m_ref:.4f}, "
          f"peak / (8 chunk N) = {m_ours / (8 * chunk * n):.1f}; |diff| = {result['max_abs_diff_vs_fused']:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
