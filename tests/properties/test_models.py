"""Properties of the canonical problems and data loaders (ibtheory.models), issue 21.

Valid input: every joint is a normalised, finite distribution with positive rows; one-hot codes
are exact; splits partition the samples; generated data sets are finite and seed-reproducible.
Malformed input: ValueError/TypeError naming the argument (files: ValueError naming the path).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ibtheory import models
from ibtheory.testing import magnitudes

from ._cases import case, examples, refuses

#: Joints are normalised by one division: the total is 1 to a few eps per entry.
NORM_ATOL = 1e-12


def assert_joint(p: np.ndarray) -> None:
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    assert np.all(p.sum(axis=1) > 0)
    assert abs(float(p.sum()) - 1.0) <= NORM_ATOL


@given(st.integers(1, 12), st.integers(1, 12), magnitudes(1e-3, 1e3), st.integers(0, 2**32))
def test_random_joint_is_a_distribution(n_x: int, n_y: int, concentration: float, seed: int) -> None:
    with case("random_joint"):
        try:
            models.random_joint(n_x, n_y, concentration=concentration, seed=seed)
        except ValueError as exc:  # an x of zero mass in the draw is refused, naming concentration
            # only draws that really have an empty row (numpy's stick-breaking Dirichlet, used for
            # all alphas < 0.1, underflows to exact zeros: found at 0.064 by the nightly run)
            draw = np.random.default_rng(seed).dirichlet(concentration * np.ones(n_x * n_y)).reshape(n_x, n_y)
            assert "concentration" in str(exc) and np.any(draw.sum(axis=1) == 0)
            return
        p = models.random_joint(n_x, n_y, concentration=concentration, seed=seed)
        assert p.shape == (n_x, n_y)
        assert_joint(p)
        assert np.array_equal(p, models.random_joint(n_x, n_y, concentration=concentration, seed=seed))


@given(st.floats(0.0, 1.0), st.floats(1e-15, 1 - 1e-15))
def test_binary_symmetric_channel_is_a_distribution(flip: float, p_one: float) -> None:
    with case("binary_symmetric_channel"):
        p = models.binary_symmetric_channel(flip, p_one)
        assert_joint(p)
        assert np.allclose(p.sum(axis=1), [1 - p_one, p_one], rtol=1e-12, atol=0)


@given(st.integers(2, 40), st.floats(-0.999, 0.999), magnitudes(0.5, 20.0))
def test_discretised_gaussian_pair_is_a_distribution(n: int, rho: float, span: float) -> None:
    with case("discretised_gaussian_pair"):
        p = models.discretised_gaussian_pair(n, rho, span=span)
        assert p.shape == (n, n)
        assert_joint(p)


@given(st.lists(st.integers(0, 9), min_size=1, max_size=30))
def test_one_hot_is_exact(labels: list[int]) -> None:
    with case("one_hot"):
        y = models.one_hot(np.array(labels), 10)
        assert np.array_equal(np.argmax(y, axis=1), labels) and np.all(y.sum(axis=1) == 1)


@given(st.integers(2, 4096), st.floats(0.05, 0.95), st.integers(0, 2**32))
def test_twelve_bit_split_partitions_the_samples(n: int, fraction: float, seed: int) -> None:
    with case("twelve_bit_split"):
        split = models.twelve_bit_split(n, train_fraction=fraction, seed=seed)
        idx = np.concatenate([np.asarray(split.train), np.asarray(split.test)])
        assert np.array_equal(np.sort(idx), np.arange(n))


@settings(max_examples=examples(5))
@given(st.integers(1, 30), st.integers(1, 30), st.integers(2, 5), st.integers(1, 6), magnitudes(1e-3, 1e3), st.integers(0, 2**32))
def test_synthetic_data_finite_and_reproducible(n_train: int, n_test: int, n_classes: int, dim: int, spread: float, seed: int) -> None:
    with case("synthetic_data"):
        a = models.synthetic_data(n_train, n_test, n_classes=n_classes, dim=dim, spread=spread, seed=seed)
        b = models.synthetic_data(n_train, n_test, n_classes=n_classes, dim=dim, spread=spread, seed=seed)
        for field in ("x_train", "y_train", "x_test", "y_test"):
            u, v = getattr(a, field), getattr(b, field)
            assert np.array_equal(u, v) and np.all(np.isfinite(np.asarray(u, dtype=float)))


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "arg"),
    [
        ("random_joint", (0, 2), {"seed": 0}, "n_x"), ("random_joint", (2, 1.5), {"seed": 0}, "n_y"), ("random_joint", (2, 2), {"concentration": 0.0}, "concentration"),
        ("random_joint", (2, 2), {"concentration": np.nan}, "concentration"), ("random_joint", (2, 2), {"seed": 1.5}, "seed"),
        ("random_joint", (True, 2), {"seed": 0}, "n_x"), ("random_joint", (2, 2), {"concentration": 1e-5, "seed": 1}, "concentration"),
        ("binary_symmetric_channel", (1.5,), {}, "flip"), ("binary_symmetric_channel", (np.nan,), {}, "flip"),
        ("binary_symmetric_channel", (0.1, 0.0), {}, "p_one"), ("binary_symmetric_channel", (0.1, 1.0), {}, "p_one"),
        ("binary_symmetric_channel", (0.1j,), {}, "flip"), ("binary_symmetric_channel", ("0.1",), {}, "flip"),
        ("discretised_gaussian_pair", (1, 0.5), {}, "n"), ("discretised_gaussian_pair", (8, 1.0), {}, "rho"),
        ("discretised_gaussian_pair", (8, np.nan), {}, "rho"), ("discretised_gaussian_pair", (8, 0.5), {"span": -1.0}, "span"),
        ("one_hot", (np.array([0, 3]), 3), {}, "labels"), ("one_hot", (np.array([0.5]), 3), {}, "labels"),
        ("one_hot", (np.array([-1]), 3), {}, "labels"), ("one_hot", (np.array([0]), 0), {}, "n_classes"),
        ("one_hot", (np.array([np.nan]), 3), {}, "labels"),
        ("twelve_bit_split", (0,), {"train_fraction": 0.5, "seed": 0}, "n_samples"),
        ("twelve_bit_split", (10,), {"train_fraction": 1.5, "seed": 0}, "train_fraction"),
        ("twelve_bit_split", (10,), {"train_fraction": np.nan, "seed": 0}, "train_fraction"),
        ("twelve_bit_split", (10,), {"train_fraction": 0.5, "seed": None}, "seed"),
        ("synthetic_data", (0, 5), {"seed": 0}, "n_train"), ("synthetic_data", (5, 5), {"seed": 0, "n_classes": 0}, "n_classes"),
        ("synthetic_data", (5, 5), {"seed": 0, "spread": -1.0}, "spread"), ("synthetic_data", (5, 5), {"seed": None}, "seed"),
        ("twelve_bit_data", (0, 5), {"seed": 0}, "n_train"), ("twelve_bit_task", (), {"rule": "cube"}, "rule"),
        ("load_classification_data", ("mnist", 5, 5), {"seed": 0}, "name"),
        ("digits_arrays", (), {"scale": "unit8"}, "scale"),
        ("exponential_family_data", (0,), {"seed": 0}, "n_x"),
    ],
)
def test_models_refuse_bad_arguments(fn: str, args: tuple, kwargs: dict, arg: str) -> None:
    refuses(fn, arg, getattr(models, fn), *args, **kwargs)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04garbage", b"not a zip", None])
def test_npz_data_refuses_damaged_files(tmp_path: object, content: bytes | None) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "data.npz"
    if content is not None:
        path.write_bytes(content)
    refuses("npz_data", "data.npz", models.npz_data, path, seed=0)


def test_npz_data_refuses_missing_arrays_and_pickles(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    np.savez(folder / "partial.npz", x_train=np.zeros((3, 2)))
    refuses("npz_data", "partial.npz", models.npz_data, folder / "partial.npz", seed=0)
    objects = np.empty(3, dtype=object)
    np.savez(folder / "pickled.npz", x_train=objects, y_train=objects, x_test=objects, y_test=objects)
    refuses("npz_data", "pickled.npz", models.npz_data, folder / "pickled.npz", seed=0)
    np.savez(folder / "nan.npz", x_train=np.full((3, 2), np.nan), y_train=np.zeros(3, int), x_test=np.zeros((3, 2)), y_test=np.zeros(3, int))
    refuses("npz_data", "x_train", models.npz_data, folder / "nan.npz", seed=0)
