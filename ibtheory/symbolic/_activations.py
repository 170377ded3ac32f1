"""Dual activations for the NNGP/NTK recursion, derived for any elementwise activation phi(u).

For (u, v) ~ N(0, [[var1, nngp], [nngp, var2]]) the recursion needs E = E[phi(u) phi(v)] and
Edot = E[phi'(u) phi'(v)] (theory.md 7.2). :func:`dual_activation` derives them in closed form
where one of these routes applies, checked while building (Price's theorem dE/d nngp = Edot at an
exact rational point, and E at nngp = 0 against E[phi(u)] E[phi(v)] by quadrature):

- ``piecewise-linear``: phi(u) = p u + q relu(u) (ReLU, leaky ReLU, abs, identity): bilinear in the
  arc-cosine kernels of Cho & Saul 2009 (E[u relu(v)] = nngp / 2; theory.md 7.3, 11.4);
- ``erf``: phi(u) = A erf(B u) + C: Williams 1997 with variances scaled by B^2 (neural-tangents
  ``Erf(a, b, c)``), in the atan2 form of the ``ntk`` derivation;
- ``gelu``: phi(u) = u Phi(u): Tsuchida, Pearce, van der Heide, Roosta & Gallagher, AAAI 2021
  (arXiv 2002.08517), as implemented by neural-tangents ``stax.Gelu``, re-checked here;
- ``trigonometric``: linear combinations of sin(k u), cos(k u): each product is a sum of
  exp(i(s u + t v)), whose expectation is the characteristic function exp(-(s^2 var1 + 2 s t nngp +
  t^2 var2)/2) (theory.md 11.4: E[sin u sin v] = exp(-(var1 + var2)/2) sinh(nngp));
- ``polynomial``: Isserlis/Wick: u = sqrt(var1) z1, v = nngp/sqrt(var1) z1 + sqrt(var2 - nngp^2/var1) z2,
  E[z^k] = (k - 1)!! for even k (neural-tangents ``Monomial``/``Polynomial`` compute the same);
- otherwise ``quadrature``: E and Edot by a 2-D trapezoid rule in the Gaussian variables, with a step
  set by the activation's strip of analyticity (``ibtheory.ntk`` ``QUADRATURE_STRIP``; exponentially
  accurate, Trefethen & Weideman 2014; ~1e-14 relative for tanh, sigmoid, softplus, where
  neural-tangents' ``ElementwiseNumerical`` Gauss-Hermite rule loses up to 9e-2); the derivation then
  only supplies phi and phi'.

Activations whose Gaussian moments do not exist (e.g. exp(u^2), for which E[phi(u)^2] diverges once
var1 >= 1/4) are refused with ``ValueError``, as are Lambdas of more than one variable.
"""

from __future__ import annotations

import functools

import mpmath
import sympy as sp

from ._derivation import Derivation, Step, require
from ._printing import Named
from ._symbols import nngp, var1, var2

#: The variable of an activation's Lambda.
u_act = sp.Symbol("u_act", real=True)

_u = u_act


def _named() -> dict[str, sp.Lambda]:
    u = _u
    return {
        "relu": sp.Lambda(u, sp.Max(u, 0)),
        "erf": sp.Lambda(u, sp.erf(u)),
        "gelu": sp.Lambda(u, u * (1 + sp.erf(u / sp.sqrt(2))) / 2),
        "sin": sp.Lambda(u, sp.sin(u)),
        "cos": sp.Lambda(u, sp.cos(u)),
        "abs": sp.Lambda(u, sp.Abs(u)),
        "leaky_relu": sp.Lambda(u, sp.Max(u, 0) + sp.Rational(1, 100) * sp.Min(u, 0)),
        "tanh": sp.Lambda(u, sp.tanh(u)),
        "sigmoid": sp.Lambda(u, 1 / (1 + sp.exp(-u))),  # evaluated in the overflow-free _STABLE form
        "softplus": sp.Lambda(u, sp.log(1 + sp.exp(u))),
        "identity": sp.Lambda(u, u),
    }


