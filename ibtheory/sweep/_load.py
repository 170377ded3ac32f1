"""Read a sweep back: the tidy table (pandas), the N-D dataset over the grid (xarray), aggregates."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ._errors import SweepError, require
from ._grid import Grid, Task, TaskSpec, grid_tasks
from ._store import Store, table_rows

COLUMN_META = ("key", "arrays", "elapsed_s", "cpu_s")


def _open(out: str | os.PathLike[str]) -> tuple[Store, TaskSpec, Grid, list[Task], dict[str, Any]]:
    store = Store(out)
    manifest = store.read_manifest()
    if manifest is None:
        raise SweepError(f"{out}: no sweep here (no sweep.json)")
    spec = TaskSpec(manifest["function"], manifest["version"],
                    {k: tuple(v) for k, v in manifest.get("dims", {}).items()})
    grid = Grid.from_dict(manifest["grid"])
    return store, spec, grid, grid_tasks(spec, grid), manifest


def load_records(out: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The verified records of the finished tasks of the last grid run on ``out``, in grid order."""
    store, spec, _, tasks, _ = _open(out)
    return [r for r in (store.read_record(t, spec) for t in tasks) if r is not None]


def load_table(out: str | os.PathLike[str]) -> Any:
    """The tidy table of ``out`` as a ``pandas.DataFrame``: one row per finished task, columns
    ``key``, the parameters, ``seed``, the scalar results, ``arrays`` (path relative to ``out``)
    ``elapsed_s`` and ``cpu_s``. ``df.attrs["params"]`` lists the parameter columns."""
    require("pandas", "ibtheory.sweep.load_table")
    import pandas as pd

    _, _, grid, _, _ = _open(out)
    header, rows = table_rows(load_records(out))
    df = pd.DataFrame(rows, columns=header)
    df["elapsed_s"] = df["elapsed_s"].astype(float)
    df["cpu_s"] = df["cpu_s"].astype(float)
    for col in df.columns:  # floats were written as repr strings for the CSV
        if df[col].map(lambda v: isinstance(v, str) and v != "").all() and col not in ("key", "arrays"):
            converted = pd.to_numeric(df[col], errors="coerce")
            if converted.notna().all():
                df[col] = converted
    df.attrs["params"] = [*grid.params, *grid.fixed]
    return df


def load_dataset(out: str | os.PathLike[str], *, allow_missing: bool = False) -> Any:
    """The results of ``out`` as an ``xarray.Dataset`` over the grid axes (parameters, then
    ``seed``) and the axes of the array results (declared with :func:`task`, e.g. ``beta``,
    ``time``; a 1-D result named like an axis is its coordinate and must agree across tasks).

    Arrays whose length along an axis without coordinate differs between tasks (e.g. networks of
    different depth along ``layer``) are padded with NaN. ``done`` marks the finished tasks; with
    missing tasks a :class:`SweepError` is raised unless ``allow_missing`` (their values are NaN).
    """
    require("xarray", "ibtheory.sweep.load_dataset")
    import xarray as xr

    store, spec, grid, tasks, manifest = _open(out)
    shape = grid.shape
    records: list[dict[str, Any] | None] = [store.read_record(t, spec) for t in tasks]
    n_missing = sum(r is None for r in records)
    if n_missing and not allow_missing:
        raise SweepError(f"{out}: {n_missing} of {len(tasks)} tasks are not done; re-run the sweep or pass allow_missing=True")

    scalars: dict[str, list[Any]] = {}
    arrays: dict[str, list[np.ndarray | None]] = {}
    for i, rec in enumerate(records):
        if rec is None:
            continue
        for name, v in rec["results"].items():
            scalars.setdefault(name, [None] * len(tasks))[i] = v
        for name, a in store.load_arrays(rec).items():
            arrays.setdefault(name, [None] * len(tasks))[i] = a

    dims_of = {name: spec.dims.get(name) or tuple(f"{name}_dim{k}" for k in range(_ndim(vals)))
               for name, vals in arrays.items()}
    for name, d in dims_of.items():
        if len(d) != _ndim(arrays[name]):
            raise SweepError(f"result {name!r}: declared axes {d} but the arrays are {_ndim(arrays[name])}-D")
    coords: dict[str, Any] = {dim: list(values) for dim, values in grid.params.items()}
    coords["seed"] = list(grid.seeds)
    for name in list(arrays):
        if dims_of[name] == (name,):
            coords[name] = _common_coordinate(name, arrays.pop(name))
    length: dict[str, int] = {d: len(c) for d, c in coords.items()}
    for name, vals in arrays.items():
        for axis, dim in enumerate(dims_of[name]):
            n = max(a.shape[axis] for a in vals if a is not None)
            if dim in coords and dim not in grid.dims and any(a is not None and a.shape[axis] != len(coords[dim]) for a in vals):
                raise SweepError(f"result {name!r}: its {dim!r} axis does not match the {dim!r} coordinate")
            length[dim] = max(length.get(dim, 0), n)

    data_vars: dict[str, Any] = {}
    for name, vals in scalars.items():
        data_vars[name] = (grid.dims, _stack_scalars(vals).reshape(shape))
    for name, vals in arrays.items():
        full = tuple(length[d] for d in dims_of[name])
        first = next(a for a in vals if a is not None)
        if first.dtype.kind in "US":
            stacked = np.full((len(tasks), *full), None, dtype=object)
        elif all(a is not None and a.shape == full for a in vals):
            stacked = np.empty((len(tasks), *full), dtype=np.result_type(*(a.dtype for a in vals if a is not None)))
        else:  # missing tasks or ragged axes: NaN-padded floating point
            stacked = np.full((len(tasks), *full), np.nan, dtype=np.result_type(float, first.dtype))
        for i, arr in enumerate(vals):
            if arr is not None:
                stacked[(i, *(slice(0, n) for n in arr.shape))] = arr  # type: ignore[index]
        data_vars[name] = ((*grid.dims, *dims_of[name]), stacked.reshape(*shape, *full))
    data_vars["done"] = (grid.dims, np.array([r is not None for r in records]).reshape(shape))
    attrs = {"function": spec.name, "version": spec.version, "package_version": manifest.get("package_version", ""),
             **{f"fixed_{k}": ("None" if v is None else v) for k, v in grid.fixed.items()}}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _ndim(vals: list[np.ndarray | None]) -> int:
    return next(a.ndim for a in vals if a is not None)


