"""The one digits loader (ibtheory.models.digits_arrays) and its two documented scalings."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from ibtheory.infoplane import load_digits_data
from ibtheory.models import DIGITS_SCALES, digits_arrays, digits_data


def test_scalings_are_the_documented_maps_of_the_raw_pixels():
    raw = load_digits()  # integer pixels 0..16
    unit, labels = digits_arrays(scale="unit")
    symmetric, labels_s = digits_arrays(scale="symmetric")
    np.testing.assert_array_equal(labels, raw.target)
    np.testing.assert_array_equal(labels_s, raw.target)
    # exact in float64: pixels are small integers and 8, 16 are powers of two
    np.testing.assert_array_equal(unit * 16.0, raw.data)
    np.testing.assert_array_equal(symmetric, 2.0 * unit - 1.0)
    assert unit.min() == 0.0 and unit.max() == 1.0
    assert symmetric.min() == -1.0 and symmetric.max() == 1.0
    assert set(DIGITS_SCALES) == {"unit", "symmetric"}


def test_both_splits_draw_their_rows_from_the_one_loader():
    unit, labels = digits_arrays(scale="unit")
    symmetric, _ = digits_arrays(scale="symmetric")
    vib = load_digits_data(seed=0)
    assert vib.x_train.dtype == np.float32
    # every VIB row is a loader row (x / 16) with its label
    rows = {tuple(r): int(c) for r, c in zip(unit.astype(np.float32), labels, strict=True)}
    assert all(rows[tuple(r)] == c for r, c in zip(vib.x_test, vib.y_test, strict=True))
    ntk = digits_data(20, 10, seed=0)  # default scale: symmetric (x / 8 - 1)
    sym_rows = {tuple(r) for r in symmetric}
    assert all(tuple(r) in sym_rows for r in ntk.x_train)


def test_unknown_scale_is_refused():
    with pytest.raises(ValueError, match="scale"):
        digits_arrays(scale="minmax")
    with pytest.raises(ValueError, match="scale"):
        digits_data(10, 10, seed=0, scale="raw")
