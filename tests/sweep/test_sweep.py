"""ibtheory.sweep without a cluster: grids, content addresses, the store's integrity, resume,
concurrent runs, the table and dataset loaders, aggregation, the built-in sweeps' task functions.

The Dask-cluster tests (results equal the in-process run, killed workers and drivers) are in
tests/sweep/test_sweep_cluster.py."""

from __future__ import annotations

import csv
import errno
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from ibtheory.sweep import (
    BUILTIN_SWEEPS,
    IN_PROCESS,
    Grid,
    SweepError,
    aggregate,
    builtin_sweep,
    load_dataset,
    load_records,
    load_table,
    plan,
    run,
    task,
    task_key,
    task_spec,
)

xr = pytest.importorskip("xarray")
pd = pytest.importorskip("pandas")

#: Sample standard errors are compared with NumPy's to round-off (a few ulps of values ~1).
SEM_RTOL = 1e-12


@task(version="1", dims={"x": ("x",), "curve": ("x",), "ragged": ("layer",)})
def toy(*, a: float, b: str, seed: int, log: str = "", depth: int = 2) -> dict:
    """A deterministic toy analysis: a seeded curve over x, scalars, and a depth-long array."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, 5)
    curve = a * x + rng.normal(size=5)
    if log:
        with open(log, "a") as fh:  # one short O_APPEND write per finished task
            fh.write(f"{a},{b},{seed}\n")
    return {"x": x, "curve": curve, "ragged": np.arange(depth, dtype=float), "total": float(curve.sum()),
            "label": f"{b}-{seed}", "count": 3}


def failing(*, a: int, seed: int) -> dict:
    if a == 1:
        raise RuntimeError("this grid point is broken")
    return {"a2": a * 2}


def _grid(log: Path | None = None, seeds=(0, 1, 2)) -> Grid:
    fixed = {"log": str(log)} if log else {}
    return Grid({"a": [0.5, 2.0], "b": ["u", "v"]}, seeds=seeds, fixed=fixed)


def _executions(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


# --- grids and keys ---------------------------------------------------------------------------

def test_grid_is_the_product_of_the_lists_times_the_seeds_seeds_innermost():
    g = Grid({"a": [1, 2], "b": ["x", "y", "z"]}, seeds=[7, 8], fixed={"c": 0.5})
    points = list(g.points())
    assert len(g) == len(points) == 12
    assert g.shape == (2, 3, 2) and g.dims == ("a", "b", "seed")
    assert points[0] == ({"a": 1, "b": "x", "c": 0.5}, 7)
    assert points[1] == ({"a": 1, "b": "x", "c": 0.5}, 8)
    assert points[-1] == ({"a": 2, "b": "z", "c": 0.5}, 8)


def test_grid_from_flat_and_structured_dicts_agree_and_round_trip():
    flat = Grid.from_dict({"a": [1, 2], "seed": [0, 1], "c": "fixed"})
    structured = Grid.from_dict({"params": {"a": [1, 2]}, "seeds": [0, 1], "fixed": {"c": "fixed"}})
    assert flat == structured == Grid.from_dict(json.loads(json.dumps(flat.to_dict())))


@pytest.mark.parametrize(
    ("params", "kwargs", "message"),
    [
        ({"a": [[1, 2]]}, {}, "not a scalar"),
        ({"a": [float("nan")]}, {}, "NaN"),
        ({"a": [1, 1]}, {}, "repeated values"),
        ({"a": []}, {}, "empty"),
        ({"seed": [1]}, {}, "reserved"),
        ({"a": [1]}, {"seeds": [0, 0]}, "repeated seeds"),
        ({"a": [1]}, {"seeds": [0.5]}, "integers"),
        ({"a": [1]}, {"fixed": {"a": 2}}, "both on the grid and fixed"),
        ({"a": 3}, {}, "list of values"),
    ],
)
def test_grid_refuses_bad_specifications_with_a_named_reason(params, kwargs, message):
    with pytest.raises(SweepError, match=message):
        Grid(params, **kwargs)


def test_task_key_changes_with_name_version_parameters_and_seed_only():
    base = task_key("m:f", "1", {"a": 1.5, "b": "x"}, 0)
    assert base == task_key("m:f", "1", {"b": "x", "a": 1.5}, 0)  # order of the parameters is irrelevant
    others = [
        task_key("m:g", "1", {"a": 1.5, "b": "x"}, 0),
        task_key("m:f", "2", {"a": 1.5, "b": "x"}, 0),
        task_key("m:f", "1", {"a": 1.25, "b": "x"}, 0),
        task_key("m:f", "1", {"a": 1.5, "b": "x", "c": None}, 0),
        task_key("m:f", "1", {"a": 1.5, "b": "x"}, 1),
    ]
    assert len({base, *others}) == 1 + len(others)


def test_numpy_scalars_in_a_grid_address_the_same_task_as_python_scalars(tmp_path):
    spec = task_spec(toy)
    a = [t.key for t in plan(toy, Grid({"a": [np.float64(0.5)], "b": [np.str_("u")]}, seeds=[np.int64(3)]),
                             out=tmp_path).tasks]
    b = [task_key(spec.name, spec.version, {"a": 0.5, "b": "u"}, 3)]
    assert a == b


# --- running, resuming, integrity ---------------------------------------------------------------

def test_in_process_run_writes_every_task_and_a_rerun_computes_nothing(tmp_path):
    log = tmp_path / "log"
    first = run(toy, _grid(log), out=tmp_path / "out", client=IN_PROCESS)
    assert (first.n_tasks, first.n_computed, first.n_cached) == (12, 12, 0) and first.complete
    again = run(toy, _grid(log), out=tmp_path / "out", client=IN_PROCESS)
    assert (again.n_computed, again.n_cached) == (0, 12)
    assert len(_executions(log)) == 12
    # the stored values are the function's own outputs at each grid point
    for rec in load_records(tmp_path / "out"):
        direct = toy(**{k: v for k, v in rec["params"].items() if k != "log"}, seed=rec["seed"])
        assert rec["results"]["total"] == direct["total"]
        assert rec["package_version"] and rec["version"] == "1"


def test_extending_the_grid_computes_only_the_new_points(tmp_path):
    log = tmp_path / "log"
    run(toy, _grid(log, seeds=(0, 1)), out=tmp_path / "out", client=IN_PROCESS)
    res = run(toy, _grid(log, seeds=(0, 1, 2, 3)), out=tmp_path / "out", client=IN_PROCESS)
    assert (res.n_cached, res.n_computed) == (8, 8)
    assert len(_executions(log)) == 16
    assert plan(toy, _grid(log, seeds=(0, 1, 2, 3)), out=tmp_path / "out").n_done == 16


def _record_files(out: Path) -> tuple[list[Path], list[Path]]:
    return sorted(out.glob("tasks/*/*.json")), sorted(out.glob("tasks/*/*.npz"))


@pytest.mark.parametrize("damage", ["truncate-record", "truncate-arrays", "edit-record-value", "delete-arrays"])
def test_a_damaged_result_is_recomputed_never_read_as_data(tmp_path, damage):
    log = tmp_path / "log"
    out = tmp_path / "out"
    grid = Grid({"a": [0.5], "b": ["u"]}, seeds=[0, 1], fixed={"log": str(log)})
    run(toy, grid, out=out, client=IN_PROCESS)
    good = load_dataset(out)
    records, arrays = _record_files(out)
    if damage == "truncate-record":
        records[0].write_bytes(records[0].read_bytes()[:-40])
    elif damage == "truncate-arrays":
        arrays[0].write_bytes(arrays[0].read_bytes()[:100])
    elif damage == "edit-record-value":  # still valid JSON: only the checksum can tell
        rec = json.loads(records[0].read_text())
        rec["results"]["total"] += 1.0
        records[0].write_text(json.dumps(rec))
    else:
        arrays[0].unlink()
    p = plan(toy, grid, out=out)
    assert (p.n_tasks, p.n_done) == (2, 1)
    with pytest.raises(SweepError, match="1 of 2 tasks are not done"):
        load_dataset(out)
    partial = load_dataset(out, allow_missing=True)
    assert int(partial["done"].sum()) == 1
    assert np.isnan(partial["curve"].values).sum() == 5  # the damaged task's values are missing, not read
    res = run(toy, grid, out=out, client=IN_PROCESS)
    assert (res.n_cached, res.n_computed) == (1, 1)
    assert len(_executions(log)) == 3
    xr.testing.assert_identical(load_dataset(out), good)


def test_a_full_disk_stops_the_run_keeps_finished_results_and_leaves_no_partial_file(tmp_path, monkeypatch):
    log = tmp_path / "log"
    out = tmp_path / "out"
    grid = _grid(log)
    real_fsync = os.fsync
    calls = {"n": 0}

    def fsync_until_full(fd):
        calls["n"] += 1
        if calls["n"] > 12:  # the manifest, then a few tasks' arrays + records, then ENOSPC
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_until_full)
    with pytest.raises(SweepError, match="No space left"):
        run(toy, grid, out=out, client=IN_PROCESS)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert not list(out.rglob("*.tmp")), "temporary files must be removed"
    assert not list((out / "claims").glob("*.claim")), "claims must be released"
    done_before = plan(toy, grid, out=out).n_done
    assert 0 < done_before < 12
    records, _ = _record_files(out)
    assert len(records) == done_before  # every record on disk is a whole, verified one
    res = run(toy, grid, out=out, client=IN_PROCESS)
    assert (res.n_cached, res.n_computed) == (done_before, 12 - done_before) and res.complete


def test_a_task_that_raises_is_reported_not_recorded_and_retried_next_time(tmp_path):
    grid = Grid({"a": [0, 1, 2]})
    res = run(failing, grid, out=tmp_path, client=IN_PROCESS)
    assert res.n_computed == 2 and len(res.failures) == 1 and not res.complete
    (failure,) = res.failures
    assert failure.params == {"a": 1} and "this grid point is broken" in failure.error
    assert len(load_table(tmp_path)) == 2
    again = run(failing, grid, out=tmp_path, client=IN_PROCESS)
    assert (again.n_cached, again.n_computed, len(again.failures)) == (2, 0, 1)


def test_two_concurrent_runs_on_one_folder_compute_each_task_once_and_both_finish(tmp_path):
    log = tmp_path / "log"
    out = tmp_path / "out"
    grid = _grid(log, seeds=tuple(range(6)))  # 24 tasks
    results = []

    def go():
        results.append(run(toy, grid, out=out, client=IN_PROCESS))

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.complete for r in results)
    assert sum(r.n_computed for r in results) == 24
    assert sorted(_executions(log)) == sorted(set(_executions(log))) and len(_executions(log)) == 24
    assert len(load_table(out)) == 24


def test_a_different_function_cannot_write_into_a_sweeps_folder(tmp_path):
    run(failing, Grid({"a": [0]}), out=tmp_path, client=IN_PROCESS)
    with pytest.raises(SweepError, match="holds a sweep of"):
        run(toy, _grid(), out=tmp_path, client=IN_PROCESS)


def test_bad_client_and_batch_size_are_refused(tmp_path):
    with pytest.raises(SweepError, match="batch_size"):
        run(toy, _grid(), out=tmp_path, client=IN_PROCESS, batch_size=0)
    pytest.importorskip("distributed")
    with pytest.raises(SweepError, match="client must be"):
        run(toy, _grid(), out=tmp_path / "x", client=42)


# --- table, dataset, aggregation ------------------------------------------------------------------

def test_results_csv_has_one_row_per_task_parameters_results_and_exact_floats(tmp_path):
    run(toy, _grid(), out=tmp_path, client=IN_PROCESS)
    with open(tmp_path / "results.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 12 and len({r["key"] for r in rows}) == 12
    assert list(rows[0])[:4] == ["key", "a", "b", "seed"]
    for r in rows:
        direct = toy(a=float(r["a"]), b=r["b"], seed=int(r["seed"]))
        assert float(r["total"]) == direct["total"]  # repr round-trips exactly
        assert r["label"] == direct["label"]
        assert (tmp_path / r["arrays"]).exists()


def test_dataset_spans_the_grid_and_the_declared_result_axes(tmp_path):
    run(toy, _grid(), out=tmp_path, client=IN_PROCESS)
    ds = load_dataset(tmp_path)
    assert dict(ds.sizes) == {"a": 2, "b": 2, "seed": 3, "x": 5, "layer": 2}
    assert ds["curve"].dims == ("a", "b", "seed", "x")
    np.testing.assert_array_equal(ds["x"].values, np.linspace(0.0, 1.0, 5))
    got = ds["curve"].sel(a=2.0, b="v", seed=1).values
    np.testing.assert_array_equal(got, toy(a=2.0, b="v", seed=1)["curve"])
    assert ds["count"].dtype == np.int64 and ds["label"].sel(a=0.5, b="u", seed=2).item() == "u-2"


def test_arrays_of_different_depth_are_nan_padded_along_their_axis(tmp_path):
    run(toy, Grid({"a": [1.0], "b": ["u"], "depth": [2, 4]}), out=tmp_path, client=IN_PROCESS)
    ragged = load_dataset(tmp_path)["ragged"].sel(a=1.0, b="u", seed=0)
    np.testing.assert_array_equal(ragged.sel(depth=4).values, [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(ragged.sel(depth=2).values, [0.0, 1.0, np.nan, np.nan])


@task(version="1", dims={"x": ("x",), "y": ("x",)})
def moving_axis(*, seed: int) -> dict:
    return {"x": np.arange(3.0) + seed, "y": np.zeros(3)}


def test_a_coordinate_that_differs_between_tasks_is_refused(tmp_path):
    run(moving_axis, Grid({}, seeds=[0, 1]), out=tmp_path, client=IN_PROCESS)
    with pytest.raises(SweepError, match="coordinate 'x' differs"):
        load_dataset(tmp_path)


def test_aggregate_gives_mean_and_standard_error_over_seeds(tmp_path):
    run(toy, _grid(), out=tmp_path, client=IN_PROCESS)
    recs = [r for r in load_records(tmp_path) if r["params"]["a"] == 2.0 and r["params"]["b"] == "u"]
    totals = np.array([r["results"]["total"] for r in recs])
    curves = np.stack([toy(a=2.0, b="u", seed=r["seed"])["curve"] for r in recs])
    agg = aggregate(load_dataset(tmp_path))
    point = agg.sel(a=2.0, b="u")
    np.testing.assert_allclose(point["total_mean"], totals.mean(), rtol=SEM_RTOL)
    np.testing.assert_allclose(point["total_sem"], totals.std(ddof=1) / np.sqrt(3), rtol=SEM_RTOL)
    np.testing.assert_allclose(point["curve_sem"], curves.std(axis=0, ddof=1) / np.sqrt(3), rtol=SEM_RTOL)
    assert int(point["n"]) == 3 and "label_mean" not in agg
    table = aggregate(load_table(tmp_path))
    row = table[(table.a == 2.0) & (table.b == "u")].iloc[0]
    np.testing.assert_allclose(row["total_mean"], totals.mean(), rtol=SEM_RTOL)
    np.testing.assert_allclose(row["total_sem"], totals.std(ddof=1) / np.sqrt(3), rtol=SEM_RTOL)
    assert row["n"] == 3 and len(table) == 4


def test_a_figure_can_be_drawn_from_a_sweep(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run(toy, _grid(), out=tmp_path, client=IN_PROCESS)
    agg = aggregate(tmp_path)
    fig, ax = plt.subplots()
    for a in agg["a"].values:
        m = agg["curve_mean"].sel(a=a, b="u")
        ax.errorbar(agg["x"], m, yerr=agg["curve_sem"].sel(a=a, b="u"), label=f"a={a}")
    assert len(ax.lines) == 2
    plt.close(fig)


# --- the optional dependency ----------------------------------------------------------------------

def test_sweep_imports_without_dask_and_names_the_extra_when_a_sweep_needs_it(tmp_path):
    code = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('dask', 'distributed', 'xarray'):
            raise ImportError('blocked ' + name)
sys.meta_path.insert(0, Block())
import ibtheory.sweep as sw
from ibtheory.sweep import Grid, run, SweepDependencyError
try:
    run(sw.ib_curves_task, Grid({'n_x': [4]}), out=sys.argv[1])
except SweepDependencyError as exc:
    print('ERR', exc)
"""
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    assert line.startswith("ERR") and "ibtheory[sweep]" in line and "\n" not in line


