"""The input-compression generalisation bound of the information plane (theory.md 6).

Shwartz-Ziv & Tishby 2017 (arXiv 1703.00810); Shwartz-Ziv, Painsky & Tishby 2018: the
finite-class PAC bound eps^2 < (log|H_eps| + log(1/delta)) / (2m) with the hypothesis count
|H_eps| ~ 2^{|X|} replaced by the number of typical cells of the representation, 2^{I(T;X)}:

    eps = sqrt( (2^{I(T;X)} + ln(1/delta)) / (2 m) ),    I(T;X) in bits.

The form and constants are UNCONFIRMED in the reference (recalled from the paper and talks);
ln(1/delta) is the natural log of the Hoeffding/union-bound step.
"""

from __future__ import annotations

import sympy as sp

INPUT_COMPRESSION_REFERENCE = (
    "theory.md 6: Shwartz-Ziv & Tishby 2017 (arXiv 1703.00810), Shwartz-Ziv, Painsky & Tishby 2018; "
    "form and constants UNCONFIRMED"
)

i_xt_bits = sp.Symbol("i_xt_bits", nonnegative=True)
n_samples = sp.Symbol("n_samples", positive=True)
delta = sp.Symbol("delta", positive=True)


def input_compression_epsilon() -> sp.Expr:
    """eps(I, m, delta) = sqrt((2^I + ln(1/delta)) / (2 m)) (theory.md 6)."""
    return sp.sqrt((2**i_xt_bits + sp.log(1 / delta)) / (2 * n_samples))
