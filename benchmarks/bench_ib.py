"""Benchmark: ``ibtheory.ib_curve`` called as a user calls it (default arguments) vs embo 1.1.0.

Every figure times ``ib_curve(p_xy, betas)`` (the default, ``effort="optimum"``) or
``ib_curve(p_xy, betas, effort="fast")``; no other argument is passed. Global transitions are a
lazy query since issue 23 (located on first access of ``curve.transitions``), so the default call
no longer pays for them; ``transitions_s`` reports, separately, what that first access costs.

Problems (:func:`family`): Dirichlet joints with concentrations 0.1, 0.5, 1 and 5 (all cells
Dirichlet(c), ``random_joint(n_x, n_y, concentration=c, seed=0)``), a structured noisy channel
(x uniform, p(y|x) a discretised Gaussian of width 1 around n_y x / n_x: neighbouring x alike) and
a joint with 75% zero cells (Dirichlet(1) cells, each zeroed with probability 0.75, one kept per
row). Betas: linspace(0.1, 40, 80). Objective L = I(X;T) - beta I(T;Y) in nats.

Peers, run in one process on the same inputs, repeats interleaved (ours default, ours fast, embo,
then again), medians reported:
- embo: ``InformationBottleneck.beta_iter`` per beta with its defaults (3 restarts, 100
  iterations, |T| = |X|); its beta is ln 2 times the standard one and its information is in bits
  (converted). At large n_x embo runs on every ``--peer-stride``-th beta and its time is scaled
  to all 80 betas (stated in the JSON);
- the default of the version before issue 23: its objectives are stored in
  ``benchmarks/results/ib_reference_cb3b53f.json`` (64x8 family); ours is compared to them.

Memory: the peak of Python-tracked allocations (``tracemalloc``, which NumPy reports to) of one
separate, untimed run of each effort. Scaling: time vs n_x (64 .. 1024 at n_y = 16) on the
Dirichlet(1) joint for both efforts (the default up to ``--optimum-max-nx``) and embo;
``benchmarks/plot_ib_scaling.py`` draws it.

Environment: ``/work/venv-bench-ib`` (embo 1.1.0, dit, torch; ibtheory installed ``-e`` from here).
Run: ``/work/venv-bench-ib/bin/python benchmarks/bench_ib.py``; ``--quick`` runs the 16x4 family on
16 betas (the suite runs it with ``--no-peers``). Writes ``benchmarks/results/ib.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
import tracemalloc
from pathlib import Path

import numpy as np

from ibtheory.models import random_joint
from ibtheory.solvers import ib_curve

RESULTS = Path(__file__).parent / "results"


def noisy_channel(n_x: int, n_y: int, width: float = 1.0) -> np.ndarray:
    """x uniform; p(y|x) a discretised Gaussian of ``width`` around n_y x / n_x (neighbouring x alike)."""
    centre = (np.arange(n_x) + 0.5) * n_y / n_x - 0.5
    w = np.exp(-0.5 * ((np.arange(n_y)[None, :] - centre[:, None]) / width) ** 2)
    return w / w.sum(axis=1, keepdims=True) / n_x


def sparse_joint(n_x: int, n_y: int, seed: int = 0, zero_fraction: float = 0.75) -> np.ndarray:
    """Dirichlet(1) cells, each zeroed with probability ``zero_fraction``; one cell per row kept."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(n_x * n_y)).reshape(n_x, n_y)
    keep = rng.random((n_x, n_y)) >= zero_fraction
    keep[np.arange(n_x), rng.integers(0, n_y, n_x)] = True
    p = p * keep
    return p / p.sum()


def family(n_x: int, n_y: int) -> dict[str, np.ndarray]:
    """The benchmark's problems of one size (module docstring)."""
    out = {f"dirichlet(c={c})": random_joint(n_x, n_y, concentration=c, seed=0) for c in (0.1, 0.5, 1.0, 5.0)}
    out["noisy_channel"] = noisy_channel(n_x, n_y)
    out["sparse(75% zero cells)"] = sparse_joint(n_x, n_y)
    return out


def time_ours(p_xy, betas, effort):
    t0 = time.perf_counter()
    curve = ib_curve(p_xy, betas) if effort == "optimum" else ib_curve(p_xy, betas, effort=effort)
    return time.perf_counter() - t0, curve


