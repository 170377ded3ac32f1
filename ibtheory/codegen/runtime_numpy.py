"""Small runtime helpers imported by generated NumPy kernels (hand-written, kept minimal)."""

from __future__ import annotations

import functools
from typing import Any

import numpy
import scipy.linalg

from ._contract_plan import matrix_views, plan


def _as_array(value: Any) -> numpy.ndarray:
    """An input as a floating array (integers and bools become float64; float32 stays)."""
    arr = numpy.asarray(value)
    if arr.dtype.kind != "f":  # not floating (dtype.kind, unlike issubdtype, costs no microseconds)
        arr = arr.astype(numpy.float64)
    return arr


def _logsumexp(a: numpy.ndarray, axis: int) -> numpy.ndarray:
    """log sum exp over ``axis`` (kept), shifted by the max; all -inf gives -inf, not NaN."""
    m = numpy.maximum.reduce(a, axis=axis, keepdims=True)  # ufunc methods: no Python wrapper per call
    finite = numpy.isfinite(m)
    if not finite.all():
        m = numpy.where(finite, m, 0.0)
    return numpy.log(numpy.add.reduce(numpy.exp(a - m), axis=axis, keepdims=True)) + m


def _log_softmax(a: numpy.ndarray, axis: int) -> numpy.ndarray:
    """a - log sum exp(a) over ``axis``, as (a - m) - log sum exp(a - m): normalised to round-off
    whatever the magnitude of the max m (a - (m + log s) is off by ulp(m)); all -inf gives NaN,
    as a - logsumexp(a) does."""
    m = numpy.maximum.reduce(a, axis=axis, keepdims=True)
    finite = numpy.isfinite(m)
    if not finite.all():
        m = numpy.where(finite, m, 0.0)
    shifted = a - m
    shifted -= numpy.log(numpy.add.reduce(numpy.exp(shifted), axis=axis, keepdims=True))
    return shifted


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


@functools.cache
def _squeeze_index(axes: tuple[int, ...], n: int) -> tuple:
    return (Ellipsis, *(slice(None) if i in axes else 0 for i in range(n)))


@functools.cache
def _unsqueeze_index(axes: tuple[int, ...], n: int) -> tuple:
    return (Ellipsis, *(slice(None) if i in axes else None for i in range(n)))


@functools.cache
def _moved(ndim: int, src: int, dst: int) -> tuple[int, ...]:
    """The permutation of ``numpy.moveaxis(a, src, dst)`` for an ``ndim``-dimensional ``a`` (cached:
    moveaxis itself re-validates its axes on every call, which dominated small contractions)."""
    src, dst = src % ndim, dst % ndim
    order = [i for i in range(ndim) if i != src]
    order.insert(dst, src)
    return tuple(order)


def _aligned(a: Any, n: int) -> numpy.ndarray:
    """An operand with its leading size-1 index axes restored (an operand may come without them)."""
    if not isinstance(a, numpy.ndarray):
        a = numpy.asarray(a)
    return a if a.ndim >= n else a.reshape((1,) * (n - a.ndim) + a.shape)


def _squeeze_to(a: numpy.ndarray, axes: tuple[int, ...], n: int) -> numpy.ndarray:
    """Drop the size-1 index axes of an aligned array, keeping ``axes`` (and the batch axes)."""
    return _aligned(a, n)[_squeeze_index(axes, n)]


