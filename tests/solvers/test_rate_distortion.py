"""Rate-distortion by Blahut-Arimoto (Cover & Thomas 2006, ch. 10; theory.md 11.3)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ibtheory.solvers import rd_curve

#: Blahut-Arimoto converges to max |delta p(t|x)| <= 1e-10 on the binary source; R(D) then agrees
#: with the closed form to round-off of a few terms.
BINARY_ATOL = 1e-9


def _h(q: np.ndarray) -> np.ndarray:
    return -q * np.log(q) - (1 - q) * np.log(1 - q)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_binary_source_with_hamming_distortion_gives_h_p_minus_h_d(p: float) -> None:
    """R(D) = H(p) - H(D) for 0 <= D <= min(p, 1 - p) (Cover & Thomas Thm 10.3.1)."""
    curve = rd_curve(np.array([1 - p, p]), 1 - np.eye(2), np.linspace(0.5, 12.0, 24))
    assert np.all(curve.converged)
    inside = curve.distortion < min(p, 1 - p) - 1e-9
    assert inside.sum() >= 10
    expected = _h(p) - _h(curve.distortion[inside])
    np.testing.assert_allclose(curve.rate[inside], expected, atol=BINARY_ATOL)
    # the slope of R(D) is -beta: -H'(D) = -log((1 - D)/D) = -beta, so D = 1/(1 + e^beta)
    np.testing.assert_allclose(curve.distortion[inside], 1 / (1 + np.exp(curve.betas[inside])), atol=BINARY_ATOL)


def test_discretised_gaussian_approaches_half_log_variance_over_d() -> None:
    """R(D) = 1/2 log(sigma^2 / D) for a Gaussian source and squared error (Cover & Thomas Thm 10.3.2);
    a fine grid on [-5 sigma, 5 sigma] approaches it (discretisation error shrinks with the step)."""
    errors = []
    for n in (21, 41):
        xs = np.linspace(-5.0, 5.0, n)
        p_x = np.exp(-xs**2 / 2)
        p_x /= p_x.sum()
        var = float(p_x @ xs**2)
        curve = rd_curve(p_x, (xs[:, None] - xs[None, :]) ** 2, np.array([2.0, 5.0]), tol=1e-7, max_iter=6000)
        errors.append(np.max(np.abs(curve.rate - 0.5 * np.log(var / curve.distortion))))
    assert errors[-1] < 5e-3
    assert errors[-1] <= errors[0] + 1e-6


def test_rate_in_bits_is_nats_over_ln2() -> None:
    args = (np.array([0.7, 0.3]), 1 - np.eye(2), [1.0, 3.0])
    np.testing.assert_allclose(rd_curve(*args, units="bits").rate, rd_curve(*args).rate / math.log(2), rtol=1e-14)


def test_numpy_and_torch_agree() -> None:
    pytest.importorskip("torch")
    args = (np.array([0.2, 0.5, 0.3]), 1 - np.eye(3), [0.5, 2.0, 6.0])
    np.testing.assert_allclose(rd_curve(*args, backend="torch").rate, rd_curve(*args).rate, atol=1e-12)


@pytest.mark.parametrize(
    ("distortion", "match"),
    [
        (np.array([[0.0, -1.0], [1.0, 0.0]]), "negative"),
        (np.array([[0.0, np.nan], [1.0, 0.0]]), "distortion"),
        (np.array([[0.0, np.inf], [1.0, 0.0]]), "distortion"),
        (np.zeros((3, 2)), "shape"),
        (np.zeros(2), "shape"),
    ],
)
def test_bad_distortion_raises_value_error(distortion: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        rd_curve(np.array([0.5, 0.5]), distortion, [1.0])


def test_bad_source_raises_value_error() -> None:
    with pytest.raises(ValueError, match="p_x"):
        rd_curve(np.array([0.5, 0.6]), 1 - np.eye(2), [1.0])
    with pytest.raises(ValueError, match="p_x"):
        rd_curve(np.array([-0.5, 1.5]), 1 - np.eye(2), [1.0])
