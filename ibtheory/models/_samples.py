"""Joint distributions from samples: plug-in (empirical) joints, past/future windows, bias of I(X;Y).

The IB of data (embo's use case) runs on the empirical joint of paired symbols. The plug-in
estimate of I(X;Y) from N samples is biased upwards: to first order
E[I_plugin] - I = (|X| - 1)(|Y| - 1) / (2N) nats for the occupied alphabets (Miller 1955; Panzeri &
Treves 1996, eq. for the bias of the entropy estimator H_plugin = H - (m - 1)/(2N)), so the top of
an IB curve computed from a small sample overstates the information. :func:`mutual_information_from_samples`
reports the plug-in value, the Miller-Madow corrected one (each entropy plus (m - 1)/(2N), m its
occupied cells) and a seeded basic bootstrap interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._generated import ib_numpy
from ..numeric import as_generator, check_positive_int, check_units, to_units


@dataclass(frozen=True)
class SampleJoint:
    """A joint distribution estimated from paired samples.

    Fields
    ------
    p_xy: (n_x, n_y) plug-in joint (counts / N when ``normalize=True``, else counts), rows and
        columns for the symbols that occur only (every row and column has positive mass).
    x_symbols, y_symbols: tuples of the symbols of each row / column, in sorted order (tuples of
        symbols for windows).
    n_samples: N, the number of (x, y) pairs counted.
    """

    p_xy: np.ndarray
    x_symbols: tuple
    y_symbols: tuple
    n_samples: int


def _as_sequence(values: Any, name: str) -> list:
    if isinstance(values, str | bytes):
        return list(values)
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"{name} must be a one-dimensional sequence of symbols, got shape {values.shape}")
        return values.tolist()
    if not isinstance(values, Sequence) and not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a sequence of symbols, got {type(values).__name__}")
    return list(values)


def _check_symbols(seq: list, name: str) -> None:
    for i, v in enumerate(seq):
        try:
            hash(v)
        except TypeError:
            raise ValueError(f"{name}[{i}] = {v!r} is not hashable; symbols must be hashable (int, str, tuple, ...)") from None
        if isinstance(v, float) and not np.isfinite(v):
            raise ValueError(f"{name}[{i}] = {v!r} is not a finite symbol")


def _encode(seq: list) -> tuple[np.ndarray, tuple]:
    """Integer codes of ``seq`` and the sorted symbol table (sorted when comparable, else by first use)."""
    table: list = list(dict.fromkeys(seq))
    try:
        table = sorted(table)
    except TypeError:
        pass
    index = {v: i for i, v in enumerate(table)}
    return np.fromiter((index[v] for v in seq), dtype=np.int64, count=len(seq)), tuple(table)


def joint_from_samples(x: Any, y: Any, *, normalize: bool = True) -> SampleJoint:
    """The plug-in joint of paired samples ``x[i]``, ``y[i]`` (hashable or integer symbols).

    Returns a :class:`SampleJoint` whose ``p_xy`` has one row per distinct x and one column per distinct
    y (counts divided by N when ``normalize``), ready for :func:`ibtheory.ib_curve`. Raises
    ``ValueError`` for samples of different lengths, empty samples or unhashable symbols.
    The plug-in estimate of I(X;Y) is biased upwards by about (n_x - 1)(n_y - 1)/(2N) nats
    (module docstring; :func:`mutual_information_from_samples`).
    """
    xs, ys = _as_sequence(x, "x"), _as_sequence(y, "y")
    if len(xs) != len(ys):
        raise ValueError(f"x and y must have the same length (paired samples), got {len(xs)} and {len(ys)}")
    if not xs:
        raise ValueError("x and y are empty: at least one sample pair is needed")
    _check_symbols(xs, "x")
    _check_symbols(ys, "y")
    cx, tx = _encode(xs)
    cy, ty = _encode(ys)
    counts = np.zeros((len(tx), len(ty)))
    np.add.at(counts, (cx, cy), 1.0)
    return SampleJoint(counts / counts.sum() if normalize else counts, tx, ty, len(xs))


def joint_from_time_series(x: Any, y: Any = None, *, past: int = 1, future: int = 1, normalize: bool = True) -> SampleJoint:
    """The plug-in joint of past and future windows of time series (embo's past/future bottleneck).

    The convention is embo 1.1.0's ``embo.utils.p_joint(x1, x2, windowx1, windowx2)`` (read from its
    source): for i = past - 1, ..., N - future, the sample pair is the past word
    (x[i - past + 1], ..., x[i]) and the future word (y[i], ..., y[i + future - 1]); both include
    time i. ``y=None`` uses ``x`` for both (a single series). Words are tuples of symbols. Unlike
    embo, which allocates all |X|^past x |Y|^future words, only words that occur get a row/column,
    so every row has positive mass (the probabilities of the occurring words are the same).
    Raises ``ValueError`` for series of different lengths, empty series, windows < 1 or windows
    longer than the series.
    """
    xs = _as_sequence(x, "x")
    ys = xs if y is None else _as_sequence(y, "y")
    if len(xs) != len(ys):
        raise ValueError(f"x and y must have the same length (one time axis), got {len(xs)} and {len(ys)}")
    if not xs:
        raise ValueError("the time series is empty: at least past + future - 1 samples are needed")
    past = check_positive_int(past, "past")
    future = check_positive_int(future, "future")
    n = len(xs)
    if past + future - 1 > n:
        raise ValueError(
            f"windows past={past} and future={future} need at least past + future - 1 = {past + future - 1} samples, "
            f"the series has {n}"
        )
    words_x = [tuple(xs[i - past + 1 : i + 1]) for i in range(past - 1, n - future + 1)]
    words_y = [tuple(ys[i : i + future]) for i in range(past - 1, n - future + 1)]
    return joint_from_samples(words_x, words_y, normalize=normalize)


@dataclass(frozen=True)
class SampleInformation:
    """I(X;Y) estimated from paired samples.

    Fields
    ------
    plugin: the plug-in I(X;Y) of the empirical joint; miller_madow: the Miller-Madow corrected value
        H_MM(X) + H_MM(Y) - H_MM(X,Y), H_MM = H_plugin + (m - 1)/(2N) with m the occupied cells
        (may be negative for independent variables); bias: plugin - miller_madow = the first-order
        bias ((m_x - 1) + (m_y - 1) - (m_xy - 1))/(2N) in ``units``.
    interval: (2,) basic bootstrap interval (2 I_plugin - q_hi, 2 I_plugin - q_lo) of I(X;Y) at level
        ``level``, q the quantiles of the plug-in value over ``n_bootstrap`` resamples of the pairs
        (seeded; Davison & Hinkley 1997, eq. 5.6): the resamples' shift of the plug-in value
        estimates its bias and is reflected.
    n_samples: N; units: ``"nats"`` or ``"bits"``.
    """

    plugin: float
    miller_madow: float
    bias: float
    interval: np.ndarray
    level: float
    n_bootstrap: int
    n_samples: int
    units: str


def _plugin_information(counts: np.ndarray) -> np.ndarray:
    """Plug-in I(X;Y) in nats of count tables (..., n_x, n_y) by the generated ``ib_information``
    (I(T;Y) of the identity encoder T = X is I(X;Y))."""
    n = counts.sum(axis=(-2, -1), keepdims=True)
    p_xy = counts / n
    p_x = p_xy.sum(axis=-1)
    cond = p_xy / np.maximum(p_x, 1e-300)[..., None]
    return np.asarray(ib_numpy.ib_information(p_x, cond, np.eye(counts.shape[-2])).i_ty)


def mutual_information_from_samples(x: Any, y: Any, *, n_bootstrap: int = 200, level: float = 0.95, seed: Any = 0,
                                    units: str = "nats") -> SampleInformation:
    """Plug-in, Miller-Madow corrected and bootstrap-interval I(X;Y) of paired samples (module docstring).

    The Miller-Madow correction adds (m - 1)/(2N) to each plug-in entropy (Miller 1955); the
    bootstrap resamples the N pairs with replacement ``n_bootstrap`` times (``seed`` explicit).
    """
    check_units(units)
    joint = joint_from_samples(x, y, normalize=False)
    n_bootstrap = check_positive_int(n_bootstrap, "n_bootstrap")
    if not 0 < float(level) < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    counts, n = joint.p_xy, joint.n_samples
    plugin = float(_plugin_information(counts))
    m_x, m_y, m_xy = counts.shape[0], counts.shape[1], int(np.count_nonzero(counts))
    correction = ((m_x - 1) + (m_y - 1) - (m_xy - 1)) / (2.0 * n)  # sum of the three entropies' corrections
    rng = as_generator(seed)
    flat = counts.ravel() / n
    boot = rng.multinomial(n, flat, size=n_bootstrap).reshape(n_bootstrap, *counts.shape).astype(np.float64)
    values = _plugin_information(boot)
    tail = (1 - float(level)) / 2
    lo, hi = np.quantile(values, [tail, 1 - tail])
    # basic (reverse-percentile) interval: the bootstrap's own shift of the plug-in value, which is
    # large when many cells are rare, is reflected instead of being carried into the interval
    interval = np.array([2 * plugin - hi, 2 * plugin - lo])
    return SampleInformation(
        plugin=float(to_units(plugin, units)), miller_madow=float(to_units(plugin + correction, units)),
        bias=float(to_units(-correction, units)), interval=to_units(interval, units), level=float(level),
        n_bootstrap=n_bootstrap, n_samples=n, units=units,
    )
