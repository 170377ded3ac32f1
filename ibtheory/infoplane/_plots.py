"""Information-plane and gradient-phase figures (matplotlib, Agg; figures are returned, never shown).

Layouts follow Shwartz-Ziv & Tishby 2017 (information plane: one point per layer and epoch,
coloured by epoch, the layers of one epoch joined by a line; averages over networks) and ibsgd
(Saxe et al. 2018: per-layer gradient mean / std norms and SNR against epoch on log-log axes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from ._information import InformationPlane
from ._training import TrainingRun

_MARKERS = "osD^v<>ph*"


def plot_information_plane(
    plane: InformationPlane, *, ax: Any = None, title: str | None = None, colorbar: bool = True
) -> Figure:
    """One information plane: I(X;T) (x) vs I(T;Y) (y), averaged over networks, colour = epoch."""
    own_figure = ax is None
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.0, 4.0))
    else:
        fig = ax.figure
    i_xt = plane.i_xt.mean(axis=1)  # (R, L)
    i_ty = plane.i_ty.mean(axis=1)
    epochs = np.maximum(plane.epochs, 1)
    norm = LogNorm(vmin=1, vmax=max(int(epochs.max()), 2))
    cmap = plt.get_cmap("viridis")
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
    planes: Sequence[InformationPlane], titles: Sequence[str], *, ncols: int | None = None
) -> Figure:
    """Several information planes side by side (e.g. 5%, 45%, 85% training data)."""
    n = len(planes)
    ncols = ncols or n
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.2 * ncols, 3.6 * nrows), squeeze=False
    )
    for ax, plane, title in zip(axes.ravel(), planes, titles, strict=False):
        plot_information_plane(plane, ax=ax, title=title, colorbar=True)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_gradient_phases(run: TrainingRun, *, title: str | None = None) -> Figure:
    """Per-layer gradient mean and std norms (left) and SNR (right) against epoch, log-log.

    Theory 5.5: drift phase (mean >> std, high SNR) then diffusion phase (std >> mean).
    Averaged over networks.
    """
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10.0, 4.0))
    epochs = np.arange(1, run.n_epochs + 1)
    mean = run.grad_mean_norm.mean(axis=1)
    std = run.grad_std_norm.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = mean / std
    colors = plt.get_cmap("tab10")
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


def plot_variational_planes(results: Sequence[Any], labels: Sequence[str]) -> Figure:
    """VIB vs VdualIB information planes side by side: I(Z;Y) vs I(X;Z), colour = log10 beta."""
    fig, axes = plt.subplots(
        1, len(results), figsize=(4.8 * len(results), 3.8), squeeze=False
    )
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
