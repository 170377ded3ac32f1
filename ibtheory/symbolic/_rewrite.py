"""A small, targeted rewrite layer for index-level expressions (codegen-notes 2).

``diff`` of an index-level Lagrangian with respect to ``p_t_given_x[b, a]`` followed by ``doit()``
leaves range guards (``Piecewise``), sums over Kronecker deltas, and sums written in terms of the
encoder that are really named marginals. SymPy's ``simplify`` does not recognise sums that differ
only in the name of their bound variable; the rules here canonicalise the bound variable before
matching. Each rule is semantics-preserving; the tests compare every result of the layer with the
derivative of an explicit small-size expansion at exact rational points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

#: A fold rule: given the summand with the bound variable replaced by a canonical dummy, return the
#: named quantity it equals, or None.
FoldRule = Callable[[sp.Expr, sp.Dummy], sp.Expr | None]


def drop_range_guards(expr: sp.Expr) -> sp.Expr:
    """Take the in-range branch of every ``Piecewise`` left by ``doit()``.

    The guards test that an ``Idx`` lies in its declared range, which holds by construction.
    """
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[0].expr)


def _nest(function: sp.Expr, limits: Sequence[tuple]) -> sp.Expr:
    out = function
    for lim in limits:
        out = sp.Sum(out, lim)
    return out


def collapse_deltas(expr: sp.Expr) -> sp.Expr:
    """``sum_t f(t) delta(a, t) = f(a)`` for every limit of every ``Sum`` (range guards dropped).

    Applies only where the delta is a multiplicative factor of every term of the expanded summand.
    """

    def one(s: sp.Sum) -> sp.Expr:
        function, limits = s.function, list(s.limits)
        changed = True
        while changed:
            changed = False
            for i, (v, *_rest) in enumerate(limits):
                terms = sp.Add.make_args(sp.expand(function))
                hit = [
                    d
                    for d in terms[0].atoms(sp.KroneckerDelta)
                    if v in d.args and all(d in sp.Mul.make_args(term) for term in terms)
                ]
                if hit:
                    delta = hit[0]
                    other = delta.args[1] if delta.args[0] == v else delta.args[0]
                    function = sp.expand(function).xreplace({delta: 1}).xreplace({v: other})
                    del limits[i]
                    changed = True
                    break
        return _nest(function, limits) if limits else function

    return expr.replace(lambda e: isinstance(e, sp.Sum), one)


def split_sums(expr: sp.Expr) -> sp.Expr:
    """``Sum(a + b) = Sum(a) + Sum(b)``; factors free of the bound variables move outside."""

    def one(s: sp.Sum) -> sp.Expr:
        bound = {lim[0] for lim in s.limits}
        out = sp.Integer(0)
        for term in sp.Add.make_args(sp.expand(s.function)):
            inside: list[sp.Expr] = []
            outside: list[sp.Expr] = []
            for f in sp.Mul.make_args(term):
                (inside if f.free_symbols & bound else outside).append(f)
            out += sp.Mul(*outside) * (_nest(sp.Mul(*inside), s.limits) if inside else _count(s.limits))
        return out

    return expr.replace(lambda e: isinstance(e, sp.Sum), one)


def _count(limits: Sequence[tuple]) -> sp.Expr:
    n = sp.Integer(1)
    for _v, lo, hi in limits:
        n *= hi - lo + 1
    return n


def fold_sums(expr: sp.Expr, rules: Sequence[FoldRule]) -> sp.Expr:
    """Replace sums by the named quantities they equal (marginals, normalisations).

    A multi-limit sum is tried one limit at a time (that limit innermost), so that
    ``sum_{x', y} p(x') p(t|x') p(y|x')`` folds through ``sum_y p(y|x') = 1`` and then ``p(t)``.
    """
    w = sp.Dummy("w")

    def match(s: sp.Sum) -> sp.Expr | None:
        if len(s.limits) != 1:
            return None
        summand = s.function.xreplace({s.limits[0][0]: w})
        for rule in rules:
            out = rule(summand, w)
            if out is not None:
                return out
        return None

    def one(s: sp.Sum) -> sp.Expr:
        if len(s.limits) == 1:
            folded = match(s)
            return s if folded is None else folded
        for i, lim in enumerate(s.limits):
            inner = split_sums(sp.Sum(s.function, lim))
            folded = inner.replace(lambda e: isinstance(e, sp.Sum) and match(e) is not None, match)
            if folded != inner:
                rest = [m for j, m in enumerate(s.limits) if j != i]
                return _nest(folded, rest)
        return s

    return expr.replace(lambda e: isinstance(e, sp.Sum), one)


def canonical(expr: sp.Expr, rules: Sequence[FoldRule]) -> sp.Expr:
    """The full rewrite pipeline: guards, deltas, log expansion, sum splitting, folding."""
    out = drop_range_guards(expr)
    out = sp.expand(sp.expand_log(out, force=True))
    for _ in range(4):  # each pass can expose new foldable sums; four always suffice here
        new = fold_sums(split_sums(collapse_deltas(out)), rules)
        new = sp.expand(sp.expand_log(new, force=True))
        if new == out:
            break
        out = new
    return out
