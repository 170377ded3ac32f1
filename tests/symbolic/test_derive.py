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

import functools

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ibtheory.symbolic import (
    H,
    I,
    InformationTerm,
    alpha,
    beta,
    derive,
    dib_derivation,
    distortion,
    dual_ib_derivation,
    gib_derivation,
    gib_lagrangian,
    ib_derivation,
    squared_ib_derivation,
    squared_ib_lagrangian,
)
from ibtheory.symbolic import symbols as s
from ibtheory.symbolic._rewrite import canonical
from ibtheory.testing import MpmathEvaluator, conditionals, simplices

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


def test_generalized_ib_normaliser_is_the_sum_of_its_weights():
    r = gib_derivation().results
    factors = sp.Mul.make_args(r["encoder"].rhs)
    (normaliser,) = [f.base for f in factors if isinstance(f, sp.Pow) and f.exp == -1 and isinstance(f.base, sp.Sum)]
    weight = r["encoder"].rhs * normaliser
    assert sp.Sum(weight, (s.t, 0, s.n_t - 1)).xreplace({s.t: s.tp}) == normaliser


def test_squared_ib_is_the_ib_update_with_an_effective_beta():
    """u(I(X;T)) - beta I(T;Y): the IB stationarity with beta / u'(I(X;T)) (theory.md 11.2)."""
    r = squared_ib_derivation().results
    i_xt = I("X;T").scalar
    assert sp.simplify(r["beta_eff"] - beta / (2 * i_xt)) == 0
    assert r["alpha_eff"] == 1
    assert r["scalars"] == {i_xt: ib_derivation().results["i_xt"]}
    ib_log = _log_weight(ib_derivation().results["encoder"])
    # the IB encoder's log-weight with beta -> beta_eff
    assert sp.simplify(_log_weight(r["encoder"]) - ib_log.xreplace({beta: beta / (2 * i_xt)})) == 0


def test_exp_of_a_term_gives_its_derivative_as_the_weight():
    r = derive(sp.exp(I("X;T")) - beta * I("T;Y")).results
    i_xt = I("X;T").scalar
    assert sp.simplify(r["beta_eff"] - beta * sp.exp(-i_xt)) == 0


def test_deterministic_ib_is_the_argmax_of_the_generalized_score():
    r = dib_derivation().results
    gib = gib_derivation().results
    assert r["score"] == sp.log(s.p_t[s.t]) - beta * gib["distortion"]
    assert r["encoder"].rhs == sp.KroneckerDelta(s.t, r["assignment"].lhs)
    # the objective is the generalized IB's at alpha = 0: H(T) - beta I(T;Y)
    expected = (H("T") - beta * I("T;Y")).xreplace({H("T"): H("T").expansion(), I("T;Y"): I("T;Y").expansion()})
    assert r["objective"] == expected


# ----------------------------------------------------------------------------- numeric fixed points
N_X, N_Y, N_T = 3, 2, 3
SIZES = {s.n_x: N_X, s.n_y: N_Y, s.n_t: N_T}
#: Stop the literal iteration when the encoder moves less than this (iterates stored in float64).
ITERATION_TOL = 1e-13
MAX_ITERATIONS = 3000
#: Stationarity at the fixed point: dL/dp(t|x) is one value over t for each x, up to the distance
#: of the float64 iterate from the exact fixed point (linear convergence stopped at ITERATION_TOL,
#: amplified by the Lagrangian's curvature, which grows with the coefficients and beta).
STATIONARITY_TOL = 1e-8
#: A deliberately wrong update (beta doubled in the encoder) must violate stationarity by far more.
WRONG_UPDATE_GAP = 1e-4


