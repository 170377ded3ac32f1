"""Kernel specifications of the Gaussian-mixture bounds and ensemble-information terms (group ``mixture``).

Every expression comes from :func:`ibtheory.symbolic.mixture_information_derivation`:
its isotropic KL, Bhattacharyya distance, log density, entropy, Gibbs/Bayes log-likelihoods and KL
to the prior, with the pairwise squared distance in the expanded (matrix-product) form of the
derivation's "squared distance" step. Nothing is typed by hand here.

Row kernels. The N x N pairwise terms are never formed at once: a kernel takes a block of rows
``i`` (a chunk of components) against all columns ``j`` and returns one number per row, the
log-mean-exp over ``j`` of minus the divergence (axes ``("i", "j", "d")``, reduction by a stable
log-sum-exp). :func:`ibtheory.estimators.mixture_entropy_bounds` loops over row chunks, so memory is
O(chunk x N).
"""

from __future__ import annotations

import functools

import sympy as sp

from ..codegen import KernelSpec, array_symbol, kernel
from ..symbolic import (
    KT_REFERENCE,
    SA_REFERENCE,
    mixture_information_derivation,
    squared_distance_expanded,
)
from ..symbolic import symbols as m
from ._gaussian import _array

_REF = KT_REFERENCE + "; " + SA_REFERENCE + "; ibtheory.symbolic mixture_information_derivation"


def _pairwise_subs(a: sp.IndexedBase) -> dict[sp.Basic, sp.Expr]:
    return {
        m.sq_dist: squared_distance_expanded(a, m.means_col),
        m.var_i: m.var_row[m.row],
        m.var_j: m.var_col[m.col],
    }


def _log_mean_exp(exponent: sp.Expr) -> sp.Expr:
    """log (1/N) sum_j exp(exponent_j) with N = n_components (the full mixture size)."""
    return sp.log(sp.Sum(sp.exp(exponent), (m.col, 0, m.n_cols - 1))) - sp.log(m.n_components)


def pairwise_row_outputs(direct: bool = False) -> dict[str, sp.Expr]:
    """Per-row terms of the pairwise estimators: log (1/N) sum_j exp(-D(p_i||p_j)) for D = KL and
    D = Bhattacharyya (theory.md 4.3 b), at index level over (i, j, d); ``direct`` takes the squared
    distance as the sum of squared differences (the derivation's ``sq_dist_direct``, no cancellation)
    instead of the expanded matrix-product form."""
    res = mixture_information_derivation().results
    sub = _pairwise_subs(m.means_row)
    if direct:
        sub[m.sq_dist] = sp.sympify(res["sq_dist_direct"])
    kl = sp.sympify(res["kl"]).subs(sub)
    bd = sp.sympify(res["bhattacharyya"]).subs(sub)
    return {"log_mean_exp_kl": _log_mean_exp(-kl), "log_mean_exp_bd": _log_mean_exp(-bd)}


def score_row_outputs() -> dict[str, sp.Expr]:
    """Per-row log-sum-exp of the scores s_ij = ln N(z_i; mu_j, s_j I_k) (theory.md 4.3 a), over all
    j and over the j with log_weight_ij = 0 (leave-one-out: log_weight_ii = -inf)."""
    res = mixture_information_derivation().results
    sub = {
        m.sq_dist: squared_distance_expanded(m.samples_row, m.means_col),
        m.var_j: m.var_col[m.col],
    }
    score = sp.sympify(res["log_density"]).subs(sub)
    total = sp.log(sp.Sum(sp.exp(score), (m.col, 0, m.n_cols - 1)))
    masked = sp.log(sp.Sum(sp.exp(score + m.log_weight[m.row, m.col]), (m.col, 0, m.n_cols - 1)))
    return {"log_sum_exp": total, "log_sum_exp_masked": masked}


