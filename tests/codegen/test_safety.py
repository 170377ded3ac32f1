"""Nothing passed to codegen becomes code; bad names, types and functions fail at generation time."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import sympy as sp

from ibtheory.codegen import generate, kernel, render_module, write_module

x, y = sp.symbols("x y", real=True)

#: docs that would end or alter a triple-quoted docstring if printed verbatim
HOSTILE_DOCS = [
    '"""\nimport os; os.system("echo pwned")\n"""',
    "'''\nimport os; os.system(\"echo pwned\")\n'''",
    'ends with a quote"',
    '"starts with a quote',
    "a backslash \\n and \\x41 and \\N{DASH}",
    "trailing backslash \\",
    "tab\tand\rcarriage return and \x00 nul",
    "plain text, readable",
]


def _lines(text: str) -> str:
    """The text with each line's indentation removed (the triple-quoted form indents them)."""
    return "\n".join(line.strip() for line in text.strip().splitlines())


@pytest.fixture
def pwned(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records any os.system call the generated module might make."""
    import os

    calls: list[str] = []

    def record(cmd: str) -> int:
        calls.append(cmd)
        return 0

    monkeypatch.setattr(os, "system", record)
    return calls


@pytest.mark.parametrize("backend", ["numpy", "mpmath"])
@pytest.mark.parametrize("doc", HOSTILE_DOCS)
def test_doc_is_inert_and_kept_verbatim(doc: str, backend: str, pwned: list[str]) -> None:
    f = generate([x], 2 * x, backend, doc=doc, reference=doc)
    assert pwned == []
    assert f.__doc__ is not None
    # plain text is printed triple-quoted (its lines indented in the source), anything else escaped
    assert _lines(f.__doc__).startswith(_lines(doc))
    assert _lines(f.__doc__).endswith(_lines(doc))  # the reference closes the docstring
    assert float(f(np.array(1.5))) == 3.0


def test_hostile_doc_written_by_write_module_is_inert(tmp_path, pwned: list[str]) -> None:
    doc = HOSTILE_DOCS[0]
    f = generate([x], 2 * x, doc=doc)
    path = write_module(tmp_path / "user_kernels.py", [f], title='t"""\nimport os; os.system("echo title")\n"""')
    spec = importlib.util.spec_from_file_location("user_kernels", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert pwned == []
    assert module.generated.__doc__.startswith(doc)
    assert module.__doc__ is not None
    assert module.__doc__.startswith('t"""\nimport os')


def test_plain_docs_keep_the_triple_quoted_form() -> None:
    f = generate([x], 2 * x, doc="Twice x.")
    assert '    """Twice x.' in f.source


@pytest.mark.parametrize("name", ["def", "class", "None", "lambda", "a b", "1x", "x=1", "f(); import os", ""])
def test_kernel_name_must_be_a_non_keyword_identifier(name: str) -> None:
    with pytest.raises(ValueError, match="kernel name"):
        generate([x], x, name=name)


@pytest.mark.parametrize("arg", ["def", "x=__import__('os')", "a b", "import", "_private", "numpy", "work"])
def test_argument_names_must_be_safe_identifiers(arg: str, pwned: list[str]) -> None:
    s = sp.Symbol(arg)
    with pytest.raises(ValueError, match="argument name"):
        generate([s], 2 * s)
    assert pwned == []


def test_output_names_must_be_identifiers() -> None:
    with pytest.raises(ValueError, match="output name"):
        generate([x], {"for": x})
    with pytest.raises(TypeError, match="output names"):
        generate([x], {1: x})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": None}, "kernel name must be a str"),
        ({"name": 3}, "kernel name must be a str"),
        ({"doc": None}, "doc must be a str"),
        ({"reference": b"bytes"}, "reference must be a str"),
        ({"backend": None}, "backend must be a str"),
    ],
)
def test_wrong_types_raise_type_error(kwargs: dict, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        generate([x], x, **kwargs)


@pytest.mark.parametrize("expr", [None, "__import__('os').system('echo pwned')", [x, "x"], object()])
def test_expr_must_be_sympy_never_a_string(expr: object, pwned: list[str]) -> None:
    with pytest.raises(TypeError, match="expr must hold sympy expressions"):
        generate([x], expr)  # type: ignore[arg-type]
    assert pwned == []


@pytest.mark.parametrize("args", [None, "x", x, [1.0], ["x"]])
def test_args_must_be_symbols(args: object) -> None:
    with pytest.raises(TypeError, match=r"args must be|Symbols or IndexedBases"):
        generate(args, x)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("expr", "backend", "head"),
    [
        (sp.Function("f")(x), "numpy", "f"),
        (sp.zeta(x), "numpy", "zeta"),
        (sp.besselj(0, x), "torch", "besselj"),
        (sp.gamma(x), "torch", "gamma"),  # printed onto torch.special.gamma, which torch lacks
        (sp.Heaviside(x), "torch", "Heaviside"),  # torch.heaviside wants a tensor, not 0.5
        (sp.LambertW(x), "mpmath", "LambertW"),
    ],
)
def test_unsupported_function_is_refused_at_generation_listing_supported(expr, backend: str, head: str) -> None:
    with pytest.raises(ValueError, match=head) as info:
        generate([x], expr, backend)
    message = str(info.value)
    assert "supported functions:" in message
    assert "exp" in message.split("supported functions:")[1]


def test_supported_functions_generate() -> None:
    f = generate([x], sp.gamma(x) + sp.erf(x), "numpy")
    assert np.isfinite(f(np.array(0.5)))


def test_write_module_refuses_other_objects_and_backends(tmp_path) -> None:
    with pytest.raises(TypeError, match="GeneratedFunctions or KernelSpecs"):
        write_module(tmp_path / "m.py", ["not a function"])  # type: ignore[list-item]
    spec = kernel("twice", [x], 2 * x, doc="Twice x.", reference="r")
    with pytest.raises(ValueError, match="backend must be one of"):
        write_module(tmp_path / "m.py", [spec], backend="jax")
    with pytest.raises(TypeError, match="title must be a str"):
        render_module([spec], "numpy", source="s", title=None)  # type: ignore[arg-type]
