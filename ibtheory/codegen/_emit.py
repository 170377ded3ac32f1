"""Kernel specifications and the emitter that prints them as Python source.

Pipeline (codegen-notes 1.5): lower (``_lower``) -> stability rewrites -> fold numeric constants ->
``sympy.cse(order="none")`` after lowering (no bound index is left to hoist, sympy#27971) ->
print each right-hand side with a fixed printer (never ``Assignment``, sympy#30395) -> template.
"""

from __future__ import annotations

import hashlib
import keyword
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from ._inplace import inplace_statements
from ._lower import (
    AxisMap,
    contract_reductions,
    free_axes,
    indexed_arguments,
    log_normalise,
    lower_indexed,
    stabilise,
)
from ._printers import PRINTERS, fold_numbers
from ._support import check_heads, unsupported_error
from .nodes import LogSumExp

#: Bump when the emitter's output format changes (part of every source hash).
#: 6: kernels with several outputs return a ``typing.NamedTuple`` named by :func:`result_type_name`.
CODEGEN_REVISION = "6"

BACKENDS = ("numpy", "torch", "mpmath")

_IMPORTS = {
    "numpy": "from typing import Any, NamedTuple\n\nimport numpy\nimport scipy.special\n\nfrom ibtheory.codegen.runtime_numpy import _as_array, _chol_solve, _contract, _logdet_pd, _logsumexp, _scratch, _sum_xlogy, _xlogy",
    "torch": "from typing import Any, NamedTuple\n\nimport torch\n\nfrom ibtheory.codegen.runtime_torch import _as_tensor, _contract, _logdet_pd, _reference, _sum_xlogy",
    "mpmath": "from typing import Any, NamedTuple\n\nimport numpy\n\nfrom ibtheory.codegen import _mp",
}
#: Runtime helpers imported only by the modules that call them (so that adding one leaves every
#: other committed module byte-identical): backend -> ((name, import line), ...).
_EXTRA_IMPORTS: dict[str, tuple[tuple[str, str], ...]] = {
    "numpy": (("_log_softmax", "from ibtheory.codegen.runtime_numpy import _log_softmax"),),
}


@dataclass(frozen=True)
class KernelSpec:
    """One generated function: its name, ordered arguments, named outputs and provenance.

    ``args`` are SymPy ``Symbol``s (arrays broadcasting elementwise) or ``IndexedBase``s (arrays over
    the declared ``axes``); ``outputs`` maps output names to expressions; ``axes`` is the ordered
    tuple of index axes for index-level kernels (empty for elementwise kernels). ``broadcast``
    (elementwise kernels only) gives the axes each argument spans, e.g. ``(("nngp", "ij"),
    ("var1", "i"), ("w_std", ""))``: the NumPy kernel is then printed in place (see
    :mod:`ibtheory.codegen._inplace`) and every backend takes a keyword ``work``.
    """

    name: str
    args: tuple[sp.Basic, ...]
    outputs: tuple[tuple[str, sp.Expr], ...]
    doc: str
    reference: str
    axes: tuple[str, ...] = ()
    returns: str = "auto"  # "auto": a single array, or a NamedTuple for several outputs; "dict"
    broadcast: tuple[tuple[str, str], ...] = ()

    @property
    def arg_names(self) -> tuple[str, ...]:
        return tuple(_arg_name(a) for a in self.args)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.outputs)

    @property
    def result_type(self) -> str | None:
        """Name of the NamedTuple the kernel returns, or None (one array, or a dict)."""
        if self.returns != "auto" or len(self.outputs) < 2:
            return None
        return result_type_name(self.name)

    def source_hash(self) -> str:
        h = hashlib.sha256()
        h.update(CODEGEN_REVISION.encode())
        h.update(repr((self.name, self.arg_names, self.axes, self.doc, self.reference, self.returns)).encode())
        if self.broadcast:  # only then, so that the hashes of other kernels stay as they were
            h.update(repr(self.broadcast).encode())
        for name, expr in self.outputs:
            h.update(name.encode())
            h.update(sp.srepr(expr).encode())
        return h.hexdigest()


