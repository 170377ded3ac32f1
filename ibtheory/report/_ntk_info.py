"""``ibtheory ntk-info``: information quantities of an infinite NTK ensemble over training time.

Writes ``ntk_info.csv`` (one row per time, every quantity of
:class:`ibtheory.ntk.EnsembleInformation`) and ``ntk_info.png`` (four panels) into ``out``.
The figure is :func:`ibtheory.figures.plot_information_over_time`, shared with the
``ensemble`` analysis and notebook 06.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Training times of the command: 0, 36 log-spaced times in [1e-1, 1e8] (units of
#: learning-rate-1 gradient-descent steps, theory.md 4.4 sweeps 1e-2..1e8), and infinity.
DEFAULT_TIMES = np.concatenate([[0.0], np.logspace(-1, 8, 37), [np.inf]])

#: Learning rate of the command (any value: the ensemble follows gradient flow; it sets the time unit).
LEARNING_RATE = 1.0


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
    from ..figures import plot_information_over_time
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
    return [csv, png]
