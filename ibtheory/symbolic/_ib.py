"""The discrete IB and dualIB self-consistent equations, derived by SymPy from their functionals.

Nothing here is a typed-in result: each function builds the functional at the index level (sums
over :class:`sympy.Idx` indices with symbolic alphabet sizes), differentiates it with respect to an
entry ``p(t=a|x=b)`` of the encoder (or ``p(y=c|t=a)`` of a free decoder), cleans the derivative
with the rewrite layer of :mod:`ibtheory.symbolic._rewrite`, solves the stationarity condition
with ``sympy.solve`` and normalises. Structural claims on the way (a factor does not depend on
``t``; a term cancels) are *checked* by SymPy and raise if they fail.

References: Tishby, Pereira & Bialek 1999, physics/0004057 (theory.md 1.1-1.3); Piran,
Shwartz-Ziv & Tishby 2020, arXiv 2006.04641 (theory.md 3.1-3.3).
"""

from __future__ import annotations

import functools

import sympy as sp

from ._derivation import Derivation, DerivationError, Step, require
from ._functionals import conditional_mutual_information, kl_divergence, total
from ._printing import (
    Chain,
    IndexedNotation,
    Named,
    named_function,
    register_index_letter,
    register_indexed,
)
from ._rewrite import FoldRule, canonical
from ._symbols import (
    beta,
    lagrange,
    n_t,
    n_x,
    n_y,
    p_t,
    p_t_given_x,
    p_x,
    p_x_given_t,
    p_y,
    p_y_given_t,
    p_y_given_x,
    t,
    x,
    y,
)

IB_REFERENCE = (
    "Tishby, Pereira & Bialek 1999, 'The information bottleneck method', physics/0004057 "
    "(self-consistent equations; theory.md 1.1-1.3). Derived here by SymPy."
)
DUAL_REFERENCE = (
    "Piran, Shwartz-Ziv & Tishby 2020, 'The dual information bottleneck', arXiv 2006.04641 "
    "(dual distortion and self-consistent equations; theory.md 3.1-3.2). Derived here by SymPy."
)
EXPFAM_REFERENCE = (
    "Piran, Shwartz-Ziv & Tishby 2020, arXiv 2006.04641 (exponential-family results; "
    "theory.md 3.3). Derived here by SymPy."
)
#: public alias (ibtheory.symbolic), distinct from the Gaussian dualIB reference
DUAL_IB_REFERENCE = DUAL_REFERENCE

# Bound variables of the sums (dummy indices over the same ranges as x, y, t) and the entry
# (x = b, t = a, y = c) we differentiate with respect to.
xp = sp.Idx("xp", n_x)
xm = sp.Idx("xm", n_x)  # bound variable of the marginal p(t), distinct so compositions never nest alike
tp = sp.Idx("tp", n_t)
yp = sp.Idx("yp", n_y)
b = sp.Idx("b", n_x)
a = sp.Idx("a", n_t)
c = sp.Idx("c", n_y)
mu = register_indexed(sp.IndexedBase("mu", real=True), IndexedNotation(r"\mu", (0,)))  # multipliers for sum_y p(y|t) = 1, [t]

# Display only: the quantities the derivations state by name (Tishby et al. 1999, eq. 28).
_KL_IB = named_function(r"D_{KL}[p(y|#1) \| p(y|#2)]")  # d_IB(x, t)
_KL_DUAL = named_function(r"D_{KL}[p(y|#2) \| p(y|#1)]")  # d_dualIB(x, t)
_Z = named_function(r"Z(#1,\beta)")
_I_XT, _I_TY = Named("I(X;T)"), Named("I(T;Y)")


def _named_encoder(encoder: sp.Eq, distortion: sp.Expr, kl: type) -> list[sp.Eq]:
    """The encoder as the papers write it, p(t) exp(-beta d(x,t)) / Z(x,beta), with d and Z defined.

    Display only; checks (DerivationError) that substituting the names back gives the encoder.
    """
    denominator = sp.fraction(encoder.rhs, exact=True)[1]
    named = p_t[t] * sp.exp(-beta * kl(x, t)) / _Z(x)
    require(
        encoder.rhs.xreplace({denominator: _Z(x), distortion: kl(x, t)}) == named,
        "the encoder is not p(t) exp(-beta d(x,t)) / Z(x, beta)",
    )
    return [
        sp.Eq(encoder.lhs, named),
        sp.Eq(kl(x, t), distortion),
        sp.Eq(_Z(x), denominator.xreplace({distortion.xreplace({t: tp}): kl(x, tp)})),
    ]


