"""``ibtheory ntk-info``: information quantities of an infinite NTK ensemble over training time.

Writes ``ntk_info.csv`` (one row per time, every quantity of
:class:`ibtheory.ntk.EnsembleInformation`) and ``ntk_info.png`` (four panels) into ``out``.
The plotting helpers are shared with the ``ensemble`` analysis and notebook 06.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

#: Training times of the command: 0, 36 log-spaced times in [1e-1, 1e8] (units of
#: learning-rate-1 gradient-descent steps, theory.md 4.4 sweeps 1e-2..1e8), and infinity.
DEFAULT_TIMES = np.concatenate([[0.0], np.logspace(-1, 8, 37), [np.inf]])

#: Learning rate of the command (any value: the ensemble follows gradient flow; it sets the time unit).
LEARNING_RATE = 1.0


def plot_information_over_time(info: Any, axes: Any = None) -> Any:
    """Four panels over the finite positive times of an :class:`EnsembleInformation`: I(X;Z) bounds
    and InfoNCE, I(Z;Y) bounds, Gibbs/Bayes log-likelihoods (train, test), and the KL to the prior.
    Values at t = inf are drawn as dotted horizontal lines. Returns the figure."""
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(2, 2, figsize=(11, 8))
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
            line, = ax.semilogx(t[sel], values[sel], label=label, lw=1.8, ls="-" if k % 2 == 0 else "--")
            if np.isinf(t[-1]):
                ax.axhline(values[-1], color=line.get_color(), lw=0.8, ls=":")
        if ax is axes[0]:
            ax.axhline(np.log(info.n_eval) / (np.log(2) if u == "bits" else 1.0), color="grey", lw=0.8, ls="-.",
                       label="ln N (maximum)")
        ax.set_xlabel("training time t [gradient steps, learning rate 1]")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def ntk_info_command(
    *,
    data: str,
    n_train: int,
    n_eval: int,
    depth: int,
    activation: str,
    w_std: float,
    b_std: float,
    units: str,
    out: Path,
    seed: int,
) -> list[Path]:
    """Run :func:`ibtheory.ntk.ensemble_information` on a data set and write CSV + figure into ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..models import load_classification_data
    from ..ntk import ensemble_information

    d = load_classification_data(data, n_train, n_eval, seed=seed)
    info = ensemble_information(
        d.x_train, d.y_train, d.x_test, d.labels_test, DEFAULT_TIMES, depth=depth, activation=activation,
        w_std=w_std, b_std=b_std, learning_rate=LEARNING_RATE, units=units, seed=seed,
    )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cols = info.as_columns()
    csv = out / "ntk_info.csv"
    np.savetxt(csv, np.column_stack([np.asarray(v, dtype=float) for v in cols.values()]), delimiter=",",
               header=",".join(cols), comments="")
    fig = plot_information_over_time(info)
    fig.suptitle(f"{d.name}: n_train={d.x_train.shape[0]}, n_eval={d.x_test.shape[0]}, depth={depth}, "
                 f"{activation}, w_std={w_std}, b_std={b_std}", fontsize=10)
    fig.tight_layout()
    png = out / "ntk_info.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return [csv, png]
