"""Every figure of ibtheory: built on :class:`matplotlib.figure.Figure`, never on pyplot state.

The one plotting module: no other module constructs a Figure or draws on axes
(tests/test_architecture.py checks it). Each ``*_figure`` / ``*_thumbnail`` function takes results
of the library and returns a new Figure; the ``plot_*`` helpers draw onto axes the caller owns and
the ``draw_*_explorer`` functions redraw the figure an :mod:`ibtheory.explore` explorer owns.
:func:`figure_png` and :func:`figure_to_html` turn a figure into PNG bytes or an inline ``<img>``
(the HTML summaries of :mod:`ibtheory.display` and the explorers' still pictures).

Nothing here selects a backend, shows a window or writes a file: the report (or a notebook, or the
user) calls ``fig.savefig``. Importing this module or building a figure therefore leaves
``matplotlib.get_backend()`` and pyplot's figure list as they were (tests/test_figures.py checks
it), so a notebook's inline backend is never switched. This is a base-level module (it imports
only numpy, matplotlib and :mod:`ibtheory.numeric`); result classes are read by their public field
names. matplotlib is an optional extra, so modules below the front ends import this one lazily.

Layouts follow the papers whose results they show: information planes as Shwartz-Ziv & Tishby 2017
(one point per layer and epoch, coloured by epoch, the layers of one epoch joined by a line,
averages over networks); gradient phases as ibsgd (Saxe et al. 2018: per-layer gradient mean/std
norms and SNR against epoch, log-log); NTK ensembles as neural-tangents' examples.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullLocator

from .numeric import to_units

if TYPE_CHECKING:
    from .infoplane import InformationPlane, TrainingRun, VariationalSweep
    from .report.ntk_experiments import (
        EnsembleOverTime,
        KernelComparison,
        TrainedEnsembleErrors,
        WidthErrors,
    )

METHOD_LABELS = {"ib": "IB", "dualib": "dualIB"}

_MARKERS = "osD^v<>ph*"


def _log_ticks(ax: Any, values: Sequence[Any]) -> None:
    """Ticks at exactly ``values`` on a log axis, labelled as written, no minor ticks."""
    ax.set_xticks(list(values), [str(v) for v in values])
    ax.xaxis.set_minor_locator(NullLocator())


# ----------------------------------------------------------------------------- IB curves
def plot_curve(
    curve: Any, axes: Any, *, critical: Any = (), label: str | None = None, color: str | None = None
) -> None:
    """Draw an :class:`ibtheory.solvers.IBCurve` on two axes: the information plane and the
    effective cluster count against beta (local critical betas dotted, global transitions dashed)."""
    name = label or METHOD_LABELS.get(curve.method, curve.method)
    u = curve.units
    ax0, ax1 = axes
    (line,) = ax0.plot(curve.i_xt, curve.i_ty, "o-", ms=2.5, lw=1.5, label=name, color=color)
    c = line.get_color()
    ax0.set_xlabel(f"I(X;T) [{u}]")
    ax0.set_ylabel(f"I(T;Y) [{u}] (Markov decoder)")
    ax0.set_title("Information plane")
    betas, counts = curve.betas, curve.n_clusters
    if curve.transitions.size and curve.transitions.size == np.count_nonzero(np.diff(counts)):
        # step at the located transitions rather than at the next grid point
        betas = np.concatenate([betas[:1], curve.transitions, betas[-1:]])
        counts = np.concatenate([counts[:1], curve.transition_clusters[:, 1], counts[-1:]])
    ax1.step(betas, counts, where="post", color=c, lw=1.5, label=f"{name}: effective clusters")
    ax1.yaxis.set_major_locator(MaxNLocator(integer=True))
    for k, b in enumerate(np.asarray(critical, dtype=float)):
        ax1.axvline(b, color=c, ls=":", lw=1.2, label=f"{name}: local critical beta" if k == 0 else None)
    for k, b in enumerate(curve.transitions):
        ax1.axvline(
            b, color=c, ls="--", lw=0.8, alpha=0.7, label=f"{name}: global transition" if k == 0 else None
        )
    ax1.set_xscale("log")
    ax1.set_xlabel("beta (dimensionless)")
    ax1.set_ylabel("effective clusters")
    ax1.set_title("Clusters against beta")
    ax0.legend(fontsize=8)
    ax1.legend(fontsize=7)


def curves_figure(
    curves: Sequence[Any],
    criticals: Sequence[Any],
    *,
    title: str | None = None,
    figsize: tuple[float, float] = (11, 4.2),
) -> Figure:
    """IB curves (e.g. IB and dualIB of one joint) drawn by :func:`plot_curve` on one pair of axes."""
    fig = Figure(figsize=figsize)
    axes = fig.subplots(1, 2)
    for curve, critical in zip(curves, criticals, strict=True):
        plot_curve(curve, axes, critical=critical)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def gaussian_curves_figure(betas: Any, ib: Any, dual: Any) -> Figure:
    """Gaussian IB vs dualIB: information curves (left) and I(X;T) against beta with the critical
    betas dotted (right); ``ib``/``dual`` are :class:`ibtheory.gaussian` results on ``betas``."""
    fig = Figure(figsize=(10, 4))
    ax, ax_b = fig.subplots(1, 2)
    ax.plot(ib.i_xt, ib.i_ty, label="Gaussian IB", lw=2)
    ax.plot(dual.i_xt, dual.i_ty, "--", label="Gaussian dualIB", lw=2)
    ax.axhline(float(ib.i_xy), color="grey", lw=0.8, ls=":", label="I(X;Y)")
    ax.set_xlabel("I(X;T) [nats]")
    ax.set_ylabel("I(T;Y) [nats]")
    ax.set_title("Information curves")
    ax.legend()
    ax_b.semilogx(betas, ib.i_xt, label="IB: I(X;T)")
    ax_b.semilogx(betas, dual.i_xt, "--", label="dualIB: I(X;T)")
    for b in np.asarray(ib.critical_betas)[np.isfinite(ib.critical_betas)]:
        ax_b.axvline(b, color="C0", lw=0.8, ls=":")
    for b in np.asarray(dual.critical_betas)[np.isfinite(dual.critical_betas)]:
        ax_b.axvline(b, color="C1", lw=0.8, ls=":")
    ax_b.set_xlabel("beta (dimensionless)")
    ax_b.set_ylabel("I(X;T) [nats]")
    ax_b.set_title("Critical betas (dotted)")
    ax_b.legend()
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- NTK ensembles
def plot_information_over_time(info: Any, axes: Any = None) -> Figure:
    """Four panels over the finite positive times of an :class:`ibtheory.ntk.EnsembleInformation`:
    I(X;Z) bounds and InfoNCE, I(Z;Y) bounds, Gibbs/Bayes log-likelihoods (train, test), and the KL
    to the prior. Values at t = inf are drawn as dotted horizontal lines. Returns the figure."""
    if axes is None:
        axes = Figure(figsize=(11, 8)).subplots(2, 2)
    axes = np.asarray(axes).reshape(-1)
    fig = axes[0].figure
    t = info.times
    sel = (t > 0) & np.isfinite(t)
    u = info.units
    panels = [
        (axes[0], [("i_xz_lower", "I(X;Z) lower (Bhattacharyya)"), ("i_xz_upper", "I(X;Z) upper (KL)"),
                   ("infonce_lower", "InfoNCE lower"), ("infonce_upper", "leave-one-out upper")],
         f"I(X;Z) [{u}]", "Information about the input"),
        (axes[1], [("i_zy_lower", "I(Z;Y) lower"), ("i_zy_upper", "I(Z;Y) upper")], f"I(Z;Y) [{u}]",
         "Information about the label"),
        (axes[2], [("gibbs_loss_train", "Gibbs, train"), ("gibbs_loss_test", "Gibbs, test"),
                   ("bayes_loss_train", "Bayes, train"), ("bayes_loss_test", "Bayes, test")],
         f"log-likelihood per point [{u}]", "Gibbs and Bayes log-likelihoods"),
        (axes[3], [("kl_to_prior", "KL(q_t || q_0)")], f"KL per output [{u}]", "KL to the initial output distribution"),
    ]
    for ax, series, ylabel, title in panels:
        for k, (name, label) in enumerate(series):
            values = getattr(info, name)
            (line,) = ax.semilogx(t[sel], values[sel], label=label, lw=1.8, ls="-" if k % 2 == 0 else "--")
            if np.isinf(t[-1]):
                ax.axhline(values[-1], color=line.get_color(), lw=0.8, ls=":")
        if ax is axes[0]:
            ax.axhline(to_units(np.log(info.n_eval), u), color="grey", lw=0.8, ls="-.", label="ln N (maximum)")
        ax.set_xlabel("training time t [gradient steps, learning rate 1]")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def information_vs_train_size_figure(sizes: Any, sweep: Mapping[str, Any]) -> Figure:
    """I(X;Z) bounds, I(Z;Y) bounds and test log-likelihoods at t = inf against the training-set
    size; ``sweep`` is the dict of :func:`ibtheory.ntk.information_vs_train_size`."""
    fig = Figure(figsize=(13, 4))
    axes = fig.subplots(1, 3)
    ax = axes[0]
    ax.semilogx(sizes, sweep["i_xz_lower"], "o-", label="I(X;Z) lower (Bhattacharyya)")
    ax.semilogx(sizes, sweep["i_xz_upper"], "s--", label="I(X;Z) upper (KL)")
    ax.semilogx(sizes, sweep["infonce_lower"], "^-", label="InfoNCE lower")
    ax.set_ylabel("I(X;Z) [nats]")
    ax.set_title("Information about the input (t = inf)")
    ax = axes[1]
    ax.semilogx(sizes, sweep["i_zy_lower"], "o-", label="I(Z;Y) lower")
    ax.semilogx(sizes, sweep["i_zy_upper"], "s--", label="I(Z;Y) upper")
    ax.set_ylabel("I(Z;Y) [nats]")
    ax.set_title("Information about the label (t = inf)")
    ax = axes[2]
    ax.semilogx(sizes, sweep["gibbs_loss_test"], "o-", label="Gibbs, test")
    ax.semilogx(sizes, sweep["bayes_loss_test"], "s--", label="Bayes, test")
    ax.set_ylabel("log-likelihood per point [nats]")
    ax.set_title("Test log-likelihood (t = inf)")
    for ax in axes:
        _log_ticks(ax, np.asarray(sizes).tolist())
        ax.set_xlabel("training-set size n_train")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def information_vs_w_std_figure(w_stds: Any, sweep: Mapping[str, Any], times: Sequence[float]) -> Figure:
    """I(X;Z) bounds against the weight scale; ``sweep`` is the dict of
    :func:`ibtheory.ntk.information_vs_w_std` at ``times`` (one column per time)."""
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for j, t in enumerate(times):
        label = "inf" if np.isinf(t) else f"{t:g}"
        ax.semilogx(w_stds, sweep["i_xz_upper"][:, j], "s--" if j % 2 == 0 else "o-", label=f"I(X;Z) upper, t = {label}")
    ax.semilogx(w_stds, sweep["i_xz_lower"][:, -1], "o:", label="I(X;Z) lower, t = " + (
        "inf" if np.isinf(times[-1]) else f"{times[-1]:g}"))
    ax.set_xlabel("w_std")
    ax.set_ylabel("I(X;Z) [nats]")
    ax.legend()
    fig.tight_layout()
    return fig


def kernels_vs_angle_figure(gammas: Any, kernels: Mapping[tuple[str, int], Any]) -> Figure:
    """Analytic NTK and NNGP against the angle between two inputs; ``kernels[activation, depth]``
    is an :class:`ibtheory.ntk.FCKernels` between the first input and all of them (one panel per
    activation, solid/dashed for the first/second depth)."""
    activations = list(dict.fromkeys(a for a, _ in kernels))
    fig = Figure(figsize=(5 * len(activations), 3.8))
    axes = np.atleast_1d(fig.subplots(1, len(activations)))
    for ax, act in zip(axes, activations, strict=True):
        depths = [d for a, d in kernels if a == act]
        for depth, style in zip(depths, ("-", "--", ":", "-."), strict=False):
            k = kernels[act, depth]
            ax.plot(gammas, k.ntk[0], "C0" + style, label=f"NTK, depth {depth}")
            ax.plot(gammas, k.nngp[0], "C1" + style, label=f"NNGP, depth {depth}")
        ax.set_xlabel("angle between inputs [rad]")
        ax.set_ylabel("kernel value [output units²]")
        ax.set_title(act)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_ensemble_over_time(ens: EnsembleOverTime, ax: Any, *, finite: Any = None) -> None:
    """Mean +- 2 sd of the infinite ensemble at each time on the circle, the training targets, and
    optionally ``finite = (angles, means, label)`` of a trained finite ensemble."""
    for i, t in enumerate(ens.times):
        label = "t = inf" if np.isinf(t) else f"t = {t:g}"
        mean = ens.mean[i]
        ax.plot(ens.angles, mean, color=f"C{i}", label=f"mean ± 2 sd, {label}")
        lo, hi = mean - 2 * ens.sd[i], mean + 2 * ens.sd[i]
        if i == 0:  # the prior band is wide: outline only
            ax.plot(ens.angles, lo, color="C0", ls="--", lw=0.8)
            ax.plot(ens.angles, hi, color="C0", ls="--", lw=0.8)
        else:
            ax.fill_between(ens.angles, lo, hi, color=f"C{i}", alpha=0.2)
    ax.plot(ens.train_angles, ens.train_targets, "kx", ms=8, label="training targets sin(2a)")
    if finite is not None:
        angles, means, label = finite
        ax.plot(angles, means, "D", color="C2", mfc="none", label=label)
    ax.set_xlabel("input angle a [rad]")
    ax.set_ylabel("ensemble output f(x) [target units]")
    ax.set_title(f"Infinite ensemble over time (lr = {ens.learning_rate:.3g}, GD steps)")
    ax.set_ylim(-3.5, 3.5)
    ax.legend(fontsize=7, loc="lower left", ncol=2)


def plot_trained_ensemble_errors(trained: TrainedEnsembleErrors, ax: Any, *, depth: int) -> None:
    """Errors of trained finite ensembles against the infinite one, by width, log-log."""
    w = trained.widths
    ax.loglog(w, trained.mean_err, "o-", label="RMS |mean - infinite| [target units]")
    ax.loglog(w, trained.cov_err, "s-", label="max |cov - infinite| / max |cov| [dimensionless]")
    ax.loglog(w, trained.mean_err[0] * w[0] / np.asarray(w), "k--", lw=0.8, label="1/width")
    ax.axhline(trained.mc_floor, color="grey", ls=":",
               label=f"Monte-Carlo SE of the mean ({trained.n_networks} nets)")
    _log_ticks(ax, list(w))
    ax.set_xlabel("width [units]")
    ax.set_ylabel(f"error at t = {trained.time:g}")
    ax.set_title(f"Trained finite ensembles (depth {depth}) vs the infinite one")
    ax.legend(fontsize=8)


def ntk_kernels_and_ensemble_figure(
    kernels: KernelComparison,
    width_errors: WidthErrors,
    ensemble: EnsembleOverTime,
    trained: TrainedEnsembleErrors,
) -> Figure:
    """The four NTK experiments of :mod:`ibtheory.report.ntk_experiments` in one 2x2 figure."""
    fig = Figure(figsize=(11, 8))
    axes = fig.subplots(2, 2)
    ax = axes[0, 0]
    ax.plot(kernels.gammas, kernels.analytic_ntk, "C0", label="NTK, analytic")
    ax.plot(kernels.gammas, kernels.analytic_nngp, "C1", label="NNGP, analytic")
    ax.errorbar(kernels.sample_gammas, kernels.ntk_mean, yerr=2 * kernels.ntk_se, fmt="o", color="C0",
                label=f"NTK, width {kernels.width} (mean ± 2 SE, {kernels.n_networks} nets)")
    ax.errorbar(kernels.sample_gammas, kernels.nngp_mean, yerr=2 * kernels.nngp_se, fmt="s", color="C1",
                label=f"NNGP, width {kernels.width} (mean ± 2 SE)")
    ax.set_xlabel("angle between inputs gamma [rad]")
    ax.set_ylabel("kernel value [output units²]")
    ax.set_title(f"Kernels, {kernels.arch['activation'].replace('relu', 'ReLU')}, depth {kernels.arch['depth']}")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    w, rms = width_errors.widths, width_errors.rel_rms
    ax.loglog(w, rms, "o-", label="one network's empirical NTK")
    ax.loglog(w, rms[0] * (np.asarray(w) / w[0]) ** -0.5, "k--", lw=0.8, label="width^-1/2")
    _log_ticks(ax, list(w))
    ax.set_xlabel("width [units]")
    ax.set_ylabel("relative RMS error of NTK [dimensionless]")
    ax.set_title(f"Finite-width NTK error (fitted slope {width_errors.slope:.2f})")
    ax.legend(fontsize=8)
    plot_ensemble_over_time(
        ensemble, axes[1, 0],
        finite=(trained.probe_angles, trained.widest_mean,
                f"finite ensemble, width {trained.widths[-1]}, t = {trained.time:g}"),
    )
    plot_trained_ensemble_errors(trained, axes[1, 1], depth=int(kernels.arch["depth"]))
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- information planes
def plot_information_plane(
    plane: InformationPlane, *, ax: Any = None, title: str | None = None, colorbar: bool = True
) -> Figure:
    """One information plane: I(X;T) (x) vs I(T;Y) (y), averaged over networks, colour = epoch.

    Draws on ``ax`` when given (and returns its figure), else on a new Figure.
    """
    own_figure = ax is None
    if ax is None:
        fig = Figure(figsize=(5.0, 4.0))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    i_xt = plane.i_xt.mean(axis=1)  # (R, L)
    i_ty = plane.i_ty.mean(axis=1)
    epochs = np.maximum(plane.epochs, 1)
    norm = LogNorm(vmin=1, vmax=max(int(epochs.max()), 2))
    cmap = colormaps["viridis"]
    for r in range(i_xt.shape[0]):
        ax.plot(i_xt[r], i_ty[r], "-", color=cmap(norm(epochs[r])), lw=0.6, alpha=0.5)
    sc = None
    for li in range(i_xt.shape[1]):
        sc = ax.scatter(
            i_xt[:, li],
            i_ty[:, li],
            c=epochs,
            cmap=cmap,
            norm=norm,
            s=18,
            marker=_MARKERS[li % len(_MARKERS)],
            edgecolors="none",
            label=f"layer {li + 1}" + (" (softmax)" if li == i_xt.shape[1] - 1 else ""),
        )
    ax.set_xlabel(f"I(X;T) [{plane.units}]")
    ax.set_ylabel(f"I(T;Y) [{plane.units}]")
    ax.set_title(title or f"{plane.activation}, {plane.estimator}")
    ax.legend(fontsize=6, loc="lower right", markerscale=0.8)
    if colorbar and sc is not None:
        fig.colorbar(sc, ax=ax, label="epoch")
    if own_figure:
        fig.tight_layout()
    return fig


def plot_information_planes(
    planes: Sequence[InformationPlane],
    titles: Sequence[str],
    *,
    ncols: int | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Several information planes side by side (e.g. 5%, 45%, 85% training data)."""
    n = len(planes)
    ncols = ncols or n
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=figsize or (4.2 * ncols, 3.6 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, plane, title in zip(axes.ravel(), planes, titles, strict=False):
        plot_information_plane(plane, ax=ax, title=title, colorbar=True)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def sweep_information_planes(aggregated: Any, *, panel: str = "activation", units: str = "bits") -> Figure:
    """Information planes of an ``infoplane`` sweep averaged over seeds: one panel per value of
    ``panel``, one path per layer over the recorded epochs (the seed means, ``i_xt_mean`` and
    ``i_ty_mean``).

    ``aggregated`` is ``ibtheory.sweep.aggregate(ibtheory.sweep.load_dataset(out))`` (an
    ``xarray.Dataset``) with every grid axis other than ``panel`` already selected, e.g.
    ``agg.sel(architecture="10-7-5-4-3")``; layers that are NaN throughout (padding for shallower
    architectures) are skipped.
    """
    values = list(aggregated[panel].values)
    fig = Figure(figsize=(4.2 * len(values), 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(values), sharex=True, sharey=True))
    for ax, value in zip(axes, values, strict=True):
        sel = aggregated.sel({panel: value})
        i_xt = np.asarray(sel["i_xt_mean"].transpose("epoch", "layer"))
        i_ty = np.asarray(sel["i_ty_mean"].transpose("epoch", "layer"))
        for layer in range(i_xt.shape[1]):
            if np.all(np.isnan(i_xt[:, layer])):
                continue
            ax.plot(i_xt[:, layer], i_ty[:, layer], "o-", ms=3, color=f"C{layer % 10}", label=f"layer {layer + 1}")
        ax.set_title(f"{panel} = {value}", fontsize=9)
        ax.set_xlabel(f"I(X;T) [{units}]")
    axes[0].set_ylabel(f"I(T;Y) [{units}]")
    axes[0].legend(fontsize=7)
    return fig


def plot_gradient_phases(run: TrainingRun, *, title: str | None = None) -> Figure:
    """Per-layer gradient mean and std norms (left) and SNR (right) against epoch, log-log.

    Theory 5.5: drift phase (mean >> std, high SNR) then diffusion phase (std >> mean).
    Averaged over networks.
    """
    fig = Figure(figsize=(10.0, 4.0))
    ax0, ax1 = fig.subplots(1, 2)
    epochs = np.arange(1, run.n_epochs + 1)
    mean = run.grad_mean_norm.mean(axis=1)
    std = run.grad_std_norm.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = mean / std
    colors = colormaps["tab10"]
    for li in range(mean.shape[1]):
        c = colors(li % 10)
        ax0.loglog(epochs, mean[:, li], "-", color=c, lw=1.0, label=f"layer {li + 1} mean")
        ax0.loglog(epochs, std[:, li], "--", color=c, lw=1.0, label=f"layer {li + 1} std")
        ax1.loglog(epochs, snr[:, li], "-", color=c, lw=1.0, label=f"layer {li + 1}")
    ax0.set_xlabel("epoch")
    ax0.set_ylabel("gradient norm (weights, per minibatch)")
    ax0.set_title("mean (solid) and std (dashed) of minibatch gradients")
    ax0.legend(fontsize=6, ncol=2)
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("SNR = ||mean|| / ||std|| (dimensionless)")
    ax1.set_title(title or f"gradient SNR, {run.activation}")
    ax1.axhline(1.0, color="k", lw=0.6, ls=":")
    ax1.legend(fontsize=6)
    fig.tight_layout()
    return fig


def plot_variational_planes(results: Sequence[VariationalSweep], labels: Sequence[str]) -> Figure:
    """VIB vs VdualIB information planes side by side: I(Z;Y) vs I(X;Z), colour = log10 beta."""
    fig = Figure(figsize=(4.8 * len(results), 3.8))
    axes = fig.subplots(1, len(results), squeeze=False)
    all_b = np.concatenate([np.log10(np.asarray(r.betas, dtype=float)) for r in results])
    vmin, vmax = float(all_b.min()), float(all_b.max())
    for ax, res, lab in zip(axes.ravel(), results, labels, strict=True):
        sc = ax.scatter(
            res.i_xz,
            res.i_zy,
            c=np.log10(res.betas),
            cmap="plasma",
            vmin=vmin,
            vmax=vmax,
            s=30,
            label=f"{lab} (train)",
        )
        ax.set_xlabel(f"I(X;Z) estimate [{res.units}]")
        ax.set_ylabel(f"I(Z;Y) lower bound [{res.units}]")
        ax.set_title(lab)
        ax.axhline(res.h_y, color="k", ls=":", lw=0.8, label="H(Y)")
        ax.legend(fontsize=7, loc="lower right")
        fig.colorbar(sc, ax=ax, label="log10 beta")
    fig.tight_layout()
    return fig


def input_compression_figure(i_xt_bits: Any, epsilons: Mapping[int, Any]) -> Figure:
    """The input-compression bound eps against I(X;T) (bits), one line per training-set size m;
    ``epsilons[m]`` are the bound's values on ``i_xt_bits`` (theory.md 6)."""
    fig = Figure(figsize=(5, 3.5))
    ax = fig.subplots()
    for m, eps in epsilons.items():
        ax.semilogy(i_xt_bits, eps, label=f"m = {m}")
    ax.set_xlabel("I(X;T) [bits]")
    ax.set_ylabel("bound eps on the gap (dimensionless)")
    ax.legend()
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- images for HTML
#: Size (inches) and resolution of the thumbnails in result summaries: small enough for a table cell.
THUMB_SIZE = (3.4, 2.5)
THUMB_DPI = 80


def figure_png(fig: Figure, *, dpi: int = THUMB_DPI) -> bytes:
    """PNG bytes of a :class:`matplotlib.figure.Figure` (drawn with the Agg canvas, no pyplot)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def figure_to_html(fig: Figure, *, dpi: int = THUMB_DPI, alt: str = "figure") -> str:
    """An ``<img>`` tag holding the figure as an inline PNG."""
    data = base64.b64encode(figure_png(fig, dpi=dpi)).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}"/>'


# ----------------------------------------------------------------------------- result thumbnails
def _np(a: Any) -> np.ndarray:
    """A NumPy copy of an array or a torch tensor (results may hold either)."""
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=float)


def _thumbnail_axes() -> tuple[Figure, Any]:
    """A thumbnail-sized Figure with one axes."""
    fig = Figure(figsize=THUMB_SIZE, layout="constrained")
    return fig, fig.add_subplot()


def curve_thumbnail(curve: Any) -> Figure:
    """The information plane of an :class:`ibtheory.solvers.IBCurve`, thumbnail-sized."""
    fig, ax = _thumbnail_axes()
    u = curve.units
    ax.plot(curve.i_xt, curve.i_ty, "o-", ms=2, lw=1)
    ax.set_xlabel(f"I(X;T) [{u}]", fontsize=8)
    ax.set_ylabel(f"I(T;Y) [{u}]", fontsize=8)
    ax.tick_params(labelsize=7)
    return fig


def solution_thumbnail(solution: Any) -> Figure:
    """The encoder p(t|x) of an :class:`ibtheory.solvers.IBSolution` as a heat map, thumbnail-sized."""
    fig, ax = _thumbnail_axes()
    im = ax.imshow(_np(solution.p_t_given_x), aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0)
    ax.set_xlabel("t", fontsize=8)
    ax.set_ylabel("x", fontsize=8)
    ax.set_title("encoder p(t|x)", fontsize=8)
    ax.tick_params(labelsize=7)
    fig.colorbar(im, ax=ax)
    return fig


def gaussian_thumbnail(result: Any) -> Figure:
    """The information curve of an :class:`ibtheory.gaussian.GaussianIBResult` with I(X;Y) dotted."""
    fig, ax = _thumbnail_axes()
    u = result.units
    ax.plot(_np(result.i_xt), _np(result.i_ty), lw=1.2)
    ax.axhline(float(_np(result.i_xy)), color="0.5", ls=":", lw=1)
    ax.set_xlabel(f"I(X;T) [{u}]", fontsize=8)
    ax.set_ylabel(f"I(T;Y) [{u}]", fontsize=8)
    ax.tick_params(labelsize=7)
    return fig


def ntk_matrix_thumbnail(kernels: Any) -> Figure:
    """The NTK matrix of an :class:`ibtheory.ntk.FCKernels` as a heat map, thumbnail-sized."""
    fig, ax = _thumbnail_axes()
    im = ax.imshow(_np(kernels.ntk), cmap="magma")
    ax.set_title("NTK", fontsize=8)
    ax.tick_params(labelsize=7)
    fig.colorbar(im, ax=ax)
    return fig


def training_loss_thumbnail(ensemble: Any) -> Figure:
    """Mean training loss against time of an :class:`ibtheory.ntk.FiniteEnsemble`, thumbnail-sized."""
    fig, ax = _thumbnail_axes()
    ax.plot(_np(ensemble.times), _np(ensemble.train_loss).mean(axis=1), "o-", ms=2)
    ax.set_xlabel("time [steps]", fontsize=8)
    ax.set_ylabel("train loss", fontsize=8)
    ax.tick_params(labelsize=7)
    return fig


# ----------------------------------------------------------------------------- explorers
def explorer_figure(figsize: tuple[float, float]) -> Figure:
    """The empty Figure an :mod:`ibtheory.explore` explorer redraws on each update."""
    return Figure(figsize=figsize, layout="constrained")


def draw_ib_explorer(fig: Figure, curves: Mapping[str, Any], critical: Mapping[str, Any], method: str, i: int) -> None:
    """IB explorer on ``fig``: the information plane of ``curves[method]`` (other methods grey) with
    grid point ``i`` circled, its encoder p(t|x) as a heat map, and the cluster count against beta
    with the local critical betas ``critical[method]`` and the global transitions."""
    curve = curves[method]
    ax_plane, ax_enc, ax_k = fig.subplots(1, 3, width_ratios=[1.2, 0.9, 1.2])
    for m, other in curves.items():
        if m != method:
            ax_plane.plot(other.i_xt, other.i_ty, "-", color="0.75", lw=1, label=METHOD_LABELS.get(m, m))
    plot_curve(curve, (ax_plane, ax_k), critical=critical[method], color="C0")
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
    fig.colorbar(im, ax=ax_enc, label="p(t|x)")


def draw_gaussian_explorer(fig: Figure, results: Mapping[str, Mapping[str, Any]], method: str, i: int) -> None:
    """Gaussian explorer on ``fig``: eigen-spectrum (active directions coloured, critical betas
    annotated), projection scales alpha_i(beta) and the information curve, at grid point ``i``.
    ``results[method]`` holds a GaussianIBResult's fields as NumPy arrays sorted by beta."""
    r = results[method]
    u = r["units"]
    ax_spec, ax_alpha, ax_plane = fig.subplots(1, 3)
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
    for m, other in results.items():
        if m != method:
            ax_plane.plot(other["i_xt"], other["i_ty"], "-", color="0.75", lw=3, label=METHOD_LABELS.get(m, m))
    ax_plane.plot(r["i_xt"], r["i_ty"], "C0-", label=METHOD_LABELS.get(method, method))
    ax_plane.axhline(r["i_xy"], color="0.5", ls=":", lw=1, label="I(X;Y)")
    ax_plane.plot(r["i_xt"][i], r["i_ty"][i], "o", ms=9, mfc="none", mec="C3", mew=2)
    ax_plane.set_xlabel(f"I(X;T) [{u}]")
    ax_plane.set_ylabel(f"I(T;Y) [{u}]")
    ax_plane.legend(fontsize=7)
    ax_plane.set_title(f"I(X;T) = {r['i_xt'][i]:.3f}, I(T;Y) = {r['i_ty'][i]:.3f} {u}", fontsize=9)


def draw_ntk_explorer(
    fig: Figure,
    angles: Any,
    analytic: Any,
    finite: Any,
    *,
    activation: str,
    depth: int,
    w_std: float,
    b_std: float,
    width: int,
    n_networks: int,
) -> None:
    """NTK explorer on ``fig``: analytic NTK and NNGP (an :class:`ibtheory.ntk.FCKernels` between the
    first input and all) against the angle, and beside them the empirical kernels ``finite`` of
    ``n_networks`` networks (mean ± 2 standard errors; a note where ``finite`` is None, no torch)."""
    ax_a, ax_f = fig.subplots(1, 2, sharey=True)
    nngp, ntk = np.asarray(analytic.nngp)[0], np.asarray(analytic.ntk)[0]
    for ax in (ax_a, ax_f):
        ax.plot(angles, ntk, "C0-", lw=1.5, label="NTK (analytic)")
        ax.plot(angles, nngp, "C1-", lw=1.5, label="NNGP (analytic)")
        ax.set_xlabel("angle between inputs [rad]")
    ax_a.set_ylabel("kernel value [output units²]")
    ax_a.set_title(f"{activation}, depth {depth}, w_std {w_std:.2f}, b_std {b_std:.2f}", fontsize=9)
    ax_a.legend(fontsize=8)
    if finite is None:
        ax_f.text(0.5, 0.5, "finite-width ensemble needs torch\n(pip install ibtheory[torch])",
                  ha="center", va="center", transform=ax_f.transAxes)
        return
    m = n_networks
    for data, color, name in ((finite.ntk, "C0", "NTK"), (finite.nngp, "C1", "NNGP")):
        vals = np.asarray(data)[:, 0, :]  # (networks, angles)
        mean, se = vals.mean(axis=0), vals.std(axis=0, ddof=1) / np.sqrt(m)
        ax_f.fill_between(angles, mean - 2 * se, mean + 2 * se, color=color, alpha=0.25)
        ax_f.plot(angles, mean, color + "o", ms=2.5, label=f"{name}, mean of {m} nets")
    ax_f.set_title(f"finite width {width}: mean ± 2 s.e. over {m} networks", fontsize=9)
    ax_f.legend(fontsize=8)


def draw_infoplane_player(fig: Figure, planes: Mapping[str, InformationPlane], epoch: int) -> None:
    """Information-plane player on ``fig``: one panel per plane (averaged over networks), every
    layer's path up to the last recorded epoch at or before ``epoch``, the layers there joined."""
    axes = np.atleast_1d(fig.subplots(1, len(planes), sharex=True, sharey=True))
    x_max = max(float(np.nanmax(p.i_xt)) for p in planes.values())
    y_max = max(float(np.nanmax(p.i_ty)) for p in planes.values())
    for ax, (name, plane) in zip(axes, planes.items(), strict=True):
        epochs = np.asarray(plane.epochs)
        r = max(int(np.searchsorted(epochs, epoch, side="right")) - 1, 0)
        i_xt, i_ty = plane.i_xt.mean(axis=1), plane.i_ty.mean(axis=1)  # (R, L), mean over networks
        for layer in range(i_xt.shape[1]):
            ax.plot(i_xt[: r + 1, layer], i_ty[: r + 1, layer], "-", color=f"C{layer % 10}", lw=0.8, alpha=0.5)
            ax.plot(i_xt[r, layer], i_ty[r, layer], "o", color=f"C{layer % 10}", ms=6, label=f"layer {layer + 1}")
        ax.plot(i_xt[r], i_ty[r], "k-", lw=0.6)
        # an all-zero plane (a network that learned nothing) still needs a non-empty axis range
        ax.set_xlim(0, 1.05 * x_max if x_max > 0 else 1.0)
        ax.set_ylim(0, 1.05 * y_max if y_max > 0 else 1.0)
        ax.set_xlabel(f"I(X;T) [{plane.units}]")
        ax.set_title(f"{name}: epoch {int(epochs[r])}", fontsize=9)
    axes[0].set_ylabel(f"I(T;Y) [{next(iter(planes.values())).units}]")
    axes[-1].legend(fontsize=7, loc="lower right")