def _partial(of: str, entry: str) -> Named:
    return Named(rf"\frac{{\partial {of}}}{{\partial {entry}}}")

_COMMON_ASSUMPTIONS = (
    "Finite alphabets X, Y, T of sizes n_x, n_y, n_t; p(x) > 0 for every x.",
    "Markov chain T - X - Y: p(y|x, t) = p(y|x).",
    "Interior stationary points: p(t|x) > 0 where derivatives are taken (boundary points are limits).",
    "beta >= 0.",
)
_INPUTS = {
    "p_x": "p(x) over (x,)",
    "p_y_given_x": "p(y|x) over (x, y)",
    "p_t_given_x": "the encoder p(t|x) over (x, t)",
    "beta": "the trade-off parameter, a scalar",
}


# ----------------------------------------------------------------------------- building blocks
def _marginal_of_encoder(tt: sp.Expr) -> sp.Expr:
    """p(t) = sum_x p(x) p(t|x), written in terms of the encoder (theory.md 1.2)."""
    return total(p_x[xp] * p_t_given_x[xp, tt], xp)


def _markov_joint_of_encoder(yy: sp.Expr, tt: sp.Expr) -> sp.Expr:
    """p(y, t) = sum_x p(x) p(t|x) p(y|x) under the Markov chain T - X - Y."""
    return total(p_x[xp] * p_t_given_x[xp, tt] * p_y_given_x[xp, yy], xp)


def _label_marginal(yy: sp.Expr) -> sp.Expr:
    return total(p_x[xp] * p_y_given_x[xp, yy], xp)


def _no_bound(m: dict | None, w: sp.Dummy, *keys: sp.Wild) -> bool:
    return m is not None and all(k in m and not m[k].has(w) for k in keys)


def _fold_rules() -> list[FoldRule]:
    """Sums that are named quantities: p(t), p(y,t) = p(t) p(y|t), p(y), and normalisations."""
    T, Y, X = sp.Wild("T"), sp.Wild("Y"), sp.Wild("X")

    def marginal(s: sp.Expr, w: sp.Dummy) -> sp.Expr | None:
        m = s.match(p_x[w] * p_t_given_x[w, T])
        return p_t[m[T]] if _no_bound(m, w, T) else None

    def joint(s: sp.Expr, w: sp.Dummy) -> sp.Expr | None:
        m = s.match(p_x[w] * p_t_given_x[w, T] * p_y_given_x[w, Y])
        return p_t[m[T]] * p_y_given_t[m[Y], m[T]] if _no_bound(m, w, T, Y) else None

    def labels(s: sp.Expr, w: sp.Dummy) -> sp.Expr | None:
        m = s.match(p_x[w] * p_y_given_x[w, Y])
        return p_y[m[Y]] if _no_bound(m, w, Y) else None

    def normalised(s: sp.Expr, w: sp.Dummy) -> sp.Expr | None:
        for pattern, key in ((p_y_given_t[w, T], T), (p_y_given_x[X, w], X), (p_t_given_x[X, w], X)):
            m = s.match(pattern)
            if _no_bound(m, w, key):
                return sp.Integer(1)
        return None

    return [marginal, joint, labels, normalised]


def _ib_distortion(xx: sp.Expr, tt: sp.Expr) -> sp.Expr:
    """d_IB(x, t) = KL[p(y|x) || p(y|t)] (theory.md 1.1)."""
    return kl_divergence(p_y_given_x[xx, y], p_y_given_t[y, tt], y)


def _dual_distortion(xx: sp.Expr, tt: sp.Expr) -> sp.Expr:
    """d_dualIB(x, t) = KL[p(y|t) || p(y|x)] (theory.md 3.1)."""
    return kl_divergence(p_y_given_t[y, tt], p_y_given_x[xx, y], y)


def _i_xt() -> sp.Expr:
    """I(X;T) = sum_{x,t} p(x) p(t|x) log(p(t|x)/p(t)) with p(t) a named marginal."""
    return conditional_mutual_information(p_x[x], p_t_given_x[x, t], p_t[t], x, t)


