"""NNGP/NTK layer steps that carry 1 - rho and 1 + rho, exact for near-coincident and antipodal inputs.

The recursion of :mod:`ibtheory.symbolic._ntk` recovers the angle between the pre-activations of
x and x' from det = var1 var2 - nngp^2. For near-coincident inputs (x' = x + delta) that difference
cancels: its absolute error eps var1 var2 becomes an angle error eps / theta, and the ReLU Edot =
(pi - theta)/(2 pi) is then off by ~1e-9 relative for delta ~ 1e-9 (issue 19; neural-tangents has
the same error). The remedy, derived here, is to carry the correlation's distance to +1 and to -1,

    one_minus_corr = 1 - rho,   one_plus_corr = 1 + rho,   rho = nngp / sqrt(var1 var2),

through every layer in forms whose terms are all non-negative (no cancellation):

- at the input, 1 -+ rho = ||x/|x| -+ x'/|x'|||^2 / 2 (Kahan 2006, "How futile are mindless
  assessments of roundoff", section 12: the angle from the difference of unit vectors);
- det = var1 var2 (1 - rho)(1 + rho) then carries full relative accuracy, and so do both angles
  theta = atan2(sqrt(det), nngp) and pi - theta = atan2(sqrt(det), -nngp);
- after an activation with E_a = E[phi(u)^2], E_c = E[phi(v)^2], E = E[phi(u) phi(v)] and a Dense
  layer (a' = w^2 E_a + b^2, c' = w^2 E_c + b^2, nngp' = w^2 E + b^2), with
  s' = sqrt(a' c'), q = w^2 sqrt(E_a E_c):

      1 - rho' = ( b^2 (sqrt(w^2 E_a) - sqrt(w^2 E_c))^2 / (s' + q + b^2) + w^2 G_minus ) / s'
      1 + rho' = ( b^2 (w^2 E_a + w^2 E_c + b^2) / (s' + q) + b^2 + w^2 G_plus ) / s'

  where G_minus = sqrt(E_a E_c) - E >= 0 and G_plus = sqrt(E_a E_c) + E >= 0 (Cauchy-Schwarz), the
  first terms being s' - q - b^2 and s' - q rationalised (derived here, checked below);
- ReLU (Cho & Saul 2009 arc-cosine form): G_minus = sqrt(var1 var2) (theta - sin theta +
  (pi - theta)(1 - rho)) / (2 pi), G_plus = sqrt(var1 var2)/2 + E, both sums of non-negative terms
  up to theta - sin theta, which is O(theta^3) beside the O(theta^2) term it is added to.
- erf (Williams 1997): E and Edot with numerator and denominator divided by sqrt(var1 var2), so
  that inputs ~1e100 (variances ~1e200, det ~1e400) stay finite; G_-+ = sqrt(E_a E_c) -+ E directly
  (the erf maps are bounded and smooth, so an absolute error eps in 1 -+ rho' costs only eps
  times a bounded factor at the next erf layer). Before a ReLU-type layer that error would become an
  angle error eps / theta, so there G_-+ is split into an unequal-variance part and an angular part with
  relative accuracy (:func:`erf_gaps`, derived here; kernel ``erf_dense_step_exact_gaps``).

- abs, leaky ReLU, identity (phi = a_e |u| + a_o u): G_-+ from the even part's gap written with
  min(theta, pi - theta) and min(1 - rho, 1 + rho), all terms non-negative (:func:`angle_forms`).
- erf on inputs whose variances are beyond float64 (|x| ~ 1e300): the input layer and the first erf
  step fused, on x / 2**e, with the k = 2**-e terms kept as k times square roots (:func:`erf_scaled_step`).

Everything is returned in a :class:`Derivation` (catalogue name ``ntk-angles``);
:mod:`ibtheory.kernels` generates ``<activation>_dense_step_angles`` and ``ntk_input_layer_angles``
from its results. The identities are checked at exact rational points at 50 digits while building.
"""

from __future__ import annotations

import functools

import sympy as sp

from ._derivation import Derivation, Step, require
from ._printing import Named
from ._symbols import b_std, nngp, ntk, var1, var2, w_std

#: 1 - rho and 1 + rho of the pair (x, x'), rho = nngp / sqrt(var1 var2): elementwise kernel arguments.
one_minus_corr = sp.Symbol("one_minus_corr", nonnegative=True)
one_plus_corr = sp.Symbol("one_plus_corr", nonnegative=True)
#: 2**-e for inputs rescaled by 2**e (x / 2**e), so that variances ~ |x|^2 beyond float64 are carried
#: as var * inv_scale^2 (erf's first layer for inputs near 1e300; :func:`erf_scaled_step`).
inv_scale = sp.Symbol("inv_scale", positive=True)
#: The input Dense layer's bias std in :func:`erf_scaled_step` (which also applies the next Dense layer's).
b_std_in = sp.Symbol("b_std_in", nonnegative=True)

