"""Custom SymPy heads for array code: reductions, stable log-domain primitives, batched matrices.

Each head is a ``sympy.Function`` with ``_numpycode``, ``_torchcode`` and ``_mpmathcode`` print
methods (the documented printer extension point; codegen-notes 1.5). Axis arguments are negative
integers counting from the end, and reductions keep the reduced axis (size 1), so that every
lowered array keeps the same trailing rank and leading batch axes broadcast freely.

Matrix heads act on the two trailing axes of ``(..., n, m)`` arrays and broadcast over the rest.
Their derivatives are not SymPy's (whose matrix calculus returns silent zeros, codegen-notes 3):
identities such as d log det S = tr(S^{-1} dS) are written where they are used and verified on
explicit matrices.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.printer import Printer


def _axis(node: sp.Function) -> int:
    return int(node.args[1])


class _ArrayFunction(sp.Function):
    """Base: positional array arguments followed by optional integer parameters."""

    is_real = True



class ReduceSum(_ArrayFunction):
    """``ReduceSum(a, axis)``: sum over ``axis`` keeping it (size 1)."""

    nargs = 2

    def _numpycode(self, printer: Printer) -> str:
        # add.reduce is numpy.sum without its Python-level dispatch (~2 us a call on small arrays)
        return f"numpy.add.reduce({printer._print(self.args[0])}, axis={_axis(self)}, keepdims=True)"

    def _torchcode(self, printer: Printer) -> str:
        return f"torch.sum({printer._print(self.args[0])}, dim={_axis(self)}, keepdim=True)"

    def _mpmathcode(self, printer: Printer) -> str:
        return f"_mp.reduce_sum({printer._print(self.args[0])}, {_axis(self)})"


class LogSumExp(_ArrayFunction):
    """``LogSumExp(a, axis)`` = log sum_axis exp(a), computed stably (max shift), axis kept."""

    nargs = 2

    def _numpycode(self, printer: Printer) -> str:
        return f"_logsumexp({printer._print(self.args[0])}, {_axis(self)})"

    def _torchcode(self, printer: Printer) -> str:
        return f"torch.logsumexp({printer._print(self.args[0])}, dim={_axis(self)}, keepdim=True)"

    def _mpmathcode(self, printer: Printer) -> str:
        return f"_mp.logsumexp({printer._print(self.args[0])}, {_axis(self)})"


class LogSoftmax(_ArrayFunction):
    """``LogSoftmax(a, axis)`` = a - LogSumExp(a, axis), computed as (a - m) - log sum exp(a - m)
    with m the max over ``axis``. Writing it as ``a - (m + log s)`` rounds ``m + log s`` to
    ulp(m): with |m| ~ 4.6e10 (the dualIB at beta 6.6e7) each normalised row was off by ~1e-6
    (issue 21). Produced by the lowering from ``a - LogSumExp(a, axis)``.
    """

    nargs = 2

    def _numpycode(self, printer: Printer) -> str:
        return f"_log_softmax({printer._print(self.args[0])}, {_axis(self)})"

    def _torchcode(self, printer: Printer) -> str:
        return f"torch.log_softmax({printer._print(self.args[0])}, dim={_axis(self)})"

    def _mpmathcode(self, printer: Printer) -> str:
        return f"_mp.log_softmax({printer._print(self.args[0])}, {_axis(self)})"


class XLogY(_ArrayFunction):
    """``XLogY(x, y)`` = x log y, defined as 0 where x == 0 (so 0 log 0 = 0)."""

    nargs = 2

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        x, y = self.args
        return sp.log(y) if argindex == 1 else x / y

    def _eval_rewrite_as_log(self, x: sp.Expr, y: sp.Expr, **kwargs: object) -> sp.Expr:
        return x * sp.log(y)

    def _numpycode(self, printer: Printer) -> str:
        return f"_xlogy({printer._print(self.args[0])}, {printer._print(self.args[1])})"

    def _torchcode(self, printer: Printer) -> str:
        return f"torch.xlogy({printer._print(self.args[0])}, {printer._print(self.args[1])})"

    def _mpmathcode(self, printer: Printer) -> str:
        return f"_mp.xlogy({printer._print(self.args[0])}, {printer._print(self.args[1])})"


class LogAddExp(_ArrayFunction):
    """``LogAddExp(a, b)`` = log(exp(a) + exp(b)), computed without overflow."""

    nargs = 2

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        a, b = self.args
        own, other = (a, b) if argindex == 1 else (b, a)
        return 1 / (1 + sp.exp(other - own))

    def _eval_rewrite_as_log(self, a: sp.Expr, b: sp.Expr, **kwargs: object) -> sp.Expr:
        return sp.log(sp.exp(a) + sp.exp(b))

    def _numpycode(self, printer: Printer) -> str:
        return f"numpy.logaddexp({printer._print(self.args[0])}, {printer._print(self.args[1])})"

    def _torchcode(self, printer: Printer) -> str:
        return f"torch.logaddexp({printer._print(self.args[0])}, {printer._print(self.args[1])})"

    def _mpmathcode(self, printer: Printer) -> str:
        return f"_mp.logaddexp({printer._print(self.args[0])}, {printer._print(self.args[1])})"


class Softplus(_ArrayFunction):
    """``Softplus(a)`` = log(1 + exp(a)), computed without overflow or loss for a << 0."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return 1 / (1 + sp.exp(-self.args[0]))

    def _eval_rewrite_as_log(self, a: sp.Expr, **kwargs: object) -> sp.Expr:
        return sp.log(1 + sp.exp(a))

    def _numpycode(self, printer: Printer) -> str:
        return f"numpy.logaddexp(0.0, {printer._print(self.args[0])})"

    def _torchcode(self, printer: Printer) -> str:
        return f"torch.nn.functional.softplus({printer._print(self.args[0])})"

    def _mpmathcode(self, printer: Printer) -> str:
        return f"_mp.logaddexp(0, {printer._print(self.args[0])})"


