"""The user-facing code-generation API: generate(), write_module(), and the stability rewrites."""

from __future__ import annotations

import importlib.util
import math

import mpmath
import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

from ibtheory.codegen import LoweringError, generate, write_module
from ibtheory.codegen.nodes import LogDetPD, XLogY

x, y, z = sp.symbols("x y z", real=True)
# index-level symbols of the tests' own: codegen knows nothing of ibtheory.symbolic, and the caller
# always declares the axes
N_X, N_Y, N_T = sp.symbols("n_x n_y n_t", integer=True, positive=True)
ix, iy, it = sp.Idx("x", N_X), sp.Idx("y", N_Y), sp.Idx("t", N_T)
p_x, p_y_given_x = sp.IndexedBase("p_x", positive=True), sp.IndexedBase("p_y_given_x", nonnegative=True)
AXES = ("x", "y", "t")

#: float64 round-off of a handful of elementary operations, relative.
ELEMENTARY_RTOL = 1e-14


def test_logaddexp_rewrite_is_finite_at_large_arguments():
    f = generate([x, y], sp.log(sp.exp(x) + sp.exp(y)))
    assert "logaddexp" in f.source
    assert f(1000.0, 1000.0) == pytest.approx(1000.0 + math.log(2.0), rel=ELEMENTARY_RTOL)
    assert f(-1000.0, -1000.0) == pytest.approx(-1000.0 + math.log(2.0), rel=ELEMENTARY_RTOL)


def test_softplus_rewrite_is_finite_and_accurate_for_very_negative_inputs():
    f = generate([x], sp.log(1 + sp.exp(x)))
    assert f(800.0) == pytest.approx(800.0, rel=ELEMENTARY_RTOL)
    # log(1 + e^-50) = e^-50 to 1e-22 relative; a naive log(1 + exp) would return 0.
    assert f(-50.0) == pytest.approx(math.exp(-50.0), rel=ELEMENTARY_RTOL)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_x_log_x_is_zero_at_zero(backend):
    f = generate([x], x * sp.log(x), backend=backend)
    xs = np.array([0.0, 0.5, 2.0]) if backend == "numpy" else torch.tensor([0.0, 0.5, 2.0], dtype=torch.float64)
    out = np.asarray(f(xs))
    assert out[0] == 0.0
    np.testing.assert_allclose(out[1:], [0.5 * math.log(0.5), 2.0 * math.log(2.0)], rtol=ELEMENTARY_RTOL)


def test_missing_free_symbol_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"uses y, which is not among the arguments"):
        generate([x], x + y)


def test_indexed_expression_with_undeclared_array_is_refused():

    i = sp.Idx("x", sp.Symbol("n_x", integer=True, positive=True))
    with pytest.raises(ValueError, match="p_y_given_x"):
        generate([p_x], sp.Sum(p_x[i] * p_y_given_x[i, i], i), axes=AXES)


def test_list_and_dict_outputs():
    f = generate([x, y], [x + y, x * y])
    assert f(2.0, 3.0) == (5.0, 6.0)
    g = generate([x, y], {"total": x + y, "product": x * y})
    assert g(2.0, 3.0) == {"total": 5.0, "product": 6.0}
    one = generate([x], [x + 1])
    assert one(1.0) == (2.0,)


def test_several_outputs_return_a_named_tuple_with_the_output_names():
    f = generate([x, y], [x + y, x * y], name="pair_ops")
    out = f(2.0, 3.0)
    assert type(out).__name__ == "PairOpsResult" and out._fields == ("out0", "out1")
    assert (out.out0, out.out1) == (5.0, 6.0)
    assert f.result_type is type(out)


