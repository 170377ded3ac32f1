"""Lowering: index-level SymPy expressions -> broadcast array expressions, plus stability rewrites.

Axis convention (written down once; style.md 3). A kernel declares an ordered tuple of index axes,
e.g. ``("x", "y", "t")``. After lowering, every array is laid out over those axes as its trailing
dimensions (size 1 where a variable is absent), and any leading dimensions are batch dimensions
(a batch of beta values, a batch of problems). So

- ``p_y_given_x[x, y]`` becomes the symbol ``p_y_given_x`` holding an array ``(..., n_x, n_y, 1)``;
- a scalar symbol such as ``beta`` holds ``(..., 1, 1, 1)``;
- ``Sum(f, y)`` becomes ``ReduceSum(f, -2)`` (the reduced axis is kept, with size 1);
- ``log(Sum(exp(e), t))`` becomes ``LogSumExp(e, -1)``, and ``log(Sum(c*exp(e), t))`` becomes
  ``LogSumExp(log(c) + e, -1)``.

An index is mapped to an axis by its label, or else by its range (a dummy ``Idx("xp", n_x)`` runs
over the axis of ``x``). Indexed arguments must be indexed in the declared axis order.

Stability rewrites, applied to every generated expression (index-level or elementwise):
``log(1 + exp(a)) -> Softplus(a)``, ``log(exp(a) + exp(b)) -> LogAddExp(a, b)``, and
``c * log(b) -> XLogY(c, b)`` (so ``0 log 0 = 0``), after ``expand_log(force=True)``. After the
contraction pass, a normaliser ``a - LogSumExp(a, k)`` becomes ``LogSoftmax(a, k)``
(:func:`log_normalise`), which stays normalised to round-off when |a| is huge.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from .nodes import Contract, LogAddExp, LogSoftmax, LogSumExp, ReduceSum, Softplus, SumXLogY, XLogY


class LoweringError(ValueError):
    """An expression that cannot be lowered onto the declared axes (the message says why)."""


def _axis_names(axes: Sequence[object]) -> tuple[str, ...]:
    return tuple(str(a.label) if isinstance(a, sp.Idx) else str(a) for a in axes)


class AxisMap:
    """Maps ``Idx`` objects to positions in the declared axis tuple."""

    def __init__(self, axes: Sequence[object], exprs: Sequence[sp.Basic]):
        self.names = _axis_names(axes)
        self.n = len(self.names)
        self._ranges: dict[str, sp.Basic] = {}
        for a in axes:
            if isinstance(a, sp.Idx) and a.upper is not None:
                self._ranges[str(a.label)] = a.upper
        for e in exprs:
            for idx in e.atoms(sp.Idx):
                name = str(idx.label)
                if name in self.names and idx.upper is not None:
                    self._ranges.setdefault(name, idx.upper)

    def position(self, idx: sp.Idx) -> int:
        """Position (0-based, from the left of the trailing block) of the axis ``idx`` runs over."""
        name = str(idx.label)
        if name in self.names:
            return self.names.index(name)
        for axis_name, upper in self._ranges.items():
            if idx.upper is not None and sp.simplify(idx.upper - upper) == 0:
                return self.names.index(axis_name)
        raise LoweringError(
            f"index {name!r} matches no declared axis {self.names} by name or range; "
            "declare it in axes=... or use an Idx with the range of an axis"
        )

    def negative(self, idx: sp.Idx) -> int:
        return self.position(idx) - self.n


def _free_indices(expr: sp.Basic) -> set[sp.Idx]:
    """Idx objects occurring free (not bound by a Sum) in ``expr``."""
    if isinstance(expr, sp.Idx):
        return {expr}
    if isinstance(expr, sp.Sum):
        inner = _free_indices(expr.function)
        bound = {lim[0] for lim in expr.limits}
        return inner - bound
    out: set[sp.Idx] = set()
    for a in expr.args:
        out |= _free_indices(a)
    return out


def free_axes(expr: sp.Basic, amap: AxisMap) -> tuple[int, ...]:
    """Sorted axis positions of the free indices of ``expr``."""
    return tuple(sorted({amap.position(i) for i in _free_indices(expr)}))


def indexed_arguments(exprs: Sequence[sp.Basic], amap: AxisMap) -> dict[str, tuple[int, ...]]:
    """For every IndexedBase used, the axis positions it is indexed over (checked consistent)."""
    found: dict[str, tuple[int, ...]] = {}
    for e in exprs:
        for ind in e.atoms(sp.Indexed):
            name = str(ind.base.label)
            pos = tuple(amap.position(i) for i in ind.indices)  # type: ignore[arg-type]
            if any(not isinstance(i, sp.Idx) for i in ind.indices):
                raise LoweringError(f"{ind} is indexed by a non-index expression; only plain Idx symbols lower")
            if list(pos) != sorted(set(pos)):
                raise LoweringError(
                    f"{ind} is not indexed in the declared axis order {amap.names}; "
                    "index every array in that order"
                )
            if name in found and found[name] != pos:
                raise LoweringError(f"{name} is indexed over different axes in different places")
            found[name] = pos
    return found


def _sum_to_lse(summand: sp.Expr) -> sp.Expr | None:
    """If ``summand`` is ``c * exp(e)`` (any c > 0), return ``log(c) + e``; else ``None``."""
    factors = sp.Mul.make_args(summand)
    exps = [f for f in factors if isinstance(f, sp.exp)]
    if not exps:
        return None
    others = [f for f in factors if not isinstance(f, sp.exp)]
    return sp.Add(*[sp.expand_log(sp.log(o), force=True) for o in others], *[f.args[0] for f in exps])


def lower_indexed(expr: sp.Expr, amap: AxisMap) -> sp.Expr:
    """Lower Sums and Indexed objects of ``expr`` onto the axes of ``amap`` (see module docstring)."""

    def rec(e: sp.Basic) -> sp.Basic:
        if isinstance(e, sp.Indexed):
            return sp.Symbol(str(e.base.label), real=True)
        if isinstance(e, sp.log) and isinstance(e.args[0], sp.Sum):
            s = e.args[0]
            exponent = _sum_to_lse(s.function)
            if exponent is not None:
                return _reduce(s, exponent, LogSumExp)
        if isinstance(e, sp.Sum):
            return _reduce(e, e.function, ReduceSum)
        if not e.args or isinstance(e, sp.Idx):
            return e
        return e.func(*[rec(a) for a in e.args])

    def _reduce(s: sp.Sum, summand: sp.Expr, head: type[sp.Function]) -> sp.Basic:
        out = summand
        limits = list(s.limits)
        for lim in limits:
            idx = lim[0]
            if not isinstance(idx, sp.Idx):
                raise LoweringError(f"Sum over {idx} must run over an Idx symbol (sp.Idx(name, size))")
            if (lim[1], lim[2]) != (idx.lower, idx.upper):
                raise LoweringError(f"Sum over {idx} must cover its whole range, got limits {lim[1:]}")
        # the innermost limit is the first in SymPy's representation
        body = rec(out)
        free = _free_indices(out)
        for k, lim in enumerate(limits):
            idx = lim[0]
            if idx not in free:
                raise LoweringError(f"Sum over {idx} of an expression that does not depend on it: multiply by the size instead")
            clash = {i for i in free if i != idx and amap.position(i) == amap.position(idx)}
            if clash:
                raise LoweringError(
                    f"Sum over {idx} while {sorted(map(str, clash))} on the same axis is free: "
                    "this kernel would need two axes for one variable"
                )
            use_head = head if k == len(limits) - 1 else ReduceSum
            if head is LogSumExp and len(limits) > 1:
                raise LoweringError("log-sum-exp over several indices at once is not supported; nest the Sums")
            body = use_head(body, amap.negative(idx))
            free = free - {idx}
        return body

    return rec(expr)  # type: ignore[return-value]


def stabilise(expr: sp.Expr) -> sp.Expr:
    """Apply the stability rewrites (module docstring) to a lowered or elementwise expression."""
    expr = sp.expand_log(expr, force=True)

    def rec(e: sp.Basic) -> sp.Basic:
        if not e.args or isinstance(e, sp.Idx):
            return e
        if isinstance(e, sp.log) and isinstance(e.args[0], sp.Add):
            terms = sp.Add.make_args(e.args[0])
            exps = [a for a in terms if isinstance(a, sp.exp)]
            rest = [a for a in terms if not isinstance(a, sp.exp)]
            if len(exps) == len(terms) and len(terms) >= 2:
                out = LogAddExp(rec(exps[0].args[0]), rec(exps[1].args[0]))
                for extra in exps[2:]:
                    out = LogAddExp(out, rec(extra.args[0]))
                return out
            if len(exps) == 1 and len(rest) == 1 and rest[0] == 1:
                return Softplus(rec(exps[0].args[0]))
        if isinstance(e, sp.Mul):
            logs = [a for a in e.args if isinstance(a, sp.log)]
            adds_with_log = [a for a in e.args if isinstance(a, sp.Add) and a.has(sp.log)]
            if adds_with_log:
                return rec(sp.expand_mul(e))
            if len(logs) == 1:
                coeff = sp.Mul(*[a for a in e.args if a is not logs[0]])
                if coeff.free_symbols:
                    return XLogY(rec(coeff), rec(logs[0].args[0]))
        return e.func(*[rec(a) for a in e.args])

    return rec(expr)  # type: ignore[return-value]


def log_normalise(expr: sp.Expr) -> sp.Expr:
    """Rewrite ``b + a - LogSumExp(a, k)`` as ``b + LogSoftmax(a, k)`` (every term of ``a`` present).

    ``a - LogSumExp(a)`` computes ``a - (max a + log s)``: the sum rounds to ulp(max a), so with
    |a| ~ 1e10 (beta * distortion at beta ~ 1e8) the normalised log-rows are off by ~1e-6 and
    p(t|x) no longer sums to one (issue 21: I(T;Y) > I(X;T) from an unnormalised encoder).
    """

    def rec(e: sp.Basic) -> sp.Basic:
        if not e.args or isinstance(e, sp.Idx):
            return e
        e = e.func(*[rec(a) for a in e.args])
        if not isinstance(e, sp.Add):
            return e
        for term in e.args:
            coeff, lse = term.as_coeff_Mul()
            if coeff != -1 or not isinstance(lse, LogSumExp):
                continue
            rest = list(e.args)
            rest.remove(term)
            inner = sp.Add.make_args(lse.args[0])
            if all(t in rest for t in inner):
                for t in inner:
                    rest.remove(t)
                return sp.Add(*rest, LogSoftmax(lse.args[0], lse.args[1]))
        return e

    return rec(expr)  # type: ignore[return-value]


def axes_of(expr: sp.Basic, arg_axes: dict[str, frozenset[int]], n: int) -> frozenset[int]:
    """Index axes (positions) a lowered expression may vary over; a superset by construction."""
    if isinstance(expr, sp.Symbol):
        return arg_axes.get(expr.name, frozenset())
    if isinstance(expr, ReduceSum | LogSumExp):
        return axes_of(expr.args[0], arg_axes, n) - {int(expr.args[1]) + n}
    if isinstance(expr, LogSoftmax):
        return axes_of(expr.args[0], arg_axes, n)
    if isinstance(expr, Contract | SumXLogY):
        k = int(expr.args[4])
        return (axes_of(expr.args[0], arg_axes, n) | axes_of(expr.args[1], arg_axes, n)) - {k}
    out: frozenset[int] = frozenset()
    for a in expr.args:
        if isinstance(a, sp.Basic) and not a.is_Integer:
            out |= axes_of(a, arg_axes, n)
    return out


def _mask(axes: frozenset[int]) -> int:
    return sum(1 << i for i in axes)


def contract_reductions(expr: sp.Expr, arg_axes: dict[str, frozenset[int]], n: int) -> sp.Expr:
    """Turn reductions of products into matrix products (``Contract``/``SumXLogY``).

    ``ReduceSum(a + b) -> ReduceSum(a) + ReduceSum(b)``; factors constant along the summed axis
    move outside; ``ReduceSum(A * B)`` with A and B sharing only the summed axis becomes
    ``Contract(A, B)``, and ``ReduceSum(xlogy(A, B))`` becomes ``SumXLogY(A, B)``. This keeps the
    X x Y x T product of the IB step from ever being materialised (codegen-notes 1.5).
    """

    def ax(e: sp.Basic) -> frozenset[int]:
        return axes_of(e, arg_axes, n)

    def reduce(body: sp.Expr, k: int) -> sp.Expr:
        if isinstance(body, sp.Add):
            return sp.Add(*[reduce(term, k) for term in body.args])
        coeff, factors = sp.S.One, []
        for f in sp.Mul.make_args(body):
            if f.is_number:
                coeff *= f
            else:
                factors.append(f)
        outside = [f for f in factors if k not in ax(f)]
        inside = [f for f in factors if k in ax(f)]
        if not inside:
            return ReduceSum(body, k - n)
        pre = coeff * sp.Mul(*outside)
        if len(inside) == 1 and isinstance(inside[0], XLogY):
            a, b = inside[0].args
            c_a, rest_a = a.as_coeff_Mul()
            if c_a != 0 and ax(rest_a) & ax(b) == {k}:
                return pre * c_a * SumXLogY(rest_a, b, _mask(ax(rest_a)), _mask(ax(b)), k, n)
        if len(inside) >= 2:
            big = max(inside, key=lambda f: (len(ax(f)), sp.default_sort_key(f)))
            group_a = [big] + [f for f in inside if f is not big and ax(f) <= ax(big)]
            group_b = [f for f in inside if all(f is not g for g in group_a)]
            if group_b:
                a_part, b_part = sp.Mul(*group_a), sp.Mul(*group_b)
                if ax(a_part) & ax(b_part) == {k}:
                    return pre * Contract(a_part, b_part, _mask(ax(a_part)), _mask(ax(b_part)), k, n)
        return pre * ReduceSum(sp.Mul(*inside), k - n)

    def rec(e: sp.Basic) -> sp.Basic:
        if not e.args or isinstance(e, sp.Idx):
            return e
        args = [rec(a) for a in e.args]
        if isinstance(e, ReduceSum):
            return reduce(args[0], int(args[1]) + n)
        return e.func(*args)

    return rec(expr)  # type: ignore[return-value]