class Clip(_ArrayFunction):
    """``Clip(a, lo, hi)``: a limited to [lo, hi] (constants), e.g. a cosine to [-1, 1]."""

    nargs = 3

    def _numpycode(self, printer: Printer) -> str:
        a, lo, hi = (printer._print(v) for v in self.args)
        return f"numpy.clip({a}, {lo}, {hi})"

    def _torchcode(self, printer: Printer) -> str:
        a, lo, hi = (printer._print(v) for v in self.args)
        return f"torch.clamp({a}, {lo}, {hi})"

    def _mpmathcode(self, printer: Printer) -> str:
        a, lo, hi = (printer._print(v) for v in self.args)
        return f"_mp.clip({a}, {lo}, {hi})"


class LogDetPD(_ArrayFunction):
    """``LogDetPD(S)`` = log det S for symmetric positive-definite S, from a Cholesky factor.

    Returns shape ``(...)`` for ``S`` of shape ``(..., n, n)``. Never ``log(det(S))``, which
    underflows to -inf for well-posed 200x200 matrices (codegen-notes 3).
    """

    nargs = 1

    def _numpycode(self, printer: Printer) -> str:
        return f"_logdet_pd({printer._print(self.args[0])})"

    def _torchcode(self, printer: Printer) -> str:
        return f"_logdet_pd({printer._print(self.args[0])})"

    def _mpmathcode(self, printer: Printer) -> str:
        return f"_mp.logdet_pd({printer._print(self.args[0])})"


class CholSolve(_ArrayFunction):
    """``CholSolve(S, B)`` = S^{-1} B for SPD ``S`` (..., n, n) and ``B`` (..., n, m), via Cholesky."""

    nargs = 2

    def _numpycode(self, printer: Printer) -> str:
        return f"_chol_solve({printer._print(self.args[0])}, {printer._print(self.args[1])})"

    def _torchcode(self, printer: Printer) -> str:
        return f"torch.cholesky_solve({printer._print(self.args[1])}, torch.linalg.cholesky({printer._print(self.args[0])}))"

    def _mpmathcode(self, printer: Printer) -> str:
        return f"_mp.chol_solve({printer._print(self.args[0])}, {printer._print(self.args[1])})"