#: The activations with an angle-carrying step (relu, erf, then the other piecewise-linear ones).
ANGLE_ACTIVATIONS = ("relu", "erf", "abs", "leaky_relu", "identity")
#: phi = a_e |u| + a_o u (even and odd parts) of the piecewise-linear activations besides ReLU.
_EVEN_ODD = {"abs": (sp.Integer(1), sp.Integer(0)), "leaky_relu": (sp.Rational(99, 200), sp.Rational(101, 200)),
             "identity": (sp.Integer(0), sp.Integer(1))}

#: Denominators are floored here: they vanish only for a zero-variance input (zero input and zero
#: bias), where the numerators vanish too; 0 / 1e-300 = 0 then keeps 1 - rho = 0 instead of NaN.
_FLOOR = sp.Float("1e-300")

_REF = (
    "derived here (issue 19) from the recursion of Jacot, Gabriel & Hongler 2018 / Lee et al. 2019 "
    "(theory.md 7.2-7.3, 11.4); angle from unit-vector differences after Kahan 2006, section 12"
)


def _floor(x: sp.Expr) -> sp.Expr:
    return sp.Max(x, _FLOOR)


def dense_update(e_a: sp.Expr, e_c: sp.Expr, e: sp.Expr, g_minus: sp.Expr, g_plus: sp.Expr) -> dict[str, sp.Expr]:
    """A Dense(w_std, b_std) layer on top of second moments (E_a, E_c, E) with G_-+ = sqrt(E_a E_c) -+ E:
    ``{"nngp", "one_minus_corr", "one_plus_corr"}`` of the next layer, every term non-negative."""
    beta = b_std**2
    p, q = w_std**2 * e_a, w_std**2 * e_c
    s_next = sp.sqrt(p + beta) * sp.sqrt(q + beta)
    pq = w_std**2 * sp.sqrt(e_a) * sp.sqrt(e_c)
    om = (beta * (sp.sqrt(p) - sp.sqrt(q)) ** 2 / _floor(s_next + pq + beta) + w_std**2 * g_minus) / _floor(s_next)
    op = (beta * (p + q + beta) / _floor(s_next + pq) + beta + w_std**2 * g_plus) / _floor(s_next)
    return {"nngp": w_std**2 * e + beta, "one_minus_corr": om, "one_plus_corr": op}


def angle_forms(activation: str) -> dict[str, sp.Expr]:
    """E, Edot, the diagonal E_a, E_c and G_-+ of ``activation`` in terms of (nngp, var1, var2, 1 -+ rho)."""
    r = sp.sqrt(var1) * sp.sqrt(var2)
    if activation == "relu":
        root = r * sp.sqrt(one_minus_corr * one_plus_corr)  # sqrt(det) = r sin(theta)
        psi = sp.atan2(root, -nngp)  # pi - theta
        theta = sp.atan2(root, nngp)
        e = (root + psi * nngp) / (2 * sp.pi)
        return {
            "e": e,
            "edot": psi / (2 * sp.pi),
            "e_a": var1 / 2,
            "e_c": var2 / 2,
            # r (theta - sin theta) >= 0, clamped: theta and root/r round independently (~eps theta)
            "g_minus": (sp.Max(r * theta - root, 0) + psi * r * one_minus_corr) / (2 * sp.pi),
            "g_plus": r / 2 + e,
        }
    if activation == "erf":
        # Divided by r = sqrt(var1 var2) through t = 1/sqrt(var) (var floored: a zero-variance point
        # gives t = 1e150, still finite): den = sqrt(1 + 2 var1 + 2 var2 + 4 det) / r never
        # overflows, even for variances ~1e200, where det ~ 1e400.
        t1, t2 = 1 / sp.sqrt(_floor(var1)), 1 / sp.sqrt(_floor(var2))
        den = sp.sqrt(t1**2 * t2**2 + 2 * t2**2 + 2 * t1**2 + 4 * one_minus_corr * one_plus_corr)
        e = 2 / sp.pi * sp.atan2(2 * nngp * t1 * t2, den)
        e_a = 2 / sp.pi * sp.atan2(2 * var1, sp.sqrt(1 + 4 * var1))
        e_c = 2 / sp.pi * sp.atan2(2 * var2, sp.sqrt(1 + 4 * var2))
        geo = sp.sqrt(e_a) * sp.sqrt(e_c)
        # erf is bounded: 1 -+ rho' from sqrt(E_a E_c) -+ E directly (absolute error ~eps; see above),
        # clamped at 0 where round-off makes it negative.
        return {
            "e": e,
            "edot": 4 / sp.pi * t1 * t2 / den,
            "e_a": e_a,
            "e_c": e_c,
            "g_minus": sp.Max(geo - e, 0),
            "g_plus": sp.Max(geo + e, 0),
        }
    if activation in _EVEN_ODD:
        return _even_odd_forms(*_EVEN_ODD[activation])
    raise ValueError(f"activation must be one of {ANGLE_ACTIVATIONS}, got {activation!r}")


