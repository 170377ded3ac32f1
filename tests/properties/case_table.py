"""Run the property suite and print cases per public function (issue 21, deliverable 6).

    python tests/properties/case_table.py [--profile nightly] [--out counts.md] [pytest args...]

Runs ``pytest tests/properties`` (one process, ``-n 0``) with ``IBTHEORY_CASE_COUNTS`` set, merges
the per-process counts written by ``tests/properties/conftest.py`` and prints a Markdown table:
hand-picked calls, Hypothesis examples, clear refusals (ValueError/TypeError naming the argument)
and failures (an exception or a broken invariant; Hypothesis replays a failing example while
shrinking it, so one bug counts more than once). Exit status: pytest's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTCOMES = ("hand", "hypothesis", "refused", "failed")


def table(counts: Counter[tuple[str, str]]) -> str:
    names = sorted({name for name, _ in counts})
    lines = ["| function | hand-picked | Hypothesis examples | refused clearly | failed |", "|---|---:|---:|---:|---:|"]
    totals = Counter()
    for name in names:
        row = [counts[(name, o)] for o in OUTCOMES]
        totals.update(dict(zip(OUTCOMES, row, strict=True)))
        lines.append(f"| `{name}` | " + " | ".join(str(v) for v in row) + " |")
    lines.append("| **total** | " + " | ".join(f"**{totals[o]}**" for o in OUTCOMES) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="ci", help="Hypothesis profile (ci, dev, nightly, thorough)")
    parser.add_argument("--out", help="also write the table to this file")
    args, rest = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "IBTHEORY_CASE_COUNTS": folder, "HYPOTHESIS_PROFILE": args.profile}
        cmd = [sys.executable, "-m", "pytest", "-n", "0", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "properties"), *rest]
        status = subprocess.call(cmd, cwd=ROOT, env=env)
        counts: Counter[tuple[str, str]] = Counter()
        for path in Path(folder).glob("counts-*.json"):
            for name, outcome, n in json.loads(path.read_text()):
                counts[(name, outcome)] += n
    text = table(counts)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
