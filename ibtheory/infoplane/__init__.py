"""Information planes of trained networks: the 12-bit task, SGD phases, variational IB/dualIB."""

from ._information import InformationPlane as InformationPlane
from ._information import information_plane as information_plane
from ._information import observed_ranges as observed_ranges
from ._plots import plot_gradient_phases as plot_gradient_phases
from ._plots import plot_information_plane as plot_information_plane
from ._plots import plot_information_planes as plot_information_planes
from ._plots import plot_variational_planes as plot_variational_planes
from ._training import TrainingRun as TrainingRun
from ._training import train_networks as train_networks
from ._variational import DigitsData as DigitsData
from ._variational import VariationalSweep as VariationalSweep
from ._variational import label_noise_model as label_noise_model
from ._variational import load_digits_data as load_digits_data
from ._variational import train_variational as train_variational