def result_type_name(kernel_name: str) -> str:
    """``ib_step`` -> ``IbStepResult``: the NamedTuple a kernel with several outputs returns."""
    return "".join(part[:1].upper() + part[1:] for part in kernel_name.split("_")) + "Result"


def _arg_name(a: sp.Basic) -> str:
    if isinstance(a, sp.IndexedBase):
        return str(a.label)
    if isinstance(a, sp.Symbol):
        return a.name
    raise TypeError(f"kernel arguments must be sympy Symbols or IndexedBases, got {a!r} ({type(a).__name__})")


#: Names the generated function body reads as globals or locals; an argument must not shadow them.
_RESERVED_ARG_NAMES = frozenset({"numpy", "scipy", "torch", "float", "work", "Any", "NamedTuple"})


def check_identifier(value: object, what: str) -> str:
    """Return ``value`` if it is a ``str`` that is a Python identifier and not a keyword.

    Generated source interpolates names verbatim, so anything else could change the code:
    ``TypeError`` for a non-string, ``ValueError`` naming ``what`` otherwise.
    """
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, got {type(value).__name__}")
    if not value.isidentifier() or keyword.iskeyword(value):
        raise ValueError(f"{what} {value!r} is not a Python identifier (letters, digits, _; not a keyword)")
    if unicodedata.normalize("NFKC", value) != value:
        # Python's parser renames identifiers to their NFKC form ('µ' -> 'μ'), so the generated
        # function would not be found under this name (issue 21 property hunt: KeyError)
        raise ValueError(
            f"{what} {value!r} is not in Unicode NFKC form; Python would read it as "
            f"{unicodedata.normalize('NFKC', value)!r}: use that spelling"
        )
    return value


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, got {type(value).__name__}")
    return value


def docstring_literal(text: str) -> str:
    """A Python string literal whose value is ``text``: never code, whatever ``text`` holds.

    Plain text keeps the readable triple-quoted form (committed kernels are unchanged); text that
    could end or alter a triple-quoted literal (quotes, backslashes, control characters) is
    printed with :func:`repr`, which escapes everything.
    """
    plain = (
        '"""' not in text
        and "\\" not in text
        and not text.startswith('"')
        and not text.endswith('"')
        and all(c == "\n" or c.isprintable() for c in text)
    )
    return '"""' + text + '"""' if plain else repr(text)


