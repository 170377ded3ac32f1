"""The committed IB/dualIB kernels against an independent 50-digit mpmath route, and each other.

Routes: (1) the generated NumPy kernel, (2) the generated Torch kernel, (3) the *unlowered*
index-level expressions the kernels are generated from, expanded entry by entry at fixed sizes and
evaluated with mpmath at 50 digits (confirmed at 100), sharing no code with the lowering, CSE,
printers or runtime. (1) == (3) within conditioning-derived tolerances, (1) == (2) to 1e-12,
batched == looped, gradients pass gradcheck, float32 within stated tolerances.
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ibtheory._generated import ib_numpy, ib_torch
from ibtheory.kernels._ib import (
    LABEL_FLOOR,
    _compose,
    _expected_distortion_functional,
    _step_outputs,
)
from ibtheory.symbolic import symbols as s
from ibtheory.testing import MpmathEvaluator, as_float_array, conditionals, log_uniform, simplices

N_X, N_Y, N_T = 3, 2, 3
SIZES = {s.n_x: N_X, s.n_y: N_Y, s.n_t: N_T}
EPS = np.finfo(np.float64).eps
#: Reference precision and its confirmation: the two must agree far below float64 resolution.
DPS, DPS_CHECK, REFERENCE_AGREEMENT = 50, 100, 1e-30
#: numpy vs torch: identical operation order up to library kernels (sum order, xlogy) -> ~1e-12.
BACKEND_RTOL = 1e-12
#: Operation count of a step kernel (tens of roundings, each amplified at most by beta * |log p|).
STEP_ROUNDING_FACTOR = 64.0


@functools.cache
def _results(method: str) -> dict:
    from ibtheory.symbolic import dual_ib_derivation, ib_derivation

    return dict((ib_derivation() if method == "ib" else dual_ib_derivation()).results)


@functools.cache
def _step_reference(method: str) -> dict[str, MpmathEvaluator]:
    outs = _step_outputs(_results(method))
    free = {"p_t": (s.t,), "p_y_given_t": (s.y, s.t), "log_p_t_given_x": (s.x, s.t)}
    return {k: MpmathEvaluator(e, SIZES, free[k]) for k, e in outs.items()}


@functools.cache
def _functional_reference(name: str) -> MpmathEvaluator:
    ib, dual = _results("ib"), _results("dualib")
    expr = {
        "i_xt": _compose(ib["i_xt"], ib),
        "i_ty": _compose(ib["i_ty"], ib),
        "ib_objective": _compose(ib["objective"], ib),
        "dual_objective": _compose(_expected_distortion_functional(dual), dual),
        "dual_objective_from_derivation": _compose(dual["objective"], dual),
    }[name]
    return MpmathEvaluator(expr, SIZES)


def _reference(evaluator: MpmathEvaluator, values: dict) -> np.ndarray:
    hi = evaluator(values, DPS)
    check = evaluator(values, DPS_CHECK)
    with mpmath.workdps(DPS_CHECK):
        gap = max((abs(a - b) for a, b in zip(hi.ravel(), check.ravel(), strict=True)), default=0)
        assert gap < REFERENCE_AGREEMENT or all(mpmath.isinf(v) for v in hi.ravel()), "mpmath reference not converged"
    return as_float_array(hi)


problems = st.tuples(simplices(N_X, min_mass=1e-3), conditionals(N_X, N_Y, zeros=True), conditionals(N_X, N_T))
betas = log_uniform(1e-3, 1e4)


def _values(problem, beta):
    p_x, p_y_given_x, p_t_given_x = problem
    with np.errstate(divide="ignore"):
        log_q = np.log(p_t_given_x)
    log_q = np.where(np.isfinite(log_q), log_q, -1e3)  # logits up to 1e3 apart instead of -inf
    return {"p_x": p_x, "p_y_given_x": p_y_given_x, "log_p_t_given_x": log_q, "beta": beta, "p_t_given_x": np.exp(log_q)}


def _step_tolerance(v: dict, ref: np.ndarray, method: str = "ib") -> np.ndarray:
    """atol = c eps (1 + |ref| + beta log(1/min p)) (codegen-notes 4): log-domain outputs amplify
    relative rounding of the distortion by beta. The dualIB floors zero labels at LABEL_FLOOR, so
    its distortions reach log(1/LABEL_FLOOR) ~ 690 nats."""
    positive = v["p_y_given_x"][v["p_y_given_x"] > 0]
    smallest = positive.min()
    if method == "dualib" and (v["p_y_given_x"] == 0).any():
        smallest = float(LABEL_FLOOR)
    spread = v["beta"] * np.log(1 / smallest) + np.abs(v["log_p_t_given_x"]).max()
    return STEP_ROUNDING_FACTOR * EPS * (1 + np.abs(ref) + spread)


@pytest.mark.parametrize("method", ["ib", "dualib"])
@settings(max_examples=15)
@given(problem=problems, beta=betas)
def test_step_kernel_matches_50_digit_mpmath(method, problem, beta):
    v = _values(problem, beta)
    kernel = ib_numpy.ib_step if method == "ib" else ib_numpy.dual_ib_step
    got = dict(zip(["p_t", "p_y_given_t", "log_p_t_given_x"], kernel(v["log_p_t_given_x"], v["p_x"], v["p_y_given_x"], beta), strict=True))
    for name, evaluator in _step_reference(method).items():
        ref = _reference(evaluator, v)
        finite = np.isfinite(ref)
        assert np.array_equal(np.isfinite(got[name]), finite), f"{name}: infinities differ"
        tol = _step_tolerance(v, ref, method)
        assert np.all(np.abs(got[name][finite] - ref[finite]) <= tol[finite]), f"{name}: {np.max(np.abs(got[name] - ref))}"


@pytest.mark.parametrize("name", ["i_xt", "i_ty", "ib_objective", "dual_objective"])
@settings(max_examples=10)
@given(problem=problems, beta=betas)
def test_functional_kernels_match_50_digit_mpmath(name, problem, beta):
    v = _values(problem, beta)
    args = (v["p_x"], v["p_y_given_x"], v["p_t_given_x"])
    got = {
        "i_xt": lambda: ib_numpy.ib_information(*args)[0],
        "i_ty": lambda: ib_numpy.ib_information(*args)[1],
        "ib_objective": lambda: ib_numpy.ib_lagrangian(*args, beta),
        "dual_objective": lambda: ib_numpy.dual_ib_functional(*args, beta),
    }[name]()
    ref = float(_reference(_functional_reference(name), v))
    assert abs(float(got) - ref) <= STEP_ROUNDING_FACTOR * EPS * (1 + abs(ref) + beta * 10)


@pytest.mark.parametrize("method", ["ib", "dualib"])
@settings(max_examples=10)
@given(problem=problems, beta=betas)
def test_point_kernel_matches_50_digit_mpmath(method, problem, beta):
    """ib_point / dual_ib_point against the references of the step (p(t), decoder) and of the
    functionals (I(X;T), Markov I(T;Y), and the objective as i_xt + beta * slope)."""
    v = _values(problem, beta)
    kernel = ib_numpy.ib_point if method == "ib" else ib_numpy.dual_ib_point
    p_t, p_y_given_t, i_xt, i_ty, slope = kernel(v["p_x"], v["p_y_given_x"], v["p_t_given_x"])
    step_ref = _step_reference(method)
    for got, name in ((p_t, "p_t"), (p_y_given_t, "p_y_given_t")):
        ref = _reference(step_ref[name], v)
        assert np.all(np.abs(got - ref) <= _step_tolerance(v, ref, method)), f"{name}: {np.max(np.abs(got - ref))}"
    objective = "ib_objective" if method == "ib" else "dual_objective"
    for got, name in ((i_xt, "i_xt"), (i_ty, "i_ty"), (i_xt + beta * slope, objective)):
        ref = float(_reference(_functional_reference(name), v))
        assert abs(float(got) - ref) <= STEP_ROUNDING_FACTOR * EPS * (1 + abs(ref) + beta * 10), name


@settings(max_examples=5)
@given(problem=st.tuples(simplices(N_X, min_mass=1e-3), conditionals(N_X, N_Y), conditionals(N_X, N_T)), beta=log_uniform(0.1, 50))
def test_dual_functional_kernel_equals_the_derivations_objective(problem, beta):
    """The kernel composes I(X;T) + beta E[d] from the derivation; the derivation's own objective agrees."""
    v = _values(problem, beta)
    a = float(_reference(_functional_reference("dual_objective"), v))
    b = float(_reference(_functional_reference("dual_objective_from_derivation"), v))
    assert abs(a - b) <= 1e-25 * (1 + abs(a))


