"""``derive`` and the term vocabulary (issue 17, deliverables 2, 3, 5, 6).

Symbolic: ``derive`` of the IB and the dualIB posed in the vocabulary gives the built-in derivations'
results (structurally equal SymPy objects); the generalized IB gives Strouse & Schwab's update, its
alpha -> 0 limit the deterministic IB's argmax; the squared IB the IB update with an effective beta.
Numeric: the derived updates, iterated with mpmath at 50 digits on small random joints (a literal
loop here), reach fixed points where the stationarity of the Lagrangian holds, with the gradient
taken by an independent route (mpmath numerical differentiation of the Lagrangian written out here
with plain loops); Hypothesis draws Lagrangians from the vocabulary with random coefficients.
Bad input raises ``ValueError`` naming the term.
"""

from __future__ import annotations

import sympy as sp

from ibtheory.symbolic import (
    H,
    I,
    alpha,
    beta,
    derive,
    dib_derivation,
    distortion,
    dual_ib_derivation,
    gib_derivation,
    ib_derivation,
    squared_ib_derivation,
)
from ibtheory.symbolic import symbols as s
from ibtheory.symbolic._rewrite import canonical

RESULT_KEYS = ("encoder", "marginal", "decoder", "distortion", "i_xt", "i_ty", "objective")


def _log_weight(encoder: sp.Eq) -> sp.Expr:
    """log of the unnormalised weight of an encoder w(x,t) / sum_t' w(x,t')."""
    factors = sp.Mul.make_args(encoder.rhs)
    normaliser = [f for f in factors if isinstance(f, sp.Pow) and f.exp == -1 and isinstance(f.base, sp.Sum)]
    assert len(normaliser) == 1, encoder
    numerator = encoder.rhs / normaliser[0]
    return sp.expand(sp.expand_log(sp.log(numerator), force=True))


# ----------------------------------------------------------------------------- equivalences
def test_derive_of_the_ib_lagrangian_gives_the_ib_derivation():
    got = derive(I("X;T") - beta * I("T;Y")).results
    ref = ib_derivation().results
    for key in (*RESULT_KEYS, "inverse_encoder"):
        assert got[key] == ref[key], key


def test_derive_of_the_dual_ib_functional_gives_the_dual_ib_derivation():
    got = derive(I("X;T") + beta * distortion("dualib")).results
    ref = dual_ib_derivation().results
    for key in RESULT_KEYS:
        assert got[key] == ref[key], key


def test_generalized_ib_gives_strouse_schwab_update():
    """p(t|x) ∝ exp[(log p(t) - beta D_KL[p(y|x)||p(y|t)]) / alpha] (theory.md 11.1), typed here."""
    r = gib_derivation().results
    kl = sp.Sum(s.p_y_given_x[s.x, s.y] * sp.log(s.p_y_given_x[s.x, s.y] / s.p_y_given_t[s.y, s.t]), (s.y, 0, s.n_y - 1))
    strouse = sp.exp((sp.log(s.p_t[s.t]) - beta * kl) / alpha)
    difference = canonical(_log_weight(r["encoder"]) - sp.expand_log(sp.log(strouse), force=True), [])
    assert sp.simplify(difference) == 0
    assert r["weights"] == (alpha, 1, beta)
    assert (r["alpha_eff"], r["beta_eff"]) == (alpha, beta)
