"""``derive(L)``: the self-consistent equations of any Lagrangian posed in the term vocabulary.

A Lagrangian is a differentiable scalar function ``L = f(T_1, ..., T_k)`` of the information terms of
:mod:`ibtheory.symbolic._vocabulary` (``I("X;T")``, ``H("T")``, ...), the trade-off symbols ``beta``,
``alpha`` and numbers. The derivation is the one of :func:`ibtheory.symbolic.ib_derivation`, made
general by the chain rule:

    dL/dp(t|x) = sum_k (df/dT_k) dT_k/dp(t|x),

where each term derivative is taken by SymPy at the index level (the term's ``Sum`` differentiated
with respect to the entry ``p(t=a|x=b)`` and cleaned by the rewrite layer) and the outer derivatives
``df/dT_k`` by SymPy on the scalar function. The stationarity then has the form

    p(x) [ w_q log p(t|x) - w_t log p(t) + w_d d(x,t) ] + (terms free of t) + lambda(x) = 0,

which ``sympy.solve`` solves; the solution is checked to be
p(t|x) = exp[(w_t log p(t) - w_d d(x,t)) / w_q] / Z(x), i.e. the IB update with effective
coefficients alpha_eff = w_q / w_t and beta_eff = w_d / w_t (Strouse & Schwab 2017's generalized
IB form, theory.md 11.1). When ``f`` is not linear in the terms the weights depend on the terms'
values (``I(X;T)**2`` gives beta_eff = beta / (2 I(X;T)), theory.md 11.2): the update is then the
self-consistent form that a solver evaluates at the current iterate.

Parameters: ``beta`` and ``alpha`` stay symbolic (kernel scalar inputs). Any other symbol must be
given a value (``params={gamma: 2}``) or declared a symbolic scalar input (``scalars=(gamma,)``).

References: Tishby, Pereira & Bialek 1999 (theory.md 1.2); Strouse & Schwab 2017, Neural Computation
29(6) (theory.md 11.1); Kolchinsky, Tracey & Van Kuyk 2019, ICLR, arXiv 1808.07593 (theory.md 11.2);
Piran, Shwartz-Ziv & Tishby 2020, arXiv 2006.04641 (dual decoder, theory.md 3.2).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping

import sympy as sp

from ._derivation import Derivation, DerivationError, Step
from ._functionals import total
from ._ib import (
    _dual_decoder,
    _dual_distortion,
    _fold_rules,
    _i_ty,
    _i_xt,
    _ib_distortion,
    _inverse_encoder,
    _markov_joint_of_encoder,
    _rename,
    a,
    b,
    tp,
    xm,
    xp,
)
from ._printing import Chain, IndexedNotation, Named, latex, named_function, register_indexed
from ._rewrite import canonical
from ._symbols import (
    beta,
    lagrange,
    p_t,
    p_t_given_x,
    p_x,
    p_x_given_t,
    p_y_given_t,
    t,
    x,
    y,
)
from ._vocabulary import InformationTerm, alpha

__all__ = [
    "DERIVE_REFERENCE",
    "DIB_REFERENCE",
    "GIB_REFERENCE",
    "SQUARED_IB_REFERENCE",
    "ArgMax",
    "derive",
    "dib_derivation",
    "gib_derivation",
    "gib_lagrangian",
    "squared_ib_derivation",
    "squared_ib_lagrangian",
    "term_derivative",
]

DERIVE_REFERENCE = (
    "Derived by ibtheory.symbolic.derive: chain rule over the vocabulary's terms, each term "
    "differentiated at the index level by SymPy (method of Tishby, Pereira & Bialek 1999, "
    "physics/0004057, theory.md 1.2; effective-coefficient form as in Strouse & Schwab 2017, "
    "theory.md 11.1, and Kolchinsky, Tracey & Van Kuyk 2019, theory.md 11.2)."
)

#: Scalar functions a Lagrangian may apply to terms: smooth on the interior of the simplex.
_SMOOTH = (
    sp.Add,
    sp.Mul,
    sp.Pow,
    sp.exp,
    sp.log,
    sp.sin,
    sp.cos,
    sp.tan,
    sp.sinh,
    sp.cosh,
    sp.tanh,
    sp.atan,
    sp.erf,
)
_SMOOTH_NAMES = "+, -, *, /, powers, exp, log, sin, cos, tan, sinh, cosh, tanh, atan, erf"
_TRADE_OFFS = (beta, alpha)


# ----------------------------------------------------------------------------- validation
def _check(lagrangian: sp.Expr, declared: set[sp.Symbol]) -> list[InformationTerm]:
    """The terms of ``lagrangian``; ``ValueError`` for anything that is not a smooth function of them."""
    for node in sp.preorder_traversal(lagrangian):
        if isinstance(node, InformationTerm) or node in declared or isinstance(node, sp.Number | sp.NumberSymbol):
            continue
        if isinstance(node, sp.Symbol):
            raise ValueError(
                f"free symbol {node} in the Lagrangian has no value: give it one with params={{{node}: value}} "
                f"or declare it a symbolic scalar input with scalars=({node},); beta and alpha are always symbolic"
            )
        if isinstance(node, sp.Indexed | sp.IndexedBase | sp.Idx | sp.Sum | sp.Product):
            raise ValueError(
                f"{node} in the Lagrangian is not a term of the vocabulary: write the Lagrangian with "
                'H("T"), H("T|X"), I("X;T"), I("T;Y"), distortion("ib"), distortion("dualib"), beta, alpha'
            )
        if isinstance(node, sp.Piecewise | sp.Abs | sp.Max | sp.Min | sp.sign | sp.floor | sp.ceiling | sp.Heaviside):
            raise ValueError(
                f"{type(node).__name__} in {node} is not differentiable; a Lagrangian may combine terms "
                f"with {_SMOOTH_NAMES}"
            )
        if not isinstance(node, _SMOOTH):
            raise ValueError(
                f"{node} ({type(node).__name__}) is not an allowed function of the terms; a Lagrangian may "
                f"combine terms with {_SMOOTH_NAMES}"
            )
    terms = sorted(lagrangian.atoms(InformationTerm), key=lambda s: s.name)
    if not terms:
        raise ValueError(
            f"the Lagrangian {lagrangian} has no information term: it does not depend on the encoder p(t|x)"
        )
    families = {term.decoder for term in terms} - {""}
    if len(families) > 1:
        raise ValueError(
            f"the Lagrangian mixes terms with the Markov decoder ({', '.join(str(s) for s in terms if s.decoder == 'markov')}) "
            f"and the dualIB's minimised decoder ({', '.join(str(s) for s in terms if s.decoder == 'geometric')}); "
            "one Lagrangian uses one decoder p(y|t)"
        )
    return terms


def _prepare(
    lagrangian: object, params: Mapping[sp.Symbol, object] | None, scalars: Iterable[sp.Symbol]
) -> tuple[sp.Expr, tuple[sp.Symbol, ...], list[InformationTerm]]:
    try:
        expr = sp.sympify(lagrangian)
    except (sp.SympifyError, TypeError) as err:
        raise ValueError(f"the Lagrangian {lagrangian!r} is not a SymPy expression") from err
    if not isinstance(expr, sp.Expr) or isinstance(expr, sp.core.relational.Relational):
        raise ValueError(f"the Lagrangian must be a scalar SymPy expression, got {type(expr).__name__}")
    values = dict(params or {})
    for key, value in values.items():
        if not isinstance(key, sp.Symbol) or isinstance(key, InformationTerm) or key in _TRADE_OFFS:
            raise ValueError(f"params keys must be parameter symbols other than beta and alpha, got {key!r}")
        v = sp.sympify(value)
        if v.free_symbols - set(_TRADE_OFFS):
            raise ValueError(f"the value of {key} must be a number (or an expression in beta, alpha), got {value!r}")
    declared = tuple(scalars)
    for s in declared:
        if not isinstance(s, sp.Symbol) or isinstance(s, InformationTerm) or s in values:
            raise ValueError(f"scalars must be plain symbols without a value in params, got {s!r}")
    expr = expr.xreplace({k: sp.sympify(v) for k, v in values.items()})
    terms = _check(expr, set(_TRADE_OFFS) | set(declared))
    return expr, declared, terms


# ----------------------------------------------------------------------------- term derivatives
def _merge_nested(expr: sp.Expr) -> sp.Expr:
    """``sum_x f(x) sum_y g(x, y) = sum_{x,y} f g`` (limits independent), so the fold rules see both."""

    def one(s: sp.Sum) -> sp.Expr:
        inner = [g for g in sp.Mul.make_args(s.function) if isinstance(g, sp.Sum)]
        if len(inner) != 1:
            return s
        bound = {lim[0] for lim in s.limits}
        if any(bound & sp.Tuple(*lim[1:]).free_symbols for lim in inner[0].limits):
            return s
        return sp.Sum(s.function / inner[0] * inner[0].function, *s.limits, *inner[0].limits)

    return expr.replace(lambda e: isinstance(e, sp.Sum), one)


@functools.cache
def term_derivative(term: InformationTerm) -> sp.Expr:
    """dT/dp(t=a|x=b) of one vocabulary term, by SymPy at the index level, after the rewrite layer.

    The dualIB distortion's decoder is held fixed (it minimises the distortion: envelope theorem).
    """
    raw = sp.diff(term.of_encoder(), p_t_given_x[b, a]).doit()
    out = canonical(raw, _fold_rules())
    out = canonical(_merge_nested(out), _fold_rules())
    if out.has(p_t_given_x) and out.free_symbols & {x, t, xp}:
        # every sum over the encoder should have folded into p(t) or p(y|t)
        leftover = [s for s in out.atoms(sp.Sum) if s.has(p_t_given_x)]
        if leftover:
            raise DerivationError(f"the derivative of {term} keeps unfolded sums over the encoder: {leftover}")
    return out


# ----------------------------------------------------------------------------- the derivation
class ArgMax(sp.Function):
    """``argmax_t s(x, t)``: display form of the deterministic IB's assignment (args: score, index)."""

    def _latex(self, printer: object) -> str:
        body = printer._print(self.args[0])  # type: ignore[attr-defined]
        return r"\operatorname*{argmax}_{" + printer._print(self.args[1]) + r"} \left[" + body + r"\right]"  # type: ignore[attr-defined]