def _i_ty() -> sp.Expr:
    """I(T;Y) = sum_{t,y} p(t) p(y|t) log p(y|t) - sum_y p(y) log p(y), p(y) = sum_x p(x) p(y|x).

    p(y) is written out (it is not a kernel argument); the decoder p(y|t) is a named quantity that
    code generation replaces by the Markov decoder sum_x p(y|x) p(x|t) (theory.md 3.2: the same
    I(T;Y) for IB and dualIB).
    """
    label = total(p_x[x] * p_y_given_x[x, y], x)
    return total(p_t[t] * p_y_given_t[y, t] * sp.log(p_y_given_t[y, t]), y, t) - total(label * sp.log(label), y)


def _solve_encoder(stationarity: sp.Expr, distortion: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """Solve ``stationarity = 0`` for p(t=a|x=b) and split off the x-only factor.

    Returns (the solution, log of the factor that does not depend on t, the normalised encoder).
    Raises if the factor depends on t: then the solution is not of the form p(t) exp(-beta d) / Z.
    """
    solutions = sp.solve(sp.Eq(stationarity, 0), p_t_given_x[b, a])
    if len(solutions) != 1:
        raise DerivationError(f"expected one solution for p(t|x), got {solutions}")
    solved = solutions[0]
    log_factor = canonical(sp.log(solved) - sp.log(p_t[a]) + beta * distortion, _fold_rules())
    if log_factor.has(a):
        raise DerivationError(f"the factor {log_factor} depends on t; no Boltzmann form")
    weight = p_t[a] * sp.exp(-beta * distortion)
    encoder = weight / total(weight.xreplace({a: tp}), tp)
    return solved, log_factor, encoder


def _rename(expr: sp.Expr) -> sp.Expr:
    """Write the differentiated entry (b, a, c) with the canonical indices (x, t, y)."""
    return expr.xreplace({b: x, a: t, c: y})


def _inverse_encoder() -> sp.Eq:
    """p(x|t) = p(t|x) p(x) / p(t) (Bayes)."""
    return sp.Eq(p_x_given_t[x, t], p_t_given_x[x, t] * p_x[x] / p_t[t])


# ----------------------------------------------------------------------------- IB
@functools.cache
def ib_derivation() -> Derivation:
    """The IB self-consistent equations from L = I(X;T) - beta I(T;Y) (theory.md 1.1-1.3).

    Derived here: p(t) and p(y|t) are written as functions of the encoder, L is differentiated
    with respect to p(t=a|x=b) with a multiplier for each normalisation sum_t p(t|x) = 1, and the
    solution is reduced to p(t|x) = p(t) exp(-beta KL[p(y|x)||p(y|t)]) / Z(x, beta).
    """
    pt_of_q = _marginal_of_encoder(t)
    pyt_of_q = _markov_joint_of_encoder(y, t) / pt_of_q
    i_xt_of_q = conditional_mutual_information(p_x[x], p_t_given_x[x, t], pt_of_q, x, t)
    i_ty_of_q = total(pt_of_q * pyt_of_q * sp.log(pyt_of_q / _label_marginal(y)), y, t)
    constraint = total(lagrange[x] * total(p_t_given_x[x, t], t), x)
    lagrangian = i_xt_of_q - beta * i_ty_of_q + constraint

    derivative = sp.diff(lagrangian, p_t_given_x[b, a]).doit()
    stationarity = canonical(derivative, _fold_rules())
    distortion = _ib_distortion(b, a)
    solved, log_factor, encoder = _solve_encoder(stationarity, distortion)

    decoder_markov = _markov_joint_of_encoder(y, t) / p_t[t]
    bayes = {p_t_given_x[xp, t]: p_x_given_t[xp, t] * p_t[t] / p_x[xp]}
    decoder = sp.simplify(decoder_markov.xreplace(bayes))

    results = {
        "distortion": _rename(distortion),
        "encoder": sp.Eq(p_t_given_x[x, t], _rename(encoder)),
        "marginal": sp.Eq(p_t[t], total(p_x[xm] * p_t_given_x[xm, t], xm)),
        "inverse_encoder": _inverse_encoder(),
        "decoder": sp.Eq(p_y_given_t[y, t], decoder),
        "i_xt": _i_xt(),
        "i_ty": _i_ty(),
        "objective": _i_xt() - beta * _i_ty(),
    }
    steps = (
        Step(
            "lagrangian",
            "The IB Lagrangian $L = I(X;T) - \\beta I(T;Y)$ with $p(t)$ and $p(y|t)$ written as "
            "functions of the encoder, plus one multiplier $\\lambda(x)$ per normalisation $\\sum_t p(t|x) = 1$.",
            sp.Eq(sp.Symbol("L"), lagrangian),
            title="Lagrangian",
        ),
        Step(
            "derivative",
            "SymPy's derivative with respect to one entry $p(t|x)$ of the encoder (at a fixed $x$ and $t$; "
            "the sums run over primed letters), after `doit()`: range guards and Kronecker deltas still present.",
            sp.Eq(sp.Symbol("dL"), derivative),
            display=sp.Eq(_partial("L", "p(t|x)"), derivative),
            title="Derivative",
        ),
        Step(
            "stationarity",
            "The derivative after the rewrite layer (range guards dropped, deltas collapsed, sums "
            "folded into $p(t)$, $p(y|t)$, $p(y)$ and normalisations). It must vanish.",
            sp.Eq(stationarity, 0),
            display=Chain(_partial("L", "p(t|x)"), stationarity, 0),
            title="Stationarity",
        ),
        Step(
            "solved", "`sympy.solve` for the encoder entry.", sp.Eq(p_t_given_x[b, a], solved), title="Solved for the encoder"
        ),
        Step(
            "x-only factor",
            "Dividing the solution by $p(t) e^{-\\beta d(x,t)}$ with $d = D_{KL}[p(y|x)\\|p(y|t)]$ "
            "leaves this logarithm, which SymPy confirms does not depend on $t$; normalising over $t$ "
            "fixes it to $-\\log Z(x,\\beta)$.",
            sp.Eq(sp.Symbol("log_factor"), log_factor),
            display=sp.Eq(Named(r"\log \frac{p(t|x)}{p(t)} + \beta D_{KL}[p(y|x) \| p(y|t)]"), log_factor),
            title="A factor of x alone",
        ),
        Step(
            "encoder",
            "The IB encoder (theory.md 1.2; Tishby, Pereira & Bialek 1999, eq. 28), with the KL "
            "distortion and the partition function $Z(x,\\beta)$ that normalises it over $t$.",
            results["encoder"],
            display=_named_encoder(results["encoder"], results["distortion"], _KL_IB),
            title="Encoder",
        ),
        Step("marginal", "The cluster marginal.", results["marginal"], title="Marginal"),
        Step(
            "decoder",
            "The decoder implied by the encoder under the Markov chain, with Bayes' rule "
            "$p(x|t) = p(t|x)p(x)/p(t)$: the arithmetic mean of $p(y|x)$ over $p(x|t)$.",
            [results["inverse_encoder"], results["decoder"]],
            title="Decoder",
        ),
        Step(
            "information",
            "$I(X;T)$ and $I(T;Y)$ in nats.",
            [results["i_xt"], results["i_ty"]],
            display=[sp.Eq(_I_XT, results["i_xt"]), *_named_i_ty(results["i_ty"])],
            title="Information terms",
        ),
    )
    return Derivation(
        name="ib",
        title="Information Bottleneck: self-consistent equations",
        reference=IB_REFERENCE,
        assumptions=_COMMON_ASSUMPTIONS,
        inputs=_INPUTS,
        steps=steps,
        results=results,
    )


# ----------------------------------------------------------------------------- dualIB
def _dual_decoder() -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]:
    """Minimise the expected dual distortion over a free decoder p(y|t) (theory.md 3.2).

    Returns (the decoder Lagrangian, its stationarity condition, the solution for p(y=c|t=a), the
    normalised decoder over (y, t)).
    """
    expected = total(p_x[x] * p_t_given_x[x, t] * _dual_distortion(x, t), x, t)
    constraint = total(mu[t] * (total(p_y_given_t[y, t], y) - 1), t)
    lagrangian = expected + constraint
    derivative = sp.diff(lagrangian, p_y_given_t[c, a]).doit()
    stationarity = canonical(derivative, _fold_rules())
    # Bayes: p(x) p(t|x) = p(t) p(x|t) turns the remaining sum into an average over p(x|t).
    stationarity = canonical(
        stationarity.replace(
            lambda e: isinstance(e, sp.Sum),
            lambda s: s.xreplace({p_t_given_x[s.limits[0][0], a]: p_x_given_t[s.limits[0][0], a] * p_t[a] / p_x[s.limits[0][0]]}),
        ),
        _fold_rules(),
    )
    solutions = sp.solve(sp.Eq(stationarity, 0), p_y_given_t[c, a])
    if len(solutions) != 1:
        raise DerivationError(f"expected one decoder solution, got {solutions}")
    solved = solutions[0]
    # The multiplier enters only as a factor exp(-1 - mu/p(t)) that does not depend on y; the
    # factors that do depend on y form the geometric mean (a Product of exps, written as exp(Sum)).
    factors = sp.Mul.make_args(solved)
    factor = sp.Mul(*[f for f in factors if not f.has(c)])
    if not factor.has(mu[a]) or factor.has(c):
        raise DerivationError(f"decoder solution {solved} is not (y-free factor) x (geometric mean)")
    geometric = sp.Mul(*[f for f in factors if f.has(c)]).replace(
        lambda e: isinstance(e, sp.Product) and isinstance(e.function, sp.exp),
        lambda e: sp.exp(sp.Sum(e.function.args[0], *e.limits)),
    )
    geometric = geometric.xreplace({x: xp})
    if geometric != sp.exp(total(p_x_given_t[xp, a] * sp.log(p_y_given_x[xp, c]), xp)):
        raise DerivationError(f"unexpected geometric-mean form {geometric}")
    decoder = geometric / total(geometric.xreplace({c: yp}), yp)
    return lagrangian, stationarity, solved, _rename(decoder)


