"""Kernel specifications of the information-plane group (``infoplane``).

The input-compression generalisation bound, from
:func:`ibtheory.symbolic.input_compression_epsilon` (theory.md 6; form and constants UNCONFIRMED).
"""

from __future__ import annotations

import functools

from ..codegen import KernelSpec, kernel
from ..symbolic import INPUT_COMPRESSION_REFERENCE, input_compression_epsilon
from ..symbolic.symbols import delta, i_xt_bits, n_samples


@functools.cache
def kernel_specs() -> list[KernelSpec]:
    """The ``infoplane`` kernel group."""
    return [
        kernel(
            "input_compression_bound",
            [i_xt_bits, n_samples, delta],
            {"epsilon": input_compression_epsilon()},
            doc="Input-compression bound eps = sqrt((2^I(T;X) + ln(1/delta)) / (2 m)), I in bits.",
            reference=INPUT_COMPRESSION_REFERENCE,
        )
    ]
