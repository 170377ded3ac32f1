"""Pairwise-distance (KDE) bounds on the information of a noisy representation.

Theory reference 5.7 [SRC:code ibsgd kde.py, btracey/mixent] (Kolchinsky & Tracey, Entropy
19(7):361, 2017; Saxe et al. 2018): add isotropic Gaussian noise to the activity,
M = h(X) + N(0, sigma^2 I_d). With X uniform over the N rows, M is an equal-weight, equal-variance
Gaussian mixture with the N activity vectors as means, and

    H(M|X) = (d/2) ln(2 pi e sigma^2),   I(X;M) = H(M) - H(M|X),
    I(M;Y) = H(M) - sum_y p(y) H(M|Y=y)          (H(M|Y=y): the mixture over the class-y rows).

H(M) and H(M|Y=y) are bracketed by the pairwise estimators: Bhattacharyya distance (lower) and KL
divergence (upper), as in :func:`ibtheory.estimators.mixture_entropy_bounds` (generated kernels,
via :func:`ibtheory.estimators.pairwise_terms`). Combining the brackets gives rigorous bounds (derived here):

    i_xt_lower = H_BD(M) - H(M|X),                         i_xt_upper = H_KL(M) - H(M|X),
    i_ty_lower = max(0, H_BD(M) - sum_y p(y) H_KL(M|y)),
    i_ty_upper = min(H(Y), H_KL(M) - sum_y p(y) H_BD(M|y))     (I(M;Y) <= H(Y) always).

The public values are clipped: into [0, ln N] with lower <= upper for I(X;M) (round-off only) and
into [0, H(Y)] for I(M;Y) (there the raw BD/KL combinations can be vacuous: a negative lower or an
upper above H(Y)). The unclipped combinations are kept in the ``*_raw`` fields.

(ibsgd instead reports the KL-based value of both terms as "upper" and the BD-based value of both
as "lower"; those are estimates, not bounds, for I(M;Y).)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..numeric import check_positive, check_units, to_units
from ._binning import check_activations, label_codes, plug_in_entropy_rows
from ._mixture import check_mixture, pairwise_terms


@dataclass(frozen=True)
class KDEInformation:
    """Pairwise (KDE) bounds on I(X;M) and I(M;Y) for M = T + N(0, noise_variance I).

    Fields
    ------
    i_xt_lower, i_xt_upper : ndarray (...), bounds on I(X;M), in ``units``, one per batch index.
    i_ty_lower, i_ty_upper : ndarray (...), bounds on I(M;Y), in ``units``.
    noise_variance : float, sigma^2 of the added isotropic Gaussian noise.
    n_samples : int, number of rows N (X uniform over them); ``i_xt_upper <= ln N``.
    units : ``"nats"`` or ``"bits"``.
    i_xt_lower_raw, i_xt_upper_raw, i_ty_lower_raw, i_ty_upper_raw : ndarray (...), the same four
        bounds before clipping (module docstring), in ``units``: H_BD(M) - H(M|X),
        H_KL(M) - H(M|X), H_BD(M) - sum_y p(y) H_KL(M|y), H_KL(M) - sum_y p(y) H_BD(M|y).
    """

    i_xt_lower: np.ndarray
    i_xt_upper: np.ndarray
    i_ty_lower: np.ndarray
    i_ty_upper: np.ndarray
    noise_variance: float
    n_samples: int
    units: str
    i_xt_lower_raw: np.ndarray
    i_xt_upper_raw: np.ndarray
    i_ty_lower_raw: np.ndarray
    i_ty_upper_raw: np.ndarray


def _mixture_bounds(means: np.ndarray, noise_variance: float) -> tuple[np.ndarray, ...]:
    """(lower, upper, lower_raw, upper_raw) on the entropy (nats) of the mixture of N(mean_i, s^2 I_d).

    The Bhattacharyya / KL pairwise bounds (Kolchinsky & Tracey 2017, theory 5.7) with one common
    variance, ``means`` (..., N, d): clipped as :func:`mixture_entropy_bounds` reports them, and raw.
    """
    raw = pairwise_terms(*check_mixture(means, noise_variance, names=("activations", "noise_variance")))
    clipped = raw.clipped()
    return (
        clipped.h_components + clipped.i_bd,
        clipped.h_components + clipped.i_kl,
        raw.h_components + raw.i_bd,
        raw.h_components + raw.i_kl,
    )


def kde_information(
    activations: Any,
    labels: Any,
    *,
    noise_variance: float,
    units: str = "bits",
) -> KDEInformation:
    """Pairwise KDE bounds on I(X;M) and I(M;Y), M = T + N(0, noise_variance I) (theory 5.7).

    Parameters
    ----------
    activations:
        Array (..., N, d) of a layer's activations on N inputs (X uniform over the rows), with any
        leading batch axes. Cost O(N^2 d) per batch element.
    labels:
        Integer labels (N,).
    noise_variance:
        sigma^2 > 0 of the added noise (required: it sets the scale of the answer). ibsgd uses
        1e-3 for the 12-bit task and 1e-1 for MNIST.
    units:
        ``"bits"`` (default) or ``"nats"``.
    """
    check_units(units)
    s2 = check_positive(noise_variance, "noise_variance")
    a, y = check_activations(activations, labels)
    a = a.astype(np.float64)
    n, d = a.shape[-2], a.shape[-1]
    from .._generated import mixture_numpy  # lazy: generated modules import sympy

    h_m_given_x = float(mixture_numpy.isotropic_gaussian_entropy(s2, d))  # (d/2) ln(2 pi e s2)
    h_lo, h_hi, h_lo_raw, h_hi_raw = _mixture_bounds(a, s2)
    y_codes, n_y = label_codes(y)
    # sum_y p(y) H(M|y) bounds, clipped (cond) and raw (cond_raw): [lower, upper]
    cond = [np.zeros(a.shape[:-2]), np.zeros(a.shape[:-2])]
    cond_raw = [np.zeros(a.shape[:-2]), np.zeros(a.shape[:-2])]
    for c in range(n_y):
        rows = y_codes == c
        p_c = rows.mean()
        bounds_c = _mixture_bounds(a[..., rows, :], s2)
        for j in range(2):
            cond[j] = cond[j] + p_c * bounds_c[j]
            cond_raw[j] = cond_raw[j] + p_c * bounds_c[2 + j]
    # Clipping (module docstring): I(X;M) >= 0 and I(M;Y) in [0, H(Y)], lower <= upper; the
    # mixture bounds h_lo, h_hi already lie in [H(M|X), H(M|X) + ln N].
    i_xt_lo = np.maximum(h_lo - h_m_given_x, 0.0)
    i_xt_hi = np.maximum(h_hi - h_m_given_x, i_xt_lo)
    h_y = float(plug_in_entropy_rows(y_codes[None, :])[0])
    i_ty_lo = np.clip(h_lo - cond[1], 0.0, h_y)
    i_ty_hi = np.maximum(np.minimum(h_hi - cond[0], h_y), i_ty_lo)
    return KDEInformation(
        i_xt_lower=to_units(i_xt_lo, units),
        i_xt_upper=to_units(i_xt_hi, units),
        i_ty_lower=to_units(i_ty_lo, units),
        i_ty_upper=to_units(i_ty_hi, units),
        noise_variance=s2,
        n_samples=int(n),
        units=units,
        i_xt_lower_raw=to_units(h_lo_raw - h_m_given_x, units),
        i_xt_upper_raw=to_units(h_hi_raw - h_m_given_x, units),
        i_ty_lower_raw=to_units(h_lo_raw - cond_raw[1], units),
        i_ty_upper_raw=to_units(h_hi_raw - cond_raw[0], units),
    )