def erf_gaps(a_big: sp.Expr, a_bar: sp.Expr, c_big: sp.Expr, c_bar: sp.Expr, diff: sp.Expr, rho: sp.Expr, om_op: sp.Expr) -> dict[str, sp.Expr]:
    """(pi/2) (sqrt(E_a E_c) -+ E) of erf (Williams 1997 arcsine dual) as sums of non-negative terms (derived here).

    With A = 2 a / (1 + 2 a), C likewise (a, c the variances), the dual is E = (2/pi) asin(rho g),
    g = sqrt(A C), E_a = (2/pi) asin A. Arguments: ``a_big`` = A, ``a_bar`` = 1 - A = 1 / (1 + 2 a),
    ``c_big``, ``c_bar`` likewise, ``diff`` = A - C (from a - c, which is exact for close variances),
    ``rho``, ``om_op`` = (1 - rho)(1 + rho). With p = asin A, q = asin C, m = asin g,

        sqrt(p q) -+ asin(rho g) = H + delta + 2 max(0, -+asin(rho g)),
        H = sqrt(p q) - m = (m (dp + dq) + dp dq) / (sqrt(p q) + m),     dp = p - m, dq = q - m,
        delta = m - asin(|rho| g) = atan2(g (1 - rho)(1 + rho) / (k + |rho| h), h k + |rho| g^2),
        dp = atan2(A (A - C) / (A h + g sqrt(1 - A^2)), sqrt(1 - A^2) h + A g),

    h = sqrt(1 - g^2) = sqrt((1 - A) + A (1 - C)), k = sqrt(1 - rho^2 g^2) = sqrt(h^2 + g^2 (1 - rho)(1 + rho))
    (asin x - asin y = atan2(x sqrt(1 - y^2) - y sqrt(1 - x^2), ...) with the numerator rationalised).
    delta carries 1 - rho^2 with full relative accuracy and H, the unequal-variance part (>= 0, second order in
    A - C), has an absolute error ~eps |A - C| (its first-order parts dp, dq cancel in dp + dq), so the gaps
    1 -+ rho' keep the accuracy that a ReLU-type layer after erf needs (angle error ~eps, not eps / theta);
    sqrt(E_a E_c) - E itself has an absolute error ~eps, which the next arc-cosine turns into ~eps / theta."""
    s_a = sp.sqrt(a_bar * (1 + a_big))  # sqrt(1 - A^2)
    s_c = sp.sqrt(c_bar * (1 + c_big))
    g = sp.sqrt(a_big) * sp.sqrt(c_big)
    h = sp.sqrt(a_bar + a_big * c_bar)  # sqrt(1 - A C)
    k = sp.sqrt(a_bar + a_big * c_bar + a_big * c_big * om_op)  # sqrt(1 - rho^2 A C)
    p, q, m = sp.atan2(a_big, s_a), sp.atan2(c_big, s_c), sp.atan2(g, h)
    dp = sp.atan2(a_big * diff / _floor(a_big * h + g * s_a), s_a * h + a_big * g)
    dq = sp.atan2(-c_big * diff / _floor(c_big * h + g * s_c), s_c * h + c_big * g)
    # H >= 0 (Cauchy-Schwarz at rho = 1); clamped where its O(eps |A - C|) rounding makes it negative
    big_h = sp.Max((m * (dp + dq) + dp * dq) / _floor(sp.sqrt(p) * sp.sqrt(q) + m), 0)
    abs_rho = sp.Abs(rho)
    delta = sp.atan2(g * om_op / (k + abs_rho * h), h * k + abs_rho * a_big * c_big)
    s = sp.atan2(rho * g, k)  # asin(rho g)
    return {"minus": big_h + delta + 2 * sp.Max(-s, 0), "plus": big_h + delta + 2 * sp.Max(s, 0)}


def erf_exact_gap_forms() -> dict[str, sp.Expr]:
    """:func:`angle_forms` of erf with G_-+ from :func:`erf_gaps` (relative accuracy in 1 -+ rho'), for an erf
    layer followed by a ReLU-type one; E, Edot, E_a, E_c as there."""
    f = dict(angle_forms("erf"))
    a_bar, c_bar = 1 / (1 + 2 * var1), 1 / (1 + 2 * var2)
    a_big, c_big = 2 * var1 * a_bar, 2 * var2 * c_bar
    gaps = erf_gaps(a_big, a_bar, c_big, c_bar, 2 * (var1 - var2) * a_bar * c_bar, (one_plus_corr - one_minus_corr) / 2,
                    one_minus_corr * one_plus_corr)
    f["g_minus"], f["g_plus"] = 2 / sp.pi * gaps["minus"], 2 / sp.pi * gaps["plus"]
    return f


