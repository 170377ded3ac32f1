"""NNGP and NTK of fully connected networks: the Gaussian expectations and the layer recursion.

For a pre-activation pair (u, v) ~ N(0, Lambda), Lambda = [[var1, nngp], [nngp, var2]], the NNGP/NTK
maps need (theory.md 7.2-7.3)

    E    = E[phi(u) phi(v)],      Edot = E[phi'(u) phi'(v)].

This module states them for ReLU (arc-cosine kernels; Cho & Saul 2009) and erf (Williams 1997) as
SymPy expressions, proves each closed form from Price's theorem (dE/d nngp = Edot) plus its value at
zero correlation, takes the diagonal limits, rewrites the angles in a form that is accurate in
float64 near the diagonal (derived here), and assembles one activation+Dense step of the recursion

    nngp' = w_std^2 E + b_std^2,      ntk' = nngp' + w_std^2 Edot ntk

(Jacot, Gabriel & Hongler 2018; Lee et al. 2019; neural-tangents conventions, theory.md 7.1-7.2).
Everything is returned in a :class:`Derivation`; :mod:`ibtheory.kernels` turns its
``results`` into generated kernels.

Numerical form (derived here). neural-tangents evaluates the ReLU angle as
``arccos(nngp / sqrt(var1 var2))``; at and near the diagonal the cosine rounds to 1 - O(eps) and
arccos turns that into an angle error O(sqrt(eps)) ~ 1e-8. We use instead, with
det = max(var1 var2 - nngp^2, 0), so that sqrt(det) = r sin(theta) and -nngp = r cos(pi - theta)
(r = sqrt(var1 var2)),

    psi   = atan2( sqrt(det), -nngp )                   (= pi - theta, accurate at every angle)
    E     = (sqrt(det) + psi nngp) / (2 pi)              (= r/(2pi) (sin theta + (pi-theta) cos theta))
    Edot  = psi / (2 pi)

which needs no sin/cos and no division, gives psi = pi exactly when det = 0 (the diagonal), and
keeps full relative accuracy of pi - theta as theta -> pi (no pi - atan2 cancellation). For
erf, asin(a / c) with c^2 - a^2 = 1 + 2 var1 + 2 var2 + 4 det is written as
atan(a / sqrt(1 + 2 var1 + 2 var2 + 4 det)), well conditioned for any variance (asin is ill
conditioned as its argument nears 1, which happens for large variances).
"""

from __future__ import annotations

import functools

import sympy as sp

from ._derivation import Derivation, Step, require
from ._printing import Chain, Named
from ._symbols import b_std, nngp, ntk, u_pre, v_pre, var1, var2, w_std

ACTIVATIONS = ("relu", "erf")

_REF_RELU = "Cho & Saul 2009 (arc-cosine kernels of degree 1 and 0, divided by 2); theory.md 7.3"
_REF_ERF = "Williams 1997 (erf network covariance); neural-tangents Erf(a=1, b=1, c=0); theory.md 7.3"
_REF_REC = (
    "Jacot, Gabriel & Hongler 2018; Lee et al. 2019; neural-tangents stax conventions "
    "(NTK parameterisation, input kernel x.x'/d); theory.md 7.1-7.2"
)


def _gaussian_density() -> sp.Expr:
    """The bivariate normal density of (u_pre, v_pre) with covariance [[var1, nngp], [nngp, var2]]."""
    cov = sp.Matrix([[var1, nngp], [nngp, var2]])
    z = sp.Matrix([u_pre, v_pre])
    quad = (z.T * cov.inv() * z)[0, 0]
    return sp.exp(-sp.Rational(1, 2) * quad) / (2 * sp.pi * sp.sqrt(cov.det()))


def _expectation(f: sp.Expr) -> sp.Integral:
    """E[f(u, v)] as an unevaluated double integral (displayed in the derivation)."""
    return sp.Integral(f * _gaussian_density(), (u_pre, -sp.oo, sp.oo), (v_pre, -sp.oo, sp.oo))