def _common_coordinate(name: str, vals: list[np.ndarray | None]) -> np.ndarray:
    present = [a for a in vals if a is not None]
    first = present[0]
    for a in present[1:]:
        if a.shape != first.shape or not np.array_equal(a, first, equal_nan=a.dtype.kind == "f"):
            raise SweepError(
                f"coordinate {name!r} differs between tasks; give every task the same {name!r} "
                "or read the tasks one by one with load_records"
            )
    return first


def _stack_scalars(vals: list[Any]) -> np.ndarray:
    present = [v for v in vals if v is not None]
    if len(present) == len(vals) and all(isinstance(v, bool) for v in vals):
        return np.array(vals, dtype=bool)
    if len(present) == len(vals) and all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return np.array(vals, dtype=np.int64)
    if all(isinstance(v, int | float) for v in present):  # bools among numbers count as 0/1
        return np.array([np.nan if v is None else float(v) for v in vals])
    return np.array(vals, dtype=object)


def aggregate(data: Any, over: str = "seed") -> Any:
    """Mean and standard error of the mean over ``over`` (default: the seeds).

    ``data`` is an ``xarray.Dataset`` from :func:`load_dataset`, a ``pandas.DataFrame`` from
    :func:`load_table`, or an output folder (loaded with :func:`load_dataset`). Every numeric
    result ``v`` becomes ``v_mean`` and ``v_sem`` = s / sqrt(n) (s the sample standard deviation,
    ddof = 1; n the number of non-NaN values; NaN where n < 2), plus ``n`` = number of finished tasks
    averaged. Non-numeric results are dropped."""
    if isinstance(data, str | os.PathLike):
        data = load_dataset(data, allow_missing=True)
    kind = type(data).__module__.split(".")[0]
    if kind == "xarray":
        return _aggregate_dataset(data, over)
    if kind == "pandas":
        return _aggregate_table(data, over)
    raise SweepError(f"aggregate takes an xarray.Dataset, a pandas.DataFrame or a sweep folder, got {type(data).__name__}")


def _aggregate_dataset(ds: Any, over: str) -> Any:
    import xarray as xr

    if over not in ds.dims:
        raise SweepError(f"{over!r} is not an axis of the dataset; axes: {list(ds.dims)}")
    out = {}
    for name, var in ds.data_vars.items():
        if name == "done" or over not in var.dims or var.dtype.kind not in "biuf":
            continue
        v = var.astype(float)
        n = v.count(over)
        out[f"{name}_mean"] = v.mean(over, skipna=True).where(n > 0)
        out[f"{name}_sem"] = (v.std(over, ddof=1, skipna=True) / np.sqrt(n)).where(n > 1)
    if "done" in ds:
        out["n"] = ds["done"].sum(over)
    return xr.Dataset(out, attrs=dict(ds.attrs))


def _aggregate_table(df: Any, over: str) -> Any:
    params = [p for p in df.attrs.get("params", []) if p != over]
    if over not in df.columns:
        raise SweepError(f"{over!r} is not a column of the table")
    skip = {*params, over, *COLUMN_META}
    values = [c for c in df.columns if c not in skip and df[c].dtype.kind in "biuf"]
    if not params:
        grouped = df.assign(_all=0).groupby("_all")
    else:
        grouped = df.groupby(params, sort=False, dropna=False)
    mean = grouped[values].mean().add_suffix("_mean")
    sem = grouped[values].sem(ddof=1).add_suffix("_sem")
    n = grouped.size().rename("n")
    res = mean.join(sem).join(n).reset_index()
    if not params:
        res = res.drop(columns="_all")
    ordered = [*params, *(c for v in values for c in (f"{v}_mean", f"{v}_sem")), "n"]
    return res[ordered]

