"""In-place NumPy kernels (KernelSpec.broadcast): same values as the plain printing, no aliasing,
scratch reused across calls, and no per-call temporaries beyond the outputs."""

from __future__ import annotations

import dataclasses
import tracemalloc

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ibtheory.codegen import GeneratedFunction, kernel
from ibtheory.kernels._ntk import kernel_specs

A, B, C, S = sp.symbols("a b c s", real=True)
#: a spans the block (i, j), b a column (i), c a row (j), s is a scalar.
AXES = {"a": "ij", "b": "i", "c": "j", "s": ""}
#: In-place and plain printings evaluate sums and products in a different order (small factors
#: grouped first), so they agree to rounding: a few ulps of the largest intermediate.
REORDER_TOL = 1e-12


def _leaf():
    return st.sampled_from([A, B, C, S, sp.Integer(2), sp.Float(0.5), sp.Integer(-3)])


def _grow(children):
    """Bounded-value expressions: every node maps finite inputs of size O(1) to O(1)."""
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda p: p[0] + p[1]),
        pair.map(lambda p: p[0] - p[1]),
        pair.map(lambda p: p[0] * p[1]),
        pair.map(lambda p: p[0] / (1 + p[1] ** 2)),
        pair.map(lambda p: sp.atan2(p[0], 1 + p[1] ** 2)),
        pair.map(lambda p: sp.Max(p[0], p[1])),
        children.map(lambda e: sp.sqrt(1 + e**2)),
        children.map(lambda e: -e),
        children.map(sp.atan),
        children.map(lambda e: sp.exp(-(e**2))),
        children.map(sp.Abs),
        children.map(sp.sign),
    )


EXPRS = st.recursive(_leaf(), _grow, max_leaves=8)


def _pair(outputs: dict[str, sp.Expr]) -> tuple[GeneratedFunction, GeneratedFunction]:
    spec = kernel("k", [A, B, C, S], outputs, doc="test kernel", reference="test", broadcast=AXES)
    plain = GeneratedFunction(dataclasses.replace(spec, broadcast=()), "numpy")
    return GeneratedFunction(spec, "numpy"), plain


def _inputs(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return (rng.normal(size=(5, 4)), rng.normal(size=(5, 1)), rng.normal(size=(1, 4)), np.asarray(rng.normal()))


def _close(got, want) -> None:
    got, want = np.broadcast_arrays(np.asarray(got), np.asarray(want))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=REORDER_TOL, atol=REORDER_TOL * (1 + float(np.max(np.abs(want)))))


@settings(max_examples=60, deadline=None)
@given(e1=EXPRS, e2=EXPRS, seed=st.integers(0, 2**32 - 1))
def test_inplace_equals_plain_printing_and_reuses_scratch_safely(e1, e2, seed):
    inplace, plain = _pair({"first": e1 + e2 * A, "second": e2 - e1})
    rng = np.random.default_rng(seed)
    work: dict = {}
    first_in = _inputs(rng)
    kept = [x.copy() for x in first_in]
    first_out = inplace(*first_in, work=work)
    want_first = plain(*first_in)
    for got, want in zip(first_out, want_first, strict=True):
        _close(got, want)
    for x, k in zip(first_in, kept, strict=True):
        np.testing.assert_array_equal(x, k)  # arguments are never written
    saved = [np.array(o, copy=True) for o in first_out]
    second_in = _inputs(rng)
    for got, want in zip(inplace(*second_in, work=work), plain(*second_in), strict=True):
        _close(got, want)
    for o, s in zip(first_out, saved, strict=True):
        np.testing.assert_array_equal(o, s)  # outputs are not scratch: the next call left them alone


def test_broadcast_must_name_every_argument_and_only_for_elementwise_kernels():
    with pytest.raises(ValueError, match="axes of every argument"):
        kernel("k", [A, B], A * B, doc="d", reference="r", broadcast={"a": "ij"})
    i = sp.Idx("x")
    p = sp.IndexedBase("p")
    with pytest.raises(ValueError, match="elementwise"):
        kernel("k", [p], p[i], doc="d", reference="r", axes=("x",), broadcast={"p": "x"})


def _relu_step_and_block(n: int):
    spec = next(s for s in kernel_specs() if s.name == "relu_dense_step")
    rng = np.random.default_rng(0)
    var1, var2 = rng.uniform(0.5, 2.0, (n, 1)), rng.uniform(0.5, 2.0, (1, n))
    nngp = rng.uniform(-1, 1, (n, n)) * np.sqrt(var1 * var2)
    return spec, (nngp, rng.uniform(0, 3, (n, n)), var1, var2, 1.5, 0.1)


def test_ntk_step_in_place_matches_plain_printing_and_keeps_float32():
    spec, args = _relu_step_and_block(64)
    inplace = GeneratedFunction(spec, "numpy")
    plain = GeneratedFunction(dataclasses.replace(spec, broadcast=()), "numpy")
    for got, want in zip(inplace(*args, work={}), plain(*args), strict=True):
        _close(got, want)
    args32 = (args[0].astype(np.float32), args[1].astype(np.float32), args[2].astype(np.float32), args[3].astype(np.float32), np.float32(1.5), np.float32(0.1))
    for got, want in zip(inplace(*args32, work={}), plain(*args32), strict=True):
        assert got.dtype == want.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-5)


def test_warm_in_place_step_allocates_only_its_outputs():
    """The point of the in-place printing: with ``work`` warm, a call allocates its two outputs and
    nothing block-sized besides (the plain printing allocates ~10 block-sized temporaries)."""
    spec, args = _relu_step_and_block(256)
    inplace = GeneratedFunction(spec, "numpy")
    work: dict = {}
    inplace(*args, work=work)
    block_bytes = args[0].nbytes
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        outputs = inplace(*args, work=work)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert len(outputs) == 2
    assert peak < 2.5 * block_bytes, f"peak {peak / block_bytes:.1f} blocks allocated in one warm call"
