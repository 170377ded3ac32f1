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
#: front ends -> algorithms -> numeric, display -> _generated -> codegen; kernels -> symbolic, codegen.
ALGORITHMS = {"solvers", "gaussian", "ntk", "estimators", "infoplane", "models"}
#: display renders result summaries for Jupyter (``_repr_html_``) and imports nothing of ibtheory.
BASE = {"numeric", "_generated", "display"}
ALLOWED: dict[str, set[str]] = {
    "symbolic": set(),
    "codegen": set(),
    "kernels": {"symbolic", "codegen"},
    "_generated": {"codegen"},
    "numeric": {"_generated"},
    "display": set(),
    **{name: ALGORITHMS | BASE for name in ALGORITHMS},
}
#: Modules whose leading underscore marks a layer, not a private helper (style.md 2).
LAYER_MODULES = {"_generated"}


def _imports(path: Path) -> list[tuple[str, str]]:
    """(package, dotted module) for every ibtheory import in ``path``, relative ones resolved."""
    rel = path.relative_to(ROOT).with_suffix("").parts
    here = list(rel[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
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


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_down_only(package):
    used = {
        target
        for path in LIBRARY
        if _package(path) == package
        for target, _ in _imports(path)
    } - {package}
    assert used <= ALLOWED[package], f"{package} imports {sorted(used - ALLOWED[package])}"


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
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