def peak_memory(p_xy, betas, effort):
    """Peak traced allocation (bytes) of one call."""
    tracemalloc.start()
    try:
        time_ours(p_xy, betas, effort)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def time_embo(p_xy, betas, seed=0):
    """embo's curve with its defaults: seconds and objectives (nats)."""
    from embo import InformationBottleneck

    p_x, p_y = p_xy.sum(1), p_xy.sum(0)
    pyx_c = p_xy.T / p_x
    np.random.seed(seed)  # noqa: NPY002 -- embo draws its restarts from numpy's global state
    out, t0 = [], time.perf_counter()
    for beta in betas:
        i_x, i_y, _, _ = InformationBottleneck.beta_iter(1, math.log(2) * beta, p_x, p_y, pyx_c, p_x.size, 3, 100)
        out.append(math.log(2) * (i_x - beta * i_y))  # bits -> nats
    return time.perf_counter() - t0, np.array(out)


def certificate(curve) -> dict:
    opt = curve.optimality
    return {"on_envelope": int(opt.on_envelope.sum()), "repaired": int(opt.repaired.sum()),
            "max_envelope_gap": float(opt.envelope_gap.max()), "n_lines": int(opt.n_lines),
            "converged": int(curve.converged.sum()), "max_clusters": int(curve.n_clusters.max())}


def run_problem(name, p_xy, betas, *, repeats, peers, stride, efforts, reference=None, time_transitions=True):
    """Interleaved repeats of each effort and embo; medians, ratios, objective differences."""
    idx = np.arange(0, betas.size, stride)
    times: dict[str, list[float]] = {e: [] for e in efforts}
    times["embo"] = []
    curves, embo_obj = {}, None
    for _ in range(repeats):
        for effort in efforts:
            t, curves[effort] = time_ours(p_xy, betas, effort)
            times[effort].append(t)
        if peers:
            t, embo_obj = time_embo(p_xy, betas[idx])
            times["embo"].append(t * betas.size / idx.size)
    row: dict = {"problem": name, "n_x": int(p_xy.shape[0]), "n_y": int(p_xy.shape[1]), "repeats": repeats}
    for effort in efforts:
        curve = curves[effort]
        entry = {"call": "ib_curve(p_xy, betas)" if effort == "optimum" else 'ib_curve(p_xy, betas, effort="fast")',
                 "median_s": float(np.median(times[effort])), "runs_s": times[effort],
                 "peak_memory_bytes": peak_memory(p_xy, betas, effort), "certificate": certificate(curve)}
        entry["n_transition_estimates"] = int(curve.transition_estimates.size)
        if time_transitions:  # the cost of the first access (a query, not part of the call)
            t0 = time.perf_counter()
            _ = curve.transitions
            entry["transitions_s"] = time.perf_counter() - t0
            entry["n_transitions"] = int(curve.transitions.size)
        if peers:
            diff = curve.objective[idx] - embo_obj
            entry["vs_embo"] = {"time_ratio_of_medians": float(np.median(times[effort]) / np.median(times["embo"])),
                                "max_objective_diff": float(diff.max()), "min_objective_diff": float(diff.min())}
        if reference is not None and effort == "optimum":
            d = curve.objective - np.asarray(reference)
            entry["vs_default_before_issue_23"] = {"max_objective_diff": float(d.max()), "min_objective_diff": float(d.min()),
                                                   "betas_worse_by_1e-8": int(np.sum(d > 1e-8))}
        row[effort] = entry
    if peers:
        row["embo"] = {"median_s_scaled_to_all_betas": float(np.median(times["embo"])), "runs_s": times["embo"],
                       "betas_run": int(idx.size), "scaled": bool(stride > 1)}
    if "optimum" in curves and "fast" in curves:
        gap = curves["fast"].objective - curves["optimum"].objective
        row["fast_minus_optimum_objective"] = {"max": float(gap.max()), "min": float(gap.min())}
    return row


