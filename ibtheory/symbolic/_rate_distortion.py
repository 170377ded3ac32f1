"""Rate-distortion: the Blahut-Arimoto update derived by SymPy (Cover & Thomas 2006, ch. 10.8; theory.md 11.3).

R(D) = min over channels p(t|x) (t = x_hat, the reproduction) with E d(X, T) <= D of I(X;T). At slope
parameter beta the Lagrangian is

    L[p(t|x)] = I(X;T) + beta sum_{x,t} p(x) p(t|x) d(x,t) + sum_x lambda(x) sum_t p(t|x),

with a user distortion matrix d(x, t) that does not depend on the encoder. Its stationarity gives
p(t|x) = p(t) exp(-beta d(x,t)) / Z(x, beta), p(t) = sum_x p(x) p(t|x): the IB's update with the
KL distortion replaced by d (Tishby, Pereira & Bialek 1999 introduce the IB as exactly this problem
with d = D_KL[p(y|x) || p(y|t)]). The problem is convex, and the alternation (Blahut 1972; Arimoto
1972) converges to the optimum from any start with p(t) > 0.
"""

from __future__ import annotations

import functools

import sympy as sp

from ._derivation import Derivation, Step
from ._functionals import total
from ._ib import _fold_rules, _i_xt, _marginal_of_encoder, _rename, _solve_encoder, a, b, xm
from ._printing import IndexedNotation, Named, register_indexed
from ._rewrite import canonical
from ._symbols import beta, lagrange, p_t, p_t_given_x, p_x, t, x

#: The distortion matrix d(x, t) (t the reproduction letter x_hat), a kernel argument over (x, t).
distortion_matrix = register_indexed(sp.IndexedBase("distortion", real=True), IndexedNotation("d", (0, 1)))

RATE_DISTORTION_REFERENCE = (
    "Cover & Thomas, Elements of Information Theory, 2nd ed. (2006), section 10.8 (Blahut-Arimoto "
    "computation of R(D)); Blahut 1972, Arimoto 1972 (theory.md 11.3). Derived here by SymPy."
)


@functools.cache
def rate_distortion_derivation() -> Derivation:
    """The Blahut-Arimoto update from L = I(X;T) + beta E d(X,T) (module docstring)."""
    pt_of_q = _marginal_of_encoder(t)
    i_xt_of_q = total(p_x[x] * p_t_given_x[x, t] * sp.log(p_t_given_x[x, t] / pt_of_q), x, t)
    expected = total(p_x[x] * p_t_given_x[x, t] * distortion_matrix[x, t], x, t)
    constraint = total(lagrange[x] * total(p_t_given_x[x, t], t), x)
    lagrangian = i_xt_of_q + beta * expected + constraint

    derivative = sp.diff(lagrangian, p_t_given_x[b, a]).doit()
    stationarity = canonical(derivative, _fold_rules())
    solved, log_factor, encoder = _solve_encoder(stationarity, distortion_matrix[b, a])

    expected_named = total(p_x[x] * p_t_given_x[x, t] * distortion_matrix[x, t], x, t)
    results = {
        "distortion": distortion_matrix[x, t],
        "encoder": sp.Eq(p_t_given_x[x, t], _rename(encoder)),
        "marginal": sp.Eq(p_t[t], total(p_x[xm] * p_t_given_x[xm, t], xm)),
        "i_xt": _i_xt(),
        "expected_distortion": expected_named,
        "objective": _i_xt() + beta * expected_named,
    }
    steps = (
        Step(
            "lagrangian",
            "The rate-distortion Lagrangian at slope $\\beta$: the rate $I(X;T)$ with $p(t)$ written in the "
            "encoder, $\\beta$ times the expected distortion, and one multiplier $\\lambda(x)$ per "
            "normalisation $\\sum_t p(t|x) = 1$.",
            sp.Eq(Named("L"), lagrangian),
            title="Lagrangian",
        ),
        Step(
            "stationarity",
            "SymPy's derivative with respect to one encoder entry $p(t|x)$, after the rewrite layer "
            "(sums folded into $p(t)$ and normalisations). It must vanish.",
            sp.Eq(stationarity, 0),
            title="Stationarity",
        ),
        Step("solved", "`sympy.solve` for the encoder entry.", sp.Eq(p_t_given_x[b, a], solved), title="Solved for the encoder"),
        Step(
            "x-only factor",
            "Dividing the solution by $p(t) e^{-\\beta d(x,t)}$ leaves this logarithm, which SymPy confirms "
            "does not depend on $t$; normalising over $t$ fixes it to $-\\log Z(x,\\beta)$.",
            sp.Eq(Named(r"\log \frac{p(t|x)}{p(t)} + \beta d(x,t)"), log_factor),
            title="A factor of x alone",
        ),
        Step(
            "encoder",
            "The Blahut-Arimoto encoder (Cover & Thomas 2006, eq. 10.137 form; theory.md 11.3).",
            results["encoder"],
            title="Encoder",
        ),
        Step("marginal", "The output marginal.", results["marginal"], title="Marginal"),
        Step(
            "rate and distortion",
            "The rate $I(X;T)$ in nats and the expected distortion $D = E\\,d(X,T)$ of an encoder: one point "
            "(D, R) of the curve per beta, where the slope of R(D) is $-\\beta$.",
            [sp.Eq(Named("I(X;T)"), results["i_xt"]), sp.Eq(Named("D"), expected_named)],
            title="Rate and distortion",
        ),
    )
    return Derivation(
        name="rate-distortion",
        title="Rate-distortion: the Blahut-Arimoto update",
        reference=RATE_DISTORTION_REFERENCE,
        assumptions=(
            "Finite alphabets X (source) and T (reproduction) of sizes n_x, n_t; p(x) > 0 for every x.",
            "The distortion d(x, t) is a fixed finite matrix (it does not depend on the encoder).",
            "Interior stationary points: p(t|x) > 0 where derivatives are taken.",
            "beta >= 0 (minus the slope of R(D)).",
        ),
        inputs={
            "p_x": "p(x) over (x,)",
            "distortion": "d(x, t) over (x, t)",
            "p_t_given_x": "the encoder p(t|x) over (x, t)",
            "beta": "the slope parameter, a scalar",
        },
        steps=steps,
        results=results,
    )
