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
derivation's "squared distance" step) after the means are centred (translation invariance), so
their absolute error is about 1e-15 x max ||mu_i - mean||^2: coincident components then have
D ~ 1e-15 x spread^2 / s instead of exactly 0, which matters only when spread^2 / s > ~1e12.
The same rounding on the diagonal D_ii (always present, true value 0) moved every row sum: when
its bound exceeds :data:`EXACT_DIAGONAL_ABOVE` the diagonal terms are evaluated exactly (at
coincident means) and the other terms by leave-one-out blocks (``_chunk_terms``; issue 21).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..numeric import check_finite_array, check_positive_int, check_units, to_units

#: Default number of float64 entries of one (rows x N) block: 2^20 (8 MiB per temporary; the
#: kernel keeps about ten alive). The chunk of rows is this divided by N (and by the batch size).
BLOCK_ELEMENTS = 2**20


#: Above this bound (nats) on the rounding of a diagonal D_ii (~ eps max ||mu_i - mean||^2 / min s)
#: the diagonal terms are made exact (``_chunk_terms``, issue 21); below it the plain row chunks
#: are used, as fast as before and wrong by at most this much (e.g. N(0, I_10) means, s >= 0.2).
EXACT_DIAGONAL_ABOVE = 1e-12

#: Rows per chunk at most when the diagonal is made exact: each chunk's leave-one-out block (see ``_chunk_terms``) holds
#: LOO_ROWS^2 x k means; 64 keeps it small (~1/N of the work for N >> 64) and the kernel calls
#: (4 per chunk) large enough that their fixed cost does not show (measured: N = 4096, k = 12).
LOO_ROWS = 64


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
    these ends by ~1e-15 (more for far-apart means, see the module note). :meth:`clipped` returns
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


def check_mixture(means: Any, variances: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``means`` (..., N, k) and ``variances`` (..., N) (finite, > 0); returns float64 arrays
    with the variances broadcast to ``means.shape[:-1]``."""
    mu = check_finite_array(means, "means")
    if mu.ndim < 2:
        raise ValueError(
            f"means must have shape (..., N, k) (N components in dimension k), got shape {mu.shape}; "
            "for one-dimensional components pass means[:, None]"
        )
    if mu.shape[-2] < 1 or mu.shape[-1] < 1:
        raise ValueError(f"means must hold at least one component of dimension >= 1, got shape {mu.shape}")
    var = check_finite_array(variances, "variances")
    try:
        var = np.broadcast_to(var, mu.shape[:-1])
    except ValueError:
        raise ValueError(
            f"variances must have shape {mu.shape[:-1]} (one variance per component of means {mu.shape}), "
            f"got shape {var.shape}"
        ) from None
    if np.any(var <= 0):
        bad = tuple(int(i) for i in np.argwhere(var <= 0)[0])
        raise ValueError(
            f"variances must be > 0 (each component is N(mu_i, s_i I) with s_i > 0), got {var[bad]!r} at "
            f"index {bad}; a degenerate component has entropy -inf"
        )
    return mu, var


def _check_chunk(chunk_size: Any) -> int | None:
    return None if chunk_size is None else check_positive_int(chunk_size, "chunk_size")


def _chunk_terms(gen: Any, mu: np.ndarray, var: np.ndarray, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """(log_mean_exp_kl, log_mean_exp_bd) (..., stop - start) of the rows start..stop-1, with the
    diagonal terms j = i exact.

    The squared distance ||a||^2 + ||b||^2 - 2 a.b of a component with itself is not 0 but
    ~ eps ||a||^2, i.e. D_ii ~ eps ||a||^2 / s: far-apart or very narrow components (spread^2 / s
    >~ 1e8) then move i_bd, i_kl off ln N by ~1e-8, up to a negative D_ii that swamps the sum
    (issue 21). So each row's sum over j runs on the columns before and after the chunk, on the
    chunk's other rows (a leave-one-out batch, chunk x (chunk - 1) pairs), and on the diagonal
    term, evaluated by the same generated kernel at coincident (zero) means, combined by logaddexp.
    """
    n, k = mu.shape[-2], mu.shape[-1]
    rows = slice(start, stop)
    parts = [
        gen.mixture_pairwise_rows(mu[..., rows, :], var[..., rows], mu[..., cols, :], var[..., cols], k, n)
        for cols in (slice(0, start), slice(stop, n))
        if cols.stop > cols.start
    ]
    q = stop - start
    one_row = (*mu.shape[:-2], q, 1)
    if q > 1:
        j = np.arange(q - 1)[None, :]
        others = j + (j >= np.arange(q)[:, None]) + start  # row i: the chunk's rows but i
        loo = gen.mixture_pairwise_rows(
            mu[..., rows, None, :], var[..., rows, None], mu[..., others, :], var[..., others], k, n
        )
        parts.append(type(loo)(*(term.reshape(one_row)[..., 0] for term in loo)))
    zero = np.zeros((*one_row, k))
    diag = gen.mixture_pairwise_rows(zero, var[..., rows, None], zero, var[..., rows, None], k, n)
    lme_kl, lme_bd = (term.reshape(one_row)[..., 0] for term in diag)
    for part in parts:
        lme_kl = np.logaddexp(lme_kl, part.log_mean_exp_kl)
        lme_bd = np.logaddexp(lme_bd, part.log_mean_exp_bd)
    return lme_kl, lme_bd


def pairwise_terms(means: np.ndarray, variances: np.ndarray, chunk_size: int | None = None) -> PairwiseTerms:
    """The unclipped averages of :class:`PairwiseTerms` for validated arrays (see :func:`check_mixture`).

    ``means`` (..., N, k) and ``variances`` (..., N); the N x N block is evaluated ``chunk_size`` rows
    at a time (default :data:`BLOCK_ELEMENTS` / (N x batch)).
    """
    from .._generated import mixture_numpy as gen

    n, k = means.shape[-2], means.shape[-1]
    batch = int(np.prod(means.shape[:-2], dtype=np.int64))
    chunk = chunk_size or max(1, BLOCK_ELEMENTS // max(1, n * batch))
    centred = means - means.mean(axis=-2, keepdims=True)
    # Rounding of the diagonal D_ii (module note; 16 eps as ibtheory.testing.pairwise_rounding).
    diagonal_error = 16 * np.finfo(np.float64).eps * float(np.max(np.sum(centred**2, axis=-1))) / float(np.min(variances))
    exact_diagonal = diagonal_error > EXACT_DIAGONAL_ABOVE
    if exact_diagonal:  # leave-one-out blocks of chunk^2 x k means (see _chunk_terms)
        chunk = max(1, min(chunk, LOO_ROWS, math.isqrt(BLOCK_ELEMENTS // max(1, k * batch))))
    sum_bd = np.zeros(means.shape[:-2])
    sum_kl = np.zeros(means.shape[:-2])
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        if exact_diagonal:
            lme_kl, lme_bd = _chunk_terms(gen, centred, variances, start, rows.stop)
        else:
            lme_kl, lme_bd = gen.mixture_pairwise_rows(
                centred[..., rows, :], variances[..., rows], centred, variances, k, n
            )
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
