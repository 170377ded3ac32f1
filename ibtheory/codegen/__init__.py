"""Code generation: index-level SymPy expressions -> vectorised NumPy / Torch / mpmath kernels.

See :mod:`ibtheory.codegen._lower` for the axis convention and the stability rewrites, and
:mod:`ibtheory.codegen.nodes` for the custom heads.
"""

from . import nodes as nodes
from ._api import GeneratedFunction as GeneratedFunction
from ._api import generate as generate
from ._api import write_module as write_module
from ._build import build as build
from ._emit import KernelSpec as KernelSpec
from ._emit import kernel as kernel
from ._emit import render_function as render_function
from ._emit import render_module as render_module
from ._lower import LoweringError as LoweringError
