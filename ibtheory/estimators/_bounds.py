"""Input-compression generalisation bound (theory reference section 6).

UNCONFIRMED form. The reference records it "as stated in Shwartz-Ziv & Tishby 2017 / Tishby's
talks; exact constants and statement: UNCONFIRMED" (Shwartz-Ziv, Painsky & Tishby 2018, ICLR 2019
submission; Shwartz-Ziv & Tishby 2017, arXiv 1703.00810). Start from the finite-class PAC bound
eps^2 < (log|H_eps| + log(1/delta)) / (2m) with |H_eps| ~ 2^{|X|}, and replace the input
cardinality by the number of typical cells of the representation, |X| -> |T_eps| ~ 2^{I(T;X)}:

    eps^2 < ( 2^{I(T;X)} + ln(1/delta) ) / (2 m),      I(T;X) in bits.

The expression is owned by :mod:`ibtheory.symbolic` (input-compression bound) via :mod:`ibtheory.kernels` and evaluated by the
generated kernel ``input_compression_bound`` (group ``infoplane``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..numeric import check_finite_array, check_units, to_units


@dataclass(frozen=True)
class InputCompressionBound:
    """The input-compression bound on the generalisation gap.

    Fields
    ------
    epsilon : ndarray (broadcast shape), the bound on the generalisation gap eps (dimensionless).
    i_xt_bits : ndarray, I(X;T) in bits (converted from the input's units).
    n_samples : ndarray, training-set sizes m.
    delta : float, confidence parameter (the bound holds with probability >= 1 - delta).
    units : units in which ``i_xt`` was given.
    """

    epsilon: np.ndarray
    i_xt_bits: np.ndarray
    n_samples: np.ndarray
    delta: float
    units: str


def input_compression_bound(
    i_xt: Any, n_samples: Any, delta: float, units: str = "bits"
) -> InputCompressionBound:
    """eps = sqrt((2^{I(X;T)} + ln(1/delta)) / (2 m)): the input-compression bound (UNCONFIRMED form).

    Theory reference section 6 (Shwartz-Ziv, Painsky & Tishby 2018; Shwartz-Ziv & Tishby 2017):
    the form and constants are UNCONFIRMED there (recalled from talks, not checked against the
    paper), so treat the number as indicative. Compressing the representation by k bits is worth a
    factor 2^k in training-set size when 2^{I} >> ln(1/delta).

    Parameters
    ----------
    i_xt: I(X;T) >= 0 (array or scalar) in ``units``.
    n_samples: training-set size m >= 1 (array or scalar; broadcasts with ``i_xt``).
    delta: confidence parameter in (0, 1).
    units: ``"bits"`` (default) or ``"nats"``, the units of ``i_xt``.
    """
    check_units(units)
    i = check_finite_array(i_xt, "i_xt")
    if np.any(i < 0):
        raise ValueError("i_xt must be >= 0 (a mutual information)")
    m = check_finite_array(n_samples, "n_samples")
    if np.any(m < 1):
        raise ValueError("n_samples must be >= 1")
    if not (isinstance(delta, (int, float, np.floating)) and 0.0 < float(delta) < 1.0):
        raise ValueError(f"delta must be a number in (0, 1), got {delta!r}")
    i_bits = to_units(i, "bits") if units == "nats" else i
    from .._generated import infoplane_numpy as kernels  # lazy: generated modules import sympy

    eps = np.asarray(kernels.input_compression_bound(i_bits, m, float(delta)), dtype=np.float64)
    return InputCompressionBound(
        epsilon=eps, i_xt_bits=i_bits, n_samples=m, delta=float(delta), units=units
    )
