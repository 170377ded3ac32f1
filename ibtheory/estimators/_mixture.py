"""Pairwise-distance bounds on the entropy of an equal-weight mixture of isotropic Gaussians.

Kolchinsky & Tracey, "Estimating mixture entropy with pairwise distances", Entropy 19(7):361
(2017) (theory.md 4.3 b, 5.7). For p(z) = (1/N) sum_i N(z; mu_i, s_i I_k):

    H_D = (1/N) sum_i H(p_i) - (1/N) sum_i ln (1/N) sum_j exp(-D(p_i || p_j)),

a lower bound on H(Z) for D = Bhattacharyya distance and an upper bound for D = KL divergence, with

    H(Z|X) <= H_BD <= H(Z) <= H_KL <= H(Z|X) + ln N,    H(p_i) = (k/2) ln(2 pi e s_i).

The N x N terms are evaluated by the generated kernel ``mixture_pairwise_rows`` (group ``mixture``,
from :func:`ibtheory.symbolic._mixture.mixture_information_derivation`) over chunks of rows, so
peak memory is O(chunk x N), never O(N^2).

Rounding. The squared distances use the matrix-product form ||a||^2 + ||b||^2 - 2 a.b (the
derivation's "squared distance" step) after the means are centred (translation invariance): one
BLAS product per chunk, with an absolute error of about 1e-15 x max ||mu_i - mean||^2, i.e. of
~1e-15 x spread^2 / s in each D_ij. When that bound exceeds :data:`DIRECT_DISTANCE_ABOVE` (far-apart
clusters of close components, very narrow components; issue 21) the generated
``mixture_pairwise_rows_direct`` sums squared differences instead, so each D_ij is exact to rounding
(D_ii = 0 exactly) and the log-sum-exp of the log-kernels -D_ij keeps every bound a bound.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..numeric import check_finite_array, check_positive_int, check_units, to_units

#: Default number of float64 entries of one (rows x N) block: 2^20 (8 MiB per temporary; the
#: kernel keeps about ten alive). The chunk of rows is this divided by N (and by the batch size).
BLOCK_ELEMENTS = 2**20


#: Above this bound (nats) on the rounding of the matrix-product distances (~ 16 eps max ||mu_i - mean||^2
#: / min s) the pairwise terms use the generated direct-difference kernel (``mixture_pairwise_rows_direct``,
#: issue 21); below it the matrix-product kernel, as fast as before and wrong by at most this much
#: (e.g. N(0, I_10) means with s >= 0.2).
DIRECT_DISTANCE_ABOVE = 1e-12


class MixtureEntropyBounds(NamedTuple):
    """``(lower, upper)`` bounds on the mixture entropy H(Z), arrays of the batch shape ``(...)``."""

    lower: np.ndarray
    upper: np.ndarray


class PairwiseTerms(NamedTuple):
    """Averages that make up the pairwise estimators (nats), arrays of the batch shape ``(...)``.

    ``h_components`` = (1/N) sum_i H(p_i) = H(Z|X); ``i_bd`` and ``i_kl`` = -(1/N) sum_i ln (1/N)
    sum_j exp(-D_ij) for D = Bhattacharyya and KL, i.e. the pairwise lower and upper bounds on
    I(X;Z) when X is uniform over the components; ``n_components`` = N.

    As computed, NOT clipped: exactly 0 <= i_bd <= i_kl <= ln N (D_ii = 0, D >= 0 and
    D_BD <= D_KL / 2, the Renyi divergence of order 1/2 being at most KL), but round-off may cross
    these ends by ~1e-15 (the module note bounds the rounding). :meth:`clipped` returns
    the values moved back into those ranges, as the public bounds report them.
    """

    h_components: np.ndarray
    i_bd: np.ndarray
    i_kl: np.ndarray
    n_components: int

    def clipped(self) -> PairwiseTerms:
        """``i_bd`` clipped to [0, ln N] and ``i_kl`` to [i_bd, ln N] (round-off at the ends only)."""
        log_n = math.log(self.n_components)
        i_bd = np.clip(self.i_bd, 0.0, log_n)
        i_kl = np.clip(self.i_kl, i_bd, log_n)
        return self._replace(i_bd=np.asarray(i_bd), i_kl=np.asarray(i_kl))


def check_mixture(
    means: Any, variances: Any, *, names: tuple[str, str] = ("means", "variances")
) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``means`` (..., N, k) and ``variances`` (..., N) (finite, > 0); returns float64 arrays
    with the variances broadcast to ``means.shape[:-1]``.

    ``names``: the caller's names of the two arguments, used in the messages (e.g. ``("mean",
    "variances")`` for :func:`ibtheory.ntk.output_information`), so a refusal names the argument
    the user passed.
    """
    mean_name, var_name = names
    mu = check_finite_array(means, mean_name)
    if mu.ndim < 2:
        raise ValueError(
            f"{mean_name} must have shape (..., N, k) (N components in dimension k), got shape {mu.shape}; "
            f"for one-dimensional components pass {mean_name}[:, None]"
        )
    if mu.shape[-2] < 1 or mu.shape[-1] < 1:
        raise ValueError(f"{mean_name} must hold at least one component of dimension >= 1, got shape {mu.shape}")
    var = check_finite_array(variances, var_name)
    try:
        var = np.broadcast_to(var, mu.shape[:-1])
    except ValueError:
        raise ValueError(
            f"{var_name} must have shape {mu.shape[:-1]} (one variance per component of {mean_name} {mu.shape}), "
            f"got shape {var.shape}"
        ) from None
    if np.any(var <= 0):
        bad = tuple(int(i) for i in np.argwhere(var <= 0)[0])
        raise ValueError(
            f"{var_name} must be > 0 (each component is N(mu_i, s_i I) with s_i > 0), got {var[bad]!r} at "
            f"index {bad}; a degenerate component has entropy -inf"
        )
    return mu, var


