"""ibtheory: the information theory of deep learning, derived, generated and verified.

The public API, grouped by area. Implementations live in the subpackages.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ibtheory")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

# --- discrete IB / dualIB solvers (ibtheory.solvers) ---
# --- Gaussian IB / dualIB (ibtheory.gaussian) ---
# --- estimators (ibtheory.estimators) ---
from .estimators import input_compression_bound as input_compression_bound
from .gaussian import gaussian_dual_ib as gaussian_dual_ib
from .gaussian import gaussian_ib as gaussian_ib
from .solvers import critical_betas as critical_betas
from .solvers import ib_curve as ib_curve
from .solvers import solve_dual_ib as solve_dual_ib
from .solvers import solve_ib as solve_ib
