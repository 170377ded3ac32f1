"""Normalisers ``a - log sum exp(a)`` are generated as a log-softmax (issue 21).

``a - (max a + log s)`` rounds the sum to ulp(max a): with |a| ~ 4.6e10 (beta * distortion at
beta 6.6e7) a normalised log-row was off by ~1e-6, so p(t|x) summed to 1 - 2e-6. Generated
normalisers are computed as (a - max a) - log s instead, on every backend; the exact answer is
a's shift-invariant softmax, computed here with mpmath from the row's offsets.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
import torch

from ibtheory.codegen import generate

N_X, N_T = sp.symbols("n_x n_t", integer=True, positive=True)
ix, it, jt = sp.Idx("x", N_X), sp.Idx("t", N_T), sp.Idx("tp", N_T)
a = sp.IndexedBase("a", real=True)
AXES = ("x", "t")
#: Each entry of a normalised float64 log-row is within a few ulps of O(1) of the exact value.
LOG_TOL = 1e-14

#: Rows with offsets of 1e10 and spreads of O(1), and an ordinary row.
ROWS = np.array([[-4.6e10 + 0.3, -4.6e10 - 1.2, -4.6e10], [1e10, 1e10 - 2.0, 1e10 - 0.5], [0.1, -0.7, 2.0]])


def _exact(row: np.ndarray) -> list[float]:
    with mpmath.workdps(50):
        vals = [mpmath.mpf(float(v)) for v in row]
        lse = mpmath.log(mpmath.fsum(mpmath.exp(v - vals[0]) for v in vals)) + vals[0]
        return [float(v - lse) for v in vals]


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_generated_normaliser_rows_are_exact_at_huge_offsets(backend):
    expr = a[ix, it] - sp.log(sp.Sum(sp.exp(a[ix, jt]), (jt, 0, N_T - 1)))
    f = generate([a], expr, backend=backend, axes=AXES)
    rows = ROWS if backend == "numpy" else torch.tensor(ROWS, dtype=torch.float64)
    out = np.asarray(f(rows))
    for got, row in zip(out, ROWS, strict=True):
        assert got == pytest.approx(_exact(row), abs=LOG_TOL)
        assert np.exp(got).sum() == pytest.approx(1.0, abs=LOG_TOL)
