"""Information planes of trained networks: the 12-bit task, SGD phases, variational IB/dualIB.

The figures of these results are in :mod:`ibtheory.figures` (``plot_information_plane``,
``plot_information_planes``, ``plot_gradient_phases``, ``plot_variational_planes``).
"""

from ._information import InformationPlane as InformationPlane
from ._information import information_plane as information_plane
from ._information import observed_ranges as observed_ranges
from ._training import TrainingRun as TrainingRun
from ._training import train_networks as train_networks
from ._variational import DigitsData as DigitsData
from ._variational import VariationalSweep as VariationalSweep
from ._variational import label_noise_model as label_noise_model
from ._variational import load_digits_data as load_digits_data
from ._variational import train_variational as train_variational
