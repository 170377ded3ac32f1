"""Single solves at huge beta return normalised encoders and the information of that encoder (issue 21).

At beta * distortion ~ 1e10 the generated step normalised each log-row as a - (max a + log s); the
sum rounds to ulp(max a) ~ 1e-5, so rows of p(t|x) summed to 1 - 2.2e-6 and I(T;Y) (1.1e-6) came
out above I(X;T) (1e-12), against data processing. The step now uses a log-softmax
((a - max a) - log s; codegen ``LogSoftmax``). The reported I(X;T) and I(T;Y) are checked here
against an independent route: the joints p(x, t) and p(t, y) = sum_x p(x, y) p(t|x) of the
returned encoder, in mpmath at 50 digits and again at 80.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from ibtheory import solve_dual_ib, solve_ib

#: A normalised float64 row sums to one within a few ulps (n_t = 3 terms).
ROW_TOL = 1e-14
#: The kernels compute I as a difference of entropies of O(1): round-off ~1e-16 * n terms.
INFO_ABS_TOL = 1e-14
#: Two mpmath precisions that must agree far below INFO_ABS_TOL (style.md 5: checked again higher).
DIGITS = (50, 80)

RARE_ROW_JOINTS = [
    np.array([[7.3e-16, 0.0], [0.269, 0.0], [0.0, 0.731]]),  # the case the property hunt found
    np.array([[1e-15, 0.0], [0.5, 0.0], [0.0, 0.5]]),
    np.array([[1e-15, 1e-15], [0.3, 0.1], [0.1, 0.5]]),
]


def _mutual_information(joint: list[list[mpmath.mpf]]) -> mpmath.mpf:
    total = mpmath.fsum(v for row in joint for v in row)
    p = [[v / total for v in row] for row in joint]
    rows = [mpmath.fsum(row) for row in p]
    cols = [mpmath.fsum(p[i][j] for i in range(len(p))) for j in range(len(p[0]))]
    return mpmath.fsum(p[i][j] * mpmath.log(p[i][j] / (rows[i] * cols[j]))
                       for i in range(len(p)) for j in range(len(p[0])) if p[i][j] > 0)


def _oracle(p_xy: np.ndarray, p_t_given_x: np.ndarray, dps: int) -> tuple[float, float]:
    """I(X;T), I(T;Y) of the encoder exactly as returned (its floats taken exactly), at ``dps`` digits."""
    with mpmath.workdps(dps):
        p = [[mpmath.mpf(float(v)) for v in row] for row in p_xy]
        q = [[mpmath.mpf(float(v)) for v in row] for row in p_t_given_x]
        n_x, n_y, n_t = len(p), len(p[0]), len(q[0])
        p_x = [mpmath.fsum(row) for row in p]
        p_xt = [[p_x[i] * q[i][t] for t in range(n_t)] for i in range(n_x)]
        p_ty = [[mpmath.fsum(p[i][y] * q[i][t] for i in range(n_x)) for y in range(n_y)] for t in range(n_t)]
        return float(_mutual_information(p_xt)), float(_mutual_information(p_ty))


@pytest.mark.parametrize("beta", [6.6e7, 1e8, 1e5])
@pytest.mark.parametrize("p_xy", RARE_ROW_JOINTS)
@pytest.mark.parametrize("solve", [solve_ib, solve_dual_ib])
def test_huge_beta_encoder_is_normalised_and_its_information_matches_mpmath(solve, p_xy, beta):
    p_xy = p_xy / p_xy.sum()
    sol = solve(p_xy, beta)
    enc = np.asarray(sol.p_t_given_x)
    assert np.all(np.abs(enc.sum(axis=1) - 1.0) <= ROW_TOL)
    assert sol.i_ty <= sol.i_xt + INFO_ABS_TOL  # data processing, Markov decoder
    lo, hi = (_oracle(p_xy, enc, d) for d in DIGITS)
    assert lo == pytest.approx(hi, abs=1e-30)
    i_xt, i_ty = lo
    assert sol.i_xt == pytest.approx(max(i_xt, 0.0), abs=INFO_ABS_TOL)
    assert sol.i_ty == pytest.approx(max(i_ty, 0.0), abs=INFO_ABS_TOL)
