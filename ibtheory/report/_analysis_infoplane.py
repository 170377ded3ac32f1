"""Analysis "infoplane": the 12-bit information plane, tanh vs ReLU, and the gradient SNR phases.

Theory reference 5.1-5.6: Shwartz-Ziv & Tishby 2017 (tanh: fitting, then compression; drift then
diffusion of the minibatch gradients) and Saxe et al. 2018 (ReLU: no compression under binning).
Only library calls live here; the figures are :mod:`ibtheory.figures`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..figures import plot_gradient_phases, plot_information_planes
from ._report import Section
from ._reproduce import _savefig, _write_csv, analysis


@analysis("infoplane")
def twelve_bit_information_plane(out: Path, quick: bool, seed: int) -> Section:
    """Train tanh and ReLU 12-10-7-5-4-3-2 networks on the 12-bit task; binned information planes."""
    from ..infoplane import information_plane, train_networks
    from ..models import twelve_bit_split, twelve_bit_task

    # quick: a shortened schedule (larger learning rate) that still shows both phases in ~20 s
    if quick:
        fraction, n_epochs, lr, n_networks, n_record = 0.45, 200, 3e-3, 3, 15
    else:
        fraction, n_epochs, lr, n_networks, n_record = 0.85, 1500, 4e-4, 8, 30
    n_bins = 30
    x, y = twelve_bit_task()
    split = twelve_bit_split(x.shape[0], train_fraction=fraction, seed=seed)
    runs, planes = {}, {}
    for act in ("tanh", "relu"):
        run = train_networks(
            x, y, split.train, n_networks=n_networks, n_epochs=n_epochs, seed=seed,
            activation=act, learning_rate=lr, n_record=n_record,
        )
        value_range = (-1.0, 1.0) if act == "tanh" else "observed"
        runs[act] = run
        planes[act] = information_plane(
            run, y, estimator="binning", n_bins=n_bins, value_range=value_range
        )

    notes = {"tanh": "bins on (-1, 1)", "relu": "bins on observed range"}
    fig = plot_information_planes(
        [planes["tanh"], planes["relu"]], [f"{act}, {n_bins} {notes[act]}" for act in ("tanh", "relu")],
        figsize=(10.0, 4.0),
    )
    plane_png = _savefig(fig, out, "infoplane_tanh_vs_relu.png")
    snr_png = _savefig(
        plot_gradient_phases(runs["tanh"], title="gradient SNR, tanh"), out, "infoplane_snr_tanh.png"
    )

    columns: dict[str, np.ndarray] = {"epoch": runs["tanh"].record_epochs}
    for act in ("tanh", "relu"):
        i_xt = planes[act].i_xt.mean(axis=1)
        i_ty = planes[act].i_ty.mean(axis=1)
        for li in range(i_xt.shape[1]):
            columns[f"{act}_layer{li + 1}_i_xt_bits"] = i_xt[:, li]
            columns[f"{act}_layer{li + 1}_i_ty_bits"] = i_ty[:, li]
    data = _write_csv(out, "infoplane_12bit.csv", columns)

    findings = [f"I(X;Y) of the 12-bit rule: {planes['tanh'].h_y:.6f} bits (= H(Y), labels deterministic)"]
    for act in ("tanh", "relu"):
        i_xt = planes[act].i_xt.mean(axis=1)
        deep = i_xt.shape[1] - 2  # the last hidden layer (3 units)
        run = runs[act]
        findings.append(
            f"{act}: train/test accuracy {run.train_accuracy[-1].mean():.3f}/"
            f"{np.nanmean(run.test_accuracy[-1]):.3f}; layer {deep + 1} binned I(X;T) "
            f"{i_xt[0, deep]:.2f} (init) -> {i_xt[:, deep].max():.2f} (peak) -> "
            f"{i_xt[-1, deep]:.2f} bits (end)"
        )
    snr = runs["tanh"].snr.mean(axis=1)[:, 0]
    findings.append(
        f"tanh layer 1 gradient SNR: {snr[:5].mean():.2f} (epochs 1-5) -> "
        f"{snr[-max(n_epochs // 10, 1):].mean():.2f} (last 10% of epochs)"
    )
    return Section(
        title="Information plane of the 12-bit task: tanh vs ReLU",
        summary=(
            "12-10-7-5-4-3-2 networks trained with Adam on the 12-bit task (documented "
            "icosahedral rule), several seeds in one batched run; binned I(X;T), I(T;Y) of every "
            "layer at log-spaced epochs, averaged over networks (Shwartz-Ziv & Tishby 2017; "
            "Saxe et al. 2018), and the per-layer minibatch gradient mean/std (drift vs diffusion)."
        ),
        settings={
            "train fraction": fraction, "epochs": n_epochs, "learning rate": lr,
            "networks": n_networks, "batch size": 256, "bins": n_bins, "seed": seed,
        },
        figures=[plane_png, snr_png],
        data=[data],
        findings=findings,
    )
