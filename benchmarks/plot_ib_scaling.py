"""Draw ``benchmarks/results/ib_scaling.png``: time of an 80-beta IB curve vs n_x (n_y = 16), log-log.

Reads the ``scaling_n_y_16`` rows of ``benchmarks/results/ib.json`` (written by ``bench_ib.py``):
``ib_curve(p, betas)`` (default), ``ib_curve(p, betas, effort="fast")`` and embo 1.1.0 (its time
scaled to 80 betas from the betas it ran, as the JSON states). Run with the project's venv
(matplotlib): ``python benchmarks/plot_ib_scaling.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

from matplotlib.figure import Figure

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    rows = json.loads((RESULTS / "ib.json").read_text())["scaling_n_y_16"]
    fig = Figure(figsize=(5.5, 4.0), layout="constrained")
    ax = fig.add_subplot()
    series = [("fast", "seconds", 'ib_curve(p, betas, effort="fast")', "o-"),
              ("optimum", "seconds", "ib_curve(p, betas) (default)", "s-"),
              ("embo", "seconds_scaled_to_all_betas", "embo 1.1.0 (scaled from a subset of betas)", "^--")]
    for key, field, label, style in series:
        pts = [(r["n_x"], r[key][field]) for r in rows if key in r]
        if pts:
            ax.plot(*zip(*pts, strict=True), style, label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("n_x (n_y = 16)")
    ax.set_ylabel("seconds for 80 betas")
    ax.set_title("IB curve, random Dirichlet(1) joint, 2-core CPU")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(RESULTS / "ib_scaling.png", dpi=120)


if __name__ == "__main__":
    main()
