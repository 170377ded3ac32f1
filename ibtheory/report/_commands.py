"""``ibtheory curve``: the optimal IB / dualIB curve of a user's joint distribution.

Writes ``curve_<method>.csv`` (beta, I(X;T), I(T;Y), objective, effective clusters) and
``curve_<method>.png`` (information plane; clusters against beta with the local critical beta and the
global transitions marked) into ``out``. The figure is :func:`ibtheory.figures.curves_figure`,
shared with the ``curves`` analysis and notebook 03.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def curve_command(joint: Any, betas: Any, *, method: str, units: str, out: Path, seed: int, effort: str = "optimum") -> list[Path]:
    """Compute the curve of ``joint`` (validated (n_x, n_y) joint) on ``betas`` and write CSV + PNG."""
    from ..figures import METHOD_LABELS, curves_figure
    from ..solvers import critical_betas, ib_curve

    curve = ib_curve(joint, betas, method=method, units=units, seed=seed, effort=effort)
    crit = critical_betas(joint, method=method)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / f"curve_{method}.csv"
    rows = np.column_stack([curve.betas, curve.i_xt, curve.i_ty, curve.objective, curve.n_clusters, curve.converged])
    header = f"beta,i_xt_{units},i_ty_{units},objective_{units},n_clusters,converged"
    np.savetxt(csv_path, rows, delimiter=",", header=header, comments="", fmt="%.12g")
    title = f"{METHOD_LABELS[method]} curve; first local critical beta {crit[0]:.6g}" if crit.size else METHOD_LABELS[method]
    fig = curves_figure([curve], [crit], title=title, figsize=(10, 4))
    png_path = out / f"curve_{method}.png"
    fig.savefig(png_path, dpi=120)
    return [csv_path, png_path]
