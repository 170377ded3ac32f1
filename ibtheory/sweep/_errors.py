"""Exceptions of :mod:`ibtheory.sweep`."""

from __future__ import annotations


class SweepError(ValueError, RuntimeError):
    """A sweep cannot start or continue (bad grid, foreign ``out`` folder, results not writable).

    A ``ValueError`` (bad input is refused as one everywhere in ibtheory, issue 21) and, as before, a
    ``RuntimeError``, so existing handlers of either still catch it.
    """


class SweepDependencyError(ImportError):
    """The optional dependencies of :mod:`ibtheory.sweep` (Dask, xarray) are not installed."""


def require(module: str, what: str) -> None:
    """Import ``module`` or raise a one-line :class:`SweepDependencyError` naming the extra."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        raise SweepDependencyError(
            f"{what} needs {module.split('.')[0]}: pip install 'ibtheory[sweep]'"
        ) from None