def test_committed_kernels_with_several_outputs_return_the_same_named_tuple_in_every_backend():
    from ibtheory._generated import (
        gaussian_numpy,
        gaussian_torch,
        ib_numpy,
        ib_torch,
        mixture_numpy,
        mixture_torch,
        ntk_numpy,
        ntk_torch,
    )

    pairs = [(ib_numpy, ib_torch), (gaussian_numpy, gaussian_torch), (mixture_numpy, mixture_torch), (ntk_numpy, ntk_torch)]
    n_types = 0
    for np_mod, torch_mod in pairs:
        types = [n for n in np_mod.__all__ if n.endswith("Result")]
        assert types == [n for n in torch_mod.__all__ if n.endswith("Result")]
        for name in types:
            assert getattr(np_mod, name)._fields == getattr(torch_mod, name)._fields
        n_types += len(types)
    assert n_types >= 10  # ib 5, gaussian 4, ntk and mixture at least 1 each

    p_x = np.array([0.5, 0.5])
    p_y_given_x = np.array([[0.9, 0.1], [0.2, 0.8]])
    log_enc = np.log(np.array([[0.7, 0.3], [0.4, 0.6]]))
    out = ib_numpy.ib_step(log_enc, p_x, p_y_given_x, 2.0)
    assert isinstance(out, ib_numpy.IbStepResult)
    assert out._fields == ("p_t", "p_y_given_t", "log_p_t_given_x")
    p_t, p_y_given_t, new_log_enc = out  # still a tuple: positional callers keep working
    np.testing.assert_array_equal(out.p_t, p_t)
    np.testing.assert_array_equal(out.p_y_given_t, p_y_given_t)
    np.testing.assert_allclose(p_t, [0.55, 0.45], rtol=ELEMENTARY_RTOL)
    t_out = ib_torch.ib_step(torch.tensor(log_enc), torch.tensor(p_x), torch.tensor(p_y_given_x), 2.0)
    assert type(t_out).__name__ == "IbStepResult"
    np.testing.assert_allclose(t_out.log_p_t_given_x.numpy(), new_log_enc, rtol=1e-12)


def test_constant_output_broadcasts_to_input_shape():
    f = generate([x], [x, sp.Integer(3)])
    _a, b = f(np.zeros((2, 3)))
    assert b.shape == (2, 3) and np.all(b == 3.0)


def test_torch_keeps_dtype_and_device_and_accepts_python_scalars():
    f = generate([x, y], sp.exp(x) * y + sp.log(2) * x**2, backend="torch")
    t32 = torch.ones(3, dtype=torch.float32)
    out = f(t32, 2.0)
    assert out.dtype == torch.float32 and out.device == t32.device
    out64 = f(torch.ones(3, dtype=torch.float64), torch.tensor(2.0, dtype=torch.float64))
    assert out64.dtype == torch.float64


@pytest.mark.gpu
def test_torch_kernel_runs_on_cuda_and_stays_there():
    f = generate([x, y], sp.log(sp.exp(x) + sp.exp(y)), backend="torch")
    out = f(torch.ones(4, device="cuda", dtype=torch.float64), 2.0)
    assert out.device.type == "cuda"


@given(
    st.floats(min_value=-700, max_value=700, allow_nan=False),
    st.floats(min_value=-700, max_value=700, allow_nan=False),
)
def test_generated_logaddexp_matches_mpmath_at_50_digits(a, b):
    f = generate([x, y], sp.log(sp.exp(x) + sp.exp(y)))
    with mpmath.workdps(50):
        ref = mpmath.log(mpmath.exp(a) + mpmath.exp(b))
    # logaddexp: a few ulps of the result (plus an absolute ulp near 0).
    assert abs(float(f(a, b)) - float(ref)) <= 4 * np.finfo(float).eps * (1 + abs(float(ref)))


def test_numpy_and_torch_agree_and_batches_broadcast():
    expr = sp.sqrt(x**2 + y**2) * sp.erf(x) - sp.atan2(y, x) + sp.Max(x, 0)
    fn, ft = generate([x, y], expr), generate([x, y], expr, backend="torch")
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 1)), rng.normal(size=(1, 4))
    out = fn(a, b)
    assert out.shape == (5, 4)
    np.testing.assert_allclose(ft(torch.tensor(a), torch.tensor(b)).numpy(), out, rtol=1e-12, atol=1e-15)
    looped = np.array([[fn(a[i, 0], b[0, j]) for j in range(4)] for i in range(5)])
    np.testing.assert_allclose(out, looped, rtol=0, atol=0)


def test_index_level_sum_lowers_to_axis_reduction():

    h_y_given_x = -sp.Sum(p_x[ix] * p_y_given_x[ix, iy] * sp.log(p_y_given_x[ix, iy]), (ix, 0, ix.upper), (iy, 0, iy.upper))
    f = generate([p_x, p_y_given_x], h_y_given_x, axes=AXES)
    assert "xlogy" in f.source
    rng = np.random.default_rng(1)
    px = rng.dirichlet(np.ones(4))
    pyx = rng.dirichlet(np.ones(3), size=4)
    pyx[0] = [1.0, 0.0, 0.0]  # exact zeros: 0 log 0 = 0
    ref = -sum(px[i] * pyx[i, j] * math.log(pyx[i, j]) for i in range(4) for j in range(3) if pyx[i, j] > 0)
    assert float(f(px, pyx)) == pytest.approx(ref, rel=ELEMENTARY_RTOL)
    batch = f(np.stack([px, px]), pyx)
    assert batch.shape == (2,)


