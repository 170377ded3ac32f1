"""The lower envelope of the lines found, the optimality report and the lazy transitions (issue 23).

Routes: the envelope is checked against a brute-force minimum over lines and the multi-restart
solver; located transitions and the default curve against outputs stored in
``tests/solvers/data/ib_reference.json`` (provenance inside: the eager transitions of ibtheory
before issue 23, and embo 1.1.0's objectives).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from ibtheory.models import genib_toy, random_joint
from ibtheory.numeric import array_backend
from ibtheory.solvers import Optimality, _curve, ib_curve, solve_dual_ib, solve_ib
from ibtheory.solvers._engine import KernelSet, kernel_set
from ibtheory.solvers._envelope import ENVELOPE_RTOL, Lines, below_envelope, envelope_crossings
from ibtheory.solvers._solve import marginals

DATA = json.loads((Path(__file__).parent / "data" / "ib_reference.json").read_text())
BETAS = np.geomspace(0.5, 30, 24)  # the grid of the stored data
PROBLEMS = {"P6X3": random_joint(6, 3, concentration=0.7, seed=1), "R8X3": random_joint(8, 3, seed=2),
            "R16X4": random_joint(16, 4, seed=0), "genib": genib_toy()}
#: Affine lines evaluated two ways (one product and sum each): float64 rounding of O(10) values.
LINE_ATOL = 1e-12
#: The curve may beat embo but never lose by more than float64 rounding of objectives summed over
#: ~100 terms (embo stops at a relative change of 1e-3; ours is polished to tol = 1e-10).
EMBO_ATOL = 1e-9
#: Multi-restart oracle vs the curve: the oracle's solves stop at tol = 1e-10 on p(t|x), whose
#: effect on an O(1) objective is below this (as OPTIMALITY_ATOL in test_solvers).
ORACLE_ATOL = 1e-7
#: Two branches of a continuous transition evaluated at the same beta: solves to tol = 1e-13 of
#: O(0.1) objectives agree to float64 rounding of a sum over ~30 terms.
CONTINUOUS_ATOL = 1e-12


def test_lowest_line_equals_a_brute_force_minimum():
    rng = np.random.default_rng(0)
    pool = Lines()
    for _ in range(30):
        pool.add(np.ones((2, 1)), rng.uniform(0, 3), -rng.uniform(0, 2))
    betas = np.linspace(0.0, 10.0, 57)
    idx, low = pool.lowest(betas)
    brute = np.array([min(a + b * s for a, s in zip(pool.a, pool.s, strict=True)) for b in betas])
    assert np.allclose(low, brute, rtol=0, atol=LINE_ATOL)
    assert np.allclose(np.asarray(pool.a)[idx] + betas * np.asarray(pool.s)[idx], brute, rtol=0, atol=LINE_ATOL)


def test_envelope_crossing_of_two_lines_is_where_they_meet():
    # lines 1 - 0.5 b (one cluster below) and 3 - 1.5 b (two clusters above) meet at b = 2
    a, s = np.array([1.0, 3.0]), np.array([-0.5, -1.5])
    est, k = envelope_crossings(a, s, np.array([1, 2]), np.array([1.0, 4.0]))
    assert est.tolist() == [2.0] and k.tolist() == [[1, 2]]


def test_a_planted_suboptimal_point_is_detected_and_repaired():
    """Replace the optimum at the largest beta by the trivial encoder (objective 0, far above the
    curve's lines there): the envelope check must flag it, and the repair must bring it back below
    the lowest line found, to the multi-restart optimum."""
    p_xy = PROBLEMS["P6X3"]
    betas = np.geomspace(2.0, 30.0, 8)
    curve = ib_curve(p_xy, betas, locate_transitions=False)
    p_x, p_y_given_x = marginals(p_xy)
    ann = _curve._Annealer(array_backend("numpy"), p_x, p_y_given_x, "ib", p_x.size, np.random.default_rng(0),
                           1e-8, _curve.ANNEAL_MAX_ITER)
    runs = [ann.run([(q, float(b))], 1e-10, 3000, None)[0] for q, b in zip(curve.encoders, betas, strict=True)]
    pool = Lines()
    _curve._lines_of(runs, pool)
    trivial = np.ones((p_x.size, 1))
    planted = ann.run([(trivial, float(betas[-1]))], 1e-10, 3000, None)[0]
    assert planted.objective > curve.objective[-1] + 1.0  # the trivial fixed point is far from optimal here
    runs[-1] = planted
    _, lowest = pool.lowest(betas)
    flagged = below_envelope(np.array([r.objective for r in runs]), lowest)
    assert flagged.tolist() == [False] * 7 + [True]

    def polish(bs, seeds):
        return ann.run([(q, float(b)) for q, b in zip(seeds, bs, strict=True)], 1e-10, 3000, None)

    repaired = _curve._repair(ann, betas, runs, pool, [[] for _ in betas], polish, 3)
    assert repaired.tolist() == [False] * 7 + [True]
    assert runs[-1].objective <= lowest[-1] + ENVELOPE_RTOL * max(1.0, abs(lowest[-1]))
    oracle = solve_ib(p_xy, float(betas[-1]), n_restarts=20, seed=1)
    assert runs[-1].objective <= oracle.objective + ORACLE_ATOL


@pytest.mark.parametrize("effort", ["optimum", "fast"])
def test_every_curve_reports_its_certificate_on_the_envelope(effort):
    curve = ib_curve(PROBLEMS["R16X4"], BETAS, effort=effort)
    opt = curve.optimality
    assert isinstance(opt, Optimality)
    assert opt.envelope_gap.shape == opt.on_envelope.shape == opt.repaired.shape == BETAS.shape
    assert opt.on_envelope.all()  # repair leaves no point above a line found
    assert np.all(opt.envelope_gap <= ENVELOPE_RTOL * np.maximum(1.0, np.abs(curve.objective)))
    assert opt.n_lines >= BETAS.size
    assert np.all(opt.agreeing_starts >= 0)


@pytest.mark.parametrize("problem", ["P6X3", "R8X3", "R16X4"])
def test_default_curve_is_never_worse_than_embo(problem):
    curve = ib_curve(PROBLEMS[problem], BETAS, locate_transitions=False)
    embo = np.array(DATA["embo_objective_nats"][problem])
    assert np.all(curve.objective <= embo + EMBO_ATOL)


@pytest.mark.parametrize("key", sorted(DATA["located_transitions"]))
def test_lazy_transitions_equal_the_ones_located_eagerly_before(key):
    name, method = key.split("/")
    curve = ib_curve(PROBLEMS[name], BETAS, method=method)
    stored = DATA["located_transitions"][key]
    assert curve.transition_clusters.tolist() == stored["transition_clusters"]
    # both bisect to transition_rtol in log beta from the same grid brackets; where they differ by
    # more, the transition must be continuous there: both branches (continued from the curve's
    # encoders on either side) reach the same objective at the stored location, so which one the
    # bisection prefers is decided by rounding (R8X3/ib near beta 17.07: equal to 1e-15 over
    # [17.0, 17.1], and single-threaded BLAS moved the located point from 17.063 to 17.087)
    solve = solve_ib if method == "ib" else solve_dual_ib
    for found, old in zip(curve.transitions, stored["transitions"], strict=True):
        if abs(found / old - 1) > curve.transition_rtol:
            lo = int(np.searchsorted(BETAS, old)) - 1
            branches = [solve(PROBLEMS[name], old, init=curve.encoders[j], tol=1e-13, max_iter=200_000)
                        for j in (lo, lo + 1)]
            assert abs(branches[0].objective - branches[1].objective) <= CONTINUOUS_ATOL
    # the free estimates sit in the same grid gaps
    assert curve.transition_estimate_clusters.tolist() == stored["transition_clusters"]


def test_transitions_are_located_only_when_asked_for_and_once(monkeypatch):
    calls = []
    real = _curve._locate_transitions

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_curve, "_locate_transitions", counting)
    curve = ib_curve(PROBLEMS["P6X3"], BETAS)
    assert calls == []
    first = curve.transitions
    assert len(calls) == 1 and first.size > 0
    assert curve.transitions is first and len(calls) == 1
    again = pickle.loads(pickle.dumps(curve))  # pickling keeps the located values, not the annealer
    assert np.array_equal(again.transitions, first) and len(calls) == 1
    off = ib_curve(PROBLEMS["P6X3"], BETAS, locate_transitions=False)
    assert off.transitions.size == 0 and off.transition_clusters.shape == (0, 2)


def test_lazy_transitions_do_not_depend_on_when_they_are_asked_for():
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    a = ib_curve(PROBLEMS["R8X3"], BETAS, seed=rng_a)
    b = ib_curve(PROBLEMS["R8X3"], BETAS, seed=rng_b)
    rng_b.uniform(size=100)  # the caller's generator moves on before b's transitions are asked for
    assert np.array_equal(a.transitions, b.transitions)


def test_the_annealer_runs_a_kernel_set_it_is_given():
    """The seam for run-time generated kernels: a KernelSet passed in is the one iterated."""
    p_xy = PROBLEMS["P6X3"]
    p_x, p_y_given_x = marginals(p_xy)
    be = array_backend("numpy")
    base = kernel_set(be.kernels("ib"), "ib")
    steps = []

    def step(*args):
        steps.append(1)
        return base.step(*args)

    ks = KernelSet("ib", step, base.objective, base.point)
    ann = _curve._Annealer(be, p_x, p_y_given_x, "ib", p_x.size, np.random.default_rng(0), 1e-8, 200, kernels=ks)
    _, obj = ann.solve(np.full((p_x.size, 2), 0.5), 5.0)
    assert steps and np.isfinite(obj)


def test_showing_a_curve_in_jupyter_does_not_locate_its_transitions(monkeypatch):
    curve = ib_curve(PROBLEMS["P6X3"], BETAS, effort="fast")

    def located(*args, **kwargs):
        raise AssertionError("the HTML summary ran the transition bisection")

    monkeypatch.setattr(_curve, "_locate_transitions", located)
    assert "estimates" in curve._repr_html_()
