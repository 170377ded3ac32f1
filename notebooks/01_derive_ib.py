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
# # Deriving the IB and dualIB self-consistent equations with SymPy
#
# Each derivation is a `Derivation` object: ordered steps (Lagrangian, derivative, stationarity,
# solved updates), the final equations as SymPy objects in `.results`, its assumptions and the
# paper it reproduces. In JupyterLab a derivation displays itself as rendered Markdown; here we
# walk through the steps one by one.

# %%
import time

import sympy as sp
from IPython.display import Markdown, Math, display

from ibtheory.symbolic import dual_ib_derivation, dual_ib_expfam_derivation, ib_derivation, latex


def show(*exprs):
    """Display SymPy expressions with the derivations' printer (the papers' notation: p(t|x), sums
    over bare letters)."""
    for e in exprs:
        display(Math(latex(e)))


start = time.perf_counter()
ib = ib_derivation()
print(f"IB derived in {time.perf_counter() - start:.1f} s")
print(ib.reference)
print([s.title for s in ib.steps])

# %% [markdown]
# Each step displays itself in the papers' notation (a title, what it does, and its equations with
# named left-hand sides). The Lagrangian $L = I(X;T) - \beta I(T;Y)$ written in terms of the
# encoder, and its stationarity with respect to one encoder entry $p(t|x)$:

# %%
display(ib.step("lagrangian"))
display(ib.step("stationarity"))

# %% [markdown]
# `sympy.solve` gives the entry; dividing by $p(t)e^{-\beta D_{KL}}$ leaves a factor that SymPy
# confirms does not depend on $t$, so normalising over $t$ gives the textbook encoder.

# %%
display(ib.step("solved"))
display(ib.step("x-only factor"))
for name in ("encoder", "marginal", "decoder"):
    show(ib.results[name])

# %% [markdown]
# ## The dual IB
# The decoder is derived as the minimiser of the expected reversed distortion: the normalised
# geometric mean. The encoder has the reversed KL.

# %%
dual = dual_ib_derivation()
show(dual.results["decoder"])
show(dual.results["encoder"])

# %% [markdown]
# ## Exponential families are preserved by the dualIB
# With $p(y|x) \propto \exp(-\sum_r \lambda_r(y) A_r(x))$ the dualIB decoder stays in the family
# with averaged statistics $A_r(t)$; the IB decoder (a mixture) does not, shown by an exact
# rational counter-example.

# %%
expfam = dual_ib_expfam_derivation()
show(expfam.results["decoder"], expfam.results["sufficient_statistics"])
show(sp.Eq(sp.Symbol("d_dualIB"), expfam.results["distortion"]))
for eq in expfam.results["ib_counter_example"]:
    show(eq)

# %% [markdown]
# The whole derivation renders as Markdown with LaTeX (this is what `ibtheory derive ib` prints
# and what `derivations/ib.md` holds):

# %%
display(Markdown(ib.to_markdown()))
