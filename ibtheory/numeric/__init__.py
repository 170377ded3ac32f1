"""The one validation layer, unit conversion, the array backend and small literal oracles.

Validation at the public boundary (style.md 4), one function per input kind, each raising a
``ValueError`` with a specific message: :func:`check_joint` (a joint p(x, y)), :func:`check_beta`
(trade-off parameters), :func:`check_spd` (covariances), :func:`check_finite_array`,
:func:`check_positive` (a scalar > 0 or >= 0), :func:`check_int` and :func:`check_positive_int`
(integers), :func:`check_units` and :func:`as_generator` (explicit seeds only). Arrays are converted
by :func:`as_real_array` (complex input: ``TypeError``; Torch tensors detached);
:func:`normalisation_atol` is the dtype-aware tolerance of :func:`check_joint`.

Units: results are computed in nats and converted once by :func:`to_units` (``UNITS``).

Array backend: :class:`ArrayBackend` / :func:`array_backend` (NumPy or Torch, device, generated
kernels by group); :func:`single_threaded_blas` (BLAS on one thread for the many small products of
the solvers and kernels).

Literal mpmath oracles of the NNGP/NTK recursion (for tests and benchmarks; typed from the
sources, independent of the symbolic layer): :func:`gaussian_expectations`,
:func:`fc_kernel_entry`, :func:`relu_expectations_by_quadrature`,
:func:`erf_expectations_by_gauss_hermite`, :func:`hermite_gauss`. They are imported lazily
(PEP 562), so ``import ibtheory.numeric`` does not import mpmath.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._backend import BACKENDS as BACKENDS
from ._backend import ArrayBackend as ArrayBackend
from ._backend import array_backend as array_backend
from ._backend import single_threaded_blas as single_threaded_blas
from ._validate import NORMALISATION_ATOL as NORMALISATION_ATOL
from ._validate import UNITS as UNITS
from ._validate import as_generator as as_generator
from ._validate import as_real_array as as_real_array
from ._validate import check_beta as check_beta
from ._validate import check_finite_array as check_finite_array
from ._validate import check_int as check_int
from ._validate import check_joint as check_joint
from ._validate import check_positive as check_positive
from ._validate import check_positive_int as check_positive_int
from ._validate import check_spd as check_spd
from ._validate import check_units as check_units
from ._validate import normalisation_atol as normalisation_atol
from ._validate import to_units as to_units

_ORACLES = (
    "gaussian_expectations",
    "fc_kernel_entry",
    "relu_expectations_by_quadrature",
    "erf_expectations_by_gauss_hermite",
    "hermite_gauss",
)

if TYPE_CHECKING:
    from ._ntk_oracle import erf_expectations_by_gauss_hermite as erf_expectations_by_gauss_hermite
    from ._ntk_oracle import fc_kernel_entry as fc_kernel_entry
    from ._ntk_oracle import gaussian_expectations as gaussian_expectations
    from ._ntk_oracle import hermite_gauss as hermite_gauss
    from ._ntk_oracle import relu_expectations_by_quadrature as relu_expectations_by_quadrature


def __getattr__(name: str) -> Any:
    if name in _ORACLES:
        return getattr(importlib.import_module("._ntk_oracle", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