class BMatMul(_ArrayFunction):
    """``BMatMul(A, B)``: batched matrix product over the two trailing axes."""

    nargs = 2

    def _numpycode(self, printer: Printer) -> str:
        return f"numpy.matmul({printer._print(self.args[0])}, {printer._print(self.args[1])})"

    def _torchcode(self, printer: Printer) -> str:
        return f"torch.matmul({printer._print(self.args[0])}, {printer._print(self.args[1])})"

    def _mpmathcode(self, printer: Printer) -> str:
        return f"numpy.matmul({printer._print(self.args[0])}, {printer._print(self.args[1])})"


class MT(_ArrayFunction):
    """``MT(A)``: transpose of the two trailing axes (batch-safe, unlike ``A.T``)."""

    nargs = 1

    def _numpycode(self, printer: Printer) -> str:
        return f"numpy.swapaxes({printer._print(self.args[0])}, -1, -2)"

    def _torchcode(self, printer: Printer) -> str:
        return f"({printer._print(self.args[0])}).mT"

    def _mpmathcode(self, printer: Printer) -> str:
        return f"numpy.swapaxes({printer._print(self.args[0])}, -1, -2)"


class BTrace(_ArrayFunction):
    """``BTrace(A)``: trace over the two trailing axes, shape ``(...)``."""

    nargs = 1

    def _numpycode(self, printer: Printer) -> str:
        return f"numpy.trace({printer._print(self.args[0])}, axis1=-2, axis2=-1)"

    def _torchcode(self, printer: Printer) -> str:
        return f"torch.diagonal({printer._print(self.args[0])}, dim1=-2, dim2=-1).sum(-1)"

    def _mpmathcode(self, printer: Printer) -> str:
        return f"_mp.trace({printer._print(self.args[0])})"



__all__ = [
    "ARRAY_NODES",
    "MT",
    "BMatMul",
    "BTrace",
    "CholSolve",
    "Clip",
    "LogAddExp",
    "LogDetPD",
    "LogSoftmax",
    "LogSumExp",
    "ReduceSum",
    "Softplus",
    "XLogY",
]


class Contract(_ArrayFunction):
    """``Contract(a, b, mask_a, mask_b, k, n)`` = sum over index axis ``k`` of a * b, as a matmul.

    Produced by the lowering's contraction pass from ``ReduceSum(a * b)`` when ``a`` and ``b``
    share only the summed axis; ``mask_a``/``mask_b`` are bit masks of the index axes (of ``n``)
    each operand varies over. Never materialises the full product over all axes.
    """

    nargs = 6

    def _params(self) -> str:
        return ", ".join(str(int(v)) for v in self.args[2:])

    def _numpycode(self, printer: Printer) -> str:
        return f"_contract({printer._print(self.args[0])}, {printer._print(self.args[1])}, {self._params()})"

    _torchcode = _numpycode

    def _mpmathcode(self, printer: Printer) -> str:
        k, n = int(self.args[4]), int(self.args[5])
        return f"_mp.reduce_sum(({printer._print(self.args[0])})*({printer._print(self.args[1])}), {k - n})"


class SumXLogY(_ArrayFunction):
    """``SumXLogY(a, b, mask_a, mask_b, k, n)`` = sum over axis ``k`` of xlogy(a, b), by contraction.

    Exactly the elementwise form (0 log 0 = 0, -inf where a > 0 meets b = 0), without the full
    product over all axes.
    """

    nargs = 6

    def _params(self) -> str:
        return ", ".join(str(int(v)) for v in self.args[2:])

    def _numpycode(self, printer: Printer) -> str:
        return f"_sum_xlogy({printer._print(self.args[0])}, {printer._print(self.args[1])}, {self._params()})"

    _torchcode = _numpycode

    def _mpmathcode(self, printer: Printer) -> str:
        k, n = int(self.args[4]), int(self.args[5])
        return f"_mp.reduce_sum(_mp.xlogy({printer._print(self.args[0])}, {printer._print(self.args[1])}), {k - n})"


ARRAY_NODES: tuple[type[sp.Function], ...] = (
    ReduceSum, LogSumExp, LogSoftmax, XLogY, LogAddExp, Softplus, Clip, LogDetPD, CholSolve, BMatMul, MT, BTrace, Contract, SumXLogY,
)
__all__ += ["Contract", "SumXLogY"]
