"""Binning (plug-in) mutual-information estimator for information planes.

Theory reference 5.4 [SRC:code IDNNs information_process.py]: every activation is replaced by its
bin, a layer's binned vector T~ is one discrete symbol, X is uniform over the rows (the distinct
input patterns) and T is a deterministic function of X, so

    I(X;T) = H(T~),        I(T;Y) = H(T~) + H(Y) - H(T~, Y)

with plug-in entropies of empirical frequencies, H = ln N - (1/N) sum_c n_c ln n_c (nats).
Batched over any leading axes (epochs, networks, layers): the bin codes of a row are packed into
one integer and the counts come from one sort of the packed codes per batch element.

Note: the plug-in entropy of counts is written here by hand (it is an algorithm over counts, there
is no generated kernel for it yet).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..numeric import check_positive_int, check_units, to_units


@dataclass(frozen=True)
class BinningInformation:
    """Binned information-plane coordinates of a batch of layers.

    Fields
    ------
    i_xt : ndarray (...), I(X;T~) = H(T~), in ``units``, one per leading batch index.
    i_ty : ndarray (...), I(T~;Y), in ``units``; clipped at 0 (the plug-in value is >= 0 exactly,
        the clip removes round-off of H(T~) + H(Y) - H(T~, Y) only).
    h_y : float, H(Y) of the labels, in ``units`` (upper bound of ``i_ty``).
    n_bins : int, number of equal-width bins per unit over ``value_range``.
    value_range : (float, float), the binned interval; values outside go to the edge bins.
    n_samples : int, number of rows N (X uniform over them); ``i_xt <= ln N``.
    units : ``"nats"`` or ``"bits"``.
    """

    i_xt: np.ndarray
    i_ty: np.ndarray
    h_y: float
    n_bins: int
    value_range: tuple[float, float]
    n_samples: int
    units: str


def check_activations(activations: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate activations (..., N, d) and integer labels (N,); return them as arrays."""
    if activations is None:
        raise TypeError("activations must be a real numeric array (..., n_samples, n_units), got None")
    try:
        a = np.asarray(activations)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"activations must be a real numeric array (..., n_samples, n_units): {exc}") from None
    if np.iscomplexobj(a) or a.dtype.kind in "USbO":
        raise TypeError(f"activations must be real numbers, got dtype {a.dtype}; convert them explicitly, e.g. x.astype(float)")
    if a.ndim < 2:
        raise ValueError(
            f"activations must have shape (..., n_samples, n_units), got shape {a.shape}; "
            "pass a single unit as shape (n_samples, 1)"
        )
    if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise ValueError(f"activations must be real numbers, got dtype {a.dtype}")
    if a.size and not np.all(np.isfinite(a)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        raise ValueError(
            f"activations contain a non-finite value ({a[bad]!r}) at index {bad}; "
            "a diverged network has no information plane: lower the learning rate or drop that run"
        )
    try:
        y = np.asarray(labels)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"labels must be a one-dimensional array of integer class indices: {exc}") from None
    if y.dtype.kind not in "iuf":
        raise TypeError(f"labels must be integer class indices, got dtype {y.dtype}; map them to 0..C-1 first")
    if y.ndim != 1:
        raise ValueError(f"labels must be one-dimensional (n_samples,), got shape {y.shape}")
    if y.shape[0] != a.shape[-2]:
        raise ValueError(
            f"labels have length {y.shape[0]} but activations have {a.shape[-2]} samples "
            f"(axis -2 of shape {a.shape}); pass one label per row"
        )
    if a.shape[-2] < 1:
        raise ValueError("activations hold no samples")
    if not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError("labels must be integers (class indices)")
    return a, y.astype(np.int64)


def label_codes(y: np.ndarray) -> tuple[np.ndarray, int]:
    """Relabel integer labels (N,) as codes 0..C-1 in sorted order; returns ``(codes, C)``."""
    _, inv = np.unique(y, return_inverse=True)
    return inv.astype(np.int64).reshape(-1), int(inv.max()) + 1


def plug_in_entropy_rows(codes: np.ndarray) -> np.ndarray:
    """Plug-in entropy (nats) of the symbols in each row of an integer array (B, N) -> (B,).

    H = ln N - (1/N) sum_c n_c ln n_c over the distinct symbols c of the row.
    """
    b, n = codes.shape
    if b == 0:
        return np.zeros(0)
    s = np.sort(codes, axis=1)
    new = np.ones_like(s, dtype=bool)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    starts = np.flatnonzero(new.reshape(-1))
    counts = np.diff(np.append(starts, b * n)).astype(np.float64)
    rows = starts // n
    c_log_c = np.bincount(rows, weights=counts * np.log(counts), minlength=b)
    # >= 0 exactly; ln N - ln N of a one-symbol row can round to -2e-16, which would make H(Y) < 0
    return np.maximum(math.log(n) - c_log_c / n, 0.0)


