"""The generated exponential-family dualIB step against literal oracles.

Routes: (1) the generated NumPy kernel ``expfam_numpy.dual_ib_expfam_step`` (composed from
``dual_ib_expfam_derivation`` by ``ibtheory.kernels``), (2) the generated Torch kernel, (3) the
hand-typed NumPy step the solver used before (kept here verbatim as a literal oracle), (4) the same
formulas as explicit loops in mpmath at 50 digits. (1) == (3) == (4) to round-off, (1) == (2).
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import torch
from scipy.special import logsumexp

from ibtheory._generated import expfam_numpy, expfam_torch
from ibtheory.models import exponential_family_data
from ibtheory.solvers import solve_dual_ib_expfam

#: a step is tens of float64 operations on O(1) quantities, amplified by beta * |distortion|
STEP_ATOL = 1e-12
#: numpy vs torch: the same operations up to library reduction order
BACKEND_ATOL = 1e-13
DPS = 50
#: 40 iterated steps: round-off differences between the two routes compound along the trajectory
TRAJECTORY_ATOL = 1e-10


def _oracle_step(log_q, p_x, stats, lambdas, log_z_x, beta):
    """The solver's hand-typed step before it called the generated kernel (literal oracle)."""
    q = np.exp(log_q)
    p_t = p_x @ q
    p_x_given_t = (p_x[:, None] * q) / np.maximum(p_t, 1e-300)
    stats_t = p_x_given_t.T @ stats                                   # A(t) = E_{p(x|t)} A(x)
    logits_t = -stats_t @ lambdas                                     # (n_t, n_y)
    log_z_t = logsumexp(logits_t, axis=1)
    log_p_y_given_t = logits_t - log_z_t[:, None]
    lambdabar = np.exp(log_p_y_given_t) @ lambdas.T                   # (n_t, d)
    dist = (stats @ lambdabar.T) - np.sum(lambdabar * stats_t, axis=1)[None, :] + log_z_x[:, None] - log_z_t[None, :]
    with np.errstate(divide="ignore"):
        logits = np.log(p_t)[None, :] - beta * dist
    return logits - logsumexp(logits, axis=1, keepdims=True), p_t, stats_t, log_p_y_given_t


def _mp_step(log_q, p_x, stats, lambdas, log_z_x, beta):
    """Theory.md 3.3 as explicit sums in mpmath (no floors: the inputs have no dead cluster)."""
    n_x, n_t = log_q.shape
    d, n_y = lambdas.shape
    mp = mpmath.mpf
    q = [[mpmath.exp(mp(log_q[i, k])) for k in range(n_t)] for i in range(n_x)]
    p_t = [mpmath.fsum(mp(p_x[i]) * q[i][k] for i in range(n_x)) for k in range(n_t)]
    a_t = [[mpmath.fsum(mp(p_x[i]) * q[i][k] / p_t[k] * mp(stats[i, r]) for i in range(n_x)) for r in range(d)] for k in range(n_t)]
    logits = [[-mpmath.fsum(a_t[k][r] * mp(lambdas[r, j]) for r in range(d)) for j in range(n_y)] for k in range(n_t)]
    log_z_t = [mpmath.log(mpmath.fsum(mpmath.exp(v) for v in logits[k])) for k in range(n_t)]
    log_dec = [[logits[k][j] - log_z_t[k] for j in range(n_y)] for k in range(n_t)]
    lbar = [[mpmath.fsum(mpmath.exp(log_dec[k][j]) * mp(lambdas[r, j]) for j in range(n_y)) for r in range(d)] for k in range(n_t)]
    new = np.empty((n_x, n_t), dtype=object)
    for i in range(n_x):
        row = [mpmath.log(p_t[k]) - mp(beta) * (mpmath.fsum(lbar[k][r] * (mp(stats[i, r]) - a_t[k][r]) for r in range(d))
                                                + mp(log_z_x[i]) - log_z_t[k]) for k in range(n_t)]
        norm = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in row))
        new[i] = [v - norm for v in row]
    return new, np.array(p_t, dtype=object), np.array(a_t, dtype=object), np.array(log_dec, dtype=object)