# --- built-in sweeps ------------------------------------------------------------------------------

def test_builtin_sweeps_have_the_documented_grids():
    sizes = {name: (len(s.quick), len(s.full)) for name, s in BUILTIN_SWEEPS.items()}
    assert sizes == {"infoplane": (8, 300), "ntk-information": (8, 1050), "ib-curves": (8, 800)}
    assert set(BUILTIN_SWEEPS["ntk-information"].full.dims) == {"n_train", "w_std", "depth", "seed"}
    with pytest.raises(SweepError, match="unknown sweep"):
        builtin_sweep("nope")


def test_ib_curves_task_on_one_point_has_its_axes(tmp_path):
    b = builtin_sweep("ib-curves")
    grid = Grid({"method": ["ib", "dualib"]}, fixed={**b.quick.fixed, "n_x": 4, "concentration": 1.0, "n_beta": 8})
    res = run(b.function, grid, out=tmp_path, client=IN_PROCESS)
    assert res.complete, [f.error for f in res.failures]
    ds = load_dataset(tmp_path)
    assert ds["i_ty"].dims == ("method", "seed", "beta") and ds.sizes["beta"] == 8
    assert np.all(np.diff(ds["i_ty"].values, axis=-1) >= -1e-6)  # the IB curve rises with beta (loose solver tol)


