"""Literal mpmath oracles for the NNGP/NTK recursion and its Gaussian expectations (tests, benchmarks).

Typed from the sources, independently of the symbolic layer and the generated kernels: the
textbook arccos/arcsin closed forms (theory.md 7.3; Cho & Saul 2009, Williams 1997) evaluated in
mpmath at ``dps`` digits, and quadrature of the defining integrals.
"""

from __future__ import annotations

from collections.abc import Sequence

import mpmath


def _relu_e_edot(s11, s22, s12):
    scale = mpmath.sqrt(s11 * s22)
    c = s12 / scale
    c = min(max(c, mpmath.mpf(-1)), mpmath.mpf(1))
    theta = mpmath.acos(c)
    e = scale / (2 * mpmath.pi) * (mpmath.sin(theta) + (mpmath.pi - theta) * mpmath.cos(theta))
    return e, (mpmath.pi - theta) / (2 * mpmath.pi)


def _erf_e_edot(s11, s22, s12):
    den = (1 + 2 * s11) * (1 + 2 * s22)
    e = 2 / mpmath.pi * mpmath.asin(2 * s12 / mpmath.sqrt(den))
    return e, 4 / mpmath.pi / mpmath.sqrt(den - 4 * s12**2)


def gaussian_expectations(activation: str, s11, s22, s12, *, dps: int = 50):
    """(E[phi(u)phi(v)], E[phi'(u)phi'(v)]) for (u, v) ~ N(0, [[s11, s12], [s12, s22]]) by the textbook forms."""
    with mpmath.workdps(dps):
        s11, s22, s12 = mpmath.mpf(s11), mpmath.mpf(s22), mpmath.mpf(s12)
        return (_relu_e_edot if activation == "relu" else _erf_e_edot)(s11, s22, s12)


def fc_kernel_entry(
    x1: Sequence[float], x2: Sequence[float], *, depth: int, activation: str, w_std, b_std, dps: int = 50
) -> tuple[mpmath.mpf, mpmath.mpf]:
    """(nngp, ntk) of one input pair by the recursion of theory.md 7.2 in mpmath at ``dps`` digits.

    Inputs are taken exactly as given (float64 values are exact binary fractions); x.x'/d is summed
    exactly (``fsum`` at working precision).
    """
    with mpmath.workdps(dps):
        w, b = mpmath.mpf(w_std), mpmath.mpf(b_std)
        d = len(x1)
        a = [mpmath.mpf(float(v)) for v in x1]
        c = [mpmath.mpf(float(v)) for v in x2]

        def dot(p, q):
            return mpmath.fsum(pi * qi for pi, qi in zip(p, q, strict=True)) / d

        s11, s22, s12 = (w**2 * k + b**2 for k in (dot(a, a), dot(c, c), dot(a, c)))
        t12 = s12
        ee = _relu_e_edot if activation == "relu" else _erf_e_edot
        for _ in range(depth):
            e, edot = ee(s11, s22, s12)
            e11, _ = ee(s11, s11, s11)
            e22, _ = ee(s22, s22, s22)
            s12_next = w**2 * e + b**2
            t12 = s12_next + w**2 * edot * t12
            s12, s11, s22 = s12_next, w**2 * e11 + b**2, w**2 * e22 + b**2
        return +s12, +t12


def relu_expectations_by_quadrature(s11, s22, s12, *, dps: int = 50):
    """E[relu(u) relu(v)] and P(u > 0, v > 0) by 1-D quadrature of the defining integral.

    With u = a z1, v = b (rho z1 + s z2), s = sqrt(1 - rho^2), the inner Gaussian integral over z2
    is closed (E[relu(m + s Z)] = m Phi(m/s) + s phi(m/s)); the remaining smooth integral over
    z1 > 0 is done by mpmath.quad (tanh-sinh). Independent of the arc-cosine closed forms.
    """
    with mpmath.workdps(dps + 10):
        s11, s22, s12 = mpmath.mpf(s11), mpmath.mpf(s22), mpmath.mpf(s12)
        a, b = mpmath.sqrt(s11), mpmath.sqrt(s22)
        rho = s12 / (a * b)
        s = mpmath.sqrt(1 - rho**2)

        def pdf(z):
            return mpmath.exp(-(z**2) / 2) / mpmath.sqrt(2 * mpmath.pi)

        def cdf(z):
            return mpmath.ncdf(z)

        e = a * b * mpmath.quad(lambda z: z * pdf(z) * (rho * z * cdf(rho * z / s) + s * pdf(rho * z / s)), [0, mpmath.inf])
        edot = mpmath.quad(lambda z: pdf(z) * cdf(rho * z / s), [0, mpmath.inf])
    with mpmath.workdps(dps):
        return +e, +edot


def hermite_gauss(n: int, *, dps: int = 50) -> tuple[list, list]:
    """Gauss-Hermite nodes and weights (weight exp(-x^2)) at ``dps`` digits, by Newton on H_n."""
    import numpy as np

    x0, _ = np.polynomial.hermite.hermgauss(n)
    with mpmath.workdps(dps + 20):
        nodes, weights = [], []
        norm = mpmath.power(2, n - 1) * mpmath.factorial(n) * mpmath.sqrt(mpmath.pi) / n**2
        for guess in x0:
            x = mpmath.mpf(float(guess))
            for _ in range(100):
                h = mpmath.hermite(n, x)
                dx = h / (2 * n * mpmath.hermite(n - 1, x))
                x -= dx
                if abs(dx) < mpmath.mpf(10) ** (-(dps + 15)):
                    break
            nodes.append(x)
            weights.append(norm / mpmath.hermite(n - 1, x) ** 2)
    return nodes, weights


def erf_expectations_by_gauss_hermite(s11, s22, s12, *, n: int = 80, dps: int = 50):
    """E[erf(u) erf(v)] and E[erf'(u) erf'(v)] by 2-D Gauss-Hermite quadrature at ``dps`` digits.

    (u, v) = sqrt(2) L (z1, z2) with L the Cholesky factor of the covariance, z ~ exp(-|z|^2)/pi.
    """
    nodes, weights = hermite_gauss(n, dps=dps)
    with mpmath.workdps(dps + 10):
        s11, s22, s12 = mpmath.mpf(s11), mpmath.mpf(s22), mpmath.mpf(s12)
        l11 = mpmath.sqrt(s11)
        l21 = s12 / l11
        l22 = mpmath.sqrt(s22 - l21**2)
        r2 = mpmath.sqrt(2)
        e = edot = mpmath.mpf(0)
        for z1, w1 in zip(nodes, weights, strict=True):
            u = r2 * l11 * z1
            fu, du = mpmath.erf(u), mpmath.exp(-(u**2))
            for z2, w2 in zip(nodes, weights, strict=True):
                v = r2 * (l21 * z1 + l22 * z2)
                ww = w1 * w2
                e += ww * fu * mpmath.erf(v)
                edot += ww * du * mpmath.exp(-(v**2))
        e /= mpmath.pi
        edot *= 4 / mpmath.pi / mpmath.pi
    with mpmath.workdps(dps):
        return +e, +edot
