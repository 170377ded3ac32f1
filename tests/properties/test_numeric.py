"""Properties of the validation layer (ibtheory.numeric): valid extremes pass unchanged, every
malformed input is a ValueError/TypeError naming the argument (issue 21)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ibtheory import numeric
from ibtheory.testing import (
    MALFORMED_KINDS,
    MALFORMED_SCALARS,
    betas,
    extreme_joints,
    magnitudes,
    malformed_arrays,
    malformed_value,
    near_singular_spd,
)

from ._cases import case, refuses

JOINT = np.array([[0.1, 0.2], [0.3, 0.4]])


@given(extreme_joints(3, 2))
def test_check_joint_accepts_extreme_joints_unchanged(p_xy: np.ndarray) -> None:
    with case("check_joint"):
        out = numeric.check_joint(p_xy)
        assert np.array_equal(out, p_xy)


@given(extreme_joints(3, 2), magnitudes(1e-300, 1e300))
def test_check_joint_normalises_counts_of_any_total(p_xy: np.ndarray, total: float) -> None:
    counts = p_xy * total
    if not np.all(np.isfinite(counts)) or not np.any(counts > 0, axis=1).all():
        return  # the scaled joint is not representable; nothing to normalise
    with case("check_joint"):
        out = numeric.check_joint(counts, normalize=True)
        assert np.all(np.isfinite(out))
        assert math.isclose(float(out.sum()), 1.0, rel_tol=0, abs_tol=1e-12)


@pytest.mark.parametrize("kind", [*MALFORMED_KINDS, "empty", "negative", "unnormalised", "bool", "wrong_ndim"])
def test_check_joint_refuses_malformed_joints(kind: str) -> None:
    refuses("check_joint", "p_xy", numeric.check_joint, malformed_value(kind, JOINT))


@given(betas())
def test_check_beta_accepts_extreme_betas(beta: float) -> None:
    with case("check_beta"):
        assert float(numeric.check_beta(beta)) == beta


@pytest.mark.parametrize(("kind", "value"), [kv for kv in MALFORMED_SCALARS if kv[0] not in ("zero", "list")])
def test_check_beta_refuses_malformed(kind: str, value: object) -> None:
    refuses("check_beta", "beta", numeric.check_beta, value)


@pytest.mark.parametrize(("kind", "value"), MALFORMED_SCALARS)
def test_check_positive_refuses_malformed(kind: str, value: object) -> None:
    refuses("check_positive", "rate", numeric.check_positive, value, "rate")


@given(magnitudes(5e-324, 1.7e308))
def test_check_positive_accepts_every_positive_float(value: float) -> None:
    with case("check_positive"):
        assert numeric.check_positive(value, "rate") == value


@pytest.mark.parametrize("value", [1.5, float("nan"), float("inf"), True, "3", None, 1 + 0j, [1], -1])
def test_check_int_refuses_malformed(value: object) -> None:
    refuses("check_int", "n", numeric.check_int, value, "n", minimum=0)


@given(st.integers(min_value=1, max_value=2**62))
def test_check_positive_int_accepts_integers_and_integral_floats(value: int) -> None:
    with case("check_positive_int"):
        assert numeric.check_positive_int(value, "n") == value
        assert numeric.check_int(np.int64(value), "n", minimum=1) == value


@pytest.mark.parametrize("value", [0, -1, 0.5, True, "1", None])
def test_check_positive_int_refuses_malformed(value: object) -> None:
    refuses("check_positive_int", "n", numeric.check_positive_int, value, "n")


@given(near_singular_spd(3))
def test_check_spd_accepts_near_singular_matrices(matrix: np.ndarray) -> None:
    with case("check_spd"):
        assert np.array_equal(numeric.check_spd(matrix, "cov_x"), matrix)


@pytest.mark.parametrize(
    "matrix",
    [
        np.array([[1.0, 2.0], [2.0, 1.0]]),  # indefinite
        np.array([[1.0, 0.5], [0.0, 1.0]]),  # not symmetric
        np.zeros((2, 2)),
        np.ones((2, 3)),
        np.ones(3),
    ],
)
def test_check_spd_refuses_non_spd(matrix: np.ndarray) -> None:
    refuses("check_spd", "cov_x", numeric.check_spd, matrix, "cov_x")


@given(malformed_arrays(np.eye(2), kinds=MALFORMED_KINDS))
def test_check_spd_refuses_malformed(kind_value: tuple[str, object]) -> None:
    refuses("check_spd", "cov_x", numeric.check_spd, kind_value[1], "cov_x")


@given(malformed_arrays(np.ones((2, 2)), kinds=[k for k in MALFORMED_KINDS if k != "ragged"] + ["bool"]))
def test_check_finite_array_refuses_malformed(kind_value: tuple[str, object]) -> None:
    refuses("check_finite_array", "acts", numeric.check_finite_array, kind_value[1], "acts")


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_as_real_array_keeps_every_finite_float(value: float) -> None:
    with case("as_real_array"):
        assert numeric.as_real_array([value], "x")[0] == value


@pytest.mark.parametrize("kind", ["complex", "string", "none", "bool", "dict"])
def test_as_real_array_refuses_wrong_types(kind: str) -> None:
    refuses("as_real_array", "x", numeric.as_real_array, malformed_value(kind, np.ones(3)), "x")


@given(st.floats(min_value=-1e300, max_value=1e300))
def test_to_units_bits_times_ln2_is_nats(value: float) -> None:
    with case("to_units"):
        assert math.isclose(numeric.to_units(value, "bits") * math.log(2), value, rel_tol=4e-16, abs_tol=0)
        assert numeric.to_units(value, "nats") == value


@pytest.mark.parametrize("units", ["Bits", "nat", "", None, 2])
def test_check_units_and_to_units_refuse_unknown_units(units: object) -> None:
    refuses("check_units", "units", numeric.check_units, units)
    refuses("to_units", "units", numeric.to_units, 1.0, units)


@given(st.sampled_from([np.finfo(np.float16).eps, np.finfo(np.float32).eps, np.finfo(np.float64).eps]), st.integers(1, 10**8))
def test_normalisation_atol_is_at_least_the_float64_tolerance_and_grows_with_size(eps: float, size: int) -> None:
    with case("normalisation_atol"):
        atol = numeric.normalisation_atol(eps, size)
        assert atol >= numeric.NORMALISATION_ATOL
        assert atol >= eps
        assert numeric.normalisation_atol(eps, 2 * size) >= atol


@given(st.integers(min_value=0, max_value=2**63))
def test_as_generator_is_reproducible_from_any_seed(seed: int) -> None:
    with case("as_generator"):
        assert numeric.as_generator(seed).integers(1 << 30) == numeric.as_generator(seed).integers(1 << 30)


@pytest.mark.parametrize("seed", [None, 1.5, -1, True, "0", float("nan"), object()])
def test_as_generator_refuses_malformed_seeds(seed: object) -> None:
    refuses("as_generator", "seed", numeric.as_generator, seed)


@pytest.mark.parametrize(("backend", "device"), [("jax", None), ("numpy", "cuda"), (None, None), ("numpy", 3)])
def test_array_backend_refuses_unknown_backends_and_devices(backend: object, device: object) -> None:
    refuses("array_backend", "backend" if device is None else "device", numeric.array_backend, backend, device)
