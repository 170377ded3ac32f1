"""The symbolic layer (SymPy only): derivations returned as :class:`Derivation` objects."""

from ._derivation import Derivation as Derivation
from ._derivation import Step as Step
