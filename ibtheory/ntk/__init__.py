"""NNGP/NTK kernels, infinite-ensemble training dynamics and finite-width ensembles (theory.md 4.1, 7).

- :func:`fc_kernels` / :func:`fc_kernel_blocks`: analytic NNGP and NTK of fully connected networks
  with any elementwise activation per layer (named or a SymPy Lambda; neural-tangents
  conventions), numpy or torch, in bounded-memory blocks.
- :func:`ensemble_prediction`: the Gaussian output of the infinite ensemble trained by gradient
  flow, at any times (0 and inf included), with the kernels it used.
- :func:`gp_inference`: the exact NNGP (Bayesian) or NTK (t = inf) posterior, Cholesky-based, with
  the NNGP log marginal likelihood.
- :func:`finite_ensemble` / :func:`empirical_kernels`: finite-width networks in torch, trained in
  parallel, and their empirical kernels.
"""

from ..numeric import single_threaded_blas as single_threaded_blas
from ._ensemble import EnsemblePrediction as EnsemblePrediction
from ._ensemble import ensemble_prediction as ensemble_prediction
from ._finite import EmpiricalKernels as EmpiricalKernels
from ._finite import FiniteEnsemble as FiniteEnsemble
from ._finite import empirical_kernels as empirical_kernels
from ._finite import finite_ensemble as finite_ensemble
from ._gp import GP_KERNELS as GP_KERNELS
from ._gp import GPPosterior as GPPosterior
from ._gp import gp_inference as gp_inference
from ._information import EnsembleInformation as EnsembleInformation
from ._information import GeneralisationSignals as GeneralisationSignals
from ._information import ensemble_information as ensemble_information
from ._information import generalisation_signals as generalisation_signals
from ._information import information_vs_train_size as information_vs_train_size
from ._information import information_vs_w_std as information_vs_w_std
from ._information import output_information as output_information
from ._kernels import ACTIVATIONS as ACTIVATIONS
from ._kernels import FCKernels as FCKernels
from ._kernels import available_cpus as available_cpus
from ._kernels import fc_kernel_blocks as fc_kernel_blocks
from ._kernels import fc_kernels as fc_kernels
from ._kernels import max_learning_rate as max_learning_rate