#: The named activations (neural-tangents names where it has them; leaky_relu has slope 0.01,
#: PyTorch's default; sigmoid is the logistic function; softplus is log(1 + e^u)).
NAMED_ACTIVATIONS: tuple[str, ...] = tuple(_named())


def activation_lambda(activation: object) -> sp.Lambda:
    """The one-variable SymPy Lambda of ``activation`` (a name of :data:`NAMED_ACTIVATIONS` or a
    Lambda), with its variable renamed to :data:`u_act`; ``ValueError`` naming what is wrong."""
    if isinstance(activation, str):
        named = _named()
        if activation not in named:
            raise ValueError(f"activation must be one of {NAMED_ACTIVATIONS} or a one-argument sympy Lambda, got {activation!r}")
        lam = named[activation]  # (SymPy stores Lambda(u, u) with a Dummy variable: renamed below)
        return sp.Lambda(_u, lam.expr.xreplace({lam.variables[0]: _u}))
    if not isinstance(activation, sp.Lambda):
        raise ValueError(f"activation must be a name or a one-argument sympy Lambda, got {type(activation).__name__}")
    if len(activation.variables) != 1:
        raise ValueError(f"activation Lambda must have exactly one variable, got {len(activation.variables)}: {activation}")
    (var,) = activation.variables
    body = activation.expr.xreplace({var: _u})
    extra = body.free_symbols - {_u}
    if extra:
        raise ValueError(f"activation Lambda {activation} has free symbols besides its variable: {sorted(map(str, extra))}")
    _require_moments(body, activation)
    return sp.Lambda(_u, body)


def _require_moments(body: sp.Expr, shown: object) -> None:
    """Gaussian second moments exist for every variance only if phi(u)^2 grows slower than
    exp(c u^2) for every c > 0: refuse growth like exp(u^2) (checked at u = +-8, +-16 in mpmath)."""
    f = _mp_function(body)
    with mpmath.workdps(30):
        for sign in (1, -1):
            try:
                big = [abs(mpmath.mpf(f(mpmath.mpf(sign * r)))) for r in (8, 16)]
            except (ValueError, ZeroDivisionError, TypeError, OverflowError) as err:
                raise ValueError(f"activation {shown} cannot be evaluated on the real line ({err})") from None
            if not all(mpmath.isfinite(v) for v in big):
                raise ValueError(f"activation {shown} is not finite on the real line")
            # log|phi| ~ c u^2 for Gaussian-like growth: compare the growth from 8 to 16 with u^2
            if big[1] > 1 and mpmath.log(big[1]) - mpmath.log(max(big[0], mpmath.mpf(1))) > 0.05 * (16**2 - 8**2):
                raise ValueError(
                    f"activation {shown} grows like exp(c u^2): its Gaussian moments E[phi(u)^2] do not exist for "
                    "every variance (e.g. exp(u**2) diverges once the pre-activation variance reaches 1/4)"
                )


def _mp_function(body: sp.Expr):
    """phi as an mpmath function (Max/Min as Python's, which mpmath numbers support)."""
    return sp.lambdify(_u, body, [{"Max": lambda *a: max(a), "Min": lambda *a: min(a)}, "mpmath"])


#: Overflow-free forms of phi and phi' used for evaluation (same functions; checked at points):
#: the logistic function as (1 + tanh(u/2))/2, softplus as max(u, 0) + log(1 + exp(-|u|)).
_STABLE = {
    "sigmoid": lambda: ((1 + sp.tanh(_u / 2)) / 2, (1 - sp.tanh(_u / 2) ** 2) / 4),
    "softplus": lambda: (sp.Max(_u, 0) + sp.log(1 + sp.exp(-sp.Abs(_u))), (1 + sp.tanh(_u / 2)) / 2),
}


