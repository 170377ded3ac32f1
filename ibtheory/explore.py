"""Interactive explorers for notebooks (ipywidgets), computed from the library, with static fallbacks.

Each explorer computes its data once with the public API (``ib_curve``, ``critical_betas``,
``gaussian_ib``, ``fc_kernels``, ``empirical_kernels``, information planes) and redraws one
:class:`matplotlib.figure.Figure` (no pyplot state) on :meth:`Explorer.update` with the
``draw_*_explorer`` functions of :mod:`ibtheory.figures` (imported on first use: matplotlib is an
optional extra). In Jupyter the
explorer shows its controls and the figure as an image widget; where ipywidgets is not installed,
or a viewer cannot run widgets (a saved notebook on a web page), the same figure is shown as a
static picture. Without Jupyter, call ``update(...)`` and use ``explorer.figure``.

- :func:`ib_explorer`: IB / dualIB curve, a beta slider moving the point on the information plane,
  the encoder p(t|x) as a heat map, the cluster count with the local critical betas and the global
  transitions (theory.md 1.5, 3.2-3.4).
- :func:`gaussian_explorer`: Gaussian IB / dualIB: eigen-spectrum, critical betas, the projection
  scales alpha_i(beta) and the curve (Chechik et al. 2005; theory.md 2.5, 10).
- :func:`ntk_explorer`: NNGP / NTK against the angle between two inputs for an activation, depth and
  w_std, beside the empirical kernels of a finite-width ensemble (theory.md 7.1).
- :func:`infoplane_player`: an information plane played over the recorded epochs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "Explorer",
    "GaussianExplorer",
    "IBExplorer",
    "InfoPlanePlayer",
    "NTKExplorer",
    "gaussian_explorer",
    "ib_explorer",
    "infoplane_player",
    "ntk_explorer",
]

#: Resolution of the explorer figures (pixels per inch) in widgets and static pictures.
EXPLORER_DPI = 90
_METHOD_LABELS = {"ib": "IB", "dualib": "dualIB"}


def _figures() -> ModuleType:
    """:mod:`ibtheory.figures`, imported on first use (it imports matplotlib)."""
    from . import figures

    return figures


def _widgets() -> Any:
    """The ipywidgets module, or None where it is not installed (static fallback)."""
    try:
        import ipywidgets
    except ImportError:
        return None
    return ipywidgets


def _nearest_index(grid: np.ndarray, value: float) -> int:
    """Index of the grid point nearest to ``value`` in log scale (betas are log-spaced)."""
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"beta must be a positive finite number, got {value!r}")
    return int(np.argmin(np.abs(np.log(grid) - np.log(value))))


class Explorer:
    """Base class: a figure, named values, ``update(**values)`` redraws; widgets built on demand.

    Subclasses define ``_draw()`` (reads ``self.values``) and ``_controls(widgets)`` (one widget
    per value, keyed by the value's name).
    """

    figsize: tuple[float, float] = (12.0, 3.8)

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = dict(values)
        self.figure = _figures().explorer_figure(self.figsize)
        self._images: list[Any] = []  # the image widget of each display of this explorer
        self._draw()

    def update(self, **values: Any) -> Any:
        """Set some of the explorer's values (the names of its controls), redraw, return the figure."""
        unknown = set(values) - set(self.values)
        if unknown:
            raise ValueError(f"unknown value(s) {sorted(unknown)}; this explorer has {sorted(self.values)}")
        self.values.update(self._checked(values))
        self.figure.clear()
        self._draw()
        if self._images:
            png = _figures().figure_png(self.figure, dpi=EXPLORER_DPI)
            for image in self._images:
                image.value = png
        return self.figure

    def _checked(self, values: dict[str, Any]) -> dict[str, Any]:
        return values

    def _draw(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _controls(self, widgets: Any) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def widget(self) -> Any:
        """Controls above the figure as an ipywidgets ``VBox``; None where ipywidgets is missing."""
        widgets = _widgets()
        if widgets is None:
            return None
        controls = self._controls(widgets)
        image = widgets.Image(value=_figures().figure_png(self.figure, dpi=EXPLORER_DPI), format="png")
        self._images.append(image)
        for name, control in controls.items():
            control.observe(lambda change, name=name: self.update(**{name: change["new"]}), names="value")
        return widgets.VBox([widgets.HBox(list(controls.values())), image])

    def _repr_html_(self) -> str:
        note = "a still picture: the controls need ipywidgets (the <code>notebooks</code> extra) and a live kernel"
        picture = _figures().figure_to_html(self.figure, dpi=EXPLORER_DPI, alt=type(self).__name__)
        return f"<div>{picture}<br/><small>{note}</small></div>"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        bundle = {"text/plain": repr(self), "text/html": self._repr_html_()}
        w = self.widget()
        if w is not None:  # the widget, with the static picture for viewers that cannot run it
            bundle.update(w._repr_mimebundle_())
        display(bundle, raw=True)

    def __repr__(self) -> str:
        vals = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"<{type(self).__name__} {vals}>"


# ----------------------------------------------------------------------------- IB / dualIB
class IBExplorer(Explorer):
    """IB / dualIB curves of one joint: beta slider, information plane, encoder, cluster count.

    ``curves[method]`` are :class:`ibtheory.solvers.IBCurve` results on one beta grid and
    ``critical[method]`` the local critical betas of :func:`ibtheory.critical_betas`. Values:
    ``method`` (``"ib"`` or ``"dualib"``) and ``beta`` (snapped to the nearest grid beta).
    """

    def __init__(self, curves: Mapping[str, Any], critical: Mapping[str, Any]) -> None:
        if not curves:
            raise ValueError("curves must hold at least one IBCurve")
        self.curves = dict(curves)
        self.critical = {m: np.asarray(critical.get(m, ()), dtype=float) for m in self.curves}
        first = next(iter(self.curves))
        self.betas = np.asarray(self.curves[first].betas, dtype=float)
        super().__init__({"method": first, "beta": float(self.betas[len(self.betas) // 2])})

    def _checked(self, values: dict[str, Any]) -> dict[str, Any]:
        return _check_method_beta(values, self.curves, self.betas)

    def _draw(self) -> None:
        method = self.values["method"]
        i = _nearest_index(np.asarray(self.curves[method].betas, dtype=float), self.values["beta"])
        _figures().draw_ib_explorer(self.figure, self.curves, self.critical, method, i)

    def _controls(self, widgets: Any) -> dict[str, Any]:
        return _method_beta_controls(widgets, self.curves, self.betas, self.values)


def _check_method_beta(values: dict[str, Any], methods: Mapping[str, Any], betas: np.ndarray) -> dict[str, Any]:
    if "method" in values and values["method"] not in methods:
        raise ValueError(f"method must be one of {sorted(methods)}, got {values['method']!r}")
    if "beta" in values:
        values["beta"] = float(betas[_nearest_index(betas, float(values["beta"]))])
    return values


def _method_beta_controls(widgets: Any, methods: Mapping[str, Any], betas: np.ndarray, values: dict[str, Any]) -> dict[str, Any]:
    """A method toggle and a slider over the grid betas (labels rounded, values exact)."""
    return {
        "method": widgets.ToggleButtons(
            options=[(_METHOD_LABELS.get(m, m), m) for m in methods], value=values["method"]
        ),
        "beta": widgets.SelectionSlider(
            options=[(f"{b:.3g}", float(b)) for b in betas], value=values["beta"], description="beta",
            continuous_update=False, layout=widgets.Layout(width="420px"),
        ),
    }


def ib_explorer(
    p_xy: Any,
    betas: Any,
    *,
    methods: Sequence[str] = ("ib", "dualib"),
    units: str = "nats",
    seed: int = 0,
    effort: str = "optimum",
    progress: bool = False,
) -> IBExplorer:
    """Compute the curves of ``p_xy`` on ``betas`` for each method and return an :class:`IBExplorer`.

    Curves from :func:`ibtheory.ib_curve` (global transitions located), local critical betas from
    :func:`ibtheory.critical_betas`; ``progress`` shows a ``tqdm.auto`` bar over the methods.
    """
    from .solvers import critical_betas, ib_curve

    it: Any = methods
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(methods, desc="ib curves", unit="method")
    curves, critical = {}, {}
    for m in it:
        curves[m] = ib_curve(p_xy, betas, method=m, units=units, seed=seed, effort=effort)
        critical[m] = critical_betas(p_xy, method=m, seed=seed)
    return IBExplorer(curves, critical)


# ----------------------------------------------------------------------------- Gaussian IB
class GaussianExplorer(Explorer):
    """Gaussian IB / dualIB: eigen-spectrum with critical betas, alpha_i(beta), the curve.

    ``results[method]`` are :class:`ibtheory.gaussian.GaussianIBResult` on one beta grid. Values:
    ``method`` and ``beta`` (snapped to the grid).
    """

    figsize = (12.5, 3.8)

    def __init__(self, results: Mapping[str, Any]) -> None:
        if not results:
            raise ValueError("results must hold at least one GaussianIBResult")
        self.results = {m: _numpy_result(r) for m, r in results.items()}
        first = next(iter(self.results))
        self.betas = self.results[first]["betas"]
        super().__init__({"method": first, "beta": float(self.betas[len(self.betas) // 2])})

    def _checked(self, values: dict[str, Any]) -> dict[str, Any]:
        return _check_method_beta(values, self.results, self.betas)

    def _draw(self) -> None:
        method = self.values["method"]
        i = _nearest_index(self.results[method]["betas"], self.values["beta"])
        _figures().draw_gaussian_explorer(self.figure, self.results, method, i)

    def _controls(self, widgets: Any) -> dict[str, Any]:
        return _method_beta_controls(widgets, self.results, self.betas, self.values)


def _numpy_result(r: Any) -> dict[str, Any]:
    """The fields of a GaussianIBResult the explorer draws, as NumPy arrays (torch results too)."""

    def arr(a: Any) -> np.ndarray:
        if hasattr(a, "detach"):
            a = a.detach().cpu().numpy()
        return np.asarray(a, dtype=float)

    out: dict[str, Any] = {k: arr(getattr(r, k)) for k in ("betas", "eigenvalues", "critical_betas", "alphas", "i_xt", "i_ty")}
    out["i_xy"] = float(arr(r.i_xy))
    out["units"] = r.units
    order = np.argsort(out["betas"])
    for k in ("betas", "alphas", "i_xt", "i_ty"):
        out[k] = out[k][order]
    return out


def gaussian_explorer(
    cov_x: Any, cov_xy: Any, cov_y: Any, betas: Any, *, methods: Sequence[str] = ("ib", "dualib"), units: str = "nats"
) -> GaussianExplorer:
    """Solve the Gaussian IB (:func:`ibtheory.gaussian_ib`) and dualIB (:func:`ibtheory.gaussian_dual_ib`)
    on ``betas`` and return a :class:`GaussianExplorer`."""
    from .gaussian import gaussian_dual_ib, gaussian_ib

    solve = {"ib": gaussian_ib, "dualib": gaussian_dual_ib}
    bad = [m for m in methods if m not in solve]
    if bad:
        raise ValueError(f"methods must be among {sorted(solve)}, got {bad}")
    return GaussianExplorer({m: solve[m](cov_x, cov_xy, cov_y, betas, units=units) for m in methods})


# ----------------------------------------------------------------------------- NTK
def circle_inputs(angles: Any) -> np.ndarray:
    """Inputs sqrt(2) (cos a, sin a): the input kernel x.x'/d is cos(a - a') (d = 2)."""
    a = np.asarray(angles, dtype=float)
    return np.sqrt(2.0) * np.column_stack([np.cos(a), np.sin(a)])


class NTKExplorer(Explorer):
    """NNGP and NTK against the angle between two unit-kernel inputs, analytic and finite-width.

    Values: ``activation`` (``"relu"`` or ``"erf"``), ``depth`` (hidden layers) and ``w_std``;
    ``b_std`` is fixed. The right panel is the empirical kernel of ``n_networks`` random networks of
    width ``width`` (:func:`ibtheory.ntk.empirical_kernels`, needs torch): its mean over the networks
    with a band of two standard errors, over the analytic limit.
    """

    figsize = (11.0, 3.8)

    def __init__(
        self, *, activation: str = "relu", depth: int = 1, w_std: float = 1.5, b_std: float = 0.1,
        n_angles: int = 61, n_networks: int = 32, width: int = 256, seed: int = 0,
    ) -> None:
        self.b_std = float(b_std)
        self.angles = np.linspace(0.0, np.pi, int(n_angles))
        self.n_networks, self.width, self.seed = int(n_networks), int(width), int(seed)
        super().__init__({"activation": activation, "depth": int(depth), "w_std": float(w_std)})

    def _kernels(self) -> tuple[Any, Any]:
        from .ntk import empirical_kernels, fc_kernels

        x = circle_inputs(self.angles)
        arch = dict(depth=int(self.values["depth"]), activation=self.values["activation"],
                    w_std=float(self.values["w_std"]), b_std=self.b_std)
        analytic = fc_kernels(x[:1], x, **arch)
        try:
            finite = empirical_kernels(x[:1], x, n_networks=self.n_networks, width=self.width, seed=self.seed, **arch)
        except ImportError:  # torch is optional (the `torch` extra)
            finite = None
        return analytic, finite

    def _draw(self) -> None:
        analytic, finite = self._kernels()
        v = self.values
        _figures().draw_ntk_explorer(
            self.figure, self.angles, analytic, finite, activation=v["activation"], depth=v["depth"],
            w_std=v["w_std"], b_std=self.b_std, width=self.width, n_networks=self.n_networks,
        )

    def _controls(self, widgets: Any) -> dict[str, Any]:
        return {
            "activation": widgets.ToggleButtons(options=["relu", "erf"], value=self.values["activation"]),
            "depth": widgets.IntSlider(value=self.values["depth"], min=0, max=8, description="depth",
                                       continuous_update=False),
            "w_std": widgets.FloatSlider(value=self.values["w_std"], min=0.25, max=3.0, step=0.05,
                                         description="w_std", continuous_update=False),
        }


def ntk_explorer(**kwargs: Any) -> NTKExplorer:
    """An :class:`NTKExplorer` (keyword arguments as its constructor)."""
    return NTKExplorer(**kwargs)


# ----------------------------------------------------------------------------- information plane
class InfoPlanePlayer(Explorer):
    """Information planes (:class:`ibtheory.infoplane.InformationPlane`) played over the epochs.

    Each panel shows one plane averaged over its networks: every layer's path up to the current
    epoch, and the layers at that epoch joined by a line. Value: ``epoch`` (snapped to the nearest
    recorded epoch at or before it).
    """

    def __init__(self, planes: Mapping[str, Any]) -> None:
        if not planes:
            raise ValueError("planes must hold at least one InformationPlane")
        self.planes = dict(planes)
        self.epochs = np.asarray(next(iter(self.planes.values())).epochs)
        self.figsize = (4.2 * len(self.planes) + 0.5, 3.8)
        super().__init__({"epoch": int(self.epochs[-1])})

    def _checked(self, values: dict[str, Any]) -> dict[str, Any]:
        if "epoch" in values:  # the recorded epoch at or before the one asked for
            r = int(np.searchsorted(self.epochs, float(values["epoch"]), side="right")) - 1
            values["epoch"] = int(self.epochs[max(r, 0)])
        return values

    def _draw(self) -> None:
        _figures().draw_infoplane_player(self.figure, self.planes, self.values["epoch"])

    def _controls(self, widgets: Any) -> dict[str, Any]:
        options = [int(e) for e in self.epochs]
        return {"epoch": widgets.SelectionSlider(options=options, value=self.values["epoch"], description="epoch")}

    def widget(self) -> Any:
        """The epoch slider with a play button (which steps through the recorded epochs)."""
        box = super().widget()
        if box is None:
            return None
        widgets = _widgets()
        slider = box.children[0].children[0]
        play = widgets.Play(value=slider.index, min=0, max=len(self.epochs) - 1, interval=400)
        widgets.jslink((play, "value"), (slider, "index"))
        box.children[0].children = (play, slider)
        return box


def infoplane_player(planes: Any) -> InfoPlanePlayer:
    """An :class:`InfoPlanePlayer` of one InformationPlane or a ``{title: plane}`` mapping."""
    if not isinstance(planes, Mapping):
        planes = {f"{planes.estimator}, {planes.activation}": planes}
    return InfoPlanePlayer(planes)
