"""Discrete IB / dualIB solvers: oracles of theory.md 1.7 and 3.7, properties, bad input (issue 4)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import ibtheory
from ibtheory._generated import ib_numpy
from ibtheory.models import exponential_family_data, genib_toy, random_joint
from ibtheory.solvers import ib_curve, solve_dual_ib, solve_dual_ib_expfam, solve_ib
from ibtheory.solvers._engine import compact
from ibtheory.solvers._expfam import expfam_conditional

#: Information identities hold to float64 round-off of sums of ~100 terms.
ROUNDOFF = 1e-10
#: theory.md 1.7 oracle 5 prints 5 significant digits: half a unit of the last one.
ORACLE_ATOL_5 = 5e-5
#: The optimum found by ib_curve may beat a multi-restart solve but never lose by more than the
#: stopping tolerance's effect on the objective (tol = 1e-10 on p(t|x); objectives O(1)).
OPTIMALITY_ATOL = 1e-7
#: Slope dI(T;Y)/dI(X;T) = 1/beta from central differences with relative beta step 1e-3:
#: the second-order error is ~ (1e-3)^2 relative; 1e-3 leaves room for the solver tolerance.
SLOPE_RTOL = 1e-3
#: compact()'s tolerances in its test: a merge threshold between the perturbations the test draws.
MASS_TOL_TEST, MERGE_TOL_TEST = 1e-8, 1e-5

P6X3 = random_joint(6, 3, concentration=0.7, seed=1)


def _mi(joint):
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    m = joint > 0
    return float(np.sum(joint[m] * np.log(joint[m] / (pa * pb)[m])))


def _entropy(p):
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)))


# ------------------------------------------------------------------------------- IB oracles (1.7)
def test_oracle_1_beta_at_most_one_gives_the_trivial_solution():
    curve = ib_curve(P6X3, [0.05, 0.3, 0.7, 1.0], locate_transitions=False)
    assert np.all(curve.i_xt < ROUNDOFF) and np.all(curve.n_clusters == 1)


@pytest.mark.parametrize("method", ["ib", "dualib"])
def test_oracle_3_independent_x_and_y_give_zero_information(method):
    p_xy = np.outer([0.2, 0.3, 0.5], [0.6, 0.4])
    curve = ib_curve(p_xy, [0.5, 5.0, 50.0, 1e4], method=method, locate_transitions=False)
    assert np.all(curve.i_xt < ROUNDOFF) and np.all(curve.i_ty < ROUNDOFF)


def test_oracle_4_identities_and_data_processing_along_the_curve():
    betas = np.geomspace(0.5, 60.0, 30)
    curve = ib_curve(P6X3, betas, locate_transitions=False)
    i_xy, h_x = _mi(P6X3), _entropy(P6X3.sum(1))
    np.testing.assert_allclose(curve.objective, curve.i_xt - betas * curve.i_ty, atol=ROUNDOFF * 100)
    assert np.all(curve.i_ty <= np.minimum(curve.i_xt, i_xy) + ROUNDOFF)
    assert np.all(curve.i_xt <= h_x + ROUNDOFF)
    assert np.all(curve.converged)


def test_oracle_4_slope_is_one_over_beta():
    for beta in (2.2, 4.0, 9.0):
        pts = ib_curve(P6X3, [beta * (1 - 1e-3), beta * (1 + 1e-3)], locate_transitions=False)
        slope = np.diff(pts.i_ty)[0] / np.diff(pts.i_xt)[0]
        assert slope == pytest.approx(1 / beta, rel=SLOPE_RTOL)


def test_oracle_5_large_beta_limit_and_6_concave_monotone_curve():
    big = ib_curve(P6X3, [200.0], locate_transitions=False)
    # theory.md: a BA run gave 0.43556 (I(X;Y) = 0.43617) and I(X;T) = 1.5496 <= H(X) = 1.6598; the
    # optimum is at least as informative and I(T;Y) -> I(X;Y) as beta -> infinity.
    assert 0.43556 - ORACLE_ATOL_5 <= big.i_ty[0] <= _mi(P6X3) + ROUNDOFF
    assert _mi(P6X3) == pytest.approx(0.43617, abs=ORACLE_ATOL_5)
    assert big.i_xt[0] <= _entropy(P6X3.sum(1)) + ROUNDOFF
    assert _entropy(P6X3.sum(1)) == pytest.approx(1.6598, abs=ORACLE_ATOL_5)
    curve = ib_curve(P6X3, np.geomspace(1.2, 100.0, 40), locate_transitions=False)
    assert np.all(np.diff(curve.i_xt) >= -ROUNDOFF) and np.all(np.diff(curve.i_ty) >= -ROUNDOFF)
    # concavity: the slope between consecutive points never increases
    keep = np.concatenate([[True], np.diff(curve.i_xt) > 1e-6])
    x, y = curve.i_xt[keep], curve.i_ty[keep]
    slopes = np.diff(y) / np.diff(x)
    assert np.all(np.diff(slopes) <= 1e-6)


@pytest.mark.parametrize("method", ["ib", "dualib"])
def test_huge_beta_and_zero_cells_are_finite_and_reach_full_information(method):
    p_xy = np.array([[0.2, 0.0, 0.05], [0.0, 0.3, 0.0], [0.1, 0.1, 0.0], [0.05, 0.0, 0.2]])
    curve = ib_curve(p_xy, [1e3, 1e4], method=method, locate_transitions=False)
    assert np.all(np.isfinite(curve.objective)) and np.all(np.isfinite(curve.i_xt))
    np.testing.assert_allclose(curve.i_ty, _mi(p_xy), atol=1e-8)


# ------------------------------------------------------------------------ optimality of the defaults
@pytest.mark.parametrize("method", ["ib", "dualib"])
@pytest.mark.parametrize("seed", [0, 2, 3])
def test_curve_is_at_least_as_good_as_a_careful_multi_restart_solver(method, seed):
    p_xy = random_joint(5, 3, concentration=0.8, seed=seed)
    betas = np.geomspace(0.4, 30.0, 10)
    curve = ib_curve(p_xy, betas, method=method, locate_transitions=False)
    solve = solve_ib if method == "ib" else solve_dual_ib
    for beta, obj in zip(betas, curve.objective, strict=True):
        best = min(solve(p_xy, beta, n_restarts=12, seed=k, n_clusters=k + 2).objective for k in range(4))
        assert obj <= best + OPTIMALITY_ATOL, (beta, obj, best)


#: effort="fast" stops each beta at embo-like tolerances (objective flat to 1e-3 relative, embo's rtol):
#: on these small joints it stays within this of the optimum (measured: up to 8.8e-4 nats on random 64x8).
FAST_GAP_ATOL = 2e-3


@pytest.mark.parametrize("method", ["ib", "dualib"])
def test_fast_effort_gives_a_valid_curve_close_to_the_optimum(method):
    p_xy = random_joint(8, 3, concentration=0.8, seed=4)
    betas = np.geomspace(0.4, 30.0, 12)
    best = ib_curve(p_xy, betas, method=method, locate_transitions=False)
    fast = ib_curve(p_xy, betas, method=method, locate_transitions=False, effort="fast")
    # the default is the optimum: fast never beats it by more than round-off, and stays close
    gap = fast.objective - best.objective
    assert np.all(gap >= -OPTIMALITY_ATOL) and np.all(gap <= FAST_GAP_ATOL), gap
    # its numbers are those of its own encoders
    p_x, p_yx = p_xy.sum(1), p_xy / p_xy.sum(1, keepdims=True)
    objective = ib_numpy.ib_lagrangian if method == "ib" else ib_numpy.dual_ib_functional
    for i, q in enumerate(fast.encoders):
        info = ib_numpy.ib_information(p_x, p_yx, q)
        i_xt, i_ty = info.i_xt, info.i_ty
        assert abs(float(i_xt) - fast.i_xt[i]) <= ROUNDOFF and abs(float(i_ty) - fast.i_ty[i]) <= ROUNDOFF
        # the reported objective (i_xt + beta * slope of the point kernel) is the objective kernel's
        assert abs(float(objective(p_x, p_yx, q, betas[i])) - fast.objective[i]) <= ROUNDOFF * (1 + betas[i])
    torch_fast = ib_curve(p_xy, betas, method=method, locate_transitions=False, effort="fast", backend="torch")
    np.testing.assert_allclose(torch_fast.objective, fast.objective, atol=ROUNDOFF)


def test_ib_objective_never_increases_along_the_iteration():
    rng = np.random.default_rng(5)
    init = rng.dirichlet(np.ones(4), size=6)
    values = [solve_ib(P6X3, 3.0, init=init, max_iter=k, tol=1e-300).objective for k in (1, 3, 6, 9, 30, 90, 300)]
    assert np.all(np.diff(values) <= ROUNDOFF)
    # and for the plain generated step, alternation by alternation
    log_q = np.log(init)
    p_x, p_yx = P6X3.sum(1), P6X3 / P6X3.sum(1, keepdims=True)
    objs = []
    for _ in range(50):
        log_q = ib_numpy.ib_step(log_q, p_x, p_yx, 3.0).log_p_t_given_x
        objs.append(float(ib_numpy.ib_lagrangian(p_x, p_yx, np.exp(log_q), 3.0)))
    assert np.all(np.diff(objs) <= ROUNDOFF)


def _compact_oracle(q, p_x, p_yx, method, mass_tol, merge_tol):
    """Literal compaction: decoders from their definitions, all pairs compared, clusters by mass."""
    p_xt = p_x[:, None] * q
    p_t = p_xt.sum(0)
    p_x_given_t = p_xt / np.maximum(p_t, 1e-300)
    if method == "ib":
        dec = p_x_given_t.T @ p_yx  # (K, n_y): sum_x p(x|t) p(y|x)
    else:
        dec = np.exp(p_x_given_t.T @ np.log(np.maximum(p_yx, 1e-300)))  # geometric mean (theory.md 3.2)
        dec /= dec.sum(1, keepdims=True)
    order = [k for k in np.argsort(-p_t, kind="stable") if p_t[k] > mass_tol]
    groups: list[list[int]] = []
    for k in order:
        for g in groups:
            if np.max(np.abs(dec[g[0]] - dec[k])) <= merge_tol:
                g.append(k)
                break
        else:
            groups.append([k])
    out = np.stack([q[:, g].sum(1) for g in groups], axis=1)
    gaps = [np.max(np.abs(dec[a] - dec[b])) for i, a in enumerate(order) for b in order[i + 1 :]]
    return out / out.sum(1, keepdims=True), np.array(gaps)


@given(
    n_x=st.integers(2, 7), n_y=st.integers(2, 4), k=st.integers(1, 6), seed=st.integers(0, 2**32 - 1),
    copies=st.lists(st.tuples(st.integers(0, 5), st.sampled_from([0.0, 1e-9, 1e-4, 1e-2])), max_size=5),
    method=st.sampled_from(["ib", "dualib"]),
)
def test_compact_merges_exactly_the_clusters_a_literal_pairwise_oracle_merges(n_x, n_y, k, seed, copies, method):
    # copies of a cluster (scaled, then perturbed by a relative amount) have equal or nearby decoders
    rng = np.random.default_rng(seed)
    p_xy = random_joint(n_x, n_y, seed=seed)
    p_x, p_yx = p_xy.sum(1), p_xy / p_xy.sum(1, keepdims=True)
    cols = [rng.dirichlet(np.ones(n_x)) for _ in range(k)]
    for src, eps in copies:
        cols.append(cols[src % k] * rng.uniform(0.2, 2.0) * (1 + eps * rng.uniform(-1, 1, n_x)))
    q = np.stack(cols, axis=1)
    q /= q.sum(1, keepdims=True)
    expected, gaps = _compact_oracle(q, p_x, p_yx, method, MASS_TOL_TEST, MERGE_TOL_TEST)
    assume(np.all(np.abs(gaps - MERGE_TOL_TEST) > 1e-9))  # no pair on the threshold (rounding decides)
    got = compact(q, p_x, p_yx, method, MASS_TOL_TEST, MERGE_TOL_TEST)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=ROUNDOFF)


# ------------------------------------------------------------------------------ dualIB oracles (3.7)
def test_dual_oracle_1_geometric_decoder_normalised_and_log_linear():
    p_x, p_yx = P6X3.sum(1), P6X3 / P6X3.sum(1, keepdims=True)
    sol = solve_dual_ib(P6X3, 2.5, n_clusters=3, seed=1)
    assert np.allclose(sol.p_y_given_t.sum(axis=0), 1.0, atol=ROUNDOFF)
    p_x_given_t = p_x[:, None] * sol.p_t_given_x / sol.p_t
    log_dec = p_x_given_t.T @ np.log(p_yx)  # (n_t, n_y)
    log_dec -= np.log(np.exp(log_dec).sum(1, keepdims=True))
    np.testing.assert_allclose(np.log(sol.p_y_given_t.T), log_dec, atol=1e-9)


def test_dual_oracle_2_exponential_family_path_has_the_same_trajectory_and_exponential_decoder():
    prob = exponential_family_data(12, seed=3)
    init = np.random.default_rng(0).dirichlet(np.ones(3), size=12)
    res = solve_dual_ib_expfam(prob.p_x, prob.stats, prob.lambdas, 3.0, init=init, max_iter=60, tol=1e-300, record=True)
    p_yx = expfam_conditional(prob.stats, prob.lambdas)
    np.testing.assert_allclose(p_yx, prob.p_xy / prob.p_x[:, None], atol=1e-15)
    # the alternation reaches an exact (hard) fixed point after a few steps; compare every step taken
    assert len(res.trajectory) >= 10
    log_q = np.log(init)
    for k in range(len(res.trajectory)):
        with np.errstate(divide="ignore"):
            log_q = ib_numpy.dual_ib_step(log_q, prob.p_x, p_yx, 3.0).log_p_t_given_x
        np.testing.assert_allclose(np.exp(log_q), res.trajectory[k], atol=1e-12)
    # the converged plain solver and the expfam decoder: exp(-lambda(y) A(t)) / Z(t)
    plain = solve_dual_ib(prob.p_xy, 3.0, init=res.p_t_given_x)
    logits = -res.stats_t @ prob.lambdas
    np.testing.assert_allclose(np.log(plain.p_y_given_t.T), logits - np.log(np.exp(logits).sum(1, keepdims=True)), atol=1e-9)


def test_dual_oracle_3_trivial_distortion_on_the_genib_toy():
    toy = genib_toy()
    p_x, p_yx = toy.sum(1), toy / toy.sum(1, keepdims=True)
    assert float(ib_numpy.dual_ib_functional(p_x, p_yx, np.ones((5, 1)), 1.0)) == pytest.approx(0.142889, abs=5e-7)
    assert _mi(toy) == pytest.approx(0.122597, abs=5e-7)


def test_dual_oracle_5_ib_and_dualib_coincide_on_deterministic_rules():
    labels = np.array([0, 0, 1, 1, 2, 2, 2])
    p_xy = np.zeros((7, 3))
    p_xy[np.arange(7), labels] = 1 / 7
    h_y = _entropy(p_xy.sum(0))
    # beta > 1: the IB optimum is T = Y (its curve is I(T;Y) = I(X;T) up to H(Y)); the dualIB, whose
    # distortion of a mixed cluster is ~690 nats with the 1e-300 label floor, is there already.
    betas = [2.0, 5.0, 50.0]
    ib = ib_curve(p_xy, betas, locate_transitions=False)
    dual = ib_curve(p_xy, betas, method="dualib", locate_transitions=False)
    np.testing.assert_allclose(ib.i_xt, dual.i_xt, atol=1e-9)
    np.testing.assert_allclose(ib.i_ty, dual.i_ty, atol=1e-9)
    np.testing.assert_allclose(ib.i_ty, h_y, atol=1e-9)
    assert np.all(ib.n_clusters == 3) and np.all(dual.n_clusters == 3)


# ------------------------------------------------------------------------------ backends and units
def test_numpy_and_torch_backends_agree_and_units_convert():
    betas = np.geomspace(0.8, 20.0, 8)
    a = ib_curve(P6X3, betas, locate_transitions=False)
    b = ib_curve(P6X3, betas, backend="torch", locate_transitions=False)
    np.testing.assert_allclose(a.objective, b.objective, atol=1e-9)
    bits = ib_curve(P6X3, betas, units="bits", locate_transitions=False)
    np.testing.assert_allclose(bits.i_xt, a.i_xt / math.log(2), atol=1e-9)
    assert bits.units == "bits" and a.units == "nats"
    s = solve_ib(P6X3, 4.0, backend="torch", n_restarts=3)
    assert s.converged and isinstance(s.p_t_given_x, np.ndarray)
    assert ibtheory.solve_ib is solve_ib and ibtheory.ib_curve is ib_curve


def test_normalize_accepts_counts():
    counts = np.array([[3, 1], [0, 4], [2, 2]])
    a = solve_ib(counts, 3.0, normalize=True, n_restarts=2)
    b = solve_ib(counts / counts.sum(), 3.0, n_restarts=2)
    assert a.objective == pytest.approx(b.objective, abs=1e-12)


# ----------------------------------------------------------------------------------------- bad input
GOOD = np.array([[0.25, 0.25], [0.1, 0.4]])


@pytest.mark.parametrize(
    ("p_xy", "match"),
    [
        (np.array([[0.5, -0.1], [0.3, 0.3]]), "negative"),
        (np.array([[0.5, np.nan], [0.3, 0.2]]), "non-finite"),
        (np.array([[0.5, np.inf], [0.3, 0.2]]), "non-finite"),
        (np.array([[0.5, 0.2], [0.3, 0.2]]), "normalize=True"),
        (np.array([0.5, 0.5]), "two-dimensional"),
        (np.ones((2, 2, 2)) / 8, "two-dimensional"),
        (np.array([[0.5, 0.5], [0.0, 0.0]]), "all zero"),
    ],
)
@pytest.mark.parametrize("fn", ["solve_ib", "solve_dual_ib", "ib_curve"])
def test_bad_joint_raises(p_xy, match, fn):
    with pytest.raises(ValueError, match=match):
        if fn == "ib_curve":
            ib_curve(p_xy, [1.0])
        else:
            getattr(ibtheory, fn)(p_xy, 1.0)


@pytest.mark.parametrize("beta", [-0.5, math.nan, math.inf])
def test_bad_beta_raises(beta):
    with pytest.raises(ValueError, match="beta"):
        solve_ib(GOOD, beta)
    with pytest.raises(ValueError, match="beta"):
        ib_curve(GOOD, [1.0, beta])


def test_bad_options_raise():
    with pytest.raises(ValueError, match="n_clusters"):
        solve_ib(GOOD, 1.0, n_clusters=0)
    with pytest.raises(ValueError, match="n_clusters"):
        ib_curve(GOOD, [1.0], n_clusters=0)
    with pytest.raises(ValueError, match="units"):
        ib_curve(GOOD, [1.0], units="hartleys")
    with pytest.raises(ValueError, match="method"):
        ib_curve(GOOD, [1.0], method="vib")
    with pytest.raises(ValueError, match="backend"):
        ib_curve(GOOD, [1.0], backend="jax")
    with pytest.raises(ValueError, match="empty"):
        ib_curve(GOOD, [])
    with pytest.raises(ValueError, match="effort must be one of"):
        ib_curve(GOOD, [1.0], effort="quick")
    with pytest.raises(ValueError, match="reverse sweep only"):
        ib_curve(GOOD, [1.0], effort="fast", reverse=False)


# ------------------------------------------------------------------------------ `ibtheory curve`
def test_curve_command_errors_name_the_file_and_the_flag(tmp_path, capsys):
    from ibtheory.cli import main

    counts = tmp_path / "counts.csv"
    np.savetxt(counts, [[1, 2], [3, 4], [5, 1]], delimiter=",")
    assert main(["curve", str(counts), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "counts.csv" in err and "pass --normalize" in err and "normalize=True" not in err
    negative = tmp_path / "negative.csv"
    np.savetxt(negative, [[0.1, 0.2], [0.3, -0.4]], delimiter=",")
    assert main(["curve", str(negative), "--out", str(tmp_path / "out")]) == 2
    assert "negative.csv has a negative entry -0.4 at (1, 1)" in capsys.readouterr().err


def test_curve_command_writes_csv_and_figure_for_counts(tmp_path, capsys):
    from ibtheory.cli import main

    counts = tmp_path / "counts.csv"
    np.savetxt(counts, [[1, 2], [3, 4], [5, 1]], delimiter=",")
    out = tmp_path / "out"
    assert main(["curve", str(counts), "--normalize", "--betas", "0.5:20:6", "--out", str(out)]) == 0
    table = np.loadtxt(out / "curve_ib.csv", delimiter=",", skiprows=1)
    assert table.shape == (6, 6) and np.all(np.isfinite(table))
    joint = np.array([[1, 2], [3, 4], [5, 1]]) / 16
    assert np.all(table[:, 2] <= _mi(joint) + ROUNDOFF)  # I(T;Y) <= I(X;Y)
    assert (out / "curve_ib.png").stat().st_size > 0
    fast_out = tmp_path / "fast"
    assert main(["curve", str(counts), "--normalize", "--betas", "0.5:20:6", "--effort", "fast", "--out", str(fast_out)]) == 0
    fast_table = np.loadtxt(fast_out / "curve_ib.csv", delimiter=",", skiprows=1)
    assert np.all(fast_table[:, 3] >= table[:, 3] - OPTIMALITY_ATOL)  # objective: the default is the optimum
