"""The smallest size of benchmarks/bench_ib.py runs in the default suite (issue 23), without peers."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_ib.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_ib", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_family_holds_valid_joints(bench):
    fam = bench.family(16, 4)
    assert len(fam) == 6
    for p_xy in fam.values():
        assert p_xy.shape == (16, 4) and np.all(p_xy >= 0) and np.all(p_xy.sum(axis=1) > 0)
        assert abs(p_xy.sum() - 1.0) < 1e-12
    # 75% of the cells zeroed, one per row restored: expected zero fraction 0.75 (1 - 1/n_y) = 0.56 here
    assert np.mean(fam["sparse(75% zero cells)"] == 0) > 0.4


def test_smallest_benchmark_row_runs_with_both_efforts(bench):
    p_xy = bench.family(16, 4)["dirichlet(c=1.0)"]
    row = bench.run_problem("dirichlet(c=1.0)", p_xy, np.linspace(0.1, 40.0, 16), repeats=1, peers=False, stride=1,
                            efforts=("optimum", "fast"))
    for effort in ("optimum", "fast"):
        entry = row[effort]
        assert entry["median_s"] > 0 and entry["peak_memory_bytes"] > 0
        assert entry["certificate"]["on_envelope"] == 16
    assert row["fast_minus_optimum_objective"]["min"] >= -1e-9  # the default is at least as good
