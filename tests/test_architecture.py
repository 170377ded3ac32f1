"""The architecture of docs/architecture.md, checked on the source: imports point down, packages
use each other's public names only, library code holds no ``assert`` checks, and the public API is
importable by name without paying for SymPy or torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "ibtheory"

#: Which ibtheory packages each package may import (besides itself). Layers, top to bottom:
#: front ends -> algorithms -> numeric, display, figures -> _generated -> codegen;
#: kernels -> symbolic, codegen.
ALGORITHMS = {"solvers", "gaussian", "ntk", "estimators", "infoplane", "models"}
#: display renders result summaries for Jupyter (``_repr_html_``), drawing their thumbnails with
#: figures (imported lazily); figures is the one plotting module and reads numeric's units only.
BASE = {"numeric", "_generated", "display", "figures"}
ALLOWED: dict[str, set[str]] = {
    "symbolic": set(),
    "codegen": set(),
    "kernels": {"symbolic", "codegen"},
    "_generated": {"codegen"},
    "numeric": {"_generated"},
    "display": {"figures"},
    "figures": {"numeric"},
    **{name: ALGORITHMS | BASE for name in ALGORITHMS},
}
#: Run-time kernels (docs/architecture.md): solvers may generate a user functional's kernels through the
#: public ``ibtheory.kernels`` (the pipeline run on demand), imported inside the function that needs it,
#: so that importing the solvers loads no SymPy.
LAZY_ALLOWED: dict[str, set[str]] = {"solvers": {"kernels"}, "ntk": {"kernels"}}
#: Modules whose leading underscore marks a layer, not a private helper (style.md 2).
LAYER_MODULES = {"_generated"}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` blocks (they never run)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                stack.extend(child.orelse)
            else:
                stack.append(child)


def _imports(path: Path) -> list[tuple[str, str]]:
    """(package, dotted module) for every ibtheory import in ``path`` that runs (imports under
    ``if TYPE_CHECKING:`` are for annotations only), relative ones resolved."""
    rel = path.relative_to(ROOT).with_suffix("").parts
    here = list(rel[:-1])
    found = []
    for node in _runtime_nodes(ast.parse(path.read_text())):
        mods: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and (node.module or "").startswith("ibtheory."):
                mods = [node.module.removeprefix("ibtheory.")]
            elif node.level >= 1:
                base = here[: len(here) - (node.level - 1)]
                names = [node.module] if node.module else [a.name for a in node.names]
                mods = [".".join([*base, n]) for n in names]
        elif isinstance(node, ast.Import):
            mods = [a.name.removeprefix("ibtheory.") for a in node.names if a.name.startswith("ibtheory.")]
        found += [(m.split(".")[0], m) for m in mods if m]
    return found


def _package(path: Path) -> str:
    rel = path.relative_to(ROOT).parts
    return rel[0].removesuffix(".py")


LIBRARY = sorted(p for p in ROOT.rglob("*.py"))


def _run_python(code: str) -> None:
    """Run ``code`` in a fresh interpreter (nothing imported yet) and fail with its stderr."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_down_only(package):
    used = {
        target
        for path in LIBRARY
        if _package(path) == package
        for target, _ in _imports(path)
    } - {package}
    allowed = ALLOWED[package] | LAZY_ALLOWED.get(package, set())
    assert used <= allowed, f"{package} imports {sorted(used - allowed)}"


