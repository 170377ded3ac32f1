"""The notebooks open as notebooks in JupyterLab (fast checks; the browser test is slow).

The README starts JupyterLab with ``JUPYTER_CONFIG_PATH=notebooks/.jupyter``, whose labconfig makes
jupytext's notebook view the default for ``.py`` files; a notebook also needs a kernelspec in its
jupytext header, or JupyterLab stops at a "Select Kernel" dialog (the Jupytext Notebook view does
not follow JupyterLab's autoStartDefaultKernel setting). tests/notebooks/test_notebooks_browser.py checks
both in a real browser.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))
LABCONFIG = NOTEBOOK_DIR / ".jupyter" / "labconfig" / "default_setting_overrides.json"


def test_labconfig_opens_python_files_as_jupytext_notebooks():
    overrides = json.loads(LABCONFIG.read_text())
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["python"] == "Jupytext Notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_a_percent_file_naming_its_kernel(path):
    jupytext = pytest.importorskip("jupytext")
    nb = jupytext.read(path)
    assert nb.metadata.get("jupytext", {}).get("text_representation", {}).get("format_name") == "percent", (
        f"{path.name}: no jupytext percent header (jupytext --set-formats py:percent)"
    )
    kernel = nb.metadata.get("kernelspec", {})
    assert kernel.get("name") == "python3" and kernel.get("language") == "python", (
        f"{path.name}: its jupytext header names no python3 kernelspec, so JupyterLab asks for a kernel"
    )
    assert not any(cell.get("outputs") for cell in nb.cells), f"{path.name} carries outputs"
