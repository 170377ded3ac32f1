"""Kernel specifications of the Gaussian IB and the Gaussian dualIB, from the derivations' results.

Matrix-level results (``LogDet``, ``Trace``, matrix products and inverses of ``MatrixSymbol``s) are
*translated* into the code generator's batched matrix heads (:class:`LogDetPD`, :class:`CholSolve`,
:class:`BMatMul`, :class:`MT`, :class:`BTrace`) by :func:`ibtheory.codegen.to_array_nodes`, with
the symbolic layer's ``LogDet`` mapped onto ``LogDetPD`` here (:data:`MATRIX_HEADS`); per-direction results
are composed (the optimal signal-to-noise ratio clipped at 0, i.e. the unused directions below
their critical beta, substituted into the per-direction informations). Nothing here is typed by
hand except that clipping, which is the derivation's "critical-beta" step.

Matrix arguments of the generated kernels are arrays ``(..., n, m)`` batched over leading axes;
per-direction arguments broadcast elementwise.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import sympy as sp

from ..codegen import KernelSpec, array_symbol, kernel, to_array_nodes
from ..codegen.nodes import LogDetPD
from ..symbolic import (
    EQ_WOODBURY_POSTERIOR,
    GAUSSIAN_DUAL_IB_REFERENCE,
    GAUSSIAN_IB_REFERENCE,
    LogDet,
    gaussian_dual_ib_derivation,
    gaussian_ib_derivation,
)
from ..symbolic import symbols as g
from ..symbolic.symbols import beta

_GIB = GAUSSIAN_IB_REFERENCE + "; derived in ibtheory.symbolic.gaussian_ib_derivation"
_DUAL = GAUSSIAN_DUAL_IB_REFERENCE + "; ibtheory.symbolic.gaussian_dual_ib_derivation"


#: the derivations' inert log-determinant head, lowered by Cholesky
MATRIX_HEADS: dict[type, Callable[..., sp.Expr]] = {LogDet: LogDetPD}


def _array(expr: sp.Basic) -> sp.Expr:
    """A matrix-level result as batched array heads (:func:`ibtheory.codegen.to_array_nodes`)."""
    return to_array_nodes(expr, MATRIX_HEADS)


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
    a, sx, sxy_ = (array_symbol(m) for m in (g.projection, g.cov_x, g.cov_x_given_y))
    noise, weight = array_symbol(g.cov_noise), array_symbol(g.distortion_weight)
    # E d = (1/2) tr(W Sigma_{x|t}); Sigma_{x|t} in its Woodbury (covariance) form so that only
    # SPD solves appear; the equality with the derivation's information form is tested.
    post = EQ_WOODBURY_POSTERIOR.lhs(g.projection, g.cov_x, g.cov_noise)
    expected = sp.Trace(g.distortion_weight * post) / 2
    i_xt_matrix = _array(gib["i_xt"])
    return [
        kernel(
            "gaussian_channel_information",
            [a, sx, sxy_, noise],
            {"i_xt": i_xt_matrix, "i_ty": _array(gib["i_ty"])},
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
            {"objective": _array(gib["lagrangian"])},
            doc="The Gaussian IB Lagrangian L(A) = I(T;X) - beta I(T;Y) in nats; shapes as gaussian_channel_information, beta (...).",
            reference=_GIB,
        ),
        kernel(
            "gaussian_dual_ib_functional",
            [a, sx, noise, weight, beta],
            {
                "i_xt": i_xt_matrix,
                "expected_distortion": _array(expected),
                "objective": i_xt_matrix + beta * _array(expected),
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
            {"i_xy": _array(gib["i_xy"])},
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
    gib = dict(gaussian_ib_derivation().results)
    dual = dict(gaussian_dual_ib_derivation().results)
    return (*_matrix_specs(gib, dual), *_direction_specs(gib, dual))


def kernel_specs() -> list[KernelSpec]:
    """The ``gaussian`` kernel group (see :data:`ibtheory.kernels.KERNEL_GROUPS`)."""
    return list(_specs())
