"""Properties of run-time code generation (ibtheory.codegen.generate), issue 21 deliverable 4.

Any text passed as a name or a docstring either is refused with ValueError/TypeError naming the
argument or becomes a kernel whose docstring is that text and whose behaviour is unchanged (never
code); non-identifiers and keywords are refused as names.
"""

from __future__ import annotations

import keyword
import unicodedata

import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ibtheory import codegen

from ._cases import case, examples, refuses

X, Y = sp.symbols("x y", real=True)


@settings(max_examples=examples(10))
@given(st.text(max_size=40))
def test_doc_text_is_never_code(doc: str) -> None:
    with case("generate"):
        try:
            fn = codegen.generate([X, Y], X * Y + 1, name="kernel", doc=doc)
        except (ValueError, TypeError) as exc:
            assert "doc" in str(exc)
            return
        assert float(fn(2.0, 3.0)) == 7.0
        source = getattr(fn, "source", None)
        if source is not None:
            compile(source, "<generated>", "exec")


@settings(max_examples=examples(10))
@example("µ")  # the nightly run's find: Python reads the micro sign as Greek mu (NFKC), KeyError before
@given(st.one_of(st.text(max_size=12), st.sampled_from(keyword.kwlist)))
def test_names_are_identifiers_or_refused(name: str) -> None:
    with case("generate"):
        try:
            fn = codegen.generate([X, Y], X + Y, name=name)
        except (ValueError, TypeError) as exc:
            assert "name" in str(exc)
            assert not name.isidentifier() or keyword.iskeyword(name) or unicodedata.normalize("NFKC", name) != name
            return
        assert name.isidentifier() and not keyword.iskeyword(name)
        assert float(fn(1.0, 2.0)) == 3.0


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [({"name": None}, "name"), ({"name": 3}, "name"), ({"name": "def"}, "name"), ({"name": "a b"}, "name"),
     ({"doc": 3}, "doc"), ({"backend": "jax"}, "backend")],
)
def test_generate_refuses_bad_arguments(kwargs: dict, arg: str) -> None:
    options = {"name": "kernel", **kwargs}
    refuses("generate", arg, lambda: codegen.generate([X, Y], X + Y, **options))


@pytest.mark.parametrize("expr", ["x + y", None, 3j])
def test_generate_refuses_expressions_that_are_not_sympy(expr: object) -> None:
    refuses("generate", "expr", codegen.generate, [X, Y], expr, name="kernel")


def test_generate_refuses_undeclared_symbols_naming_them() -> None:
    z = sp.Symbol("z_undeclared")
    refuses("generate", "z_undeclared", codegen.generate, [X, Y], X + z, name="kernel")


def test_generated_kernel_matches_numpy_at_extremes() -> None:
    fn = codegen.generate([X, Y], sp.log(sp.exp(X) + sp.exp(Y)), name="lse")
    with case("generate"):
        values = np.array([-1e300, -700.0, 0.0, 700.0, 1e300])
        got = np.asarray(fn(values, values[::-1]), dtype=float)
        assert np.all(np.isfinite(got))
        assert np.allclose(got, np.logaddexp(values, values[::-1]), rtol=1e-15)
