"""Every notebook (jupytext percent source) runs top to bottom as a script at small sizes.

Running the ``.py`` sources directly is ~5x faster than nbmake (codegen-notes 5); the notebooks
use no IPython magics. ``IBTHEORY_NOTEBOOK_QUICK=1`` selects their small settings.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]_*.py"))

#: A quick notebook run must finish well inside the suite's 10-minute budget.
NOTEBOOK_TIMEOUT_S = 240


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no NN_name.py notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_as_a_script(path, tmp_path):
    # Run-time kernels (notebook 08) are cached in the test's folder, not in the user's ~/.cache.
    env = {**os.environ, "IBTHEORY_NOTEBOOK_QUICK": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
           "IBTHEORY_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=NOTEBOOK_TIMEOUT_S,
    )
    assert proc.returncode == 0, f"{path.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