def _random_problem(rng: np.random.Generator, n_x: int, n_y: int, n_t: int, batch: tuple[int, ...] = ()):
    p = rng.dirichlet(np.ones(n_x * n_y)).reshape(n_x, n_y)
    p_x = p.sum(1)
    log_q = np.log(rng.dirichlet(np.ones(n_t), size=(*batch, n_x)))
    return log_q, p_x, p / p_x[:, None]


@pytest.mark.parametrize("name", ["ib_step", "dual_ib_step", "ib_point", "dual_ib_point"])
def test_numpy_and_torch_kernels_agree_to_1e_12(name):
    rng = np.random.default_rng(0)
    log_q, p_x, p_y_given_x = _random_problem(rng, 7, 4, 5, batch=(6,))
    beta_batch = np.logspace(-3, 4, 6)
    args = (log_q, p_x, p_y_given_x, beta_batch) if name.endswith("step") else (p_x, p_y_given_x, np.exp(log_q))
    a = getattr(ib_numpy, name)(*args)
    b = getattr(ib_torch, name)(*(torch.tensor(v) for v in args))
    for x_np, x_t in zip(a, b, strict=True):
        np.testing.assert_allclose(x_t.numpy(), x_np, rtol=BACKEND_RTOL, atol=BACKEND_RTOL)


