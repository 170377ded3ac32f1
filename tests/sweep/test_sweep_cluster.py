"""ibtheory.sweep on a real Dask cluster: a LocalCluster of 2 worker processes (with nannies).

Results equal the in-process run; a worker killed mid-task is replaced and its task completes
once; a killed driver loses at most its tasks in flight and a re-run completes the rest with no
duplicate rows; a truncated result is recomputed; the command line runs against the scheduler.
The ``slow`` tests run the quick built-in sweeps end to end and kill a driver with its own
embedded cluster."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ibtheory.cli import main as cli_main
from ibtheory.sweep import (
    IN_PROCESS,
    Grid,
    builtin_sweep,
    load_dataset,
    load_records,
    plan,
    run,
    task,
)

distributed = pytest.importorskip("distributed")
xr = pytest.importorskip("xarray")

ROOT = Path(__file__).resolve().parents[2]

#: Seconds a test waits for the cluster or a subprocess before failing (generous: the machine is shared).
PATIENCE_S = 120.0


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as c:
        yield c


@task(version="1", dims={"x": ("x",), "y": ("x",)})
def seeded_curve(*, a: float, seed: int, log: str = "", sleep_s: float = 0.0) -> dict:
    """Deterministic from (a, seed); logs each finished execution (one O_APPEND line)."""
    time.sleep(sleep_s)
    x = np.linspace(0.0, 1.0, 4)
    y = a * x + np.random.default_rng(seed).normal(size=4)
    if log:
        with open(log, "a") as fh:
            fh.write(f"{a},{seed},{os.getpid()}\n")
    return {"x": x, "y": y, "total": float(y.sum())}


@task(version="1")
def dies_once(*, a: int, seed: int, marker_dir: str, log: str) -> dict:
    """Kills its own worker process the first time it runs grid point a == 1 (inside a worker only)."""
    marker = Path(marker_dir) / f"died-{a}-{seed}"
    if a == 1 and not marker.exists():
        distributed.get_worker()  # raises outside a Dask worker: never kill the test process
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    with open(log, "a") as fh:
        fh.write(f"{a},{seed},{os.getpid()}\n")
    return {"value": a * 10 + seed}


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "results.csv") as fh:
        return list(csv.DictReader(fh))


def test_cluster_results_equal_the_in_process_run(client, tmp_path):
    b = builtin_sweep("ib-curves")
    grid = Grid({"method": ["ib", "dualib"]}, seeds=[0, 1],
                fixed={**b.quick.fixed, "n_x": 5, "concentration": 1.0, "n_beta": 10})
    local = run(b.function, grid, out=tmp_path / "local", client=IN_PROCESS)
    remote = run(b.function, grid, out=tmp_path / "cluster", client=client)
    assert local.complete and remote.complete and remote.n_computed == 4
    workers = {r["worker"] for r in load_records(tmp_path / "cluster")}
    assert len(workers) == 2, "both worker processes took tasks"
    xr.testing.assert_identical(load_dataset(tmp_path / "local"), load_dataset(tmp_path / "cluster"))


def test_batches_of_grid_points_per_dask_task_give_the_same_results(client, tmp_path):
    grid = Grid({"a": [0.0, 1.0, 2.0]}, seeds=range(3))
    one = run(seeded_curve, grid, out=tmp_path / "one", client=client)
    batched = run(seeded_curve, grid, out=tmp_path / "batched", client=client, batch_size=4)
    assert one.complete and batched.complete and batched.n_computed == 9
    xr.testing.assert_identical(load_dataset(tmp_path / "one"), load_dataset(tmp_path / "batched"))


def test_a_killed_worker_is_replaced_and_every_task_completes_once(client, tmp_path):
    log = tmp_path / "log"
    grid = Grid({"a": [0, 1, 2, 3]}, fixed={"marker_dir": str(tmp_path), "log": str(log)})
    res = run(dies_once, grid, out=tmp_path / "out", client=client)
    assert res.complete, [f.error for f in res.failures]
    assert len(list(tmp_path.glob("died-*"))) == 1, "the worker was killed mid-task"
    assert res.n_computed == 4  # each task's result written once
    # Dask keeps a finished result on its worker until the driver gathers it: a worker killed in
    # between loses it and Dask computes it again elsewhere, so executions may exceed 4 (never rows)
    done = _lines(log)
    assert {line.rsplit(",", 1)[0] for line in done} == {f"{a},0" for a in range(4)}
    rows = _rows(tmp_path / "out")
    assert len(rows) == 4 and len({r["key"] for r in rows}) == 4
    assert sorted(int(r["value"]) for r in rows) == [0, 10, 20, 30]
    client.wait_for_workers(2, timeout=PATIENCE_S)  # the nannies restarted the killed workers


def test_a_truncated_result_is_recomputed_on_the_cluster(client, tmp_path):
    log = tmp_path / "log"
    grid = Grid({"a": [1.0, 2.0]}, fixed={"log": str(log)})
    run(seeded_curve, grid, out=tmp_path / "out", client=client)
    before = load_dataset(tmp_path / "out")
    npz = sorted((tmp_path / "out").glob("tasks/*/*.npz"))[0]
    npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])
    res = run(seeded_curve, grid, out=tmp_path / "out", client=client)
    assert (res.n_cached, res.n_computed) == (1, 1)
    assert len(_lines(log)) == 3
    xr.testing.assert_identical(load_dataset(tmp_path / "out"), before)


DRIVER = """
import sys
from distributed import Client
from ibtheory.sweep import Grid, run
from tests.sweep.test_sweep_cluster import seeded_curve
out, log, address = sys.argv[1:4]
grid = Grid({"a": [0.0, 1.0, 2.0]}, seeds=range(4), fixed={"log": log, "sleep_s": 0.25})
with Client(address) as client:
    run(seeded_curve, grid, out=out, client=client, max_in_flight=2)
