"""Kernel specifications of the Gaussian IB and the Gaussian dualIB, from the derivations' results.

Matrix-level results (``LogDet``, ``Trace``, matrix products and inverses of ``MatrixSymbol``s) are
*translated* into the code generator's batched matrix heads (:class:`LogDetPD`, :class:`CholSolve`,
:class:`BMatMul`, :class:`MT`, :class:`BTrace`) by :func:`to_array_nodes`; per-direction results
are composed (the optimal signal-to-noise ratio clipped at 0, i.e. the unused directions below
their critical beta, substituted into the per-direction informations). Nothing here is typed by
hand except that clipping, which is the derivation's "critical-beta" step.

Matrix arguments of the generated kernels are arrays ``(..., n, m)`` batched over leading axes;
per-direction arguments broadcast elementwise.
"""

from __future__ import annotations

import functools

import sympy as sp

from ..codegen import KernelSpec, kernel
from ..codegen.nodes import MT, BMatMul, BTrace, CholSolve, LogDetPD
from . import _gaussian as g
from ._symbols import beta

_GIB = g.GIB_REFERENCE + "; derived in ibtheory.symbolic.gaussian_ib_derivation"
_DUAL = g.DUAL_REFERENCE + "; ibtheory.symbolic.gaussian_dual_ib_derivation"


def _array_symbol(m: sp.MatrixSymbol) -> sp.Symbol:
    return sp.Symbol(m.name, real=True)


def to_array_nodes(expr: sp.Basic) -> sp.Expr:
    """Translate a matrix-level SymPy expression into batched array heads for code generation.

    ``MatrixSymbol`` -> plain ``Symbol`` of the same name (an ``(..., n, m)`` array), ``MatMul`` ->
    nested :class:`BMatMul` (an ``Inverse(S)`` factor becomes ``CholSolve(S, rest)``, and a trailing
    one ``MT(CholSolve(S, MT(left)))``, valid because every inverted matrix here is symmetric
    positive definite), ``Transpose`` -> :class:`MT`, ``LogDet`` -> :class:`LogDetPD`, ``Trace`` ->
    :class:`BTrace`. Raises ``ValueError`` on anything else (e.g. a bare identity, whose size an
    elementwise kernel cannot know).
    """
    if isinstance(expr, sp.MatrixSymbol):
        return _array_symbol(expr)
    if isinstance(expr, g.LogDet):
        return LogDetPD(to_array_nodes(expr.args[0]))
    if isinstance(expr, sp.Trace):
        return BTrace(to_array_nodes(expr.arg))
    if isinstance(expr, sp.Transpose):
        return MT(to_array_nodes(expr.arg))
    if isinstance(expr, sp.MatAdd):
        return sp.Add(*(to_array_nodes(a) for a in expr.args))
    if isinstance(expr, sp.MatMul):
        coeff, factors = expr.as_coeff_matrices()
        return coeff * _matmul_chain(list(factors))
    if isinstance(expr, sp.MatrixExpr):
        raise ValueError(f"cannot translate the matrix expression {expr} ({type(expr).__name__})")
    if expr.args:
        return expr.func(*(to_array_nodes(a) for a in expr.args))
    return expr


def _matmul_chain(factors: list[sp.MatrixExpr]) -> sp.Expr:
    out: sp.Expr | None = None
    k = 0
    while k < len(factors):
        f = factors[k]
        if isinstance(f, sp.Inverse):
            inner = to_array_nodes(f.arg)
            if k + 1 < len(factors):
                rest = _matmul_chain(factors[k + 1 :])
                solved = CholSolve(inner, rest)
                return solved if out is None else BMatMul(out, solved)
            if out is None:
                raise ValueError("a bare inverse cannot be generated; multiply it by something")
            return MT(CholSolve(inner, MT(out)))
        term = to_array_nodes(f)
        out = term if out is None else BMatMul(out, term)
        k += 1
    assert out is not None
    return out


def _direction_outputs(results: dict) -> dict[str, sp.Expr]:
    """Optimal snr (clipped at 0 below the critical beta), alpha, I_X and I_Y of one direction."""
    q_opt = sp.Max(results["snr"], 0)
    return {
        "snr": q_opt,
        "alpha": sp.sqrt(q_opt / g.direction_variance),
        "i_xt": results["i_xt_direction"].subs(g.snr, q_opt),
        "i_ty": results["i_ty_direction"].subs(g.snr, q_opt),
    }


