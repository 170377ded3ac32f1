"""Small runtime helpers imported by generated NumPy kernels (hand-written, kept minimal)."""

from __future__ import annotations

from typing import Any

import numpy
import scipy.linalg


def _as_array(value: Any) -> numpy.ndarray:
    """An input as a floating array (integers and bools become float64; float32 stays)."""
    arr = numpy.asarray(value)
    if not numpy.issubdtype(arr.dtype, numpy.floating):
        arr = arr.astype(numpy.float64)
    return arr


def _logsumexp(a: numpy.ndarray, axis: int) -> numpy.ndarray:
    """log sum exp over ``axis`` (kept), shifted by the max; all -inf gives -inf, not NaN."""
    m = numpy.max(a, axis=axis, keepdims=True)
    m = numpy.where(numpy.isfinite(m), m, 0.0)
    return numpy.log(numpy.sum(numpy.exp(a - m), axis=axis, keepdims=True)) + m


def _logdet_pd(s: numpy.ndarray) -> numpy.ndarray:
    """log det of SPD matrices (..., n, n) from Cholesky factors: 2 sum log diag L."""
    chol = numpy.linalg.cholesky(s)
    return 2.0 * numpy.sum(numpy.log(numpy.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)


def _chol_solve(s: numpy.ndarray, b: numpy.ndarray) -> numpy.ndarray:
    """S^{-1} B for SPD S (..., n, n) and B (..., n, m) by two triangular solves."""
    chol = numpy.linalg.cholesky(s)
    shape = numpy.broadcast_shapes(chol.shape[:-2], b.shape[:-2])
    chol = numpy.broadcast_to(chol, shape + chol.shape[-2:])
    b = numpy.broadcast_to(b, shape + b.shape[-2:])
    out = numpy.empty(shape + b.shape[-2:], dtype=numpy.result_type(chol, b))
    for i in numpy.ndindex(*shape):
        z = scipy.linalg.solve_triangular(chol[i], b[i], lower=True)
        out[i] = scipy.linalg.solve_triangular(chol[i], z, lower=True, trans="T")
    return out