@pytest.mark.parametrize("name", ["ib_step", "dual_ib_step"])
def test_batched_equals_looped(name):
    rng = np.random.default_rng(1)
    log_q, p_x, p_y_given_x = _random_problem(rng, 6, 3, 4, batch=(5,))
    beta_batch = np.linspace(0.5, 30, 5)
    batched = getattr(ib_numpy, name)(log_q, p_x, p_y_given_x, beta_batch)
    for i in range(5):
        single = getattr(ib_numpy, name)(log_q[i], p_x, p_y_given_x, beta_batch[i])
        for x_b, x_s in zip(batched, single, strict=True):
            np.testing.assert_allclose(x_b[i], x_s, rtol=1e-13, atol=1e-13)


def test_step_outputs_are_normalised_and_finite_at_extreme_inputs():
    rng = np.random.default_rng(2)
    log_q, p_x, p_y_given_x = _random_problem(rng, 8, 4, 8)
    p_y_given_x[0] = [1.0, 0.0, 0.0, 0.0]  # exact zeros
    log_q[:, 0] -= 1e3  # logits 1e3 apart
    for beta in (1e-3, 1.0, 1e4):
        for kernel in (ib_numpy.ib_step, ib_numpy.dual_ib_step):
            p_t, p_y_given_t, new = kernel(log_q, p_x, p_y_given_x, beta)
            assert np.all(np.isfinite(p_t)) and np.all(np.isfinite(p_y_given_t))
            assert not np.any(np.isnan(new))
            np.testing.assert_allclose(np.exp(new).sum(-1), 1.0, rtol=1e-12)


def test_lagrangian_gradient_passes_gradcheck():
    rng = np.random.default_rng(3)
    _, p_x, p_y_given_x = _random_problem(rng, 4, 3, 3)
    q = torch.tensor(rng.dirichlet(np.ones(3), size=4), requires_grad=True)
    px, pyx = torch.tensor(p_x), torch.tensor(p_y_given_x)
    assert torch.autograd.gradcheck(lambda enc: ib_torch.ib_lagrangian(px, pyx, enc, 2.5), (q,))
    assert torch.autograd.gradcheck(lambda enc: ib_torch.dual_ib_functional(px, pyx, enc, 2.5), (q,))


def test_float32_torch_step_within_stated_tolerance():
    """float32 log-sum-exp chains: ~1e-5 relative on probabilities, ~1e-4 * (1 + beta) on logs."""
    rng = np.random.default_rng(4)
    log_q, p_x, p_y_given_x = _random_problem(rng, 16, 4, 8)
    beta = 5.0
    ref = ib_numpy.ib_step(log_q, p_x, p_y_given_x, beta)
    got = ib_torch.ib_step(*(torch.tensor(v, dtype=torch.float32) for v in (log_q, p_x, p_y_given_x)), beta)
    assert all(g.dtype == torch.float32 for g in got)
    np.testing.assert_allclose(got[0].numpy(), ref[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1].numpy(), ref[1], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got[2].numpy(), ref[2], rtol=1e-4, atol=1e-4 * (1 + beta))


def test_committed_kernels_are_fresh():
    """`ibtheory codegen --check` passes: the committed modules equal what the kernel specs generate."""
    from ibtheory.cli import main

    assert main(["codegen", "--check"]) == 0
