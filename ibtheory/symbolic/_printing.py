"""The one LaTeX printer of the project: SymPy objects in the papers' notation.

The SymPy objects stay what code generation consumes (``p_t_given_x[x, t]``, sums over
:class:`sympy.Idx` indices with symbolic ranges); only their printing changes, the way
``sympy.physics.vector``'s ``vlatex`` prints dynamic symbols with a mechanics textbook's dots.

Notation (Tishby, Pereira & Bialek 1999, physics/0004057; Cover & Thomas 2006):

- An entry of an indexed distribution prints as the papers write it: ``p_t_given_x[x, t]`` is
  ``p(t|x)``, ``p_xy[x, y]`` is ``p(x,y)``, ``log_z[x]`` is ``\\log Z(x,\\beta)``. The table is keyed
  on the :class:`~sympy.IndexedBase` object (:data:`INDEXED_NOTATION`, extended with
  :func:`register_indexed`); an unknown base prints as SymPy prints it.
- An index prints as the *letter of its alphabet*, found from its range (an ``Idx`` over
  ``n_x`` values is an ``x``), never as its label: the dummy ``xp`` of a sum is an ``x`` and the
  entry ``b`` that a derivative is taken at is an ``x`` too. Within one displayed equation distinct
  indices get distinct names: the free ones (the entry, ``x`` and ``t`` of ``p(t|x)``) take the bare
  letter, the bound ones the bare letter if it is still free, else primes (``x'``, ``t'``,
  ``x''``). So ``p_t_given_x[b, a]``, the entry a derivative is taken with respect to, prints as
  ``p(t|x)`` with ``x``, ``t`` fixed and every sum over primed letters, as in the papers' variational
  derivations; ``p(t{=}a|x{=}b)`` was the alternative and reads worse.
- Sums and products over such indices print without ranges: ``\\sum_{x}``, ``\\sum_{x,t}``.
- A quantity the derivation names prints by its name: :class:`Named` (``I(X;T)``, ``H(T)``) and
  :func:`named_function` (``D_{KL}[p(y|x) \\| p(y|t)]``, ``Z(x,\\beta)``, whose index arguments
  follow the same renaming).

:func:`latex` prints one expression on one line; :func:`display` prints a displayed equation
(a relation, or a :class:`Chain` ``a = b = c``) broken over ``aligned`` lines at top-level ``+`` and
``=`` so that no line is longer than :data:`LINE_WIDTH` characters of LaTeX where the terms allow.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sympy as sp
from sympy.printing.latex import LatexPrinter

from ._symbols import (
    b_std,
    lagrange,
    log_p_t,
    log_p_t_given_x,
    log_z,
    n_t,
    n_x,
    n_y,
    nngp,
    ntk,
    p_t,
    p_t_given_x,
    p_x,
    p_x_given_t,
    p_xy,
    p_y,
    p_y_given_t,
    p_y_given_x,
    u_pre,
    v_pre,
    var1,
    var2,
    w_std,
)

#: Target width of one display line, in characters of LaTeX (terms are packed up to it).
LINE_WIDTH = 150
#: The longest display line a derivation may print (tests/symbolic/test_printing.py checks it).
MAX_LINE = 200
#: An Add printed longer than this inside an expression is broken into a nested aligned block.
NESTED_WIDTH = 170
#: A longer exponent prints as exp(...) rather than as a superscript.
EXPONENT_WIDTH = 30


@dataclass(frozen=True)
class IndexedNotation:
    """How the entries of one ``IndexedBase`` print.

    ``head`` is the function's name (``"p"``, ``"\\log p"``, ``"\\lambda"``); ``args`` are the
    positions of the indices printed as its arguments, ``given`` those printed after the bar,
    ``sub`` those printed as a subscript of the head (``A_r(x)``); ``extra`` is appended to the
    argument list (``"\\beta"`` in ``Z(x,\\beta)``). Example: ``p_t_given_x[x, t]`` has
    ``IndexedNotation("p", args=(1,), given=(0,))`` and prints ``p(t|x)``. A ``template`` instead
    writes the whole entry, ``#1``, ``#2``, ... standing for the printed indices:
    ``IndexedNotation(template=r"D(p_{#1} \\| p_{#2})")``.
    """

    head: str = ""
    args: tuple[int, ...] = ()
    given: tuple[int, ...] = ()
    sub: tuple[int, ...] = ()
    extra: tuple[str, ...] = ()
    template: str = ""


#: The papers' notation of the indexed quantities, keyed on the IndexedBase (index order follows
#: ``DISCRETE_AXES``, see ``_symbols``). Derivation modules add theirs with :func:`register_indexed`.
INDEXED_NOTATION: dict[sp.IndexedBase, IndexedNotation] = {
    p_x: IndexedNotation("p", (0,)),
    p_y: IndexedNotation("p", (0,)),
    p_t: IndexedNotation("p", (0,)),
    p_xy: IndexedNotation("p", (0, 1)),
    p_y_given_x: IndexedNotation("p", (1,), (0,)),
    p_t_given_x: IndexedNotation("p", (1,), (0,)),
    p_y_given_t: IndexedNotation("p", (0,), (1,)),
    p_x_given_t: IndexedNotation("p", (0,), (1,)),
    log_p_t_given_x: IndexedNotation(r"\log p", (1,), (0,)),
    log_p_t: IndexedNotation(r"\log p", (0,)),
    log_z: IndexedNotation(r"\log Z", (0,), extra=(r"\beta",)),
    lagrange: IndexedNotation(r"\lambda", (0,)),
}

#: The papers' names of scalar symbols whose SymPy name is a kernel argument name (style.md 3):
#: the NNGP / NTK entries as Lee et al. 2019 and neural-tangents write them.
SYMBOL_NOTATION: dict[sp.Symbol | sp.MatrixSymbol, str] = {
    nngp: r"\Sigma(x,x')",
    ntk: r"\Theta(x,x')",
    var1: r"\Sigma(x,x)",
    var2: r"\Sigma(x',x')",
    w_std: r"\sigma_w",
    b_std: r"\sigma_b",
    u_pre: "u",
    v_pre: "v",
}

#: The letter of each alphabet, keyed on its size: an ``Idx`` over ``range(n_x)`` prints as ``x``.
INDEX_LETTERS: dict[sp.Expr, str] = {n_x: "x", n_y: "y", n_t: "t"}


def register_indexed(base: sp.IndexedBase, notation: IndexedNotation) -> sp.IndexedBase:
    """Print the entries of ``base`` with ``notation``; returns ``base`` (call it where it is made)."""
    INDEXED_NOTATION[base] = notation
    return base


def register_index_letter(size: sp.Expr, letter: str) -> None:
    """Print every ``Idx`` over ``range(size)`` as ``letter`` (with primes where names collide)."""
    INDEX_LETTERS[size] = letter


def register_symbol(symbol: sp.Symbol | sp.MatrixSymbol, latex: str) -> sp.Symbol | sp.MatrixSymbol:
    """Print ``symbol`` (a kernel argument such as ``sq_dist``) as ``latex``; returns ``symbol``."""
    SYMBOL_NOTATION[symbol] = latex
    return symbol


def _fill(template: str, args: Sequence[str]) -> str:
    # replace #9 .. #1 so that #1 never eats the start of #10
    for i in range(len(args), 0, -1):
        template = template.replace(f"#{i}", args[i - 1])
    return template


class Named(sp.Symbol):
    """A display-only named quantity whose LaTeX is its name: ``Named("I(X;T)")``, ``Named("H(T)")``.

    Use it as the left-hand side of a displayed equation (``Eq(Named("I(X;T)"), expr)``) or in place
    of a sub-expression that the derivation states by name. Never passed to code generation.
    """

    def _latex(self, printer: object) -> str:
        return str(self.name)


class NamedFunction(sp.Function):
    """A display-only named quantity with index arguments; made by :func:`named_function`."""

    template: str = ""

    def _latex(self, printer: LatexPrinter, exp: object = None) -> str:
        text = _fill(self.template, [printer._print(a) for a in self.args])
        return text if exp is None else r"\left(" + text + r"\right)^{" + printer._print(exp) + "}"


@functools.cache
def named_function(template: str) -> type[NamedFunction]:
    """A display-only function printed by ``template`` with ``#1``, ``#2``, ... for its arguments.

    ``named_function(r"D_{KL}[p(y|#1) \\| p(y|#2)]")(x, t)`` prints ``D_{KL}[p(y|x) \\| p(y|t)]``
    (index arguments follow the printer's renaming, so ``(x, tp)`` prints ``t'``). The same
    template always returns the same class.
    """
    return type(f"Named[{template}]", (NamedFunction,), {"template": template})


@dataclass(frozen=True)
class Chain:
    """A displayed chain of equalities ``parts[0] = parts[1] = ...`` (display only).

    ``Chain(Named(r"\\partial L/\\partial p(t|x)"), stationarity, 0)`` shows the derivative by its
    name, its value, and that it vanishes. :func:`display` breaks it at every ``=``.
    """

    parts: tuple[object, ...]

    def __init__(self, *parts: object) -> None:
        object.__setattr__(self, "parts", parts)


def _sorted_indices(indices: Iterable[sp.Idx]) -> list[sp.Idx]:
    # indices labelled by their own letter first (x before xp), then by label: a stable naming
    def key(i: sp.Idx) -> tuple[int, str]:
        return (0 if str(i.label) == _letter(i) else 1, str(i.label))

    return sorted(indices, key=key)


def _letter(i: sp.Idx) -> str | None:
    if i.upper is None:
        return None
    return INDEX_LETTERS.get(i.upper + 1 - (i.lower or 0))  # (n_x - 1) + 1 - 0 is n_x already


def index_names(expr: object) -> dict[sp.Idx, str]:
    """The LaTeX name of every ``Idx`` in ``expr`` (free ones first, then bound ones with primes)."""
    if not isinstance(expr, sp.Basic):
        return {}
    indices = expr.atoms(sp.Idx)
    free = [i for i in indices if i in expr.free_symbols]
    bound = [i for i in indices if i not in expr.free_symbols]
    names: dict[sp.Idx, str] = {}
    taken: set[str] = set()
    for i in _sorted_indices(free) + _sorted_indices(bound):
        letter = _letter(i)
        if letter is None:
            name = LatexPrinter()._print(i.label)
        else:
            name = letter
            while name in taken:
                name += "'"
        names[i] = name
        taken.add(name)
    return names


class NotationPrinter(LatexPrinter):
    """SymPy's LaTeX printer speaking the papers' notation (see the module docstring).

    ``index_names`` maps each ``Idx`` to its printed name; :func:`latex` and :func:`display` compute
    it once per displayed equation (:func:`index_names`) so that both sides agree.
    """

    def __init__(
        self,
        settings: dict | None = None,
        index_names: dict[sp.Idx, str] | None = None,
        width: int = NESTED_WIDTH,
        break_products: bool = False,
    ) -> None:
        super().__init__(settings)
        self.index_names = dict(index_names or {})
        self.width = width  # a sum printed longer than this is broken into lines
        self.break_products = break_products  # and a product too, when set

    def _print_Idx(self, expr: sp.Idx) -> str:
        name = self.index_names.get(expr)
        if name is None:
            letter = _letter(expr)
            name = letter if letter is not None else self._print(expr.label)
        return name

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        name = SYMBOL_NOTATION.get(expr)
        return name if name is not None else super()._print_Symbol(expr, style)

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        notation = INDEXED_NOTATION.get(expr.base)
        if notation is None:
            return super()._print_Indexed(expr)
        idx = [self._print(i) for i in expr.indices]
        if notation.template:
            return _fill(notation.template, idx)
        head = notation.head
        if notation.sub:
            head += "_{" + ",".join(idx[k] for k in notation.sub) + "}"
        inner = ",".join([idx[k] for k in notation.args] + list(notation.extra))
        if notation.given:
            inner += "|" + ",".join(idx[k] for k in notation.given)
        return f"{head}({inner})"

    def _print_limits(self, limits: Sequence[tuple]) -> str | None:
        """``x,t`` when every limit is a whole-range ``Idx``; ``None`` otherwise (SymPy's form)."""
        names = []
        for lim in limits:
            var = lim[0]
            if not (isinstance(var, sp.Idx) and len(lim) == 3 and lim[1] == var.lower and lim[2] == var.upper):
                return None
            names.append(self._print(var))
        return ",".join(names)

    def _print_Sum(self, expr: sp.Sum) -> str:
        return self._print_big(expr, r"\sum") or super()._print_Sum(expr)

    def _print_Product(self, expr: sp.Product) -> str:
        return self._print_big(expr, r"\prod") or super()._print_Product(expr)

    def _print_big(self, expr: sp.Sum | sp.Product, op: str) -> str | None:
        under = self._print_limits(expr.limits)
        if under is None:
            return None
        body = self._print(expr.function)
        if isinstance(expr.function, sp.Add):
            body = r"\left(" + body + r"\right)"
        return op + "_{" + under + "} " + body

    def _print_log(self, expr: sp.log, exp: object = None) -> str:
        # log p(t|x), log beta: no parentheses around a single factor, as the papers write it (a
        # product prints such a log last, so that nothing after it reads as part of its argument)
        arg = expr.args[0]
        if isinstance(arg, sp.Indexed | sp.Symbol | NamedFunction) and exp is None:
            return r"\log " + self._print(arg)
        if isinstance(arg, sp.Mul) and exp is None and sp.fraction(arg, exact=True)[1] != 1:
            tex = self._print(arg)
            if tex.startswith(r"\frac"):  # log p(y|x)/p(y|t) as one fraction
                return r"\log " + tex
        return r"\log\left(" + self._print(arg) + r"\right)" + ("" if exp is None else "^{" + str(exp) + "}")

    def _print_exp(self, expr: sp.exp, exp: object = None) -> str:
        # exp(-beta D_KL[...]) rather than a superscript too small to read, when the exponent holds
        # a sum or a named quantity
        arg = expr.args[0]
        tex = self._print(arg)
        if arg.has(sp.Sum, sp.Product, NamedFunction, Named) or len(tex) > EXPONENT_WIDTH:
            tex = r"\exp\left(" + tex + r"\right)"
            return tex if exp is None else tex + "^{" + str(exp) + "}"
        return self._print_ExpBase(expr, exp)

    def _print_Mul(self, expr: sp.Mul) -> str:
        """Factors in the papers' order: numbers, symbols, distributions, functions, sums last.

        ``beta p(x) p(t|x) log p(t|x)`` rather than SymPy's alphabetical ``log p(t|x) p(t|x) p(x)``.
        """
        if expr.could_extract_minus_sign():
            rest = -expr
            tex = self._print(rest)
            if isinstance(rest, sp.Add):
                tex = r"\left(" + tex + r"\right)"
            return "- " + tex
        numer, denom = sp.fraction(expr, exact=True)
        if denom == 1:
            return self._print_factors(expr)
        return r"\frac{" + self._print_factors(numer) + "}{" + self._print_factors(denom) + "}"

    def _print_factors(self, expr: sp.Expr) -> str:
        if not isinstance(expr, sp.Mul):
            return self._print(expr)
        factors = sorted(expr.as_ordered_factors(), key=_factor_rank)
        out = []
        for k, f in enumerate(factors):
            last = k == len(factors) - 1
            if isinstance(f, sp.log) and not last:
                tex = r"\log\left(" + self._print(f.args[0]) + r"\right)"
            else:
                tex = self._print(f)
            if _needs_brackets(f, last, self):
                tex = r"\left(" + tex + r"\right)"
            out.append(tex)
        tex = " ".join(out)
        if not self.break_products or _longest_line(tex) <= self.width or len(out) == 1:
            return tex
        # a product too long for one line: its factors over several (implicit product continues)
        rows = _pack(out, self.width)
        return "\\begin{aligned}\n&" + " \\\\\n&\\quad ".join(rows) + "\n\\end{aligned}"

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        # an inner sum too long for one line is broken into a nested aligned block
        terms = _signed_terms(self, expr)
        tex = " ".join(terms)
        if _longest_line(tex) <= self.width:
            return tex
        rows = _pack(terms, self.width)
        return "\\begin{aligned}\n&" + " \\\\\n&".join(rows) + "\n\\end{aligned}"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        # SymPy's cases, one line of source per case
        rows = []
        for e, c in expr.args:
            cond = r"\text{otherwise}" if c == sp.true else r"\text{for}\: " + self._print(c)
            rows.append(self._print(e) + " & " + cond)
        return "\\begin{cases} " + " \\\\\n".join(rows) + " \\end{cases}"


_RANKS: tuple[tuple[type, ...], ...] = (
    (sp.Number, sp.NumberSymbol),
    (sp.Symbol,),
    (sp.Indexed,),
)


def _factor_rank(f: sp.Expr) -> tuple[int, int]:
    base = f.base if isinstance(f, sp.Pow) and not isinstance(f, sp.exp) else f
    if isinstance(base, sp.Sum | sp.Product):
        return (6, 0)
    if isinstance(f, sp.log):
        return (5, 0)
    if isinstance(f, sp.exp):
        return (4, 0)
    if isinstance(base, sp.Indexed):
        order = list(INDEXED_NOTATION)
        return (2, order.index(base.base) if base.base in INDEXED_NOTATION else len(order))
    for rank, kinds in enumerate(_RANKS):
        if isinstance(base, kinds):
            return (rank, 0)
    return (3, 0)


def _needs_brackets(f: sp.Expr, last: bool, printer: LatexPrinter) -> bool:
    if isinstance(f, sp.Sum | sp.Product):
        return not last
    if isinstance(f, sp.Piecewise):
        return True
    if isinstance(f, sp.Pow | sp.exp | sp.log | sp.Indexed | sp.Symbol | sp.Function | sp.KroneckerDelta):
        return isinstance(f, sp.Pow) and f.could_extract_minus_sign()
    return printer._needs_mul_brackets(f, last=last)


def latex(expr: object) -> str:
    """LaTeX of a SymPy expression in the papers' notation, on one line; strings pass through.

    Use it, not ``sympy.latex``, to show a derivation's results.
    """
    if isinstance(expr, str):
        return expr
    if isinstance(expr, Chain):
        names = index_names(sp.Tuple(*[p for p in expr.parts if isinstance(p, sp.Basic)]))
        printer = NotationPrinter(index_names=names)
        return " = ".join(printer.doprint(p) for p in expr.parts)
    return NotationPrinter(index_names=index_names(expr)).doprint(expr)


_FLIPPED = {"<": ">", r"\leq": r"\geq", ">": "<", r"\geq": r"\leq"}


def _is_name(expr: object) -> bool:
    """A quantity shown by its name (a left-hand side): a symbol, an entry, a named function."""
    return isinstance(expr, sp.Symbol | sp.Indexed | NamedFunction | sp.MatrixSymbol)


_RELATION = {"==": "=", "<=": r"\leq", ">=": r"\geq", "<": "<", ">": ">", "!=": r"\neq"}


def _signed_terms(printer: NotationPrinter, expr: object) -> list[str]:
    """The top-level terms of ``expr`` as printed, each with its sign (``+ a``, ``- b``)."""
    if not isinstance(expr, sp.Add):
        return [printer.doprint(expr)]
    out = []
    for k, term in enumerate(printer._as_ordered_terms(expr)):
        sign = "+ "
        if term.could_extract_minus_sign():
            sign, term = "- ", -term
        tex = printer._print(term)
        if printer._needs_add_brackets(term):
            tex = r"\left(" + tex + r"\right)"
        out.append(("- " if sign == "- " else "") + tex if k == 0 else sign + tex)
    return out


def _longest_line(tex: str) -> int:
    return max(len(line) for line in tex.split("\n"))


def _pack(terms: list[str], width: int) -> list[str]:
    lines: list[str] = []
    for term in terms:
        # a term with a nested block starts its own line; others fill lines up to the width
        if lines and "\n" not in term + lines[-1] and len(lines[-1]) + 1 + len(term) <= width:
            lines[-1] += " " + term
        else:
            lines.append(term)
    return lines


def display(expr: object, width: int = LINE_WIDTH) -> str:
    """LaTeX of one displayed equation, narrowed until no line is longer than :data:`MAX_LINE`.

    See :func:`_display_at`; where even the narrowest breaking leaves a longer line (one atom
    longer than the limit) the narrowest form is returned.
    """
    tex = ""
    for nested, products in ((NESTED_WIDTH, False), (NESTED_WIDTH, True), (120, True), (90, True), (60, True)):
        tex = _display_at(expr, min(width, nested), nested, products)
        if _longest_line(tex) <= MAX_LINE:
            break
    return tex


def _display_at(expr: object, width: int, nested: int, products: bool) -> str:
    """LaTeX of one displayed equation: a relation (``Eq``, ``Le``, ...) or a :class:`Chain`.

    Short ones print on one line; longer ones as ``aligned`` with the relation sign aligned and the
    right-hand side broken at its top-level ``+``/``-`` (and a chain at every ``=``). Anything
    else prints as :func:`latex` does (a display without a left-hand side: derivations avoid it).
    """
    if isinstance(expr, Chain):
        parts, rel = list(expr.parts), "="
        names = index_names(sp.Tuple(*[p for p in parts if isinstance(p, sp.Basic)]))
    elif isinstance(expr, sp.core.relational.Relational):
        parts, rel = [expr.lhs, expr.rhs], _RELATION[expr.rel_op]
        if rel in _FLIPPED and _is_name(expr.rhs) and not _is_name(expr.lhs):
            # the named side first: I(X;Z) >= bound rather than bound <= I(X;Z)
            parts, rel = [expr.rhs, expr.lhs], _FLIPPED[rel]
        names = index_names(expr)
    else:
        return latex(expr)
    printer = NotationPrinter(index_names=names, width=nested, break_products=products)
    one_line = f" {rel} ".join(printer.doprint(p) for p in parts)
    if len(one_line) <= width and "\\\\" not in one_line:
        return one_line
    rows: list[str] = []
    lhs = printer.doprint(parts[0])
    for k, part in enumerate(parts[1:]):
        lines = _pack(_signed_terms(printer, part), width)
        first = (lhs if k == 0 else "") + f" &{rel} " + lines[0]
        rows.append(first)
        rows.extend(r"&\quad " + line for line in lines[1:])
    if len(rows) == 1 and "\n" not in rows[0]:
        if len(rows[0]) <= MAX_LINE:
            return rows[0].replace(" &", " ", 1)
        rows = [lhs + " &", rows[0][len(lhs) :]]  # a long left-hand side on a line of its own
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"