class _Update:
    """One step of the derived update, evaluated stage by stage from the derivation's results with
    mpmath: p(t) (``marginal``), p(x|t) (``inverse_encoder``), p(y|t) (``decoder``), the scalars'
    values (``scalars``, e.g. I(X;T) for the squared IB) and the new encoder (``encoder``)."""

    def __init__(self, r: dict) -> None:
        self.marginal = MpmathEvaluator(r["marginal"].rhs, SIZES, (s.t,))
        self.inverse = MpmathEvaluator(r["inverse_encoder"].rhs, SIZES, (s.x, s.t))
        self.decoder = MpmathEvaluator(r["decoder"].rhs, SIZES, (s.y, s.t))
        self.scalars = {sym.name: MpmathEvaluator(value, SIZES) for sym, value in r["scalars"].items()}
        self.encoder = MpmathEvaluator(r["encoder"].rhs, SIZES, (s.x, s.t))

    def __call__(self, values: dict, dps: int) -> np.ndarray:
        v = dict(values)
        v["p_t"] = np.array(self.marginal(v, dps).tolist(), dtype=float)
        v["p_x_given_t"] = np.array(self.inverse(v, dps).tolist(), dtype=float)
        v["p_y_given_t"] = np.array(self.decoder(v, dps).tolist(), dtype=float)
        for name, ev in self.scalars.items():
            v[name] = float(ev(v, dps)[()])
        return self.encoder(v, dps)


@functools.cache
def _update(lagrangian: sp.Expr, scalars: tuple = ()) -> _Update:
    return _Update(dict(derive(lagrangian, scalars=scalars).results))


def _terms(q, px, pyx, decoder=None) -> dict[str, mpmath.mpf]:
    """The vocabulary's terms at an encoder q (any positive matrix), written out here with loops."""
    X, Y, T = range(N_X), range(N_Y), range(N_T)
    pt = [mpmath.fsum(px[i] * q[i][j] for i in X) for j in T]
    py = [mpmath.fsum(px[i] * pyx[i][k] for i in X) for k in Y]
    pyt = [[mpmath.fsum(px[i] * q[i][j] * pyx[i][k] for i in X) / pt[j] for j in T] for k in Y]
    out = {
        "H(T)": -mpmath.fsum(p * mpmath.log(p) for p in pt),
        "H(T|X)": -mpmath.fsum(px[i] * q[i][j] * mpmath.log(q[i][j]) for i in X for j in T),
        "I(X;T)": mpmath.fsum(px[i] * q[i][j] * mpmath.log(q[i][j] / pt[j]) for i in X for j in T),
        "I(T;Y)": mpmath.fsum(pt[j] * pyt[k][j] * mpmath.log(pyt[k][j] / py[k]) for j in T for k in Y),
        "E[D_KL(p(y|x)||p(y|t))]": mpmath.fsum(
            px[i] * q[i][j] * pyx[i][k] * mpmath.log(pyx[i][k] / pyt[k][j]) for i in X for j in T for k in Y
        ),
    }
    if decoder is not None:  # the dualIB's decoder, held fixed
        out["E[D_KL(p(y|t)||p(y|x))]"] = mpmath.fsum(
            px[i] * q[i][j] * decoder[k][j] * mpmath.log(decoder[k][j] / pyx[i][k]) for i in X for j in T for k in Y
        )
    return out


def _geometric_decoder(q, px, pyx):
    """Literal oracle: the normalised geometric mean of p(y|x) over p(x|t), (y, t) (theory.md 3.2)."""
    X, Y, T = range(N_X), range(N_Y), range(N_T)
    pt = [mpmath.fsum(px[i] * q[i][j] for i in X) for j in T]
    logs = [[mpmath.fsum(px[i] * q[i][j] / pt[j] * mpmath.log(pyx[i][k]) for i in X) for j in T] for k in Y]
    norm = [mpmath.fsum(mpmath.exp(logs[k][j]) for k in Y) for j in T]
    return [[mpmath.exp(logs[k][j]) / norm[j] for j in T] for k in Y]


def _gradient(lagrangian: sp.Expr, values: dict, q) -> list[list[mpmath.mpf]]:
    """dL/dp(t|x) of the Lagrangian at q by mpmath's numerical differentiation (50 digits)."""
    terms = sorted(lagrangian.atoms(InformationTerm), key=lambda z: z.name)
    params = sorted(lagrangian.free_symbols - set(terms), key=lambda z: z.name)
    f = sp.lambdify([*terms, *params], lagrangian, modules="mpmath")
    px = [mpmath.mpf(float(v)) for v in values["p_x"]]
    pyx = [[mpmath.mpf(float(v)) for v in row] for row in values["p_y_given_x"]]
    decoder = _geometric_decoder(q, px, pyx) if any(z.decoder == "geometric" for z in terms) else None
    par = [mpmath.mpf(float(values[p.name])) for p in params]

    def L(i: int, j: int, h: mpmath.mpf) -> mpmath.mpf:
        qq = [list(row) for row in q]
        qq[i][j] += h
        t = _terms(qq, px, pyx, decoder)
        return f(*[t[z.name] for z in terms], *par)

    return [[mpmath.diff(functools.partial(L, i, j), 0) for j in range(N_T)] for i in range(N_X)]


