"""Benchmark: the generalized and deterministic IB (``gib_curve``, ``dib_curve``) vs embo 1.1.0 and dit 2.3.

Problems: ``random_joint(64, 8, seed=0)`` and 80 betas linspace(0.1, 40, 80) against embo with
alpha = 0 (DIB) and alpha = 0.5; small joints ``random_joint(n_x, 4, seed=s)`` (n_x = 6, 8, 10)
against the exact DIB optimum (enumeration of all partitions); dit's ``IBCurve`` with
``variant='dib'`` (``method='sequential'``) and ``variant='gib'`` (alpha = 0.5, ``method='sp'``) on
``random_joint(8, 3, seed=0)`` on every ``--dit-stride``-th beta (dit takes seconds to minutes per beta).

Objective: L = H(T) - alpha H(T|X) - beta I(T;Y) in nats; diff = ours - peer at every beta (negative:
ours better). embo's ``beta_iter(alpha, ln2 * beta, ...)`` with its defaults (3 restarts, 100
iterations; its KL is in bits inside the exponential, hence ln 2, as in bench_ib.py) returns
I(M;X), I(M;Y), H(M) in bits: L = ln2 (H(M) - alpha (H(M) - I(M;X)) - beta I(M;Y)). dit's curve
gives p(x, y, t) per beta; its objective is recomputed with our generated ``gib_objective``.

Times: ours (``locate_transitions=False``, as bench_ib calls ib_curve) and embo interleaved
``--repeats`` times in one process; medians and the ratio ours / embo of the medians.

Run in the peer environment (it has ibtheory installed editable, see bench_ib.py):
``/work/venv-bench-ib/bin/python benchmarks/bench_ib_family.py``; writes
``benchmarks/results/ib_family.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
import warnings
from pathlib import Path

import numpy as np

from ibtheory._generated import gib_numpy
from ibtheory.models import random_joint
from ibtheory.solvers import dib_curve, gib_curve

RESULTS = Path(__file__).resolve().parent / "results"
#: A difference below this (nats) is a tie: float64 rounding of objectives of size ~10.
TIE = 1e-12


def run_embo(p_xy: np.ndarray, betas: np.ndarray, alpha: float, seed: int = 0) -> tuple[float, np.ndarray]:
    from embo import InformationBottleneck

    p_x, p_y = p_xy.sum(1), p_xy.sum(0)
    pyx_c = p_xy.T / p_x
    np.random.seed(seed)  # noqa: NPY002 -- embo draws its restarts from numpy's global state
    out, t0 = [], time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # embo divides by zero on dropped clusters
        for beta in betas:
            i_x, i_y, h_m, _ = InformationBottleneck.beta_iter(alpha, math.log(2) * beta, p_x, p_y, pyx_c, p_x.size, 3, 100)
            out.append(math.log(2) * (h_m - alpha * (h_m - i_x) - beta * i_y))
    return time.perf_counter() - t0, np.array(out)


def run_ours(p_xy: np.ndarray, betas: np.ndarray, alpha: float) -> tuple[float, np.ndarray, bool]:
    t0 = time.perf_counter()
    if alpha == 0:
        curve = dib_curve(p_xy, betas, locate_transitions=False)
    else:
        curve = gib_curve(p_xy, betas, alpha=alpha, locate_transitions=False)
    return time.perf_counter() - t0, curve.objective, curve.exact


def run_dit(p_xy: np.ndarray, betas: np.ndarray, alpha: float) -> tuple[float, np.ndarray]:
    """dit's IBCurve on exactly these betas (its grid is linspace(beta_min, beta_max, beta_num))."""
    import dit
    from dit.rate_distortion import IBCurve

    n_x, n_y = p_xy.shape
    dist = dit.Distribution([(i, j) for i in range(n_x) for j in range(n_y)], p_xy.ravel().tolist())
    variant, method = ("dib", "sequential") if alpha == 0 else ("gib", "sp")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        curve = IBCurve(dist, beta_min=float(betas[0]), beta_max=float(betas[-1]), beta_num=betas.size, alpha=alpha,
                        variant=variant, method=method)
    seconds = time.perf_counter() - t0
    p_x = p_xy.sum(1)
    out = []
    for beta, q_xyzt in zip(curve.betas, curve.distributions, strict=True):
        if hasattr(q_xyzt, "pmf"):  # a dit Distribution: its dense pmf over the (x, y, z, t) alphabets
            q_xyzt.make_dense()
            q_xyzt = np.asarray(q_xyzt.pmf).reshape([len(a) for a in q_xyzt.alphabet])
        q_xt = q_xyzt.reshape(n_x, n_y, -1).sum(axis=1)
        q = q_xt / q_xt.sum(1, keepdims=True)
        out.append(float(gib_numpy.gib_objective(p_x, p_xy / p_x[:, None], q, beta, alpha)))
    return seconds, np.array(out)