def _matrix_specs(gib: dict, dual: dict) -> list[KernelSpec]:
    a, sx, sxy_ = (_array_symbol(m) for m in (g.projection, g.cov_x, g.cov_x_given_y))
    noise, weight = _array_symbol(g.cov_noise), _array_symbol(g.distortion_weight)
    # E d = (1/2) tr(W Sigma_{x|t}); Sigma_{x|t} in its Woodbury (covariance) form so that only
    # SPD solves appear; the equality with the derivation's information form is tested.
    post = g.EQ_WOODBURY_POSTERIOR.lhs(g.projection, g.cov_x, g.cov_noise)
    expected = sp.Trace(g.distortion_weight * post) / 2
    i_xt_matrix = to_array_nodes(gib["i_xt"])
    return [
        kernel(
            "gaussian_channel_information",
            [a, sx, sxy_, noise],
            {"i_xt": i_xt_matrix, "i_ty": to_array_nodes(gib["i_ty"])},
            doc=(
                "I(T;X) and I(T;Y) in nats of the linear Gaussian channel T = A X + xi, xi ~ N(0, "
                "cov_noise), as half log-determinant ratios (Cholesky). projection (..., n_t, n_x), "
                "cov_x and cov_x_given_y (..., n_x, n_x), cov_noise (..., n_t, n_t); returns (...)."
            ),
            reference=_GIB,
        ),
        kernel(
            "gaussian_ib_lagrangian",
            [a, sx, sxy_, noise, beta],
            {"objective": to_array_nodes(gib["lagrangian"])},
            doc="The Gaussian IB Lagrangian L(A) = I(T;X) - beta I(T;Y) in nats; shapes as gaussian_channel_information, beta (...).",
            reference=_GIB,
        ),
        kernel(
            "gaussian_dual_ib_functional",
            [a, sx, noise, weight, beta],
            {
                "i_xt": i_xt_matrix,
                "expected_distortion": to_array_nodes(expected),
                "objective": i_xt_matrix + beta * to_array_nodes(expected),
            },
            doc=(
                "The Gaussian dualIB functional F(A) = I(X;T) + beta E[d_dual] in nats, with "
                "E[d_dual] = (1/2) tr(W Sigma_{x|t}), W = B^T Sigma_{y|x}^{-1} B (distortion_weight, "
                "(..., n_x, n_x)) and Sigma_{x|t} = cov_x - cov_x A^T (A cov_x A^T + cov_noise)^{-1} A cov_x."
            ),
            reference=_DUAL,
        ),
        kernel(
            "gaussian_mutual_information",
            [sx, sxy_],
            {"i_xy": to_array_nodes(gib["i_xy"])},
            doc="I(X;Y) = (1/2)[log|cov_x| - log|cov_x_given_y|] in nats; (..., n_x, n_x) -> (...).",
            reference=_GIB,
        ),
    ]


def _direction_specs(gib: dict, dual: dict) -> list[KernelSpec]:
    args = [g.eigenvalue, g.canonical_correlation_sq, g.direction_variance, beta]
    doc = (
        "Per CCA direction i of the {m} at beta: the optimal signal-to-noise ratio q_i = alpha_i^2 r_i "
        "(0 below the critical beta), the projection scale alpha_i, and the nats of I(T;X) and "
        "I(T;Y) it carries (I(T;Y) through the true Markov channel). eigenvalue = lambda_i, "
        "canonical_correlation_sq = 1 - lambda_i (both passed to avoid cancellation), "
        "direction_variance = r_i = v_i^T Sigma_x v_i; all broadcast elementwise."
    )
    return [
        kernel("gaussian_ib_direction", args, _direction_outputs(gib), doc=doc.format(m="Gaussian IB"), reference=_GIB),
        kernel("gaussian_dual_ib_direction", args, _direction_outputs(dual), doc=doc.format(m="Gaussian dualIB"), reference=_DUAL),
        kernel(
            "gaussian_ib_critical_beta",
            [g.eigenvalue, g.canonical_correlation_sq],
            {"critical_beta": gib["critical_beta"]},
            doc="Critical beta of a direction, 1/(1 - lambda_i) = 1/rho_i^2 (inf for rho_i = 0).",
            reference=_GIB,
        ),
        kernel(
            "gaussian_dual_ib_critical_beta",
            [g.eigenvalue, g.canonical_correlation_sq],
            {"critical_beta": dual["critical_beta"]},
            doc="Critical beta of a direction for the dualIB, lambda_i/(1 - lambda_i) (derived here).",
            reference=_DUAL,
        ),
        kernel(
            "gaussian_direction_mutual_information",
            [g.eigenvalue],
            {"i_xy": gib["i_xy_direction"]},
            doc="Mutual information -1/2 log lambda_i (nats) carried by CCA direction i; I(X;Y) is their sum.",
            reference=_GIB,
        ),
        kernel(
            "gaussian_information_curve",
            [g.i_xt, g.n_active, g.geo_mean_eigenvalue, g.geo_mean_correlation_sq],
            {"i_ty": gib["curve"].rhs},
            doc=(
                "Chechik et al.'s closed-form curve I(T;Y) as a function of I(T;X) (nats) with n_active "
                "active directions and the geometric means of their lambda_i and 1 - lambda_i "
                "(the same curve for the Gaussian dualIB)."
            ),
            reference=_GIB,
        ),
    ]


@functools.cache
def _specs() -> tuple[KernelSpec, ...]:
    gib = dict(g.gaussian_ib_derivation().results)
    dual = dict(g.gaussian_dual_ib_derivation().results)
    return (*_matrix_specs(gib, dual), *_direction_specs(gib, dual))


def kernel_specs() -> list[KernelSpec]:
    """The ``gaussian`` kernel group (see :mod:`ibtheory.codegen._registry`)."""
    return list(_specs())
