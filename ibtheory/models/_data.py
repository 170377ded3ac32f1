"""Classification data sets for the NTK-information experiments (theory.md 4.4, 5.2).

Every loader returns a :class:`ClassificationData`: flattened float64 inputs, integer labels and
one-hot regression targets (the info_ntk convention: one-hot labels used as regression targets,
theory.md 4.4), split into a training and a held-out evaluation set by an explicit seed.

- :func:`digits_data`: the scikit-learn 8x8 digits (shipped with scikit-learn, no download), pixels
  0..16 scaled by :func:`digits_arrays` (the one digits loader): ``scale="symmetric"`` (default)
  x / 8 - 1 in [-1, 1] as info_ntk scales MNIST pixels x / 128 - 1, or ``"unit"`` x / 16 in
  [0, 1] as the variational IB code does (:func:`ibtheory.infoplane.load_digits_data`).
- :func:`twelve_bit_data`: the synthetic 12-bit task of Shwartz-Ziv & Tishby (theory.md 5.2),
  bits mapped to +-1.
- :func:`synthetic_data`: Gaussian class clusters in d dimensions.
- :func:`npz_data`: user arrays, e.g. an MNIST ``.npz`` with ``x_train, y_train, x_test, y_test``.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..numeric import as_generator, check_finite_array, check_positive_int


@dataclass(frozen=True)
class ClassificationData:
    """A labelled train / evaluation split.

    Fields
    ------
    x_train, x_test : (n_train, d) and (n_test, d) float64 inputs.
    labels_train, labels_test : (n_train,) and (n_test,) int64 classes in [0, n_classes).
    y_train, y_test : one-hot (n, n_classes) float64 regression targets.
    n_classes : number of classes; name : where the data came from.
    """

    x_train: np.ndarray
    labels_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    labels_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str


def one_hot(labels: Any, n_classes: int) -> np.ndarray:
    """(n, n_classes) float64 one-hot rows of integer labels in [0, n_classes)."""
    n_classes = check_positive_int(n_classes, "n_classes")
    raw = np.asarray(labels)
    if raw.dtype.kind not in "iub" and not (
        raw.dtype.kind == "f" and np.all(np.isfinite(raw)) and np.all(raw == np.round(raw))
    ):  # a cast would turn 0.5 into 0 and NaN into INT64_MIN
        raise ValueError(f"labels must be integer class indices, got {labels!r}")
    lab = raw.astype(np.int64)
    if lab.ndim != 1 or (lab.size and (lab.min() < 0 or lab.max() >= n_classes)):
        raise ValueError(f"labels must be a 1-D array of integers in [0, {n_classes}), got {labels!r}")
    out = np.zeros((lab.size, n_classes))
    out[np.arange(lab.size), lab] = 1.0
    return out


def _split(x: np.ndarray, labels: np.ndarray, n_train: Any, n_test: Any, seed: Any, name: str) -> ClassificationData:
    n_tr, n_te = check_positive_int(n_train, "n_train"), check_positive_int(n_test, "n_test")
    if n_tr + n_te > x.shape[0]:
        raise ValueError(
            f"n_train + n_test = {n_tr + n_te} exceeds the {x.shape[0]} examples of {name}; ask for fewer"
        )
    codes, lab = np.unique(labels, return_inverse=True)
    order = as_generator(seed).permutation(x.shape[0])
    tr, te = order[:n_tr], order[n_tr : n_tr + n_te]
    k = codes.size
    return ClassificationData(
        x_train=x[tr], labels_train=lab[tr], y_train=one_hot(lab[tr], k),
        x_test=x[te], labels_test=lab[te], y_test=one_hot(lab[te], k), n_classes=int(k), name=name,
    )


#: Pixel scalings of :func:`digits_arrays` (raw pixels are integers 0..16).
DIGITS_SCALES = {
    "symmetric": "x / 8 - 1, in [-1, 1] (info_ntk's MNIST convention x / 128 - 1)",
    "unit": "x / 16, in [0, 1] (the VIB / VdualIB convention)",
}


def digits_arrays(*, scale: str) -> tuple[np.ndarray, np.ndarray]:
    """All 1797 scikit-learn digits (8x8 images, bundled, no download): inputs (1797, 64) float64
    scaled as ``scale`` says (a key of :data:`DIGITS_SCALES`) and labels (1797,) int64 in 0..9."""
    from sklearn.datasets import load_digits

    if scale not in DIGITS_SCALES:
        raise ValueError(f"scale must be one of {sorted(DIGITS_SCALES)}, got {scale!r}")
    d = load_digits()
    pixels = np.asarray(d.data, dtype=np.float64)
    x = pixels / 8.0 - 1.0 if scale == "symmetric" else pixels / 16.0
    return x, np.asarray(d.target, dtype=np.int64)


def digits_data(n_train: int = 200, n_test: int = 200, *, seed: Any, scale: str = "symmetric") -> ClassificationData:
    """The scikit-learn digits (1797 8x8 images, 10 classes) scaled by :func:`digits_arrays`
    (``scale="symmetric"``: x / 8 - 1), ``n_train`` / ``n_test`` rows drawn at random with ``seed``."""
    x, labels = digits_arrays(scale=scale)
    return _split(x, labels, n_train, n_test, seed, "digits")


def twelve_bit_data(n_train: int = 200, n_test: int = 200, *, seed: Any) -> ClassificationData:
    """The 12-bit task (4096 patterns, 2 classes; theory.md 5.2) with bits mapped to +-1."""
    from ._twelve_bit import twelve_bit_task

    x, y = twelve_bit_task()
    return _split(2.0 * np.asarray(x, dtype=np.float64) - 1.0, np.asarray(y), n_train, n_test, seed, "twelve-bit")


def synthetic_data(
    n_train: int = 200, n_test: int = 200, *, n_classes: int = 3, dim: int = 8, spread: float = 0.5, seed: Any
) -> ClassificationData:
    """Gaussian clusters: class means ~ N(0, I_dim), points = mean + spread * N(0, I_dim)."""
    k = check_positive_int(n_classes, "n_classes")
    d = check_positive_int(dim, "dim")
    s = float(spread)
    if not (np.isfinite(s) and s >= 0):
        raise ValueError(f"spread must be a finite number >= 0, got {spread!r}")
    rng = as_generator(seed)
    n = check_positive_int(n_train, "n_train") + check_positive_int(n_test, "n_test")
    centres = rng.standard_normal((k, d))
    labels = np.arange(n) % k
    x = centres[labels] + s * rng.standard_normal((n, d))
    return _split(x, labels, n_train, n_test, rng, "synthetic")


def _labels_from(y: np.ndarray, name: str) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    y = y.reshape(-1)
    if np.any(y != np.round(y)):
        raise ValueError(f"{name} must hold integer labels (n,) or one-hot rows (n, n_classes)")
    return y.astype(np.int64)


def _read_npz(p: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The arrays ``keys`` of the ``.npz`` file ``p``; ValueError naming ``p`` for any unreadable file.

    ``allow_pickle=False``: an ``.npz`` is data, and unpickling a file runs code from it.
    """
    if p.stat().st_size == 0:
        raise ValueError(f"{p}: the file is empty; expected an .npz holding {', '.join(keys)}")
    try:
        with open(p, "rb") as fh:  # ours to close, also when the archive turns out damaged
            loaded = np.load(fh, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise ValueError(f"{p}: holds a single .npy array, not an .npz archive of {', '.join(keys)}")
            with loaded as f:
                missing = [k for k in keys if k not in f.files]
                if missing:
                    raise ValueError(f"{p} lacks the arrays {missing} (it has {f.files})")
                return {k: np.asarray(f[k]) for k in keys}
    except ValueError as exc:
        if str(exc).startswith(str(p)):
            raise
        raise ValueError(f"{p}: cannot read it as an .npz of plain arrays ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:  # truncated or not a zip at all
        raise ValueError(f"{p}: not a readable .npz file, truncated or corrupt ({type(exc).__name__}: {exc})") from None


def npz_data(
    path: str | Path, n_train: int | None = None, n_test: int | None = None, *, seed: Any, scale: str = "auto"
) -> ClassificationData:
    """Load user arrays from an ``.npz`` with ``x_train, y_train, x_test, y_test``.

    Inputs are flattened to (n, d); labels may be integers or one-hot rows. ``scale="auto"`` maps
    integer pixel data in [0, 255] to x / 128 - 1 (info_ntk's MNIST scaling) and leaves anything
    else unchanged; ``"none"`` never rescales. ``n_train`` / ``n_test`` take random subsets
    (``seed``); None keeps every example.
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"no such file: {p}; pass an .npz holding x_train, y_train, x_test, y_test")
    if scale not in ("auto", "none"):
        raise ValueError(f"scale must be 'auto' or 'none', got {scale!r}")
    raw = _read_npz(p, ("x_train", "y_train", "x_test", "y_test"))
    xs = []
    for key in ("x_train", "x_test"):
        a = raw[key]
        integer_pixels = a.dtype.kind in "iu" and a.size and a.min() >= 0 and a.max() <= 255
        x = check_finite_array(a.reshape(a.shape[0], -1), key)
        xs.append(x / 128.0 - 1.0 if scale == "auto" and integer_pixels else x)
    lab_tr, lab_te = _labels_from(raw["y_train"], "y_train"), _labels_from(raw["y_test"], "y_test")
    for x, lab, key in ((xs[0], lab_tr, "train"), (xs[1], lab_te, "test")):
        if lab.shape[0] != x.shape[0]:
            raise ValueError(f"x_{key} has {x.shape[0]} rows but y_{key} has {lab.shape[0]} labels")
    if xs[0].shape[1] != xs[1].shape[1]:
        raise ValueError(f"x_train and x_test have different numbers of features ({xs[0].shape[1]} vs {xs[1].shape[1]})")
    codes, inv = np.unique(np.concatenate([lab_tr, lab_te]), return_inverse=True)
    lab_tr, lab_te = inv[: lab_tr.size], inv[lab_tr.size :]
    for want, have, key in ((n_train, lab_tr.size, "n_train"), (n_test, lab_te.size, "n_test")):
        if want is not None and check_positive_int(want, key) > have:
            raise ValueError(f"{key} = {want} exceeds the {have} examples in {p}; ask for fewer or pass None")
    rng = as_generator(seed)
    tr = np.arange(lab_tr.size) if n_train is None else rng.permutation(lab_tr.size)[: check_positive_int(n_train, "n_train")]
    te = np.arange(lab_te.size) if n_test is None else rng.permutation(lab_te.size)[: check_positive_int(n_test, "n_test")]
    k = codes.size
    return ClassificationData(
        x_train=xs[0][tr], labels_train=lab_tr[tr], y_train=one_hot(lab_tr[tr], k),
        x_test=xs[1][te], labels_test=lab_te[te], y_test=one_hot(lab_te[te], k), n_classes=int(k), name=p.name,
    )


def load_classification_data(name: str, n_train: int, n_test: int, *, seed: Any) -> ClassificationData:
    """``"digits"``, ``"twelve-bit"``, ``"synthetic"`` or a path to an ``.npz`` (see :func:`npz_data`)."""
    if name == "digits":
        return digits_data(n_train, n_test, seed=seed)
    if name in ("twelve-bit", "twelve_bit", "12bit"):
        return twelve_bit_data(n_train, n_test, seed=seed)
    if name == "synthetic":
        return synthetic_data(n_train, n_test, seed=seed)
    if name.endswith(".npz"):
        return npz_data(name, n_train, n_test, seed=seed)
    raise ValueError(f"unknown data name {name!r}: use digits, twelve-bit, synthetic or a path to an .npz file")