def textbook_forms() -> dict[str, sp.Expr]:
    """The closed forms as printed in the sources (arccos / arcsin), for checks and display.

    ReLU: theta = arccos(nngp / sqrt(var1 var2)), E = sqrt(var1 var2)/(2 pi) (sin theta + (pi -
    theta) cos theta), Edot = (pi - theta)/(2 pi) [Cho & Saul 2009]. Erf: E = (2/pi) asin(2 nngp /
    sqrt((1 + 2 var1)(1 + 2 var2))), Edot = (4/pi) / sqrt((1 + 2 var1)(1 + 2 var2) - 4 nngp^2)
    [Williams 1997]. theory.md 7.3.
    """
    theta = sp.acos(nngp / sp.sqrt(var1 * var2))
    scale = sp.sqrt(var1 * var2)
    return {
        "relu_e": scale / (2 * sp.pi) * (sp.sin(theta) + (sp.pi - theta) * sp.cos(theta)),
        "relu_edot": (sp.pi - theta) / (2 * sp.pi),
        "erf_e": 2 / sp.pi * sp.asin(2 * nngp / sp.sqrt((1 + 2 * var1) * (1 + 2 * var2))),
        "erf_edot": 4 / sp.pi / sp.sqrt((1 + 2 * var1) * (1 + 2 * var2) - 4 * nngp**2),
    }


def relu_supplement() -> sp.Expr:
    """pi - theta, theta = arccos(nngp / sqrt(var1 var2)), in a float64-accurate form (derived here).

    With y = sqrt(max(var1 var2 - nngp^2, 0)) = r sin(theta) and -nngp = r cos(pi - theta), r =
    sqrt(var1 var2), pi - theta = atan2(y, -nngp): atan2 is accurate for every quadrant, so there is
    no cancellation as theta -> 0 (y -> 0) or theta -> pi, and no division. It replaced a half-angle
    atan form with ~10 more elementwise operations per entry (issue 9 benchmark: the layer step is
    the kernels' main cost). At y = 0 and nngp = 0 (a zero-variance input) it gives atan2(0, -0.0)
    = pi in IEEE arithmetic; E = 0 there, and Edot multiplies an NTK entry that is 0 as well.
    """
    root = sp.sqrt(sp.Max(var1 * var2 - nngp**2, 0))
    return sp.atan2(root, -nngp)


def _branch(expr: sp.Expr, sign: int) -> sp.Expr:
    """``expr`` on the branch sign(nngp) = ``sign`` with det > 0 and no floor active (for checks).

    atan2(y, x) with y > 0 becomes atan(y/x) plus the constant of its half plane (0 for x > 0, pi
    for x < 0), read from x's sign on this branch: x is 2 nngp or a square root (erf), -nngp (ReLU).
    """
    out = expr.replace(sp.sign, lambda a: sp.Integer(sign)).replace(sp.Abs, lambda a: sign * a)
    out = out.replace(sp.Max, lambda *args: sp.Add(*[a for a in args if a.is_number is not True]))

    def atan2_branch(y: sp.Expr, x: sp.Expr) -> sp.Expr:
        if x.is_Pow or not x.has(nngp):  # a square root: positive
            return sp.atan(y / x)
        x_sign = -sign if x.could_extract_minus_sign() else sign  # x = +-c nngp, c > 0
        return sp.atan(y / x) + (sp.pi if x_sign < 0 else 0)

    return out.replace(sp.atan2, atan2_branch)


def stable_forms() -> dict[str, sp.Expr]:
    """The same expectations written for float64 evaluation (derived here; see the module docstring)."""
    det = sp.Max(var1 * var2 - nngp**2, 0)
    root = sp.sqrt(det)
    psi = relu_supplement()
    erf_den = sp.sqrt(1 + 2 * var1 + 2 * var2 + 4 * det)
    return {
        "relu_e": (root + psi * nngp) / (2 * sp.pi),
        "relu_edot": psi / (2 * sp.pi),
        "erf_e": 2 / sp.pi * sp.atan2(2 * nngp, erf_den),
        "erf_edot": 4 / sp.pi / erf_den,
    }