@functools.lru_cache(maxsize=1)
def kernel_specs() -> list[KernelSpec]:
    """The ``mixture`` kernel group."""
    res = mixture_information_derivation().results
    return [
        kernel(
            "mixture_pairwise_rows",
            [m.means_row, m.var_row, m.means_col, m.var_col, m.dim, m.n_components],
            pairwise_row_outputs(),
            doc=(
                "Rows of the Kolchinsky-Tracey pairwise estimators for an equal-weight mixture of "
                "isotropic Gaussians N(mu_j, s_j I_k): for each row i, log (1/N) sum_j exp(-KL(p_i||p_j)) "
                "and log (1/N) sum_j exp(-D_B(p_i, p_j)), N = n_components. means_row (..., n_i, k), "
                "var_row (..., n_i) are a chunk of rows; means_col (..., n_j, k), var_col (..., n_j) all "
                "components; dim = k. Memory O(n_i n_j)."
            ),
            reference=_REF,
            axes=m.PAIRWISE_AXES,
        ),
        kernel(
            "mixture_pairwise_rows_direct",
            [m.means_row, m.var_row, m.means_col, m.var_col, m.dim, m.n_components],
            pairwise_row_outputs(direct=True),
            doc=(
                "mixture_pairwise_rows with the squared distances summed from differences, sum_d "
                "(mu_id - mu_jd)^2: exact to rounding of each D_ij however far the components lie from "
                "the origin relative to their widths (the matrix-product form is not). Same arguments and "
                "outputs; memory O(n_i n_j k)."
            ),
            reference=_REF,
            axes=m.PAIRWISE_AXES,
        ),
        kernel(
            "mixture_score_rows",
            [m.samples_row, m.means_col, m.var_col, m.dim, m.log_weight],
            score_row_outputs(),
            doc=(
                "For samples z_i (..., n_i, k) and components N(mu_j, s_j I_k): log sum_j exp(s_ij) and "
                "log sum_j exp(s_ij + log_weight_ij), s_ij = ln N(z_i; mu_j, s_j I_k); log_weight "
                "(..., n_i, n_j) is 0 or -inf (e.g. -inf on the diagonal for the leave-one-out bound)."
            ),
            reference=_REF,
            axes=m.PAIRWISE_AXES,
        ),
        kernel(
            "isotropic_gaussian_entropy",
            [m.variance, m.dim],
            {"entropy": sp.sympify(res["entropy"])},
            doc="Differential entropy (nats) (k/2) ln(2 pi e s) of N(mu, s I_k); elementwise.",
            reference=_REF,
        ),
        kernel(
            "isotropic_log_density",
            [m.sq_dist, m.var_j, m.dim],
            {"log_density": sp.sympify(res["log_density"])},
            doc="ln N(z; mu, s I_k) from sq_dist = ||z - mu||^2 and var_j = s; elementwise.",
            reference=_REF,
        ),
        kernel(
            "gibbs_log_likelihood",
            [m.residual, m.variance, m.noise_variance],
            {"log_likelihood": sp.sympify(res["gibbs"])},
            doc=(
                "Expected log-likelihood E_{f~N(mu, variance)} ln N(y; f, noise_variance) of one ensemble "
                "member, per point and output, residual = y - mu; elementwise."
            ),
            reference=_REF,
        ),
        kernel(
            "bayes_log_likelihood",
            [array_symbol(m.pred_cov), array_symbol(m.resid_vec), m.n_points],
            {"log_likelihood": _array(res["bayes"])},
            doc=(
                "ln N(y; mu, Sigma + nu I) of the ensemble predictive for one output over n points "
                "jointly: predictive_cov = Sigma + nu I (..., n, n), residual_vec = y - mu (..., n, 1), "
                "n_points = n; returns (...). Cholesky-based."
            ),
            reference=_REF,
        ),
        kernel(
            "gaussian_kl_to_prior",
            [array_symbol(m.cov_post), array_symbol(m.cov_prior), array_symbol(m.mean_diff), m.n_points],
            {"kl": _array(res["kl_to_prior"])},
            doc=(
                "KL(N(mu_t, Sigma_t) || N(mu_0, Sigma_0)) over n points for one output: cov_post, "
                "cov_prior (..., n, n) positive definite, mean_diff = mu_t - mu_0 (..., n, 1); returns (...)."
            ),
            reference=_REF,
        ),
    ]
