"""``ibtheory reproduce``: run the headline analyses and write figures, data and a report.

Each analysis is a function ``(out_dir, quick, seed) -> Section`` that calls the library (no
algorithm lives here), builds its figures with :mod:`ibtheory.figures` and saves them (PNG)
and its data (CSV/JSON) into ``out_dir``.
"""

from __future__ import annotations

import importlib
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ._report import Section, write_report

Analysis = Callable[[Path, bool, int], Section]


def _savefig(fig: Any, out_dir: Path, name: str) -> str:
    """Write a :class:`matplotlib.figure.Figure` as ``out_dir / name`` (PNG); returns ``name``.

    The figure is not registered with pyplot, so there is nothing to close: it is freed with its
    last reference.
    """
    fig.tight_layout()
    fig.savefig(out_dir / name, dpi=120)
    return name


def _write_csv(out_dir: Path, name: str, columns: dict[str, Any]) -> str:
    keys = list(columns)
    rows = np.column_stack([np.asarray(columns[k], dtype=float) for k in keys])
    np.savetxt(out_dir / name, rows, delimiter=",", header=",".join(keys), comments="")
    return name


class AnalysisError(RuntimeError):
    """One or more analyses of :func:`reproduce` raised; the report of the others was written.

    ``failures`` maps each failed analysis to ``"ExceptionType: message"``; ``report`` is the HTML
    report's path (it lists the failures too).
    """

    def __init__(self, failures: dict[str, str], report: Path, n_finished: int):
        self.failures = failures
        self.report = report
        listed = "; ".join(f"analysis {name!r} failed ({why})" for name, why in failures.items())
        super().__init__(f"{listed}; the report of the {n_finished} finished analyses is {report}")


ANALYSES: dict[str, Analysis] = {}
#: Modules defining analyses, in report order.
ANALYSIS_MODULES = ("_analyses", "_analysis_ntk", "_analysis_ensemble", "_analysis_infoplane", "_analysis_curves")


def analysis(name: str) -> Callable[[Analysis], Analysis]:
    def register(fn: Analysis) -> Analysis:
        ANALYSES[name] = fn
        return fn

    return register


def reproduce(out_dir: str | Path, *, quick: bool = False, seed: int = 0, only: list[str] | None = None, progress: bool = False) -> Path:
    """Run the analyses (all, or ``only``) and write the report; returns the HTML report's path.

    An analysis that raises is recorded as a failed section; the others still run and the report
    is written, then :class:`AnalysisError` names the failed analyses and the report.
    """
    for module in ANALYSIS_MODULES:  # importing a module registers its analyses
        importlib.import_module(f"{__package__}.{module}")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = only or list(ANALYSES)
    unknown = [n for n in names if n not in ANALYSES]
    if unknown:
        raise ValueError(f"unknown analyses {unknown}; known: {list(ANALYSES)}")
    sections: list[Section] = []
    iterator: Any = names
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(names, desc="reproduce", unit="analysis")
    failures: dict[str, str] = {}
    for name in iterator:
        if progress:
            iterator.set_postfix_str(name)
        t0 = time.perf_counter()
        try:
            section = ANALYSES[name](out, quick, seed)
        except Exception as exc:  # one broken analysis must not cost the others' results
            why = " ".join(f"{type(exc).__name__}: {exc}".split())
            failures[name] = why
            section = Section(title=f"{name} (FAILED)", summary=f"This analysis raised {why}", settings={})
        section.seconds = time.perf_counter() - t0
        sections.append(section)
    try:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
        torch_version = str(torch.__version__)
    except ImportError:  # pragma: no cover
        device, torch_version = "cpu", "not installed"
    import sympy

    meta = {
        "mode": "quick" if quick else "full",
        "seed": seed,
        "python": platform.python_version(),
        "sympy": sympy.__version__,
        "torch": torch_version,
        "device": device,
        "units": "nats unless stated",
    }
    settings = {"meta": meta, "analyses": names, **({"failed": failures} if failures else {})}
    (out / "settings.json").write_text(json.dumps(settings, indent=2))
    _, html_path = write_report(out, "ibtheory reproduce", sections, meta)
    if failures:
        raise AnalysisError(failures, html_path, len(names) - len(failures))
    return html_path
