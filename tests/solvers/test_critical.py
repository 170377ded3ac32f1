"""Critical betas of the IB and dualIB (theory.md 1.5, 1.7 oracle 2, 3.4, 3.7 oracle 4)."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ibtheory
from ibtheory.models import binary_symmetric_channel, genib_toy, random_joint
from ibtheory.solvers import ib_curve, solve_dual_ib, solve_ib, trivial_critical_betas
from ibtheory.solvers._critical import split_jacobian, split_modes, split_unstable

#: Table values of theory.md 3.4 are printed with 6 decimals (4 for the 5x3 rows): half a unit of
#: the last printed digit.
TABLE_ATOL_6 = 5e-7
TABLE_ATOL_4 = 5e-4
#: The split Jacobian (closed form) vs the SVD / covariance formulas: both float64, O(n^3) round-off.
FORMULA_RTOL = 1e-9
#: The closed-form split Jacobian vs autograd of the generated torch step: both float64 with O(1)
#: entries, the autograd route through a few logs and logsumexps (round-off ~1e-14).
JACOBIAN_ATOL = 1e-10
#: Perturbation of the trivial encoder in the stability test (theory.md 1.7 oracle 2).
PERTURBATION = 1e-3
#: "I(X;T) ~ 0" below the critical beta (theory.md 1.7 oracle 2 asks < 1e-12).
TRIVIAL_ATOL = 1e-12

TABLE = [  # (problem, beta_1^IB, beta_1^dual, atol) from theory.md 3.4
    (genib_toy(), 4.365469, 3.251676, TABLE_ATOL_6),
    (random_joint(6, 3, concentration=0.7, seed=1), 1.587958, 1.225477, TABLE_ATOL_6),
    *[(random_joint(5, 3, concentration=0.8, seed=s), ib, du, TABLE_ATOL_4)
      for s, ib, du in zip(range(5), (2.266, 1.662, 3.196, 2.243, 6.268), (0.9372, 0.928, 2.87, 0.4096, 5.272), strict=True)],
]


@pytest.mark.parametrize(("p_xy", "beta_ib", "beta_dual", "atol"), TABLE)
def test_first_critical_betas_match_the_table_of_theory_3_4(p_xy, beta_ib, beta_dual, atol):
    assert ibtheory.critical_betas(p_xy, method="ib")[0] == pytest.approx(beta_ib, abs=atol)
    assert ibtheory.critical_betas(p_xy, method="dualib")[0] == pytest.approx(beta_dual, abs=atol)


def _rho_squared(p_xy):
    p_x, p_y = p_xy.sum(1), p_xy.sum(0)
    s = np.linalg.svd(p_xy / np.sqrt(np.outer(p_x, p_y)), compute_uv=False)
    return s[1:] ** 2


def _dual_k(p_xy):
    """P K_dual P of theory.md 3.4, written from the formula (independent of the autograd route)."""
    p_x = p_xy.sum(1)
    log_pyx = np.log(p_xy / p_x[:, None])
    g = p_x @ log_pyx
    pbar = np.exp(g - g.max())
    pbar /= pbar.sum()
    centred = log_pyx - (log_pyx @ pbar)[:, None]
    cov = (centred * pbar) @ centred.T
    k = cov * p_x[None, :]
    proj = np.eye(p_x.size) - np.outer(np.ones(p_x.size), p_x)
    return proj @ k @ proj


@pytest.mark.parametrize("seed", range(4))
def test_ib_trivial_critical_betas_are_inverse_squared_singular_values(seed):
    p_xy = random_joint(6, 4, concentration=0.9, seed=seed)
    expected = np.sort(1 / _rho_squared(p_xy))
    np.testing.assert_allclose(trivial_critical_betas(p_xy, "ib"), expected[np.isfinite(expected)], rtol=FORMULA_RTOL)


@pytest.mark.parametrize("seed", range(4))
def test_dual_first_critical_beta_is_the_covariance_formula(seed):
    p_xy = random_joint(6, 4, concentration=0.9, seed=seed)
    lam = np.max(np.linalg.eigvals(_dual_k(p_xy)).real)
    assert trivial_critical_betas(p_xy, "dualib")[0] == pytest.approx(1 / lam, rel=FORMULA_RTOL)


def test_binary_symmetric_channel_critical_beta_closed_form():
    flip = 0.2
    assert ibtheory.critical_betas(binary_symmetric_channel(flip))[0] == pytest.approx(1 / (1 - 2 * flip) ** 2, rel=FORMULA_RTOL)


@pytest.mark.parametrize("method", ["ib", "dualib"])
@pytest.mark.parametrize("problem", [genib_toy(), random_joint(6, 3, concentration=0.7, seed=1)], ids=["toy", "6x3"])
def test_perturbed_trivial_start_stays_below_and_leaves_above_the_critical_beta(method, problem):
    beta_c = ibtheory.critical_betas(problem, method=method)[0]
    n_x = problem.shape[0]
    r = np.random.default_rng(0).uniform(-1, 1, size=n_x)
    init = np.stack([0.5 * (1 + PERTURBATION * r), 0.5 * (1 - PERTURBATION * r)], axis=1)
    solve = solve_ib if method == "ib" else solve_dual_ib
    below = solve(problem, 0.97 * beta_c, init=init, tol=1e-14, max_iter=200_000)
    above = solve(problem, 1.03 * beta_c, init=init, tol=1e-12, max_iter=200_000)
    assert below.i_xt < TRIVIAL_ATOL
    assert above.i_xt > 1e-4


def test_later_critical_betas_ascend_and_the_first_is_the_trivial_one():
    p_xy = random_joint(6, 3, concentration=0.7, seed=1)
    crit = ibtheory.critical_betas(p_xy, n_critical=3, n_grid=30)
    assert crit[0] == pytest.approx(1.587958, abs=TABLE_ATOL_6)
    assert crit.size >= 2 and np.all(np.diff(crit) > 0)


def test_global_transitions_are_reported_and_dual_first_order_one_precedes_the_local_point():
    """The optimal dualIB becomes non-trivial below its local critical beta (first-order); the IB's
    global threshold 1/s* lies in (1, 1/rho_m^2] (theory.md 1.6)."""
    p_xy = random_joint(6, 3, concentration=0.7, seed=1)
    betas = np.geomspace(0.5, 3.0, 24)
    dual = ib_curve(p_xy, betas, method="dualib")
    local = ibtheory.critical_betas(p_xy, method="dualib")[0]
    assert dual.transition_clusters[0, 0] == 1 and dual.transitions[0] < 0.9 * local
    ib = ib_curve(p_xy, betas, method="ib")
    assert 1.0 < ib.transitions[0] <= ibtheory.critical_betas(p_xy)[0] * (1 + ib.transition_rtol)
    # both sides of a located transition: the optimum is trivial just below and informative just above
    for curve in (ib, dual):
        b = float(curve.transitions[0])
        lo = ib_curve(p_xy, [b * (1 - 5 * curve.transition_rtol)], method=curve.method, locate_transitions=False)
        hi = ib_curve(p_xy, [b * (1 + 5 * curve.transition_rtol)], method=curve.method, locate_transitions=False)
        assert lo.n_clusters[0] == 1 and hi.n_clusters[0] >= 2


def test_bad_method_and_counts_raise():
    with pytest.raises(ValueError, match="method"):
        ibtheory.critical_betas(genib_toy(), method="vib")
    with pytest.raises(ValueError, match="n_critical"):
        ibtheory.critical_betas(genib_toy(), n_critical=0)
    assert math.isfinite(ibtheory.critical_betas(genib_toy())[0])


def _autograd_split_jacobian(method, p_x, p_y_given_x, p_t_given_x, t, beta):
    """The split map's Jacobian by torch autograd of the generated ``ib_step`` / ``dual_ib_step``:
    a route independent of the chain-rule formula in ibtheory.solvers._critical."""
    torch = pytest.importorskip("torch")
    from ibtheory._generated import ib_torch

    step = ib_torch.ib_step if method == "ib" else ib_torch.dual_ib_step
    members = np.flatnonzero(p_t_given_x[:, t] > 1e-12)
    log_all = torch.log(torch.as_tensor(p_t_given_x, dtype=torch.float64))
    px = torch.as_tensor(p_x, dtype=torch.float64)
    pyx = torch.as_tensor(p_y_given_x, dtype=torch.float64)
    rest = [k for k in range(p_t_given_x.shape[1]) if k != t]
    idx = torch.as_tensor(members)

    def split_map(s):
        la, lb = log_all[:, t].clone(), log_all[:, t].clone()
        la[idx] = la[idx] + torch.nn.functional.logsigmoid(s)
        lb[idx] = lb[idx] + torch.nn.functional.logsigmoid(-s)
        log_q = torch.cat([la[:, None], lb[:, None], log_all[:, rest]], dim=1)
        new = step(log_q, px, pyx, torch.tensor(beta, dtype=torch.float64)).log_p_t_given_x
        return (new[:, 0] - new[:, 1])[idx]

    return torch.autograd.functional.jacobian(split_map, torch.zeros(members.size, dtype=torch.float64)).numpy()


@pytest.mark.parametrize("method", ["ib", "dualib"])
@pytest.mark.parametrize("seed", range(3))
def test_split_jacobian_equals_autograd_of_the_generated_step(method, seed):
    """At random encoders (three clusters, one with a dead member) and betas, not only fixed points."""
    rng = np.random.default_rng(seed)
    p_xy = random_joint(7, 4, concentration=0.6, seed=seed)
    p_x = p_xy.sum(1)
    p_y_given_x = p_xy / p_x[:, None]
    q = rng.dirichlet(np.ones(3), size=7)
    q[0] = [1.0, 0.0, 0.0]  # x = 0 is no member of clusters 1 and 2
    beta = float(rng.uniform(0.5, 8.0))
    for t in range(3):
        jac, w = split_jacobian(method, p_x, p_y_given_x, q, t, beta)
        expected = _autograd_split_jacobian(method, p_x, p_y_given_x, q, t, beta)
        np.testing.assert_allclose(jac, expected, rtol=0, atol=JACOBIAN_ATOL)
        assert w.sum() == pytest.approx(1.0)


def test_critical_betas_run_without_torch_and_asking_for_torch_names_the_extra():
    """NumPy only: torch hidden from the interpreter (sys.modules['torch'] = None makes import fail)."""
    code = textwrap.dedent("""
        import sys
        sys.modules["torch"] = None
        import ibtheory
        from ibtheory.models import random_joint
        crit = ibtheory.critical_betas(random_joint(6, 3, concentration=0.7, seed=1), n_critical=2, n_grid=20)
        dual = ibtheory.critical_betas(random_joint(6, 3, concentration=0.7, seed=1), method="dualib")
        print(repr(float(crit[0])), repr(float(dual[0])), crit.size)
        try:
            ibtheory.solve_ib(random_joint(4, 2, seed=0), 2.0, backend="torch")
        except ModuleNotFoundError as exc:
            print(exc)
    """)
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    numbers, missing_torch = out.stdout.splitlines()
    beta_ib, beta_dual, n_found = numbers.split()
    assert 'pip install "ibtheory[torch]"' in missing_torch
    assert float(beta_ib) == pytest.approx(1.587958, abs=TABLE_ATOL_6)
    assert float(beta_dual) == pytest.approx(1.225477, abs=TABLE_ATOL_6)
    assert int(n_found) == 2


#: split_modes (n_y x n_y per cluster) vs the members x members split Jacobian: both float64;
#: split_jacobian leaves out members with p(t|x) <= MEMBER_TOL (1e-12), which moves lambda by ~1e-12.
SPLIT_MODES_ATOL = 1e-9


@pytest.mark.parametrize("method", ["ib", "dualib"])
@pytest.mark.parametrize("seed", range(3))
def test_split_modes_equal_the_eigenvalues_and_vectors_of_the_split_jacobian(method, seed):
    """At random soft encoders, not only fixed points: the largest projected eigenvalue of each
    cluster's split Jacobian, and its eigenvector, from the n_y x n_y route."""
    rng = np.random.default_rng(seed)
    p_xy = random_joint(9, 4, concentration=0.6, seed=seed)
    p_x = p_xy.sum(1)
    p_y_given_x = p_xy / p_x[:, None]
    q = rng.dirichlet(np.ones(3), size=9)
    beta = float(rng.uniform(0.5, 8.0))
    eig, direction = split_modes(method, p_x, p_y_given_x, q, beta)
    for t in range(3):
        jac, w = split_jacobian(method, p_x, p_y_given_x, q, t, beta)
        proj = np.eye(w.size) - np.outer(np.ones(w.size), w)
        vals = np.linalg.eigvals(proj @ jac @ proj)
        top = int(np.argmax(np.abs(vals)))
        assert eig[t] == pytest.approx(abs(vals[top]), abs=SPLIT_MODES_ATOL)
        # the same direction up to scale: (P J P) s = lambda s for the returned s
        s = direction[:, t]
        np.testing.assert_allclose(proj @ jac @ proj @ s, eig[t] * s, rtol=0, atol=SPLIT_MODES_ATOL * np.abs(s).max())


def test_split_unstable_splits_only_unstable_clusters_and_the_trivial_one_at_its_critical_beta():
    """Below 1/rho_m^2 the trivial encoder stays whole; just above it, it splits in two, along a
    direction that lowers the objective once the alternation has run (theory.md 1.5)."""
    p_xy = random_joint(6, 3, concentration=0.7, seed=1)
    p_x, p_y_given_x = p_xy.sum(1), p_xy / p_xy.sum(1)[:, None]
    beta_c = float(trivial_critical_betas(p_xy)[0])
    trivial = np.ones((6, 1))
    assert split_unstable("ib", p_x, p_y_given_x, trivial, 0.99 * beta_c, 6).shape == (6, 1)
    split = split_unstable("ib", p_x, p_y_given_x, trivial, 1.2 * beta_c, 6)
    assert split.shape == (6, 2)
    np.testing.assert_allclose(split.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert split_unstable("ib", p_x, p_y_given_x, trivial, 1.2 * beta_c, 1).shape == (6, 1)  # no capacity left
    solved = solve_ib(p_xy, 1.2 * beta_c, init=split, tol=1e-12)
    assert solved.i_xt > 1e-6  # it left the trivial solution
