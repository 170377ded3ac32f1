"""``npz_data`` reads data only (``allow_pickle=False``) and names the file and the problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ibtheory.models import npz_data

ARRAYS = {
    "x_train": np.arange(12.0).reshape(4, 3),
    "y_train": np.array([0, 1, 0, 1]),
    "x_test": np.arange(6.0).reshape(2, 3),
    "y_test": np.array([1, 0]),
}


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "data.npz"
    np.savez(path, **ARRAYS)  # type: ignore[arg-type]
    return path


def test_a_good_file_loads(good: Path) -> None:
    data = npz_data(good, seed=0, scale="none")
    np.testing.assert_array_equal(data.x_train.shape, (4, 3))


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda b: b"", "the file is empty"),
        (lambda b: b[: len(b) // 2], "truncated or corrupt"),
        (lambda b: b"PK\x03\x04" + b"\x00" * 40, "truncated or corrupt"),
        (lambda b: b"plain text, not an archive", "cannot read it as an .npz"),
    ],
    ids=["empty", "truncated", "bad-zip-header", "not-a-zip"],
)
def test_damaged_files_raise_value_error_naming_the_path(damage, problem: str, good: Path) -> None:
    good.write_bytes(damage(good.read_bytes()))
    with pytest.raises(ValueError, match=problem) as info:
        npz_data(good, seed=0)
    assert str(good) in str(info.value)


def test_a_truncated_member_is_a_value_error(good: Path) -> None:
    raw = bytearray(good.read_bytes())
    start = raw.index(b"\x93NUMPY")  # the first member's data (stored, not compressed)
    raw[start + 200 : start + 210] = b"\xff" * 10  # corrupt the member: its CRC no longer matches
    good.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"truncated or corrupt|cannot read it") as info:
        npz_data(good, seed=0)
    assert str(good) in str(info.value)


def test_pickled_object_arrays_are_refused_not_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "pickled.npz"
    np.savez(path, **{**ARRAYS, "y_train": np.array([0, 1, None, 1], dtype=object)})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="allow_pickle=False") as info:
        npz_data(path, seed=0)
    assert str(path) in str(info.value)


def test_a_single_npy_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "one.npz"
    with open(path, "wb") as f:
        np.save(f, ARRAYS["x_train"])
    with pytest.raises(ValueError, match=r"single \.npy array"):
        npz_data(path, seed=0)
