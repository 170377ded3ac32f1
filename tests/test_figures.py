"""Figures have no side effects: importing every ibtheory module and building every figure of
:mod:`ibtheory.figures` (report figures, the thumbnails of the HTML summaries, the explorers'
figures) leaves matplotlib's backend and pyplot's figure list unchanged.

A fresh interpreter is needed (an import-time ``matplotlib.use`` runs only once per process), so the
check runs in a subprocess that first selects a backend no library code would pick ("svg"): a
library that switched to Agg, or opened a pyplot figure, would show up in the comparison.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import ibtheory
import ibtheory.figures as figures

PACKAGE = Path(ibtheory.__file__).resolve().parent

#: Building every figure at tiny sizes takes ~10-20 s on the 2-core CI machine.
SUBPROCESS_TIMEOUT_S = 300

#: Public functions of ibtheory.figures: every one must be called by the script, directly or through
#: the library (the report's composite figures, the HTML summaries, the explorers).
PUBLIC = {
    name
    for name, fn in inspect.getmembers(figures, inspect.isfunction)
    if fn.__module__ == figures.__name__ and not name.startswith("_")
}
#: Those that return a new Figure (the rest draw on axes or a figure the caller owns, or encode one).
RETURNS_FIGURE = {name for name in PUBLIC if inspect.signature(getattr(figures, name)).return_annotation == "Figure"}

SCRIPT = r"""
import dataclasses, importlib, io, json, pkgutil
import matplotlib
matplotlib.use("svg")
import matplotlib.pyplot as plt
import numpy as np

before = {"backend": matplotlib.get_backend(), "fignums": plt.get_fignums()}

import ibtheory
for info in pkgutil.walk_packages(ibtheory.__path__, "ibtheory."):
    if not info.name.endswith("__main__"):  # __main__ runs the command line
        importlib.import_module(info.name)
after_import = {"backend": matplotlib.get_backend(), "fignums": plt.get_fignums()}

from ibtheory import gaussian_dual_ib, gaussian_ib, ib_curve, critical_betas, input_compression_bound
from ibtheory.infoplane import information_plane, load_digits_data, train_networks, train_variational
from ibtheory.models import digits_data, random_joint, twelve_bit_task
from ibtheory.ntk import (
    ensemble_information, fc_kernels, information_vs_train_size, information_vs_w_std,
)
from ibtheory import explore
from ibtheory import figures as F
from ibtheory import solve_ib
from ibtheory.ntk import finite_ensemble
from ibtheory.report import ntk_experiments as E

# record every call of a public figures function, whichever module makes it (module globals are the
# module's attributes, so calls between figures functions are recorded too)
called = {}
def _recorded(name, fn):
    def wrapper(*args, **kwargs):
        out = fn(*args, **kwargs)
        called[name] = type(out).__module__ + "." + type(out).__name__
        return out
    return wrapper
for name in PUBLIC:
    setattr(F, name, _recorded(name, getattr(F, name)))

built = {}
p_xy = random_joint(4, 3, concentration=0.7, seed=1)
betas = np.geomspace(0.5, 20.0, 6)
curve = ib_curve(p_xy, betas, method="ib", seed=0)
built["curves_figure"] = F.curves_figure([curve], [critical_betas(p_xy, method="ib")], title="t")

joint = np.eye(4) + 0.5
g_betas = np.geomspace(0.5, 50.0, 8)
cx, cxy, cy = joint[:2, :2], joint[:2, 2:], joint[2:, 2:]
built["gaussian_curves_figure"] = F.gaussian_curves_figure(
    g_betas, gaussian_ib(cx, cxy, cy, g_betas), gaussian_dual_ib(cx, cxy, cy, g_betas))

d = digits_data(60, 12, seed=0)  # 60 rows: every class of the 12 eval rows is trained on
arch = dict(depth=1, activation="erf", w_std=1.5, b_std=0.05, learning_rate=1.0)
info = ensemble_information(d.x_train, d.y_train, d.x_test, d.labels_test, [0.0, 1.0, 10.0, np.inf], **arch)
built["plot_information_over_time"] = F.plot_information_over_time(info)
sizes = np.array([30, 60])
sweep = information_vs_train_size(d.x_train, d.y_train, d.x_test, d.labels_test, sizes, **arch)
built["information_vs_train_size_figure"] = F.information_vs_train_size_figure(sizes, sweep)
arch_w = {k: v for k, v in arch.items() if k != "w_std"}
ws = information_vs_w_std(d.x_train, d.y_train, d.x_test, d.labels_test, [0.5, 1.5], [10.0, np.inf], **arch_w)
built["information_vs_w_std_figure"] = F.information_vs_w_std_figure([0.5, 1.5], ws, [10.0, np.inf])

gam = np.linspace(0, np.pi, 5)
xg = E.circle(gam)
built["kernels_vs_angle_figure"] = F.kernels_vs_angle_figure(gam, {
    ("relu", 1): fc_kernels(xg[:1], xg, depth=1, w_std=1.5, b_std=0.1),
    ("erf", 1): fc_kernels(xg[:1], xg, depth=1, activation="erf", w_std=1.5, b_std=0.1),
})
ntk_arch = {"depth": 1, "activation": "relu", "w_std": 1.5, "b_std": 0.1}
ens = E.ensemble_over_time(ntk_arch, [0.0, 2.0, np.inf], n_test=10, seed=0)
built["ntk_kernels_and_ensemble_figure"] = F.ntk_kernels_and_ensemble_figure(
    E.compare_kernels(ntk_arch, n_networks=4, width=8, seed=0, n_angles=5, n_samples=3),
    E.ntk_width_errors(ntk_arch, [4, 8], n_networks=4, seed=1),
    ens,
    E.trained_ensemble_errors(ens, ntk_arch, [2, 4], n_networks=4, time=2.0, seed=2),
)