def _even_odd_forms(a_e: sp.Expr, a_o: sp.Expr) -> dict[str, sp.Expr]:
    """phi = a_e |u| + a_o u (abs, leaky ReLU, identity; E[|u| v] = 0 by symmetry), so
    E = a_e^2 E_abs + a_o^2 nngp with E_abs = (2/pi)(sqrt(det) + nngp asin(rho)) (theory.md 11.4), and

        sqrt(E_a E_c) - E_abs = r (m (1 - 2 phi/pi) + (2/pi)(phi - sin phi)),   m = min(1 - rho, 1 + rho),

    phi = min(theta, pi - theta) <= pi/2 (E_abs is even in rho): every term non-negative, derived from
    1 - (2/pi)(sin theta + cos theta (pi/2 - theta)) with cos theta = 1 - m for theta <= pi/2."""
    r = sp.sqrt(var1) * sp.sqrt(var2)
    root = r * sp.sqrt(one_minus_corr * one_plus_corr)
    asin_rho = sp.atan2(nngp, root)
    e_abs = 2 / sp.pi * (root + nngp * asin_rho)
    small = sp.Min(sp.atan2(root, nngp), sp.atan2(root, -nngp))  # the angle to the nearer of +-1
    gap_abs = r * sp.Min(one_minus_corr, one_plus_corr) * (1 - 2 * small / sp.pi) + 2 / sp.pi * sp.Max(r * small - root, 0)
    return {
        "e": a_e**2 * e_abs + a_o**2 * nngp,
        "edot": a_e**2 * 2 / sp.pi * asin_rho + a_o**2,
        "e_a": (a_e**2 + a_o**2) * var1,
        "e_c": (a_e**2 + a_o**2) * var2,
        "g_minus": a_e**2 * gap_abs + a_o**2 * r * one_minus_corr,
        "g_plus": a_e**2 * (r + e_abs) + a_o**2 * r * one_plus_corr,
    }


def angle_step(activation: str) -> dict[str, sp.Expr]:
    """One activation + Dense step over (nngp, ntk, 1 -+ rho, var1, var2, w_std, b_std):
    ``{"nngp", "ntk", "one_minus_corr", "one_plus_corr"}`` of the next layer (``"erf_exact_gaps"``: erf with
    the gaps of :func:`erf_exact_gap_forms`)."""
    f = erf_exact_gap_forms() if activation == "erf_exact_gaps" else angle_forms(activation)
    out = dense_update(f["e_a"], f["e_c"], f["e"], f["g_minus"], f["g_plus"])
    out["ntk"] = out["nngp"] + w_std**2 * f["edot"] * ntk
    return {k: out[k] for k in ("nngp", "ntk", "one_minus_corr", "one_plus_corr")}


