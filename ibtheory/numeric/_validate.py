"""Validation at the public boundary: one function per input kind, one message per failure.

Inner loops and generated kernels assume valid input; everything a user passes goes through these
first (style.md 4). Each error is a ``ValueError`` that says what was wrong and how to fix it.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

#: Joint distributions must sum to one within this absolute tolerance (issue 4: 1e-9).
NORMALISATION_ATOL = 1e-9

UNITS = ("nats", "bits")


def check_units(units: str) -> str:
    """Return ``units`` if it is ``"nats"`` or ``"bits"``; raise ``ValueError`` otherwise."""
    if units not in UNITS:
        raise ValueError(f"units must be 'nats' or 'bits', got {units!r}")
    return units


def to_units(value_nats: Any, units: str) -> Any:
    """Convert a value in nats to ``units`` (``"nats"`` or ``"bits"``; 1 bit = ln 2 nats).

    The one nats -> bits conversion of the package: results are computed in nats and converted
    once, where they are returned (style.md 3).
    """
    check_units(units)
    return value_nats / math.log(2.0) if units == "bits" else value_nats


def _source_array(a: Any, name: str) -> np.ndarray:
    """``a`` as a NumPy array of its own dtype; a Torch tensor is detached and moved to the CPU."""
    torch = sys.modules.get("torch")  # a tensor can only exist if torch is imported
    if torch is not None and isinstance(a, torch.Tensor):
        # a tensor that requires grad (or lives on a GPU) is data here: validation never differentiates
        t = a.detach().cpu()
        if t.is_complex():
            raise TypeError(_complex_message(name))
        return t.resolve_conj().resolve_neg().numpy()
    try:
        return np.asarray(a)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a real numeric array: {exc}") from None


def _complex_message(name: str) -> str:
    return f"{name} must be real; got complex dtype; pass np.real(x) if the imaginary part is zero"


def as_real_array(a: Any, name: str, *, dtype: Any = np.float64) -> np.ndarray:
    """Return ``a`` (array-like or Torch tensor) as a real array of ``dtype``, without other checks.

    Complex input raises ``TypeError`` (never a ``ComplexWarning`` and a silently dropped imaginary
    part); a tensor with ``requires_grad=True`` or on a GPU is detached and copied to the CPU;
    input that is not numeric raises ``ValueError`` naming ``name``.
    """
    if a is None:
        raise TypeError(f"{name} must be a real numeric array, got None")
    src = _source_array(a, name)
    if np.iscomplexobj(src):
        raise TypeError(_complex_message(name))
    if src.dtype.kind in "USb":
        # np.asarray("1.0", float) parses text and booleans become 0/1: neither is numeric data here
        what = "boolean" if src.dtype.kind == "b" else "text"
        raise TypeError(f"{name} must be a real numeric array, got {what} (dtype {src.dtype}); convert it explicitly, e.g. x.astype(float)")
    try:
        return np.asarray(src, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a real numeric array: {exc}") from None


def _input_eps(a: Any) -> float:
    """Machine epsilon of ``a``'s own floating dtype (float64's for integers and other input)."""
    dtype = getattr(a, "dtype", None)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(dtype, torch.dtype):
        return float(torch.finfo(dtype).eps) if dtype.is_floating_point else float(np.finfo(np.float64).eps)
    try:
        np_dtype = np.dtype(dtype) if dtype is not None else np.dtype(np.float64)
    except TypeError:
        return float(np.finfo(np.float64).eps)
    return float(np.finfo(np_dtype).eps) if np.issubdtype(np_dtype, np.floating) else float(np.finfo(np.float64).eps)


def normalisation_atol(eps: float, size: int) -> float:
    """Tolerance on ``|sum(p) - 1|`` for ``size`` entries stored with machine epsilon ``eps``.

    ``max(NORMALISATION_ATOL, (2 + log2(size)) * eps)``: rounding each entry to its dtype moves the
    total by at most ``eps / 2`` (entries sum to one), and normalising in that dtype adds the error
    of a pairwise sum, about ``log2(size) * eps`` (Higham, *Accuracy and Stability of Numerical
    Algorithms*, 2nd ed., sec. 4.2). For float64 input this is the fixed 1e-9 of issue 4; a
    float32 joint that sums to one in float32 (error ~1e-7) passes.
    """
    return max(NORMALISATION_ATOL, (2.0 + math.log2(max(size, 1))) * eps)


def check_finite_array(
    a: Any, name: str, *, ndim: int | None = None, dtype: Any = np.float64
) -> np.ndarray:
    """Return ``a`` as a float array after checking it is finite (and of ``ndim`` dimensions).

    Conversion is :func:`as_real_array`: complex input raises ``TypeError``, a Torch tensor that
    requires grad is detached.
    """
    arr = as_real_array(a, name, dtype=dtype)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{name} contains a non-finite value ({arr[tuple(bad)]!r}) at index {tuple(int(i) for i in bad)}"
        )
    return arr


def check_joint(p_xy: Any, *, name: str = "p_xy", normalize: bool = False) -> np.ndarray:
    """Validate a joint distribution p(x, y) given as an (n_x, n_y) array.

    Entries must be finite and non-negative, every row (every x) must have positive mass, and the
    total must be 1 within :func:`normalisation_atol` of the input's own dtype
    (:data:`NORMALISATION_ATOL` = 1e-9 for float64, about 1e-6 for float32: a float32 joint cannot
    sum to one more closely); ``normalize=True`` accepts counts or any positive total and divides
    by it. The result is float64. Complex input raises ``TypeError`` (:func:`as_real_array`).
    """
    arr = check_finite_array(p_xy, name)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a two-dimensional (n_x, n_y) array, got shape {arr.shape}"
        )
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least one row and one column, got shape {arr.shape}")
    if np.any(arr < 0):
        i, j = np.argwhere(arr < 0)[0]
        raise ValueError(
            f"{name} has a negative entry {float(arr[i, j])!r} at ({i}, {j}); probabilities must be >= 0"
        )
    empty = ~(arr > 0).any(axis=1)
    if np.any(empty):
        i = int(np.flatnonzero(empty)[0])
        raise ValueError(
            f"{name} row {i} is all zero: that x has no probability; drop it from the alphabet"
        )
    with np.errstate(over="ignore"):  # counts whose total is beyond float64 are scaled below
        total = float(arr.sum())
    if normalize:
        if not np.isfinite(total):
            # scale by an exact power of two so the total is representable, then normalise
            arr = np.ldexp(arr, -int(np.frexp(arr.max())[1]) - int(np.ceil(np.log2(arr.size))))
            total = float(arr.sum())
            rows = arr.sum(axis=1)
            if np.any(rows == 0):
                i = int(np.flatnonzero(rows == 0)[0])
                raise ValueError(
                    f"{name} row {i} is below float64's range relative to the largest entry "
                    f"({float(np.max(p_xy))!r}): its normalised probability would be 0; drop it or rescale"
                )
        return arr / total
    atol = normalisation_atol(_input_eps(p_xy), arr.size)
    if abs(total - 1.0) > atol:
        raise ValueError(
            f"{name} sums to {total!r}, not 1 (tolerance {atol:.3g}); "
            "pass normalize=True to divide counts by their total"
        )
    return arr


def check_beta(beta: Any, *, name: str = "beta") -> np.ndarray:
    """Validate trade-off parameter(s): finite and >= 0; returns a float array (scalar or 1-D)."""
    arr = as_real_array(beta, name)
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {beta!r}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {float(arr.min())!r}")
    return arr


def check_positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Validate a finite scalar that must be > 0 (or >= 0 with ``allow_zero``); complex: ``TypeError``."""
    if np.iscomplexobj(value):
        raise TypeError(_complex_message(name))
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return v


