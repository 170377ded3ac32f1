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

# NNGP / NTK kernels (theory.md 7; names follow neural-tangents). Elementwise kernel arguments:
# ``nngp`` = Sigma(x, x'), ``ntk`` = Theta(x, x'), ``var1`` = Sigma(x, x), ``var2`` = Sigma(x', x').
nngp = sp.Symbol("nngp", real=True)
ntk = sp.Symbol("ntk", real=True)
var1 = sp.Symbol("var1", positive=True)
var2 = sp.Symbol("var2", positive=True)
w_std = sp.Symbol("w_std", positive=True)
b_std = sp.Symbol("b_std", nonnegative=True)
# Integration variables of the bivariate Gaussian expectations (u, v) ~ N(0, [[var1, nngp], [nngp, var2]]).
u_pre, v_pre = sp.symbols("u_pre v_pre", real=True)
# NTK ensemble dynamics (theory.md 4.1): an eigenvalue of the training NTK and the scaled time
# tau = learning_rate * t / (n k) (neural-tangents loss normalisation).
ntk_eig = sp.Symbol("ntk_eig", nonnegative=True)
tau = sp.Symbol("tau", nonnegative=True)
