"""Code generation: index-level SymPy expressions -> vectorised NumPy / Torch / mpmath kernels.

See :mod:`ibtheory.codegen._lower` for the axis convention and the stability rewrites,
:mod:`ibtheory.codegen._matrix` for matrix expressions, and :mod:`ibtheory.codegen.nodes` for the
custom heads. This package knows SymPy and arrays only: it never imports :mod:`ibtheory.symbolic`
(the kernel specifications in :mod:`ibtheory.kernels` connect the two), and index axes are always
declared by the caller.

The public names are imported lazily (PEP 562): generated kernels import only the small runtime
modules of this package, and must not pay for importing SymPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "nodes": (".nodes", None),
    "GeneratedFunction": ("._api", "GeneratedFunction"),
    "generate": ("._api", "generate"),
    "write_module": ("._api", "write_module"),
    "build": ("._build", "build"),
    "render_group": ("._build", "render_group"),
    "ModuleStatus": ("._build", "ModuleStatus"),
    "KernelSpec": ("._emit", "KernelSpec"),
    "kernel": ("._emit", "kernel"),
    "render_function": ("._emit", "render_function"),
    "render_module": ("._emit", "render_module"),
    "result_type_name": ("._emit", "result_type_name"),
    "LoweringError": ("._lower", "LoweringError"),
    "stabilise": ("._lower", "stabilise"),
    "array_symbol": ("._matrix", "array_symbol"),
    "to_array_nodes": ("._matrix", "to_array_nodes"),
    "UnsupportedFunctionError": ("._support", "UnsupportedFunctionError"),
    "supported_functions": ("._support", "supported_functions"),
}
__all__ = list(_EXPORTS)

if TYPE_CHECKING:
    from . import nodes as nodes
    from ._api import GeneratedFunction as GeneratedFunction
    from ._api import generate as generate
    from ._api import write_module as write_module
    from ._build import ModuleStatus as ModuleStatus
    from ._build import build as build
    from ._build import render_group as render_group
    from ._emit import KernelSpec as KernelSpec
    from ._emit import kernel as kernel
    from ._emit import render_function as render_function
    from ._emit import render_module as render_module
    from ._emit import result_type_name as result_type_name
    from ._lower import LoweringError as LoweringError
    from ._lower import stabilise as stabilise
    from ._matrix import array_symbol as array_symbol
    from ._matrix import to_array_nodes as to_array_nodes
    from ._support import UnsupportedFunctionError as UnsupportedFunctionError
    from ._support import supported_functions as supported_functions


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    mod = importlib.import_module(module, __name__)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value