def _named_i_ty(i_ty: sp.Expr) -> list[sp.Eq]:
    """I(T;Y) with the label marginal by its name p(y) and defined (display only; checked)."""
    label = total(p_x[x] * p_y_given_x[x, y], x)
    named = i_ty.xreplace({label: p_y[y]})
    require(named.xreplace({p_y[y]: label}) == i_ty and not named.has(p_y_given_x), "I(T;Y) names")
    return [sp.Eq(_I_TY, named), sp.Eq(p_y[y], label)]


def _named_objective(objective: sp.Expr) -> sp.Expr:
    """F = I(X;T) + beta sum_{x,t} p(x) p(t|x) D_KL[p(y|t) || p(y|x)], with the names (display only)."""
    named = objective.xreplace({_i_xt(): _I_XT, _dual_distortion(x, t): _KL_DUAL(x, t)})
    require(named.xreplace({_I_XT: _i_xt(), _KL_DUAL(x, t): _dual_distortion(x, t)}) == objective, "objective names")
    return named


@functools.cache
def dual_ib_derivation() -> Derivation:
    """The dualIB self-consistent equations (theory.md 3.1-3.2), derived here.

    F = I(X;T) + beta E_{p(x,t)} KL[p(y|t) || p(y|x)]. The decoder is a free variable minimised
    first (it is the normalised geometric mean of p(y|x) over p(x|t)); at that minimum the
    derivative of F through the decoder vanishes (envelope), so the encoder condition is the
    partial derivative with the decoder held fixed.
    """
    dec_lagrangian, dec_stationarity, dec_solved, decoder = _dual_decoder()

    pt_of_q = _marginal_of_encoder(t)
    i_xt_of_q = conditional_mutual_information(p_x[x], p_t_given_x[x, t], pt_of_q, x, t)
    expected = total(p_x[x] * p_t_given_x[x, t] * _dual_distortion(x, t), x, t)
    constraint = total(lagrange[x] * total(p_t_given_x[x, t], t), x)
    functional = i_xt_of_q + beta * expected + constraint
    derivative = sp.diff(functional, p_t_given_x[b, a]).doit()
    stationarity = canonical(derivative, _fold_rules())
    distortion = _dual_distortion(b, a)
    solved, log_factor, encoder = _solve_encoder(stationarity, distortion)

    objective = _i_xt() + beta * total(p_x[x] * p_t_given_x[x, t] * _dual_distortion(x, t), x, t)
    results = {
        "distortion": _rename(distortion),
        "encoder": sp.Eq(p_t_given_x[x, t], _rename(encoder)),
        "marginal": sp.Eq(p_t[t], total(p_x[xm] * p_t_given_x[xm, t], xm)),
        "inverse_encoder": _inverse_encoder(),
        "decoder": sp.Eq(p_y_given_t[y, t], decoder),
        "i_xt": _i_xt(),
        "i_ty": _i_ty(),
        "objective": objective,
    }
    steps = (
        Step(
            "decoder lagrangian",
            "The expected dual distortion as a function of a free decoder, with multipliers $\\mu(t)$ "
            "for $\\sum_y p(y|t) = 1$.",
            sp.Eq(sp.Symbol("G"), dec_lagrangian),
            title="Decoder Lagrangian",
        ),
        Step(
            "decoder stationarity",
            "Derivative with respect to one entry $p(y|t)$ of the decoder, rewritten with "
            "$p(x)p(t|x) = p(t)p(x|t)$. "
            "The second derivative $p(t)/p(y|t) > 0$: the stationary point is the minimum.",
            sp.Eq(dec_stationarity, 0),
            display=Chain(_partial("G", "p(y|t)"), dec_stationarity, 0),
            title="Decoder stationarity",
        ),
        Step(
            "decoder solved",
            "`sympy.solve` for the decoder entry.",
            sp.Eq(p_y_given_t[c, a], dec_solved),
            title="Solved for the decoder",
        ),
        Step(
            "decoder",
            "The multiplier only contributes a factor independent of $y$ (checked), so normalising "
            "over $y$ gives the normalised geometric mean (theory.md 3.2).",
            results["decoder"],
            title="Decoder",
        ),
        Step(
            "functional",
            "The dualIB functional $F = I(X;T) + \\beta E_{p(x,t)} D_{KL}[p(y|t)\\|p(y|x)]$ with "
            "$p(t)$ written in terms of the encoder and the decoder at its minimum (held fixed: "
            "envelope theorem).",
            sp.Eq(sp.Symbol("F"), functional),
            title="Functional",
        ),
        Step(
            "derivative",
            "SymPy's derivative with respect to one entry $p(t|x)$ (at a fixed $x$ and $t$).",
            sp.Eq(sp.Symbol("dF"), derivative),
            display=sp.Eq(_partial("F", "p(t|x)"), derivative),
            title="Derivative",
        ),
        Step(
            "stationarity",
            "After the rewrite layer; it must vanish.",
            sp.Eq(stationarity, 0),
            display=Chain(_partial("F", "p(t|x)"), stationarity, 0),
            title="Stationarity",
        ),
        Step(
            "solved", "`sympy.solve` for the encoder entry.", sp.Eq(p_t_given_x[b, a], solved), title="Solved for the encoder"
        ),
        Step(
            "x-only factor",
            "Dividing by $p(t)e^{-\\beta d(x,t)}$ with the reversed KL leaves a logarithm SymPy "
            "confirms is free of $t$.",
            sp.Eq(sp.Symbol("log_factor"), log_factor),
            display=sp.Eq(Named(r"\log \frac{p(t|x)}{p(t)} + \beta D_{KL}[p(y|t) \| p(y|x)]"), log_factor),
            title="A factor of x alone",
        ),
        Step(
            "encoder",
            "The dualIB encoder (theory.md 3.2): the IB form with the reversed KL as distortion.",
            results["encoder"],
            display=_named_encoder(results["encoder"], results["distortion"], _KL_DUAL),
            title="Encoder",
        ),
        Step("marginal", "The cluster marginal.", results["marginal"], title="Marginal"),
        Step(
            "objective",
            "The functional in terms of the decoder, in nats.",
            sp.Eq(sp.Symbol("F"), objective),
            display=[sp.Eq(sp.Symbol("F"), _named_objective(objective)), sp.Eq(_I_XT, _i_xt())],
            title="Objective",
        ),
    )
    return Derivation(
        name="dualib",
        title="Dual Information Bottleneck: self-consistent equations",
        reference=DUAL_REFERENCE,
        assumptions=(*_COMMON_ASSUMPTIONS, "p(y|x) > 0 wherever p(y|t) > 0 (the reversed KL is finite)."),
        inputs=_INPUTS,
        steps=steps,
        results=results,
    )


