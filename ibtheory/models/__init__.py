"""Canonical problems and data sets shared by tests, docs and notebooks."""
from ._data import ClassificationData as ClassificationData
from ._data import digits_data as digits_data
from ._data import load_classification_data as load_classification_data
from ._data import npz_data as npz_data
from ._data import one_hot as one_hot
from ._data import synthetic_data as synthetic_data
from ._data import twelve_bit_data as twelve_bit_data
from ._problems import ExpFamProblem as ExpFamProblem
from ._problems import binary_symmetric_channel as binary_symmetric_channel
from ._problems import discretised_gaussian_pair as discretised_gaussian_pair
from ._problems import exponential_family_data as exponential_family_data
from ._problems import genib_toy as genib_toy
from ._problems import random_joint as random_joint
from ._problems import twelve_bit_joint as twelve_bit_joint
from ._twelve_bit import twelve_bit_split as twelve_bit_split
from ._twelve_bit import twelve_bit_task as twelve_bit_task
