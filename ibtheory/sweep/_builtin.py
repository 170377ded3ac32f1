"""The thesis's sweeps: information planes, NTK information, IB curves (docs/sweep.md has their costs).

Each task function takes scalar parameters and ``seed`` and returns scalars and arrays; the grids
come in a ``quick`` size (under a minute on 2 cores, for checks) and a ``full`` size (a cluster).
Bump a function's ``version`` whenever its results change, so stale results are not reused; the
task names are fixed strings, so moving the code does not invalidate finished results.
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._errors import SweepError
from ._grid import Grid, task


@task(
    name="ibtheory.sweep:infoplane",
    version="1",
    dims={"epoch": ("epoch",), "i_xt": ("epoch", "layer"), "i_ty": ("epoch", "layer"),
          "train_accuracy": ("epoch",), "test_accuracy": ("epoch",)},
)
def infoplane_task(
    *, activation: str, architecture: str, seed: int, n_epochs: int, learning_rate: float,
    train_fraction: float, n_record: int, n_bins: int,
) -> dict[str, Any]:
    """One network on the 12-bit task (Shwartz-Ziv & Tishby 2017; theory 5.1-5.4): binned
    I(X;T_l), I(T_l;Y) in bits of every layer at ``n_record`` log-spaced epochs.

    ``architecture`` is the hidden widths joined by ``-`` (``"10-7-5-4-3"``: IDNNs). Bins span
    (-1, 1) for tanh and each layer's observed range for ReLU (Saxe et al. 2018), as in the
    ``infoplane`` analysis of ``ibtheory reproduce``. The seed draws the split, the
    initialisation and the minibatch order."""
    from ..infoplane import information_plane, train_networks
    from ..models import twelve_bit_split, twelve_bit_task

    hidden = tuple(int(h) for h in architecture.split("-"))
    x, y = twelve_bit_task()
    split = twelve_bit_split(x.shape[0], train_fraction=train_fraction, seed=seed)
    run = train_networks(
        x, y, split.train, n_networks=1, n_epochs=n_epochs, seed=seed, hidden=hidden,
        activation=activation, learning_rate=learning_rate, n_record=n_record,
    )
    value_range: Any = (-1.0, 1.0) if activation == "tanh" else "observed"
    plane = information_plane(run, y, estimator="binning", n_bins=n_bins, value_range=value_range, units="bits")
    i_xt = plane.i_xt[:, 0, :]
    deepest_hidden = i_xt[:, -2]
    return {
        "epoch": plane.epochs,
        "i_xt": i_xt,
        "i_ty": plane.i_ty[:, 0, :],
        "train_accuracy": run.train_accuracy[:, 0],
        "test_accuracy": run.test_accuracy[:, 0],
        "final_train_accuracy": float(run.train_accuracy[-1, 0]),
        "final_test_accuracy": float(run.test_accuracy[-1, 0]),
        "last_hidden_i_xt_peak": float(deepest_hidden.max()),
        "last_hidden_i_xt_end": float(deepest_hidden[-1]),
        "h_y": float(plane.h_y),
        "units": plane.units,
    }


#: Results of :func:`ibtheory.ntk.ensemble_information` stored per time (theory.md 4.3).
NTK_QUANTITIES = (
    "i_xz_lower", "i_xz_upper", "i_zy_lower", "i_zy_upper", "h_z_given_x", "infonce_lower",
    "infonce_upper", "gibbs_loss_train", "gibbs_loss_test", "bayes_loss_train", "bayes_loss_test",
    "kl_to_prior",
)


#: Rows of the scikit-learn digits data set.
DIGITS_ROWS = 1797


def stratified_prefix(labels: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` indices of an order visiting the classes round-robin (each class in its own
    order), so any prefix of at least n_classes rows holds every class."""
    labels = np.asarray(labels)
    rank = np.empty(labels.size, dtype=np.int64)
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        rank[rows] = np.arange(rows.size)
    return np.lexsort((labels, rank))[:n]


