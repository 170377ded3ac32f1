"""The named derivations that ``ibtheory derive`` knows, rendered into ``derivations/NAME.md``.

Each entry maps a name to the function returning its :class:`Derivation` (the functions are
cached; nothing is derived until one is called). Add one line per derivation.
"""

from __future__ import annotations

from collections.abc import Callable

from ._activations import activations_derivation
from ._derivation import Derivation
from ._derive import dib_derivation, gib_derivation, squared_ib_derivation
from ._gaussian import gaussian_dual_ib_derivation, gaussian_ib_derivation
from ._ib import dual_ib_derivation, dual_ib_expfam_derivation, ib_derivation
from ._mixture import mixture_information_derivation
from ._ntk import ntk_derivation
from ._ntk_angles import ntk_angle_derivation
from ._rate_distortion import rate_distortion_derivation

DERIVATIONS: dict[str, Callable[[], Derivation]] = {
    "ib": ib_derivation,
    "dualib": dual_ib_derivation,
    "dualib-expfam": dual_ib_expfam_derivation,
    "gaussian-ib": gaussian_ib_derivation,
    "gaussian-dualib": gaussian_dual_ib_derivation,
    "ntk": ntk_derivation,
    "ntk-angles": ntk_angle_derivation,
    "activations": activations_derivation,
    "ensemble-information": mixture_information_derivation,
    "rate-distortion": rate_distortion_derivation,
    "gib": gib_derivation,
    "dib": dib_derivation,
    "squared-ib": squared_ib_derivation,
}