def diagonal_forms() -> dict[str, sp.Expr]:
    """E and Edot at var1 = var2 = nngp (x = x'), in terms of ``nngp`` (derived here as limits)."""
    forms = textbook_forms()
    s = sp.Symbol("s", positive=True)
    out = {}
    for name, expr in forms.items():
        diag = sp.simplify(sp.limit(expr.subs({var1: s, var2: s}), nngp, s, dir="-"))
        out[name] = diag.subs(s, nngp)
    return out


def stable_diagonal_forms() -> dict[str, sp.Expr]:
    """The stable forms at x = x' (var1 = var2 = nngp, det = 0), in terms of ``nngp`` (derived here).

    ReLU gives the limits nngp/2 and 1/2 exactly; erf gives (2/pi) atan(2 nngp / sqrt(1 + 4 nngp)),
    equal to the limit (2/pi) asin(2 nngp / (1 + 2 nngp)) but free of asin's ill-conditioning as
    its argument nears 1 (large variances).
    """
    s = sp.Symbol("s", positive=True)
    return {k: v.subs({var1: s, var2: s, nngp: s}).subs(s, nngp) for k, v in stable_forms().items()}


def layer_step(activation: str, *, diagonal: bool = False) -> dict[str, sp.Expr]:
    """One activation + Dense step (theory.md 7.2) as ``{"nngp": ..., "ntk": ...}``.

    ``diagonal=False``: the pair form over (nngp, ntk, var1, var2, w_std, b_std), in the stable
    numerical form. ``diagonal=True``: the x = x' entries over (nngp, ntk, w_std, b_std), where
    ``nngp`` is the variance Sigma(x, x).
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    forms = stable_diagonal_forms() if diagonal else stable_forms()
    e, edot = forms[f"{activation}_e"], forms[f"{activation}_edot"]
    nngp_next = w_std**2 * e + b_std**2
    return {"nngp": nngp_next, "ntk": nngp_next + w_std**2 * edot * ntk}


def input_layer() -> dict[str, sp.Expr]:
    """The first Dense layer on the input kernel ``nngp`` = x.x'/d: Sigma^1 = Theta^1 = w^2 K^0 + b^2."""
    first = w_std**2 * nngp + b_std**2
    return {"nngp": first, "ntk": first}


def _is_zero(expr: sp.Expr) -> bool:
    """True if ``expr`` simplifies to 0 (expanded first, so that equal atan2 terms cancel linearly)."""
    expanded = sp.expand(expr)
    return expanded == 0 or sp.simplify(expanded) == 0 or sp.simplify(expr) == 0


