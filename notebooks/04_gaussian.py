# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The Gaussian IB and the Gaussian dualIB
#
# For jointly Gaussian $(X, Y)$ the IB is solved in closed form by Chechik, Globerson, Tishby &
# Weiss (JMLR 2005): the optimal $T = AX + \xi$ projects $X$ on the left eigenvectors of
# $\Sigma_{x|y}\Sigma_x^{-1}$ (the CCA basis), switching on direction $i$ at
# $\beta_i^c = 1/(1-\lambda_i)$.
#
# The dualIB (Piran, Shwartz-Ziv & Tishby 2020) has no published Gaussian solution; `ibtheory`
# derives one (`ibtheory derive gaussian-dualib`): its decoder is $N(B\,E[x|t], \Sigma_{y|x})$, its
# distortion is the Mahalanobis form $\tfrac12 (x - E[x|t])^T W (x - E[x|t])$ with
# $W = B^T\Sigma_{y|x}^{-1}B$, and the problem becomes Gaussian rate-distortion (reverse
# water-filling). Result: critical values $\lambda_i/(1-\lambda_i) = \beta_i^c - 1$, and the dual
# encoder at $\beta$ is the GIB encoder at $\beta + 1$, so both trace **the same** information curve.

# %%
import os

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import torch

import ibtheory
from ibtheory._generated import gaussian_numpy as kernels
from ibtheory.models import discretised_gaussian_pair
from ibtheory.symbolic import gaussian_dual_ib_derivation, gaussian_ib_derivation

QUICK = os.environ.get("IBTHEORY_NOTEBOOK_QUICK") == "1"
N_BETAS = 60 if QUICK else 400
torch.set_num_threads(1)

# %% [markdown]
# ## The problem: theory.md 2.5's random joint covariance ($n_x = 3$, $n_y = 2$)

# %%
m = np.random.default_rng(0).normal(size=(5, 5))
joint = m @ m.T + 0.5 * np.eye(5)
cov_x, cov_xy, cov_y = joint[:3, :3], joint[:3, 3:], joint[3:, 3:]

betas = np.geomspace(0.3, 200.0, N_BETAS)
gib = ibtheory.gaussian_ib(cov_x, cov_xy, cov_y, betas)
dual = ibtheory.gaussian_dual_ib(cov_x, cov_xy, cov_y, betas)

print("eigenvalues lambda_i      :", np.round(gib.eigenvalues, 6))
print("canonical correlations    :", np.round(gib.canonical_correlations, 6))
print("GIB critical betas        :", np.round(gib.critical_betas, 6))
print("dualIB critical betas     :", np.round(dual.critical_betas, 6))
print(f"I(X;Y) = {gib.i_xy:.6f} nats")

# %% [markdown]
# ## What the symbolic layer derived
# The per-direction results, straight from the `Derivation` objects (SymPy expressions):

# %%
for name, der in [("GIB", gaussian_ib_derivation()), ("dualIB", gaussian_dual_ib_derivation())]:
    r = der.results
    print(f"{name:7s} critical beta = {r['critical_beta']},  alpha = {r['alpha']},  slope = {r['slope']}")

# %% [markdown]
# ## Information plane and the two parametrisations
# Left: both methods on the information plane (the same curve), with the critical points.
# Right: $I(T;X)$ against $\beta$; the dual curve is the GIB curve shifted left by one.

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4))
ax0.plot(gib.i_xt, gib.i_ty, lw=3, alpha=0.4, label="Gaussian IB")
ax0.plot(dual.i_xt, dual.i_ty, "--", color="k", label="Gaussian dualIB")
crit = gib.critical_betas[np.isfinite(gib.critical_betas)]
at_crit = ibtheory.gaussian_ib(cov_x, cov_xy, cov_y, crit)
ax0.plot(at_crit.i_xt, at_crit.i_ty, "o", color="C3", label="critical points (both)")
ax0.axhline(gib.i_xy, color="gray", lw=0.8, ls=":", label="I(X;Y)")
ax0.set_xlabel("I(T;X) [nats]")
ax0.set_ylabel("I(T;Y) [nats]")
ax0.legend()
ax1.semilogx(betas, gib.i_xt, label="Gaussian IB")
ax1.semilogx(betas, dual.i_xt, "--", label="Gaussian dualIB")
for k, bc in enumerate(crit):
    ax1.axvline(bc, color="C0", lw=0.6, ls=":", label="GIB critical betas" if k == 0 else None)
    ax1.axvline(bc - 1, color="C1", lw=0.6, ls=":", label="dualIB critical betas" if k == 0 else None)
