"""In-place printing of elementwise NumPy kernels: ufunc calls into reused scratch arrays.

Why: an elementwise kernel printed as ordinary expressions allocates a fresh array for every
intermediate. On (256, 256) float64 blocks each one is above glibc's mmap threshold, so it is mapped
and page-faulted anew on every call (issue 9: the NTK layer step took 1.45 ms per block printed
plainly and 1.10 ms as the same ufunc calls into reused arrays, best of 50 on this 2-core machine). A spec that declares the broadcast axes of its arguments (``KernelSpec.broadcast``) is
printed here as three-address ``numpy.<ufunc>(a, b, out=_wK)`` calls into scratch arrays taken from
the caller's ``work`` dict. Sub-expressions that do not span every axis (scalars, (n1, 1) columns)
are printed as ordinary expressions: they are small. Outputs are fresh arrays (the scratch arrays
are overwritten by the next call), and the arguments are never written.

The arithmetic is the plain printer's, operation for operation, except that sums and products are
evaluated left to right in SymPy's argument order with the small factors grouped: results agree
with the plain rendering to rounding (tests/codegen/test_inplace.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import sympy as sp

#: SymPy heads printed as one NumPy ufunc of one argument (every one accepts ``out=``).
_UNARY = {
    sp.atan: "numpy.arctan",
    sp.Abs: "numpy.absolute",
    sp.sign: "numpy.sign",
    sp.exp: "numpy.exp",
    sp.log: "numpy.log",
    sp.sin: "numpy.sin",
    sp.cos: "numpy.cos",
    sp.tanh: "numpy.tanh",
    sp.erf: "scipy.special.erf",
}


class _InPlacePrinter:
    """Emits the statements of one kernel; ``n_slots`` counts the scratch arrays it needs."""

    def __init__(self, printer: Any, axes: Mapping[str, frozenset[str]]):
        self.printer = printer
        self.axes = dict(axes)
        self.full = frozenset().union(*axes.values()) if axes else frozenset()
        self.lines: list[str] = []
        self.n_slots = 0
        self.free: list[int] = []
        self.n_fresh = 0

    # -- helpers -------------------------------------------------------------------------------
    def span(self, expr: sp.Basic) -> frozenset[str]:
        out: frozenset[str] = frozenset()
        for s in expr.free_symbols:
            out |= self.axes[s.name]  # type: ignore[attr-defined]
        return out

    def is_full(self, expr: sp.Basic) -> bool:
        return bool(self.full) and self.span(expr) == self.full

    def take_slot(self) -> int:
        if self.free:
            return self.free.pop()
        self.n_slots += 1
        return self.n_slots - 1

    def release(self, slot: int | None) -> None:
        if slot is not None:
            self.free.append(slot)

    def small(self, expr: sp.Basic) -> str:
        return f"({self.printer.doprint(expr)})"

    def call(self, fn: str, operands: Sequence[tuple[str, int | None]], target: str | None) -> tuple[str, int | None]:
        """``fn(*operands)`` into ``target`` (a fresh array) or into a scratch array (the
        first owned operand's, else a free one); the other owned operands are released."""
        args = ", ".join(t for t, _ in operands)
        if target is not None:
            self.lines.append(f"{target} = {fn}({args})")
            for _, s in operands:
                self.release(s)
            return target, None
        owned = [s for _, s in operands if s is not None]
        dest = owned[0] if owned else self.take_slot()
        for s in owned[1:]:
            self.release(s)
        self.lines.append(f"{fn}({args}, out=_w{dest})")
        return f"_w{dest}", dest

    # -- expressions -------------------------------------------------------------------------------
    def emit(self, expr: sp.Basic, target: str | None = None) -> tuple[str, int | None]:
        """Evaluate ``expr``; returns (text, owned scratch slot or None). With ``target`` the
        result is a fresh array bound to that name."""
        if isinstance(expr, sp.Symbol):
            if target is not None:
                self.lines.append(f"{target} = {expr.name}")
                return target, None
            return expr.name, None
        if not self.is_full(expr):
            text = self.small(expr)
            if target is not None:
                self.lines.append(f"{target} = {text}")
                return target, None
            return text, None
        if isinstance(expr, sp.Add):
            return self._add(expr, target)
        if isinstance(expr, sp.Mul):
            return self._mul(expr, target)
        if isinstance(expr, sp.Pow):
            return self._pow(expr, target)
        if isinstance(expr, sp.Max | sp.Min):
            full, groups = self.operands(expr.args)
            head, *rest = full + [type(expr)(*g) for g in groups]
            fn = "numpy.maximum" if isinstance(expr, sp.Max) else "numpy.minimum"
            return self.chain(head, [(fn, a) for a in rest], target)
        if isinstance(expr, sp.atan2):
            return self.call("numpy.arctan2", [self.emit(expr.args[0]), self.emit(expr.args[1])], target)
        unary = _UNARY.get(type(expr))
        if unary is not None:
            return self.call(unary, [self.emit(expr.args[0])], target)
        # Anything else (Piecewise, custom heads): the plain printer, one fresh array.
        name = target if target is not None else self._fresh_name()
        self.lines.append(f"{name} = {self.printer.doprint(expr)}")
        return name, None

    def _fresh_name(self) -> str:
        self.n_fresh += 1
        return f"_f{self.n_fresh - 1}"

    def operands(self, args: Sequence[sp.Basic]) -> tuple[list[sp.Basic], list[list[sp.Basic]]]:
        """The arguments of a commutative n-ary node: the full ones, and the small ones in groups
        printed as one small expression each: a single group when together they do not span every
        axis, else one group per span (var1 * var2 is an outer product, computed into scratch)."""
        full = [a for a in args if self.is_full(a)]
        small = [a for a in args if not self.is_full(a)]
        if not small:
            return full, []
        if frozenset().union(*(self.span(a) for a in small)) != self.full:
            return full, [small]
        groups: dict[frozenset[str], list[sp.Basic]] = {}
        for a in sorted(small, key=lambda a: not self.span(a)):  # scalars join the first group
            groups.setdefault(self.span(a) or next(iter(groups), frozenset()), []).append(a)
        return full, list(groups.values())

    def chain(self, head: sp.Basic, ops: Sequence[tuple[str, sp.Basic | None]], target: str | None) -> tuple[str, int | None]:
        """``head`` combined left to right by ``ops`` (ufunc name, operand or None for unary)."""
        if not ops:
            return self.emit(head, target)
        acc = self.emit(head)
        for k, (fn, a) in enumerate(ops):
            last = target if k == len(ops) - 1 else None
            acc = self.call(fn, [acc] if a is None else [acc, self.emit(a)], last)
        return acc

    def _add(self, expr: sp.Add, target: str | None) -> tuple[str, int | None]:
        full, groups = self.operands(expr.args)
        terms = [a for a in full if not a.could_extract_minus_sign()] + [sp.Add(*g) for g in groups]
        neg = [-a for a in full if a.could_extract_minus_sign()]
        if terms:
            head = terms[0]
            ops: list[tuple[str, sp.Basic | None]] = [("numpy.add", a) for a in terms[1:]]
        else:
            head, neg = neg[0], neg[1:]
            ops = [("numpy.negative", None)]
        ops += [("numpy.subtract", a) for a in neg]
        return self.chain(head, ops, target)

    def _mul(self, expr: sp.Mul, target: str | None) -> tuple[str, int | None]:
        full, groups = self.operands(expr.args)
        factors = [a for a in full if not (isinstance(a, sp.Pow) and a.exp == -1)] + [sp.Mul(*g) for g in groups]
        den = [a.base for a in full if isinstance(a, sp.Pow) and a.exp == -1]  # type: ignore[attr-defined]
        negate = len(factors) > 1 and sp.S.NegativeOne in factors
        if negate:
            factors.remove(sp.S.NegativeOne)
        head, *rest = factors or [sp.S.One]
        ops: list[tuple[str, sp.Basic | None]] = [("numpy.multiply", a) for a in rest]
        ops += [("numpy.divide", a) for a in den]
        if negate:
            ops.append(("numpy.negative", None))
        return self.chain(head, ops, target)

    def _pow(self, expr: sp.Pow, target: str | None) -> tuple[str, int | None]:
        base, exp = expr.args
        if exp == 2:
            b = self.emit(base)
            return self.call("numpy.multiply", [b, (b[0], None)], target)
        if exp == sp.S.Half or (exp.is_Float and float(exp) == 0.5):
            # NumPy evaluates x**0.5 as sqrt: the same function, the same rounding
            return self.call("numpy.sqrt", [self.emit(base)], target)
        if exp == -1:
            return self.call("numpy.divide", [("1.0", None), self.emit(base)], target)
        return self.call("numpy.power", [self.emit(base), (self.small(exp), None)], target)


def inplace_statements(
    replacements: Sequence[tuple[sp.Symbol, sp.Expr]],
    outputs: Sequence[sp.Expr],
    arg_axes: Mapping[str, str],
    printer: Any,
) -> tuple[list[str], int]:
    """Statements computing the CSE ``replacements`` and binding ``_out0, _out1, ...``, and the
    number of scratch arrays they use (``_w0, _w1, ...``). ``arg_axes`` maps each argument name to
    the axes it spans (e.g. ``{"nngp": "ij", "var1": "i", "w_std": ""}``)."""
    em = _InPlacePrinter(printer, {k: frozenset(v) for k, v in arg_axes.items()})
    # A temporary returned whole is computed straight into a fresh array (the scratch is reused).
    returned = {e for e in outputs if isinstance(e, sp.Symbol) and e.name not in arg_axes}
    later_uses = Counter(s for e in [r for _, r in replacements] + list(outputs) for s in e.free_symbols)
    slot_of: dict[sp.Symbol, int] = {}

    def drop_finished(expr: sp.Basic) -> None:
        # Scratch of temporaries read for the last time goes back to the pool after the statement.
        for s in expr.free_symbols:
            later_uses[s] -= 1
            if later_uses[s] == 0 and s in slot_of:
                em.release(slot_of.pop(s))  # type: ignore[arg-type]

    for sym, rhs in replacements:
        em.axes[sym.name] = em.span(rhs)
        if sym in returned or not em.is_full(rhs):
            em.emit(rhs, target=sym.name)
        else:
            text, slot = em.emit(rhs)
            em.lines.append(f"{sym.name} = {text}")
            if slot is not None:  # kept until the statement that reads it last
                slot_of[sym] = slot
        drop_finished(rhs)
    for k, expr in enumerate(outputs):
        em.emit(expr, target=f"_out{k}")
        drop_finished(expr)
    return em.lines, em.n_slots
