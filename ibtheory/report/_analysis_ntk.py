"""Analysis "ntk": analytic NNGP/NTK vs finite width, and the infinite ensemble's prediction over time.

Only library calls (:mod:`ibtheory.ntk`) and drawing; every setting is stated in the section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ._report import Section
from ._reproduce import _savefig, _write_csv, analysis

#: Architecture shared by every panel (theory.md 7.1: NTK parameterisation, neural-tangents conventions).
ARCH: dict[str, Any] = {"depth": 1, "activation": "relu", "w_std": 1.5, "b_std": 0.1}


def _circle(angles: np.ndarray) -> np.ndarray:
    """Points sqrt(2) (cos a, sin a): the input kernel x.x'/d is cos(a - a')."""
    return np.sqrt(2.0) * np.column_stack([np.cos(angles), np.sin(angles)])


@analysis("ntk")
def ntk_kernels_and_ensemble(out: Path, quick: bool, seed: int) -> Section:
    """NNGP/NTK analytic vs sampled finite networks; infinite-ensemble mean and band over time
    (theory.md 4.1, 7); finite-width ensembles trained by gradient descent converging to it."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    from ..ntk import (
        empirical_kernels,
        ensemble_prediction,
        fc_kernels,
        finite_ensemble,
        max_learning_rate,
    )

    rng = np.random.default_rng(seed)
    n_nets = 100 if quick else 400
    widths = [16, 64, 256] if quick else [16, 64, 256, 1024]
    train_widths = [2, 4, 8, 16, 64, 256]
    n_trained = 400

    # (1) Kernels between x0 = angle 0 and points at angle gamma, analytic vs finite width.
    gammas = np.linspace(0.0, np.pi, 200)
    x_grid = _circle(gammas)
    analytic = fc_kernels(x_grid[:1], x_grid, **ARCH)
    g_emp = np.linspace(0.0, np.pi, 7)
    emp = empirical_kernels(_circle(g_emp[:1]), _circle(g_emp), n_networks=n_nets, width=64, seed=seed, **ARCH)
    emp_ntk_mean = emp.ntk.mean(axis=0)[0]
    emp_ntk_se = emp.ntk.std(axis=0, ddof=1)[0] / np.sqrt(n_nets)
    emp_nngp_mean = emp.nngp.mean(axis=0)[0]
    emp_nngp_se = emp.nngp.std(axis=0, ddof=1)[0] / np.sqrt(n_nets)
    exact_at_emp = fc_kernels(_circle(g_emp[:1]), _circle(g_emp), **ARCH)

    # (2) One network's NTK error vs width (expected ~ width^-1/2).
    x_small = _circle(np.array([0.0, 1.0, 2.0, 3.0]))
    theta_exact = fc_kernels(x_small, **ARCH).ntk
    rms = []
    for w in widths:
        e = empirical_kernels(x_small, n_networks=n_nets, width=w, seed=seed + 1, **ARCH)
        rms.append(float(np.sqrt(np.mean((e.ntk - theta_exact) ** 2)) / np.sqrt(np.mean(theta_exact**2))))
    slope = float(np.polyfit(np.log(widths), np.log(rms), 1)[0])

    # (3) Infinite ensemble on a regression problem on the circle, mean and band over time.
    n_train = 8
    a_train = np.sort(rng.uniform(0.0, 2 * np.pi, n_train))
    x_train = _circle(a_train)
    y_train = np.sin(2 * a_train)[:, None]
    a_test = np.linspace(0.0, 2 * np.pi, 100 if quick else 300)
    x_test = _circle(a_test)
    eta_max = max_learning_rate(fc_kernels(x_train, **ARCH).ntk)
    lr = 0.5 * eta_max  # half the largest stable GD step, so finite networks train stably
    times = np.array([0.0, 2.0, 20.0, np.inf])
    ens = ensemble_prediction(x_train, y_train, x_test, times, learning_rate=lr, **ARCH)
    sd = np.sqrt(np.clip(np.diagonal(ens.cov, axis1=1, axis2=2), 0.0, None))

    # (4) Finite ensembles trained by GD at t = 20 on a few test points vs the infinite ensemble.
    t_fin = 20.0
    a_probe = np.linspace(0.3, 2 * np.pi - 0.3, 6)
    ref = ensemble_prediction(x_train, y_train, _circle(a_probe), [t_fin], learning_rate=lr, **ARCH)
    mean_err, cov_err, fe_curve = [], [], None
    for w in train_widths:
        fe = finite_ensemble(
            x_train, y_train, _circle(a_probe), [t_fin], n_networks=n_trained, width=w, learning_rate=lr,
            seed=seed + 2, dt=0.5, **ARCH,
        )
        mean_err.append(float(np.sqrt(np.mean((fe.mean[0, :, 0] - ref.mean[0, :, 0]) ** 2))))
        cov_err.append(float(np.max(np.abs(fe.cov[0] - ref.cov[0])) / np.max(np.abs(ref.cov[0]))))
        fe_curve = fe
    # RMS standard error of an ensemble mean of n_trained networks (the Monte-Carlo floor).
    mc_floor = float(np.sqrt(np.mean(np.diagonal(ref.cov[0]) / n_trained)))

    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    ax = axes[0, 0]
    ax.plot(gammas, analytic.ntk[0], "C0", label="NTK, analytic")
    ax.plot(gammas, analytic.nngp[0], "C1", label="NNGP, analytic")
    ax.errorbar(g_emp, emp_ntk_mean, yerr=2 * emp_ntk_se, fmt="o", color="C0", label=f"NTK, width 64 (mean ± 2 SE, {n_nets} nets)")
    ax.errorbar(g_emp, emp_nngp_mean, yerr=2 * emp_nngp_se, fmt="s", color="C1", label="NNGP, width 64 (mean ± 2 SE)")
    ax.set_xlabel("angle between inputs gamma [rad]")
    ax.set_ylabel("kernel value [output units²]")
    ax.set_title(f"Kernels, ReLU, depth {ARCH['depth']}")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.loglog(widths, rms, "o-", label="one network's empirical NTK")
    ax.loglog(widths, rms[0] * (np.array(widths) / widths[0]) ** -0.5, "k--", lw=0.8, label="width^-1/2")
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("width [units]")
    ax.set_ylabel("relative RMS error of NTK [dimensionless]")
    ax.set_title(f"Finite-width NTK error (fitted slope {slope:.2f})")
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    for i, t in enumerate(times):
        label = "t = inf" if np.isinf(t) else f"t = {t:g}"
        ax.plot(a_test, ens.mean[i, :, 0], color=f"C{i}", label=f"mean ± 2 sd, {label}")
        lo, hi = ens.mean[i, :, 0] - 2 * sd[i], ens.mean[i, :, 0] + 2 * sd[i]
        if i == 0:  # the prior band is wide: outline only
            ax.plot(a_test, lo, color="C0", ls="--", lw=0.8)
            ax.plot(a_test, hi, color="C0", ls="--", lw=0.8)
        else:
            ax.fill_between(a_test, lo, hi, color=f"C{i}", alpha=0.2)
    ax.plot(a_train, y_train[:, 0], "kx", ms=8, label="training targets sin(2a)")
    if fe_curve is not None:
        ax.plot(a_probe, fe_curve.mean[0, :, 0], "D", color="C2", mfc="none",
                label=f"finite ensemble, width {train_widths[-1]}, t = {t_fin:g}")
    ax.set_xlabel("input angle a [rad]")
    ax.set_ylabel("ensemble output f(x) [target units]")
    ax.set_title(f"Infinite ensemble over time (lr = {lr:.3g}, GD steps)")
    ax.set_ylim(-3.5, 3.5)
    ax.legend(fontsize=7, loc="lower left", ncol=2)
    ax = axes[1, 1]
    ax.loglog(train_widths, mean_err, "o-", label="RMS |mean - infinite| [target units]")
    ax.loglog(train_widths, cov_err, "s-", label="max |cov - infinite| / max |cov| [dimensionless]")
    ax.loglog(train_widths, mean_err[0] * train_widths[0] / np.array(train_widths), "k--", lw=0.8, label="1/width")
    ax.axhline(mc_floor, color="grey", ls=":", label=f"Monte-Carlo SE of the mean ({n_trained} nets)")
    ax.set_xticks(train_widths, [str(w) for w in train_widths])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("width [units]")
    ax.set_ylabel(f"error at t = {t_fin:g}")
    ax.set_title(f"Trained finite ensembles (depth {ARCH['depth']}) vs the infinite one")
    ax.legend(fontsize=8)
    fig_name = _savefig(fig, out, "ntk_kernels_and_ensemble.png")

    data = [
        _write_csv(out, "ntk_kernels_vs_angle.csv", {"gamma": gammas, "nngp": analytic.nngp[0], "ntk": analytic.ntk[0]}),
        _write_csv(out, "ntk_width_errors.csv", {"width": widths, "ntk_rel_rms_one_network": rms}),
        _write_csv(out, "ntk_trained_ensemble_errors.csv", {
            "width": train_widths, "rms_mean_err": mean_err, "max_rel_cov_err": cov_err,
        }),
        _write_csv(out, "ntk_ensemble_over_time.csv", {
            "angle": a_test, **{f"mean_t{t:g}": ens.mean[i, :, 0] for i, t in enumerate(times)},
            **{f"sd_t{t:g}": sd[i] for i, t in enumerate(times)},
        }),
    ]
    z_ntk = np.abs(emp_ntk_mean - exact_at_emp.ntk[0]) / emp_ntk_se
    return Section(
        title="NTK: analytic kernels vs finite width, and the infinite ensemble over training time",
        summary=(
            "Analytic NNGP/NTK of a fully connected ReLU network (neural-tangents conventions; "
            "ibtheory.ntk.fc_kernels) against sampled finite networks, and the Gaussian output of the "
            "infinite ensemble trained by gradient flow on MSE (theory.md 4.1; ensemble_prediction) with "
            "finite-width ensembles trained by gradient descent in torch (finite_ensemble)."
        ),
        settings={
            **ARCH, "seed": seed, "networks per kernel estimate": n_nets, "kernel widths": widths,
            "trained networks per width": n_trained, "trained widths": train_widths,
            "inputs": "sqrt(2) (cos a, sin a) on the circle (input kernel cos of the angle difference)",
            "training set": f"{n_train} angles uniform in [0, 2 pi), y = sin(2a)",
            "learning rate": f"{lr:.6g} = eta_max / 2", "times (GD steps)": [float(t) for t in times],
            "finite training": f"dt = 0.5 (step {0.5 * lr:.3g}), compared at t = {t_fin:g}",
        },
        figures=[fig_name],
        data=data,
        findings=[
            f"width-64 empirical NTK vs analytic: max |z| = {float(np.max(z_ntk)):.2f} standard errors over {len(g_emp)} angles "
            "(depth 1: unbiased)",
            f"one network's NTK relative RMS error vs width {widths}: {np.round(rms, 4).tolist()}; log-log slope {slope:.3f} "
            "(theory: -1/2)",
            f"ensemble at t = inf fits the training targets: max |mean - y| = "
            f"{float(np.max(np.abs(ensemble_prediction(x_train, y_train, None, [np.inf], learning_rate=lr, **ARCH).mean[0] - y_train))):.1e}",
            f"trained finite ensembles at t = {t_fin:g}, widths {train_widths}: RMS mean error "
            f"{np.round(mean_err, 4).tolist()} (Monte-Carlo SE {mc_floor:.4f}), max relative cov error "
            f"{np.round(cov_err, 3).tolist()}",
        ],
    )
