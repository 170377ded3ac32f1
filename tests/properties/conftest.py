"""Property suite hooks: write the case counts of :mod:`tests.properties._cases` when asked.

``IBTHEORY_CASE_COUNTS=DIR pytest tests/properties`` writes ``DIR/counts-<worker>.json`` (one file
per xdist worker); ``python tests/properties/case_table.py`` runs the suite that way and prints the
table of cases per public function.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ._cases import COUNTS


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    folder = os.environ.get("IBTHEORY_CASE_COUNTS")
    if not folder:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    rows = [[name, outcome, n] for (name, outcome), n in sorted(COUNTS.items())]
    (path / f"counts-{worker}.json").write_text(json.dumps(rows))
