"""Exceptions of :mod:`ibtheory.sweep`."""

from __future__ import annotations


class SweepError(RuntimeError):
    """A sweep cannot start or continue (bad grid, foreign ``out`` folder, results not writable)."""


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
