"""Analysis "curves": optimal IB and dualIB curves of a discrete problem, critical betas, transitions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..figures import curves_figure
from ._report import Section
from ._reproduce import _savefig, _write_csv, analysis

if TYPE_CHECKING:
    from ..solvers import IBCurve, IBFamilyCurve


@analysis("curves")
def ib_and_dual_ib_curves(out: Path, quick: bool, seed: int) -> Section:
    """IB vs dualIB curves on the random 6x3 joint of theory.md 3.4 (local and global transitions)."""
    from ..models import random_joint
    from ..solvers import critical_betas, ib_curve

    p_xy = random_joint(6, 3, concentration=0.7, seed=1)
    betas = np.geomspace(0.5, 30.0, 24 if quick else 80)
    ib = ib_curve(p_xy, betas, method="ib", seed=seed)
    dual = ib_curve(p_xy, betas, method="dualib", seed=seed)
    crit_ib = critical_betas(p_xy, method="ib")
    crit_dual = critical_betas(p_xy, method="dualib")
    fig = curves_figure([ib, dual], [crit_ib, crit_dual])
    fig_name = _savefig(fig, out, "ib_dualib_curves.png")
    data = _write_csv(out, "ib_dualib_curves.csv", {
        "beta": betas, "ib_i_xt": ib.i_xt, "ib_i_ty": ib.i_ty, "ib_clusters": ib.n_clusters,
        "dualib_i_xt": dual.i_xt, "dualib_i_ty": dual.i_ty, "dualib_clusters": dual.n_clusters,
    })
    return Section(
        title="Discrete IB and dualIB curves",
        summary=(
            "Optimal curves (deterministic annealing both ways, cluster splitting/merging, neighbour "
            "re-seeding, batched polish) of the random 6x3 joint of theory.md 3.4; I(T;Y) with the Markov "
            "decoder for both methods."
        ),
        settings={"p_xy": "dirichlet(0.7 ones(18)), default_rng(1), 6x3", "betas": f"{betas.size} log-spaced in [0.5, 30]",
                  "seed": seed},
        figures=[fig_name],
        data=[data],
        findings=[
            f"local critical beta (trivial solution loses stability): IB {crit_ib[0]:.6f} (= 1/rho_m^2, table 1.587958), "
            f"dualIB {crit_dual[0]:.6f} (table 1.225477)",
            _transitions_finding("IB", ib, crit_ib[0]),
            _transitions_finding("dualIB", dual, crit_dual[0]),
            f"all betas converged: IB {bool(np.all(ib.converged))}, dualIB {bool(np.all(dual.converged))}",
        ],
    )


def _transitions_finding(name: str, curve: IBCurve | IBFamilyCurve, local: float) -> str:
    """Global transitions of a curve, and whether the first precedes the local critical point.

    A first transition below the local point is first-order: a non-trivial branch becomes optimal
    while the trivial solution is still stable (for the IB this happens when the hypercontractivity
    coefficient of (X, Y) exceeds rho_m^2; Wu et al. 2019, "Learnability for the Information Bottleneck").
    """
    text = (f"global transitions on the {name} curve: {np.round(curve.transitions, 4).tolist()} "
            f"(clusters {curve.transition_clusters.tolist()})")
    if curve.transitions.size:
        first = float(curve.transitions[0])
        gap = first / local - 1
        if gap < -curve.transition_rtol:
            return text + f"; the first lies {-100 * gap:.2f}% below the local point {local:.6f} (first-order)"
        return text + f"; the first coincides with the local point {local:.6f} within {100 * curve.transition_rtol:.1g}%"
    return text
