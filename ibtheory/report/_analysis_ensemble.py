"""``reproduce`` analysis "ensemble": information in infinite NTK ensembles (Shwartz-Ziv & Alemi;
theory.md 4.2-4.4) over training time and over the training-set size, on the scikit-learn digits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..figures import information_vs_train_size_figure, plot_information_over_time
from ._report import Section
from ._reproduce import _savefig, _write_csv, analysis


@analysis("ensemble")
def ensemble_information_analysis(out: Path, quick: bool, seed: int) -> Section:
    """Information quantities of the infinite ensemble vs training time and vs training-set size."""
    from ..models import digits_data
    from ..ntk import ensemble_information, generalisation_signals, information_vs_train_size

    n_train, n_eval = (60, 60) if quick else (400, 300)
    arch: dict[str, Any] = dict(depth=2, activation="erf", w_std=1.5, b_std=0.05, learning_rate=1.0)
    d = digits_data(n_train, n_eval, seed=seed)
    times = np.concatenate([[0.0], np.logspace(-1, 7, 17 if quick else 49), [np.inf]])
    info = ensemble_information(d.x_train, d.y_train, d.x_test, d.labels_test, times, **arch, seed=seed)
    fig = plot_information_over_time(info)
    fig.suptitle(f"digits, n_train={n_train}, n_eval={n_eval}, depth 2, erf, w_std 1.5, b_std 0.05", fontsize=10)
    fig_time = _savefig(fig, out, "ensemble_information_time.png")
    data_time = _write_csv(out, "ensemble_information_time.csv", info.as_columns())

    sizes = np.array([10, 20, 40, 60] if quick else [10, 20, 50, 100, 200, 400])
    sweep = information_vs_train_size(
        d.x_train, d.y_train, d.x_test, d.labels_test, sizes, time=np.inf, **arch, seed=seed
    )
    fig = information_vs_train_size_figure(sizes, sweep)
    fig_size = _savefig(fig, out, "ensemble_information_size.png")
    data_size = _write_csv(out, "ensemble_information_size.csv", sweep)

    sig = generalisation_signals(info)
    top = np.argsort(-np.abs(sig.rho_test_loss))[:3]
    last = -1
    return Section(
        title="Information in infinite ensembles (NTK)",
        summary=(
            "The output Z | x ~ N(mu_t(x), sigma_t^2(x) I) of an infinite ensemble of infinitely wide "
            "networks trained by gradient flow on MSE (Shwartz-Ziv & Alemi, arXiv 1911.09189): pairwise "
            "(Kolchinsky-Tracey) and InfoNCE bounds on I(X;Z), rigorous bounds on I(Z;Y), Gibbs/Bayes "
            "log-likelihoods and the KL to the prior, over training time and training-set size."
        ),
        settings={
            "data": f"scikit-learn digits, x/8 - 1, one-hot targets; n_train={n_train}, n_eval={n_eval}",
            "architecture": "2 hidden layers, erf, w_std 1.5, b_std 0.05 (NTK parameterisation)",
            "times": f"0, {times.size - 2} log-spaced in [0.1, 1e7], inf (learning rate 1)",
            "sizes": sizes.tolist(),
            "seed": seed,
        },
        figures=[fig_time, fig_size],
        data=[data_time, data_size],
        findings=[
            f"t = inf: I(X;Z) in [{info.i_xz_lower[last]:.3f}, {info.i_xz_upper[last]:.3f}] nats "
            f"(ln N = {np.log(n_eval):.3f}); InfoNCE {info.infonce_lower[last]:.3f} .. leave-one-out "
            f"{info.infonce_upper[last]:.3f}; I(Z;Y) in [{info.i_zy_lower[last]:.3f}, {info.i_zy_upper[last]:.3f}]",
            f"test Gibbs log-likelihood {info.gibbs_loss_test[0]:.3f} (t = 0) -> {info.gibbs_loss_test[last]:.3f} "
            f"(t = inf); KL to the prior {info.kl_to_prior[last]:.3f} nats per output at t = inf",
            "strongest rank correlations with the test loss over time: "
            + ", ".join(f"{sig.quantities[i]} ({sig.rho_test_loss[i]:+.2f})" for i in top),
            f"over n_train = {sizes.tolist()} at t = inf: I(X;Z) upper {np.round(sweep['i_xz_upper'], 3).tolist()}, "
            f"test Gibbs log-likelihood {np.round(sweep['gibbs_loss_test'], 3).tolist()}",
        ],
    )
