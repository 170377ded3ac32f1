"""Elementwise mpmath over NumPy object arrays: the runtime of ``backend="mpmath"`` kernels.

Any ``mpmath`` function is available as ``_mp.<name>`` and maps over object arrays; the array
heads (reductions, log-sum-exp, xlogy, Cholesky) are defined here at working precision.
"""

from __future__ import annotations

import functools
from typing import Any

import mpmath
import numpy

mpf = mpmath.mpf
mpc = mpmath.mpc


def __getattr__(name: str) -> Any:
    fn = getattr(mpmath, name)
    if not callable(fn):
        return fn
    return _elementwise(fn)


@functools.cache
def _elementwise(fn: Any) -> Any:
    vec = numpy.vectorize(fn, otypes=[object])
    return vec


pi = mpmath.pi
e = mpmath.e


def asarray(value: Any) -> numpy.ndarray:
    """An input as an object array of mpf (floats convert exactly)."""
    arr = numpy.asarray(value, dtype=object)
    return numpy.vectorize(lambda v: mpmath.mpf(v) if not isinstance(v, mpmath.mpf) else v, otypes=[object])(arr)


def reduce_sum(a: numpy.ndarray, axis: int) -> numpy.ndarray:
    return numpy.sum(numpy.asarray(a, dtype=object), axis=axis, keepdims=True)


def logsumexp(a: numpy.ndarray, axis: int) -> numpy.ndarray:
    arr = numpy.asarray(a, dtype=object)
    return __getattr__("log")(numpy.sum(__getattr__("exp")(arr), axis=axis, keepdims=True))


def log_softmax(a: numpy.ndarray, axis: int) -> numpy.ndarray:
    arr = numpy.asarray(a, dtype=object)
    return arr - logsumexp(arr, axis)


def xlogy(x: Any, y: Any) -> Any:
    return numpy.vectorize(lambda u, v: mpmath.mpf(0) if u == 0 else u * mpmath.log(v), otypes=[object])(x, y)


def logaddexp(a: Any, b: Any) -> Any:
    return numpy.vectorize(lambda u, v: mpmath.log(mpmath.exp(u) + mpmath.exp(v)), otypes=[object])(a, b)


def clip(a: Any, lo: Any, hi: Any) -> Any:
    return numpy.vectorize(lambda u: min(max(u, lo), hi), otypes=[object])(a)


def maximum(*args: Any) -> Any:
    return numpy.vectorize(lambda *v: max(v), otypes=[object])(*args)


def minimum(*args: Any) -> Any:
    return numpy.vectorize(lambda *v: min(v), otypes=[object])(*args)


def where(cond: Any, a: Any, b: Any) -> Any:
    return numpy.where(numpy.asarray(cond, dtype=bool), a, b)


def _matrices(s: numpy.ndarray) -> tuple[tuple[int, ...], list[tuple[int, ...]]]:
    batch = s.shape[:-2]
    return batch, list(numpy.ndindex(*batch))


def logdet_pd(s: numpy.ndarray) -> numpy.ndarray:
    s = numpy.asarray(s, dtype=object)
    batch, idx = _matrices(s)
    out = numpy.empty(batch, dtype=object)
    for i in idx:
        chol = mpmath.cholesky(mpmath.matrix(s[i].tolist()))
        out[i] = 2 * mpmath.fsum(mpmath.log(chol[k, k]) for k in range(chol.rows))
    return out


def chol_solve(s: numpy.ndarray, b: numpy.ndarray) -> numpy.ndarray:
    s = numpy.asarray(s, dtype=object)
    b = numpy.asarray(b, dtype=object)
    shape = numpy.broadcast_shapes(s.shape[:-2], b.shape[:-2])
    s = numpy.broadcast_to(s, shape + s.shape[-2:])
    b = numpy.broadcast_to(b, shape + b.shape[-2:])
    out = numpy.empty(shape + b.shape[-2:], dtype=object)
    for i in numpy.ndindex(*shape):
        sol = mpmath.cholesky_solve(mpmath.matrix(s[i].tolist()), mpmath.matrix(b[i].tolist()))
        out[i] = numpy.array(sol.tolist(), dtype=object).reshape(b.shape[-2:])
    return out


def trace(a: numpy.ndarray) -> numpy.ndarray:
    return numpy.trace(numpy.asarray(a, dtype=object), axis1=-2, axis2=-1)
