"""The named derivations that ``ibtheory derive`` knows, rendered into ``derivations/NAME.md``.

Each entry maps a name to ``"module:function"`` returning a :class:`Derivation`. Add one line per
derivation.
"""

from __future__ import annotations

DERIVATIONS: dict[str, str] = {
    "ib": "ibtheory.symbolic._ib:ib_derivation",
    "dualib": "ibtheory.symbolic._ib:dual_ib_derivation",
    "dualib-expfam": "ibtheory.symbolic._ib:dual_ib_expfam_derivation",
    "gaussian-ib": "ibtheory.symbolic._gaussian:gaussian_ib_derivation",
    "gaussian-dualib": "ibtheory.symbolic._gaussian:gaussian_dual_ib_derivation",
    "ntk": "ibtheory.symbolic._ntk:ntk_derivation",
    "ensemble-information": "ibtheory.symbolic._mixture:mixture_information_derivation",
}
