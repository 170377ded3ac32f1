"""Benchmark: ``ibtheory.ib_curve`` vs embo 1.1.0 and dit 2.3 on random Dirichlet joints.

Problems: ``random_joint(64, 8, seed=0)`` and ``random_joint(512, 16, seed=0)`` (all cells
Dirichlet(1)), 80 betas linspace(0.1, 40). For each peer and beta: wall time and the objective
difference L_ours - L_peer (L = I(X;T) - beta I(T;Y) in nats; negative = ours better).

Peers (run in their own environment, see below):
- embo: ``InformationBottleneck.beta_iter`` per beta with its defaults (restarts=3, iterations=100,
  |T| = |X|); embo's beta is ln 2 times the standard one (its KL is in bits inside exp), and its
  I(M;X), I(M;Y) are in bits (converted here);
- dit: ``dit.rate_distortion.blahut_arimoto.blahut_arimoto_ib`` (bits, 2^{-beta d}: the standard
  beta) with ``--dit-restarts`` restarts (its default 250 is far too slow here) on every
  ``--dit-stride``-th beta; its objective is recomputed from its p(x,y,t) with our generated
  ``ib_lagrangian``.
Peers that would take too long are run on every ``--peer-stride``-th beta; their time per beta is
reported and scaled to 80 betas (stated in the JSON).

Ours: ``ib_curve`` with ``effort="fast"`` (the reverse annealing sweep alone) on every problem and
with the default ``effort="optimum"`` up to ``--optimum-max-nx`` (64; at n_x = 512 its capacity of
512 clusters makes it take hours), each on NumPy and on Torch (CPU). Times are the best of
``--repeats`` runs (default 5) for ours with ``effort="fast"`` on NumPy and for embo (the pair whose
ratio is the target; the ratio of the medians is reported too), one run otherwise.

Environment: ``python3 -m venv /work/venv-bench-ib && /work/venv-bench-ib/bin/pip install embo==1.1.0
dit torch==2.13.0 numpy scipy sympy==1.14.0 mpmath threadpoolctl && /work/venv-bench-ib/bin/pip install --no-deps -e .``
Run: ``/work/venv-bench-ib/bin/python benchmarks/bench_ib.py [--quick]``; writes
``benchmarks/results/ib.json``. CPU (float64); ``--device cuda`` adds a torch GPU row.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import numpy as np

from ibtheory._generated import ib_numpy
from ibtheory.models import random_joint
from ibtheory.solvers import ib_curve


def run_ours(p_xy, betas, backend="numpy", device=None, effort="optimum", repeats=1):
    """Best wall time of ``repeats`` identical runs (the machine's load varies), all times, the curve."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        curve = ib_curve(p_xy, betas, backend=backend, device=device, locate_transitions=False, effort=effort)
        times.append(time.perf_counter() - t0)
    return min(times), times, curve


def run_embo(p_xy, betas, seed, repeats=1):
    """Best wall time of ``repeats`` runs from the same seed (identical results), all times, the objectives."""
    from embo import InformationBottleneck

    p_x, p_y = p_xy.sum(1), p_xy.sum(0)
    pyx_c = p_xy.T / p_x
    times = []
    for _ in range(repeats):
        np.random.seed(seed)  # noqa: NPY002 -- embo draws its restarts from numpy's global state
        out, t0 = [], time.perf_counter()
        for beta in betas:
            i_x, i_y, _, _ = InformationBottleneck.beta_iter(1, math.log(2) * beta, p_x, p_y, pyx_c, p_x.size, 3, 100)
            out.append(math.log(2) * (i_x - beta * i_y))  # bits -> nats
        times.append(time.perf_counter() - t0)
    return min(times), times, np.array(out)


def run_dit(p_xy, betas, restarts, seed):
    from dit.divergences._kl_nonmerge import relative_entropy_pmf
    from dit.rate_distortion.blahut_arimoto import blahut_arimoto_ib

    np.random.seed(seed)  # noqa: NPY002 -- dit draws its restarts from numpy global state
    p_x = p_xy.sum(1)
    p_yx = p_xy / p_x[:, None]
    out, t0 = [], time.perf_counter()
    for beta in betas:
        _, q_xyt = blahut_arimoto_ib(p_xy, beta, divergence=relative_entropy_pmf, max_iters=100, restarts=restarts)
        q_xt = q_xyt.sum(axis=1)
        enc = q_xt / q_xt.sum(axis=1, keepdims=True)
        out.append(float(ib_numpy.ib_lagrangian(p_x, p_yx, enc, beta)))
    return time.perf_counter() - t0, np.array(out)


def _compare(ours, idx, peer_objective, peer_seconds_all_betas, betas):
    """Per effort: speed-up over the peer (its time scaled to all betas) and objective differences."""
    out = {}
    for effort, (seconds, curve) in ours.items():
        diff = curve.objective[idx] - peer_objective
        out[effort] = {"speedup_ours_numpy": peer_seconds_all_betas / seconds,
                       "max_objective_diff": float(diff.max()), "min_objective_diff": float(diff.min()),
                       "betas_where_ours_worse_by_1e-9": [float(b) for b in betas[idx][diff > 1e-9]],
                       "objective_diff": diff.tolist()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--peer-stride-large", type=int, default=8, help="embo on every k-th beta for 512x16")
    ap.add_argument("--dit-stride", type=int, default=8)
    ap.add_argument("--dit-restarts", type=int, default=3)
    ap.add_argument("--dit-max-nx", type=int, default=64, help="skip dit above this n_x (its distortion is a Python double loop)")
    ap.add_argument("--device", default=None)
    ap.add_argument("--sizes", default="64x8,512x16", help="comma-separated n_x x n_y problems (default: both)")
    ap.add_argument("--optimum-max-nx", type=int, default=64, help="run effort='optimum' only up to this n_x")
    ap.add_argument("--repeats", type=int, default=5, help="best of this many runs for effort='fast' (numpy) and embo")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "ib.json"))
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error(f"--repeats must be at least 1, got {args.repeats}")
    n_beta = 16 if args.quick else 80
    betas = np.linspace(0.1, 40.0, n_beta)
    sizes = [(16, 4)] if args.quick else [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    report = {"platform": platform.platform(), "python": platform.python_version(), "betas": f"linspace(0.1, 40, {n_beta})",
              "objective": "L = I(X;T) - beta I(T;Y), nats; diff = ours - peer (negative: ours better)", "problems": []}
    run_ours(random_joint(4, 2, seed=0), betas[:2], backend="torch")  # torch's first call sets up its kernels (~3 s)
    for n_x, n_y in sizes:
        p_xy = random_joint(n_x, n_y, seed=0)
        row = {"problem": f"random_joint({n_x}, {n_y}, seed=0)"}
        ours = {}  # effort -> (seconds, curve) on numpy
        for effort in ("fast", "optimum"):
            if effort == "optimum" and n_x > args.optimum_max_nx:
                row["ours_optimum"] = f"skipped: n_x = {n_x} > --optimum-max-nx (pass n_clusters for such sizes)"
                continue
            t_np, runs_np, curve = run_ours(p_xy, betas, effort=effort, repeats=args.repeats if effort == "fast" else 1)
            t_torch, _, curve_t = run_ours(p_xy, betas, backend="torch", effort=effort)
            ours[effort] = (t_np, curve)
            row[f"ours_{effort}"] = {
                "numpy_s": t_np, "numpy_s_runs": runs_np, "torch_cpu_s": t_torch, "max_clusters": int(curve.n_clusters.max()),
                "converged_fraction": float(np.mean(curve.converged)),
                "numpy_vs_torch_max_objective_gap": float(np.max(np.abs(curve.objective - curve_t.objective))),
            }
            if args.device:
                t_dev, _, _ = run_ours(p_xy, betas, backend="torch", device=args.device, effort=effort)
                row[f"ours_{effort}"][f"torch_{args.device}_s"] = t_dev
        if "optimum" in ours:
            gap = ours["fast"][1].objective - ours["optimum"][1].objective
            row["fast_minus_optimum_objective"] = {"max": float(gap.max()), "min": float(gap.min())}
        stride = 1 if n_x <= 64 else args.peer_stride_large
        idx = np.arange(0, n_beta, stride)
        t_embo, runs_embo, obj_embo = run_embo(p_xy, betas[idx], seed=0, repeats=args.repeats)
        row["embo"] = {"betas_run": int(idx.size), "repeats": args.repeats, "time_s": t_embo, "time_s_runs": runs_embo, "time_s_scaled_to_all_betas": t_embo * n_beta / idx.size,
                       "betas": betas[idx].tolist(), **_compare(ours, idx, obj_embo, t_embo * n_beta / idx.size, betas)}
        row["embo"]["fast"]["speedup_of_medians"] = (
            float(np.median(runs_embo)) * n_beta / idx.size / float(np.median(row["ours_fast"]["numpy_s_runs"])))
        if n_x <= args.dit_max_nx:
            idx = np.arange(0, n_beta, args.dit_stride)
            t_dit, obj_dit = run_dit(p_xy, betas[idx], args.dit_restarts, seed=0)
            row["dit"] = {"betas_run": int(idx.size), "restarts": args.dit_restarts, "time_s": t_dit,
                          "time_s_scaled_to_all_betas": t_dit * n_beta / idx.size, "betas": betas[idx].tolist(),
                          **_compare(ours, idx, obj_dit, t_dit * n_beta / idx.size, betas)}
        else:
            row["dit"] = f"skipped: n_x = {n_x} > --dit-max-nx (dit's distortion is a Python loop over n_x^2 pairs per iteration)"
        report["problems"].append(row)
        Path(args.out).write_text(json.dumps(report, indent=1))
    Path(args.out).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