def kernel(
    name: str,
    args: Sequence[sp.Basic],
    outputs: Mapping[str, sp.Expr] | sp.Expr,
    *,
    doc: str,
    reference: str,
    axes: Sequence[object] = (),
    returns: str = "auto",
    broadcast: Mapping[str, str] | None = None,
) -> KernelSpec:
    """Build a :class:`KernelSpec`, refusing expressions with undeclared free symbols.

    ``outputs`` may be one expression (output name ``"out"``) or a mapping name -> expression.
    ``axes`` lists the index axes in their canonical order (names or ``sp.Idx``), e.g.
    ``("x", "y", "t")``; leave it empty for elementwise kernels. ``broadcast`` (elementwise
    kernels) maps every argument to the axes it spans, e.g. ``{"nngp": "ij", "var1": "i",
    "var2": "j", "w_std": ""}`` for (n1, n2) blocks with (n1, 1) and (1, n2) vectors: the NumPy
    kernel then reuses scratch arrays across calls (keyword ``work``).
    """
    check_identifier(name, "kernel name")
    _check_text(doc, "doc")
    _check_text(reference, "reference")
    if isinstance(args, str | sp.Basic) or not isinstance(args, Sequence):
        raise TypeError(f"args must be a list of sympy Symbols or IndexedBases, got {type(args).__name__}")
    if not isinstance(outputs, sp.Basic | Mapping):
        raise TypeError(f"outputs must be a sympy expression or a mapping name -> expression, got {type(outputs).__name__}")
    outs = {"out": outputs} if isinstance(outputs, sp.Basic) else dict(outputs)
    if not outs:
        raise ValueError("a kernel needs at least one output expression")
    arg_tuple = tuple(args)
    names = [_arg_name(a) for a in arg_tuple]
    for arg in names:
        check_identifier(arg, "argument name")
        if arg.startswith("_") or arg in _RESERVED_ARG_NAMES:
            raise ValueError(
                f"argument name {arg!r} is reserved for the generated code (no leading '_', "
                f"none of {sorted(_RESERVED_ARG_NAMES)})"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate argument names in {names}")
    for out_name, expr in outs.items():
        check_identifier(out_name, "output name")
        if not isinstance(expr, sp.Basic | int | float):
            raise TypeError(f"output {out_name!r} must be a sympy expression or a number, got {type(expr).__name__}")
        if len(outs) > 1 and returns == "auto" and out_name.startswith("_"):
            raise ValueError(f"output name {out_name!r} starts with '_': it cannot name a field of the result NamedTuple")
        missing = undeclared_symbols(sp.sympify(expr), names)
        if missing:
            raise ValueError(
                f"output {out_name!r} of kernel {name!r} uses {', '.join(sorted(missing))}, "
                f"which {'is' if len(missing) == 1 else 'are'} not among the arguments {names}; "
                "add it to args or substitute a value"
            )
    axis_names = tuple(str(a.label) if isinstance(a, sp.Idx) else str(a) for a in axes)
    if not axis_names and any(isinstance(a, sp.IndexedBase) for a in arg_tuple):
        raise ValueError(f"kernel {name!r} has indexed arguments: declare their axes, e.g. axes=('x', 'y', 't')")
    bcast: tuple[tuple[str, str], ...] = ()
    if broadcast is not None:
        if axis_names:
            raise ValueError(f"kernel {name!r}: broadcast= is for elementwise kernels (no axes)")
        if set(broadcast) != set(names):
            raise ValueError(f"kernel {name!r}: broadcast= must give the axes of every argument {names}, got {sorted(broadcast)}")
        bcast = tuple((n, "".join(sorted(broadcast[n]))) for n in names)
    return KernelSpec(
        name=name,
        args=arg_tuple,
        outputs=tuple((k, sp.sympify(v)) for k, v in outs.items()),
        doc=doc,
        reference=reference,
        axes=axis_names,
        returns=returns,
        broadcast=bcast,
    )


def undeclared_symbols(expr: sp.Basic, arg_names: Sequence[str]) -> set[str]:
    """Names of free symbols of ``expr`` that are not arguments (indices and sizes excluded)."""
    index_related: set[sp.Basic] = set()
    for idx in expr.atoms(sp.Idx):
        index_related.add(idx)
        index_related.add(idx.label)
        if idx.upper is not None:
            index_related |= idx.upper.free_symbols
        if idx.lower is not None:
            index_related |= idx.lower.free_symbols
    missing: set[str] = set()
    for ind in expr.atoms(sp.Indexed):
        if str(ind.base.label) not in arg_names:
            missing.add(str(ind.base.label))
    for s in expr.free_symbols:
        if isinstance(s, sp.Indexed | sp.Idx) or s in index_related:
            continue
        if s.name not in arg_names and not any(str(i.base.label) == s.name for i in expr.atoms(sp.Indexed)):
            missing.add(s.name)
    return missing


@dataclass(frozen=True)
class _Lowered:
    exprs: tuple[sp.Expr, ...]
    arg_axes: dict[str, tuple[int, ...] | None]  # None: plain (elementwise) argument
    out_axes: tuple[tuple[int, ...], ...]
    n_axes: int


def _lower_spec(spec: KernelSpec) -> _Lowered:
    raw = [e for _, e in spec.outputs]
    if not spec.axes:
        lowered = tuple(stabilise(e) for e in raw)
        return _Lowered(lowered, {n: None for n in spec.arg_names}, tuple(() for _ in raw), 0)
    amap = AxisMap(spec.axes, raw)
    used = indexed_arguments(raw, amap)
    arg_axes: dict[str, tuple[int, ...] | None] = {}
    for a in spec.args:
        name = _arg_name(a)
        arg_axes[name] = used.get(name, ()) if isinstance(a, sp.IndexedBase) else ()
    out_axes = tuple(free_axes(e, amap) for e in raw)
    symbol_axes = {name: frozenset(ax) for name, ax in arg_axes.items() if ax is not None}
    lowered = tuple(
        log_normalise(contract_reductions(stabilise(lower_indexed(e, amap)), symbol_axes, amap.n)) for e in raw
    )
    return _Lowered(lowered, arg_axes, out_axes, amap.n)


def _align_suffix(axes: tuple[int, ...], n_axes: int) -> str:
    if n_axes == 0:
        return ""
    parts = [":" if k in axes else "None" for k in range(n_axes)]
    return "[..., " + ", ".join(parts) + "]"


def _squeeze_suffix(axes: tuple[int, ...], n_axes: int) -> str:
    if n_axes == 0:
        return ""
    parts = [":" if k in axes else "0" for k in range(n_axes)]
    return "[..., " + ", ".join(parts) + "]"


def _docstring(spec: KernelSpec, lowered: _Lowered, backend: str) -> str:
    lines = [spec.doc.strip(), ""]
    if spec.axes:
        lines.append(
            f"Index axes (trailing, in this order): {', '.join(spec.axes)}. Leading axes of any "
            "argument are batch axes and broadcast."
        )
        lines.append("")
    lines.append("Arguments (in order):")
    for name in spec.arg_names:
        ax = lowered.arg_axes[name]
        if ax is None:
            shape = "array, broadcasts elementwise with the other arguments"
        else:
            shape = "(..., " + ", ".join(f"n_{spec.axes[k]}" for k in ax) + ")" if ax else "(...) scalar per batch"
        lines.append(f"    {name}: {shape}")
    if spec.broadcast:
        lines.append(
            "    work: optional dict of scratch arrays, reused across calls (keep one per thread); "
            "None allocates them per call" + ("" if backend == "numpy" else f" (ignored by the {backend} backend)")
        )
    lines.append("")
    lines.append("Returns" + (" (in this order):" if len(spec.outputs) > 1 else ":"))
    for (name, _), ax in zip(spec.outputs, lowered.out_axes, strict=True):
        if spec.axes:
            shape = "(..., " + ", ".join(f"n_{spec.axes[k]}" for k in ax) + ")" if ax else "(...)"
        else:
            shape = "broadcast shape of its arguments"
        lines.append(f"    {name}: {shape}")
    lines.append("")
    lines.append(f"Reference: {spec.reference.strip()}")
    return "\n".join(lines)


def _bind_shared_lse_arguments(replacements: list, reduced: list, tmp: Any) -> tuple[list, list]:
    """Give ``x`` its own temporary where ``x - logsumexp(x)`` leaves it unshared.

    ``sympy.cse`` does not share a negation ``-_c`` (it counts it as free), so the normalised
    log-encoder ``-_c - logsumexp(-_c)`` would negate a whole (..., x, t) array twice; on large
    arrays that is one memory-bound pass too many (issue 3 benchmark).
    """

    def bind(expr: sp.Expr, out: list) -> sp.Expr:
        for node in sp.preorder_traversal(expr):
            if isinstance(node, LogSumExp) and not node.args[0].is_Symbol:
                arg = node.args[0]
                rest = expr.xreplace({node: sp.Symbol("_lse_placeholder")})
                if rest.has(arg):
                    sym = next(tmp)
                    out.append((sym, arg))
                    return bind(expr.xreplace({arg: sym}), out)
        return expr

    new_replacements: list = []
    for sym, rhs in replacements:
        rhs = bind(rhs, new_replacements)
        new_replacements.append((sym, rhs))
    new_reduced = [bind(expr, new_replacements) for expr in reduced]
    # a bound ``-_c`` whose ``_c`` has no other use: define ``_c`` negated instead (no negation pass)
    k = 0
    while k < len(new_replacements):
        sym, rhs = new_replacements[k]
        neg = -rhs
        others = [r for s2, r in new_replacements if s2 != sym] + new_reduced
        if rhs.could_extract_minus_sign() and neg.is_Symbol and not any(e.has(neg) for e in others):
            new_replacements = [(s2, -r if s2 == neg else r.xreplace({sym: neg}))
                                for s2, r in new_replacements if s2 != sym]
            new_reduced = [e.xreplace({sym: neg}) for e in new_reduced]
            continue
        k += 1
    return new_replacements, new_reduced


def render_function(spec: KernelSpec, backend: str) -> str:
    """Python source of one generated function for ``backend`` ("numpy", "torch" or "mpmath")."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    lowered = _lower_spec(spec)
    exprs = lowered.exprs if backend == "mpmath" else tuple(fold_numbers(e) for e in lowered.exprs)
    printer: Any = PRINTERS[backend]()
    reserved = set(spec.arg_names)
    tmp = (sp.Symbol(f"_c{i}") for i in range(10**9))
    replacements, reduced = sp.cse(list(exprs), symbols=tmp, order="none")
    replacements, reduced = _bind_shared_lse_arguments(replacements, reduced, tmp)
    for s, _ in replacements:
        if s.name in reserved:  # pragma: no cover - names starting with _c are not allowed as args
            raise ValueError(f"argument name {s.name} clashes with a temporary")

    check_heads(exprs, backend)
    body: list[str] = []
    names = spec.arg_names
    if backend == "torch":
        body.append(f"_ref = _reference({', '.join(names)})")
    for name in names:
        ax = lowered.arg_axes[name]
        conv = {"numpy": f"_as_array({name})", "torch": f"_as_tensor({name}, _ref)", "mpmath": f"_mp.asarray({name})"}[backend]
        suffix = _align_suffix(ax, lowered.n_axes) if ax is not None else ""
        body.append(f"{name} = {conv}{suffix}")
    out_names = [f"_out{k}" for k in range(len(spec.outputs))]
    try:
        compute = _compute_lines(spec, lowered, replacements, reduced, out_names, backend, printer)
    except NotImplementedError as exc:  # the stock printers' PrintMethodNotImplementedError
        head = str(exc).split(":", 1)[-1].split("\n", 1)[0].strip() or "a function"
        raise unsupported_error(head, backend) from None
    if backend == "numpy":
        body.append('with numpy.errstate(divide="ignore", under="ignore"):')
        body.extend("    " + line for line in compute)
    else:
        body.extend(compute)
    if spec.returns == "dict":
        items = ", ".join(f"{n!r}: {v}" for (n, _), v in zip(spec.outputs, out_names, strict=True))
        body.append(f"return {{{items}}}")
    elif len(out_names) == 1:
        body.append(f"return {out_names[0]}")
    else:
        body.append(f"return {spec.result_type}({', '.join(out_names)})")

    doc = _docstring(spec, lowered, backend)
    signature = ", ".join(names) + (", *, work=None" if spec.broadcast else "")
    src = [f"def {spec.name}({signature}):"]
    src.append(textwrap.indent(docstring_literal(doc + "\n"), "    "))
    src.extend(textwrap.indent(line, "    ") for line in body)
    return "\n".join(src) + "\n"


def _compute_lines(
    spec: KernelSpec, lowered: _Lowered, replacements: list, reduced: list, out_names: list[str], backend: str, printer: Any
) -> list[str]:
    names = spec.arg_names
    if backend == "numpy" and spec.broadcast and all(e.free_symbols for e in reduced):
        compute, n_scratch = inplace_statements(replacements, reduced, dict(spec.broadcast), printer)
        if n_scratch:
            shapes = ", ".join(f"{n}.shape" for n in names)
            scratch = ", ".join(f"_w{k}" for k in range(n_scratch)) + ("," if n_scratch == 1 else "")
            compute = [
                f"{scratch} = _scratch(work, numpy.broadcast_shapes({shapes}), numpy.result_type({', '.join(names)}), {n_scratch})",
                *compute,
            ]
        return compute
    compute = [f"{s.name} = {printer.doprint(rhs)}" for s, rhs in replacements]
    for var, expr, ax in zip(out_names, reduced, lowered.out_axes, strict=True):
        if not expr.free_symbols:
            compute.append(f"{var} = {_constant(expr, names, backend, printer)}")
        else:
            compute.append(f"{var} = ({printer.doprint(expr)}){_squeeze_suffix(ax, lowered.n_axes)}")
    return compute


def _constant(expr: sp.Expr, names: Sequence[str], backend: str, printer: Any) -> str:
    value = printer.doprint(expr)
    shapes = ", ".join(f"{n}.shape" for n in names)
    if backend == "numpy":
        return f"numpy.full(numpy.broadcast_shapes({shapes}), {value})"
    if backend == "torch":
        return f"torch.full(torch.broadcast_shapes({shapes}), {value}, dtype=_ref.dtype, device=_ref.device)"
    return f"numpy.full(numpy.broadcast_shapes({shapes}), {value}, dtype=object)"


def render_module(specs: Sequence[KernelSpec], backend: str, *, source: str, title: str) -> str:
    """A whole generated module: header (DO NOT EDIT, SymPy version, source hash), imports, functions."""
    h = hashlib.sha256()
    for s in specs:
        h.update(s.source_hash().encode())
    exported = [n for s in specs for n in ((s.result_type, s.name) if s.result_type else (s.name,))]
    if len(set(exported)) != len(exported):
        raise ValueError(f"names clash in one generated module: {exported}")
    header = [
        f"# Generated by ibtheory.codegen ({backend} backend) from {source}. DO NOT EDIT.",
        f"# SymPy {sp.__version__}; codegen revision {CODEGEN_REVISION}",
        f"# source-hash: {h.hexdigest()}",
        "# Regenerate with `ibtheory codegen`; `ibtheory codegen --check` fails when this file is stale.",
        "# ruff: noqa",
        docstring_literal(f"{_check_text(title, 'title')} ({backend} backend, generated)."),
        "",
        _IMPORTS[backend],
        "",
        "__all__ = [" + ", ".join(repr(n) for n in exported) + "]",
    ]
    functions = [render_function(s, backend) for s in specs]
    for name, line in _EXTRA_IMPORTS.get(backend, ()):
        if any(f"{name}(" in f for f in functions):
            header[header.index(_IMPORTS[backend])] += "\n" + line
    blocks = [render_result_type(s) for s in specs if s.result_type is not None]
    blocks += functions
    return "\n".join(header) + "\n\n\n" + "\n\n".join(blocks)


def render_result_type(spec: KernelSpec) -> str:
    """The ``typing.NamedTuple`` class returned by a kernel with several outputs.

    Printed identically in every backend module, so that ``ib_numpy.IbStepResult`` and
    ``ib_torch.IbStepResult`` have the same fields; a NamedTuple is a tuple, so positional
    unpacking keeps working.
    """
    if spec.result_type is None:
        raise ValueError(f"kernel {spec.name!r} returns no NamedTuple")
    fields = ", ".join(spec.output_names)
    lines = [
        f"class {spec.result_type}(NamedTuple):",
        f'    """The outputs of {spec.name}: {fields}."""',
        "",
        *(f"    {name}: Any" for name in spec.output_names),
    ]
    return "\n".join(lines) + "\n"
