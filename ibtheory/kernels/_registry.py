"""Where the generated kernel groups come from.

Each group ``NAME`` maps to the function returning its list of :class:`ibtheory.codegen.KernelSpec`
(built from the symbolic layer's results). ``ibtheory codegen`` writes
``ibtheory/_generated/NAME_numpy.py`` and ``NAME_torch.py`` for every group, and
``ibtheory codegen --check`` fails when a committed file differs from what it would write.
Add one line per group; keep the list sorted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..codegen import KernelSpec
from . import _expfam, _gaussian, _gib, _ib, _infoplane, _mixture, _ntk, _rate_distortion

KERNEL_GROUPS: dict[str, Callable[[], Sequence[KernelSpec]]] = {
    "expfam": _expfam.kernel_specs,
    "gaussian": _gaussian.kernel_specs,
    "gib": _gib.kernel_specs,
    "ib": _ib.kernel_specs,
    "infoplane": _infoplane.kernel_specs,
    "mixture": _mixture.kernel_specs,
    "ntk": _ntk.kernel_specs,
    "rate_distortion": _rate_distortion.kernel_specs,
}
