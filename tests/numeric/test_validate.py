"""The one validation layer: complex input, Torch tensors, dtype-aware normalisation, and the
public functions that convert arrays through it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from ibtheory.gaussian import gaussian_ib
from ibtheory.ntk import fc_kernels, max_learning_rate
from ibtheory.numeric import (
    NORMALISATION_ATOL,
    as_real_array,
    check_beta,
    check_finite_array,
    check_int,
    check_joint,
    check_positive,
    normalisation_atol,
)
from ibtheory.solvers import ib_curve, solve_ib

COMPLEX_MESSAGE = r"must be real; got complex dtype; pass np\.real\(x\) if the imaginary part is zero"

JOINT = np.array([[0.3, 0.1], [0.15, 0.45]])
COV_X = np.array([[2.0, 0.3], [0.3, 1.0]])
COV_XY = np.array([[0.5], [0.2]])
COV_Y = np.array([[1.0]])
FC: dict[str, Any] = {"depth": 1, "w_std": 1.5, "b_std": 0.1}

COMPLEX_INPUTS = [
    pytest.param(np.array([[0.5, 0.5]], dtype=complex), id="zero-imaginary"),
    pytest.param(np.array([[0.5 + 1e-3j, 0.5]]), id="nonzero-imaginary"),
    pytest.param([[0.5 + 0j, 0.5]], id="list"),
    pytest.param(torch.tensor([[0.5 + 0j, 0.5]]), id="torch"),
]


@pytest.mark.parametrize("value", COMPLEX_INPUTS)
def test_complex_arrays_are_refused_with_type_error(value) -> None:
    with pytest.raises(TypeError, match="p_xy " + COMPLEX_MESSAGE):
        check_finite_array(value, "p_xy")
    with pytest.raises(TypeError, match=COMPLEX_MESSAGE):
        as_real_array(value, "p_xy")


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (lambda v: check_beta(v), 1.0 + 0j),
        (lambda v: check_beta(v), np.array([1.0, 2.0], dtype=complex)),
        (lambda v: check_positive(v, "tol"), np.complex128(1e-3)),
        (lambda v: check_int(v, "n"), np.complex128(3)),
        (lambda v: check_joint(v), JOINT.astype(complex)),
    ],
)
def test_scalar_and_joint_checks_refuse_complex(check, value) -> None:
    with pytest.raises(TypeError, match=COMPLEX_MESSAGE):
        check(value)


def test_public_functions_refuse_complex_input() -> None:
    with pytest.raises(TypeError, match="p_xy " + COMPLEX_MESSAGE):
        solve_ib(JOINT.astype(complex), 2.0)
    with pytest.raises(TypeError, match="betas " + COMPLEX_MESSAGE):
        ib_curve(JOINT, np.array([1.0, 2.0], dtype=complex))
    with pytest.raises(TypeError, match="cov_x " + COMPLEX_MESSAGE):
        gaussian_ib(COV_X.astype(complex), COV_XY, COV_Y, [1.0, 10.0])
    with pytest.raises(TypeError, match="x1 " + COMPLEX_MESSAGE):
        fc_kernels(np.ones((3, 2), dtype=complex), depth=1, w_std=1.5, b_std=0.1)
    with pytest.raises(TypeError, match="ntk_train_train " + COMPLEX_MESSAGE):
        max_learning_rate(np.eye(2, dtype=complex))


def test_tensors_that_require_grad_are_detached_not_refused() -> None:
    joint = torch.tensor(JOINT, requires_grad=True)
    np.testing.assert_array_equal(check_finite_array(joint, "p_xy"), JOINT)
    np.testing.assert_array_equal(check_joint(joint), JOINT)
    reference = solve_ib(JOINT, 2.0)
    from_tensor = solve_ib(joint, 2.0)
    np.testing.assert_array_equal(from_tensor.p_t_given_x, reference.p_t_given_x)
    beta = torch.tensor([1.0, 10.0], requires_grad=True)
    cov_x = torch.tensor(COV_X, requires_grad=True)
    np.testing.assert_array_equal(
        gaussian_ib(cov_x, COV_XY, COV_Y, beta).i_xt, gaussian_ib(COV_X, COV_XY, COV_Y, [1.0, 10.0]).i_xt
    )
    x = torch.linspace(-1.0, 1.0, 6, dtype=torch.float64).reshape(3, 2).requires_grad_(True)
    np.testing.assert_array_equal(fc_kernels(x, **FC).ntk, fc_kernels(x.detach().numpy(), **FC).ntk)


def test_float32_joint_passes_the_dtype_aware_tolerance() -> None:
    rng = np.random.default_rng(0)
    counts = rng.random((200, 13)).astype(np.float32)
    joint32 = counts / counts.sum()  # normalised in float32: the float64 total is off by ~1e-8..1e-7
    total_error = abs(float(joint32.astype(np.float64).sum()) - 1.0)
    assert total_error > NORMALISATION_ATOL  # the fixed float64 tolerance would refuse it
    np.testing.assert_array_equal(check_joint(joint32), joint32.astype(np.float64))
    np.testing.assert_array_equal(check_joint(torch.from_numpy(joint32)), joint32.astype(np.float64))


def test_float32_joint_that_is_off_still_fails() -> None:
    joint32 = (JOINT * 1.001).astype(np.float32)
    with pytest.raises(ValueError, match="sums to"):
        check_joint(joint32)


def test_float64_keeps_the_fixed_tolerance() -> None:
    off = JOINT * (1 + 1e-8)
    with pytest.raises(ValueError, match="tolerance 1e-09"):
        check_joint(off)
    eps32 = float(np.finfo(np.float32).eps)
    assert normalisation_atol(float(np.finfo(np.float64).eps), 10**6) == NORMALISATION_ATOL
    assert normalisation_atol(eps32, 1024) == pytest.approx(12 * eps32)


@pytest.mark.parametrize("n_outputs", [-1, 0, 1.5, True, "2"])
def test_max_learning_rate_refuses_bad_n_outputs(n_outputs) -> None:
    with pytest.raises(ValueError, match="n_outputs must be an integer >= 1"):
        max_learning_rate(np.eye(3), n_outputs=n_outputs)


def test_max_learning_rate_scales_with_n_outputs() -> None:
    assert max_learning_rate(np.eye(3), n_outputs=2) == 2 * max_learning_rate(np.eye(3))


def test_text_input_is_a_type_error_naming_the_argument() -> None:
    # text is a wrong type (issue 21: TypeError), also when NumPy could parse it ("1.0")
    for text in ([["a", "b"]], "1.0"):
        with pytest.raises(TypeError, match="p_xy must be a real numeric array"):
            check_finite_array(text, "p_xy")


#: Two solves stopped at residual 1e-10 from joints that differ by the rounding of a normalisation
#: (1 ulp): their informations agree to ~1e-11 (measured 7e-12 relative).
SOLVE_RTOL = 1e-9


@pytest.mark.parametrize("scale", [1.7e307, 1e300, 1e-300])
def test_counts_whose_total_overflows_normalise_exactly(scale) -> None:
    # issue 21: normalize=True on counts summing beyond float64 (here 1.7e307 * 21.1) returned NaN
    counts = np.array([[10.0, 1.0], [0.1, 10.0]])
    expected = counts / counts.sum()
    with np.errstate(over="raise", invalid="raise"):
        got = check_joint(counts * scale, normalize=True)
    assert np.allclose(got, expected, rtol=1e-15, atol=0)
    sol = solve_ib(counts * scale, 2.0, normalize=True)
    assert np.isfinite(sol.i_xt) and sol.i_xt == pytest.approx(solve_ib(expected, 2.0).i_xt, rel=SOLVE_RTOL)


def test_a_row_below_float64_range_after_normalising_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="row 1 is below float64's range"):
        check_joint(np.array([[1e308, 1e308], [1e-320, 0.0]]), normalize=True)


@pytest.mark.parametrize("device", ["cuda", "cuda:1", "mps", "nonsense"])
def test_an_unavailable_or_unknown_torch_device_is_a_value_error(device) -> None:
    # issue 21: device="cuda" without CUDA raised torch's AssertionError at the first tensor
    available = {"cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    if available.get(device.split(":")[0], False):
        pytest.skip(f"{device} exists on this machine")
    with pytest.raises(ValueError, match="device="):
        ib_curve(JOINT, [1.0], backend="torch", device=device)
