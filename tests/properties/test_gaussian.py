"""Properties of the closed-form Gaussian IB / dualIB (ibtheory.gaussian), issue 21.

Valid extremes: joint covariances scaled from 1e-100 to 1e100 with condition numbers up to 1e8,
betas from 1e-6 to 1e8: information finite, 0 <= I(T;Y) <= I(X;Y) and I(T;Y) <= I(X;T),
I(X;Y) equal to -1/2 ln det(I - S_x^-1 S_xy S_y^-1 S_yx) computed independently, both curves
monotone in beta, invariant under rescaling X and Y. Malformed input: ValueError/TypeError naming
the argument.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ibtheory import gaussian
from ibtheory.testing import MALFORMED_KINDS, betas, magnitudes, malformed_value, spd_matrices

from ._cases import case, refuses

#: Relative tolerance of information values: a Cholesky / eigen solve of condition <= 1e8
#: loses about 8 of 16 digits of I(X;Y) (Higham, Accuracy and Stability, ch. 10), with a margin.
INFO_RTOL = 1e-6
#: Absolute floor (nats) for values near zero (eigenvalues 1 - rho^2 near 1).
INFO_ATOL = 1e-9

METHODS = ("gaussian_ib", "gaussian_dual_ib")


@st.composite
def joint_covariances(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """(cov_x, cov_xy, cov_y, scale_x, scale_y) from one SPD joint of X (n_x) and Y (n_y)."""
    n_x, n_y = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    joint = draw(spd_matrices(n_x + n_y, max_condition=1e8))
    sx, sy = draw(magnitudes(1e-50, 1e50)), draw(magnitudes(1e-50, 1e50))
    d = np.r_[np.full(n_x, sx), np.full(n_y, sy)]
    joint = joint * d[:, None] * d[None, :]
    return joint[:n_x, :n_x], joint[:n_x, n_x:], joint[n_x:, n_x:], sx, sy


def i_xy_direct(cx: np.ndarray, cxy: np.ndarray, cy: np.ndarray) -> float:
    """I(X;Y) = 1/2 [ln det S_x + ln det S_y - ln det S] in nats (slogdet of the blocks, scaled)."""
    dx = 1 / np.sqrt(np.diag(cx))
    dy = 1 / np.sqrt(np.diag(cy))
    cx, cy, cxy = cx * dx[:, None] * dx, cy * dy[:, None] * dy, cxy * dx[:, None] * dy
    joint = np.block([[cx, cxy], [cxy.T, cy]])
    return 0.5 * (np.linalg.slogdet(cx)[1] + np.linalg.slogdet(cy)[1] - np.linalg.slogdet(joint)[1])


@pytest.mark.parametrize("fn", METHODS)
@example(cov=(np.array([[1e-100]]), np.array([[-1.05486357e-254]]), np.array([[1e-92]]), 1e-50, 1e-50), beta_list=[1e-6])  # nightly find
@given(cov=joint_covariances(), beta_list=st.lists(betas(), min_size=1, max_size=6))
def test_information_finite_and_bounded_by_i_xy(fn: str, cov: tuple, beta_list: list[float]) -> None:
    cx, cxy, cy, _, _ = cov
    bs = np.sort(np.asarray(beta_list))
    with case(fn):
        r = getattr(gaussian, fn)(cx, cxy, cy, bs)
        i_xt, i_ty, i_xy = (np.asarray(v, dtype=np.float64) for v in (r.i_xt, r.i_ty, r.i_xy))
        assert np.all(np.isfinite(i_xt)) and np.all(np.isfinite(i_ty)) and np.isfinite(i_xy)
        truth = i_xy_direct(cx, cxy, cy)
        assert abs(float(i_xy) - truth) <= INFO_RTOL * truth + INFO_ATOL
        tol = INFO_RTOL * float(i_xy) + INFO_ATOL
        assert np.all(i_ty >= -tol) and np.all(i_ty <= i_xy + tol) and np.all(i_ty <= i_xt + tol)
        assert np.all(np.diff(i_xt) >= -tol) and np.all(np.diff(i_ty) >= -tol)


@pytest.mark.parametrize("fn", METHODS)
@given(cov=joint_covariances(), beta=betas(), c=magnitudes(1e-100, 1e100))
def test_information_invariant_under_rescaling_x(fn: str, cov: tuple, beta: float, c: float) -> None:
    cx, cxy, cy, _, _ = cov
    if not (np.all(np.isfinite(cx * c * c)) and np.all(np.abs(np.diag(cx * c * c)) > 1e-300)):
        return
    with case(fn):
        a = getattr(gaussian, fn)(cx, cxy, cy, [beta])
        b = getattr(gaussian, fn)(cx * c * c, cxy * c, cy, [beta])
        for u, v in ((a.i_xt, b.i_xt), (a.i_ty, b.i_ty)):
            u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
            assert np.allclose(u, v, rtol=INFO_RTOL, atol=INFO_ATOL + INFO_RTOL * float(a.i_xy))


@given(joint_covariances())
def test_validate_covariances_accepts_near_singular_joints(cov: tuple) -> None:
    cx, cxy, cy, _, _ = cov
    with case("validate_covariances"):
        out = gaussian.validate_covariances(cx, cxy, cy)
        assert all(np.array_equal(u, v) for u, v in zip(out, (cx, cxy, cy), strict=True))


CX, CXY, CY = np.array([[2.0, 0.3], [0.3, 1.0]]), np.array([[0.5], [0.2]]), np.array([[1.0]])


@pytest.mark.parametrize("fn", METHODS)
@pytest.mark.parametrize("kind", [*MALFORMED_KINDS, "bool", "empty", "wrong_ndim"])
@pytest.mark.parametrize("arg", ["cov_x", "cov_xy", "cov_y", "betas"])
def test_refuses_malformed_arrays(fn: str, kind: str, arg: str) -> None:
    args = {"cov_x": CX, "cov_xy": CXY, "cov_y": CY, "betas": np.array([0.5, 2.0])}
    if arg == "betas" and kind == "empty":
        return  # an empty beta grid is a valid (empty) curve
    args[arg] = malformed_value(kind, args[arg])
    refuses(fn, arg, getattr(gaussian, fn), **args)


@pytest.mark.parametrize("fn", METHODS)
@pytest.mark.parametrize(
    ("arg", "value"),
    [("cov_x", np.array([[1.0, 2.0], [2.0, 1.0]])), ("cov_x", np.array([[1.0, 0.5], [0.0, 1.0]])),
     ("cov_y", np.zeros((1, 1))), ("cov_xy", np.ones((3, 1))), ("cov_xy", np.array([[5.0], [5.0]])),
     ("betas", -1.0), ("units", "nat"), ("backend", "jax")],
)
def test_refuses_invalid_values(fn: str, arg: str, value: object) -> None:
    args: dict[str, object] = {"cov_x": CX, "cov_xy": CXY, "cov_y": CY, "betas": [1.0], arg: value}
    # a cross-covariance too large for the blocks makes the joint indefinite: named as cov_xy or the joint
    name = None if (arg == "cov_xy" and np.asarray(value).shape == (2, 1)) else arg
    refuses(fn, name, getattr(gaussian, fn), **args)