def _d_named(term: sp.Basic) -> Named:
    return Named(r"\frac{\partial " + latex(term) + r"}{\partial p(t|x)}")


_DL = Named(r"\frac{\partial L}{\partial p(t|x)}")
_L = Named("L")


def _as_scalars(expr: sp.Expr) -> sp.Expr:
    """Replace each term atom by its plain value symbol (``I(X;T)`` -> ``i_xt``) for code generation."""
    return expr.xreplace({s: s.scalar for s in expr.atoms(InformationTerm)})


def _split_a(expr: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    terms = sp.Add.make_args(sp.expand(expr))
    dep = sp.Add(*[z for z in terms if z.has(a)])
    return dep, sp.Add(*[z for z in terms if not z.has(a)])


def _cancel_grouped(expr: sp.Expr, in_key: Callable[[sp.Expr], bool]) -> sp.Expr:
    """``expr`` with its terms grouped by the product of their factors for which ``in_key`` holds,
    each group's coefficient put over a common denominator and cancelled (so that equal terms
    written with different denominators cancel; much cheaper than ``simplify``)."""
    groups: dict[sp.Expr, sp.Expr] = {}
    for term in sp.Add.make_args(sp.expand(expr)):
        factors = sp.Mul.make_args(term)
        key = sp.Mul(*[f for f in factors if in_key(f)])
        groups[key] = groups.get(key, sp.Integer(0)) + sp.Mul(*[f for f in factors if not in_key(f)])
    return sp.Add(*[sp.cancel(coefficient) * key for key, coefficient in groups.items()])


def _cancel_by_t(expr: sp.Expr) -> sp.Expr:
    """Terms grouped by their factor that depends on t (the entry ``a``), coefficients cancelled."""
    return _cancel_grouped(expr, lambda f: f.has(a))


def _cancel_by_arrays(expr: sp.Expr) -> sp.Expr:
    """Terms grouped by their factors that hold arrays or sums, scalar coefficients cancelled."""
    return _cancel_grouped(expr, lambda f: f.has(sp.Indexed, sp.Sum))


def _weights(stationarity: sp.Expr, distortion: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """(w_q, w_t, w_d) with stationarity = p(x)[w_q log p(t|x) - w_t log p(t) + w_d d] + t-free terms."""
    s = sp.expand(stationarity)
    lq, lp = sp.log(p_t_given_x[b, a]), sp.log(p_t[a])
    w_q = sp.cancel(s.coeff(lq) / p_x[b])
    w_t = sp.cancel(-s.coeff(lp) / p_x[b])
    rest = sp.expand(s - w_q * p_x[b] * lq + w_t * p_x[b] * lp)
    dep, _ = _split_a(rest)
    d_dep, _ = _split_a(canonical(distortion, _fold_rules()))
    w_d = sp.Integer(0) if dep == 0 else sp.cancel(dep / (p_x[b] * d_dep))
    for name, w in (("w_q", w_q), ("w_t", w_t), ("w_d", w_d)):
        if w.has(a, b, x, t, y, sp.Sum, sp.Indexed):
            raise DerivationError(
                f"the stationarity is not of the IB form p(x)[w_q log p(t|x) - w_t log p(t) + w_d d(x,t)]: {name} = {w}"
            )
    return w_q, w_t, w_d


@functools.cache
def _decoder_results(geometric: bool) -> tuple[dict[str, object], list[Step]]:
    if geometric:
        dec_lagrangian, dec_stationarity, dec_solved, decoder = _dual_decoder()
        steps = [
            Step(
                "decoder lagrangian",
                "The dualIB distortion's decoder is a free variable that minimises it, with multipliers "
                "$\\mu_t$ for $\\sum_y p(y|t) = 1$ (as in the `dualib` derivation).",
                sp.Eq(Named("G"), dec_lagrangian),
                title="Decoder Lagrangian",
            ),
            Step(
                "decoder stationarity",
                "Its derivative with respect to $p(y|t)$, rewritten with $p(x)p(t|x) = p(t)p(x|t)$, must vanish.",
                Chain(Named(r"\frac{\partial G}{\partial p(y|t)}"), dec_stationarity, 0),
                title="Decoder stationarity",
            ),
            Step("decoder solved", "`sympy.solve` for the decoder entry.", sp.Eq(p_y_given_t[y, t], dec_solved), title="Decoder solved"),
        ]
        return {"inverse_encoder": _inverse_encoder(), "decoder": sp.Eq(p_y_given_t[y, t], decoder)}, steps
    decoder_markov = _markov_joint_of_encoder(y, t) / p_t[t]
    bayes = {p_t_given_x[xp, t]: p_x_given_t[xp, t] * p_t[t] / p_x[xp]}
    decoder = sp.simplify(decoder_markov.xreplace(bayes))
    return {"inverse_encoder": _inverse_encoder(), "decoder": sp.Eq(p_y_given_t[y, t], decoder)}, []


_Z = named_function("Z(#1)")


def _kl(geometric: bool) -> type:
    return named_function(r"D_{KL}[p(y|#2) \| p(y|#1)]" if geometric else r"D_{KL}[p(y|#1) \| p(y|#2)]")


def _named_encoder(
    weight: sp.Expr, distortion: sp.Expr, alpha_eff: sp.Expr | None, beta_eff: sp.Expr | None, geometric: bool
) -> list[sp.Eq]:
    """Display: p(t|x) = w(x,t)/Z(x) with D_KL and Z by name (the weight is the encoder's, renamed);
    with effective coefficients also Strouse & Schwab's exp[(log p(t) - beta_eff d)/alpha_eff] / Z."""
    kl = _kl(geometric)
    named = _rename(weight).xreplace({_rename(distortion): kl(x, t)}) / _Z(x)
    lhs = p_t_given_x[x, t]
    if alpha_eff is None or alpha_eff == 1:
        return [sp.Eq(lhs, named), sp.Eq(kl(x, t), _rename(distortion))]
    exponent = (sp.log(p_t[t]) - beta_eff * kl(x, t)) / alpha_eff
    return [Chain(lhs, named, sp.exp(exponent, evaluate=False) / _Z(x)), sp.Eq(kl(x, t), _rename(distortion))]


def derive(
    lagrangian: object,
    *,
    name: str | None = None,
    params: Mapping[sp.Symbol, object] | None = None,
    scalars: Iterable[sp.Symbol] = (),
    title: str | None = None,
    reference: str | None = None,
) -> Derivation:
    """The self-consistent equations of ``lagrangian`` (minimised over encoders p(t|x)), derived.

    ``lagrangian``: a SymPy expression in the vocabulary's terms (``H("T")``, ``H("T|X")``,
    ``I("X;T")``, ``I("T;Y")``, ``distortion("ib")``, ``distortion("dualib")``), ``beta``, ``alpha``,
    numbers, and smooth functions (+, *, powers, exp, log, ...). ``params`` gives values to other
    symbols (substituted before deriving); ``scalars`` declares other symbols that stay symbolic
    (each becomes a scalar kernel input, like ``beta``). ``name``, ``title`` and ``reference`` label
    the returned :class:`Derivation` (default name ``"functional"``).

    ``results`` (the mapping code generation reads, with the keys of :func:`ib_derivation`):

    - ``encoder``: ``Eq(p(t|x), w(x,t) / sum_t' w(x,t'))`` with w = p(t)^(w_t/w_q) exp(-(w_d/w_q) d(x,t));
    - ``marginal``, ``decoder``, ``inverse_encoder`` (p(x|t) by Bayes, which both decoders use), ``distortion`` d(x,t);
    - ``i_xt``, ``i_ty`` (Markov decoder) and ``objective`` (L with every term at the index level);
    - ``alpha_eff``, ``beta_eff`` (None where the stationarity has no log p(t)), ``weights`` (w_q, w_t, w_d);
    - ``scalars``: ``{symbol: index-level expression}`` of the term values the weights depend on
      (e.g. ``i_xt`` for the squared IB), which a solver evaluates at the current iterate; empty when
      the weights are constants;
    - ``parameters``: the scalar parameter symbols (``beta``, ``alpha``, declared ``scalars``) present.

    Raises ``ValueError`` for an unknown term or atom, a free symbol without a value, a term that does
    not depend on the encoder, a non-differentiable function, or a Lagrangian whose stationarity has
    no log p(t|x) (no soft update: see the ``dib`` derivation for the deterministic limit).
    """
    expr, declared, terms = _prepare(lagrangian, params, scalars)
    geometric = any(term.decoder == "geometric" for term in terms)
    distortion = _dual_distortion(b, a) if geometric else _ib_distortion(b, a)

    outer = {term: sp.diff(expr, term) for term in terms}
    for term, fk in outer.items():
        if fk.has(sp.Derivative, sp.Subs):
            raise ValueError(f"the Lagrangian is not differentiable in {term} in closed form: dL/d{term} = {fk}")
    inner = {term: term_derivative(term) for term in terms}
    chain = sp.Add(*[outer[term] * inner[term] for term in terms]) + lagrange[b]
    stationarity = canonical(chain, _fold_rules())

    if not sp.expand(stationarity).has(sp.log(p_t_given_x[b, a])):
        raise ValueError(
            f"the stationarity of {expr} has no log p(t|x) (no H(T|X) or I(X;T) with a nonzero weight): there is "
            "no soft self-consistent update; the minimiser is a deterministic encoder. Pose "
            'H("T") - alpha*H("T|X") - ... and take alpha -> 0 (see the "dib" derivation)'
        )
    # check=False: SymPy's own check of the solution against the symbols' assumptions costs seconds per
    # coefficient; the residual of the solution is checked below instead
    solutions = sp.solve(sp.Eq(stationarity, 0), p_t_given_x[b, a], check=False, simplify=False)
    if len(solutions) != 1:
        raise DerivationError(f"expected one solution for p(t|x), got {solutions}")
    solved = solutions[0]
    residual = canonical(stationarity.xreplace({p_t_given_x[b, a]: solved}), _fold_rules())
    if _cancel_by_arrays(residual) != 0:
        raise DerivationError(f"the solved encoder leaves the stationarity residual {residual}")
    w_q, w_t, w_d = _weights(stationarity, distortion)
    weight = p_t[a] ** sp.cancel(w_t / w_q) * sp.exp(-sp.cancel(w_d / w_q) * distortion)
    log_factor = _cancel_by_t(canonical(sp.log(solved) - sp.expand_log(sp.log(weight), force=True), _fold_rules()))
    if log_factor.has(a):
        raise DerivationError(f"the factor {log_factor} depends on t; the update is not of the IB form")
    normaliser = total(weight.xreplace({a: tp}), tp)
    encoder = weight / normaliser
    # sum_t p(t|x) = 1: the normaliser is the sum of the weights (bound variable renamed)
    if sp.Sum(weight, (a, a.lower, a.upper)).xreplace({a: tp}) != normaliser:
        raise DerivationError("the encoder's normaliser is not the sum of its weights over t")

    alpha_eff = None if w_t == 0 else sp.cancel(w_q / w_t)
    beta_eff = None if w_t == 0 else sp.cancel(w_d / w_t)
    value_terms = sorted(
        {s for w in (w_q, w_t, w_d) for s in w.atoms(InformationTerm)}, key=lambda s: s.name
    )
    dec_results, dec_steps = _decoder_results(geometric)
    objective = expr.xreplace({term: term.expansion() for term in terms})
    parameters = tuple(s for s in (*_TRADE_OFFS, *declared) if expr.has(s))
    results: dict[str, object] = {
        "distortion": _rename(distortion),
        "encoder": sp.Eq(p_t_given_x[x, t], _as_scalars(_rename(encoder))),
        "marginal": sp.Eq(p_t[t], total(p_x[xm] * p_t_given_x[xm, t], xm)),
        **dec_results,
        "i_xt": _i_xt(),
        "i_ty": _i_ty(),
        "objective": objective,
        "alpha_eff": None if alpha_eff is None else _as_scalars(alpha_eff),
        "beta_eff": None if beta_eff is None else _as_scalars(beta_eff),
        "weights": tuple(_as_scalars(w) for w in (w_q, w_t, w_d)),
        "scalars": {s.scalar: s.expansion() for s in value_terms},
        "parameters": parameters,
    }

    constraint = total(lagrange[x] * total(p_t_given_x[x, t], t), x)
    d_name = "D_{KL}[p(y|t) \\| p(y|x)]" if geometric else "D_{KL}[p(y|x) \\| p(y|t)]"
    steps: list[Step] = [
        Step(
            "lagrangian",
            "The Lagrangian in the vocabulary's terms plus one multiplier per normalisation "
            "$\\sum_t p(t|x) = 1$; each term is a sum over the alphabets, defined below"
            + (" (the dualIB decoder $p(y|t)$ is a free variable, minimised below)." if geometric else "."),
            expr + constraint,
            title="Lagrangian",
            display=[sp.Eq(_L, expr + constraint), *[sp.Eq(term, term.expansion()) for term in terms]],
        ),
        Step(
            "chain rule",
            "The derivative with respect to an encoder entry, by the chain rule through the terms; "
            "the outer derivatives are SymPy's on the scalar function.",
            chain,
            title="Chain rule",
            display=sp.Eq(_DL, sp.Add(*[outer[term] * _d_named(term) for term in terms]) + lagrange[x]),
        ),
        Step(
            "term derivatives",
            "Each term differentiated by SymPy at the index level (its sum differentiated with respect to "
            "$p(t|x)$, range guards and Kronecker deltas removed, sums folded into $p(t)$, $p(y|t)$, $p(y)$"
            + ("; the free decoder held fixed, envelope theorem)." if geometric else ")."),
            [inner[term] for term in terms],
            title="Term derivatives",
            display=[sp.Eq(_d_named(term), inner[term]) for term in terms],
        ),
        *dec_steps,
        Step(
            "stationarity",
            "The chain rule with the term derivatives substituted, after the rewrite layer. It must vanish.",
            sp.Eq(stationarity, 0),
            title="Stationarity",
            display=Chain(_DL, stationarity, 0),
        ),
        Step(
            "solved",
            "`sympy.solve` for the encoder entry (exponent expanded, coefficients cancelled).",
            sp.Eq(p_t_given_x[b, a], solved),
            title="Solved",
            display=sp.Eq(p_t_given_x[b, a], sp.exp(_cancel_by_arrays(solved.exp)) if isinstance(solved, sp.exp) else solved),
        ),
        Step(
            "effective coefficients",
            "The stationarity reads $p(x)[w_q \\log p(t|x) - w_t \\log p(t) + w_d\\, d(x,t)] + (\\text{terms free of } t) = 0$ "
            f"with $d(x,t) = {d_name}$; SymPy reads off the weights. The update is the generalized IB form "
            "$p(t|x) \\propto \\exp[(\\log p(t) - \\beta_{\\mathrm{eff}} d(x,t))/\\alpha_{\\mathrm{eff}}]$ "
            "(Strouse & Schwab 2017); weights that depend on a term's value are evaluated at the current iterate.",
            (w_q, w_t, w_d),
            display=[
                sp.Eq(Named("w_q"), w_q),
                sp.Eq(Named("w_t"), w_t),
                sp.Eq(Named("w_d"), w_d),
                *(
                    []
                    if alpha_eff is None
                    else [
                        sp.Eq(Named(r"\alpha_{\mathrm{eff}}"), alpha_eff),
                        sp.Eq(Named(r"\beta_{\mathrm{eff}}"), beta_eff),
                    ]
                ),
            ],
            title="Effective coefficients",
        ),
        Step(
            "x-only factor",
            "Dividing the solution by $p(t)^{w_t/w_q} e^{-(w_d/w_q) d(x,t)}$ leaves this logarithm, which SymPy "
            "confirms does not depend on $t$; normalising over $t$ fixes it to $-\\log Z(x)$.",
            log_factor,
            title="Factor free of t",
            display=sp.Eq(Named(r"\log c(x)"), _cancel_by_arrays(log_factor)),
        ),
        Step(
            "encoder",
            "The self-consistent encoder"
            + ("" if alpha_eff is None else ", in the generalized IB form with the effective coefficients")
            + f", with $d(x,t) = {d_name}$.",
            sp.Eq(p_t_given_x[x, t], _rename(encoder)),
            title="Encoder",
            display=_named_encoder(weight, distortion, alpha_eff, beta_eff, geometric),
        ),
        Step(
            "normalisation",
            "$Z(x)$ is the sum of the weights over $t$, so that $\\sum_t p(t|x) = 1$ (checked).",
            _rename(normaliser),
            title="Normalisation",
            display=sp.Eq(_Z(x), _rename(normaliser).xreplace({_rename(distortion).xreplace({t: tp}): _kl(geometric)(x, tp)})),
        ),
        Step("marginal", "The cluster marginal.", results["marginal"], title="Marginal"),
        Step(
            "decoder",
            "The dualIB decoder: the normalised geometric mean of $p(y|x)$ over $p(x|t)$."
            if geometric
            else "The decoder implied by the encoder under the Markov chain, with Bayes' rule $p(x|t) = p(t|x)p(x)/p(t)$.",
            [results["decoder"]] if geometric else [results["inverse_encoder"], results["decoder"]],
            title="Decoder",
        ),
        Step(
            "information",
            "$I(X;T)$ and $I(T;Y)$ in nats ($I(T;Y)$ with the Markov decoder).",
            [results["i_xt"], results["i_ty"]],
            title="Information",
            display=[sp.Eq(Named("I(X;T)"), results["i_xt"]), sp.Eq(Named("I(T;Y)"), results["i_ty"])],
        ),
    ]
    return Derivation(
        name=name or "functional",
        title=title or f"Self-consistent equations of $L = {latex(expr)}$",
        reference=reference or DERIVE_REFERENCE,
        assumptions=(
            "Finite alphabets X, Y, T of sizes n_x, n_y, n_t; p(x) > 0 for every x.",
            "Markov chain T - X - Y: p(y|x, t) = p(y|x).",
            "Interior stationary points: p(t|x) > 0 where derivatives are taken.",
            "w_q > 0 at the solution (L strictly convex along each encoder row), so the stationary point is a minimum along it.",
            *(("dL/dE[D_KL(p(y|t)||p(y|x))] > 0: the decoder minimises the distortion.",) if geometric else ()),
        ),
        inputs={
            "p_x": "p(x) over (x,)",
            "p_y_given_x": "p(y|x) over (x, y)",
            "p_t_given_x": "the encoder p(t|x) over (x, t)",
            **{str(p): "a scalar parameter" for p in parameters},
            **{str(s.scalar): f"the value of {s.name} at the current encoder, a scalar" for s in value_terms},
        },
        steps=tuple(steps),
        results=results,
    )


# ----------------------------------------------------------------------------- the named family
GIB_REFERENCE = (
    "Strouse & Schwab 2017, 'The deterministic information bottleneck', Neural Computation 29(6):1611-1630, "
    "arXiv 1604.00268 (generalized IB and its self-consistent update; theory.md 11.1). Derived here by "
    "ibtheory.symbolic.derive."
)
DIB_REFERENCE = (
    "Strouse & Schwab 2017, arXiv 1604.00268 (the deterministic IB as the alpha -> 0 limit of the generalized "
    "IB; theory.md 11.1). Derived here from the generalized IB's update by SymPy limits."
)
SQUARED_IB_REFERENCE = (
    "Kolchinsky, Tracey & Van Kuyk 2019, 'Caveats for information bottleneck in deterministic scenarios', ICLR, "
    "arXiv 1808.07593 (convex IB u(I(X;T)) - beta I(T;Y), u(r) = r^2; theory.md 11.2). Derived here by "
    "ibtheory.symbolic.derive."
)


def gib_lagrangian() -> sp.Expr:
    """L = H(T) - alpha H(T|X) - beta I(T;Y) (Strouse & Schwab 2017; theory.md 11.1)."""
    from ._vocabulary import H, I

    return H("T") - alpha * H("T|X") - beta * I("T;Y")


def squared_ib_lagrangian() -> sp.Expr:
    """L = I(X;T)^2 - beta I(T;Y) (Kolchinsky, Tracey & Van Kuyk 2019; theory.md 11.2)."""
    from ._vocabulary import I

    return I("X;T") ** 2 - beta * I("T;Y")


@functools.cache
def gib_derivation() -> Derivation:
    """The generalized IB's update p(t|x) ∝ exp[(log p(t) - beta D_KL[p(y|x)||p(y|t)])/alpha], derived.

    ``results`` as :func:`derive`'s; parameters ``beta`` and ``alpha``; weights (w_q, w_t, w_d) =
    (alpha, 1, beta), so alpha_eff = alpha, beta_eff = beta; ``scalars`` is empty.
    """
    return derive(
        gib_lagrangian(),
        name="gib",
        title="Generalized Information Bottleneck: self-consistent equations",
        reference=GIB_REFERENCE,
    )


@functools.cache
def squared_ib_derivation() -> Derivation:
    """The squared IB: the IB update with beta_eff = beta / (2 I(X;T)) at the current iterate, derived."""
    return derive(
        squared_ib_lagrangian(),
        name="squared-ib",
        title="Squared Information Bottleneck: self-consistent equations",
        reference=SQUARED_IB_REFERENCE,
    )


assignment = register_indexed(
    sp.IndexedBase("assignment", integer=True), IndexedNotation("f", (0,))
)  # f(x): the cluster of x, [x]


@functools.cache
def dib_derivation() -> Derivation:
    """The deterministic IB as the alpha -> 0 limit of the generalized IB (theory.md 11.1), derived.

    From the generalized IB's encoder SymPy forms the log-ratio of two clusters t, t' (Z(x) cancels),
    reads off the score s(x,t) with log p(t|x) - log p(t'|x) = (s(x,t) - s(x,t'))/alpha, and takes the
    limits alpha -> 0+: the ratio p(t'|x)/p(t|x) = exp(-(s(x,t) - s(x,t'))/alpha) tends to 0 for
    every t' with a lower score, and on three clusters with the first the unique best the softmax tends
    to (1, 0, 0): the encoder concentrates on argmax_t s(x,t). The objective is the generalized IB's at
    alpha = 0, H(T) - beta I(T;Y).
    """
    gib = gib_derivation()
    enc = gib.results["encoder"]
    if not isinstance(enc, sp.Eq):
        raise DerivationError("the generalized IB's encoder result is not an equation")
    tt = sp.Idx("tt", t.upper + 1)
    ratio = enc.rhs / enc.rhs.xreplace({t: tt})
    log_ratio = canonical(sp.log(sp.powsimp(ratio, force=True)), [])
    if log_ratio.has(sp.Sum(sp.Wild("w"), (tp, 0, t.upper))) or any(s.has(tp) for s in log_ratio.atoms(sp.Sum)):
        raise DerivationError(f"the normaliser Z(x) did not cancel in the log-ratio {log_ratio}")
    scaled = sp.expand(alpha * log_ratio)
    score = sp.Add(*[z for z in sp.Add.make_args(scaled) if z.has(t) and not z.has(tt)])
    rest = sp.expand(scaled - score)
    if sp.expand(rest + score.xreplace({t: tt})) != 0:
        raise DerivationError(f"alpha * log-ratio is not s(x,t) - s(x,t'): leftover {rest}")
    if score.has(alpha):
        raise DerivationError(f"the score {score} depends on alpha")
    # the score is log p(t) - beta d(x,t) up to a term free of t (which does not move the argmax)
    dib_score = sp.log(p_t[t]) - beta * gib.results["distortion"]
    offset = canonical(score - dib_score, _fold_rules())
    if offset.has(t):
        raise DerivationError(f"the score differs from log p(t) - beta d(x,t) by a t-dependent {offset}")
    # the limits
    gap = sp.Symbol("Delta", positive=True)  # s(x,t) - s(x,t') > 0
    loser = sp.limit(sp.exp(-gap / alpha), alpha, 0, "+")
    gaps = sp.symbols("Delta_1 Delta_2", positive=True)
    softmax = [sp.Integer(1), sp.exp(-gaps[0] / alpha), sp.exp(-gaps[1] / alpha)]
    limits = [sp.limit(w / sp.Add(*softmax), alpha, 0, "+") for w in softmax]
    if loser != 0 or limits != [1, 0, 0]:
        raise DerivationError(f"the softmax at temperature alpha does not concentrate: {loser}, {limits}")
    objective = gib.results["objective"]
    if not isinstance(objective, sp.Expr):
        raise DerivationError("the generalized IB's objective is not an expression")
    dib_objective = objective.xreplace({alpha: 0})
    assign = sp.Eq(assignment[x], ArgMax(dib_score, t))
    results: dict[str, object] = {
        "score": dib_score,
        "assignment": assign,
        "encoder": sp.Eq(p_t_given_x[x, t], sp.KroneckerDelta(t, assignment[x])),
        **{k: gib.results[k] for k in ("distortion", "marginal", "inverse_encoder", "decoder", "i_xt", "i_ty")},
        "objective": dib_objective,
        "parameters": (beta,),
    }
    p_ratio = Named(r"\frac{p(t'|x)}{p(t|x)}")
    steps = (
        Step(
            "generalized encoder",
            "The generalized IB's encoder (derivation `gib`), a softmax over $t$ at temperature $\\alpha$.",
            enc,
            title="Generalized IB encoder",
        ),
        Step(
            "log ratio",
            "The log-ratio of two clusters $t, t'$ of the same $x$: the normaliser $Z(x)$ cancels (checked).",
            sp.Eq(Named(r"\log\frac{p(t|x)}{p(t'|x)}"), log_ratio),
            title="Log-ratio of two clusters",
        ),
        Step(
            "score",
            "$\\alpha$ times the log-ratio is $s(x,t) - s(x,t')$ with the score below (checked); it does not "
            "depend on $\\alpha$, and differs from $\\log p(t) - \\beta D_{KL}[p(y|x) \\| p(y|t)]$ by a term free of "
            "$t$ (checked), which does not move the maximiser.",
            [sp.Eq(Named("s(x,t)"), score), Chain(Named("s(x,t)"), dib_score + Named(r"c(x)"))],
            title="Score",
        ),
        Step(
            "limit",
            "With $\\Delta = s(x,t) - s(x,t') > 0$ the ratio vanishes as $\\alpha \\to 0^+$ (SymPy's limit); on three "
            "clusters with gaps $\\Delta_1, \\Delta_2 > 0$ below the best, the softmax tends to $(1, 0, 0)$.",
            [
                sp.Eq(Named(r"\lim_{\alpha\to 0^+} " + latex(p_ratio)), loser),
                *[
                    sp.Eq(Named(r"\lim_{\alpha\to 0^+} p(t_{" + str(k + 1) + r"}|x)"), v)
                    for k, v in enumerate(limits)
                ],
            ],
            title="Zero-temperature limit",
        ),
        Step(
            "encoder",
            "The deterministic IB encoder: each $x$ goes to its best-scoring cluster (ties: any of them).",
            [assign, results["encoder"]],
            title="Deterministic encoder",
        ),
        Step("marginal", "The cluster marginal.", results["marginal"], title="Marginal"),
        Step(
            "decoder",
            "The Markov decoder, as for the IB.",
            [results["inverse_encoder"], results["decoder"]],
            title="Decoder",
        ),
        Step(
            "objective",
            "The generalized IB's objective at $\\alpha = 0$: $H(T) - \\beta I(T;Y)$, in nats.",
            sp.Eq(Named("L"), dib_objective),
            title="Objective",
        ),
    )
    return Derivation(
        name="dib",
        title="Deterministic Information Bottleneck: the zero-temperature limit",
        reference=DIB_REFERENCE,
        assumptions=(*gib.assumptions[:2], "alpha -> 0+ with beta fixed; a unique maximiser of the score (ties: any)."),
        inputs={k: v for k, v in gib.inputs.items() if k != "alpha"},
        steps=steps,
        results=results,
    )
