"""The headline analyses of ``ibtheory reproduce`` (registered in the order of the report).

Each analysis only calls the library and draws; settings are stated in the returned section.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..figures import gaussian_curves_figure
from ._report import Section
from ._reproduce import _savefig, _write_csv, analysis


@analysis("gaussian")
def gaussian_ib_vs_dual(out: Path, quick: bool, seed: int) -> Section:
    """Gaussian IB vs Gaussian dualIB on a random joint covariance (theory.md 2.5 problem)."""
    from ..gaussian import gaussian_dual_ib, gaussian_ib

    m = np.random.default_rng(seed).normal(size=(5, 5))
    joint = m @ m.T + 0.5 * np.eye(5)
    cov_x, cov_xy, cov_y = joint[:3, :3], joint[:3, 3:], joint[3:, 3:]
    betas = np.geomspace(0.3, 200.0, 120 if quick else 600)
    ib = gaussian_ib(cov_x, cov_xy, cov_y, betas)
    dual = gaussian_dual_ib(cov_x, cov_xy, cov_y, betas)

    fig = gaussian_curves_figure(betas, ib, dual)
    fig_name = _savefig(fig, out, "gaussian_ib_vs_dualib.png")
    data = _write_csv(out, "gaussian_ib_vs_dualib.csv", {
        "beta": betas, "ib_i_xt": ib.i_xt, "ib_i_ty": ib.i_ty, "dualib_i_xt": dual.i_xt, "dualib_i_ty": dual.i_ty,
    })
    crit_ib = [float(b) for b in ib.critical_betas]
    shifted = gaussian_ib(cov_x, cov_xy, cov_y, betas + 1)  # derived: dualIB(beta) = GIB(beta + 1)
    shift_gap = float(np.max(np.abs(np.asarray(dual.projections) - np.asarray(shifted.projections))))
    crit_dual = [float(b) for b in dual.critical_betas]
    return Section(
        title="Gaussian IB vs Gaussian dualIB",
        summary=(
            "Closed-form optimal curves for jointly Gaussian (X, Y) with n_x = 3, n_y = 2 "
            "(Chechik et al. 2005; the dualIB derived in ibtheory.symbolic.gaussian_dual_ib_derivation)."
        ),
        settings={"joint covariance": "M M^T + 0.5 I, M ~ N(0,1) 5x5", "seed": seed, "betas": f"{len(betas)} log-spaced in [0.3, 200]"},
        figures=[fig_name],
        data=[data],
        findings=[
            f"eigenvalues lambda_i of Sigma_x|y Sigma_x^-1: {np.round(np.asarray(ib.eigenvalues), 6).tolist()}",
            f"IB critical betas 1/(1-lambda_i): {np.round(crit_ib, 6).tolist()}",
            f"dualIB critical betas lambda_i/(1-lambda_i) = IB ones minus 1: {np.round(crit_dual, 6).tolist()}",
            "the dualIB encoder at beta is the IB encoder at beta + 1 (same curve, slope 1/(beta+1)); "
            f"max |A_dual(beta) - A_IB(beta + 1)| = {shift_gap:.1e}",
            f"I(X;Y) = {float(ib.i_xy):.6f} nats; at beta = 200 the IB reaches I(T;Y) = {float(ib.i_ty[-1]):.6f}",
        ],
    )
