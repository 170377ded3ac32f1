"""Where the generated kernel groups come from.

Each group ``NAME`` maps to ``"module:function"``; the function returns a list of
:class:`ibtheory.codegen.KernelSpec` built from the symbolic layer. ``ibtheory codegen`` writes
``ibtheory/_generated/NAME_numpy.py`` and ``NAME_torch.py`` for every group, and
``ibtheory codegen --check`` fails when a committed file differs from what it would write.
Add one line per group; keep the list sorted.
"""

from __future__ import annotations

KERNEL_GROUPS: dict[str, str] = {
    "gaussian": "ibtheory.symbolic._gaussian_kernels:kernel_specs",
    "ib": "ibtheory.symbolic._ib_kernels:kernel_specs",
    "infoplane": "ibtheory.symbolic._infoplane_kernels:kernel_specs",
    "mixture": "ibtheory.symbolic._mixture_kernels:kernel_specs",
    "ntk": "ibtheory.symbolic._ntk_kernels:kernel_specs",
}
