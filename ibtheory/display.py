"""Rich display of results in Jupyter: a compact HTML summary per result class (``_repr_html_``).

Result classes attach :func:`repr_html` with one line (``_repr_html_ = repr_html``). This module is
a leaf: it imports nothing from the algorithm layers (it reads the results' public fields by name),
so solvers can import it without an upward import. The small figures in the summaries are the
``*_thumbnail`` functions of :mod:`ibtheory.figures`, imported only when a summary is rendered
(so importing a solver imports neither matplotlib nor ibtheory.figures); matplotlib is optional,
and without it the summary is text only.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from types import ModuleType

    from matplotlib.figure import Figure

__all__ = ["repr_html"]

#: Kernel values (NNGP, NTK) have the units of the squared network output.
KERNEL_UNITS = "output units²"


def _np(a: Any) -> np.ndarray:
    """A NumPy copy of an array or a torch tensor (results may hold either)."""
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=float)


def _fmt(x: Any, digits: int = 4) -> str:
    x = float(x)
    return "inf" if np.isinf(x) else f"{x:.{digits}g}"


def _fmt_list(a: Any, digits: int = 4, limit: int = 6) -> str:
    vals = [_fmt(v, digits) for v in np.ravel(_np(a))]
    if not vals:
        return "none"
    more = f", … ({len(vals)} in all)" if len(vals) > limit else ""
    return ", ".join(vals[:limit]) + more


def _thumbnail(build: Callable[[ModuleType], Figure], alt: str) -> str:
    """``build(ibtheory.figures)`` as an <img>; '' when matplotlib is not installed."""
    try:
        from . import figures
    except ImportError:  # matplotlib is an optional extra
        return ""
    return figures.figure_to_html(build(figures), alt=alt)


def _table(title: str, rows: list[tuple[str, str]], picture: str = "") -> str:
    cells = "".join(
        f'<tr><th style="text-align:left;padding-right:1em">{html.escape(k)}</th>'
        f'<td style="text-align:left">{html.escape(v)}</td></tr>'
        for k, v in rows
    )
    table = f"<table><caption style='text-align:left'><b>{html.escape(title)}</b></caption>{cells}</table>"
    if not picture:
        return f'<div class="ibtheory-summary">{table}</div>'
    return (
        '<div class="ibtheory-summary" style="display:flex;gap:1em;align-items:flex-start">'
        f"{table}<div>{picture}</div></div>"
    )


_METHOD = {"ib": "IB", "dualib": "dualIB"}


def _curve(c: Any) -> str:
    u = c.units
    conv = np.asarray(c.converged, dtype=bool)
    rows = [
        ("betas", f"{len(c.betas)} from {_fmt(c.betas[0])} to {_fmt(c.betas[-1])} (dimensionless)"),
        ("I(X;T)", f"{_fmt(np.min(c.i_xt))} … {_fmt(np.max(c.i_xt))} {u}"),
        ("I(T;Y)", f"{_fmt(np.min(c.i_ty))} … {_fmt(np.max(c.i_ty))} {u} (Markov decoder)"),
        ("effective clusters", f"{int(np.min(c.n_clusters))} … {int(np.max(c.n_clusters))}"),
        # the free estimates: reading c.transitions here would run their bisection (seconds) on display
        ("global transitions (beta)", f"{_fmt_list(c.transition_estimates)} (estimates; curve.transitions locates them)"),
        ("converged", f"{int(conv.sum())} of {conv.size} betas"),
    ]

    return _table(f"{_METHOD.get(c.method, c.method)} curve (IBCurve)", rows,
                  _thumbnail(lambda f: f.curve_thumbnail(c), "information plane"))


def _solution(s: Any) -> str:
    u = s.units
    rows = [
        ("beta", f"{_fmt(s.beta)} (dimensionless)"),
        ("I(X;T)", f"{_fmt(s.i_xt)} {u}"),
        ("I(T;Y)", f"{_fmt(s.i_ty)} {u}"),
        ("objective", f"{_fmt(s.objective)} {u}"),
        ("effective clusters", f"{int(s.n_clusters)} (encoder {np.shape(s.p_t_given_x)[0]} x {np.shape(s.p_t_given_x)[1]})"),
        ("converged", f"{bool(s.converged)} after {int(s.n_iter)} alternations (residual {_fmt(s.residual, 3)})"),
    ]

    return _table(f"{_METHOD.get(s.method, s.method)} solution (IBSolution)", rows,
                  _thumbnail(lambda f: f.solution_thumbnail(s), "encoder"))


def _gaussian(g: Any) -> str:
    u = g.units
    betas, i_xt = _np(g.betas), _np(g.i_xt)
    rows = [
        ("betas", f"{betas.size} from {_fmt(betas.min())} to {_fmt(betas.max())} (dimensionless)"),
        ("eigenvalues λ_i", _fmt_list(g.eigenvalues)),
        ("canonical correlations ρ_i", _fmt_list(g.canonical_correlations)),
        ("critical betas", _fmt_list(g.critical_betas)),
        ("I(X;Y)", f"{_fmt(_np(g.i_xy))} {u}"),
        ("I(X;T) at the largest beta", f"{_fmt(i_xt[np.argmax(betas)])} {u}"),
        ("backend", str(g.backend)),
    ]

    title = f"Gaussian {_METHOD.get(g.method, g.method)} (GaussianIBResult)"
    return _table(title, rows, _thumbnail(lambda f: f.gaussian_thumbnail(g), "information curve"))


def _fc_kernels(k: Any) -> str:
    nngp, ntk = _np(k.nngp), _np(k.ntk)
    rows = [
        ("architecture", f"depth {k.depth}, {k.activation}, w_std {_fmt(k.w_std)}, b_std {_fmt(k.b_std)}"),
        ("shape", f"{nngp.shape[0]} x {nngp.shape[1]}" + (" (symmetric)" if k.symmetric else "")),
        ("NNGP range", f"{_fmt(nngp.min())} … {_fmt(nngp.max())} {KERNEL_UNITS}"),
        ("NTK range", f"{_fmt(ntk.min())} … {_fmt(ntk.max())} {KERNEL_UNITS}"),
        ("backend", str(k.backend)),
    ]
    picture = ""
    if k.symmetric and nngp.shape[0] > 1:
        picture = _thumbnail(lambda f: f.ntk_matrix_thumbnail(k), "NTK matrix")
    return _table("NNGP / NTK kernels (FCKernels)", rows, picture)


def _ensemble_prediction(p: Any) -> str:
    mean = _np(p.mean)
    ev = _np(p.ntk_eigenvalues)
    rows = [
        ("times", f"{_fmt_list(p.times)} (gradient steps of size learning_rate)"),
        ("outputs", f"{mean.shape[1]} inputs x {mean.shape[2]} outputs"
                    + (" (training set)" if p.on_train else " (test set)")),
        ("training NTK eigenvalues", f"{_fmt(ev.min())} … {_fmt(ev.max())} {KERNEL_UNITS}"),
        ("learning rate", _fmt(p.learning_rate)),
        ("diag_reg", _fmt(p.diag_reg)),
    ]
    return _table("Infinite-ensemble prediction (EnsemblePrediction)", rows)


def _finite_ensemble(f: Any) -> str:
    loss = _np(f.train_loss)
    rows = [
        ("networks", f"{int(f.n_networks)} of width {int(f.width)} (seed {f.seed})"),
        ("times", f"{_fmt_list(f.times)} (gradient steps of size learning_rate)"),
        ("mean train loss", f"{_fmt(loss[0].mean())} → {_fmt(loss[-1].mean())} (MSE / 2nk, output units²)"),
    ]
    picture = ""
    if loss.shape[0] > 1:
        picture = _thumbnail(lambda fig: fig.training_loss_thumbnail(f), "training loss")
    return _table("Finite-width ensemble (FiniteEnsemble)", rows, picture)


def _ensemble_information(e: Any) -> str:
    u = e.units
    rows = [
        ("times", _fmt_list(e.times)),
        ("I(X;Z) bounds", f"{_fmt(e.i_xz_lower[-1])} … {_fmt(e.i_xz_upper[-1])} {u} at the last time"),
        ("I(Z;Y) bounds", f"{_fmt(e.i_zy_lower[-1])} … {_fmt(e.i_zy_upper[-1])} {u} at the last time"),
        ("sizes", f"{e.n_train} train, {e.n_eval} eval, {e.n_out} outputs"),
    ]
    return _table("Infinite-ensemble information (EnsembleInformation)", rows)


_RENDERERS: dict[str, Callable[[Any], str]] = {
    "IBCurve": _curve,
    "IBSolution": _solution,
    "GaussianIBResult": _gaussian,
    "FCKernels": _fc_kernels,
    "EnsemblePrediction": _ensemble_prediction,
    "FiniteEnsemble": _finite_ensemble,
    "EnsembleInformation": _ensemble_information,
}


def repr_html(self: Any) -> str:
    """The HTML summary of a result object (key numbers with units, a small figure where useful).

    Attach it to a result class as ``_repr_html_ = repr_html``; Jupyter calls it to display the
    object. Raises ``TypeError`` for a class that has no summary.
    """
    name = type(self).__name__
    try:
        render = _RENDERERS[name]
    except KeyError:
        raise TypeError(f"no HTML summary for {name}; known: {sorted(_RENDERERS)}") from None
    return render(self)
