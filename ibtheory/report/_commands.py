"""``ibtheory curve``: the optimal IB / dualIB curve of a user's joint distribution.

Writes ``curve_<method>.csv`` (beta, I(X;T), I(T;Y), objective, effective clusters) and
``curve_<method>.png`` (information plane; clusters against beta with the local critical beta and the
global transitions marked) into ``out``. The plotting helper is shared with the ``curves`` analysis
and notebook 03.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

METHOD_LABELS = {"ib": "IB", "dualib": "dualIB"}


def plot_curve(curve: Any, axes: Any, *, critical: Any = (), label: str | None = None, color: str | None = None) -> None:
    """Draw an :class:`ibtheory.solvers.IBCurve` on two axes: the information plane and the
    effective cluster count against beta (local critical betas dotted, global transitions dashed)."""
    from matplotlib.ticker import MaxNLocator

    name = label or METHOD_LABELS.get(curve.method, curve.method)
    u = curve.units
    ax0, ax1 = axes
    line, = ax0.plot(curve.i_xt, curve.i_ty, "o-", ms=2.5, lw=1.5, label=name, color=color)
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
        ax1.axvline(b, color=c, ls="--", lw=0.8, alpha=0.7, label=f"{name}: global transition" if k == 0 else None)
    ax1.set_xscale("log")
    ax1.set_xlabel("beta (dimensionless)")
    ax1.set_ylabel("effective clusters")
    ax1.set_title("Clusters against beta")
    ax0.legend(fontsize=8)
    ax1.legend(fontsize=7)


def curve_command(joint: Any, betas: Any, *, method: str, units: str, out: Path, seed: int, effort: str = "optimum") -> list[Path]:
    """Compute the curve of ``joint`` (validated (n_x, n_y) joint) on ``betas`` and write CSV + PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..solvers import critical_betas, ib_curve

    curve = ib_curve(joint, betas, method=method, units=units, seed=seed, effort=effort)
    crit = critical_betas(joint, method=method)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / f"curve_{method}.csv"
    rows = np.column_stack([curve.betas, curve.i_xt, curve.i_ty, curve.objective, curve.n_clusters, curve.converged])
    header = f"beta,i_xt_{units},i_ty_{units},objective_{units},n_clusters,converged"
    np.savetxt(csv_path, rows, delimiter=",", header=header, comments="", fmt="%.12g")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    plot_curve(curve, axes, critical=crit)
    fig.suptitle(f"{METHOD_LABELS[method]} curve; first local critical beta {crit[0]:.6g}" if crit.size else METHOD_LABELS[method])
    fig.tight_layout()
    png_path = out / f"curve_{method}.png"
    fig.savefig(png_path, dpi=120)
    plt.close(fig)
    return [csv_path, png_path]
