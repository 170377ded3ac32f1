"""Discrete IB and dualIB on discretised 1-D Gaussians approach the Gaussian closed forms.

X is a grid on [-6, 6] with p(x) proportional to the N(0, 1) density, and p(y|x) on a y-grid is
proportional to the N(rho x, 1 - rho^2) density. The discrete problems are solved by a literal
Blahut-Arimoto-style alternation written here (theory.md 1.3 for the IB; 3.2 for the dualIB:
reverse-KL distortion and normalised geometric-mean decoder), deliberately independent of the
library, so that the comparison does not rest on the solver under test. The same comparison
against the library's ``ibtheory.ib_curve`` (issue 4) is the slow test at the end.
I(T;Y) is computed with the Markov decoder for both methods (theory.md 3.2).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from ibtheory import gaussian_dual_ib, gaussian_ib, ib_curve
from ibtheory._generated import gaussian_numpy as kn
from ibtheory.models import discretised_gaussian_pair

RHO = 0.8
N_CLUSTERS = 30
N_ITER = 3000


def discretised_gaussian(n: int, rho: float = RHO) -> tuple[np.ndarray, np.ndarray]:
    """p(x) and log p(y|x) of the library's discretised Gaussian pair (tested in tests/models)."""
    joint = discretised_gaussian_pair(n, rho)
    p_x = joint.sum(axis=1)
    return p_x, np.log(joint) - np.log(p_x)[:, None]


def _mutual_information(joint: np.ndarray) -> float:
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    mask = joint > 0
    return float(np.sum(joint[mask] * np.log(joint[mask] / (pa * pb)[mask])))


def discrete_solve(p_x, log_pyx, beta, *, dual, seed=0, n_iter=N_ITER, tol=1e-10):
    """Literal alternation from a random soft encoder; returns (I(X;T), I(T;Y), I(X;Y)) in nats."""
    rng = np.random.default_rng(seed)
    p_yx = np.exp(log_pyx)
    log_q = np.log(rng.dirichlet(np.ones(N_CLUSTERS), size=len(p_x)))
    for _ in range(n_iter):
        q = np.exp(log_q)
        p_t = p_x @ q
        p_x_given_t = p_x[:, None] * q / np.maximum(p_t, 1e-300)
        if dual:  # geometric-mean decoder and d = KL[p(y|t) || p(y|x)]
            log_pyt = p_x_given_t.T @ log_pyx
            log_pyt -= logsumexp(log_pyt, axis=1, keepdims=True)
            p_yt = np.exp(log_pyt)
            dist = np.sum(p_yt * log_pyt, axis=1)[None, :] - log_pyx @ p_yt.T
        else:  # arithmetic-mean decoder and d = KL[p(y|x) || p(y|t)]
            log_pyt = np.log(np.maximum(p_x_given_t.T @ p_yx, 1e-300))
            dist = np.sum(p_yx * log_pyx, axis=1)[:, None] - p_yx @ log_pyt.T
        new = np.log(np.maximum(p_t, 1e-300))[None, :] - beta * dist
        new -= logsumexp(new, axis=1, keepdims=True)
        delta = np.max(np.abs(np.exp(new) - q))
        log_q = new
        if delta < tol:
            break
    q = np.exp(log_q)
    joint_xt = p_x[:, None] * q
    joint_ty = q.T @ (p_x[:, None] * p_yx)  # Markov: sum_x p(x) p(t|x) p(y|x)
    return _mutual_information(joint_xt), _mutual_information(joint_ty), _mutual_information(p_x[:, None] * p_yx)


def _closed(solver, beta):
    r = solver([[1.0]], [[RHO]], [[1.0]], [beta])
    return float(r.i_xt[0]), float(r.i_ty[0]), float(r.i_xy)