x, y = twelve_bit_task()
rows = np.arange(0, 4096, 64)
run = train_networks(x[rows], y[rows], np.arange(40), n_networks=2, n_epochs=3, seed=0, n_record=2,
                     batch_size=16)
plane = information_plane(run, y[rows], estimator="binning", n_bins=10, value_range=(-1.0, 1.0))
built["plot_information_plane"] = F.plot_information_plane(plane)
built["plot_information_planes"] = F.plot_information_planes([plane, plane], ["a", "b"])
built["plot_gradient_phases"] = F.plot_gradient_phases(run)
import xarray as xr
epochs, layers = np.array([1, 10, 100]), np.arange(3)
swept = xr.Dataset(
    {q: (("activation", "epoch", "layer"), np.random.default_rng(k).uniform(0, 1, (2, 3, 3)))
     for k, q in enumerate(("i_xt_mean", "i_ty_mean"))},
    coords={"activation": ["tanh", "relu"], "epoch": epochs, "layer": layers},
)
swept["i_xt_mean"][1, :, 2] = np.nan  # a shallower network: its padded layer is skipped
built["sweep_information_planes"] = F.sweep_information_planes(swept)
digits = load_digits_data(seed=0)
small = dataclasses.replace(digits, x_train=digits.x_train[:200], y_train=digits.y_train[:200])
vib = train_variational(small, method="vib", betas=[1.0, 10.0], seed=0, n_epochs=1, hidden=8, z_dim=2,
                        n_z_samples=1)
built["plot_variational_planes"] = F.plot_variational_planes([vib], ["VIB"])
grid = np.linspace(0.0, 12.0, 5)
built["input_compression_figure"] = F.input_compression_figure(
    grid, {m: input_compression_bound(grid, m, 0.05).epsilon for m in (100, 1000)})

# the thumbnails of the HTML summaries (rendered to PNG by figure_png inside figure_to_html)
summaries = {
    "IBCurve": curve, "IBSolution": solve_ib(p_xy, 5.0),
    "GaussianIBResult": gaussian_ib(cx, cxy, cy, g_betas), "FCKernels": fc_kernels(xg, depth=1, w_std=1.5, b_std=0.1),
    "FiniteEnsemble": finite_ensemble(xg, np.sin(gam)[:, None], None, [0.0, 2.0], n_networks=2, width=8, depth=1,
                                      w_std=1.5, b_std=0.1, learning_rate=0.5, seed=0),
}
for name, result in summaries.items():
    assert "<img" in result._repr_html_(), name

# the explorers' figures, drawn and redrawn
explorers = {
    "ib": explore.IBExplorer({"ib": curve}, {"ib": critical_betas(p_xy, method="ib")}),
    "gaussian": explore.gaussian_explorer(cx, cxy, cy, g_betas),
    "ntk": explore.ntk_explorer(n_angles=5, n_networks=2, width=8),
    # the tiny run above learns nothing: all I(T;Y) = 0, which the player must still draw
    "infoplane": explore.infoplane_player(plane),
}
for name, exp in explorers.items():
    exp.update(**exp.values)
    assert exp._repr_html_().startswith("<div><img"), name
    built["explorer " + name] = exp.figure

kinds = {}
for name, fig in built.items():
    fig.savefig(io.BytesIO(), format="png")  # rendering, where a backend could be switched
    kinds[name] = type(fig).__module__ + "." + type(fig).__name__
after = {"backend": matplotlib.get_backend(), "fignums": plt.get_fignums()}
print(json.dumps({"before": before, "after_import": after_import, "after": after, "built": kinds,
                  "called": called}))
"""


def _run_script() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(OMP_NUM_THREADS="1", PYTHONWARNINGS="error")
    proc = subprocess.run(
        [sys.executable, "-c", f"PUBLIC = {sorted(PUBLIC)!r}\n" + SCRIPT],
        capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_imports_and_figures_leave_backend_and_pyplot_unchanged():
    result = _run_script()
    assert result["before"] == {"backend": "svg", "fignums": []}
    assert result["after_import"] == result["before"], "importing ibtheory changed matplotlib's state"
    assert result["after"] == result["before"], "building figures changed matplotlib's state"
    # every public figures function was called, each figure function returned a plain Figure
    assert set(result["called"]) == PUBLIC
    assert {result["called"][n] for n in RETURNS_FIGURE} == {"matplotlib.figure.Figure"}
    assert set(result["built"].values()) == {"matplotlib.figure.Figure"}


def test_library_code_never_imports_pyplot_or_selects_a_backend():
    """Static check over every module of the package: no pyplot import, no ``matplotlib.use``."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names]
                module = node.module if isinstance(node, ast.ImportFrom) else None
                if "matplotlib.pyplot" in names or module == "matplotlib.pyplot" or (
                    module == "matplotlib" and "pyplot" in names
                ):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} imports pyplot")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "use"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "matplotlib"
            ):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} calls matplotlib.use")
    assert offenders == []
