"""One array backend for the algorithm layer (solvers, gaussian, ntk): NumPy or Torch, float64.

An algorithm gets its backend once at its public boundary, ``be = array_backend(backend, device)``,
takes its generated kernels from it (``be.kernels("ib")`` is ``ibtheory._generated.ib_numpy`` or
``ib_torch``) and writes the rest with ``be.xp`` (the ``numpy`` or ``torch`` module, for the
elementwise functions both spell alike: exp, log, sqrt, abs, isfinite, where) and the methods below
(reductions, creation on the device, linear algebra), whose names and keywords follow the Array API
standard where it has them. Why a shim of our own and not ``array-api-compat``: docs/backend.md
(measured; the standard lacks logsumexp, solve_triangular and fill_diagonal, and NumPy's own
functions are fastest for the small arrays of the solvers' inner loops).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

BACKENDS = ("numpy", "torch")

# The ufuncs' own reductions: cheaper than np.sum / np.max on the small arrays of the solvers' loops.
_ADD: Any = np.add
_MAXIMUM: Any = np.maximum


class ArrayBackend:
    """The array namespace of one backend and device (see the module docstring)."""

    def __init__(self, name: str, device: Any = None) -> None:
        if name not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
        self.name = name
        self.is_torch = name == "torch"
        if not self.is_torch:
            if device not in (None, "cpu"):
                raise ValueError(f"device={device!r} needs backend='torch'; the numpy backend runs on the CPU")
            self.xp: Any = np
            self.device: Any = None
            return
        try:
            import torch
        except ImportError:
            raise ModuleNotFoundError('backend="torch" needs PyTorch: pip install "ibtheory[torch]"') from None
        self.xp = torch
        try:
            self.device = torch.device(device if device is not None else "cpu")
        except (RuntimeError, TypeError) as err:
            raise ValueError(f"device={device!r} is not a torch device ('cpu', 'cuda', 'cuda:1', ...): {err}") from None
        # torch would fail later with an AssertionError ("Torch not compiled with CUDA enabled")
        checks: dict[str, Callable[[], bool]] = {"cuda": torch.cuda.is_available, "mps": torch.backends.mps.is_available}
        available = checks.get(self.device.type)
        if available is not None and not available():
            raise ValueError(
                f"device={device!r} is not available here (torch.{self.device.type} reports none); use device='cpu'"
            )
        if self.device.type == "cuda" and (self.device.index or 0) >= torch.cuda.device_count():
            raise ValueError(f"device={device!r}: torch sees {torch.cuda.device_count()} CUDA device(s)")

    def kernels(self, group: str) -> Any:
        """The generated kernel module of ``group`` for this backend (``ibtheory._generated.<group>_<name>``)."""
        return importlib.import_module(f"ibtheory._generated.{group}_{self.name}")

    # ------------------------------------------------------------------ creation and conversion
    def asarray(self, a: Any) -> Any:
        """``a`` as a float64 array of this backend (on its device)."""
        if self.is_torch:
            return self.xp.as_tensor(a, dtype=self.xp.float64, device=self.device)
        return np.asarray(a, dtype=np.float64)

    def to_numpy(self, a: Any) -> np.ndarray:
        if self.is_torch:
            return a.detach().cpu().numpy()
        return np.asarray(a)

    def index(self, idx: np.ndarray) -> Any:
        """A NumPy index array (integer or boolean) usable on this backend's arrays."""
        return self.xp.as_tensor(idx, device=self.device) if self.is_torch else idx

    def empty(self, shape: tuple[int, ...]) -> Any:
        if self.is_torch:
            return self.xp.empty(shape, dtype=self.xp.float64, device=self.device)
        return np.empty(shape, dtype=np.float64)

    def zeros(self, shape: int | tuple[int, ...]) -> Any:
        if self.is_torch:
            return self.xp.zeros(shape, dtype=self.xp.float64, device=self.device)
        return np.zeros(shape, dtype=np.float64)

    def ones(self, shape: int | tuple[int, ...]) -> Any:
        if self.is_torch:
            return self.xp.ones(shape, dtype=self.xp.float64, device=self.device)
        return np.ones(shape, dtype=np.float64)

    def concat(self, arrays: list[Any] | tuple[Any, ...], axis: int = 0) -> Any:
        return self.xp.cat(list(arrays), dim=axis) if self.is_torch else np.concatenate(arrays, axis=axis)

    # ------------------------------------------------------------------ reductions and elementwise
    def sum(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        if self.is_torch:
            return a.sum(dim=axis, keepdim=keepdims)
        return _ADD.reduce(a, axis=axis, keepdims=keepdims)

    def max(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        if self.is_torch:
            return a.amax(dim=axis, keepdim=keepdims)
        return _MAXIMUM.reduce(a, axis=axis, keepdims=keepdims)

    def clip(self, a: Any, min: float | None = None, max: float | None = None) -> Any:
        if self.is_torch:
            return self.xp.clamp(a, min=min, max=max)
        # one-sided: the plain ufunc (np.clip's wrapper costs more on small arrays)
        if max is None:
            return a if min is None else np.maximum(a, min)
        return np.minimum(a, max) if min is None else np.clip(a, min, max)

    def logsumexp(self, a: Any, axis: int, keepdims: bool = False) -> Any:
        """log sum exp over ``axis``, shifted by the maximum (rows that are all -inf are not expected)."""
        if self.is_torch:
            return self.xp.logsumexp(a, dim=axis, keepdim=keepdims)
        m = _MAXIMUM.reduce(a, axis=axis, keepdims=True)
        out = np.log(_ADD.reduce(np.exp(a - m), axis=axis, keepdims=True)) + m
        return out if keepdims else np.squeeze(out, axis=axis)

    # ------------------------------------------------------------------ matrices
    def triu(self, a: Any, k: int = 0) -> Any:
        return self.xp.triu(a, k) if self.is_torch else np.triu(a, k)

    def fill_diagonal(self, a: Any, values: Any) -> None:
        """Write ``values`` on the main diagonal of the 2-D array ``a`` in place."""
        if self.is_torch:
            a.diagonal().copy_(values)
        else:
            np.fill_diagonal(a, values)

    def cholesky(self, a: Any) -> Any:
        return self.xp.linalg.cholesky(a)

    def solve_lower(self, lower: Any, b: Any, transpose: bool = False) -> Any:
        """``L^{-1} b``, or ``L^{-T} b`` with ``transpose``, for a lower-triangular ``L``."""
        if self.is_torch:
            if transpose:
                return self.xp.linalg.solve_triangular(lower.mT, b, upper=True)
            return self.xp.linalg.solve_triangular(lower, b, upper=False)
        import scipy.linalg

        return scipy.linalg.solve_triangular(lower, b, lower=True, trans="T" if transpose else "N")

    def svd_full(self, a: Any) -> tuple[Any, Any]:
        """Left singular vectors completed to an orthonormal basis, and the singular values (descending)."""
        u, s, _ = self.xp.linalg.svd(a, full_matrices=True)
        return u, s


def array_backend(backend: str, device: Any = None) -> ArrayBackend:
    """The :class:`ArrayBackend` of ``backend`` (``"numpy"`` or ``"torch"``) on ``device``.

    Raises ``ValueError`` for an unknown backend or a device with the numpy backend, and a
    ``ModuleNotFoundError`` naming ``pip install "ibtheory[torch]"`` when torch is asked for but
    not installed.
    """
    return ArrayBackend(backend, device)


_blas_controller: Any = None


def single_threaded_blas() -> Any:
    """A context in which BLAS runs on one thread (threadpoolctl; the previous limits are restored
    on exit). Process-wide while it lasts.

    Why: the solvers' and kernels' BLAS calls are many small products (n_x x n_t by n_x x n_y per
    batch member; the NTK's (block, d) x (d, block) input layer); a multi-threaded OpenBLAS spends
    longer waking its threads than computing them, and its spinning threads starve the cores that
    the NTK's block threads need. At 256 x 16 with 256 clusters one (256, 256)^T (256, 16) product
    took 7.9 ms multi-threaded on the 2-core machine under load and 0.02 ms on one thread; the
    NTK's 256 x 32 x 256 product 0.39 ms against 0.11 ms.
    """
    global _blas_controller
    if _blas_controller is None:
        from threadpoolctl import ThreadpoolController

        _blas_controller = ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")
