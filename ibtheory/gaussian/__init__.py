"""Gaussian IB (Chechik et al. 2005) and the Gaussian dualIB (derived here), in closed form."""

from ._gib import GaussianIBResult as GaussianIBResult
from ._gib import gaussian_dual_ib as gaussian_dual_ib
from ._gib import gaussian_ib as gaussian_ib
from ._gib import validate_covariances as validate_covariances
