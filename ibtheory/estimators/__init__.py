from ._binning import BinningInformation as BinningInformation
from ._binning import binning_information as binning_information
from ._bounds import InputCompressionBound as InputCompressionBound
from ._bounds import input_compression_bound as input_compression_bound
from ._kde import KDEInformation as KDEInformation
from ._kde import kde_information as kde_information
from ._mixture import MixtureEntropyBounds as MixtureEntropyBounds
from ._mixture import mixture_entropy_bounds as mixture_entropy_bounds
