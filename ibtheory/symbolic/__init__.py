"""The symbolic layer (SymPy only): derivations returned as :class:`Derivation` objects.

Every derivation of the catalogue (:data:`DERIVATIONS`, rendered by ``ibtheory derive``) and the
public building blocks of each are exported here; the symbols are in :mod:`ibtheory.symbolic.symbols`.
A failed symbolic check raises :class:`DerivationError`. This package imports nothing else of
ibtheory; :mod:`ibtheory.kernels` turns its results into code-generation specs.
"""

from . import symbols as symbols
from ._activations import NAMED_ACTIVATIONS as NAMED_ACTIVATIONS
from ._activations import activation_lambda as activation_lambda
from ._activations import activations_derivation as activations_derivation
from ._activations import dual_activation as dual_activation
from ._activations import u_act as u_act
from ._catalog import DERIVATIONS as DERIVATIONS
from ._derivation import Derivation as Derivation
from ._derivation import DerivationError as DerivationError
from ._derivation import Step as Step

# --- posing a Lagrangian: the term vocabulary and derive (catalogue: gib, dib, squared-ib) ---
from ._derive import DIB_REFERENCE as DIB_REFERENCE
from ._derive import GIB_REFERENCE as GIB_REFERENCE
from ._derive import SQUARED_IB_REFERENCE as SQUARED_IB_REFERENCE
from ._derive import derive as derive
from ._derive import dib_derivation as dib_derivation
from ._derive import gib_derivation as gib_derivation
from ._derive import gib_lagrangian as gib_lagrangian
from ._derive import squared_ib_derivation as squared_ib_derivation
from ._derive import squared_ib_lagrangian as squared_ib_lagrangian

# --- information-term vocabulary ---
from ._functionals import conditional_mutual_information as conditional_mutual_information
from ._functionals import entropy as entropy
from ._functionals import kl_divergence as kl_divergence
from ._functionals import mutual_information as mutual_information
from ._functionals import total as total

# --- Gaussian IB / dualIB (catalogue: gaussian-ib, gaussian-dualib) ---
from ._gaussian import CCA_IDENTITY as CCA_IDENTITY
from ._gaussian import EQ_INFORMATION_FORM as EQ_INFORMATION_FORM
from ._gaussian import EQ_WOODBURY_POSTERIOR as EQ_WOODBURY_POSTERIOR
from ._gaussian import GAUSSIAN_DUAL_IB_REFERENCE as GAUSSIAN_DUAL_IB_REFERENCE
from ._gaussian import GAUSSIAN_IB_REFERENCE as GAUSSIAN_IB_REFERENCE
from ._gaussian import GradWrt as GradWrt
from ._gaussian import LogDet as LogDet
from ._gaussian import MatrixEquality as MatrixEquality
from ._gaussian import MatrixRule as MatrixRule
from ._gaussian import gaussian_dual_ib_derivation as gaussian_dual_ib_derivation
from ._gaussian import gaussian_ib_derivation as gaussian_ib_derivation
from ._gaussian import to_explicit as to_explicit

# --- discrete IB / dualIB and the exponential-family dualIB (catalogue: ib, dualib, dualib-expfam) ---
from ._ib import DUAL_IB_REFERENCE as DUAL_IB_REFERENCE
from ._ib import EXPFAM_REFERENCE as EXPFAM_REFERENCE
from ._ib import IB_REFERENCE as IB_REFERENCE
from ._ib import dual_ib_derivation as dual_ib_derivation
from ._ib import dual_ib_expfam_derivation as dual_ib_expfam_derivation
from ._ib import ib_derivation as ib_derivation

# --- input-compression bound (information plane) ---
from ._infoplane import INPUT_COMPRESSION_REFERENCE as INPUT_COMPRESSION_REFERENCE
from ._infoplane import input_compression_epsilon as input_compression_epsilon

# --- Gaussian mixtures and ensemble information (catalogue: ensemble-information) ---
from ._mixture import KT_REFERENCE as KT_REFERENCE
from ._mixture import SA_REFERENCE as SA_REFERENCE
from ._mixture import bayes_log_likelihood as bayes_log_likelihood
from ._mixture import bhattacharyya_isotropic as bhattacharyya_isotropic
from ._mixture import chernoff_isotropic as chernoff_isotropic
from ._mixture import gaussian_entropy as gaussian_entropy
from ._mixture import general_kl_isotropic as general_kl_isotropic
from ._mixture import gibbs_log_likelihood as gibbs_log_likelihood
from ._mixture import infonce_bounds as infonce_bounds
from ._mixture import kl_gaussians_matrix as kl_gaussians_matrix
from ._mixture import kl_isotropic as kl_isotropic
from ._mixture import log_density_isotropic as log_density_isotropic
from ._mixture import mixture_information_derivation as mixture_information_derivation
from ._mixture import pairwise_entropy_estimator as pairwise_entropy_estimator
from ._mixture import pairwise_information_estimator as pairwise_information_estimator
from ._mixture import squared_distance_expanded as squared_distance_expanded

# --- NNGP / NTK recursion (catalogue: ntk) ---
from ._ntk import ACTIVATIONS as ACTIVATIONS
from ._ntk import diagonal_forms as diagonal_forms
from ._ntk import input_layer as input_layer
from ._ntk import layer_step as layer_step
from ._ntk import ntk_derivation as ntk_derivation
from ._ntk import relu_supplement as relu_supplement
from ._ntk import stable_diagonal_forms as stable_diagonal_forms
from ._ntk import stable_forms as stable_forms
from ._ntk import textbook_forms as textbook_forms
from ._ntk_angles import ANGLE_ACTIVATIONS as ANGLE_ACTIVATIONS
from ._ntk_angles import b_std_in as b_std_in
from ._ntk_angles import inv_scale as inv_scale
from ._ntk_angles import ntk_angle_derivation as ntk_angle_derivation
from ._ntk_angles import one_minus_corr as one_minus_corr
from ._ntk_angles import one_plus_corr as one_plus_corr

# --- the papers' notation: the one LaTeX printer ---
from ._printing import Chain as Chain
from ._printing import IndexedNotation as IndexedNotation
from ._printing import Named as Named
from ._printing import NotationPrinter as NotationPrinter
from ._printing import display as display
from ._printing import latex as latex
from ._printing import named_function as named_function
from ._printing import register_index_letter as register_index_letter
from ._printing import register_indexed as register_indexed

# --- rate-distortion (catalogue: rate-distortion) ---
from ._rate_distortion import RATE_DISTORTION_REFERENCE as RATE_DISTORTION_REFERENCE
from ._rate_distortion import rate_distortion_derivation as rate_distortion_derivation
from ._symbols import DISCRETE_AXES as DISCRETE_AXES
from ._vocabulary import H as H
from ._vocabulary import I as I
from ._vocabulary import InformationTerm as InformationTerm
from ._vocabulary import alpha as alpha
from ._vocabulary import beta as beta
from ._vocabulary import distortion as distortion
from ._vocabulary import information_terms as information_terms
