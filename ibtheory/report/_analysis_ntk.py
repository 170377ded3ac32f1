"""Analysis "ntk": analytic NNGP/NTK vs finite width, and the infinite ensemble's prediction over time.

The experiments are :mod:`ibtheory.report.ntk_experiments` (shared with notebook 05), the figure
:func:`ibtheory.figures.ntk_kernels_and_ensemble_figure`; every setting is stated in the section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..figures import ntk_kernels_and_ensemble_figure
from ._report import Section
from ._reproduce import _savefig, _write_csv, analysis
from .ntk_experiments import (
    EnsembleOverTime,
    KernelComparison,
    TrainedEnsembleErrors,
    WidthErrors,
    compare_kernels,
    ensemble_over_time,
    ntk_width_errors,
    trained_ensemble_errors,
)

#: Architecture shared by every panel (theory.md 7.1: NTK parameterisation, neural-tangents conventions).
ARCH: dict[str, Any] = {"depth": 1, "activation": "relu", "w_std": 1.5, "b_std": 0.1}


@analysis("ntk")
def ntk_kernels_and_ensemble(out: Path, quick: bool, seed: int) -> Section:
    """NNGP/NTK analytic vs sampled finite networks; infinite-ensemble mean and band over time
    (theory.md 4.1, 7); finite-width ensembles trained by gradient descent converging to it."""
    n_nets = 100 if quick else 400
    widths = [16, 64, 256] if quick else [16, 64, 256, 1024]
    train_widths = [2, 4, 8, 16, 64, 256]
    n_trained = 400
    t_fin = 20.0

    kernels = compare_kernels(ARCH, n_networks=n_nets, width=64, seed=seed)
    width_errors = ntk_width_errors(ARCH, widths, n_networks=n_nets, seed=seed + 1)
    ens = ensemble_over_time(ARCH, [0.0, 2.0, 20.0, np.inf], n_test=100 if quick else 300, seed=seed)
    trained = trained_ensemble_errors(
        ens, ARCH, train_widths, n_networks=n_trained, time=t_fin, seed=seed + 2, dt=0.5
    )
    fig_name = _savefig(
        ntk_kernels_and_ensemble_figure(kernels, width_errors, ens, trained), out, "ntk_kernels_and_ensemble.png"
    )
    return _ntk_section(out, seed, kernels, width_errors, ens, trained, fig_name)


def _ntk_section(
    out: Path,
    seed: int,
    kernels: KernelComparison,
    width_errors: WidthErrors,
    ens: EnsembleOverTime,
    trained: TrainedEnsembleErrors,
    fig_name: str,
) -> Section:
    """Write the experiments' data and state their settings and findings."""
    times, lr = ens.times, ens.learning_rate
    widths, rms, slope = width_errors.widths.tolist(), width_errors.rel_rms, width_errors.slope
    train_widths, t_fin = trained.widths.tolist(), trained.time
    data = [
        _write_csv(out, "ntk_kernels_vs_angle.csv", {
            "gamma": kernels.gammas, "nngp": kernels.analytic_nngp, "ntk": kernels.analytic_ntk,
        }),
        _write_csv(out, "ntk_width_errors.csv", {"width": widths, "ntk_rel_rms_one_network": rms}),
        _write_csv(out, "ntk_trained_ensemble_errors.csv", {
            "width": train_widths, "rms_mean_err": trained.mean_err, "max_rel_cov_err": trained.cov_err,
        }),
        _write_csv(out, "ntk_ensemble_over_time.csv", {
            "angle": ens.angles, **{f"mean_t{t:g}": ens.mean[i] for i, t in enumerate(times)},
            **{f"sd_t{t:g}": ens.sd[i] for i, t in enumerate(times)},
        }),
    ]
    z_ntk = np.abs(kernels.ntk_z)
    return Section(
        title="NTK: analytic kernels vs finite width, and the infinite ensemble over training time",
        summary=(
            "Analytic NNGP/NTK of a fully connected ReLU network (neural-tangents conventions; "
            "ibtheory.ntk.fc_kernels) against sampled finite networks, and the Gaussian output of the "
            "infinite ensemble trained by gradient flow on MSE (theory.md 4.1; ensemble_prediction) with "
            "finite-width ensembles trained by gradient descent in torch (finite_ensemble)."
        ),
        settings={
            **ARCH, "seed": seed, "networks per kernel estimate": kernels.n_networks, "kernel widths": widths,
            "trained networks per width": trained.n_networks, "trained widths": train_widths,
            "inputs": "sqrt(2) (cos a, sin a) on the circle (input kernel cos of the angle difference)",
            "training set": f"{ens.train_angles.size} angles uniform in [0, 2 pi), y = sin(2a)",
            "learning rate": f"{lr:.6g} = eta_max / 2", "times (GD steps)": [float(t) for t in times],
            "finite training": f"dt = 0.5 (step {0.5 * lr:.3g}), compared at t = {t_fin:g}",
        },
        figures=[fig_name],
        data=data,
        findings=[
            f"width-{kernels.width} empirical NTK vs analytic: max |z| = {float(np.max(z_ntk)):.2f} standard errors "
            f"over {kernels.sample_gammas.size} angles "
            "(depth 1: unbiased)",
            f"one network's NTK relative RMS error vs width {widths}: {np.round(rms, 4).tolist()}; log-log slope {slope:.3f} "
            "(theory: -1/2)",
            f"ensemble at t = inf fits the training targets: max |mean - y| = {ens.train_fit_error:.1e}",
            f"trained finite ensembles at t = {t_fin:g}, widths {train_widths}: RMS mean error "
            f"{np.round(trained.mean_err, 4).tolist()} (Monte-Carlo SE {trained.mc_floor:.4f}), max relative cov error "
            f"{np.round(trained.cov_err, 3).tolist()}",
        ],
    )