# ----------------------------------------------------------------------------- exponential family
r = sp.Idx("r", sp.Symbol("n_r", integer=True, positive=True))
rp = sp.Idx("rp", r.upper + 1)
register_index_letter(r.upper + 1, "r")
stat_x = register_indexed(sp.IndexedBase("A", real=True), IndexedNotation("A", (0,), sub=(1,)))  # A_r(x), [x, r]
multiplier = register_indexed(sp.IndexedBase("lambda", real=True), IndexedNotation(r"\lambda", (1,), sub=(0,)))  # lambda_r(y), [r, y]
log_partition_x = register_indexed(sp.IndexedBase("log_Z_x", real=True), IndexedNotation(r"\log Z", (0,)))  # log Z(x), [x]
stat_t = register_indexed(sp.IndexedBase("A_t", real=True), IndexedNotation("A", (0,), sub=(1,)))  # A_r(t) = sum_x p(x|t) A_r(x), [t, r]
mean_multiplier = register_indexed(  # E_{p(y|t)} lambda_r(Y), [t, r]
    sp.IndexedBase("lambdabar", real=True), IndexedNotation(r"\bar\lambda", (0,), sub=(1,))
)


def _expfam_likelihood(xx: sp.Expr, yy: sp.Expr) -> sp.Expr:
    """p(y|x) = exp(-sum_r lambda_r(y) A_r(x)) / Z(x) (theory.md 3.3)."""
    return sp.exp(-total(multiplier[r, yy] * stat_x[xx, r], r) - log_partition_x[xx])