def _hypot(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """sqrt(a^2 + b^2) for a, b >= 0 scaled by the larger, so that squares of ~1e-297 do not underflow
    (Min(1, .) keeps SymPy from expanding (a / m)^2 into a^2 m^-2, which overflows)."""
    m = _floor(sp.Max(a, b))
    ra, rb = sp.Min(1, a / m), sp.Min(1, b / m)
    return m * sp.sqrt(ra * ra + rb * rb)


def erf_scaled_step() -> dict[str, sp.Expr]:
    """The input Dense layer and the first erf step + Dense, for inputs divided by 2**e (variances ~1e594
    are not float64 numbers): ``nngp`` = w0^2 x.x'/d, ``var1``, ``var2`` = w0^2 |x|^2/d of the scaled inputs
    (w0 the input layer's weight std, ``b_std_in`` its bias std), 1 -+ rho of the inputs, ``inv_scale`` =
    2**-e; ``w_std``, ``b_std`` those of the Dense layer after the erf; returns the true (nngp, ntk, 1 - rho, 1 + rho) after the erf layer's
    Dense (nngp' <= w^2 + b^2 bounded; ntk' ~ 1 / inv_scale).

    With k = inv_scale and the first layer's true variances V = (w^2 var + b^2 k^2) / k^2, erf's
    den / sqrt(V1 V2) = sqrt(t1^2 t2^2 + 2 t1^2 + 2 t2^2 + 4 (1 - rho1)(1 + rho1)), t^2 = 1 / V ~ k^2, and
    the gaps 1 -+ rho1 of the first layer hold terms b^2 k^2 / V (a bias beside ~1e594 variances), so
    every such term is kept as k times a square root and summed by a scaled hypot (no underflow):
    sqrt(1 -+ rho1) = hypot(k b sqrt(B -+ / s), w sqrt(r (1 -+ rho) / s)) with s, r the scaled geometric
    means, B- = (sqrt(p) - sqrt(q))^2 / (s + pq + b^2 k^2), B+ = (p + q + b^2 k^2) / (s + pq) + 1
    (:func:`dense_update` with E = the input kernel, times k^2). E = (2/pi) atan2(2 rho1, den / sqrt(V1 V2)),
    Edot Theta^1 = (4/pi) rho1 / (den / sqrt(V1 V2)) (Theta^1 = Sigma^1). Derived here, checked against the
    unscaled input layer and erf step at rational points."""
    k = inv_scale
    beta_s = (b_std_in * k) ** 2
    p, q = var1, var2  # scaled input-layer weight parts (w0^2 included)
    vs1, vs2 = p + beta_s, q + beta_s  # scaled first-layer variances V k^2
    s_s = sp.sqrt(vs1) * sp.sqrt(vs2)
    pq = sp.sqrt(var1) * sp.sqrt(var2)
    b_minus = (sp.sqrt(p) - sp.sqrt(q)) ** 2 / _floor(s_s + pq + beta_s)
    b_plus = (p + q + beta_s) / _floor(s_s + pq) + 1
    root_om = _hypot(k * b_std_in * sp.sqrt(b_minus / _floor(s_s)), sp.sqrt(pq * one_minus_corr / _floor(s_s)))
    root_op = _hypot(k * b_std_in * sp.sqrt(b_plus / _floor(s_s)), sp.sqrt(pq * one_plus_corr / _floor(s_s)))
    rho1 = (nngp + beta_s) / _floor(s_s)
    t_part = k * sp.sqrt(k**2 / (_floor(vs1) * _floor(vs2)) + 2 / _floor(vs1) + 2 / _floor(vs2))
    den = _hypot(t_part, 2 * root_om * root_op)
    e = 2 / sp.pi * sp.atan2(2 * rho1, den)
    e_a = 2 / sp.pi * sp.atan2(2 * vs1, k * sp.sqrt(k**2 + 4 * vs1))
    e_c = 2 / sp.pi * sp.atan2(2 * vs2, k * sp.sqrt(k**2 + 4 * vs2))
    geo = sp.sqrt(e_a) * sp.sqrt(e_c)
    out = dense_update(e_a, e_c, e, sp.Max(geo - e, 0), sp.Max(geo + e, 0))
    out["ntk"] = out["nngp"] + w_std**2 * 4 / sp.pi * rho1 / den
    return {key: out[key] for key in ("nngp", "ntk", "one_minus_corr", "one_plus_corr")}


def erf_scaled_diag_step() -> dict[str, sp.Expr]:
    """:func:`erf_scaled_step` for the entries x = x' (``nngp`` = the variance times inv_scale^2):
    E = (2/pi) atan2(2 var_s, inv_scale sqrt(inv_scale^2 + 4 var_s)), Edot ntk = (4/pi) ntk_s /
    (inv_scale sqrt(inv_scale^2 + 4 var_s))."""
    k = inv_scale
    root = k * sp.sqrt(k**2 + 4 * nngp)
    nngp_next = w_std**2 * 2 / sp.pi * sp.atan2(2 * nngp, root) + b_std**2
    return {"nngp": nngp_next, "ntk": nngp_next + w_std**2 * 4 / sp.pi * ntk / root}


def _check_scaled_erf() -> None:
    """The scaled steps equal the unscaled input layer + erf step at rational points (50 digits)."""
    step, diag, first, plain = erf_scaled_step(), erf_scaled_diag_step(), angle_input_layer(), angle_step("erf")
    for a, c, rho, w, b, t, k, w0, b0 in [
        (sp.Rational(3, 2), sp.Rational(7, 10), sp.Rational(9, 10), sp.Rational(13, 10), sp.Rational(1, 5), sp.Rational(2), sp.Rational(1, 7),
         sp.Rational(1, 3), sp.Rational(4, 3)),
        (sp.Rational(1, 3), sp.Rational(5, 2), -sp.Rational(7, 8), sp.Rational(9, 7), sp.Rational(1, 2), sp.Rational(1, 3), sp.Rational(3, 2),
         sp.Rational(9, 7), sp.Rational(1, 2)),
    ]:
        b12 = rho * sp.sqrt(a * c)
        inputs = {var1: a, var2: c, nngp: b12, one_minus_corr: 1 - rho, one_plus_corr: 1 + rho, w_std: w0, b_std: b0}
        layer1 = {key: sp.N(v.subs(inputs), 60) for key, v in first.items()}
        va, vc = w0**2 * a + b0**2, w0**2 * c + b0**2
        true = {var1: va, var2: vc, nngp: layer1["nngp"], ntk: layer1["ntk"], one_minus_corr: layer1["one_minus_corr"],
                one_plus_corr: layer1["one_plus_corr"], w_std: w, b_std: b}
        scaled = {var1: w0**2 * a * k**2, var2: w0**2 * c * k**2, nngp: w0**2 * b12 * k**2, one_minus_corr: 1 - rho,
                  one_plus_corr: 1 + rho, w_std: w, b_std: b, b_std_in: b0, inv_scale: k}
        for key in plain:
            want = sp.N(plain[key].subs(true), 50)
            gap = sp.N(step[key].subs(scaled), 50) - want
            require(abs(gap) <= sp.Float("1e-40") * (abs(want) + 1), f"scaled erf first layer differs in {key}: {gap}")
        diag_true = {var1: a, var2: a, nngp: a, ntk: t, one_minus_corr: 0, one_plus_corr: 2, w_std: w, b_std: b}
        diag_scaled = {nngp: a * k**2, ntk: t * k**2, w_std: w, b_std: b, inv_scale: k}
        for key in diag:
            gap = sp.N(diag[key].subs(diag_scaled) - plain[key].subs(diag_true), 50)
            require(abs(gap) <= sp.Float("1e-40") * (abs(sp.N(plain[key].subs(diag_true), 50)) + 1), f"scaled erf diagonal step differs in {key}: {gap}")


def angle_input_layer() -> dict[str, sp.Expr]:
    """The first Dense layer on the input kernel (nngp = x.x'/d, var = |x|^2/d, 1 -+ rho of the inputs)."""
    r = sp.sqrt(var1) * sp.sqrt(var2)
    out = dense_update(var1, var2, nngp, r * one_minus_corr, r * one_plus_corr)
    out["ntk"] = out["nngp"]
    return {k: out[k] for k in ("nngp", "ntk", "one_minus_corr", "one_plus_corr")}


def _textbook(activation: str, a: sp.Expr, c: sp.Expr, b: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(E, Edot) as printed in the sources (theory.md 7.3), for the checks."""
    if activation == "relu":
        theta = sp.acos(b / sp.sqrt(a * c))
        return sp.sqrt(a * c) / (2 * sp.pi) * (sp.sin(theta) + (sp.pi - theta) * sp.cos(theta)), (sp.pi - theta) / (2 * sp.pi)
    if activation in _EVEN_ODD:  # Cho & Saul's arc-cosine kernels of relu(u) and relu(-u), theory.md 11.4
        a_e, a_o = _EVEN_ODD[activation]
        alpha, beta = a_e + a_o, a_e - a_o  # phi = alpha relu(u) + beta relu(-u)
        theta = sp.acos(b / sp.sqrt(a * c))
        e_rr = sp.sqrt(a * c) / (2 * sp.pi) * (sp.sin(theta) + (sp.pi - theta) * sp.cos(theta))
        e_rm = sp.sqrt(a * c) / (2 * sp.pi) * (sp.sin(theta) - theta * sp.cos(theta))  # E[relu(u) relu(-v)]
        e = (alpha**2 + beta**2) * e_rr + 2 * alpha * beta * e_rm
        return e, ((alpha**2 + beta**2) * (sp.pi - theta) - 2 * alpha * beta * theta) / (2 * sp.pi)
    den = (1 + 2 * a) * (1 + 2 * c)
    return 2 / sp.pi * sp.asin(2 * b / sp.sqrt(den)), 4 / sp.pi / sp.sqrt(den - 4 * b**2)


def _check_at_points(activation: str) -> None:
    """The angle step equals the textbook recursion (next nngp, ntk and 1 -+ rho') at exact rational
    points: correlations of both signs, equal and unequal variances, with and without bias."""
    step = angle_step(activation)
    first = angle_input_layer()
    for a, c, rho, w, b, t in [
        (sp.Rational(3, 2), sp.Rational(7, 10), sp.Rational(9, 10), sp.Rational(13, 10), sp.Rational(1, 5), sp.Rational(2)),
        (sp.Rational(1, 3), sp.Rational(5, 2), -sp.Rational(7, 8), sp.Rational(9, 7), sp.Rational(1, 2), sp.Rational(1, 3)),
        (sp.Rational(2), sp.Rational(2), sp.Rational(1, 7), sp.Rational(3, 2), sp.Integer(0), sp.Rational(5)),
    ]:
        b12 = rho * sp.sqrt(a * c)
        point = {var1: a, var2: c, nngp: b12, ntk: t, one_minus_corr: 1 - rho, one_plus_corr: 1 + rho, w_std: w, b_std: b}
        e, edot = _textbook(activation, a, c, b12)
        ea = _textbook(activation, a, a, a)[0] if activation != "relu" else a / 2
        ec = _textbook(activation, c, c, c)[0] if activation != "relu" else c / 2
        a2, c2, b2 = w**2 * ea + b**2, w**2 * ec + b**2, w**2 * e + b**2
        want = {"nngp": b2, "ntk": b2 + w**2 * edot * t, "one_minus_corr": 1 - b2 / sp.sqrt(a2 * c2), "one_plus_corr": 1 + b2 / sp.sqrt(a2 * c2)}
        a1, c1, b1 = w**2 * a + b**2, w**2 * c + b**2, w**2 * b12 + b**2
        want_first = {"nngp": b1, "ntk": b1, "one_minus_corr": 1 - b1 / sp.sqrt(a1 * c1), "one_plus_corr": 1 + b1 / sp.sqrt(a1 * c1)}
        for got, ref, what in ((step, want, f"{activation} step"), (first, want_first, "input layer")):
            for k in ref:
                gap = sp.N(got[k].subs(point) - ref[k], 50)
                scale = sp.N(abs(ref[k]) + 1, 50)
                require(abs(gap) <= sp.Float("1e-40") * scale, f"the angle-carrying {what} differs from the textbook recursion in {k}: {gap}")


def _show(expr: sp.Expr) -> sp.Expr:
    """``expr`` for display: the 1e-300 floors dropped, 1 -+ rho by name."""
    def drop_floor(*args: sp.Expr) -> sp.Expr:
        kept = [a for a in args if a != _FLOOR]
        return kept[0] if len(kept) == 1 else sp.Max(*kept)

    shown = expr.replace(sp.Max, drop_floor)
    return shown.xreplace({one_minus_corr: Named(r"(1 - \rho)"), one_plus_corr: Named(r"(1 + \rho)")})


@functools.lru_cache(maxsize=1)
def ntk_angle_derivation() -> Derivation:
    """The angle-carrying NNGP/NTK steps for ReLU, erf, abs, leaky ReLU and identity, checked against the
    textbook recursion."""
    for a in (*ANGLE_ACTIVATIONS, "erf_exact_gaps"):
        _check_at_points(a)
    _check_scaled_erf()
    steps_out = {a: angle_step(a) for a in ANGLE_ACTIVATIONS}
    first = angle_input_layer()
    g = {a: angle_forms(a) for a in ANGLE_ACTIVATIONS}
    om_next, op_next = Named(r"1 - \rho'"), Named(r"1 + \rho'")
    root_n, psi_n, theta_n = Named(r"\sqrt{\det}"), Named(r"\psi"), Named(r"\theta")
    r = sp.sqrt(var1) * sp.sqrt(var2)
    relu_display = [
        sp.Eq(root_n, _show(r * sp.sqrt(one_minus_corr * one_plus_corr))),
        sp.Eq(psi_n, sp.atan2(root_n, -nngp)),
        sp.Eq(theta_n, sp.atan2(root_n, nngp)),
        sp.Eq(Named(r"E_{\mathrm{relu}}"), (root_n + psi_n * nngp) / (2 * sp.pi)),
        sp.Eq(Named(r"\dot E_{\mathrm{relu}}"), psi_n / (2 * sp.pi)),
        sp.Eq(Named(r"G_{-,\mathrm{relu}}"), _show((sp.Max(r * theta_n - root_n, 0) + psi_n * r * one_minus_corr) / (2 * sp.pi))),
    ]
    steps = (
        Step(
            "input_angles",
            "At the input, $1 \\mp \\rho = \\lVert x/|x| \\mp x'/|x'| \\rVert^2 / 2$ (Kahan 2006, section 12): "
            "the difference of unit vectors has no cancellation, unlike $1 - x\\cdot x'/(|x||x'|)$.",
            [sp.Eq(Named(r"1 - \rho"), Named(r"\lVert x/|x| - x'/|x'| \rVert^2 / 2"))],
            title="Correlation gaps at the input",
        ),
        Step(
            "dense_gaps",
            "A Dense layer on second moments $(E_a, E_c, E)$ with $G_\\mp = \\sqrt{E_a E_c} \\mp E \\ge 0$: "
            "$s' - \\sigma_w^2\\sqrt{E_a E_c} - \\sigma_b^2$ and $s' - \\sigma_w^2\\sqrt{E_a E_c}$ rationalised, "
            "so every term is non-negative (checked at rational points).",
            [
                sp.Eq(om_next, _show(dense_update(Named("E_a"), Named("E_c"), Named("E"), Named("G_-"), Named("G_+"))["one_minus_corr"])),
                sp.Eq(op_next, _show(dense_update(Named("E_a"), Named("E_c"), Named("E"), Named("G_-"), Named("G_+"))["one_plus_corr"])),
            ],
            title="Dense layer: the gaps to plus and minus one",
        ),
        Step(
            "input_layer",
            "First Dense layer: $E_a = |x|^2/d$, $E = x\\cdot x'/d$, $G_\\mp = \\sqrt{E_a E_c}(1 \\mp \\rho)$.",
            [sp.Eq(Named(r"1 - \rho^{(1)}"), _show(first["one_minus_corr"])), sp.Eq(Named(r"1 + \rho^{(1)}"), _show(first["one_plus_corr"]))],
            title="Input layer",
        ),
        Step(
            "relu_gaps",
            "ReLU: $\\sqrt{\\det} = \\sqrt{\\Sigma(x,x)\\Sigma(x',x')(1-\\rho)(1+\\rho)}$, both angles by atan2, "
            "$G_- = \\sqrt{\\Sigma(x,x)\\Sigma(x',x')}(\\theta - \\sin\\theta + (\\pi - \\theta)(1 - \\rho))/(2\\pi)$.",
            relu_display,
            title="ReLU: expectations from the carried gaps",
        ),
        Step(
            "erf_gaps",
            "Erf: numerator and denominator of the arcsine form divided by $\\sqrt{\\Sigma(x,x)\\Sigma(x',x')}$ "
            "(no overflow for variances up to ~1e300).",
            [sp.Eq(Named(r"E_{\mathrm{erf}}"), _show(g["erf"]["e"])), sp.Eq(Named(r"\dot E_{\mathrm{erf}}"), _show(g["erf"]["edot"]))],
            title="Erf: normalised expectations",
        ),
        Step(
            "erf_exact_gaps",
            "Erf followed by a ReLU-type layer: $\\sqrt{E_a E_c} - E$ has an absolute error ~eps, which the next "
            "arc-cosine turns into an angle error ~eps/$\\theta$. With $A = 2\\Sigma(x,x)/(1 + 2\\Sigma(x,x))$, "
            "$C$ likewise, $g = \\sqrt{A C}$, $E = (2/\\pi)\\arcsin(\\rho g)$ (Williams 1997), $p = \\arcsin A$, "
            "$q = \\arcsin C$, $m = \\arcsin g$, the gap is split "
            "into the unequal-variance part $H = \\sqrt{\\arcsin A \\arcsin C} - \\arcsin g$ (from $d_p = "
            "\\arcsin A - \\arcsin g$, $d_q$, differences of arcsines by atan2 with rationalised numerators, "
            "$\\propto A - C$) and the angular part $\\delta = \\arcsin g - \\arcsin(|\\rho| g)$, "
            "$\\propto (1 - \\rho)(1 + \\rho)$: derived here, checked against the arcsine form at rational points.",
            [
                sp.Eq(Named(r"\tfrac{\pi}{2} G_{-,\mathrm{erf}}"), Named(r"H + \delta + 2 \max(0, -\arcsin(\rho g))")),
                sp.Eq(Named("H"), Named(r"\frac{m (d_p + d_q) + d_p d_q}{\sqrt{p q} + m}")),
                sp.Eq(Named(r"d_p"), Named(r"\operatorname{atan2}\left(\frac{A (A - C)}{A h + g \sqrt{1 - A^2}}, \sqrt{1 - A^2} h + A g\right)")),
                sp.Eq(Named(r"\delta"), Named(r"\operatorname{atan2}\left(\frac{g (1 - \rho)(1 + \rho)}{k + |\rho| h}, h k + |\rho| g^2\right)")),
                sp.Eq(Named("h"), Named(r"\sqrt{(1 - A) + A (1 - C)}")),
                sp.Eq(Named("k"), Named(r"\sqrt{h^2 + g^2 (1 - \rho)(1 + \rho)}")),
            ],
            title="Erf before a ReLU-type layer: gaps with relative accuracy",
        ),
        Step(
            "even_odd_gaps",
            "abs, leaky ReLU (slope 1/100) and identity as $\\phi = a_e |u| + a_o u$ "
            "($a_e, a_o$ = 1, 0; 99/200, 101/200; 0, 1): $E = a_e^2 E_{\\mathrm{abs}} + a_o^2 \\Sigma(x,x')$, "
            "$G_- = a_e^2 (\\sqrt{E_a E_c} - E)_{\\mathrm{abs}} + a_o^2 \\sqrt{\\Sigma(x,x)\\Sigma(x',x')}(1 - \\rho)$, "
            "with $\\varphi = \\min(\\theta, \\pi - \\theta)$ and $m = \\min(1 - \\rho, 1 + \\rho)$ (abs is even in $\\rho$).",
            [
                sp.Eq(Named(r"E_{\mathrm{abs}}"), _show(_even_odd_forms(sp.Integer(1), sp.Integer(0))["e"])),
                sp.Eq(Named(r"G_{-,\mathrm{abs}}"), _show(_even_odd_forms(sp.Integer(1), sp.Integer(0))["g_minus"])),
            ],
            title="Abs, leaky ReLU, identity: even and odd parts",
        ),
        Step(
            "erf_scaled",
            "Inputs near 1e300 have variances beyond float64: they are divided by $2^e$ (exactly) and the first "
            "erf layer takes $\\Sigma$, $\\Theta$ times $k^2 = 4^{-e}$ ($k$ = inv_scale): the erf forms with "
            "numerator and denominator multiplied by $k^2$ (checked against the unscaled step at rational points).",
            [
                sp.Eq(Named(r"E_{\mathrm{erf}}"), _show(erf_scaled_step()["nngp"])),
                sp.Eq(Named(r"\Sigma'(x,x)"), erf_scaled_diag_step()["nngp"]),
            ],
            title="Erf at inputs beyond float64 variances",
        ),
    )
    results: dict[str, object] = {f"input_{k}": v for k, v in first.items()}
    for a, out in steps_out.items():
        results.update({f"{a}_step_{k}": v for k, v in out.items()})
    results.update({f"erf_exact_gaps_step_{k}": v for k, v in angle_step("erf_exact_gaps").items()})
    results.update({f"erf_scaled_step_{k}": v for k, v in erf_scaled_step().items()})
    results.update({f"erf_scaled_step_diag_{k}": v for k, v in erf_scaled_diag_step().items()})
    return Derivation(
        name="ntk-angles",
        title="NNGP and NTK steps exact for near-coincident and antipodal inputs",
        reference=_REF,
        assumptions=(
            "var1, var2 >= 0; one_minus_corr, one_plus_corr in [0, 2] with sum 2 (a covariance matrix)",
            "NTK parameterisation and neural-tangents conventions as in the ntk derivation",
        ),
        inputs={
            "nngp": "Sigma(x, x'), elementwise over pairs",
            "ntk": "Theta(x, x'), elementwise over pairs",
            "one_minus_corr": "1 - rho(x, x'), rho = Sigma(x, x') / sqrt(Sigma(x, x) Sigma(x', x'))",
            "one_plus_corr": "1 + rho(x, x')",
            "var1": "Sigma(x, x)",
            "var2": "Sigma(x', x')",
            "w_std": "weight standard deviation (scalar)",
            "b_std": "bias standard deviation (scalar)",
        },
        steps=steps,
        results=results,
    )