def _same_function(a: sp.Expr, b: sp.Expr) -> bool:
    fa, fb = _mp_function(a), _mp_function(b)
    with mpmath.workdps(30):
        return all(abs(fa(mpmath.mpf(x)) - fb(mpmath.mpf(x))) < mpmath.mpf(10) ** -25 for x in (-7.5, -1.25, 0.5, 3.0, 11.0))


def _det() -> sp.Expr:
    return sp.Max(var1 * var2 - nngp**2, 0)


def _relu_basis(p: sp.Expr, q: sp.Expr) -> dict[str, sp.Expr]:
    """phi = p u + q relu(u): E = p^2 nngp + p q nngp + q^2 E_relu, Edot = p^2 + p q + q^2 Edot_relu."""
    root = sp.sqrt(_det())
    psi = sp.atan2(root, -nngp)
    e_rr = (root + psi * nngp) / (2 * sp.pi)
    return {"e": p**2 * nngp + p * q * nngp + q**2 * e_rr, "edot": p**2 + p * q + q**2 * psi / (2 * sp.pi)}


def _erf_family(a: sp.Expr, b: sp.Expr, c: sp.Expr) -> dict[str, sp.Expr]:
    den = sp.sqrt(1 + 2 * b**2 * (var1 + var2) + 4 * b**4 * _det())
    return {"e": a**2 * 2 / sp.pi * sp.atan2(2 * b**2 * nngp, den) + c**2, "edot": a**2 * b**2 * 4 / sp.pi / den}


def _gelu() -> dict[str, sp.Expr]:
    # neural-tangents stax.Gelu: delta^2 = (var1 + 1)(var2 + 1) - nngp^2 = 1 + var1 + var2 + det
    delta2 = 1 + var1 + var2 + _det()
    delta = sp.sqrt(delta2)
    angle = sp.atan2(nngp, delta)
    prod1 = (var1 + 1) * (var2 + 1)
    e = nngp / 4 + ((nngp**2 + var1 * var2 * delta2) / (prod1 * delta) + nngp * angle) / (2 * sp.pi)
    edot = sp.Rational(1, 4) + angle / (2 * sp.pi) + nngp / delta / (2 * sp.pi) * (1 / delta2 + (1 - var1 * var2) / prod1 + 1)
    return {"e": e, "edot": edot}


def _char_function(expr: sp.Expr) -> sp.Expr | None:
    """E[expr(u, v)] for a sum of c exp(i(s u + t v)) (after rewriting sin/cos), else None."""
    v = sp.Symbol("v_act", real=True)
    total = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr.rewrite(sp.exp))):
        coeff, rest = sp.powsimp(term, combine="exp").as_independent(_u, v)
        if rest == 1:
            total += coeff
            continue
        if not isinstance(rest, sp.exp):
            return None
        arg = sp.expand(rest.args[0] / sp.I)
        poly = sp.Poly(arg, _u, v) if arg.is_polynomial(_u, v) else None
        if poly is None or poly.total_degree() > 1 or not all(c.is_real for c in poly.coeffs()):
            return None
        s, t = arg.coeff(_u), arg.coeff(v)
        if sp.expand(arg - s * _u - t * v) != 0:
            return None
        # exp(-(s^2 var1 + t^2 var2)/2) exp(-s t nngp): grouped by the first factor below
        total += coeff * sp.exp(-(s**2 * var1 + t**2 * var2) / 2) * sp.exp(-s * t * nngp)
    return _hyperbolic(total)