def test_indexed_expression_without_declared_axes_is_refused():
    with pytest.raises(ValueError, match=r"declare their axes"):
        generate([p_x], sp.Sum(p_x[ix], ix))


def test_codegen_does_not_import_the_symbolic_layer():
    import subprocess
    import sys

    code = "import sys, ibtheory.codegen as c; c.generate; c.build; c.to_array_nodes; print(any(m.startswith('ibtheory.symbolic') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_log_determinant_of_sympy_determinant_lowers_to_cholesky():
    from ibtheory.codegen import to_array_nodes

    m = sp.MatrixSymbol("m", 3, 3)
    f = generate([sp.Symbol("m", real=True)], to_array_nodes(sp.log(sp.Determinant(m)) / 2))
    a = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])
    assert float(f(a)) == pytest.approx(0.5 * math.log(np.linalg.det(a)), rel=ELEMENTARY_RTOL)


def test_log_sum_exp_normaliser_is_stable_for_logits_1e3_apart():

    logits = sp.IndexedBase("logits")
    tp = sp.Idx("tp", it.upper + 1)
    expr = logits[ix, it] - sp.log(sp.Sum(sp.exp(logits[ix, tp]), tp))
    f = generate([logits], expr, axes=AXES)
    assert "_log_softmax" in f.source  # the normaliser a - logsumexp(a), computed as a log-softmax
    out = f(np.array([[0.0, -1000.0, 1000.0]]))
    np.testing.assert_allclose(out, [[-1000.0, -2000.0, 0.0]], rtol=ELEMENTARY_RTOL)


def test_normalised_logits_are_computed_once_without_a_negation_pass():

    d, w = sp.IndexedBase("d"), sp.IndexedBase("w")
    beta = sp.Symbol("beta")
    tp = sp.Idx("tp", it.upper + 1)
    logits = sp.log(w[it]) - beta * d[ix, it]
    expr = logits - sp.log(sp.Sum(sp.exp(logits.subs(it, tp)), tp))
    f = generate([d, w, beta], expr, axes=AXES)
    assert "logsumexp(-" not in f.source and "= -_c" not in f.source, f.source
    rng = np.random.default_rng(0)
    dd, ww = rng.uniform(0, 3, (4, 5)), rng.dirichlet(np.ones(5))
    ref = np.log(ww) - 2.0 * dd
    ref -= np.log(np.exp(ref).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(f(dd, ww, 2.0), ref, rtol=ELEMENTARY_RTOL, atol=ELEMENTARY_RTOL)


def test_lowering_refuses_two_axes_for_one_variable():

    xp = sp.Idx("xp", ix.upper + 1)
    with pytest.raises(LoweringError, match="two axes"):
        generate([p_x, p_y_given_x], sp.Sum(p_x[xp] * p_y_given_x[ix, iy], xp), axes=AXES)
    kernel_matrix = sp.IndexedBase("k")
    with pytest.raises(LoweringError, match="declared axis order"):
        generate([p_x, kernel_matrix], sp.Sum(p_x[xp] * kernel_matrix[ix, xp], xp), axes=AXES)


def test_logdet_node_is_finite_where_log_det_underflows():
    s = sp.Symbol("s")
    f = generate([s], LogDetPD(s) / 2)
    eig = np.logspace(-6, 0, 200)
    q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(200, 200)))
    mat = (q * eig) @ q.T
    mat = (mat + mat.T) / 2
    # the true value is sum(log eig) / 2; cholesky of a cond-1e6 matrix loses ~cond * eps relative per entry
    assert float(f(mat)) == pytest.approx(np.sum(np.log(eig)) / 2, rel=1e-8)
    ft = generate([s], LogDetPD(s) / 2, backend="torch")
    assert float(ft(torch.tensor(mat))) == pytest.approx(np.sum(np.log(eig)) / 2, rel=1e-8)


def test_xlogy_node_gradient_passes_gradcheck():
    f = generate([x, y], XLogY(x, y) + sp.exp(-x * y), backend="torch")
    a = torch.rand(5, dtype=torch.float64, requires_grad=True)
    b = torch.rand(5, dtype=torch.float64, requires_grad=True) + 0.5
    assert torch.autograd.gradcheck(f, (a, b))