def _check_chunk(chunk_size: Any) -> int | None:
    return None if chunk_size is None else check_positive_int(chunk_size, "chunk_size")


def pairwise_terms(means: np.ndarray, variances: np.ndarray, chunk_size: int | None = None) -> PairwiseTerms:
    """The unclipped averages of :class:`PairwiseTerms` for validated arrays (see :func:`check_mixture`).

    ``means`` (..., N, k) and ``variances`` (..., N); the N x N block is evaluated ``chunk_size`` rows
    at a time (default :data:`BLOCK_ELEMENTS` / (N x batch)).
    """
    from .._generated import mixture_numpy as gen

    n, k = means.shape[-2], means.shape[-1]
    batch = int(np.prod(means.shape[:-2], dtype=np.int64))
    with np.errstate(over="ignore", invalid="ignore"):  # far-out means: the bound is inf, the direct path runs
        centred = means - means.mean(axis=-2, keepdims=True)
        # rounding of ||a||^2 + ||b||^2 - 2 a.b (module note; 16 eps as ibtheory.testing.pairwise_rounding)
        rounding = 16 * np.finfo(np.float64).eps * float(np.max(np.sum(centred**2, axis=-1))) / float(np.min(variances))
    direct = not rounding <= DIRECT_DISTANCE_ABOVE  # also when the bound is inf or NaN
    per_row = n * batch * (k if direct else 1)  # the direct kernel holds (rows, N, k) differences
    chunk = chunk_size or max(1, BLOCK_ELEMENTS // max(1, per_row))
    kernel = gen.mixture_pairwise_rows_direct if direct else gen.mixture_pairwise_rows
    mu = means if direct else centred  # differences need no centring (translation invariance is exact)
    sum_bd = np.zeros(means.shape[:-2])
    sum_kl = np.zeros(means.shape[:-2])
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        with np.errstate(over="ignore"):  # a squared difference beyond 1e308 is a D_ij = inf, exp(-D_ij) = 0
            lme_kl, lme_bd = kernel(mu[..., rows, :], variances[..., rows], mu, variances, k, n)
        sum_kl = sum_kl + lme_kl.sum(axis=-1)
        sum_bd = sum_bd + lme_bd.sum(axis=-1)
    h = gen.isotropic_gaussian_entropy(variances, k).mean(axis=-1)
    return PairwiseTerms(
        h_components=np.asarray(h), i_bd=np.asarray(-sum_bd / n), i_kl=np.asarray(-sum_kl / n), n_components=int(n)
    )


def mixture_entropy_bounds(
    means: Any,
    variances: Any,
    *,
    units: str = "nats",
    chunk_size: int | None = None,
) -> MixtureEntropyBounds:
    """Lower and upper bounds on the entropy of an equal-weight mixture of isotropic Gaussians.

    p(z) = (1/N) sum_i N(z; means_i, variances_i I_k). Returns ``(lower, upper)`` = (H_BD, H_KL),
    the Kolchinsky & Tracey (2017) pairwise estimators with the Bhattacharyya distance (a lower
    bound) and the KL divergence (an upper bound); theory.md 4.3 b and 5.7. Always
    H(Z|X) <= lower <= H(Z) <= upper <= H(Z|X) + ln N, with equality at both ends when all
    components coincide (= H(Z|X) for equal variances) or are infinitely far apart (= H(Z|X) + ln N).

    Parameters
    ----------
    means:
        (..., N, k) component means; leading axes are a batch of independent mixtures.
    variances:
        (..., N) per-component variances s_i > 0 (anything broadcasting to ``means.shape[:-1]``,
        e.g. a scalar for a common variance).
    units:
        ``"nats"`` (default) or ``"bits"``.
    chunk_size:
        Rows of the N x N pairwise block evaluated at once (memory ~ 10 x 8 x chunk_size x N
        bytes); default: :data:`BLOCK_ELEMENTS` / N.

    Returns
    -------
    MixtureEntropyBounds ``(lower, upper)``, arrays of the batch shape ``(...)`` (0-d when unbatched).
    Both are clipped into [H(Z|X), H(Z|X) + ln N] and ordered (:meth:`PairwiseTerms.clipped`), which
    moves only round-off; the unclipped values are ``h_components + i_bd`` and ``h_components + i_kl``
    of :func:`pairwise_terms`.
    """
    check_units(units)
    chunk = _check_chunk(chunk_size)
    mu, var = check_mixture(means, variances)
    terms = pairwise_terms(mu, var, chunk).clipped()
    lower = terms.h_components + terms.i_bd
    upper = terms.h_components + terms.i_kl
    return MixtureEntropyBounds(lower=np.asarray(to_units(lower, units)), upper=np.asarray(to_units(upper, units)))