def _fixed_point(update: MpmathEvaluator, values: dict) -> tuple[list, float]:
    v = dict(values)
    q = None
    change = np.inf
    for _ in range(MAX_ITERATIONS):
        new = update(v, 30)
        if q is not None:
            change = max(abs(float(new[i, j] - q[i, j])) for i in range(N_X) for j in range(N_T))
        q = new
        v["p_t_given_x"] = np.array(q.tolist(), dtype=float)
        if change < ITERATION_TOL:
            break
    return [[mpmath.mpf(float(z)) for z in row] for row in v["p_t_given_x"]], change


def _stationarity_spread(lagrangian: sp.Expr, values: dict, q) -> float:
    with mpmath.workdps(50):
        grads = _gradient(lagrangian, values, q)
    return max(float(max(row) - min(row)) for row in grads)


_POINT = {
    "p_x": np.array([0.5, 0.3, 0.2]),
    "p_y_given_x": np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]]),
    "p_t_given_x": np.array([[0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]]),
}


@pytest.mark.parametrize(
    ("lagrangian", "params"),
    [
        (gib_lagrangian(), {"beta": 12.0, "alpha": 1.5}),
        (squared_ib_lagrangian(), {"beta": 3.0}),
    ],
    ids=["gib", "squared-ib"],
)
def test_derived_update_reaches_a_stationary_point(lagrangian, params):
    values = {**_POINT, **params}
    q, change = _fixed_point(_update(lagrangian), values)
    assert change < ITERATION_TOL
    assert _stationarity_spread(lagrangian, values, q) < STATIONARITY_TOL


def test_a_wrong_update_is_not_stationary():
    """The numeric check can fail: the IB update's fixed point is not stationary for the gIB at alpha != 1."""
    values = {**_POINT, "beta": 12.0, "alpha": 1.5}
    q, change = _fixed_point(_update(I("X;T") - beta * I("T;Y")), values)
    assert change < ITERATION_TOL
    assert _stationarity_spread(gib_lagrangian(), values, q) > WRONG_UPDATE_GAP


# Random Lagrangians from the vocabulary: symbolic coefficients c1..c5 (derived once per family, cached),
# random values; a zero drops the term. w_q = c1 + 2 c2 I + c3 e^I + c5 >= c1 > 0 keeps the update well
# posed, and c5 >= c4 keeps alpha_eff = w_q / w_t >= 1, where fixed points stay interior (for
# alpha_eff < 1 the p(t)^(1/alpha_eff) factor starves clusters to zero mass).
C = sp.symbols("c1:6", nonnegative=True)
MARKOV_FAMILY = (
    C[0] * I("X;T") + C[1] * I("X;T") ** 2 + C[2] * sp.exp(I("X;T")) + C[3] * H("T") - C[4] * H("T|X") - beta * I("T;Y")
)
DUAL_FAMILY = C[0] * I("X;T") + C[1] * I("X;T") ** 2 + C[2] * sp.exp(I("X;T")) - C[4] * H("T|X") + beta * distortion("dualib")
_coefficient = st.one_of(st.just(0.0), st.floats(min_value=0.2, max_value=2.0))


def _coefficients(draw: tuple[float, float, float, float, float]) -> tuple[float, ...]:
    c1, c2, c3, c4, extra = draw
    return (c1, c2, c3, c4, c4 + extra)


_family_examples = given(
    p_x=simplices(N_X, min_mass=0.1),
    p_y_given_x=conditionals(N_X, N_Y).map(lambda m: (m + 0.05) / (1 + N_Y * 0.05)),
    q0=conditionals(N_X, N_T).map(lambda m: (m + 0.1) / (1 + N_T * 0.1)),
    c=st.tuples(st.floats(min_value=0.2, max_value=2.0), _coefficient, _coefficient, _coefficient, _coefficient).map(
        _coefficients
    ),
    beta_value=st.floats(min_value=0.5, max_value=8.0),
)