def _hyperbolic(total: sp.Expr) -> sp.Expr:
    """Pairs c exp(-X) exp(k nngp) + c' exp(-X) exp(-k nngp) without cancellation: with r =
    sqrt(|c c'|) and delta = log|c / c'| / 2 the pair is 2 r cosh(k nngp + delta) (c, c' of one
    sign) or 2 r sgn(c) sinh(k nngp + delta) (opposite signs; delta = 0 for the sin / cos duals);
    a lone c exp(k nngp) stays one exponential. (Summing cosh and sinh instead lost ~1e-11 of
    cosh + sinh = exp at k nngp ~ -12: neural-tangents' Rbf test.)"""
    groups: dict[sp.Expr, dict[sp.Expr, sp.Expr]] = {}
    for term in sp.Add.make_args(sp.expand(total)):
        coeff, rest = term.as_independent(nngp, var1, var2)
        k = sp.Integer(0)
        prefix = sp.Integer(1)
        for factor in sp.Mul.make_args(rest):
            arg = factor.args[0] if isinstance(factor, sp.exp) else None
            if arg is not None and arg.has(nngp) and not arg.has(var1, var2):
                k += arg / nngp
            else:
                prefix *= factor
        groups.setdefault(sp.powsimp(prefix), {})
        groups[sp.powsimp(prefix)][k] = groups[sp.powsimp(prefix)].get(k, 0) + coeff
    out = sp.Integer(0)
    for prefix, by_k in groups.items():
        done = set()
        for k, c in by_k.items():
            if k in done:
                continue
            c_neg = by_k.get(-k, 0) if k != 0 else 0
            done.update({k, -k})
            if k == 0:
                out += c * prefix
                continue
            if c == 0 or c_neg == 0:
                out += sp.powsimp(prefix * (c + c_neg) * sp.exp((k if c_neg == 0 else -k) * nngp), combine="exp")
                continue
            r, delta = sp.sqrt(abs(c * c_neg)), sp.log(abs(c / c_neg)) / 2
            same_sign = bool(sp.sign(c) == sp.sign(c_neg))
            hyp = sp.cosh(k * nngp + delta) if same_sign else sp.sign(c) * sp.sinh(k * nngp + delta)
            out += prefix * 2 * r * hyp
    return out


def _trigonometric(body: sp.Expr) -> dict[str, sp.Expr] | None:
    if not body.has(sp.sin, sp.cos) or body.has(sp.tan, sp.exp, sp.log, sp.Abs, sp.Max, sp.Min, sp.erf):
        return None
    v = sp.Symbol("v_act", real=True)
    dbody = sp.diff(body, _u)
    e = _char_function(body * body.xreplace({_u: v}))
    edot = _char_function(dbody * dbody.xreplace({_u: v}))
    if e is None or edot is None:
        return None
    return {"e": e, "edot": edot}


def _polynomial(body: sp.Expr) -> dict[str, sp.Expr] | None:
    if not body.is_polynomial(_u):
        return None
    z1, z2 = sp.symbols("z_1 z_2", real=True)
    a, c, b = sp.Symbol("a_w", positive=True), sp.Symbol("c_w", positive=True), sp.Symbol("b_w", real=True)
    u_z = sp.sqrt(a) * z1
    v_z = b / sp.sqrt(a) * z1 + sp.sqrt(c - b**2 / a) * z2

    def wick(expr: sp.Expr) -> sp.Expr:
        poly = sp.Poly(sp.expand(expr), z1, z2)
        moment = lambda k: 0 if k % 2 else sp.factorial2(k - 1)  # noqa: E731 - E[z^k], z ~ N(0, 1)
        out = sum(coef * moment(i) * moment(j) for (i, j), coef in poly.terms())
        return sp.expand(out)

    dbody = sp.diff(body, _u)
    back = {a: var1, c: var2, b: nngp}
    e = wick(body.xreplace({_u: u_z}) * body.xreplace({_u: v_z})).xreplace(back)
    edot = wick(dbody.xreplace({_u: u_z}) * dbody.xreplace({_u: v_z})).xreplace(back)
    return {"e": e, "edot": edot}


