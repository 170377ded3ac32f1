"""Validation helpers, unit conversion and small literal oracles used by tests."""

from ._backend import BACKENDS as BACKENDS
from ._backend import ArrayBackend as ArrayBackend
from ._backend import array_backend as array_backend
from ._validate import (
    NORMALISATION_ATOL as NORMALISATION_ATOL,
)
from ._validate import (
    as_generator as as_generator,
)
from ._validate import (
    check_beta as check_beta,
)
from ._validate import (
    check_finite_array as check_finite_array,
)
from ._validate import (
    check_joint as check_joint,
)
from ._validate import (
    check_positive as check_positive,
)
from ._validate import (
    check_positive_int as check_positive_int,
)
from ._validate import (
    check_spd as check_spd,
)
from ._validate import (
    check_units as check_units,
)
from ._validate import (
    to_units as to_units,
)