"""


def _wait_for_records(out: Path, n: int, proc: subprocess.Popen, stderr: Path) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while len(list(out.glob("tasks/*/*.json"))) < n:
        if proc.poll() is not None:
            raise AssertionError(f"the driver ended early: {stderr.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError("the driver wrote too few results in time")
        time.sleep(0.05)


def test_a_killed_driver_loses_at_most_its_tasks_in_flight_and_a_rerun_completes_the_rest(client, tmp_path):
    out, log = tmp_path / "out", tmp_path / "log"
    stderr = tmp_path / "driver.err"
    with open(stderr, "w") as err:  # a file, not a pipe: Dask's log lines must never block the driver
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(out), str(log), client.scheduler.address],
                                cwd=ROOT, stderr=err)
    try:
        _wait_for_records(out, 3, proc, stderr)
    finally:
        proc.kill()  # SIGKILL: no clean-up runs in the driver
        proc.wait(timeout=PATIENCE_S)
    records = {p.name: p.read_bytes() for p in out.glob("tasks/*/*.json")}
    assert 3 <= len(records) < 12
    assert list((out / "claims").glob("*.claim")), "the killed driver left its claims behind"
    grid = Grid({"a": [0.0, 1.0, 2.0]}, seeds=range(4), fixed={"log": str(log), "sleep_s": 0.25})
    res = run(seeded_curve, grid, out=out, client=client)
    assert res.complete and res.n_cached == len(records) and res.n_computed == 12 - len(records)
    for name, data in records.items():  # finished results were not recomputed or rewritten
        assert next(out.glob(f"tasks/*/{name}")).read_bytes() == data
    rows = _rows(out)
    assert len(rows) == 12 and len({r["key"] for r in rows}) == 12
    # executions: each task once, plus at most the killed driver's 2 tasks in flight
    assert 12 <= len(_lines(log)) <= 12 + 2


def test_the_command_line_runs_a_user_sweep_on_a_scheduler_and_resumes(client, tmp_path, capsys):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"params": {"a": [1.0, 2.0, 3.0]}, "seeds": [0, 1]}))
    args = ["sweep", "tests.sweep.test_sweep_cluster:seeded_curve", "--grid", str(grid), "--out", str(tmp_path / "o")]
    assert cli_main([*args, "--dry-run"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "6 tasks, 0 already done"
    assert cli_main([*args, "--scheduler", client.scheduler.address, "--no-progress"]) == 0
    assert "6 computed" in capsys.readouterr().out
    assert cli_main([*args, "--dry-run"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "6 tasks, 6 already done"
    assert len(_rows(tmp_path / "o")) == 6


def test_the_command_line_names_a_missing_grid_and_an_unknown_sweep(tmp_path, capsys):
    assert cli_main(["sweep", "tests.sweep.test_sweep_cluster:seeded_curve", "--out", str(tmp_path), "--dry-run"]) == 2
    assert "--grid" in capsys.readouterr().err
    assert cli_main(["sweep", "nope", "--out", str(tmp_path), "--dry-run"]) == 2
    assert "unknown sweep" in capsys.readouterr().err


# --- slow: end to end ------------------------------------------------------------------------------

QUICK_BUDGET_S = 60.0  # issue 20: a quick sweep runs in under a minute on 2 cores


@pytest.mark.slow
@pytest.mark.parametrize("name", ["infoplane", "ntk-information", "ib-curves"])
def test_quick_builtin_sweep_runs_on_two_local_workers_in_under_a_minute(tmp_path, name):
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "ibtheory", "sweep", name, "--quick", "--out", str(tmp_path), "--workers", "2",
         "--no-progress"],
        cwd=ROOT, capture_output=True, text=True, timeout=10 * QUICK_BUDGET_S,
    )
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "8 tasks: 8 computed" in proc.stdout
    assert elapsed < QUICK_BUDGET_S, f"{name} --quick took {elapsed:.1f} s"
    b = builtin_sweep(name)
    assert plan(b.function, b.quick, out=tmp_path).n_done == 8
    ds = load_dataset(tmp_path)
    assert bool(ds["done"].all())


EMBEDDED_DRIVER = """
import sys
from ibtheory.sweep import Grid, run
from tests.sweep.test_sweep_cluster import seeded_curve
out, log = sys.argv[1:3]
grid = Grid({"a": [0.0, 1.0, 2.0, 3.0]}, seeds=range(5), fixed={"log": log, "sleep_s": 0.5})
run(seeded_curve, grid, out=out, n_workers=2, max_in_flight=2)
"""


@pytest.mark.slow
def test_killing_a_driver_with_its_embedded_cluster_then_rerunning_completes_the_sweep(tmp_path):
    out, log = tmp_path / "out", tmp_path / "log"
    stderr = tmp_path / "driver.err"
    with open(stderr, "w") as err:
        proc = subprocess.Popen([sys.executable, "-c", EMBEDDED_DRIVER, str(out), str(log)], cwd=ROOT,
                                stderr=err, start_new_session=True)
    try:
        _wait_for_records(out, 6, proc, stderr)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver, its scheduler and its worker processes
        proc.wait(timeout=PATIENCE_S)
    n_before = len(list(out.glob("tasks/*/*.json")))
    grid = Grid({"a": [0.0, 1.0, 2.0, 3.0]}, seeds=range(5), fixed={"log": str(log), "sleep_s": 0.5})
    res = run(seeded_curve, grid, out=out, n_workers=2)
    assert res.complete and res.n_cached == n_before and res.n_computed == 20 - n_before
    assert len({r["key"] for r in _rows(out)}) == len(_rows(out)) == 20
    assert len(_lines(log)) <= 20 + 2


CONCURRENT_DRIVER = """
import sys
from distributed import Client
from ibtheory.sweep import Grid, run
from tests.sweep.test_sweep_cluster import seeded_curve
out, log, address = sys.argv[1:4]
grid = Grid({"a": [0.0, 1.0, 2.0, 3.0]}, seeds=range(6), fixed={"log": log, "sleep_s": 0.2})
with Client(address) as client:
    r = run(seeded_curve, grid, out=out, client=client)
print(r.n_computed, r.n_elsewhere, r.complete)
"""


@pytest.mark.slow
def test_two_concurrent_driver_processes_share_the_work_without_duplicates(client, tmp_path):
    out, log = tmp_path / "out", tmp_path / "log"
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT_DRIVER, str(out), str(log), client.scheduler.address],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=10 * PATIENCE_S) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e[-2000:] for _, e in outputs]
    computed = [int(o.split()[0]) for o, _ in outputs]
    assert sum(computed) == 24 and all(o.split()[2] == "True" for o, _ in outputs)
    assert len(_lines(log)) == 24
    assert len({r["key"] for r in _rows(out)}) == len(_rows(out)) == 24