def test_write_module_writes_an_importable_module(tmp_path):
    f = generate([x, y], sp.log(sp.exp(x) + sp.exp(y)), name="soft_max_pair")
    g = generate([x], x * sp.log(x), name="neg_entropy_term")
    path = write_module(tmp_path / "my_kernels.py", [f, g])
    text = path.read_text()
    assert "DO NOT EDIT" in text and f"SymPy {sp.__version__}" in text and "source-hash:" in text
    spec = importlib.util.spec_from_file_location("my_kernels", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.soft_max_pair(1000.0, 1000.0) == pytest.approx(1000.0 + math.log(2.0))
    assert mod.neg_entropy_term(0.0) == 0.0


def test_mpmath_backend_evaluates_at_working_precision():
    f = generate([x], sp.log(1 + x) - x + x**2 / 2, backend="mpmath")
    with mpmath.workdps(60):
        out = f(np.array([1e-10]))[0]
        # log(1+x) - x + x^2/2 = x^3/3 - ...: float64 cancellation would return ~1e-17 noise
        assert abs(out - mpmath.mpf(1e-10) ** 3 / 3) < mpmath.mpf(10) ** -40


_SPECIAL = st.sampled_from([0.0, -0.0, 1.0, -2.5, 1e-300, 1e300, math.inf, -math.inf, math.nan])


@given(
    xs=st.lists(st.one_of(_SPECIAL, st.floats(allow_nan=True, allow_infinity=True)), min_size=1, max_size=20),
    ys=st.lists(st.one_of(_SPECIAL, st.floats(allow_nan=True, allow_infinity=True)), min_size=1, max_size=20),
)
def test_runtime_xlogy_has_scipy_xlogy_values_everywhere(xs, ys):
    """The generated NumPy kernels print XLogY as the runtime's _xlogy (plain ufuncs, faster on
    small arrays); scipy.special.xlogy is the reference, special values included (x = 0 gives 0
    unless y is NaN; y = 0 with x > 0 gives -inf; y < 0 gives NaN)."""
    import scipy.special

    from ibtheory.codegen.runtime_numpy import _xlogy

    a = np.array(xs)[:, None]
    b = np.array(ys)[None, :]
    with np.errstate(all="ignore"):
        want = scipy.special.xlogy(a, b)
    np.testing.assert_array_equal(_xlogy(a, b), want)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@given(
    n=st.integers(1, 4),
    masks=st.tuples(st.integers(1, 15), st.integers(1, 15)),
    k=st.integers(0, 3),
    batches=st.sampled_from([((), ()), ((2,), ()), ((), (3,)), ((2, 1), (3,))]),
    drop_leading=st.booleans(),
)
def test_runtime_contract_equals_the_sum_of_products(backend, n, masks, k, batches, drop_leading):
    """The runtimes' _contract (NumPy: one matmul through static views where at most one free axis
    per operand remains, reshapes otherwise; Torch: reshapes) against the literal sum over k of
    a * b, for every mask pair of up to 4 index axes, batch axes on either side, and operands given
    without their leading size-1 axes."""
    from ibtheory.codegen import runtime_numpy, runtime_torch

    mask_a, mask_b = masks[0] % (1 << n), masks[1] % (1 << n)
    k = k % n
    mask_a, mask_b = mask_a | 1 << k, mask_b | 1 << k  # both operands carry the contracted axis
    sizes = [4, 3, 5, 2][:n]
    rng = np.random.default_rng(0)
    a = rng.random(batches[0] + tuple(sizes[i] if mask_a >> i & 1 else 1 for i in range(n)))
    b = rng.random(batches[1] + tuple(sizes[i] if mask_b >> i & 1 else 1 for i in range(n)))
    want = np.sum(a * b, axis=k - n, keepdims=True)
    if drop_leading and not batches[0]:  # leading size-1 index axes may be absent in an operand
        while a.ndim > 1 and a.shape[0] == 1:
            a = a[0]
    if backend == "numpy":
        got = runtime_numpy._contract(a, b, mask_a, mask_b, k, n)
    else:
        got = runtime_torch._contract(torch.tensor(a), torch.tensor(b), mask_a, mask_b, k, n).numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=ELEMENTARY_RTOL * max(sizes))