def _module_level_imports(path: Path) -> set[str]:
    """The ibtheory packages ``path`` imports outside any function body (when the module loads)."""
    tree = ast.parse(path.read_text())
    top = ast.Module(body=[n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)],
                     type_ignores=[])
    rel = path.relative_to(ROOT).with_suffix("").parts
    found = set()
    for node in _runtime_nodes(top):
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            base = list(rel[:-1])[: len(rel) - 1 - (node.level - 1)]
            names = [node.module] if node.module else [a.name for a in node.names]
            found |= {".".join([*base, n]).split(".")[0] for n in names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ibtheory."):
            found.add(node.module.removeprefix("ibtheory.").split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("ibtheory.").split(".")[0] for a in node.names if a.name.startswith("ibtheory.")}
    return found


@pytest.mark.parametrize("package", sorted(LAZY_ALLOWED))
def test_run_time_kernel_imports_happen_inside_functions_only(package):
    eager = {
        f"{path.relative_to(ROOT)} -> {target}"
        for path in LIBRARY
        if _package(path) == package
        for target in _module_level_imports(path) & LAZY_ALLOWED[package]
    }
    assert eager == set()
    _run_python(f"import sys, ibtheory.{package}\nassert 'sympy' not in sys.modules\n")


def test_no_package_imports_another_packages_private_module():
    private = []
    for path in LIBRARY:
        for target, module in _imports(path):
            parts = module.split(".")
            if target == _package(path) or target in LAYER_MODULES:
                continue
            if any(p.startswith("_") for p in parts[1:]):
                private.append(f"{path.relative_to(ROOT)} -> ibtheory.{module}")
    assert private == []


def test_library_holds_no_assert_statements_so_python_O_keeps_every_check():
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in LIBRARY
        if _package(path) != "_generated"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assert)
    ]
    assert found == []


def test_every_public_name_resolves_and_import_ibtheory_pays_for_neither_sympy_nor_torch():
    code = (
        "import sys, ibtheory\n"
        "heavy = [m for m in ('sympy', 'torch', 'matplotlib') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "missing = [n for n in ibtheory.__all__ if getattr(ibtheory, n, None) is None]\n"
        "assert not missing, missing\n"
        "for t in ('IBCurve', 'IBSolution', 'GaussianIBResult', 'FCKernels', 'EnsemblePrediction',\n"
        "          'EnsembleInformation', 'MixtureEntropyBounds', 'KDEInformation'):\n"
        "    assert isinstance(getattr(ibtheory, t), type), t\n"
    )
    _run_python(code)


def test_type_checking_imports_are_skipped_and_runtime_imports_are_not(tmp_path, monkeypatch):
    pkg = tmp_path / "ibtheory" / "figures.py"
    pkg.parent.mkdir()
    pkg.write_text(
        "from typing import TYPE_CHECKING\n"
        "import typing\n"
        "from .numeric import to_units\n"
        "if TYPE_CHECKING:\n    from .infoplane import InformationPlane\n"
        "if typing.TYPE_CHECKING:\n    from .report import ntk_experiments\n"
        "else:\n    from .display import repr_html\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", pkg.parent)
    assert sorted(_imports(pkg)) == [("display", "display"), ("numeric", "numeric")]


#: Calls that construct a matplotlib Figure or its axes; only ibtheory.figures may make them.
FIGURE_CALLS = {"Figure", "add_subplot", "subplots", "add_axes", "subplot_mosaic"}


def test_only_the_figures_module_constructs_figures_or_axes():
    found = []
    for path in LIBRARY:
        if path == ROOT / "figures.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                if name in FIGURE_CALLS:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {name}(")
    assert found == []


def test_importing_the_algorithms_imports_neither_matplotlib_nor_the_figures_module():
    """Result classes attach display's ``_repr_html_``; display imports ibtheory.figures (and with it
    matplotlib) only when a summary with a thumbnail is rendered."""
    code = (
        "import sys\n"
        "import ibtheory.solvers, ibtheory.gaussian, ibtheory.ntk, ibtheory.display\n"
        "loaded = [m for m in ('matplotlib', 'ibtheory.figures') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    _run_python(code)


def test_summaries_are_text_only_without_matplotlib():
    """matplotlib is an optional extra: with it unimportable, a summary is the table without a picture."""
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None  # import matplotlib now raises ImportError\n"
        "import numpy as np\n"
        "from ibtheory import ib_curve\n"
        "from ibtheory.models import random_joint\n"
        "html = ib_curve(random_joint(3, 2, seed=0), np.geomspace(0.5, 10.0, 4))._repr_html_()\n"
        "assert 'IB curve (IBCurve)' in html and 'I(X;T)' in html, html\n"
        "assert '<img' not in html, html\n"
    )
    _run_python(code)