def test_ntk_information_task_on_one_point_has_its_axes(tmp_path):
    b = builtin_sweep("ntk-information")
    grid = Grid({}, fixed={**b.quick.fixed, "n_train": 30, "w_std": 1.5, "depth": 1, "n_eval": 40, "n_times": 3})
    res = run(b.function, grid, out=tmp_path, client=IN_PROCESS)
    assert res.complete, [f.error for f in res.failures]
    ds = load_dataset(tmp_path)
    assert ds.sizes["time"] == 5 and np.isinf(ds["time"].values[-1])
    assert np.all(ds["i_xz_lower"].values <= ds["i_xz_upper"].values + 1e-12)


def test_infoplane_task_on_one_short_run_has_its_axes(tmp_path):
    b = builtin_sweep("infoplane")
    grid = Grid({"architecture": ["6-3"]}, fixed={**b.quick.fixed, "activation": "tanh", "n_epochs": 2, "n_record": 2})
    res = run(b.function, grid, out=tmp_path, client=IN_PROCESS)
    assert res.complete, [f.error for f in res.failures]
    ds = load_dataset(tmp_path)
    assert ds["i_xt"].dims == ("architecture", "seed", "epoch", "layer") and ds.sizes["layer"] == 3
    assert float(ds["h_y"].squeeze()) == pytest.approx(1.0, abs=0.05)  # the 12-bit labels are balanced
