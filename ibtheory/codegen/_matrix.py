"""Lowering of SymPy's matrix expressions onto the batched matrix heads of :mod:`.nodes`.

``MatrixSymbol`` -> plain ``Symbol`` of the same name (an ``(..., n, m)`` array), ``MatMul`` ->
nested :class:`BMatMul` (an ``Inverse(S)`` factor becomes ``CholSolve(S, rest)``, and a trailing
one ``MT(CholSolve(S, MT(left)))``, valid because every inverted matrix is taken to be symmetric
positive definite), ``Transpose`` -> :class:`MT`, ``log(Determinant(S))`` -> :class:`LogDetPD`
(Cholesky), ``Trace`` -> :class:`BTrace`. A caller whose expressions use heads of its own (e.g. an
inert log-determinant head that SymPy does not differentiate) maps them onto array heads with
``heads={TheirHead: LogDetPD}``; this module knows nothing of where the expressions come from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sympy as sp

from .nodes import MT, BMatMul, BTrace, CholSolve, LogDetPD

#: caller-supplied translations: a SymPy head -> a callable building the array head from the
#: already translated arguments
HeadMap = Mapping[type, Callable[..., sp.Expr]]


def array_symbol(m: sp.MatrixSymbol) -> sp.Symbol:
    """The plain (real) ``Symbol`` standing for the ``(..., n, m)`` array of a ``MatrixSymbol``."""
    return sp.Symbol(m.name, real=True)


def to_array_nodes(expr: sp.Basic, heads: HeadMap | None = None) -> sp.Expr:
    """Translate a matrix-level SymPy expression into batched array heads (module docstring).

    Raises ``ValueError`` on anything else (e.g. a bare identity, whose size an elementwise kernel
    cannot know, or a bare inverse).
    """
    heads = heads or {}
    return _translate(expr, heads)


def _translate(expr: sp.Basic, heads: HeadMap) -> sp.Expr:
    args = expr.args
    for head, build in heads.items():
        if isinstance(expr, head):
            return build(*(_translate(a, heads) for a in args))
    if isinstance(expr, sp.MatrixSymbol):
        return array_symbol(expr)
    if isinstance(expr, sp.log) and isinstance(expr.args[0], sp.Determinant):
        return LogDetPD(_translate(expr.args[0].args[0], heads))
    if isinstance(expr, sp.Trace):
        return BTrace(_translate(expr.arg, heads))
    if isinstance(expr, sp.Transpose):
        return MT(_translate(expr.arg, heads))
    if isinstance(expr, sp.MatAdd):
        return sp.Add(*(_translate(a, heads) for a in expr.args))
    if isinstance(expr, sp.MatMul):
        coeff, factors = expr.as_coeff_matrices()
        return coeff * _matmul_chain(list(factors), heads)
    if isinstance(expr, sp.MatrixExpr):
        raise ValueError(f"cannot translate the matrix expression {expr} ({type(expr).__name__})")
    if expr.args:
        return expr.func(*(_translate(a, heads) for a in expr.args))
    return expr  # type: ignore[return-value]


def _matmul_chain(factors: list[sp.MatrixExpr], heads: HeadMap) -> sp.Expr:
    out: sp.Expr | None = None
    k = 0
    while k < len(factors):
        f = factors[k]
        if isinstance(f, sp.Inverse):
            inner = _translate(f.arg, heads)
            if k + 1 < len(factors):
                rest = _matmul_chain(factors[k + 1 :], heads)
                solved = CholSolve(inner, rest)
                return solved if out is None else BMatMul(out, solved)
            if out is None:
                raise ValueError("a bare inverse cannot be generated; multiply it by something")
            return MT(CholSolve(inner, MT(out)))
        term = _translate(f, heads)
        out = term if out is None else BMatMul(out, term)
        k += 1
    if out is None:
        raise ValueError("an empty matrix product cannot be generated")
    return out