def check_int(value: Any, name: str, *, minimum: int | None = None) -> int:
    """Validate an integer (>= ``minimum`` when given) and return it as an ``int``.

    Python and NumPy integers and integral floats (``3.0``) are accepted; bools, non-integral
    numbers, NaN, infinities and non-numbers are refused with a ``ValueError`` naming ``name``.
    """
    if np.iscomplexobj(value):
        raise TypeError(_complex_message(name))
    try:
        ok = not isinstance(value, bool) and int(value) == value
        ok = ok and (minimum is None or int(value) >= minimum)
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        bound = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"{name} must be an integer{bound}, got {value!r}")
    return int(value)


def check_positive_int(value: Any, name: str) -> int:
    """Validate an integer >= 1 (bools and non-integral numbers are refused): :func:`check_int`."""
    return check_int(value, name, minimum=1)


def check_spd(matrix: Any, name: str) -> np.ndarray:
    """Validate a symmetric positive-definite matrix (or a batch of them, (..., n, n)).

    Symmetry is checked to a relative 1e-10 (round-off of a product like A A^T), positive
    definiteness by the smallest eigenvalue of the matrix scaled to unit diagonal (so blocks of
    very different scales are judged by their correlations, not lost to round-off); the message
    reports the smallest eigenvalue of the matrix itself.
    """
    arr = check_finite_array(matrix, name)
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name} must be a square (n, n) matrix, got shape {arr.shape}")
    scale = max(float(np.max(np.abs(arr))), np.finfo(float).tiny) if arr.size else 1.0
    if not np.allclose(arr, np.swapaxes(arr, -1, -2), rtol=0.0, atol=1e-10 * scale):
        raise ValueError(
            f"{name} is not symmetric (max |S - S^T| = {np.max(np.abs(arr - np.swapaxes(arr, -1, -2)))!r})"
        )
    if arr.shape[-1] == 0:
        raise ValueError(f"{name} must hold at least one row and column, got shape {arr.shape}")
    diag = np.diagonal(arr, axis1=-2, axis2=-1)
    if np.all(diag > 0):
        # positive definiteness is invariant under D^-1/2 A D^-1/2 (Sylvester), and the unit-diagonal
        # matrix does not lose blocks of very different scales (1e-100 next to 1) to round-off
        with np.errstate(over="ignore"):
            d = 1.0 / np.sqrt(diag)
            scaled = arr * d[..., :, None] * d[..., None, :]
        if np.all(np.isfinite(scaled)) and float(np.min(np.linalg.eigvalsh(scaled))) > 0:
            return arr
    eig_min = float(np.min(np.linalg.eigvalsh(arr)))
    raise ValueError(
        f"{name} is not positive definite: its smallest eigenvalue is {eig_min!r}; "
        "pass a full-rank covariance (add a small ridge if it is a sample estimate)"
    )


def as_generator(seed: Any, name: str = "seed") -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from an int seed or an existing generator (never global state).

    Seeds are non-negative integers (or sequences of them, or a ``SeedSequence``); bools, floats and
    anything else raise ``TypeError`` naming ``name``, negative integers ``ValueError``.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise ValueError(
            f"pass an explicit {name} (int) or numpy.random.Generator; hidden global seeds are not used"
        )
    if isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"{name} must be a non-negative int or a numpy.random.Generator, got {seed!r}")
    try:
        return np.random.default_rng(seed)
    except TypeError:
        raise TypeError(f"{name} must be a non-negative int or a numpy.random.Generator, got {seed!r}") from None
    except ValueError:
        raise ValueError(f"{name} must be a non-negative int or a numpy.random.Generator, got {seed!r}") from None