@functools.lru_cache(maxsize=1)
def ntk_derivation() -> Derivation:
    """The NNGP/NTK Gaussian expectations for ReLU and erf, their checks, and the layer recursion.

    Symbolic checks made while building (a :class:`DerivationError` means the derivation is wrong):
    Price's theorem dE/d nngp = Edot for both activations (textbook and stable forms, where det > 0),
    the zero-correlation values, the Gaussian-integral origin of erf's Edot, and the diagonal limits.
    """
    text = textbook_forms()
    stab = stable_forms()
    diag = diagonal_forms()
    relu = sp.Function("relu")
    step_relu, step_erf = layer_step("relu"), layer_step("erf")
    s = sp.Symbol("s", positive=True)

    # Price's theorem (Price 1958): for Gaussian (u, v), d E[f(u) g(v)] / d Cov(u, v) = E[f'(u) g'(v)].
    price = {a: sp.diff(text[f"{a}_e"], nngp) - text[f"{a}_edot"] for a in ACTIVATIONS}
    for a, residual in price.items():
        require(_is_zero(residual), f"Price's theorem fails for {a}: {residual}")
    # Stable forms on both branches of sign(nngp), where det > 0: same derivative identity.
    for sign in (1, -1):
        for a in ACTIVATIONS:
            residual = sp.diff(_branch(stab[f"{a}_e"], sign), nngp) - _branch(stab[f"{a}_edot"], sign)
            require(_is_zero(residual), f"Price's theorem fails for the stable {a} form on the branch sign(nngp) = {sign}")
    # Zero correlation: E = E[phi(u)] E[phi(v)]; E[relu(u)] = sqrt(var/(2 pi)), E[erf(u)] = 0 (odd).
    relu_mean = sp.integrate(u_pre * sp.exp(-u_pre**2 / (2 * var1)) / sp.sqrt(2 * sp.pi * var1), (u_pre, 0, sp.oo))
    relu_zero = relu_mean * relu_mean.subs(var1, var2)
    require(_is_zero(text["relu_e"].subs(nngp, 0) - relu_zero), "relu E at zero correlation is not E[relu(u)] E[relu(v)]")
    require(_is_zero(stab["relu_e"].subs(nngp, 0) - relu_zero), "stable relu E at zero correlation is not E[relu(u)] E[relu(v)]")
    require(text["erf_e"].subs(nngp, 0) == 0 and stab["erf_e"].subs(nngp, 0) == 0, "erf E at zero correlation is not 0")
    # erf'(u) erf'(v) = (4/pi) exp(-u^2 - v^2): a Gaussian integral, = (4/pi) det(I + 2 Lambda)^(-1/2).
    lam = sp.Matrix([[var1, nngp], [nngp, var2]])
    erf_edot_gauss = 4 / sp.pi / sp.sqrt((sp.eye(2) + 2 * lam).det())
    require(_is_zero(erf_edot_gauss - text["erf_edot"]), "erf Edot differs from its Gaussian integral")
    # ReLU Edot = P(u > 0, v > 0) = 1/4 + asin(rho)/(2 pi) (Sheppard's orthant probability).
    rho = nngp / sp.sqrt(var1 * var2)
    sheppard = sp.Rational(1, 4) + sp.asin(rho) / (2 * sp.pi)
    require(_is_zero(sp.expand_trig(sheppard - text["relu_edot"]).rewrite(sp.acos)), "relu Edot differs from Sheppard's orthant probability")
    # Diagonal limits (theory.md 7.5 oracles 2-3).
    require(_is_zero(diag["relu_e"] - nngp / 2) and diag["relu_edot"] == sp.Rational(1, 2), "relu diagonal limits are wrong")
    require(_is_zero(diag["erf_e"] - 2 / sp.pi * sp.asin(2 * nngp / (1 + 2 * nngp))), "erf diagonal E is wrong")
    require(_is_zero(diag["erf_edot"] - 4 / sp.pi / sp.sqrt(1 + 4 * nngp)), "erf diagonal Edot is wrong")
    # The stable forms reduce to the diagonal limits at det = 0 exactly.
    # (atan2 -> atan is valid: at det = 0 the second argument is positive; equal derivatives in s
    # and equal values at s = 0 prove equality for all s > 0.)
    at_diag = {
        k: v.subs({var1: s, var2: s, nngp: s}).replace(sp.atan2, lambda y, x: sp.atan(y / x))
        for k, v in stab.items()
    }
    for k, v in at_diag.items():
        gap = v - diag[k].subs(nngp, s)
        require(_is_zero(sp.diff(gap, s)) and gap.subs(s, 0) == 0, f"stable form {k} does not reduce to its diagonal limit")

    # Display only (the results below are what the kernels consume): the papers' names.
    e_name = {a: Named(rf"E_{{\mathrm{{{a}}}}}") for a in ACTIVATIONS}
    edot_name = {a: Named(rf"\dot E_{{\mathrm{{{a}}}}}") for a in ACTIVATIONS}
    names = {f"{a}_e": e_name[a] for a in ACTIVATIONS} | {f"{a}_edot": edot_name[a] for a in ACTIVATIONS}
    price_name = {a: Named(rf"\frac{{\partial E_{{\mathrm{{{a}}}}}}}{{\partial \Sigma(x,x')}} - \dot E_{{\mathrm{{{a}}}}}") for a in ACTIVATIONS}
    on_diagonal = Named(r"\Sigma(x,x)")  # the diagonal forms write s = Sigma(x,x) as nngp
    definitions = [
        sp.Eq(e_name["relu"], _expectation(relu(u_pre) * relu(v_pre))),
        sp.Eq(edot_name["relu"], _expectation(sp.Derivative(relu(u_pre), u_pre) * sp.Derivative(relu(v_pre), v_pre))),
    ]
    steps = (
        Step(
            "expectations",
            "Pre-activations $(u, v) \\sim N(0, \\Lambda)$ with $\\Lambda = [[\\Sigma(x,x), \\Sigma(x,x')], "
            "[\\Sigma(x,x'), \\Sigma(x',x')]]$; the maps need $E = \\mathbb{E}[\\phi(u)\\phi(v)]$ and "
            "$\\dot E = \\mathbb{E}[\\phi'(u)\\phi'(v)]$ (theory.md 7.2; shown for $\\phi$ = relu).",
            definitions,
            title="Gaussian expectations",
        ),
        Step(
            "relu_edot",
            "ReLU: $\\phi'(u)\\phi'(v) = 1[u>0]1[v>0]$, so $\\dot E$ is Sheppard's orthant probability "
            "$1/4 + \\arcsin(\\rho)/(2\\pi)$, $\\rho = \\Sigma(x,x')/\\sqrt{\\Sigma(x,x)\\,\\Sigma(x',x')}$, "
            "equal to $(\\pi - \\theta)/(2\\pi)$ with $\\theta = \\arccos\\rho$ (checked).",
            [Chain(edot_name["relu"], sheppard, text["relu_edot"])],
            title="ReLU: the derivative expectation",
        ),
        Step(
            "relu_e",
            f"ReLU arc-cosine form ({_REF_RELU}). Proof: at $\\Sigma(x,x') = 0$ it equals "
            "$\\mathbb{E}[\\mathrm{relu}(u)]\\,\\mathbb{E}[\\mathrm{relu}(v)] = \\sqrt{\\Sigma(x,x)\\,\\Sigma(x',x')}/(2\\pi)$ "
            "(integrated by SymPy), and by Price's theorem $\\partial E/\\partial\\Sigma(x,x') = \\dot E$ "
            "(checked symbolically: the residual simplifies to 0).",
            [
                sp.Eq(e_name["relu"], text["relu_e"]),
                sp.Eq(Named(r"E_{\mathrm{relu}}\big|_{\Sigma(x,x')=0}"), relu_zero),
                sp.Eq(price_name["relu"], 0),
            ],
            title="ReLU: the arc-cosine kernel",
        ),
        Step(
            "erf_edot",
            "Erf: $\\mathrm{erf}'(u)\\,\\mathrm{erf}'(v) = (4/\\pi) e^{-u^2-v^2}$, a Gaussian integral equal to "
            "$(4/\\pi)\\det(I + 2\\Lambda)^{-1/2}$ (determinant expanded by SymPy).",
            [sp.Eq(edot_name["erf"], erf_edot_gauss)],
            title="Erf: the derivative expectation",
        ),
        Step(
            "erf_e",
            f"Erf covariance ({_REF_ERF}). Proof: 0 at $\\Sigma(x,x') = 0$ (erf is odd) and Price's theorem "
            "holds (residual simplifies to 0).",
            [sp.Eq(e_name["erf"], text["erf_e"]), sp.Eq(price_name["erf"], 0)],
            title="Erf: the covariance",
        ),
        Step(
            "diagonal_limits",
            "Limits $\\Sigma(x,x) = \\Sigma(x',x') = s$, $\\Sigma(x,x') \\to s^-$ (the entries $x = x'$). "
            "ReLU: $E = s/2$, $\\dot E = 1/2$; erf: $E \\to 1$ as $s \\to \\infty$.",
            [sp.Eq(Named(names[k].name + "(x,x)"), v.xreplace({nngp: on_diagonal})) for k, v in diag.items()],
            title="Diagonal limits",
        ),
        Step(
            "stable_forms",
            "Numerical forms (derived here): with $\\det = \\max(\\Sigma(x,x)\\,\\Sigma(x',x') - \\Sigma(x,x')^2, 0)$, "
            "$\\psi = \\pi - \\theta = \\operatorname{atan2}(\\sqrt{\\det}, -\\Sigma(x,x'))$ replaces arccos (whose O(sqrt(eps)) error near "
            "the diagonal neural-tangents inherits), since $\\sin\\theta\\sqrt{\\Sigma(x,x)\\,\\Sigma(x',x')} = \\sqrt{\\det}$ and "
            "$\\cos\\theta\\sqrt{\\Sigma(x,x)\\,\\Sigma(x',x')} = \\Sigma(x,x')$; erf's asin becomes atan2 with the "
            "cancellation-free $\\sqrt{1 + 2\\Sigma(x,x) + 2\\Sigma(x',x') + 4\\det}$. Price's theorem and the diagonal "
            "limits were re-checked on these forms.",
            [sp.Eq(names[k], v) for k, v in stab.items()] + [sp.Eq(Named(r"\psi"), relu_supplement())],
            title="Numerically stable forms",
        ),
        Step(
            "input_layer",
            f"Input kernel $K^0 = x\\cdot x'/d$ (passed as $\\Sigma(x,x')$); first Dense layer ({_REF_REC}).",
            [
                sp.Eq(Named(r"\Sigma^{(1)}(x,x')"), input_layer()["nngp"]),
                sp.Eq(Named(r"\Theta^{(1)}(x,x')"), input_layer()["ntk"]),
            ],
            title="Input layer",
        ),
        Step(
            "layer_recursion",
            f"One activation + Dense step ({_REF_REC}): $\\Sigma' = \\sigma_w^2 E + \\sigma_b^2$, "
            "$\\Theta' = \\Sigma' + \\sigma_w^2 \\dot E\\, \\Theta$.",
            [
                sp.Eq(Named(r"\Sigma'_{\mathrm{relu}}(x,x')"), step_relu["nngp"]),
                sp.Eq(Named(r"\Theta'_{\mathrm{relu}}(x,x')"), step_relu["ntk"]),
                sp.Eq(Named(r"\Sigma'_{\mathrm{erf}}(x,x')"), step_erf["nngp"]),
                sp.Eq(Named(r"\Theta'_{\mathrm{erf}}(x,x')"), step_erf["ntk"]),
            ],
            title="Layer recursion",
        ),
    )
    results: dict[str, object] = {f"textbook_{k}": v for k, v in text.items()}
    results.update({k: v for k, v in stab.items()})
    results.update({f"diag_{k}": v for k, v in diag.items()})
    for a in ACTIVATIONS:
        for diagonal in (False, True):
            suffix = "_diag" if diagonal else ""
            for k, v in layer_step(a, diagonal=diagonal).items():
                results[f"{a}_step{suffix}_{k}"] = v
    results.update({f"input_{k}": v for k, v in input_layer().items()})
    return Derivation(
        name="ntk",
        title="NNGP and NTK of fully connected ReLU and erf networks",
        reference=f"{_REF_RELU}; {_REF_ERF}; {_REF_REC}; Price 1958 (Price's theorem); stable forms derived here",
        assumptions=(
            "var1, var2 > 0 and var1 var2 >= nngp^2 (Lambda is a covariance matrix)",
            "NTK parameterisation: z = w_std W x / sqrt(n) + b_std b, W, b ~ N(0, 1)",
            "erf is neural-tangents' Erf(a=1, b=1, c=0)",
        ),
        inputs={
            "nngp": "Sigma(x, x'), elementwise over pairs",
            "ntk": "Theta(x, x'), elementwise over pairs",
            "var1": "Sigma(x, x)",
            "var2": "Sigma(x', x')",
            "w_std": "weight standard deviation (scalar)",
            "b_std": "bias standard deviation (scalar)",
        },
        steps=steps,
        results=results,
    )
