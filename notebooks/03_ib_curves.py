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
# # Discrete IB and dualIB curves, critical betas and transitions
#
# Optimal curves from `ibtheory.ib_curve` (theory.md 1.3-1.5, 3.2), the local critical betas from
# the stability analysis of the fixed-point map (`ibtheory.critical_betas`; 1/rho_m^2 for the IB,
# theory.md 1.5; 1/lambda_max(P K_dual P) for the dualIB, 3.4), and the global transitions of the
# optimal curve (`curve.transitions`), which can come before the local point (first-order).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import ibtheory
from ibtheory.models import genib_toy, random_joint
from ibtheory.report import plot_curve

QUICK = os.environ.get("IBTHEORY_NOTEBOOK_QUICK") == "1"
betas = np.geomspace(0.5, 30.0, 16 if QUICK else 80)

# %% [markdown]
# ## Critical betas against the table of theory.md 3.4

# %%
for name, p_xy in [("genIB toy", genib_toy()), ("random 6x3", random_joint(6, 3, concentration=0.7, seed=1))]:
    print(name, "IB:", ibtheory.critical_betas(p_xy)[0], "dualIB:", ibtheory.critical_betas(p_xy, method="dualib")[0])

# %% [markdown]
# ## Curves, information plane, cluster count against beta

# %%
p_xy = random_joint(6, 3, concentration=0.7, seed=1)
ib = ibtheory.ib_curve(p_xy, betas, method="ib", locate_transitions=not QUICK)
dual = ibtheory.ib_curve(p_xy, betas, method="dualib", locate_transitions=not QUICK)
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
plot_curve(ib, axes, critical=ibtheory.critical_betas(p_xy))
plot_curve(dual, axes, critical=ibtheory.critical_betas(p_xy, method="dualib"))
plt.show()
print("IB transitions:", ib.transitions, "dualIB transitions:", dual.transitions)

# %% [markdown]
# The dotted lines are the local critical betas (where the current solution loses stability), the
# dashed ones the global transitions (where the optimal cluster count changes). On this joint the
# first global transition precedes the local point for both methods: a first-order jump, large for the
# dualIB and small for the IB (possible because the IB's threshold is set by the hypercontractivity
# coefficient of (X, Y), which can exceed rho_m^2).

# %%
for name, curve, method in [("IB", ib, "ib"), ("dualIB", dual, "dualib")]:
    local = ibtheory.critical_betas(p_xy, method=method)[0]
    if curve.transitions.size:
        print(f"{name}: first global transition {curve.transitions[0]:.4f}, local critical beta {local:.4f}")

# %% [markdown]
# ## Explore the curves
#
# The curves above in `ibtheory.explore.IBExplorer`: the beta slider moves the point on the
# information plane (left); the heat map is the encoder p(t|x) at that beta (middle); the effective
# cluster count is on the right, with the local critical betas (dotted) and the global transitions
# (dashed). Without ipywidgets (or in a viewer that cannot run widgets) the figure is a still
# picture. The curve itself shows a summary of its key numbers when displayed.

# %%
from IPython.display import display

from ibtheory.explore import IBExplorer

display(ib)
IBExplorer({"ib": ib, "dualib": dual}, {m: ibtheory.critical_betas(p_xy, method=m) for m in ("ib", "dualib")})
