"""Benchmark: the generated IB step vs a hand-written vectorised step vs plain ``sympy.lambdify``.

Problem (issue 3): |X| = 512, |Y| = 16, |T| = 512, a batch of 64 beta values, float64, CPU.
Reports the median of repeated runs and the ratios generated/hand-written and lambdify/generated.

``sympy.lambdify`` of the same index-level expression evaluates Python-level sums per output
entry and re-evaluates the nested marginal and decoder sums inside each one, so it cannot finish
at that size; it is compared with the generated kernel on a small problem (stated in the output).

Run: ``python benchmarks/bench_codegen.py [--quick]``; writes ``benchmarks/results/codegen.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import sympy as sp
import torch
from scipy.special import logsumexp, xlogy

from ibtheory._generated import ib_numpy, ib_torch


def hand_written_ib_step(log_q, p_x, p_y_given_x, beta):
    """A careful hand-written vectorised IB step (matmuls, log domain) for comparison."""
    q = np.exp(log_q)  # (B, X, T)
    joint_xt = p_x[:, None] * q
    p_t = joint_xt.sum(axis=-2)  # (B, T)
    p_y_given_t = np.einsum("xy,bxt->byt", p_y_given_x, joint_xt, optimize=True) / np.maximum(p_t, 1e-300)[:, None, :]
    neg_entropy = xlogy(p_y_given_x, p_y_given_x).sum(-1)  # (X,)
    cross = np.matmul(p_y_given_x, np.log(p_y_given_t))  # (B, X, T)
    d = neg_entropy[None, :, None] - cross
    logits = np.log(p_t)[:, None, :] - beta[:, None, None] * d
    return p_t, p_y_given_t, logits - logsumexp(logits, axis=-1, keepdims=True)


def hand_written_ib_step_torch(log_q, p_x, p_y_given_x, beta):
    q = torch.exp(log_q)
    joint_xt = p_x[:, None] * q
    p_t = joint_xt.sum(dim=-2)
    p_y_given_t = torch.matmul(p_y_given_x.T, joint_xt) / torch.clamp(p_t, min=1e-300)[:, None, :]
    neg_entropy = torch.xlogy(p_y_given_x, p_y_given_x).sum(-1)
    cross = torch.matmul(p_y_given_x, torch.log(p_y_given_t))
    logits = torch.log(p_t)[:, None, :] - beta[:, None, None] * (neg_entropy[None, :, None] - cross)
    return p_t, p_y_given_t, logits - torch.logsumexp(logits, dim=-1, keepdim=True)


def timeit(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def lambdify_comparison(n_x: int, n_y: int, n_t: int, rng: np.random.Generator) -> dict[str, float]:
    """Plain ``sympy.lambdify`` of the index-level new log-encoder vs the generated kernel, one beta.

    lambdify turns every ``Sum`` into a Python generator and re-evaluates the nested marginal and
    decoder sums inside each entry, so its cost grows like n_x^2 n_y n_t^2 per beta; it is timed
    on a small problem where it finishes, on every entry, against the generated kernel there.
    """
    import scipy

    from ibtheory.kernels._ib import _step_outputs
    from ibtheory.symbolic import ib_derivation
    from ibtheory.symbolic import symbols as s

    expr = _step_outputs(dict(ib_derivation().results))["log_p_t_given_x"]
    expr = expr.subs({s.n_x: n_x, s.n_y: n_y, s.n_t: n_t})
    arrays = [s.log_p_t_given_x, s.p_x, s.p_y_given_x]
    # the stability heads print as scipy.special.xlogy etc.; give lambdify that namespace
    # (XLogY prints as the runtime's _xlogy since codegen revision 5: scipy's xlogy has its values)
    fn = sp.lambdify([*arrays, s.beta, s.x, s.t], expr, modules=[{"scipy": scipy, "_xlogy": scipy.special.xlogy}, "numpy"])
    p = rng.dirichlet(np.ones(n_x * n_y)).reshape(n_x, n_y)
    p_x = p.sum(1)
    args = (np.log(rng.dirichlet(np.ones(n_t), size=n_x)), p_x, p / p_x[:, None], 2.0)
    t0 = time.perf_counter()
    ref = np.array([[fn(*args, i, j) for j in range(n_t)] for i in range(n_x)])
    lambdify_s = time.perf_counter() - t0
    generated_s = timeit(lambda: ib_numpy.ib_step(*args), 7)
    got = ib_numpy.ib_step(*args)[2]
    return {
        "n_x": n_x,
        "n_y": n_y,
        "n_t": n_t,
        "lambdify_s": lambdify_s,
        "generated_numpy_s": generated_s,
        "ratio": lambdify_s / generated_s,
        "max_abs_difference": float(np.max(np.abs(ref - got))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (for a smoke run)")
    opts = parser.parse_args()
    n_x, n_y, n_t, n_b = (64, 8, 64, 8) if opts.quick else (512, 16, 512, 64)
    repeats = 3 if opts.quick else 7
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(n_x * n_y)).reshape(n_x, n_y)
    p_x = p.sum(1)
    p_y_given_x = p / p_x[:, None]
    log_q = np.log(rng.dirichlet(np.ones(n_t), size=(n_b, n_x)))
    betas = np.logspace(-1, np.log10(40), n_b)

    gen_np = timeit(lambda: ib_numpy.ib_step(log_q, p_x, p_y_given_x, betas), repeats)
    hand_np = timeit(lambda: hand_written_ib_step(log_q, p_x, p_y_given_x, betas), repeats)
    tt = [torch.tensor(a) for a in (log_q, p_x, p_y_given_x, betas)]
    gen_t = timeit(lambda: ib_torch.ib_step(*tt), repeats)
    hand_t = timeit(lambda: hand_written_ib_step_torch(*tt), repeats)

    # agreement of the two routes (same maths, different code)
    ref = hand_written_ib_step(log_q, p_x, p_y_given_x, betas)
    got = ib_numpy.ib_step(log_q, p_x, p_y_given_x, betas)
    max_diff = max(float(np.max(np.abs(a - b))) for a, b in zip(ref, got, strict=True))

    small = lambdify_comparison(8, 4, 8, rng) if opts.quick else lambdify_comparison(24, 4, 24, rng)

    result = {
        "problem": {"n_x": n_x, "n_y": n_y, "n_t": n_t, "n_beta": n_b, "dtype": "float64", "device": "cpu"},
        "machine": {"python": platform.python_version(), "torch": torch.__version__, "threads": torch.get_num_threads()},
        "seconds": {
            "generated_numpy": gen_np,
            "hand_written_numpy": hand_np,
            "generated_torch": gen_t,
            "hand_written_torch": hand_t,
        },
        "ratios": {
            "generated_numpy / hand_written_numpy": gen_np / hand_np,
            "generated_torch / hand_written_torch": gen_t / hand_t,
            f"lambdify / generated_numpy at {small['n_x']}x{small['n_y']}x{small['n_t']}, one beta": small["ratio"],
        },
        "max_abs_difference_generated_vs_hand_written": max_diff,
        "lambdify_small_problem": small,
        "note": "plain lambdify re-evaluates nested sums per entry (cost ~ n_x^2 n_y n_t^2 per beta), so it is compared on a small problem where it finishes",
    }
    out = Path(__file__).resolve().parent / "results" / ("codegen-quick.json" if opts.quick else "codegen.json")
    out.write_text(json.dumps(result, indent=2))
    for k, v in result["seconds"].items():
        print(f"{k:28s} {v:10.4f} s")
    for k, v in result["ratios"].items():
        print(f"{k:40s} {v:10.2f}")
    print(f"max |generated - hand-written| = {max_diff:.2e}")


if __name__ == "__main__":
    main()
