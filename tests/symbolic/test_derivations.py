"""Every registered derivation renders, its committed Markdown is fresh, and the CLI serves it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ibtheory.cli import _load_derivation, main
from ibtheory.symbolic import DERIVATIONS

DERIVATIONS_DIR = Path(__file__).resolve().parents[2] / "derivations"


@pytest.mark.parametrize("name", sorted(DERIVATIONS))
def test_committed_derivation_is_fresh(name):
    path = DERIVATIONS_DIR / f"{name}.md"
    assert path.exists(), f"{path} missing: run `ibtheory derive --all --out derivations`"
    assert path.read_text() == _load_derivation(name).to_markdown(), (
        f"{path} is stale: run `ibtheory derive --all --out derivations`"
    )


@pytest.mark.parametrize("name", ["ib", "dualib", "dualib-expfam"])
def test_derivation_renders_latex_and_names_its_source(name):
    d = _load_derivation(name)
    assert d.reference and "theory.md" in d.reference
    shown = [s.expr if s.display is None else s.display for s in d.steps]
    assert d.to_latex().count("\\[") == sum(len(e) if isinstance(e, list | tuple) else 1 for e in shown)
    with pytest.raises(KeyError, match="steps:"):
        d.step("no such step")


def test_cli_prints_one_derivation(capsys):
    assert main(["derive", "ib"]) == 0
    assert capsys.readouterr().out.startswith("# Information Bottleneck")


def test_cli_unknown_derivation_lists_the_known_ones():
    proc = subprocess.run(
        [sys.executable, "-m", "ibtheory", "derive", "no-such"], capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0
    assert "known:" in proc.stderr and "dualib-expfam" in proc.stderr


def test_symbolic_exports_every_catalogue_derivation_and_the_error():
    import ibtheory.symbolic as symbolic

    for name, fn in symbolic.DERIVATIONS.items():
        assert getattr(symbolic, fn.__name__) is fn, name
    assert issubclass(symbolic.DerivationError, ArithmeticError)
    assert {"Derivation", "Step", "DERIVATIONS", "DerivationError", "symbols"} <= set(dir(symbolic))


