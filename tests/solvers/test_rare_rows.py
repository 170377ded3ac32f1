"""Rare inputs x (p(x) far below the mass cut-off) in the discrete solvers (issue 21, item 1).

At large beta a rare x wants a cluster of its own, whose mass p(t) ~ p(x) is below MASS_TOL, so
compaction drops it; the rare row must then be renormalised over the kept clusters (log domain),
not become 0/0. Checked against an independent route: I(X;T), I(T;Y) evaluated directly from the
returned encoders with a literal formula here, continuity in the rare row's mass (the problem with
that row removed), and the data-processing inequality I(T;Y) <= I(X;Y).
"""

from __future__ import annotations

import numpy as np
import pytest

from ibtheory.solvers import ib_curve, solve_dual_ib, solve_ib

#: p(x) of the rare row: far below the solvers' mass cut-off MASS_TOL = 1e-8.
RARE_MASS = 2e-10
#: I(X;T) and I(T;Y) recomputed from the returned encoder: sums of a few float64 terms.
DIRECT_ATOL = 1e-12
#: Removing a row of mass m changes I(X;T), I(T;Y) by O(m |ln m|) ~ 5e-9 here (the other rows'
#: encoders and p(y) move by O(m)); 1e-7 is 20 times that and still 1e7 times below the values.
CONTINUITY_ATOL = 1e-7
#: Data-processing inequality up to float64 round-off of O(1) sums.
ROUNDOFF = 1e-12
BETAS = [1.0, 10.0, 1e4]


def _joint(rare_mass: float) -> np.ndarray:
    body = np.array([[0.1, 0.4], [0.4, 0.1]])
    if rare_mass == 0:
        return body
    p = np.vstack([[rare_mass / 2, rare_mass / 2], body * (1 - rare_mass)])
    return p / p.sum()


def _information(p_xy: np.ndarray, q: np.ndarray) -> tuple[float, float]:
    """(I(X;T), I(T;Y)) of the encoder q = p(t|x) with the Markov decoder, literally."""
    p_x = p_xy.sum(1)
    p_xt = p_x[:, None] * q
    p_t = p_xt.sum(0)
    p_ty = q.T @ p_xy
    p_y = p_xy.sum(0)
    m = p_xt > 0
    i_xt = np.sum(p_xt[m] * np.log(p_xt[m] / (p_x[:, None] * p_t[None, :])[m]))
    m = p_ty > 0
    i_ty = np.sum(p_ty[m] * np.log(p_ty[m] / (p_t[:, None] * p_y[None, :])[m]))
    return float(i_xt), float(i_ty)


def _mi(p_xy: np.ndarray) -> float:
    return _information(p_xy, np.eye(p_xy.shape[0]))[1]


@pytest.mark.parametrize("effort", ["fast", "optimum"])
@pytest.mark.parametrize("method", ["ib", "dualib"])
def test_ib_curve_with_a_rare_row_is_finite_and_continuous_in_its_mass(method, effort):
    p = _joint(RARE_MASS)
    res = ib_curve(p, BETAS, method=method, effort=effort, seed=0)
    limit = ib_curve(_joint(0.0), BETAS, method=method, effort=effort, seed=0)
    assert np.all(np.isfinite(res.i_xt)) and np.all(np.isfinite(res.i_ty)) and np.all(np.isfinite(res.objective))
    for b, q in enumerate(res.encoders):
        assert np.all(np.isfinite(q)) and np.allclose(q.sum(1), 1.0, rtol=0, atol=ROUNDOFF), b
        i_xt, i_ty = _information(p, q)
        assert abs(res.i_xt[b] - i_xt) <= DIRECT_ATOL, b
        assert abs(res.i_ty[b] - i_ty) <= DIRECT_ATOL, b
    assert np.all(res.i_ty <= _mi(p) + ROUNDOFF)
    np.testing.assert_allclose(res.i_xt, limit.i_xt, rtol=0, atol=CONTINUITY_ATOL)
    np.testing.assert_allclose(res.i_ty, limit.i_ty, rtol=0, atol=CONTINUITY_ATOL)
    assert res.i_xt[-1] > 0.5  # beta = 1e4: the two common rows are separated (I(X;T) ~ ln 2)


@pytest.mark.parametrize("solver", [solve_ib, solve_dual_ib])
def test_single_beta_solvers_with_a_rare_row_count_clusters_without_nan(solver):
    p = _joint(RARE_MASS)
    sol = solver(p, 1e4, seed=0)
    limit = solver(_joint(0.0), 1e4, seed=0)
    assert sol.n_clusters == limit.n_clusters == 2
    i_xt, i_ty = _information(p, sol.p_t_given_x)
    assert abs(sol.i_xt - i_xt) <= DIRECT_ATOL and abs(sol.i_ty - i_ty) <= DIRECT_ATOL
    assert abs(sol.i_xt - limit.i_xt) <= CONTINUITY_ATOL and abs(sol.i_ty - limit.i_ty) <= CONTINUITY_ATOL