def _inputs(seed: int, n_x: int = 6, n_t: int = 3):
    prob = exponential_family_data(n_x, seed=seed)
    rng = np.random.default_rng(seed)
    log_q = np.log(rng.dirichlet(np.ones(n_t), size=n_x))
    log_z_x = logsumexp(-prob.stats @ prob.lambdas, axis=1)
    return log_q, prob.p_x, prob.stats, prob.lambdas, log_z_x


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("beta", [0.5, 3.0, 20.0])
def test_generated_step_equals_the_hand_typed_oracle_and_50_digit_sums(seed, beta):
    args = _inputs(seed)
    got = expfam_numpy.dual_ib_expfam_step(*args, beta)
    want = _oracle_step(*args, beta)
    np.testing.assert_allclose(got.log_p_t_given_x, want[0], atol=STEP_ATOL * beta, rtol=0)
    np.testing.assert_allclose(got.p_t, want[1], atol=STEP_ATOL, rtol=0)
    np.testing.assert_allclose(got.stats_t.T, want[2], atol=STEP_ATOL, rtol=0)
    np.testing.assert_allclose(got.log_p_y_given_t.T, want[3], atol=STEP_ATOL, rtol=0)
    with mpmath.workdps(DPS):
        ref = _mp_step(*args, beta)
    for name, out, r in zip(("log_p_t_given_x", "p_t", "stats_t", "log_p_y_given_t"),
                            (got.log_p_t_given_x, got.p_t, got.stats_t.T, got.log_p_y_given_t.T), ref, strict=True):
        np.testing.assert_allclose(out, r.astype(float), atol=STEP_ATOL * max(beta, 1.0), rtol=0, err_msg=name)


def test_numpy_and_torch_kernels_agree_and_batches_broadcast():
    args = _inputs(4)
    betas = np.array([0.5, 2.0, 8.0])
    batched = expfam_numpy.dual_ib_expfam_step(*args, betas)
    assert batched.log_p_t_given_x.shape == (3, *args[0].shape)
    for k, b in enumerate(betas):
        one = expfam_numpy.dual_ib_expfam_step(*args, b)
        np.testing.assert_array_equal(batched.log_p_t_given_x[k], one.log_p_t_given_x)
    tensors = [torch.tensor(a, dtype=torch.float64) for a in args]
    t_out = expfam_torch.dual_ib_expfam_step(*tensors, torch.tensor(betas)[:, None, None])
    assert type(t_out).__name__ == type(batched).__name__ == "DualIbExpfamStepResult"
    for a, b in zip(t_out, batched, strict=True):
        np.testing.assert_allclose(a.numpy().squeeze(), b.squeeze(), atol=BACKEND_ATOL, rtol=0)


def test_solver_trajectory_equals_iterating_the_literal_oracle():
    log_q, p_x, stats, lambdas, log_z_x = _inputs(5, n_x=10, n_t=4)
    beta = 4.0
    res = solve_dual_ib_expfam(p_x, stats, lambdas, beta, init=np.exp(log_q), max_iter=40, tol=1e-300, record=True)
    for k, enc in enumerate(res.trajectory):
        log_q, p_t, stats_t, log_pyt = _oracle_step(log_q, p_x, stats, lambdas, log_z_x, beta)
        np.testing.assert_allclose(enc, np.exp(log_q), atol=TRAJECTORY_ATOL, err_msg=f"step {k}")
    np.testing.assert_allclose(res.p_t, p_t, atol=TRAJECTORY_ATOL)
    np.testing.assert_allclose(res.stats_t, stats_t, atol=TRAJECTORY_ATOL)
    np.testing.assert_allclose(res.log_p_y_given_t, log_pyt, atol=TRAJECTORY_ATOL)
