"""Printer subclasses that fix the stock printers' batch bugs (codegen-notes 1.2).

- ``Pow`` prints infix (``x**2``, ``1/x``), never ``torch.pow(x, 2)`` (fails on Python floats).
- ``Max``/``Min`` print ``maximum``/``minimum`` or ``clamp`` (stock torch prints a reduction).
- Numeric constants (``log(2)``, ``pi``, rationals) print as float literals so that no array
  function is ever applied to a Python number, and constants follow the inputs' dtype and device.
- ``Piecewise`` prints nested ``where`` (the stock NumPy form defaults to NaN).
- ``expm1``/``log1p`` print for torch (stock TorchPrinter has no mapping).

The mpmath printer maps every function onto ``ibtheory.codegen._mp`` (imported as ``_mp``), which
applies the mpmath function elementwise over object arrays of ``mpf``.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import SciPyPrinter
from sympy.printing.pycode import MpmathPrinter
from sympy.printing.pytorch import TorchPrinter


def fold_numbers(expr: sp.Basic) -> sp.Basic:
    """Replace numeric sub-expressions (``log(2)``, ``pi/3``, ``1/3``) by 17-digit Floats."""

    def is_foldable(e: sp.Basic) -> bool:
        return (
            isinstance(e, sp.Expr)
            and e.is_number
            and not e.is_Integer
            and not e.is_Float
            and bool(e.is_finite)
            and bool(e.is_real)
        )

    return expr.replace(is_foldable, lambda e: sp.Float(e.evalf(30), 17))


class _ArrayPrinterMixin:
    """Shared fixes; ``_mod`` is the module prefix of the array library."""

    _mod = "numpy"

    def _print_Float(self, expr: sp.Float) -> str:
        return repr(float(expr))

    def _print_Rational(self, expr: sp.Rational) -> str:
        return repr(float(expr))

    def _print_Infinity(self, expr: sp.Basic) -> str:
        return "float('inf')"

    def _print_NegativeInfinity(self, expr: sp.Basic) -> str:
        return "float('-inf')"

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:  # type: ignore[override]
        base, exp = expr.as_base_exp()
        b = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Pow"])  # type: ignore[attr-defined]
        if exp == sp.S.Half:
            return f"{self._mod}.sqrt({self._print(base)})"  # type: ignore[attr-defined]
        if exp == -sp.S.Half:
            return f"(1/{self._mod}.sqrt({self._print(base)}))"  # type: ignore[attr-defined]
        if exp == -1:
            return f"(1/{b})"
        if exp.is_Integer:
            return f"{b}**{int(exp)}"
        e = self.parenthesize(exp, sp.printing.precedence.PRECEDENCE["Pow"])  # type: ignore[attr-defined]
        return f"{b}**{e}"

    def _print_Abs(self, expr: sp.Abs) -> str:
        return f"{self._mod}.abs({self._print(expr.args[0])})"  # type: ignore[attr-defined]

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        *pieces, (last_e, last_c) = expr.args
        if last_c != sp.true:
            raise ValueError("Piecewise needs a final (expr, True) branch to print without NaN defaults")
        out = self._print(last_e)  # type: ignore[attr-defined]
        for e, c in reversed(pieces):
            out = f"{self._mod}.where({self._print(c)}, {self._print(e)}, {out})"  # type: ignore[attr-defined]
        return out


class NumPyArrayPrinter(_ArrayPrinterMixin, SciPyPrinter):
    """NumPy/SciPy printer with the batch fixes."""

    _mod = "numpy"

    def _print_Max(self, expr: sp.Max) -> str:
        args = [self._print(a) for a in expr.args]
        out = args[0]
        for a in args[1:]:
            out = f"numpy.maximum({out}, {a})"
        return out

    def _print_Min(self, expr: sp.Min) -> str:
        args = [self._print(a) for a in expr.args]
        out = args[0]
        for a in args[1:]:
            out = f"numpy.minimum({out}, {a})"
        return out


class TorchArrayPrinter(_ArrayPrinterMixin, TorchPrinter):
    """Torch printer with the batch fixes."""

    _mod = "torch"

    def _minmax(self, expr: sp.Basic, fn: str, clamp: str) -> str:
        consts = [a for a in expr.args if a.is_number]
        terms = [self._print(a) for a in expr.args if not a.is_number]
        out = terms[0]
        for a in terms[1:]:
            out = f"torch.{fn}({out}, {a})"
        if consts:
            c = (sp.Max if fn == "maximum" else sp.Min)(*consts)
            out = f"torch.clamp({out}, {clamp}={self._print(c)})"
        return out

    def _print_Max(self, expr: sp.Max) -> str:
        return self._minmax(expr, "maximum", "min")

    def _print_Min(self, expr: sp.Min) -> str:
        return self._minmax(expr, "minimum", "max")

    def _print_expm1(self, expr: sp.Basic) -> str:
        return f"torch.expm1({self._print(expr.args[0])})"

    def _print_log1p(self, expr: sp.Basic) -> str:
        return f"torch.log1p({self._print(expr.args[0])})"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        return _ArrayPrinterMixin._print_Piecewise(self, expr)


class MpmathArrayPrinter(MpmathPrinter):
    """Prints onto ``_mp`` (elementwise mpmath over object arrays); keeps exact rationals."""

    def _module_format(self, fqn: str, register: bool = True) -> str:
        if fqn.startswith("mpmath."):
            return "_mp." + fqn[len("mpmath.") :]
        return super()._module_format(fqn, register)

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:  # type: ignore[override]
        base, exp = expr.as_base_exp()
        if exp == sp.S.Half:
            return f"_mp.sqrt({self._print(base)})"
        b = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Pow"])
        e = self.parenthesize(exp, sp.printing.precedence.PRECEDENCE["Pow"])
        return f"{b}**{e}"

    def _print_Max(self, expr: sp.Max) -> str:
        return "_mp.maximum(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr: sp.Min) -> str:
        return "_mp.minimum(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        *pieces, (last_e, _last_c) = expr.args
        out = self._print(last_e)
        for e, c in reversed(pieces):
            out = f"_mp.where({self._print(c)}, {self._print(e)}, {out})"
        return out


PRINTERS = {"numpy": NumPyArrayPrinter, "torch": TorchArrayPrinter, "mpmath": MpmathArrayPrinter}
