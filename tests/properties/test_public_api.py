"""Refusals of the public functions the per-area property files do not draw for (issue 21).

One hand-picked malformed call per function: a ValueError/TypeError naming the argument (the
sweep package's SweepError is a ValueError); cheap valid calls check their basic invariants.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ibtheory import codegen, models, ntk, report, sweep

from ._cases import case, refuses

X = np.array([[0.1, 0.2], [0.3, -0.1], [0.5, 0.9]])
Y2 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
LAB = np.array([0, 1, 0])


def infoplane() -> object:
    pytest.importorskip("torch")
    from ibtheory import infoplane as mod

    return mod


CASES = [
    ("empirical_kernels", "width", lambda: ntk.empirical_kernels(X, n_networks=2, width=0, depth=1, w_std=1.0, b_std=0.1, seed=0)),
    ("empirical_kernels", "x1", lambda: ntk.empirical_kernels(X * np.nan, n_networks=2, width=4, depth=1, w_std=1.0, b_std=0.1, seed=0)),
    ("fc_kernel_blocks", "block_size", lambda: list(ntk.fc_kernel_blocks(X, depth=1, w_std=1.0, b_std=0.1, block_size=0))),
    ("generalisation_signals", "results", lambda: ntk.generalisation_signals({"a": 1})),
    ("information_vs_train_size", "sizes", lambda: ntk.information_vs_train_size(
        X, Y2, X, LAB, [0], depth=1, activation="relu", w_std=1.0, b_std=0.1, learning_rate=0.1)),
    ("information_vs_w_std", "w_stds", lambda: ntk.information_vs_w_std(
        X, Y2, X, LAB, [-1.0], [1.0], depth=1, activation="relu", b_std=0.1, learning_rate=0.1)),
    ("builtin_sweep", "nope", lambda: sweep.builtin_sweep("nope")),
    ("resolve_sweep", "nope", lambda: sweep.resolve_sweep("nope")),
    ("task", "version", lambda: sweep.task(version=None)),  # type: ignore[arg-type]
    ("load_table", "sweep", lambda: sweep.load_table("/nonexistent/dir")),
    ("load_records", "sweep", lambda: sweep.load_records("/nonexistent/dir")),
    ("aggregate", "aggregate", lambda: sweep.aggregate(3)),
    ("plan", "x", lambda: sweep.plan(sweep.ib_curves_task, {"x": []}, out="/nonexistent/plan")),
    ("ib_curves_task", "n_x", lambda: sweep.ib_curves_task(n_x=0, n_y=2, concentration=1.0, method="ib", seed=0, beta_min=0.1,
                                                           beta_max=10, n_beta=3, effort="fast")),
    ("reproduce", "nope", lambda: report.reproduce("/nonexistent/reproduce", only=["nope"])),
    ("curve_command", "p_xy", lambda: report.curve_command(np.ones((2, 2)), [1.0], method="ib", units="nats", out=Path("/nonexistent/c"), seed=0)),
    ("ntk_info_command", "nope", lambda: report.ntk_info_command(data="nope", n_train=5, n_eval=5, depth=1, activation="relu", w_std=1.0,
                                                                 b_std=0.1, units="nats", out=Path("/nonexistent/n"), seed=0)),
    ("twelve_bit_task", "rule", lambda: models.twelve_bit_task(rule="x")),
    ("twelve_bit_task", "weight", lambda: models.twelve_bit_task(weight=float("nan"))),
    ("twelve_bit_joint", "foo", lambda: models.twelve_bit_joint(foo=1)),
    ("digits_data", "n_train", lambda: models.digits_data(0, 5, seed=0)),
    ("supported_functions", "backend", lambda: codegen.supported_functions("jax")),
    ("load_digits_data", "test_fraction", lambda: infoplane().load_digits_data(seed=0, test_fraction=1.5)),  # type: ignore[attr-defined]
    ("train_variational", "method", lambda: infoplane().train_variational(None, method="x", betas=[1.0], seed=0)),  # type: ignore[attr-defined]
    ("observed_ranges", "run", lambda: infoplane().observed_ranges(None)),  # type: ignore[attr-defined]
    ("information_plane", "run", lambda: infoplane().information_plane(None, [0], estimator="binning")),  # type: ignore[attr-defined]
]


@pytest.mark.parametrize(("fn", "arg", "call"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_public_function_refuses_malformed_input(fn: str, arg: str, call: object) -> None:
    refuses(fn, arg, call)  # type: ignore[arg-type]


def test_cheap_public_functions_return_valid_objects() -> None:
    with case("genib_toy"):
        p = models.genib_toy()
        assert np.all(p >= 0) and abs(p.sum() - 1) < 1e-12
    with case("twelve_bit_joint"):
        p = models.twelve_bit_joint()
        assert np.all(p >= 0) and abs(p.sum() - 1) < 1e-12 and np.all(p.sum(axis=1) > 0)
    with case("available_cpus"):
        assert ntk.available_cpus() >= 1
    with case("single_threaded_blas"):
        with ntk.single_threaded_blas():
            pass
    with case("supported_functions"):
        assert "exp" in {n.lower() for n in codegen.supported_functions("numpy")}
    with case("task_spec"):
        spec = sweep.task_spec(sweep.ib_curves_task)
        assert spec.name and spec.version
