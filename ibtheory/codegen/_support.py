"""Which SymPy functions each backend can print into code that runs.

The stock printers refuse some functions (``PrintMethodNotImplementedError``) and print others onto
names the array library lacks (``torch.special.gamma``); both must fail when the kernel is
generated, listing what is supported, not as a ``NameError`` or ``AttributeError`` at call time.
"""

from __future__ import annotations

import ast
import builtins
import functools
from typing import Any

import sympy as sp

from ._printers import PRINTERS


class UnsupportedFunctionError(ValueError):
    """A SymPy function that a backend cannot print into working code."""


#: Functions whose stock printing runs into an error at call time that no name check sees
#: (``torch.heaviside(x, 0.5)``: torch wants a tensor for the value at 0).
_BROKEN: dict[str, frozenset[str]] = {"torch": frozenset({"Heaviside"})}


def check_heads(exprs: Any, backend: str) -> None:
    """Refuse expressions using a function that :data:`_BROKEN` lists for ``backend``."""
    broken = _BROKEN.get(backend, frozenset())
    for expr in exprs:
        for f in expr.atoms(sp.Function):
            if type(f).__name__ in broken:
                raise unsupported_error(type(f).__name__, backend)


@functools.cache
def _namespace(backend: str) -> dict[str, Any]:
    from ._emit import _EXTRA_IMPORTS, _IMPORTS  # the names a generated module binds at import

    namespace: dict[str, Any] = {}
    exec(_IMPORTS[backend], namespace)  # our own fixed import lines
    for _, line in _EXTRA_IMPORTS.get(backend, ()):
        exec(line, namespace)
    return namespace


def missing_names(code: str, backend: str, local_names: frozenset[str] = frozenset()) -> list[str]:
    """Dotted names in ``code`` that do not exist in the generated module's namespace (sorted)."""
    namespace = _namespace(backend)
    missing: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Attribute):
            chain: list[str] = []
            cur: ast.expr = node
            while isinstance(cur, ast.Attribute):
                chain.append(cur.attr)
                cur = cur.value
            if not isinstance(cur, ast.Name) or cur.id not in namespace:
                continue
            obj: Any = namespace[cur.id]
            for attr in reversed(chain):
                if not hasattr(obj, attr):
                    missing.add(".".join([cur.id, *reversed(chain)]))
                    break
                obj = getattr(obj, attr)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name not in namespace and name not in local_names and not hasattr(builtins, name):
                missing.add(name)
    return sorted(missing)


def _candidates() -> list[type]:
    out = []
    for name in dir(sp):
        obj = getattr(sp, name)
        if isinstance(obj, type) and issubclass(obj, sp.Function) and obj.__module__.startswith("sympy.functions"):
            out.append(obj)
    return out


@functools.cache
def supported_functions(backend: str) -> tuple[str, ...]:
    """Names of the SymPy functions that print into working ``backend`` code (probed once)."""
    if backend not in PRINTERS:
        raise ValueError(f"backend must be one of {tuple(PRINTERS)}, got {backend!r}")
    x, y = sp.symbols("x y", real=True)
    printer: Any = PRINTERS[backend]()
    names = []
    for cls in _candidates():
        if cls.__name__ in _BROKEN.get(backend, frozenset()):
            continue
        for args in ((x,), (x, y)):
            try:
                expr = cls(*args)
            except Exception:  # wrong arity or a function that needs other arguments
                continue
            if not isinstance(expr, sp.Function):
                break
            try:
                code = printer.doprint(expr)
            except (NotImplementedError, ValueError, TypeError):
                break
            if not missing_names(code, backend, frozenset({"x", "y"})):
                names.append(cls.__name__)
            break
    return tuple(sorted(set(names)))


def unsupported_error(what: str, backend: str) -> UnsupportedFunctionError:
    """The error for ``what`` (a function or name), listing the backend's supported functions.

    The list holds SymPy's built-in functions that print and resolve for ``backend`` (plus
    ``Piecewise``, ``Max``, ``Min`` and powers, which the array printers handle themselves).
    """
    return UnsupportedFunctionError(
        f"the {backend} backend cannot evaluate {what}; supported functions: "
        + ", ".join(supported_functions(backend))
        + " (and Piecewise, Max, Min, powers)"
    )