def compare(ours: np.ndarray, peer: np.ndarray) -> dict:
    diff = ours - peer
    return {"max_diff": float(diff.max()), "min_diff": float(diff.min()), "betas_worse": int(np.sum(diff > TIE)),
            "betas_better": int(np.sum(diff < -TIE)), "diff": diff.tolist()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dit-stride", type=int, default=10, help="dit on every k-th beta of the small grid")
    ap.add_argument("--no-dit", action="store_true")
    ap.add_argument("--out", default=str(RESULTS / "ib_family.json"))
    args = ap.parse_args()
    betas = np.linspace(0.1, 40.0, 80)
    report: dict = {"platform": platform.platform(), "python": platform.python_version(), "betas": "linspace(0.1, 40, 80)",
                    "objective": "H(T) - alpha H(T|X) - beta I(T;Y), nats; diff = ours - peer", "tie": TIE}

    # 1. 64x8 vs embo, interleaved repeats
    p_xy = random_joint(64, 8, seed=0)
    rows = {}
    for alpha in (0.0, 0.5):
        t_ours, t_embo = [], []
        for _ in range(args.repeats):
            t, obj_ours, exact = run_ours(p_xy, betas, alpha)
            t_ours.append(t)
            t, obj_embo = run_embo(p_xy, betas, alpha)
            t_embo.append(t)
        rows[f"alpha={alpha}"] = {
            "method": "dib" if alpha == 0 else "gib", "exact": exact, "ours_s": t_ours, "embo_s": t_embo,
            "ours_median_s": float(np.median(t_ours)), "embo_median_s": float(np.median(t_embo)),
            "time_ratio_ours_over_embo": float(np.median(t_ours) / np.median(t_embo)), "vs_embo": compare(obj_ours, obj_embo),
        }
    report["random_64x8"] = rows
    Path(args.out).write_text(json.dumps(report, indent=1))

    # 2. small joints: exact DIB vs embo alpha = 0, and the exact time for 80 betas
    small = []
    for n_x in (6, 8, 10):
        for seed in range(3):
            p = random_joint(n_x, 4, seed=seed)
            t0 = time.perf_counter()
            exact = dib_curve(p, betas)
            t_exact = time.perf_counter() - t0
            heur = dib_curve(p, betas, exact=False, locate_transitions=False)
            _, obj_embo = run_embo(p, betas, 0.0)
            small.append({"n_x": n_x, "n_y": 4, "seed": seed, "exact_s_80_betas_with_transitions": t_exact,
                          "transitions": exact.transitions.tolist(),
                          "embo_minus_exact": compare(obj_embo, exact.objective),
                          "heuristic_minus_exact": compare(heur.objective, exact.objective)})
    report["small_exact_dib"] = small
    Path(args.out).write_text(json.dumps(report, indent=1))

    # 3. dit on 8x3, every dit_stride-th beta
    if not args.no_dit:
        p = random_joint(8, 3, seed=0)
        sub = betas[:: args.dit_stride]
        dit_rows = {}
        for alpha in (0.0, 0.5):
            t_dit, obj_dit = run_dit(p, sub, alpha)
            ours = dib_curve(p, sub) if alpha == 0 else gib_curve(p, sub, alpha=alpha, locate_transitions=False)
            dit_rows[f"alpha={alpha}"] = {"betas": sub.tolist(), "dit_s": t_dit, "dit_s_per_beta": t_dit / sub.size,
                                          "vs_dit": compare(ours.objective, obj_dit)}
        report["dit_8x3"] = dit_rows
    Path(args.out).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
