"""Shipped test utilities: Hypothesis strategies and an independent mpmath evaluation route.

Strategies build valid objects by construction (normalised simplices, SPD matrices with a
controlled spectrum) rather than by rejection (style.md 5; codegen-notes 4).

The mpmath route evaluates an *unlowered* index-level SymPy expression at fixed alphabet sizes by
expanding every ``Sum`` explicitly and evaluating the resulting scalar expressions with mpmath at
the requested precision, sharing no code with :mod:`ibtheory.codegen`'s lowering and printers.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import mpmath
import numpy as np
import sympy as sp

try:  # hypothesis is a test dependency only
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    st = None  # type: ignore[assignment]


# ----------------------------------------------------------------------------- strategies
def _need_hypothesis() -> Any:
    if st is None:  # pragma: no cover
        raise ImportError("ibtheory.testing strategies need hypothesis: pip install 'ibtheory[test]'")
    return st


def simplices(n: int, *, min_mass: float = 0.0, zeros: bool = False) -> Any:
    """Probability vectors of length ``n``: positive weights normalised; with ``zeros`` some are exact 0."""
    s = _need_hypothesis()
    weight = s.floats(min_value=1e-3, max_value=1.0, allow_nan=False)
    if zeros:
        weight = s.one_of(weight, s.just(0.0))

    def build(w: list[float]) -> np.ndarray:
        arr = np.asarray(w, dtype=np.float64)
        if arr.sum() == 0:
            arr[0] = 1.0
        arr = arr / arr.sum()
        if min_mass > 0:
            arr = (arr + min_mass) / (1 + n * min_mass)
        return arr

    return s.lists(weight, min_size=n, max_size=n).map(build)


def conditionals(n_rows: int, n_cols: int, *, zeros: bool = False) -> Any:
    """Row-stochastic (n_rows, n_cols) matrices, e.g. p(y|x); ``zeros`` places exact zeros."""
    s = _need_hypothesis()
    return s.lists(simplices(n_cols, zeros=zeros), min_size=n_rows, max_size=n_rows).map(np.array)


def joint_distributions(n_x: int, n_y: int, *, zeros: bool = False) -> Any:
    """Joint (n_x, n_y) distributions with every row of positive mass."""
    s = _need_hypothesis()
    return s.tuples(simplices(n_x, min_mass=1e-3), conditionals(n_x, n_y, zeros=zeros)).map(
        lambda pc: pc[0][:, None] * pc[1]
    )


def log_uniform(lo: float, hi: float) -> Any:
    """Floats log-uniform on [lo, hi] (e.g. beta from 1e-3 to 1e4)."""
    s = _need_hypothesis()
    return s.floats(min_value=np.log(lo), max_value=np.log(hi)).map(lambda v: float(np.exp(v)))


def spd_matrices(n: int, *, max_condition: float = 1e6) -> Any:
    """SPD (n, n) matrices Q diag(lambda) Q^T with eigenvalues log-spaced within ``max_condition``."""
    s = _need_hypothesis()

    def build(args: tuple[list[float], list[float]]) -> np.ndarray:
        gauss, unit = args
        q, _ = np.linalg.qr(np.asarray(gauss).reshape(n, n))
        eig = np.exp(np.asarray(unit) * np.log(max_condition))
        m = (q * eig) @ q.T
        return (m + m.T) / 2

    floats = s.floats(min_value=-3, max_value=3, allow_nan=False)
    units = s.floats(min_value=0, max_value=1, allow_nan=False)
    return s.tuples(
        s.lists(floats, min_size=n * n, max_size=n * n).filter(lambda v: np.linalg.matrix_rank(np.reshape(v, (n, n))) == n),
        s.lists(units, min_size=n, max_size=n),
    ).map(build)


# ----------------------------------------------------------------------------- valid extremes
#: The magnitudes the property suite spans (issue 21): every float64 power of ten with room for
#: a product of two O(1) factors on either side.
MAGNITUDE_RANGE = (1e-300, 1e300)
#: Smallest probability mass the extreme strategies draw (issue 21: "masses from 1e-15").
MIN_MASS = 1e-15
#: Range of trade-off parameters beta (issue 21: 1e-6 .. 1e8).
BETA_RANGE = (1e-6, 1e8)


def magnitudes(lo: float = MAGNITUDE_RANGE[0], hi: float = MAGNITUDE_RANGE[1]) -> Any:
    """Positive floats log-uniform on [lo, hi], with both ends and 1 drawn often."""
    s = _need_hypothesis()
    ends = [v for v in (lo, 1.0, hi) if lo <= v <= hi]
    return s.one_of(s.sampled_from(ends), log_uniform(lo, hi))


def betas(lo: float = BETA_RANGE[0], hi: float = BETA_RANGE[1]) -> Any:
    """Trade-off parameters beta log-uniform on [lo, hi] (ends included)."""
    return magnitudes(lo, hi)


def extreme_simplices(n: int, *, min_mass: float = MIN_MASS) -> Any:
    """Probability vectors of length ``n`` whose masses span [min_mass, 1] log-uniformly (all > 0).

    Each weight is log-uniform on [min_mass, 1] before normalising, so a few x of mass ~1e-15 sit
    next to ordinary ones: the rare-row class of issue 21.
    """
    s = _need_hypothesis()

    def build(w: list[float]) -> np.ndarray:
        arr = np.asarray(w, dtype=np.float64)
        return arr / arr.sum()

    return s.lists(magnitudes(min_mass, 1.0), min_size=n, max_size=n).map(build)


def extreme_joints(n_x: int, n_y: int, *, min_mass: float = MIN_MASS, zeros: bool = True) -> Any:
    """Joint (n_x, n_y) distributions p(x) p(y|x) with p(x) from :func:`extreme_simplices` (masses
    down to ``min_mass``) and conditionals that may hold exact zeros; every row has mass > 0."""
    s = _need_hypothesis()
    return s.tuples(extreme_simplices(n_x, min_mass=min_mass), conditionals(n_x, n_y, zeros=zeros)).map(
        lambda pc: pc[0][:, None] * pc[1]
    )


def scaled_arrays(shape: tuple[int, ...], *, lo: float = MAGNITUDE_RANGE[0], hi: float = MAGNITUDE_RANGE[1]) -> Any:
    """Arrays of ``shape`` with O(1) entries (in [-2, 2]) times one common scale from :func:`magnitudes`.

    Returns ``(array, scale)``; the entries are distinct enough (>= 1e-3 apart in relative terms is
    not promised) that callers needing distinct rows must filter.
    """
    s = _need_hypothesis()
    size = int(np.prod(shape))
    unit = s.lists(s.floats(min_value=-2.0, max_value=2.0, allow_nan=False), min_size=size, max_size=size)
    return s.tuples(unit, magnitudes(lo, hi)).map(lambda us: (np.asarray(us[0]).reshape(shape) * us[1], us[1]))


def near_singular_spd(n: int, *, max_condition: float = 1e12, scales: bool = True) -> Any:
    """SPD (n, n) matrices with condition numbers up to ``max_condition`` (near-singular but
    invertible in float64), times a scale from 1e-100 to 1e100 when ``scales``."""
    s = _need_hypothesis()
    base = spd_matrices(n, max_condition=max_condition)
    if not scales:
        return base
    return s.tuples(base, magnitudes(1e-100, 1e100)).map(lambda ms: ms[0] * ms[1])


def noise_levels(lo: float = 1e-12, hi: float = 1e12) -> Any:
    """Noise variances log-uniform on [lo, hi]: tiny and huge noise of the estimators."""
    return magnitudes(lo, hi)


# ----------------------------------------------------------------------------- malformed input
#: The kinds :func:`malformed_arrays` draws; each is invalid for any real-array argument.
MALFORMED_KINDS = ("nan", "inf", "-inf", "complex", "string", "none", "object", "ragged", "dict")


def malformed_value(kind: str, like: Any) -> Any:
    """A malformed stand-in of kind ``kind`` (:data:`MALFORMED_KINDS`, plus ``"empty"``,
    ``"negative"``, ``"unnormalised"``, ``"bool"``, ``"wrong_ndim"``) for the valid array ``like``."""
    arr = np.array(like, dtype=np.float64, copy=True)
    if kind in ("nan", "inf", "-inf"):
        arr.flat[arr.size // 2] = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}[kind]
        return arr
    if kind == "complex":
        return arr + 1j
    if kind == "string":
        return "not an array"
    if kind == "none":
        return None
    if kind == "object":
        return object()
    if kind == "ragged":
        return [[1.0, 2.0], [3.0]]
    if kind == "dict":
        return {"a": 1.0}
    if kind == "empty":
        return np.zeros((0,) * max(arr.ndim, 1))
    if kind == "negative":
        arr.flat[0] = -abs(arr.flat[0]) - 0.5
        return arr
    if kind == "unnormalised":
        return arr * 2.0 + 0.1
    if kind == "bool":
        return arr > np.median(arr)
    if kind == "wrong_ndim":
        return arr[None, None] if arr.ndim else arr.reshape(1, 1, 1)
    raise ValueError(f"unknown malformed kind {kind!r}; one of {MALFORMED_KINDS}")


def malformed_arrays(like: Any, kinds: Sequence[str] = MALFORMED_KINDS) -> Any:
    """``(kind, value)`` pairs: ``like`` (a valid array) spoiled in one of ``kinds``."""
    s = _need_hypothesis()
    return s.sampled_from(list(kinds)).map(lambda k: (k, malformed_value(k, like)))


#: Values that are not a finite real number > 0, with what each is (for scalar arguments).
MALFORMED_SCALARS: tuple[tuple[str, Any], ...] = (
    ("nan", float("nan")),
    ("inf", float("inf")),
    ("-inf", float("-inf")),
    ("zero", 0.0),
    ("negative", -1.0),
    ("complex", 1.0 + 1.0j),
    ("string", "1.0"),
    ("none", None),
    ("bool", True),
    ("list", [1.0, 2.0]),
)


def malformed_scalars(kinds: Sequence[str] | None = None) -> Any:
    """``(kind, value)`` pairs from :data:`MALFORMED_SCALARS` (all kinds, or those named)."""
    s = _need_hypothesis()
    pool = [kv for kv in MALFORMED_SCALARS if kinds is None or kv[0] in kinds]
    return s.sampled_from(pool)


# ----------------------------------------------------------------------------- mpmath route
class MpmathEvaluator:
    """Evaluate an index-level expression at fixed sizes with mpmath, entry by entry.

    ``expr`` may contain ``Indexed`` arrays, ``Sum`` over ``sp.Idx`` and plain symbols; ``sizes``
    maps size symbols (``n_x``...) to integers; ``free`` lists the free indices of ``expr`` in
    output-axis order. Calling it with a mapping name -> NumPy array (or scalar) and ``dps`` returns
    an object array of ``mpf`` over the free indices. Inputs convert exactly (``mpf(float)``).
    """

    def __init__(self, expr: sp.Expr, sizes: Mapping[sp.Symbol, int], free: Sequence[sp.Idx] = ()):
        self.free = tuple(free)
        self.shape = tuple(int(sizes[i.upper + 1]) if (i.upper + 1) in sizes else int(sp.sympify(i.upper + 1).subs(sizes)) for i in self.free)
        entries = []
        for combo in itertools.product(*(range(n) for n in self.shape)):
            e = expr.xreplace(dict(zip(self.free, map(sp.Integer, combo), strict=True)))
            e = _expand_sums(e, sizes)
            entries.append(e)
        self._symbols: dict[sp.Basic, sp.Symbol] = {}
        replaced = [self._replace(e) for e in entries]
        self._order = list(self._symbols.items())
        self._fn = sp.lambdify([s for _, s in self._order], replaced, modules=[_MPMATH_NODES, "mpmath"])

    def _replace(self, e: sp.Expr) -> sp.Expr:
        def sym(obj: sp.Basic) -> sp.Symbol:
            if obj not in self._symbols:
                self._symbols[obj] = sp.Symbol(f"_v{len(self._symbols)}")
            return self._symbols[obj]

        e = e.replace(lambda a: isinstance(a, sp.Indexed), sym)
        plain = [s for s in e.free_symbols if not s.name.startswith("_v")]
        return e.xreplace({s: sym(s) for s in plain})

    def __call__(self, values: Mapping[str, Any], dps: int = 50) -> np.ndarray:
        with mpmath.workdps(dps):
            args = []
            for obj, _ in self._order:
                if isinstance(obj, sp.Indexed):
                    arr = np.asarray(values[str(obj.base.label)], dtype=np.float64)
                    args.append(mpmath.mpf(float(arr[tuple(int(i) for i in obj.indices)])))
                else:
                    args.append(mpmath.mpf(float(values[obj.name])))
            out = self._fn(*args)
            res = np.empty(len(out), dtype=object)
            for k, v in enumerate(out):
                res[k] = mpmath.mpf(v) if not isinstance(v, mpmath.mpf) else +v
        return res.reshape(self.shape)


def _mp_xlogy(x: Any, y: Any) -> Any:
    return mpmath.mpf(0) if x == 0 else x * mpmath.log(y)


#: The definitions of the custom heads for the mpmath route (0 log 0 = 0, stable forms exact).
_MPMATH_NODES: dict[str, Any] = {
    "XLogY": _mp_xlogy,
    "LogAddExp": lambda a, b: mpmath.log(mpmath.exp(a) + mpmath.exp(b)),
    "Softplus": lambda a: mpmath.log(1 + mpmath.exp(a)),
    "Max": lambda *a: max(a),
    "Min": lambda *a: min(a),
}
# The heads print themselves for lambdify's mpmath printer as ``_mp.<name>(...)``; give that
# namespace the same independent definitions.
_MPMATH_NODES["_mp"] = SimpleNamespace(
    xlogy=_MPMATH_NODES["XLogY"],
    logaddexp=_MPMATH_NODES["LogAddExp"],
    clip=lambda a, lo, hi: min(max(a, lo), hi),
)


def _expand_sums(e: sp.Expr, sizes: Mapping[sp.Symbol, int]) -> sp.Expr:
    """Replace every Sum by the explicit finite sum (innermost first), sizes substituted."""

    def expand(s: sp.Sum) -> sp.Expr:
        body = s.function
        for idx, lo, hi in s.limits:
            lo_i, hi_i = int(sp.sympify(lo).subs(sizes)), int(sp.sympify(hi).subs(sizes))
            body = sp.Add(*[body.xreplace({idx: sp.Integer(k)}) for k in range(lo_i, hi_i + 1)])
        return body

    while e.has(sp.Sum):
        e = e.replace(lambda a: isinstance(a, sp.Sum) and not a.function.has(sp.Sum), expand)
    return e


def as_float_array(values: np.ndarray) -> np.ndarray:
    """An object array of mpf as float64."""
    return np.vectorize(float, otypes=[np.float64])(values)


# ----------------------------------------------------------------------------- round-off bounds
#: Round-off floor (nats) of the pairwise mixture terms: O(N) sums of logs of moderate size in
#: float64 (relative error ~1e-15 per term), with a safety factor.
PAIRWISE_ROUND_OFF = 1e-12


def pairwise_rounding(means: Any, variances: Any) -> float:
    """Absolute round-off bound (nats) of the unclipped terms of :func:`ibtheory.estimators.pairwise_terms`.

    The squared distances use ||a||^2 + ||b||^2 - 2 a.b of the centred means, with an absolute error
    of a few eps x max ||mu_i - mean||^2; divided by the smallest variance it bounds the error of
    each D_ij. Adds :data:`PAIRWISE_ROUND_OFF`. ``means`` (..., N, k), ``variances`` (..., N) or scalar.
    """
    mu = np.asarray(means, dtype=np.float64)
    centred = mu - mu.mean(axis=-2, keepdims=True)
    spread = float(np.max(np.sum(centred**2, axis=-1)))
    return PAIRWISE_ROUND_OFF + 16 * float(np.finfo(np.float64).eps) * spread / float(np.min(variances))
