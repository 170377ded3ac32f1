"""Every SymPy symbol of the project, created once.

Naming rule (style.md 3): SymPy symbol name == Python variable name == generated kernel argument
name. Discrete problems use the index symbols ``x``, ``y``, ``t`` whose canonical axis order is
``DISCRETE_AXES = ("x", "y", "t")``: an ``IndexedBase`` is always indexed in that order
(``p_y_given_x[x, y]``, ``p_t_given_x[x, t]``, ``p_y_given_t[y, t]``).
"""

from __future__ import annotations

import sympy as sp

# Alphabet sizes and index symbols (discrete IB / dualIB).
n_x, n_y, n_t = sp.symbols("n_x n_y n_t", integer=True, positive=True)
x = sp.Idx("x", n_x)
y = sp.Idx("y", n_y)
t = sp.Idx("t", n_t)
DISCRETE_AXES: tuple[str, ...] = ("x", "y", "t")

# Trade-off parameter.
beta = sp.Symbol("beta", nonnegative=True)

# Distributions over the discrete alphabets (index order follows DISCRETE_AXES).
p_x = sp.IndexedBase("p_x", positive=True)  # p(x), [x]
p_xy = sp.IndexedBase("p_xy", nonnegative=True)  # p(x, y), [x, y]
p_y = sp.IndexedBase("p_y", nonnegative=True)  # p(y), [y]
p_y_given_x = sp.IndexedBase("p_y_given_x", nonnegative=True)  # p(y|x), [x, y]
p_t_given_x = sp.IndexedBase("p_t_given_x", nonnegative=True)  # p(t|x), [x, t]
p_t = sp.IndexedBase("p_t", nonnegative=True)  # p(t), [t]
p_y_given_t = sp.IndexedBase("p_y_given_t", nonnegative=True)  # p(y|t), [y, t]
p_x_given_t = sp.IndexedBase("p_x_given_t", nonnegative=True)  # p(x|t), [x, t]
log_p_t_given_x = sp.IndexedBase("log_p_t_given_x", real=True)  # log p(t|x), [x, t]
log_p_t = sp.IndexedBase("log_p_t", real=True)  # log p(t), [t]
log_z = sp.IndexedBase("log_z", real=True)  # log Z(x, beta), [x]

# Lagrange multipliers for the normalisation constraints sum_t p(t|x) = 1.
lagrange = sp.IndexedBase("lagrange", real=True)  # [x]
