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
# # Your own functional: the squared IB, derived, generated and solved
#
# When Y is a deterministic function of X, the IB curve is piecewise linear,
# I(T;Y) = min(I(X;T), H(Y)), and the IB Lagrangian I(X;T) - beta I(T;Y) recovers only its corners:
# every point of the linear segment is optimal at beta = 1 at once, so sweeping beta jumps from the
# trivial encoder to the full one (Kolchinsky, Tracey & Van Kuyk 2019, "Caveats for information
# bottleneck in deterministic scenarios"; theory.md 11.2). Their remedy is a strictly convex function
# of the compression term, e.g. the squared IB I(X;T)^2 - beta I(T;Y), whose optimum on such a rule is
# I(T;Y) = I(X;T) = beta/2 while beta/2 < H(Y).
#
# Here the squared IB is posed with the term vocabulary of `ibtheory.symbolic`, derived, turned into
# NumPy and Torch kernels at run time (cached on disk), and solved with the same annealing as the
# built-in IB.

# %%
import os

import numpy as np
from IPython.display import display

import ibtheory
from ibtheory.figures import curves_figure
from ibtheory.symbolic import I, beta, derive

QUICK = os.environ.get("IBTHEORY_NOTEBOOK_QUICK") == "1"

# %% [markdown]
# ## Pose it and derive it
#
# Terms combine with SymPy arithmetic; `derive` applies the chain rule over the terms and solves the
# stationarity for the encoder p(t|x).

# %%
squared_ib = I("X;T") ** 2 - beta * I("T;Y")
derivation = derive(squared_ib)
display(derivation)

# %% [markdown]
# The update is the IB's, with an effective trade-off beta / (2 I(X;T)) evaluated at the current
# encoder (the weights depend on the value of I(X;T), so the solver computes it inside each step):

# %%
display(derivation.step("stationarity"))
display(derivation.step("effective coefficients"))
display(derivation.step("encoder"))

# %% [markdown]
# ## Solve it on a deterministic rule
#
# X uniform on 12 points, Y = x mod 3, so H(Y) = log 3 = 1.0986 nats. `functional_curve` generates
# the kernels of `derive(squared_ib)` the first time (seconds) and loads them from the cache after.

# %%
n_x = 12
p_xy = np.zeros((n_x, 3))
p_xy[np.arange(n_x), np.arange(n_x) % 3] = 1.0 / n_x
h_y = np.log(3.0)

betas = np.linspace(0.1, 3.0, 12 if QUICK else 40)
squared = ibtheory.solvers.functional_curve(p_xy, betas, squared_ib, locate_transitions=False)
ib = ibtheory.ib_curve(p_xy, np.geomspace(0.2, 5.0, 12 if QUICK else 40), locate_transitions=False)

on_segment = betas / 2 < h_y
print("squared IB, beta/2 < H(Y): max |I(X;T) - beta/2| =", np.abs(squared.i_xt - betas / 2)[on_segment].max())
print("squared IB, max |I(T;Y) - I(X;T)| =", np.abs(squared.i_ty - squared.i_xt).max())
print("IB points: I(T;Y) in", sorted(set(np.round(ib.i_ty, 6))), "(only the corners 0 and H(Y))")

# %% [markdown]
# ## Beside the IB curve
#
# Left: the information plane. The squared IB's points run along the whole segment
# I(T;Y) = I(X;T) up to H(Y); the IB's sit on the two corners. Right: the effective cluster counts.

# %%
fig = curves_figure([ib, squared], [(), ()], title="Y = x mod 3: the IB (corners) and the squared IB (whole curve)")
fig

# %% [markdown]
# Any Lagrangian of the vocabulary works the same way, e.g. the generalized IB
# `H("T") - alpha*H("T|X") - beta*I("T;Y")` with `params={alpha: 0.5}`; a Lagrangian must be affine
# in beta (each encoder is then a line in beta, which the annealing's certificate compares).