def _piecewise_linear(body: sp.Expr) -> dict[str, sp.Expr] | None:
    """phi = p u + q relu(u) on the real line: read p, q from phi on u > 0 and u < 0."""
    if body.has(sp.sin, sp.cos, sp.exp, sp.log, sp.erf, sp.tanh):
        return None
    pos, neg = sp.Symbol("u_pos", positive=True), sp.Symbol("u_neg", negative=True)
    right = sp.simplify(body.xreplace({_u: pos}) / pos)
    left = sp.simplify(body.xreplace({_u: neg}) / neg)
    if right.free_symbols or left.free_symbols:
        return None
    return _relu_basis(left, right - left)


def _erf_match(body: sp.Expr) -> dict[str, sp.Expr] | None:
    a, b, c = sp.Wild("a", exclude=[_u]), sp.Wild("b", exclude=[_u]), sp.Wild("c", exclude=[_u])
    m = sp.expand(body).match(a * sp.erf(b * _u) + c)
    if not m or m[b] == 0 or not all(m[k].is_real for k in (a, b, c)):
        return None
    return _erf_family(m[a], m[b], m[c])


def _is_gelu(body: sp.Expr) -> bool:
    return sp.simplify(body - _named()["gelu"].expr) == 0


def _diag(forms: dict[str, sp.Expr]) -> dict[str, sp.Expr]:
    """The forms at var1 = var2 = nngp (det = 0), in terms of nngp."""
    s = sp.Symbol("s", positive=True)
    # (no simplify: its result can depend on hash order, and the generated kernels must not)
    return {k: v.xreplace({var1: s, var2: s, nngp: s}).xreplace({s: nngp}) for k, v in forms.items()}


def _gauss_mean(f, var) -> mpmath.mpf:
    sd = mpmath.sqrt(var)
    return mpmath.quad(lambda z: f(sd * z) * mpmath.npdf(z), [-mpmath.inf, 0, mpmath.inf])


def _check_forms(body: sp.Expr, forms: dict[str, sp.Expr], method: str) -> None:
    """Price's theorem and the zero-correlation value at exact rational points (30 digits)."""
    f = _mp_function(body)
    for a, c, b in [(sp.Rational(3, 2), sp.Rational(7, 10), sp.Rational(2, 5)), (sp.Rational(1, 3), sp.Rational(5, 4), -sp.Rational(1, 5))]:
        point = {var1: a, var2: c, nngp: b}
        price = sp.N((sp.diff(forms["e"], nngp) - forms["edot"]).subs(point), 30)
        require(abs(price) < 1e-20, f"{method} dual of {body}: Price's theorem fails by {price}")
        with mpmath.workdps(30):
            zero = _gauss_mean(f, mpmath.mpf(a.p) / a.q) * _gauss_mean(f, mpmath.mpf(c.p) / c.q)
        gap = sp.N(forms["e"].subs({var1: a, var2: c, nngp: 0}), 30) - sp.Float(str(zero), 30)
        require(abs(gap) < 1e-15 * (1 + abs(zero)), f"{method} dual of {body}: E at zero correlation is off by {gap}")