def _contract(a: numpy.ndarray, b: numpy.ndarray, mask_a: int, mask_b: int, k: int, n: int) -> numpy.ndarray:
    """sum over index axis ``k`` of a * b for aligned operands, as one matmul when possible."""
    views = matrix_views(mask_a, mask_b, k, n)
    if views is not None:  # the short path: views and one matmul, no reshapes
        idx_a, swap_a, idx_b, swap_b, res_idx, swap_out, out_idx = views
        sa = _aligned(a, n)[idx_a]
        sb = _aligned(b, n)[idx_b]
        res = numpy.matmul(sa.swapaxes(-1, -2) if swap_a else sa, sb.swapaxes(-1, -2) if swap_b else sb)[res_idx]
        return (res.swapaxes(-1, -2) if swap_out else res)[out_idx]
    p = plan(mask_a, mask_b, k, n)
    sa, sb = _squeeze_to(a, p.axes_a, n), _squeeze_to(b, p.axes_b, n)
    if not p.matmul:
        return numpy.sum(_unsqueeze(sa, p.axes_a, n) * _unsqueeze(sb, p.axes_b, n), axis=k - n, keepdims=True)
    na, nb = len(p.axes_a), len(p.axes_b)
    batch_a, batch_b = sa.shape[: sa.ndim - na], sb.shape[: sb.ndim - nb]
    sa = sa.transpose(_moved(sa.ndim, p.axes_a.index(k) - na, -1))  # (..., rest_a, K)
    sb = sb.transpose(_moved(sb.ndim, p.axes_b.index(k) - nb, -nb))  # (..., K, rest_b)
    dims_a, dims_b = sa.shape[len(batch_a) : -1], sb.shape[len(batch_b) + 1 :]
    ma = sa.reshape((*batch_a, -1, sa.shape[-1]))
    mb = sb.reshape((*batch_b, sb.shape[len(batch_b)], -1))
    res = numpy.matmul(ma, mb)
    res = res.reshape((*res.shape[:-2], *dims_a, *dims_b))
    nr = len(p.out_axes)
    res = numpy.transpose(res, tuple(range(res.ndim - nr)) + tuple(res.ndim - nr + j for j in p.out_perm))
    return _unsqueeze(res, p.out_axes, n)


def _unsqueeze(a: numpy.ndarray, axes: tuple[int, ...], n: int) -> numpy.ndarray:
    return a[_unsqueeze_index(axes, n)]


def _xlogy(x: Any, y: Any) -> numpy.ndarray:
    """x log y, 0 where x == 0 (also at y = 0 or inf; NaN y stays NaN): scipy.special.xlogy's
    values from plain ufuncs, 2-3x faster on the small arrays of a solver step; like scipy it
    overflows to +-inf silently (e.g. x = 1e308, y = 3)."""
    with numpy.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = numpy.multiply(x, numpy.log(y))
    zero = numpy.equal(x, 0)
    if zero.any():  # rare in the solvers: skip the masking passes when no x is 0
        out = numpy.where(zero & ~numpy.isnan(y), 0.0, out)
    return out


def _sum_xlogy(a: numpy.ndarray, b: numpy.ndarray, mask_a: int, mask_b: int, k: int, n: int) -> numpy.ndarray:
    """sum over axis ``k`` of xlogy(a, b), by contraction with log b where b > 0; where a != 0
    meets b == 0 the sum is -inf (a > 0) or +inf (a < 0), exactly as the elementwise form."""
    zero = b == 0
    out = _contract(a, numpy.log(numpy.where(zero, 1.0, b)), mask_a, mask_b, k, n)
    if zero.any():
        z = zero.astype(out.dtype)
        pos = _contract((a > 0).astype(out.dtype), z, mask_a, mask_b, k, n) > 0
        neg = _contract((a < 0).astype(out.dtype), z, mask_a, mask_b, k, n) > 0
        out = numpy.where(pos, numpy.where(neg, numpy.nan, -numpy.inf), numpy.where(neg, numpy.inf, out))
    return out


def _scratch(work: dict | None, shape: tuple[int, ...], dtype: Any, count: int) -> list[numpy.ndarray]:
    """``count`` scratch arrays for an in-place kernel (codegen ``_inplace``): new ones, or the ones
    kept in the dict ``work`` under (shape, dtype), so that repeated calls reuse their memory."""
    if work is None:
        return [numpy.empty(shape, dtype) for _ in range(count)]
    key = (tuple(shape), numpy.dtype(dtype))
    bufs = work.get(key)
    if bufs is None or len(bufs) < count:
        bufs = work[key] = [numpy.empty(shape, dtype) for _ in range(count)]
    return bufs[:count]