def _check_family(family: sp.Expr, p_x, p_y_given_x, q0, c, beta_value) -> None:
    values = {"p_x": p_x, "p_y_given_x": p_y_given_x, "p_t_given_x": q0, "beta": beta_value}
    values.update({sym.name: v for sym, v in zip(C, c, strict=True)})
    declared = tuple(sym for sym in C if family.has(sym))
    q, change = _fixed_point(_update(family, declared), values)
    assume(change < ITERATION_TOL)  # a slowly converging example says nothing either way
    spread = _stationarity_spread(family, values, q)
    assert spread < STATIONARITY_TOL * (1 + beta_value + sum(c)), spread


@settings(max_examples=3, deadline=None)
@_family_examples
def test_random_markov_lagrangian_update_is_stationary_at_its_fixed_point(p_x, p_y_given_x, q0, c, beta_value):
    _check_family(MARKOV_FAMILY, p_x, p_y_given_x, q0, c, beta_value)


@pytest.mark.slow
@settings(max_examples=10, deadline=None)
@_family_examples
def test_random_dual_lagrangian_update_is_stationary_at_its_fixed_point(p_x, p_y_given_x, q0, c, beta_value):
    _check_family(DUAL_FAMILY, p_x, p_y_given_x, q0, c, beta_value)


@pytest.mark.slow
@settings(max_examples=20, deadline=None)
@_family_examples
def test_many_random_markov_lagrangians_are_stationary_at_their_fixed_points(p_x, p_y_given_x, q0, c, beta_value):
    _check_family(MARKOV_FAMILY, p_x, p_y_given_x, q0, c, beta_value)


# ----------------------------------------------------------------------------- bad input
gamma = sp.Symbol("gamma", positive=True)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: I("X;Z"), "unknown variable 'Z'"),
        (lambda: H("T|Q"), "unknown variable 'Q'"),
        (lambda: I("X;X"), "two distinct variables"),
        (lambda: H("X"), r"H\('X'\) does not depend on the encoder"),
        (lambda: I("X;Y"), r"I\('X;Y'\) does not depend on the encoder"),
        (lambda: H("T|Y"), r"not in the vocabulary; allowed terms: H\(\"T\"\)"),
        (lambda: distortion("reverse"), "unknown distortion 'reverse'"),
    ],
)
def test_unknown_or_constant_terms_raise_naming_the_term(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("lagrangian", "message"),
    [
        (I("X;T") - gamma * I("T;Y"), r"free symbol gamma .* params=\{gamma: value\}"),
        (I("X;T") + s.p_t[s.t], r"p_t\[t\] in the Lagrangian is not a term of the vocabulary"),
        (sp.Function("g")(I("X;T")) - beta * I("T;Y"), r"g\(I\(X;T\)\) \(g\) is not an allowed function"),
        (sp.Abs(I("X;T")) - beta * I("T;Y"), "Abs in .* is not differentiable"),
        (sp.Max(I("X;T"), 1) - beta * I("T;Y"), "Max in .* is not differentiable"),
        (sp.sign(I("X;T") - 1) - beta * I("T;Y"), "sign in .* is not differentiable"),
        (sp.floor(I("X;T")) - beta * I("T;Y"), "floor in .* is not differentiable"),
        (beta, "has no information term"),
        (I("T;Y") + distortion("dualib"), "one Lagrangian uses one decoder"),
        (H("T") - beta * I("T;Y"), r"no log p\(t\|x\)"),
        (sp.Eq(I("X;T"), 1), "scalar SymPy expression"),
    ],
    ids=["free-symbol", "array", "unknown-function", "abs", "max", "sign", "floor", "no-term", "two-decoders", "no-entropy", "relation"],
)
def test_bad_lagrangian_raises_value_error_naming_the_problem(lagrangian, message):
    with pytest.raises(ValueError, match=message):
        derive(lagrangian)


def test_params_give_values_and_scalars_stay_symbolic():
    with pytest.raises(ValueError, match="params keys"):
        derive(I("X;T") - beta * I("T;Y"), params={beta: 2})
    with pytest.raises(ValueError, match="must be a number"):
        derive(I("X;T") - gamma * I("T;Y"), params={gamma: sp.Symbol("delta")})
    fixed = derive(I("X;T") - gamma * I("T;Y"), params={gamma: 3}).results
    assert fixed["beta_eff"] == 3 and fixed["parameters"] == ()
    free = derive(I("X;T") - gamma * I("T;Y"), scalars=(gamma,)).results
    assert free["beta_eff"] == gamma and free["parameters"] == (gamma,)
