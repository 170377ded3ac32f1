"""Kernel specifications: which derivation result becomes which generated kernel.

The only layer that imports both :mod:`ibtheory.symbolic` (the derivations) and
:mod:`ibtheory.codegen` (lowering and printing). Each private module composes one family's
derivation results into :class:`ibtheory.codegen.KernelSpec` objects (arguments, index axes,
named outputs, numerical floors, documentation); :data:`KERNEL_GROUPS` names them, and
:func:`build` / :func:`render_group` write or check ``ibtheory/_generated/GROUP_{numpy,torch}.py``.
Algorithms use the committed generated modules; only users' own functionals and activations
are generated at run time (:func:`functional_kernels`, :func:`activation_kernels`), imported lazily.
"""

from ._build import build as build
from ._build import group_specs as group_specs
from ._build import render_group as render_group
from ._expfam import expfam_step_outputs as expfam_step_outputs
from ._functional import CACHE_ENV as CACHE_ENV
from ._functional import FunctionalKernels as FunctionalKernels
from ._functional import default_cache_dir as default_cache_dir
from ._functional import functional_kernel_specs as functional_kernel_specs
from ._functional import functional_kernels as functional_kernels
from ._ib import LABEL_FLOOR as LABEL_FLOOR
from ._ib import MASS_FLOOR as MASS_FLOOR
from ._ntk import EIG_FLOOR as EIG_FLOOR
from ._ntk import ActivationKernels as ActivationKernels
from ._ntk import activation_kernels as activation_kernels
from ._registry import KERNEL_GROUPS as KERNEL_GROUPS