def summary(rows, efforts):
    out = {}
    for effort in efforts:
        ratios = [r[effort]["vs_embo"]["time_ratio_of_medians"] for r in rows if effort in r and "vs_embo" in r[effort]]
        worse = [r[effort]["vs_embo"]["max_objective_diff"] for r in rows if effort in r and "vs_embo" in r[effort]]
        if ratios:
            out[effort] = {"time_ratio_vs_embo_median": float(np.median(ratios)), "time_ratio_vs_embo_worst": float(max(ratios)),
                           "time_ratio_vs_embo_best": float(min(ratios)), "max_objective_diff_vs_embo": float(max(worse))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="16x4 family, 16 betas")
    ap.add_argument("--no-peers", action="store_true", help="ours only (embo not installed)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", default="64x8,512x16", help="family sizes, n_x x n_y")
    ap.add_argument("--peer-stride-large", type=int, default=10, help="embo on every k-th beta above n_x = 64")
    ap.add_argument("--optimum-max-nx", type=int, default=128, help="the default effort only up to this n_x")
    ap.add_argument("--scaling", default="64,128,256,512,1024", help="n_x values at n_y = 16 ('' to skip)")
    ap.add_argument("--transitions-max-nx", type=int, default=64, help="time the first transitions access up to this n_x")
    ap.add_argument("--merge", action="store_true", help="update the rows run here in an existing --out")
    ap.add_argument("--efforts", default="optimum,fast", help="efforts to run (the others are kept when merging)")
    ap.add_argument("--out", default=str(RESULTS / "ib.json"))
    args = ap.parse_args()
    n_beta = 16 if args.quick else 80
    betas = np.linspace(0.1, 40.0, n_beta)
    sizes = [(16, 4)] if args.quick else [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",") if s]
    peers = not args.no_peers
    ref_path = RESULTS / "ib_reference_cb3b53f.json"
    reference = json.loads(ref_path.read_text())["problems"] if ref_path.exists() else {}
    report: dict = {"platform": platform.platform(), "python": platform.python_version(),
                    "betas": f"linspace(0.1, 40, {n_beta})", "objective": "L = I(X;T) - beta I(T;Y), nats; diff = ours - peer",
                    "timing": "median of interleaved repeats in one process; ratio = ours / embo", "families": []}
    if args.merge and Path(args.out).exists():
        report = json.loads(Path(args.out).read_text())
    for n_x, n_y in sizes:
        asked = tuple(args.efforts.split(","))
        efforts = tuple(e for e in asked if e == "fast" or n_x <= args.optimum_max_nx)
        stride = 1 if n_x <= 64 else args.peer_stride_large
        repeats = args.repeats if n_x <= 64 else 1
        rows = []
        for name, p_xy in family(n_x, n_y).items():
            ref = reference.get(name, {}).get("objective") if (n_x, n_y) == (64, 8) and not args.quick else None
            row = run_problem(name, p_xy, betas, repeats=repeats, peers=peers, stride=stride, efforts=efforts,
                              reference=ref, time_transitions=n_x <= args.transitions_max_nx)
            old = next((f for f in report["families"] if f["size"] == f"{n_x}x{n_y}"), None)
            kept = next((r for r in old["problems"] if r["problem"] == name), {}) if old else {}
            for effort in ("optimum", "fast"):
                if effort not in row and effort in kept:
                    row[effort] = {**kept[effort], "from_an_earlier_run": True}  # ratio vs that run's embo
            rows.append(row)
            old_rows = [r for r in (old["problems"] if old else []) if r["problem"] not in {x["problem"] for x in rows}]
            report["families"] = [f for f in report["families"] if f["size"] != f"{n_x}x{n_y}"]
            all_rows = rows + old_rows
            report["families"].append({"size": f"{n_x}x{n_y}", "summary": summary(all_rows, ("optimum", "fast")),
                                       "problems": all_rows,
                                       "skipped": [] if "optimum" in efforts else
                                       [f"effort='optimum' above n_x = {args.optimum_max_nx} (see the scaling rows)"]})
            Path(args.out).write_text(json.dumps(report, indent=1))
    if args.scaling and not args.quick:
        scaling = []
        for n_x in (int(v) for v in args.scaling.split(",")):
            p_xy = random_joint(n_x, 16, seed=0)
            entry: dict = {"n_x": n_x, "n_y": 16}
            for effort in ("fast", "optimum"):
                if effort == "optimum" and n_x > args.optimum_max_nx:
                    continue
                t, _ = time_ours(p_xy, betas, effort)
                entry[effort] = {"seconds": t, "peak_memory_bytes": peak_memory(p_xy, betas, effort)}
            if peers:
                stride = max(1, min(args.peer_stride_large, n_x // 64 * 2)) if n_x > 64 else 1
                idx = np.arange(0, n_beta, stride)
                t, _ = time_embo(p_xy, betas[idx])
                entry["embo"] = {"seconds_scaled_to_all_betas": t * n_beta / idx.size, "betas_run": int(idx.size)}
            scaling.append(entry)
            report["scaling_n_y_16"] = scaling
            Path(args.out).write_text(json.dumps(report, indent=1))
    Path(args.out).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
