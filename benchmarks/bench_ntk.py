"""Benchmark: ibtheory.ntk vs neural-tangents 0.6.5 (jax 0.4.30, CPU, float64).

Run in the peer venv (see README of benchmarks / issue 9):
    /work/venv-bench-nt/bin/python benchmarks/bench_ntk.py [--quick]
Measures (1) analytic NNGP+NTK for N = 1000, 4000 inputs of dimension 32, depth 3, ReLU and erf: time ratio
ours/NT, max relative difference to NT, accuracy of each against a 50-digit mpmath recursion on a
subset including diagonal entries; (1b) the other activations at N = 1000 (quadrature ones at 250)
against NT's closed forms / ElementwiseNumerical(deg=25): paired median time ratios; (2) ensemble prediction with 1000 train / 500 test points at 5
times; (3) N = 20000 kernels streamed in blocks, with the peak RSS of that subprocess.
Writes benchmarks/results/ntk.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

W_STD, B_STD, DEPTH, DIM = 1.5, 0.1, 3, 32
#: Best of this many timed calls per library (first calls are timed apart): N = 1000 runs take ~0.1 s,
#: where scheduler noise alone moved single timings by 2x.
REPEATS = 7


def _best(fn, repeats=2):
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _paired(fn_a, fn_b, repeats):
    """Alternate fn_a and fn_b ``repeats`` times; per-pair time ratios b/a (scheduler noise hits
    both sides of a pair alike, so their median is steadier than a ratio of two best times)."""
    ratios = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn_a()
        t1 = time.perf_counter()
        fn_b()
        ratios.append((time.perf_counter() - t1) / (t1 - t0))
    return np.asarray(ratios)


def _nt_activation(name):
    """neural-tangents' layer for an ibtheory activation name: closed forms where NT has them,
    ElementwiseNumerical (Gauss-Hermite, deg 25, its default) otherwise (ours: the trapezoid rule
    of fc_kernels at its default strip, ~1e-14 relative)."""
    import jax
    from neural_tangents import stax

    closed = {
        "relu": stax.Relu, "erf": stax.Erf, "gelu": stax.Gelu, "sin": stax.Sin,
        "cos": lambda: stax.Sin(c=np.pi / 2), "abs": stax.Abs, "leaky_relu": lambda: stax.LeakyRelu(0.01),
        "identity": stax.Identity,
    }
    if name in closed:
        return closed[name]()
    fn = {"tanh": jax.numpy.tanh, "sigmoid": jax.nn.sigmoid, "softplus": jax.nn.softplus}[name]
    return stax.ElementwiseNumerical(fn, deg=25)


def _nt_kernel_fn(activation="relu"):
    from neural_tangents import stax

    layers = []
    for _ in range(DEPTH):
        layers += [stax.Dense(512, W_std=W_STD, b_std=B_STD), _nt_activation(activation)]
    _, _, kernel_fn = stax.serial(*layers, stax.Dense(1, W_std=W_STD, b_std=B_STD))
    return kernel_fn


def _accuracy(x, nngp, ntk, pairs, activation="relu"):
    from ibtheory.numeric import fc_kernel_entry

    errs = {"nngp": [], "ntk": [], "nngp_diag": [], "ntk_diag": []}
    for i, j in pairs:
        a, b = fc_kernel_entry(x[i], x[j], depth=DEPTH, activation=activation, w_std=W_STD, b_std=B_STD)
        suffix = "_diag" if i == j else ""
        errs["nngp" + suffix].append(float(abs(nngp[i, j] - a) / abs(a)))
        errs["ntk" + suffix].append(float(abs(ntk[i, j] - b) / abs(b)))
    return {k: max(v) for k, v in errs.items()}


def _cores_used(fn, repeats=3):
    """Process CPU time over wall time of ``fn`` (how many cores it keeps busy), best wall of ``repeats``."""
    best = (np.inf, 0.0)
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        best = min(best, (wall, cpu))
    return best[1] / best[0]


def bench_kernels(n, rng, threads, activation="relu"):
    import functools

    import jax

    from ibtheory.ntk import fc_kernels

    fc_kernels = functools.partial(fc_kernels, activation=activation)
    x = rng.normal(size=(n, DIM))
    kernel_fn = jax.jit(_nt_kernel_fn(activation), static_argnames="get")
    t0 = time.perf_counter()
    jax.block_until_ready(kernel_fn(x, None, get=("nngp", "ntk")))
    nt_first = time.perf_counter() - t0
    t_nt, k_nt = _best(lambda: jax.block_until_ready(kernel_fn(x, None, get=("nngp", "ntk"))), repeats=REPEATS)
    nt_nngp, nt_ntk = np.asarray(k_nt[0]), np.asarray(k_nt[1])
    t_np, ours = _best(lambda: fc_kernels(x, depth=DEPTH, w_std=W_STD, b_std=B_STD, threads=threads), repeats=REPEATS)
    t_np1, _ = _best(lambda: fc_kernels(x, depth=DEPTH, w_std=W_STD, b_std=B_STD, threads=1), repeats=REPEATS)
    cores_nt = _cores_used(lambda: jax.block_until_ready(kernel_fn(x, None, get=("nngp", "ntk"))))
    cores_ours = _cores_used(lambda: fc_kernels(x, depth=DEPTH, w_std=W_STD, b_std=B_STD, threads=threads))
    t_th, ours_t = _best(lambda: fc_kernels(x, depth=DEPTH, w_std=W_STD, b_std=B_STD, backend="torch"), repeats=REPEATS)
    paired = _paired(lambda: jax.block_until_ready(kernel_fn(x, None, get=("nngp", "ntk"))),
                     lambda: fc_kernels(x, depth=DEPTH, w_std=W_STD, b_std=B_STD, threads=threads), 2 * REPEATS + 1)
    diff = {
        "nngp": float(np.max(np.abs(ours.nngp - nt_nngp) / np.abs(nt_nngp))),
        "ntk": float(np.max(np.abs(ours.ntk - nt_ntk) / np.abs(nt_ntk))),
    }
    torch_vs_numpy = float(np.max(np.abs(ours_t.ntk.numpy() - ours.ntk) / np.abs(ours.ntk)))
    sub = rng.choice(n, size=8, replace=False)
    pairs = [(int(i), int(i)) for i in sub] + [(int(sub[k]), int(sub[k + 1])) for k in range(7)]
    acc_ours = _accuracy(x, ours.nngp, ours.ntk, pairs, activation)
    acc_nt = _accuracy(x, nt_nngp, nt_ntk, pairs, activation)
    return {
        "n": n, "dim": DIM, "depth": DEPTH, "activation": activation,
        "time_nt_s": t_nt, "time_nt_first_call_s": nt_first, "time_ours_numpy_s": t_np, "time_ours_torch_s": t_th,
        "time_ours_numpy_1thread_s": t_np1, "cores_busy_nt": cores_nt, "cores_busy_ours_numpy": cores_ours,
        "ratio_numpy_over_nt": t_np / t_nt, "ratio_torch_over_nt": t_th / t_nt, "ratio_numpy_1thread_over_nt": t_np1 / t_nt,
        "ratio_numpy_over_nt_paired_median": float(np.median(paired)),
        "ratio_numpy_over_nt_paired_quartiles": [float(np.quantile(paired, 0.25)), float(np.quantile(paired, 0.75))],
        "max_rel_diff_to_nt": diff, "max_rel_diff_torch_vs_numpy_ntk": torch_vs_numpy,
        "accuracy_vs_mpmath50_ours": acc_ours, "accuracy_vs_mpmath50_nt": acc_nt, "oracle_pairs": len(pairs),
    }


def bench_activations(n, rng, threads):
    """The other activations at N = n (quadrature ones at n // 4): paired median time ratio ours/NT
    against NT's closed form or ElementwiseNumerical(deg=25), and the largest relative difference."""
    import jax

    from ibtheory.ntk import ACTIVATIONS, fc_kernels

    rows = []
    for act in ACTIVATIONS:
        if act in ("relu", "erf"):
            continue
        m = n if act not in ("tanh", "sigmoid", "softplus") else n // 4
        x = rng.normal(size=(m, DIM))
        kernel_fn = jax.jit(_nt_kernel_fn(act), static_argnames="get")
        nt = jax.block_until_ready(kernel_fn(x, None, get=("nngp", "ntk")))
        ours = fc_kernels(x, depth=DEPTH, activation=act, w_std=W_STD, b_std=B_STD, threads=threads)
        def run_nt(kernel_fn=kernel_fn, x=x):
            return jax.block_until_ready(kernel_fn(x, None, get=("nngp", "ntk")))

        def run_ours(x=x, act=act):
            return fc_kernels(x, depth=DEPTH, activation=act, w_std=W_STD, b_std=B_STD, threads=threads)

        paired = _paired(run_nt, run_ours, 5)
        t_nt, _ = _best(run_nt, repeats=3)
        diff = max(float(np.max(np.abs(getattr(ours, k) - np.asarray(v)) / np.max(np.abs(np.asarray(v))))) for k, v in zip(("nngp", "ntk"), nt, strict=True))
        rows.append({
            "activation": act, "n": m, "nt_layer": "ElementwiseNumerical(deg=25)" if act in ("tanh", "sigmoid", "softplus") else "closed form",
            "time_nt_s": t_nt, "ratio_ours_over_nt_paired_median": float(np.median(paired)),
            "max_diff_to_nt_rel_to_max": diff,
        })
    return rows


def bench_ensemble(rng, threads):
    import jax
    import neural_tangents as nt

    from ibtheory.ntk import ensemble_prediction

    xtr, xte = rng.normal(size=(1000, DIM)), rng.normal(size=(500, DIM))
    ytr = rng.normal(size=(1000, 1))
    times = np.array([0.0, 10.0, 100.0, 1000.0, np.inf])
    kernel_fn = _nt_kernel_fn()

    def run_nt():
        pred = nt.predict.gradient_descent_mse_ensemble(kernel_fn, xtr, ytr, learning_rate=1.0, diag_reg=0.0)
        out = pred(times, xte, "ntk", compute_cov=True)
        return jax.block_until_ready(out)

    def run_ours():
        return ensemble_prediction(
            xtr, ytr, xte, times, depth=DEPTH, w_std=W_STD, b_std=B_STD, learning_rate=1.0, threads=threads
        )

    t_nt, out_nt = _best(run_nt)
    t_ours, out = _best(run_ours)
    mu, cov = np.asarray(out_nt.mean), np.asarray(out_nt.covariance)
    return {
        "n_train": 1000, "n_test": 500, "n_times": 5, "times": [float(t) for t in times],
        "time_nt_s": t_nt, "time_ours_s": t_ours, "ratio_ours_over_nt": t_ours / t_nt,
        "max_abs_diff_mean_rel_to_max": float(np.max(np.abs(out.mean - mu)) / np.max(np.abs(mu[1:]))),
        "max_abs_diff_cov_rel_to_max": float(np.max(np.abs(out.cov - cov)) / np.max(np.abs(cov))),
        "ntk_condition_number": float(out.ntk_eigenvalues[-1] / out.ntk_eigenvalues[0]),
    }


def _vm(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB -> MiB
    return float("nan")


def _large_child(n, block):
    """Stream the N x N kernels block by block; report time, peak RSS (VmHWM, this process only),
    the peak of memory allocated while streaming (tracemalloc, NumPy included) and a checksum."""
    import tracemalloc

    from ibtheory.ntk import fc_kernel_blocks, single_threaded_blas

    x = np.random.default_rng(5).normal(size=(n, DIM))
    # Warm up (imports of the generated module and its runtime) before measuring time and memory.
    for _ in fc_kernel_blocks(x[:4], depth=DEPTH, w_std=W_STD, b_std=B_STD):
        pass
    rss0 = _vm("VmHWM")
    tracemalloc.start()
    t0 = time.perf_counter()
    trace, total, nblocks = 0.0, 0.0, 0
    with single_threaded_blas():  # as fc_kernels does (its docstring)
        for rows, cols, _nngp, ntk in fc_kernel_blocks(x, depth=DEPTH, w_std=W_STD, b_std=B_STD, block_size=block):
            nblocks += 1
            weight = 1.0 if rows.start == cols.start else 2.0
            total += weight * float(ntk.sum())
            if rows.start == cols.start:
                trace += float(np.trace(ntk))
    elapsed = time.perf_counter() - t0
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(json.dumps({
        "n": n, "block_size": block, "time_s": elapsed, "blocks": nblocks, "peak_rss_mib": _vm("VmHWM"),
        "rss_after_imports_mib": rss0, "peak_allocated_while_streaming_mib": traced_peak,
        "full_float64_pair_of_matrices_mib": 2 * 8 * n * n / 2**20,
        "ntk_trace": trace, "ntk_sum": total,
    }))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    ap.add_argument("--large-child", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--out", default="", help="file name under benchmarks/results (default ntk.json)")
    ap.add_argument("--threads", type=int, default=None, help="block threads of fc_kernels (default: the library's, one per CPU)")
    args = ap.parse_args()
    if args.large_child:
        _large_child(args.large_child, 256)
        return
    import jax

    from ibtheory.ntk import available_cpus

    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(0)
    sizes = [200, 400] if args.quick else [1000, 4000]
    results = {
        "peer": "neural-tangents 0.6.5 + jax 0.4.30 (CPU, jax_enable_x64)",
        "platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count(),
        "threads": args.threads or available_cpus(), "gpu": "none available in this task: GPU timings not taken",
        "kernels": [bench_kernels(n, rng, args.threads, act) for act in ("relu", "erf") for n in sizes],
    }
    results["activations"] = bench_activations(sizes[0], rng, args.threads)
    results["ensemble"] = bench_ensemble(rng, args.threads) if not args.quick else None
    n_large = 2000 if args.quick else 20000
    proc = subprocess.run([sys.executable, __file__, "--large-child", str(n_large)], capture_output=True, text=True, check=True)
    results["large"] = json.loads(proc.stdout.strip().splitlines()[-1])
    out = ROOT / "benchmarks" / "results" / (args.out or "ntk.json")
    out.write_text(json.dumps(results, indent=2))
    print(f"{'act':>5} {'N':>6} {'NT s':>8} {'numpy s':>8} {'torch s':>8} {'np/NT':>6} {'np1/NT':>6} {'th/NT':>6} {'diff NT':>9} {'err ours':>9} {'err NT':>9}")
    for r in results["kernels"]:
        print(
            f"{r['activation']:>5} {r['n']:>6} {r['time_nt_s']:8.3f} {r['time_ours_numpy_s']:8.3f} {r['time_ours_torch_s']:8.3f} "
            f"{r['ratio_numpy_over_nt']:6.2f} {r['ratio_numpy_1thread_over_nt']:6.2f} {r['ratio_torch_over_nt']:6.2f} {max(r['max_rel_diff_to_nt'].values()):9.2e} "
            f"{max(r['accuracy_vs_mpmath50_ours'].values()):9.2e} {max(r['accuracy_vs_mpmath50_nt'].values()):9.2e}"
        )
        print(f"{'':>6} paired median np/NT {r['ratio_numpy_over_nt_paired_median']:.2f} "
              f"(quartiles {r['ratio_numpy_over_nt_paired_quartiles'][0]:.2f}-{r['ratio_numpy_over_nt_paired_quartiles'][1]:.2f}); "
              f"cores kept busy: NT {r['cores_busy_nt']:.1f}, ours {r['cores_busy_ours_numpy']:.1f}")
    for r in results["activations"]:
        print(f"{r['activation']:>10} N={r['n']:<5} vs NT {r['nt_layer']}: ours/NT {r['ratio_ours_over_nt_paired_median']:.2f} "
              f"(NT {r['time_nt_s']:.3f}s), max diff {r['max_diff_to_nt_rel_to_max']:.1e}")
    if results["ensemble"]:
        e = results["ensemble"]
        print(f"ensemble 1000/500 x5: NT {e['time_nt_s']:.2f}s ours {e['time_ours_s']:.2f}s ratio {e['ratio_ours_over_nt']:.2f} "
              f"mean diff {e['max_abs_diff_mean_rel_to_max']:.1e} cov diff {e['max_abs_diff_cov_rel_to_max']:.1e}")
    lg = results["large"]
    print(f"N={lg['n']} streamed: {lg['time_s']:.1f}s, peak RSS {lg['peak_rss_mib']:.0f} MiB, "
          f"allocated while streaming {lg['peak_allocated_while_streaming_mib']:.0f} MiB "
          f"(the two full matrices would need {lg['full_float64_pair_of_matrices_mib']:.0f} MiB)")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