ax1.set_xlabel("beta (dimensionless)")
ax1.set_ylabel("I(T;X) [nats]")
ax1.legend()
fig.tight_layout()
fig.savefig("04_gaussian_curves.png", dpi=80)

# %% [markdown]
# ## Checks you can rerun
# 1. The closed form equals the log-det information of the constructed projection (generated
#    kernel `gaussian_channel_information`).
# 2. The dual functional minimised directly with torch autograd (L-BFGS from a random start) reaches
#    the closed-form value.

# %%
cov_x_given_y = cov_x - cov_xy @ np.linalg.solve(cov_y, cov_xy.T)
i_xt, i_ty = kernels.gaussian_channel_information(dual.projections, cov_x, cov_x_given_y, np.eye(3))
print("max |closed form - log-det| =", float(np.max(np.abs(i_xt - dual.i_xt)) + np.max(np.abs(i_ty - dual.i_ty))))

b = np.linalg.solve(cov_x, cov_xy).T
weight = b.T @ np.linalg.solve(cov_y - b @ cov_xy, b)
beta = 5.0
closed = ibtheory.gaussian_dual_ib(cov_x, cov_xy, cov_y, [beta])
f_closed = kernels.gaussian_dual_ib_functional(closed.projections[0], cov_x, np.eye(3), weight, beta).objective

from ibtheory._generated import gaussian_torch

a = torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
opt = torch.optim.LBFGS([a], max_iter=300, line_search_fn="strong_wolfe", tolerance_grad=1e-12, tolerance_change=1e-14)
args = (torch.tensor(cov_x), torch.eye(3, dtype=torch.float64), torch.tensor(weight), beta)


def closure():
    opt.zero_grad()
    obj = gaussian_torch.gaussian_dual_ib_functional(a, *args).objective
    obj.backward()
    return obj


for _ in range(3):
    opt.step(closure)
f_found = float(gaussian_torch.gaussian_dual_ib_functional(a.detach(), *args).objective)
print(f"dual functional at beta={beta}: closed form {float(f_closed):.10f}, autograd {f_found:.10f}")

# %% [markdown]
# 3. The relation itself: the dualIB solution at $\beta$ is the GIB solution at $\beta + 1$.

# %%
shifted = ibtheory.gaussian_ib(cov_x, cov_xy, cov_y, betas + 1)
print("max |A_dual(beta) - A_GIB(beta + 1)| =", float(np.max(np.abs(dual.projections - shifted.projections))))

# %% [markdown]
# ## Comparison with the discrete solvers
# Discretise the 1-D pair $X \sim N(0,1)$, $Y = \rho X + N(0, 1-\rho^2)$ ($\rho = 0.8$) on grids
# of $n$ points in $[-6, 6]$ and solve the discrete IB and dualIB with `ibtheory.ib_curve`; as $n$
# grows the discrete curves approach the Gaussian closed forms. (Full mode only: the $n = 32$
# solves take about a minute.)

# %%
RHO = 0.8


def discretised_pair(n):
    return discretised_gaussian_pair(n, RHO)


if not QUICK:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, method, closed_solver in [
        (axes[0], "ib", ibtheory.gaussian_ib),
        (axes[1], "dualib", ibtheory.gaussian_dual_ib),
    ]:
        grid_betas = np.geomspace(0.3, 8.0, 15)
        closed_1d = closed_solver([[1.0]], [[RHO]], [[1.0]], grid_betas)
        ax.plot(grid_betas, closed_1d.i_xt, "k-", lw=2, label="closed form")
        for n in (8, 16, 32):
            curve = ibtheory.ib_curve(discretised_pair(n), grid_betas, method=method)
            ax.plot(grid_betas, curve.i_xt, "o--", ms=3, label=f"discrete, n = {n}")
            print(f"{method:6s} n = {n:2d}: max |I(T;X) - closed form| = {np.max(np.abs(curve.i_xt - closed_1d.i_xt)):.2e} nats")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("beta (dimensionless)")
        ax.set_ylabel("I(T;X) [nats]")
        ax.set_title(f"{method}: discretised vs Gaussian")
        ax.legend()
    fig.tight_layout()
    fig.savefig("04_gaussian_discrete.png", dpi=80)

# %% [markdown]
# ## Explore the solution
#
# `ibtheory.explore.gaussian_explorer` on the same covariance: the eigen-spectrum of
# $\Sigma_{x|y}\Sigma_x^{-1}$ with each direction's critical beta (active directions coloured), the
# projection scales $\alpha_i(\beta)$, and the point on the information curve. Move beta past a
# critical value to switch a direction on.

# %%
from IPython.display import display

from ibtheory.explore import gaussian_explorer

display(gib)
gaussian_explorer(cov_x, cov_xy, cov_y, betas)
