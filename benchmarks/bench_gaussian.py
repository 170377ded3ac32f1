"""Benchmark: the closed-form Gaussian IB / dualIB vs direct numerical minimisation.

Problem: a random joint covariance with n_x = n_y = N (default 20; ``--quick`` 8), float64, CPU.
Rows:

1. ``gaussian_ib`` closed form for 1000 betas, NumPy and Torch backends (the whole curve);
2. the Gaussian dualIB functional minimised directly over A (N x N) with torch L-BFGS on the
   generated kernel at ONE beta, from a random start;
3. accuracy: |F(L-BFGS) - F(closed form)| at that beta.

Reports medians and the ratio (one L-BFGS minimisation) / (closed form for 1000 betas).
Run: ``python benchmarks/bench_gaussian.py [--quick]``; writes ``benchmarks/results/gaussian.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from ibtheory import gaussian_dual_ib, gaussian_ib
from ibtheory._generated import gaussian_numpy, gaussian_torch


def timeit(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    n = 8 if args.quick else 20
    repeats = 3 if args.quick else 7
    rng = np.random.default_rng(0)
    m = rng.normal(size=(2 * n, 2 * n))
    s = m @ m.T / (2 * n) + 0.5 * np.eye(2 * n)
    sx, sxy, sy = s[:n, :n], s[:n, n:], s[n:, n:]
    betas = np.geomspace(0.5, 1e3, 1000)
    t_np = timeit(lambda: gaussian_ib(sx, sxy, sy, betas), repeats)
    st = tuple(torch.tensor(v) for v in (sx, sxy, sy))
    t_torch = timeit(lambda: gaussian_ib(*st, torch.tensor(betas), backend="torch"), repeats)

    beta = 20.0
    b = np.linalg.solve(sx, sxy).T
    w = b.T @ np.linalg.solve(sy - b @ sxy, b)
    closed = gaussian_dual_ib(sx, sxy, sy, [beta]).projections[0]
    f_closed = float(gaussian_numpy.gaussian_dual_ib_functional(closed, sx, np.eye(n), w, beta).objective)
    args_t = (torch.tensor(sx), torch.eye(n, dtype=torch.float64), torch.tensor(w), beta)
    result = {}

    def minimise():
        a = torch.randn(n, n, dtype=torch.float64, generator=torch.Generator().manual_seed(1)).requires_grad_(True)
        opt = torch.optim.LBFGS([a], max_iter=1000, line_search_fn="strong_wolfe", tolerance_grad=1e-12, tolerance_change=1e-15, history_size=50)

        def closure():
            opt.zero_grad()
            obj = gaussian_torch.gaussian_dual_ib_functional(a, *args_t).objective
            obj.backward()
            return obj

        for _ in range(5):
            opt.step(closure)
        result["f"] = float(gaussian_torch.gaussian_dual_ib_functional(a.detach(), *args_t).objective)

    t_opt = timeit(minimise, max(1, repeats // 2))
    rows = [
        ("closed form, 1000 betas, numpy", t_np),
        ("closed form, 1000 betas, torch", t_torch),
        ("L-BFGS on dual functional, 1 beta", t_opt),
    ]
    print(f"Gaussian IB/dualIB, n_x = n_y = {n}, float64, CPU ({platform.processor() or platform.machine()})")
    for name, t in rows:
        print(f"  {name:38s} {t * 1e3:10.2f} ms")
    print(f"  ratio L-BFGS(1 beta) / closed form(1000 betas, numpy): {t_opt / t_np:.1f}")
    print(f"  |F(L-BFGS) - F(closed form)| at beta={beta}: {abs(result['f'] - f_closed):.2e} (F = {f_closed:.6f} nats)")
    out = Path(__file__).resolve().parent / "results" / "gaussian.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "n": n, "n_betas": len(betas), "seconds": dict(rows), "ratio_lbfgs_over_closed_numpy": t_opt / t_np,
        "abs_error_lbfgs": abs(result["f"] - f_closed), "platform": platform.platform(), "gpu": "none available",
    }, indent=2))


if __name__ == "__main__":
    main()