@task(name="ibtheory.sweep:ntk-information", version="1", dims={"time": ("time",), **{q: ("time",) for q in NTK_QUANTITIES}})
def ntk_information_task(
    *, n_train: int, w_std: float, depth: int, seed: int, n_eval: int, activation: str,
    b_std: float, n_times: int, t_max: float,
) -> dict[str, Any]:
    """Information of the infinite NTK ensemble's output over training time on digits
    (Shwartz-Ziv & Alemi 2020; theory.md 4.2-4.5), in nats: times 0, ``n_times`` log-spaced in
    [0.1, t_max] (gradient steps at learning rate 1) and inf. The seed draws the eval set and the
    InfoNCE draw; the training set is the first ``n_train`` rows of a class-stratified order of the
    other rows, so every class is present and, for one seed, smaller training sets are subsets of
    larger ones (as in :func:`ibtheory.ntk.information_vs_train_size`)."""
    from ..models import load_classification_data
    from ..ntk import ensemble_information

    d = load_classification_data("digits", DIGITS_ROWS - n_eval, n_eval, seed=seed)
    train = stratified_prefix(d.labels_train, n_train)
    times = np.concatenate([[0.0], np.logspace(-1.0, math.log10(t_max), n_times), [np.inf]])
    info = ensemble_information(
        d.x_train[train], d.y_train[train], d.x_test, d.labels_test, times, depth=depth, activation=activation,
        w_std=w_std, b_std=b_std, learning_rate=1.0, units="nats", seed=seed,
    )
    out: dict[str, Any] = {"time": np.asarray(info.times, dtype=float)}
    out.update({q: np.asarray(getattr(info, q), dtype=float) for q in NTK_QUANTITIES})
    test = out["gibbs_loss_test"]
    out["best_time_gibbs_test"] = float(out["time"][int(np.nanargmax(test))])
    out["i_xz_upper_final"] = float(out["i_xz_upper"][-1])
    out["units"] = info.units
    return out


@task(
    name="ibtheory.sweep:ib-curves",
    version="1",
    dims={"beta": ("beta",), "i_xt": ("beta",), "i_ty": ("beta",), "objective": ("beta",),
          "n_clusters": ("beta",)},
)
def ib_curves_task(
    *, n_x: int, n_y: int, concentration: float, method: str, seed: int, beta_min: float,
    beta_max: float, n_beta: int, effort: str,
) -> dict[str, Any]:
    """The optimal IB or dualIB curve (theory.md 1.3, 3.2) of ``random_joint(n_x, n_y,
    concentration, seed)`` on ``n_beta`` log-spaced betas, in nats; the seed draws the joint and
    the solver's random restarts."""
    from ..models import random_joint
    from ..solvers import ib_curve

    p_xy = random_joint(n_x, n_y, concentration=concentration, seed=seed)
    curve = ib_curve(p_xy, np.geomspace(beta_min, beta_max, n_beta), method=method, effort=effort, seed=seed)
    return {
        "beta": curve.betas,
        "i_xt": curve.i_xt,
        "i_ty": curve.i_ty,
        "objective": curve.objective,
        "n_clusters": curve.n_clusters,
        "n_transitions": len(curve.transitions),
        "first_transition": float(curve.transitions[0]) if len(curve.transitions) else math.nan,
        "i_ty_at_beta_max": float(curve.i_ty[-1]),
        "all_converged": bool(np.all(curve.converged)),
        "units": curve.units,
    }


@dataclass(frozen=True)
class BuiltinSweep:
    """A named sweep of the thesis: its task function and its quick and full grids."""

    name: str
    function: Callable[..., Any]
    quick: Grid
    full: Grid
    description: str

    def grid(self, quick: bool) -> Grid:
        return self.quick if quick else self.full


_INFOPLANE_COMMON = {"n_bins": 30}
_NTK_COMMON = {"activation": "erf", "b_std": 0.05}

