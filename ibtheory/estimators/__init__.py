"""Mutual-information estimators and bounds for information planes (theory.md 4.3, 5.4, 5.7).

The estimators (``binning_information``, ``kde_information``, ``mixture_entropy_bounds``,
``input_compression_bound``) are the user-facing API. The building blocks below them
(``check_mixture``, ``pairwise_terms``, ``label_codes``, ``plug_in_entropy_rows``) are public so
that :mod:`ibtheory.ntk` and :mod:`ibtheory.infoplane` reuse them instead of re-typing them.
"""

from ._binning import BinningInformation as BinningInformation
from ._binning import binning_information as binning_information
from ._binning import label_codes as label_codes
from ._binning import plug_in_entropy_rows as plug_in_entropy_rows
from ._bounds import InputCompressionBound as InputCompressionBound
from ._bounds import input_compression_bound as input_compression_bound
from ._kde import KDEInformation as KDEInformation
from ._kde import kde_information as kde_information
from ._mixture import BLOCK_ELEMENTS as BLOCK_ELEMENTS
from ._mixture import MixtureEntropyBounds as MixtureEntropyBounds
from ._mixture import PairwiseTerms as PairwiseTerms
from ._mixture import check_mixture as check_mixture
from ._mixture import mixture_entropy_bounds as mixture_entropy_bounds
from ._mixture import pairwise_terms as pairwise_terms
