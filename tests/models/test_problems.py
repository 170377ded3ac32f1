"""Canonical problems of ibtheory.models checked against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ibtheory.models import discretised_gaussian_pair

#: Grid error of I(X;Y): the trapezoid rule on a smooth, Gaussian-decaying integrand converges
#: faster than any power of the spacing, and the tails beyond 6 standard deviations carry ~1e-9 of
#: the mass; the error is ~3e-8 nats at n = 200 for |rho| <= 0.9, so 1e-6 leaves a 30x margin.
MI_GRID_TOL = 1e-6


def _mutual_information(joint: np.ndarray) -> float:
    p_x, p_y = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    mask = joint > 0
    return float(np.sum(joint[mask] * np.log(joint[mask] / (p_x * p_y)[mask])))


@pytest.mark.parametrize("rho", [-0.5, 0.3, 0.8, 0.9])
def test_discretised_gaussian_pair_approaches_the_gaussian_mutual_information(rho):
    joint = discretised_gaussian_pair(200, rho)
    assert joint.shape == (200, 200)
    assert abs(joint.sum() - 1.0) < 1e-12
    assert abs(_mutual_information(joint) - (-0.5 * math.log(1 - rho**2))) < MI_GRID_TOL


def test_discretised_gaussian_pair_has_the_stated_conditional_mean():
    rho, n = 0.8, 121
    joint = discretised_gaussian_pair(n, rho)
    grid = np.linspace(-6.0, 6.0, n)
    p_y_given_x = joint / joint.sum(1, keepdims=True)
    inner = np.abs(grid) < 3  # away from the truncation at +-6, E[Y|x] = rho x
    np.testing.assert_allclose((p_y_given_x @ grid)[inner], rho * grid[inner], atol=1e-9)


@pytest.mark.parametrize(("n", "rho"), [(1, 0.5), (10, 1.0), (10, -1.0), (10, float("nan"))])
def test_discretised_gaussian_pair_refuses_bad_arguments(n, rho):
    with pytest.raises(ValueError):
        discretised_gaussian_pair(n, rho)
