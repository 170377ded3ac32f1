"""ibtheory: the information theory of deep learning, derived, generated and verified.

The public API, grouped by area; implementations live in the subpackages (see docs/architecture.md
for the layers). Names are imported on first use (PEP 562): ``import ibtheory`` stays cheap, and
``ibtheory codegen`` can regenerate the kernels even when a committed generated module is broken.

Subpackages: :mod:`ibtheory.symbolic` (derivations), :mod:`ibtheory.kernels` (kernel specs),
:mod:`ibtheory.codegen`, :mod:`ibtheory.solvers`, :mod:`ibtheory.gaussian`, :mod:`ibtheory.ntk`,
:mod:`ibtheory.estimators`, :mod:`ibtheory.infoplane` (needs torch), :mod:`ibtheory.models`,
:mod:`ibtheory.numeric`, :mod:`ibtheory.sweep`, :mod:`ibtheory.report`, :mod:`ibtheory.explore`.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("ibtheory")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

#: public name -> the subpackage that exports it
_EXPORTS: dict[str, str] = {
    # --- discrete IB / dualIB (ibtheory.solvers) ---
    "ib_curve": "solvers",
    "IBCurve": "solvers",
    "solve_ib": "solvers",
    "solve_dual_ib": "solvers",
    "IBSolution": "solvers",
    "solve_dual_ib_expfam": "solvers",
    "ExpFamDualIBSolution": "solvers",
    "critical_betas": "solvers",
    "trivial_critical_betas": "solvers",
    "gib_curve": "solvers",
    "dib_curve": "solvers",
    "IBFamilyCurve": "solvers",
    "rd_curve": "solvers",
    "RDCurve": "solvers",
    "functional_curve": "solvers",
    # --- Gaussian IB / dualIB (ibtheory.gaussian) ---
    "gaussian_ib": "gaussian",
    "gaussian_dual_ib": "gaussian",
    "GaussianIBResult": "gaussian",
    # --- NNGP / NTK and infinite ensembles (ibtheory.ntk) ---
    "fc_kernels": "ntk",
    "FCKernels": "ntk",
    "ensemble_prediction": "ntk",
    "EnsemblePrediction": "ntk",
    "gp_inference": "ntk",
    "GPPosterior": "ntk",
    "ensemble_information": "ntk",
    "EnsembleInformation": "ntk",
    "finite_ensemble": "ntk",
    "FiniteEnsemble": "ntk",
    # --- estimators and bounds (ibtheory.estimators) ---
    "binning_information": "estimators",
    "BinningInformation": "estimators",
    "kde_information": "estimators",
    "KDEInformation": "estimators",
    "mixture_entropy_bounds": "estimators",
    "MixtureEntropyBounds": "estimators",
    "input_compression_bound": "estimators",
    "InputCompressionBound": "estimators",
    # --- derivations (ibtheory.symbolic) ---
    "Derivation": "symbolic",
    "DERIVATIONS": "symbolic",
    "derive": "symbolic",
}
_SUBPACKAGES = (
    "codegen", "estimators", "explore", "gaussian", "infoplane", "kernels", "models", "ntk",
    "numeric", "report", "solvers", "sweep", "symbolic", "testing",
)
__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from .estimators import BinningInformation as BinningInformation
    from .estimators import InputCompressionBound as InputCompressionBound
    from .estimators import KDEInformation as KDEInformation
    from .estimators import MixtureEntropyBounds as MixtureEntropyBounds
    from .estimators import binning_information as binning_information
    from .estimators import input_compression_bound as input_compression_bound
    from .estimators import kde_information as kde_information
    from .estimators import mixture_entropy_bounds as mixture_entropy_bounds
    from .gaussian import GaussianIBResult as GaussianIBResult
    from .gaussian import gaussian_dual_ib as gaussian_dual_ib
    from .gaussian import gaussian_ib as gaussian_ib
    from .ntk import EnsembleInformation as EnsembleInformation
    from .ntk import EnsemblePrediction as EnsemblePrediction
    from .ntk import FCKernels as FCKernels
    from .ntk import FiniteEnsemble as FiniteEnsemble
    from .ntk import GPPosterior as GPPosterior
    from .ntk import ensemble_information as ensemble_information
    from .ntk import ensemble_prediction as ensemble_prediction
    from .ntk import fc_kernels as fc_kernels
    from .ntk import finite_ensemble as finite_ensemble
    from .ntk import gp_inference as gp_inference
    from .solvers import ExpFamDualIBSolution as ExpFamDualIBSolution
    from .solvers import IBCurve as IBCurve
    from .solvers import IBFamilyCurve as IBFamilyCurve
    from .solvers import IBSolution as IBSolution
    from .solvers import RDCurve as RDCurve
    from .solvers import critical_betas as critical_betas
    from .solvers import dib_curve as dib_curve
    from .solvers import functional_curve as functional_curve
    from .solvers import gib_curve as gib_curve
    from .solvers import ib_curve as ib_curve
    from .solvers import rd_curve as rd_curve
    from .solvers import solve_dual_ib as solve_dual_ib
    from .solvers import solve_dual_ib_expfam as solve_dual_ib_expfam
    from .solvers import solve_ib as solve_ib
    from .solvers import trivial_critical_betas as trivial_critical_betas
    from .symbolic import DERIVATIONS as DERIVATIONS
    from .symbolic import Derivation as Derivation
    from .symbolic import derive as derive


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        value = importlib.import_module(f".{name}", __name__)
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS, *_SUBPACKAGES])
