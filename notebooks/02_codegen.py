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
# # Code generation for your own expressions
#
# `ibtheory.codegen.generate(args, expr, backend=...)` turns a SymPy expression into a vectorised
# NumPy, Torch or mpmath function. Inputs broadcast; leading axes are batch axes; Torch outputs keep
# the device and dtype of their inputs. The generated code is in `.source`.

# %%
import math

import numpy as np
import sympy as sp

from ibtheory.codegen import generate, write_module

x, y = sp.symbols("x y", real=True)

# %% [markdown]
# ## Stability rewrites
# `log(exp(x) + exp(y))` is emitted as `logaddexp`, and `x log x` as `xlogy` (0 at x = 0).

# %%
soft_max = generate([x, y], sp.log(sp.exp(x) + sp.exp(y)), name="soft_max")
print(soft_max.source)
print("at x = y = 1000:", soft_max(1000.0, 1000.0), "(exact:", 1000 + math.log(2), ")")

neg_entropy = generate([x], x * sp.log(x), name="neg_entropy")
print("x log x at 0, 0.5:", neg_entropy(np.array([0.0, 0.5])))

# %% [markdown]
# ## Index-level expressions
# Sums over `sp.Idx` indices lower to axis reductions over the axes the caller declares, here the
# discrete convention `DISCRETE_AXES = ("x", "y", "t")`. Here: the conditional entropy H(Y|X) of a
# batch of channels.

# %%
from ibtheory.symbolic import DISCRETE_AXES
from ibtheory.symbolic.symbols import p_x, p_y_given_x
from ibtheory.symbolic.symbols import x as ix
from ibtheory.symbolic.symbols import y as iy

h_y_given_x = -sp.Sum(p_x[ix] * p_y_given_x[ix, iy] * sp.log(p_y_given_x[ix, iy]), (ix, 0, ix.upper), (iy, 0, iy.upper))
conditional_entropy = generate([p_x, p_y_given_x], h_y_given_x, axes=DISCRETE_AXES)
print(conditional_entropy.source)

rng = np.random.default_rng(0)
batch_of_channels = rng.dirichlet(np.ones(3), size=(8, 5))  # 8 problems, |X| = 5, |Y| = 3
print("H(Y|X) per problem (nats):", conditional_entropy(np.full(5, 0.2), batch_of_channels))

# %% [markdown]
# ## Torch, autograd and writing a module

# %%
try:
    import torch
except ImportError:  # the torch extra is optional
    torch = None

if torch is not None:
    soft_max_t = generate([x, y], sp.log(sp.exp(x) + sp.exp(y)), backend="torch")
    a = torch.linspace(-3, 3, 5, dtype=torch.float64, requires_grad=True)
    soft_max_t(a, 0.0).sum().backward()
    print("d/dx logaddexp(x, 0) = sigmoid(x):", a.grad)

import tempfile
from pathlib import Path

with tempfile.TemporaryDirectory() as tmp:
    path = write_module(Path(tmp) / "my_kernels.py", [soft_max, neg_entropy])
    print(path.read_text().splitlines()[0])