@functools.cache
def dual_ib_expfam_derivation() -> Derivation:
    """The dualIB preserves exponential families (theory.md 3.3), derived here.

    The geometric-mean decoder of the dualIB derivation is evaluated for an exponential-family
    p(y|x); SymPy swaps the sums over x and r, folds sum_x p(x|t) A_r(x) into A_r(t), and checks
    that every term free of y cancels in the normalisation. The dual distortion then takes its
    closed form. A rational counter-example shows the IB decoder (a mixture) leaves the family.
    """
    decoder_eq = dual_ib_derivation().results["decoder"]
    if not isinstance(decoder_eq, sp.Eq):
        raise DerivationError("the dualIB derivation's decoder result is not an equation")
    decoder = decoder_eq.rhs
    numerator = sp.fraction(decoder)[0]  # exp(sum_x p(x|t) log p(y|x))
    log_geometric = sp.expand_log(sp.log(numerator), force=True).replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == p_y_given_x,
        lambda e: _expfam_likelihood(*e.indices),
    )
    log_geometric = sp.expand(sp.expand_log(log_geometric, force=True))
    log_geometric = canonical(log_geometric, [])
    # sum_x p(x|t) sum_r lambda A = sum_r lambda sum_x p(x|t) A: swap and fold into A_t.
    w = sp.Dummy("w")

    def swap(s: sp.Sum) -> sp.Expr:
        inner = s.function
        if isinstance(inner, sp.Mul):
            sums = [f for f in inner.args if isinstance(f, sp.Sum)]
            if len(sums) == 1 and s.limits[0][0] == xp:
                rest = inner / sums[0]
                body = sums[0].function * rest
                pattern = sp.Wild("k") * stat_x[w, r] * p_x_given_t[w, t]
                m = body.xreplace({xp: w}).match(pattern)
                if m is not None:
                    return sp.Sum(m[sp.Wild("k")] * stat_t[t, r], sums[0].limits)
        return s

    log_decoder = sp.expand(log_geometric.replace(lambda e: isinstance(e, sp.Sum), swap))
    y_free = sp.Add(*[term for term in sp.Add.make_args(log_decoder) if not term.has(y)])
    y_part = sp.expand(log_decoder - y_free)
    expfam_decoder = sp.exp(y_part) / total(sp.exp(y_part).xreplace({y: yp}), yp)
    # The y-free part cancels between numerator and normaliser: check it on the actual ratio.
    check = sp.simplify(
        sp.powsimp(sp.exp(log_decoder) / total(sp.exp(log_decoder.xreplace({y: yp})), yp), force=True)
    )
    ratio = sp.simplify(sp.powsimp(check / expfam_decoder, force=True))
    normaliser_cancels = ratio == 1 or not ratio.has(y)
    if not normaliser_cancels:
        raise DerivationError(f"the y-free terms do not cancel in the normalisation: ratio {ratio}")

    # Closed-form dual distortion: d(x,t) = sum_y p(y|t) [log p(y|t) - log p(y|x)].
    log_pyt = y_part - sp.log(total(sp.exp(y_part).xreplace({y: yp}), yp))
    log_pyx = -total(multiplier[r, y] * stat_x[x, r], r) - log_partition_x[x]
    lambda_bar = mean_multiplier
    log_partition_t = sp.log(total(sp.exp(y_part).xreplace({y: yp}), yp))
    distortion_terms = sp.expand(log_pyt - log_pyx)
    # sum_y p(y|t) lambda_r(y) = lambdabar_r(t); sum_y p(y|t) = 1.
    closed = total(lambda_bar[t, r] * (stat_x[x, r] - stat_t[t, r]), r) + log_partition_x[x] - log_partition_t
    closed_check = sp.expand(distortion_terms - (total(multiplier[r, y] * (stat_x[x, r] - stat_t[t, r]), r) + log_partition_x[x] - log_partition_t))
    closed_check = canonical(closed_check, [])
    if closed_check != 0:
        raise DerivationError(f"closed-form distortion differs from the definition by {closed_check}")

    counter = _ib_counter_example()
    results = {
        "decoder": sp.Eq(p_y_given_t[y, t], expfam_decoder),
        "sufficient_statistics": sp.Eq(stat_t[t, r], total(p_x_given_t[x, t] * stat_x[x, r], x)),
        "mean_multiplier": sp.Eq(lambda_bar[t, r], total(p_y_given_t[y, t] * multiplier[r, y], y)),
        "distortion": closed,
        "normaliser_cancels": sp.true if normaliser_cancels else sp.false,
        "distortion_check": closed_check,
        "ib_counter_example": counter,
    }
    steps = (
        Step(
            "likelihood",
            "An exponential-family likelihood with $d$ statistics $A_r(x)$ and multipliers $\\lambda_r(y)$.",
            sp.Eq(p_y_given_x[x, y], _expfam_likelihood(x, y)),
            title="Exponential-family likelihood",
        ),
        Step(
            "dual decoder",
            "The normalised geometric mean from the dualIB derivation.",
            sp.Eq(p_y_given_t[y, t], decoder),
            title="The dualIB decoder",
        ),
        Step(
            "log decoder",
            "Its logarithm (unnormalised) after expanding the likelihood and swapping the sums over "
            "$x$ and $r$; $\\sum_x p(x|t)A_r(x)$ folded into $A_r(t)$.",
            sp.Eq(sp.Symbol("log_q"), log_decoder),
            display=sp.Eq(Named(r"\log \tilde p(y|t)"), log_decoder),
            title="Its logarithm",
        ),
        Step(
            "decoder preserved",
            "The terms free of $y$ cancel in the normalisation (checked), so the decoder is in the "
            "same family with averaged statistics.",
            [results["decoder"], results["sufficient_statistics"]],
            title="The decoder stays in the family",
        ),
        Step(
            "closed-form distortion",
            "With $\\bar\\lambda_r(t) = E_{p(y|t)}\\lambda_r(Y)$; the difference of $\\log p(y|t) - \\log p(y|x)$ "
            "and the summand of the closed form vanishes identically (checked).",
            sp.Eq(sp.Symbol("d_dualIB"), closed),
            display=sp.Eq(_KL_DUAL(x, t), closed),
            title="Closed-form dual distortion",
        ),
        Step(
            "IB counter-example",
            "One statistic $A(x)$, $\\lambda(y) = y$ for $y \\in \\{0,1,2\\}$, so the family is "
            "$p(y) \\propto r^y$: members satisfy $p_1^2 = p_0 p_2$. The IB decoder for two equally "
            "weighted $x$ with $r = 1$ and $r = 1/4$ is their mixture, which violates it.",
            counter,
            display=[counter[0], sp.Eq(Named("p_1^2 - p_0 p_2"), counter[1].rhs)],
            title="The IB decoder leaves the family",
        ),
    )
    return Derivation(
        name="dualib-expfam",
        title="Dual Information Bottleneck: exponential families are preserved",
        reference=EXPFAM_REFERENCE,
        assumptions=(
            "p(y|x) = exp(-sum_r lambda_r(y) A_r(x)) / Z(x) with d = n_r statistics.",
            "The dualIB decoder of the dualib derivation.",
        ),
        inputs={
            "A": "statistics A_r(x) over (x, r)",
            "lambda": "multipliers lambda_r(y) over (r, y)",
            "p_x_given_t": "p(x|t) over (x, t)",
        },
        steps=steps,
        results=results,
    )


def _ib_counter_example() -> list[sp.Eq]:
    """Exact rational check that the IB (mixture) decoder is not in the family p(y) ∝ r^y."""
    member = [[sp.Rational(1, 3)] * 3]
    quarter = sp.Rational(1, 4)
    weights = [quarter**k for k in range(3)]
    member.append([w_ / sum(weights) for w_ in weights])
    mixture = [(member[0][k] + member[1][k]) / 2 for k in range(3)]
    p0, p1, p2 = sp.symbols("p_0 p_1 p_2")
    return [
        sp.Eq(sp.Tuple(p0, p1, p2), sp.Tuple(*mixture)),
        sp.Eq(sp.Symbol("p_1^2 - p_0 p_2"), mixture[1] ** 2 - mixture[0] * mixture[2]),
    ]
