"""The synthetic 12-bit task of "Opening the black box" (Shwartz-Ziv & Tishby 2017, arXiv 1703.00810).

Theory reference section 5.2: 12 binary inputs, all 2**12 = 4096 patterns, binary labels given by a
"spherically symmetric rule": the 12 inputs are 12 points spread on the 2-sphere and the label is a
threshold of an O(3)-invariant function of the pattern, with the threshold chosen so that
p(y=1) ~ 0.5. The exact function of the paper is not public (UNCONFIRMED in the reference); the
rule here is our own documented choice (derived here), picked so that its label statistics resemble
the measured ``var_u.mat`` labels (P(y=1 | #ones=k) = 0, 0.08, 0.58, 0.92, 1 for k<=4, 5, 6, 7,
>=8 there; 0, 0.08, 0.42, 0.92, 1 here).

Rule ``"sphere"`` (default):

* the 12 points v_1..v_12 are the vertices of the regular icosahedron, the most uniform spread
  of 12 points on the unit 2-sphere;
* f(x) = sum_i x_i - weight * || sum_i x_i v_i ||_2 depends on the pattern only through the
  Gram matrix v_i . v_j, hence is invariant under any rotation or reflection Q in O(3) applied to
  all points (v_i -> Q v_i); it rewards many active inputs that are spread over the sphere;
* y = 1 if f(x) > theta, with theta the median of f over the 4096 patterns (strict inequality,
  labels deterministic). With ``weight=1``: 1978 ones, p(y=1) = 0.48291, H(Y) = I(X;Y) = 0.99915
  bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..numeric import as_generator, check_int

#: Number of input bits and number of patterns of the task.
N_BITS = 12
N_PATTERNS = 2**N_BITS

RULES = ("sphere",)


def icosahedron_vertices() -> np.ndarray:
    """The 12 unit vectors of the regular icosahedron, shape (12, 3), float64.

    Vertices are the cyclic permutations of (0, +-1, +-phi) (phi the golden ratio), normalised.
    """
    phi = (1.0 + math.sqrt(5.0)) / 2.0
    rows = []
    for a in (-1.0, 1.0):
        for b in (-1.0, 1.0):
            rows += [(0.0, a, b * phi), (a, b * phi, 0.0), (b * phi, 0.0, a)]
    v = np.asarray(rows)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def all_patterns(n_bits: int = N_BITS) -> np.ndarray:
    """All 2**n_bits binary patterns as rows (most significant bit first), shape (2**n, n), int8."""
    idx = np.arange(2**n_bits)[:, None]
    return ((idx >> np.arange(n_bits)[::-1]) & 1).astype(np.int8)


def sphere_score(x: np.ndarray, points: np.ndarray, weight: float) -> np.ndarray:
    """f(x) = sum_i x_i - weight * ||sum_i x_i v_i|| for patterns x (n, 12) and points v (12, 3)."""
    xf = np.asarray(x, dtype=np.float64)
    return xf.sum(axis=1) - weight * np.linalg.norm(xf @ points, axis=1)


def twelve_bit_task(
    *, rule: str = "sphere", weight: float = 1.0, points: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The 12-bit task: every binary pattern and its deterministic label.

    Parameters
    ----------
    rule:
        ``"sphere"`` (the only rule so far; see the module docstring): y = [f(x) > median f].
    weight:
        Weight of the spread term in f (>= 0). ``weight=1`` is the documented default.
    points:
        Optional (12, 3) array of the points on the sphere (default: icosahedron vertices). Any
        orthogonal transform of the default points gives the same labels (O(3) invariance).

    Returns
    -------
    x : ndarray (4096, 12), int8, entries 0/1, all patterns (row r is the binary expansion of r).
    y : ndarray (4096,), int64, labels 0/1.
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if not (math.isfinite(weight) and weight >= 0):
        raise ValueError(f"weight must be a finite number >= 0, got {weight!r}")
    v = icosahedron_vertices() if points is None else np.asarray(points, dtype=np.float64)
    if v.shape != (N_BITS, 3) or not np.all(np.isfinite(v)):
        raise ValueError(f"points must be a finite (12, 3) array, got shape {v.shape}")
    x = all_patterns()
    f = sphere_score(x, v, weight)
    # round away float noise so that O(3)-transformed points give bit-identical ties
    f = np.round(f, 9)
    theta = np.median(f)
    y = (f > theta).astype(np.int64)
    return x, y


@dataclass(frozen=True)
class TrainTestSplit:
    """A seeded split of the pattern indices.

    Fields
    ------
    train : ndarray (n_train,), int64, sorted indices of the training rows.
    test : ndarray (n - n_train,), int64, sorted indices of the held-out rows.
    train_fraction : float, the requested fraction; n_train = round(train_fraction * n).
    seed : int or None, the seed used (None when a Generator was passed).
    """

    train: np.ndarray
    test: np.ndarray
    train_fraction: float
    seed: int | None


def twelve_bit_split(
    n_samples: int, *, train_fraction: float, seed: int | np.random.Generator
) -> TrainTestSplit:
    """Split ``range(n_samples)`` into train/test at random (theory 5.2: 5%, 45% or 85% train).

    ``n_train = round(train_fraction * n_samples)``, at least 1 and at most ``n_samples - 1``.
    """
    n_samples = check_int(n_samples, "n_samples", minimum=2)
    if not (0.0 < float(train_fraction) < 1.0):
        raise ValueError(
            f"train_fraction must lie strictly between 0 and 1, got {train_fraction!r}"
        )
    rng = as_generator(seed)
    n_train = min(max(round(float(train_fraction) * n_samples), 1), int(n_samples) - 1)
    perm = rng.permutation(int(n_samples))
    return TrainTestSplit(
        train=np.sort(perm[:n_train]).astype(np.int64),
        test=np.sort(perm[n_train:]).astype(np.int64),
        train_fraction=float(train_fraction),
        seed=None if isinstance(seed, np.random.Generator) else int(seed),
    )
