"""The ``ibtheory`` command line: derive, codegen, and the analyses built on them.

Run ``ibtheory --help`` or ``ibtheory COMMAND --help``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path


def _load_derivation(name: str):
    from .symbolic._catalog import DERIVATIONS

    module, func = DERIVATIONS[name].split(":")
    return getattr(importlib.import_module(module), func)()


def _cmd_derive(args: argparse.Namespace) -> int:
    from .symbolic._catalog import DERIVATIONS

    known = sorted(DERIVATIONS)
    if args.all:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name in known:
            path = out / f"{name}.md"
            path.write_text(_load_derivation(name).to_markdown())
            print(f"wrote {path}")
        return 0
    if args.name is None:
        print(f"name a derivation or pass --all; known: {', '.join(known)}", file=sys.stderr)
        return 2
    if args.name not in DERIVATIONS:
        print(f"unknown derivation {args.name!r}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    text = _load_derivation(args.name).to_markdown()
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{args.name}.md").write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _cmd_codegen(args: argparse.Namespace) -> int:
    from .codegen import build

    try:
        statuses = build(args.group or None, check=args.check)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stale = [s for s in statuses if not s.fresh]
    for s in statuses:
        state = "fresh" if s.fresh else ("STALE" if args.check else "written")
        print(f"{state:8s} {s.path}")
    if args.check and stale:
        print(f"{len(stale)} generated module(s) are stale: run `ibtheory codegen`", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ibtheory",
        description="Derive, generate and verify the information theory of deep learning.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "derive",
        help="render a symbolic derivation as Markdown",
        description="Print a derivation (Markdown with LaTeX) to stdout, or write all of them with --all.",
    )
    p.add_argument("name", nargs="?", help="derivation name (e.g. ib, dualib, dualib-expfam)")
    p.add_argument("--all", action="store_true", help="render every known derivation into --out")
    p.add_argument("--out", default="derivations", help="output folder (default: derivations)")
    p.set_defaults(func=_cmd_derive)

    p = sub.add_parser(
        "codegen",
        help="regenerate the kernels under ibtheory/_generated (or check them)",
        description="Regenerate the committed NumPy/Torch kernels from the symbolic layer.",
    )
    p.add_argument("--check", action="store_true", help="only compare; exit 1 if any file is stale")
    p.add_argument("--group", action="append", help="limit to a kernel group (repeatable)")
    p.set_defaults(func=_cmd_codegen)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
