"""Parameter grids, task functions and the content address of a task."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._errors import SweepError

#: Hex digits of SHA-256 kept in a task key: 96 bits, so a collision among even 1e9 tasks has
#: probability ~ n^2 / 2^97 < 1e-11.
KEY_LENGTH = 24

Scalar = bool | int | float | str | None


def canonical_value(value: Any, name: str) -> Scalar:
    """A parameter value as a plain JSON scalar (NumPy scalars unwrapped), or a :class:`SweepError`.

    Parameters must be scalars so that they hash canonically and become table columns; pass
    structured settings as a string the task parses (e.g. an architecture ``"10-7-5-4-3"``)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            raise SweepError(f"parameter {name!r}: NaN is not a grid value")
        return value
    raise SweepError(
        f"parameter {name!r}: {value!r} ({type(value).__name__}) is not a scalar "
        "(bool, int, float, str or None); encode it as a string the task parses"
    )


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise SweepError(f"parameter names must be Python identifiers, got {name!r}")
    if name in ("seed", "key"):
        raise SweepError(f"{name!r} is reserved: seeds go in Grid(seeds=...); 'key' names the task")
    return name


@dataclass(frozen=True)
class Grid:
    """A product of named parameter lists, times a list of seeds, plus fixed settings.

    Fields
    ------
    params : dict name -> tuple of scalar values, the grid axes (in this order; product order).
    seeds : tuple of int, one task per seed at every grid point (the innermost axis).
    fixed : dict name -> scalar, passed to every task and part of its content address, not an axis.
    """

    params: Mapping[str, Any]
    seeds: Sequence[int] = (0,)
    fixed: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        params: dict[str, tuple[Scalar, ...]] = {}
        for name, values in dict(self.params).items():
            _check_name(name)
            if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
                raise SweepError(f"parameter {name!r}: give a list of values, got {values!r}")
            vals = tuple(canonical_value(v, name) for v in values)
            if not vals:
                raise SweepError(f"parameter {name!r}: the list of values is empty")
            if len({json.dumps(v) for v in vals}) != len(vals):
                raise SweepError(f"parameter {name!r}: repeated values in {list(vals)}")
            params[name] = vals
        seeds = []
        for s in self.seeds:
            if isinstance(s, np.integer):
                s = int(s)
            if isinstance(s, bool) or not isinstance(s, int) or s < 0:
                # negative seeds would fail only inside each task (numpy seeds are >= 0)
                raise SweepError(f"seeds must be non-negative integers, got {s!r}")
            seeds.append(s)
        if not seeds:
            raise SweepError("seeds is empty; give at least one seed")
        if len(set(seeds)) != len(seeds):
            raise SweepError(f"repeated seeds in {seeds}")
        fixed = {_check_name(k): canonical_value(v, k) for k, v in dict(self.fixed).items()}
        both = sorted(set(params) & set(fixed))
        if both:
            raise SweepError(f"parameters both on the grid and fixed: {both}")
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "seeds", tuple(seeds))
        object.__setattr__(self, "fixed", fixed)

    @classmethod
    def from_dict(cls, spec: Grid | Mapping[str, Any]) -> Grid:
        """A grid from ``{"params": {...}, "seeds": [...], "fixed": {...}}``, or from a flat mapping
        where lists are axes, scalars are fixed and ``"seed"``/``"seeds"`` lists the seeds."""
        if isinstance(spec, Grid):
            return spec
        if not isinstance(spec, Mapping):
            raise SweepError(f"a grid is a mapping, got {type(spec).__name__}")
        if "params" in spec and set(spec) <= {"params", "seeds", "fixed"}:
            return cls(spec["params"], spec.get("seeds", (0,)), spec.get("fixed", {}))
        params, fixed, seeds = {}, {}, None
        for name, value in spec.items():
            if name in ("seed", "seeds"):
                seeds = list(value) if isinstance(value, Sequence | np.ndarray) else [value]
            elif isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
                params[name] = value
            else:
                fixed[name] = value
        return cls(params, (0,) if seeds is None else seeds, fixed)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form read back by :meth:`from_dict`."""
        return {
            "params": {k: list(v) for k, v in self.params.items()},
            "seeds": list(self.seeds),
            "fixed": dict(self.fixed),
        }

    @property
    def dims(self) -> tuple[str, ...]:
        """The axes of the grid: the parameter names, then ``"seed"``."""
        return (*self.params, "seed")

    @property
    def shape(self) -> tuple[int, ...]:
        return (*(len(v) for v in self.params.values()), len(self.seeds))

    def __len__(self) -> int:
        return math.prod(self.shape)

    def points(self) -> Iterator[tuple[dict[str, Scalar], int]]:
        """Every (parameters including the fixed ones, seed), seeds innermost."""
        names = list(self.params)
        for combo in itertools.product(*self.params.values()):
            for seed in self.seeds:
                yield {**dict(zip(names, combo, strict=True)), **self.fixed}, int(seed)


@dataclass(frozen=True)
class TaskSpec:
    """How a function runs as a sweep task.

    Fields
    ------
    name : ``"module:qualname"``, part of every task key.
    version : a string bumped whenever the function's results change; part of every task key, so
        results of an older version are never reused.
    dims : dict result name -> names of its array axes (for :func:`load_dataset`); a 1-D result
        whose name is one of these axis names is that axis' coordinate.
    """

    name: str
    version: str
    dims: Mapping[str, tuple[str, ...]]


def task(*, version: str, dims: Mapping[str, Sequence[str]] | None = None,
         name: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a function's sweep identity: ``@task(version="2", dims={"i_xt": ("epoch", "layer")})``.

    The function is called as ``fn(**params, seed=seed)`` and returns a mapping of result names to
    scalars (table columns) or arrays (stored in ``.npz``); it is returned unchanged, with a
    ``__sweep_task__`` attribute. Undecorated functions run with version ``"0"``."""
    if not isinstance(version, str) or not version:
        raise SweepError(f"version must be a non-empty string, got {version!r}")

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__sweep_task__ = TaskSpec(  # type: ignore[attr-defined]
            name=name or function_name(fn),
            version=version,
            dims={k: tuple(v) for k, v in (dims or {}).items()},
        )
        return fn

    return wrap


def function_name(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"


def task_spec(fn: Callable[..., Any]) -> TaskSpec:
    """The :class:`TaskSpec` of ``fn`` (declared by :func:`task`, else its name and version ``"0"``)."""
    if not callable(fn):
        raise SweepError(f"the task must be callable, got {fn!r}")
    spec = getattr(fn, "__sweep_task__", None)
    if isinstance(spec, TaskSpec):
        return spec
    return TaskSpec(name=function_name(fn), version="0", dims={})


def task_key(name: str, version: str, params: Mapping[str, Any], seed: int) -> str:
    """Content address of a task: SHA-256 of the canonical JSON of function name, version,
    parameters (fixed ones included) and seed, cut to :data:`KEY_LENGTH` hex digits."""
    text = json.dumps(
        {"function": name, "version": version, "params": dict(params), "seed": int(seed)},
        sort_keys=True, separators=(",", ":"), allow_nan=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_LENGTH]


@dataclass(frozen=True)
class Task:
    """One grid point: its content address, parameters (fixed ones included) and seed."""

    key: str
    params: Mapping[str, Scalar]
    seed: int


def grid_tasks(spec: TaskSpec, grid: Grid) -> list[Task]:
    return [Task(task_key(spec.name, spec.version, p, s), p, s) for p, s in grid.points()]
