"""The symbolic layer (SymPy only): derivations returned as :class:`Derivation` objects."""

from ._derivation import Derivation as Derivation
from ._derivation import Step as Step
from ._ib import dual_ib_derivation as dual_ib_derivation
from ._ib import dual_ib_expfam_derivation as dual_ib_expfam_derivation
from ._ib import ib_derivation as ib_derivation