def pack_rows(codes: np.ndarray, base: int) -> np.ndarray:
    """Map each row of non-negative integer codes (..., N, d), entries < base, to one int64 (..., N).

    Exact positional packing when base**d fits in int64; otherwise rows are relabelled through
    ``np.unique(axis=0)`` (equal rows get equal labels, distinct rows distinct labels).
    """
    d = codes.shape[-1]
    if d * math.log2(max(base, 2)) < 62:
        weights = np.int64(base) ** np.arange(d - 1, -1, -1, dtype=np.int64)
        return codes.astype(np.int64) @ weights
    flat = codes.reshape(-1, d)
    _, inv = np.unique(flat, axis=0, return_inverse=True)
    return inv.reshape(codes.shape[:-1]).astype(np.int64)


def _bin_codes(a: np.ndarray, low: float, high: float, n_bins: int) -> np.ndarray:
    """floor((a - low) / width), width = (high - low) / n_bins, unclipped.

    When the width or a difference a - low is not a normal float64 (a range wider than 1.8e308,
    or narrower than ~1e-300 per bin), everything is first scaled by one power of two, which is
    exact, so the bins are those of the real numbers instead of one bin (inf width) or NaN codes
    (zero width; issue 21). Ordinary ranges take the plain formula, unchanged.
    """
    width = (high - low) / n_bins
    extent = max(abs(low), abs(high), float(np.max(np.abs(a), initial=0.0)))
    big = np.finfo(np.float64).max / 4
    if math.isfinite(width) and width >= np.finfo(np.float64).tiny and extent < big and extent / big < width:
        return np.floor((a - low) / width)
    # power of two bringing the range to ~1: exact unless an entry under- or overflows, and
    # entries that do lie far outside [low, high] and land in an edge bin either way
    shift = -math.frexp(max(abs(low), abs(high)))[1]
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        sa, slow, shigh = (np.ldexp(np.asarray(v, dtype=np.float64), shift) for v in (a, low, high))
        codes = np.floor((sa - slow) / ((shigh - slow) / n_bins))
    return np.nan_to_num(codes, nan=0.0, posinf=n_bins, neginf=-1.0)


def binning_information(
    activations: Any,
    labels: Any,
    *,
    n_bins: int,
    value_range: tuple[float, float],
    units: str = "bits",
) -> BinningInformation:
    """Binned I(X;T) and I(T;Y) of deterministic representations (theory 5.4).

    Parameters
    ----------
    activations:
        Array (..., N, d): a layer's activations on N inputs (X uniform over the rows), with any
        leading batch axes (epochs, networks, layers of equal width).
    labels:
        Integer labels (N,).
    n_bins:
        Number of equal-width bins over ``value_range`` (required: it decides the result). IDNNs
        uses 30 edges on [-1, 1], i.e. ``n_bins=29`` over ``(-1.0, 1.0)`` (plus the edge 1.0).
    value_range:
        ``(low, high)`` with low < high; activations below/above are assigned to the first/last
        bin (so the bins must cover the activations for a faithful estimate: tanh -> (-1, 1);
        ReLU -> (0, max activation)).
    units:
        ``"bits"`` (default, as in the papers' plots) or ``"nats"``.

    Returns
    -------
    BinningInformation with ``i_xt``, ``i_ty`` of shape ``activations.shape[:-2]``.
    """
    check_units(units)
    n_bins = check_positive_int(n_bins, "n_bins")
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"value_range must be a pair (low, high) of numbers, got {value_range!r}"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"value_range must be finite with low < high, got {value_range!r}")
    a, y = check_activations(activations, labels)
    n = a.shape[-2]
    batch_shape = a.shape[:-2]
    codes = _bin_codes(a, low, high, n_bins)

    codes = np.clip(codes, 0, n_bins - 1).astype(np.int64)
    symbols = pack_rows(codes, int(n_bins)).reshape(-1, n)
    y_codes, n_y = label_codes(y)
    h_t = plug_in_entropy_rows(symbols)
    # joint symbol (T~, Y): relabel T~ within each row first so the product cannot overflow
    order_free = np.empty_like(symbols)
    for i in range(symbols.shape[0]):
        _, order_free[i] = np.unique(symbols[i], return_inverse=True)
    h_ty = plug_in_entropy_rows(order_free * n_y + y_codes[None, :])
    h_y = float(plug_in_entropy_rows(y_codes[None, :])[0])
    i_ty = np.maximum(h_t + h_y - h_ty, 0.0)
    return BinningInformation(
        i_xt=to_units(h_t.reshape(batch_shape), units),
        i_ty=to_units(i_ty.reshape(batch_shape), units),
        h_y=float(to_units(h_y, units)),
        n_bins=int(n_bins),
        value_range=(low, high),
        n_samples=int(n),
        units=units,
    )