BUILTIN_SWEEPS: dict[str, BuiltinSweep] = {
    s.name: s
    for s in (
        BuiltinSweep(
            "infoplane",
            infoplane_task,
            quick=Grid(
                {"activation": ["tanh", "relu"], "architecture": ["10-7-5-4-3", "10-5-3"]},
                seeds=range(2),
                fixed={"n_epochs": 60, "learning_rate": 3e-3, "train_fraction": 0.45, "n_record": 8,
                       **_INFOPLANE_COMMON},
            ),
            full=Grid(
                {"activation": ["tanh", "relu"], "architecture": ["10-7-5-4-3", "12-10-7-5-4-3-2", "20-20-20"]},
                seeds=range(50),
                fixed={"n_epochs": 1500, "learning_rate": 4e-4, "train_fraction": 0.85, "n_record": 30,
                       **_INFOPLANE_COMMON},
            ),
            description="12-bit information planes: activation x architecture x seed (one network per task)",
        ),
        BuiltinSweep(
            "ntk-information",
            ntk_information_task,
            quick=Grid(
                {"n_train": [50, 100], "w_std": [1.0, 2.0], "depth": [1, 2]},
                seeds=range(1),
                fixed={"n_eval": 100, "n_times": 10, "t_max": 1e6, **_NTK_COMMON},
            ),
            full=Grid(
                {"n_train": [25, 50, 100, 200, 400, 800, 1200], "w_std": [0.5, 1.0, 1.5, 2.0, 2.5, 3.0],
                 "depth": [1, 2, 3, 4, 6]},
                seeds=range(5),
                fixed={"n_eval": 500, "n_times": 37, "t_max": 1e8, **_NTK_COMMON},
            ),
            description="NTK ensemble information on digits: training-set size x w_std x depth x seed, over time",
        ),
        BuiltinSweep(
            "ib-curves",
            ib_curves_task,
            quick=Grid(
                {"n_x": [8], "concentration": [0.5, 2.0], "method": ["ib", "dualib"]},
                seeds=range(2),
                fixed={"n_y": 4, "beta_min": 0.1, "beta_max": 100.0, "n_beta": 30, "effort": "fast"},
            ),
            full=Grid(
                {"n_x": [8, 16, 32, 64], "concentration": [0.1, 0.3, 1.0, 3.0], "method": ["ib", "dualib"]},
                seeds=range(25),
                fixed={"n_y": 4, "beta_min": 0.1, "beta_max": 100.0, "n_beta": 80, "effort": "optimum"},
            ),
            description="IB and dualIB curves of random joints: size x Dirichlet concentration x method x seed",
        ),
    )
}


def builtin_sweep(name: str) -> BuiltinSweep:
    """The built-in sweep called ``name`` (``infoplane``, ``ntk-information``, ``ib-curves``)."""
    if name not in BUILTIN_SWEEPS:
        raise SweepError(f"unknown sweep {name!r}; built-in: {', '.join(BUILTIN_SWEEPS)} (or module:function)")
    return BUILTIN_SWEEPS[name]


def resolve_sweep(name: str, *, grid: str | None = None, quick: bool = False) -> tuple[Callable[..., Any], Grid]:
    """The task function and grid a command line names: a built-in sweep (its quick or full grid,
    or the grid in the JSON file ``grid``) or ``module:function`` with the grid in ``grid``
    (JSON for :meth:`Grid.from_dict`)."""
    if ":" in name:
        module, _, qualname = name.partition(":")
        try:
            obj: Any = importlib.import_module(module)
            for part in qualname.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as exc:
            raise SweepError(f"cannot import {name!r}: {exc}") from None
        if not callable(obj):
            raise SweepError(f"{name!r} is not a function")
        if grid is None:
            raise SweepError("a user sweep needs its grid: --grid GRID.json (see docs/sweep.md)")
        fn = obj
    else:
        fn = builtin_sweep(name).function
    if grid is None:
        return fn, builtin_sweep(name).grid(quick)
    try:
        with open(grid) as fh:
            spec = json.load(fh)
    except (OSError, ValueError) as exc:
        raise SweepError(f"cannot read the grid {grid}: {exc}") from None
    return fn, Grid.from_dict(spec)