def test_discrete_ib_approaches_the_gaussian_ib_as_the_grid_refines():
    beta = 3.0
    gx, gy, gxy = _closed(gaussian_ib, beta)
    errors = []
    for n in (8, 16, 32):
        ix, iy, ixy = discrete_solve(*discretised_gaussian(n), beta, dual=False)
        errors.append(abs(ix - gx) + abs(iy - gy))
    # discretisation error falls by orders of magnitude (0.6 -> 5e-3 -> 1e-4 measured)
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-3
    assert ixy == pytest.approx(gxy, abs=1e-6)
    # the discrete point lies on the closed-form curve (one active direction, lambda = 1 - rho^2)
    lam = 1 - RHO**2
    assert float(kn.gaussian_information_curve(ix, 1, lam, 1 - lam)) == pytest.approx(iy, abs=5e-5)


def test_discrete_dual_ib_matches_the_gaussian_dual_closed_form_not_the_gib_at_the_same_beta():
    beta = 2.0
    ix, iy, _ = discrete_solve(*discretised_gaussian(32), beta, dual=True)
    dx, dy, _ = _closed(gaussian_dual_ib, beta)
    gx, _, _ = _closed(gaussian_ib, beta)
    assert ix == pytest.approx(dx, abs=5e-4) and iy == pytest.approx(dy, abs=5e-4)
    assert abs(ix - gx) > 0.1  # the GIB at the same beta is far away (0.29 vs 0.63 nats)


def test_discrete_dual_ib_becomes_informative_at_the_derived_critical_beta():
    lam = 1 - RHO**2
    beta_c = lam / (1 - lam)  # 0.5625, while the GIB's is 1/(1 - lam) = 1.5625
    problem = discretised_gaussian(32)
    below, _, _ = discrete_solve(*problem, 0.9 * beta_c, dual=True)
    above, above_y, _ = discrete_solve(*problem, 1.15 * beta_c, dual=True)
    dx, dy, _ = _closed(gaussian_dual_ib, 1.15 * beta_c)
    assert below < 1e-8
    assert above == pytest.approx(dx, abs=1e-4) and above_y == pytest.approx(dy, abs=1e-4)


# ----------------------------------------------------------------------------- the library solver
#: The literal alternation above reaches <= 5e-4 nats (IB) and <= 1.5e-4 (dualIB) in
#: |dI(T;X)| + |dI(T;Y)| at n = 32 for beta in [1.3, 4] beta_c (measured); a correct library
#: solver must do as well up to a factor 4 (its own stopping rule, cluster count). Measured for
#: ``ibtheory.ib_curve`` (defaults, 2026-12-01): 2.7e-5 (IB), 7.7e-8 (dualIB); n = 8 is off by
#: 0.5-1 nats, so the bound separates a refined grid from a coarse one.
LIBRARY_ATOL_32 = 2e-3


@pytest.mark.slow  # ~70 s per method on one loaded core (n = 32 dominates)
@pytest.mark.parametrize(("method", "solver"), [("ib", gaussian_ib), ("dualib", gaussian_dual_ib)], ids=["ib", "dualib"])
def test_library_ib_curve_on_discretised_gaussian_approaches_the_closed_form(method, solver):
    """``ibtheory.ib_curve(p_xy, betas, method=...)`` (defaults) on finer grids -> the closed form."""
    lam = 1 - RHO**2
    beta_c = 1 / RHO**2 if method == "ib" else lam / RHO**2
    betas = beta_c * np.geomspace(0.5, 4.0, 9)
    compare = betas >= 1.3 * beta_c
    closed = solver([[1.0]], [[RHO]], [[1.0]], betas)
    totals = []
    for n in (8, 16, 32):
        p_x, log_pyx = discretised_gaussian(n)
        p_xy = p_x[:, None] * np.exp(log_pyx)
        curve = ib_curve(p_xy / p_xy.sum(), betas, method=method)
        i_xt, i_ty = np.asarray(curve.i_xt, dtype=float), np.asarray(curve.i_ty, dtype=float)
        err = np.abs(i_xt - closed.i_xt) + np.abs(i_ty - closed.i_ty)
        totals.append(float(err[compare].sum()))
        if n == 32:
            assert np.max(err[compare]) < LIBRARY_ATOL_32, (method, np.max(err[compare]))
            if method == "ib":  # trivial below the critical beta (Gaussian hypercontractivity = rho^2)
                assert np.all(i_xt[betas <= 0.9 * beta_c] < 1e-6)
    assert totals[0] > totals[2]