@functools.lru_cache(maxsize=64)
def dual_activation(activation: object) -> dict[str, object]:
    """``{"phi", "dphi", "method", "e", "edot", "e_diag", "edot_diag"}`` for ``activation`` (a name or a
    Lambda). ``method`` is ``"piecewise-linear"``, ``"erf"``, ``"gelu"``, ``"trigonometric"``,
    ``"polynomial"`` or ``"quadrature"`` (then the four forms are None). Forms are in (var1, var2,
    nngp) for pairs, in ``nngp`` (= the variance) for the diagonal."""
    lam = activation_lambda(activation)
    body = lam.expr.xreplace({lam.variables[0]: _u})  # (Lambda(u, u) keeps a Dummy variable)
    # Decimal coefficients (0.3 erf(1.5 u)) as the exact rationals they print as: the derivation and
    # its checks are then exact (with 15-digit Floats Price's theorem held only to ~1e-17)
    body = body.xreplace({f: sp.Rational(str(f)) for f in body.atoms(sp.Float)})
    forms: dict[str, sp.Expr] | None = None
    method = "quadrature"
    for name, route in (
        ("polynomial", _polynomial),
        ("piecewise-linear", _piecewise_linear),
        ("erf", _erf_match),
        ("gelu", lambda e: _gelu() if _is_gelu(e) else None),
        ("trigonometric", _trigonometric),
    ):
        forms = route(body)
        if forms is not None:
            method = name
            break
    # Heaviside (the derivative of Max/Min) as (1 + sign)/2: the same function, printable by codegen
    dphi = sp.diff(body, _u).replace(sp.Heaviside, lambda *a: (1 + sp.sign(a[0])) / 2)
    if dphi.has(sp.DiracDelta):
        raise ValueError(f"activation {lam} jumps (its derivative has a Dirac delta), so E[phi'(u) phi'(v)] and the "
                         "NTK are not functions of the kernel; use a continuous activation (e.g. erf(k u) for sign(u))")
    phi_eval, dphi_eval = body, dphi
    if isinstance(activation, str) and activation in _STABLE:
        phi_eval, dphi_eval = _STABLE[activation]()
        require(_same_function(phi_eval, body) and _same_function(dphi_eval, dphi), f"stable {activation} forms differ")
    out: dict[str, object] = {"phi": phi_eval, "dphi": dphi_eval, "method": method, "e": None, "edot": None, "e_diag": None, "edot_diag": None}
    if forms is not None:
        _check_forms(body, forms, method)
        out.update(forms)
        diag = _diag(forms)
        out["e_diag"], out["edot_diag"] = diag["e"], diag["edot"]
    return out


@functools.lru_cache(maxsize=1)
def activations_derivation() -> Derivation:
    """The dual activations of the named activations (catalogue name ``activations``)."""
    steps = []
    for name in NAMED_ACTIVATIONS:
        d = dual_activation(name)
        phi = Named(rf"\phi_{{\mathrm{{{name.replace('_', ' ')}}}}}(u)")
        shown_u = {_u: Named("u")}
        eqs: list[object] = [sp.Eq(phi, sp.sympify(d["phi"]).xreplace(shown_u))]
        if d["method"] != "quadrature":
            eqs += [sp.Eq(Named(r"E"), d["e"]), sp.Eq(Named(r"\dot E"), d["edot"])]
            text = f"Closed form by the {d['method']} route (module docstring); Price's theorem and the zero-correlation value checked."
        else:
            text = ("No closed form: E and $\\dot E$ by a 2-D trapezoid rule in the Gaussian variables over $\\phi$ and "
                    "$\\phi'$, its step set by the activation's strip of analyticity (ibtheory.ntk.fc_kernels, "
                    "quadrature_strip; neural-tangents uses Gauss-Hermite, ElementwiseNumerical).")
        steps.append(Step(name, text, eqs, title=f"The {name.replace('_', ' ')} activation"))
    return Derivation(
        name="activations",
        title="Dual activations E[phi(u) phi(v)] and E[phi'(u) phi'(v)] of elementwise activations",
        reference=(
            "Cho & Saul 2009; Williams 1997; Tsuchida et al. AAAI 2021 (GELU); characteristic function of the "
            "bivariate normal; Isserlis 1918; neural-tangents stax.elementwise; theory.md 7.3, 11.4"
        ),
        assumptions=("(u, v) ~ N(0, [[var1, nngp], [nngp, var2]]), var1 var2 >= nngp^2",),
        inputs={"nngp": "Sigma(x, x')", "var1": "Sigma(x, x)", "var2": "Sigma(x', x')"},
        steps=tuple(steps),
        results={name: dual_activation(name) for name in NAMED_ACTIVATIONS},
    )

