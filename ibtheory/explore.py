"""Interactive explorers for notebooks (ipywidgets), computed from the library, with static fallbacks.

Each explorer computes its data once with the public API (``ib_curve``, ``critical_betas``,
``gaussian_ib``, ``fc_kernels``, ``empirical_kernels``, information planes) and redraws one
:class:`matplotlib.figure.Figure` (no pyplot state) on :meth:`Explorer.update`. In Jupyter the
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
from typing import Any

import numpy as np

from .display import figure_png, figure_to_html

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
        from matplotlib.figure import Figure

        self.values = dict(values)
        self.figure = Figure(figsize=self.figsize, layout="constrained")
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
            png = figure_png(self.figure, dpi=EXPLORER_DPI)
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
        image = widgets.Image(value=figure_png(self.figure, dpi=EXPLORER_DPI), format="png")
        self._images.append(image)
        for name, control in controls.items():
            control.observe(lambda change, name=name: self.update(**{name: change["new"]}), names="value")
        return widgets.VBox([widgets.HBox(list(controls.values())), image])

    def _repr_html_(self) -> str:
        note = "a still picture: the controls need ipywidgets (the <code>notebooks</code> extra) and a live kernel"
        return f"<div>{figure_to_html(self.figure, dpi=EXPLORER_DPI, alt=type(self).__name__)}<br/><small>{note}</small></div>"

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
        from .report import plot_curve

        method, beta = self.values["method"], self.values["beta"]
        curve = self.curves[method]
        i = _nearest_index(np.asarray(curve.betas, dtype=float), beta)
        ax_plane, ax_enc, ax_k = self.figure.subplots(1, 3, width_ratios=[1.2, 0.9, 1.2])
        for m, other in self.curves.items():
            if m != method:
                ax_plane.plot(other.i_xt, other.i_ty, "-", color="0.75", lw=1, label=_METHOD_LABELS.get(m, m))
        plot_curve(curve, (ax_plane, ax_k), critical=self.critical[method], color="C0")
        u = curve.units
        ax_plane.plot(curve.i_xt[i], curve.i_ty[i], "o", ms=9, mfc="none", mec="C3", mew=2)
        ax_k.axvline(curve.betas[i], color="C3", lw=1.5)
        ax_plane.set_title(f"I(X;T) = {curve.i_xt[i]:.3f}, I(T;Y) = {curve.i_ty[i]:.3f} {u}", fontsize=9)
        enc = np.asarray(curve.encoders[i])
        im = ax_enc.imshow(enc, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax_enc.set_xticks(range(enc.shape[1]))
        ax_enc.set_xlabel("cluster t")
        ax_enc.set_ylabel("x")
        ax_enc.set_title(f"p(t|x) at beta = {curve.betas[i]:.3g}: {int(curve.n_clusters[i])} clusters", fontsize=9)
        self.figure.colorbar(im, ax=ax_enc, label="p(t|x)")

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
        method, beta = self.values["method"], self.values["beta"]
        r = self.results[method]
        i = _nearest_index(r["betas"], beta)
        u = r["units"]
        ax_spec, ax_alpha, ax_plane = self.figure.subplots(1, 3)
        lam, crit = r["eigenvalues"], r["critical_betas"]
        idx = np.arange(lam.size)
        active = crit <= r["betas"][i]
        ax_spec.bar(idx, lam, color=np.where(active, "C0", "0.7"))
        for k in idx:
            label = "inf" if np.isinf(crit[k]) else f"{crit[k]:.3g}"
            ax_spec.annotate(f"β_c={label}", (k, lam[k]), ha="center", va="bottom", fontsize=8)
        ax_spec.set_ylim(0, 1.2)
        ax_spec.set_xticks(idx)
        ax_spec.set_xlabel("direction i")
        ax_spec.set_ylabel("eigenvalue λ_i of Σ_x|y Σ_x⁻¹")
        ax_spec.set_title(f"{int(active.sum())} of {lam.size} directions active", fontsize=9)
        for k in idx:
            ax_alpha.plot(r["betas"], r["alphas"][:, k], label=f"α_{k}")
        for c in crit[np.isfinite(crit)]:
            ax_alpha.axvline(c, color="0.5", ls=":", lw=1)
        ax_alpha.axvline(r["betas"][i], color="C3", lw=1.5)
        ax_alpha.set_xscale("log")
        ax_alpha.set_xlabel("beta (dimensionless)")
        ax_alpha.set_ylabel("projection scale α_i")
        ax_alpha.legend(fontsize=7)
        ax_alpha.set_title(f"beta = {r['betas'][i]:.3g}", fontsize=9)
        for m, other in self.results.items():
            if m != method:
                ax_plane.plot(other["i_xt"], other["i_ty"], "-", color="0.75", lw=3, label=_METHOD_LABELS.get(m, m))
        ax_plane.plot(r["i_xt"], r["i_ty"], "C0-", label=_METHOD_LABELS.get(method, method))
        ax_plane.axhline(r["i_xy"], color="0.5", ls=":", lw=1, label="I(X;Y)")
        ax_plane.plot(r["i_xt"][i], r["i_ty"][i], "o", ms=9, mfc="none", mec="C3", mew=2)
        ax_plane.set_xlabel(f"I(X;T) [{u}]")
        ax_plane.set_ylabel(f"I(T;Y) [{u}]")
        ax_plane.legend(fontsize=7)
        ax_plane.set_title(f"I(X;T) = {r['i_xt'][i]:.3f}, I(T;Y) = {r['i_ty'][i]:.3f} {u}", fontsize=9)

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
        ax_a, ax_f = self.figure.subplots(1, 2, sharey=True)
        nngp, ntk = np.asarray(analytic.nngp)[0], np.asarray(analytic.ntk)[0]
        for ax in (ax_a, ax_f):
            ax.plot(self.angles, ntk, "C0-", lw=1.5, label="NTK (analytic)")
            ax.plot(self.angles, nngp, "C1-", lw=1.5, label="NNGP (analytic)")
            ax.set_xlabel("angle between inputs [rad]")
        ax_a.set_ylabel("kernel value [output units²]")
        v = self.values
        ax_a.set_title(f"{v['activation']}, depth {v['depth']}, w_std {v['w_std']:.2f}, b_std {self.b_std:.2f}", fontsize=9)
        ax_a.legend(fontsize=8)
        if finite is None:
            ax_f.text(0.5, 0.5, "finite-width ensemble needs torch\n(pip install ibtheory[torch])",
                      ha="center", va="center", transform=ax_f.transAxes)
            return
        m = self.n_networks
        for data, color, name in ((finite.ntk, "C0", "NTK"), (finite.nngp, "C1", "NNGP")):
            vals = np.asarray(data)[:, 0, :]  # (networks, angles)
            mean, se = vals.mean(axis=0), vals.std(axis=0, ddof=1) / np.sqrt(m)
            ax_f.fill_between(self.angles, mean - 2 * se, mean + 2 * se, color=color, alpha=0.25)
            ax_f.plot(self.angles, mean, color + "o", ms=2.5, label=f"{name}, mean of {m} nets")
        ax_f.set_title(f"finite width {self.width}: mean ± 2 s.e. over {m} networks", fontsize=9)
        ax_f.legend(fontsize=8)

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
        axes = np.atleast_1d(self.figure.subplots(1, len(self.planes), sharex=True, sharey=True))
        x_max = max(float(np.nanmax(p.i_xt)) for p in self.planes.values())
        y_max = max(float(np.nanmax(p.i_ty)) for p in self.planes.values())
        for ax, (name, plane) in zip(axes, self.planes.items(), strict=True):
            epochs = np.asarray(plane.epochs)
            r = max(int(np.searchsorted(epochs, self.values["epoch"], side="right")) - 1, 0)
            i_xt, i_ty = plane.i_xt.mean(axis=1), plane.i_ty.mean(axis=1)  # (R, L), mean over networks
            for layer in range(i_xt.shape[1]):
                ax.plot(i_xt[: r + 1, layer], i_ty[: r + 1, layer], "-", color=f"C{layer % 10}", lw=0.8, alpha=0.5)
                ax.plot(i_xt[r, layer], i_ty[r, layer], "o", color=f"C{layer % 10}", ms=6, label=f"layer {layer + 1}")
            ax.plot(i_xt[r], i_ty[r], "k-", lw=0.6)
            ax.set_xlim(0, 1.05 * x_max)
            ax.set_ylim(0, 1.05 * y_max)
            ax.set_xlabel(f"I(X;T) [{plane.units}]")
            ax.set_title(f"{name}: epoch {int(epochs[r])}", fontsize=9)
        axes[0].set_ylabel(f"I(T;Y) [{next(iter(self.planes.values())).units}]")
        axes[-1].legend(fontsize=7, loc="lower right")

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
