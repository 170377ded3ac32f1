"""The ``ibtheory`` command line: derive, codegen, and the analyses built on them.

Run ``ibtheory --help`` or ``ibtheory COMMAND --help``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path


class CommandError(Exception):
    """A user error on the command line: printed as one ``ibtheory: error: ...`` line, exit status 2."""


def _error(message: str) -> int:
    """Print ``message`` as one line on stderr in argparse's format; returns exit status 2."""
    print(f"ibtheory: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2


def _out_dir(value: str, flag: str = "--out") -> Path:
    """Create (if needed) and return the output folder ``value``; CommandError when it is unusable.

    Refused: an existing file, a path under a file, a parent that cannot be created, and a folder
    this process cannot write into. Missing parents are created, like ``mkdir -p``.
    """
    out = Path(value)
    if out.exists() and not out.is_dir():
        raise CommandError(f"{flag} {value}: is an existing file, not a folder")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise CommandError(f"{flag} {value}: {parent} is a file, not a folder")
            break
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"{flag} {value}: cannot create the folder ({exc.strerror or exc})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise CommandError(f"{flag} {value}: the folder is not writable")
    return out


def _load_derivation(name: str):
    from .symbolic import DERIVATIONS

    return DERIVATIONS[name]()


def _cmd_derive(args: argparse.Namespace) -> int:
    from .symbolic import DERIVATIONS

    known = sorted(DERIVATIONS)
    if args.all:
        out = _out_dir(args.out or "derivations")
        for name in known:
            path = out / f"{name}.md"
            path.write_text(_load_derivation(name).to_markdown())
            print(f"wrote {path}")
        return 0
    if args.name is None:
        return _error(f"name a derivation or pass --all; known: {', '.join(known)}")
    if args.name not in DERIVATIONS:
        return _error(f"unknown derivation {args.name!r}; known: {', '.join(known)}")
    target = _out_dir(args.out) if args.out else None  # before the (slow) derivation
    text = _load_derivation(args.name).to_markdown()
    if target is not None:
        (target / f"{args.name}.md").write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _cmd_codegen(args: argparse.Namespace) -> int:
    from .kernels import build

    try:
        statuses = build(args.group or None, check=args.check)
    except ValueError as exc:
        return _error(str(exc))
    stale = [s for s in statuses if not s.fresh]
    for s in statuses:
        state = "fresh" if s.fresh else ("STALE" if args.check else "written")
        print(f"{state:8s} {s.path}")
    if args.check and stale:
        print(f"{len(stale)} generated module(s) are stale: run `ibtheory codegen`", file=sys.stderr)
        return 1
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from .report import AnalysisError, reproduce

    try:
        path = reproduce(_out_dir(args.out), quick=args.quick, seed=args.seed, only=args.only, progress=not args.no_progress)
    except ValueError as exc:
        return _error(str(exc))
    except AnalysisError as exc:  # some analyses failed; the report of the rest is written
        _error(str(exc))
        return 1
    print(f"report: {path}")
    print(f"        {path.with_suffix('.md')}")
    return 0


def _load_joint(path: Path, normalize: bool):
    import numpy as np

    from .numeric import check_joint

    if not path.exists():
        raise ValueError(f"{path}: no such file")
    try:
        if path.suffix == ".npy":
            if path.stat().st_size == 0:
                raise ValueError(f"{path}: the file is empty")
            arr = np.load(path, allow_pickle=False)  # data only: unpickling would run code from the file
            if not isinstance(arr, np.ndarray):
                arr.close()
                raise ValueError(f"{path}: holds an .npz archive, not one .npy array")
        elif path.suffix in (".csv", ".txt"):
            if not path.read_text().strip():  # loadtxt would warn on stderr and return a (0, 1) table
                raise ValueError(f"{path}: the file holds no numbers")
            arr = np.loadtxt(path, delimiter=",", ndmin=2)
        else:
            raise ValueError(f"{path}: unsupported file type {path.suffix!r}; use .csv (comma-separated rows = x, columns = y) or .npy")
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise ValueError(f"{path}: could not read a numeric (n_x, n_y) table: {exc}") from None
    except (OSError, EOFError) as exc:  # truncated or corrupt
        raise ValueError(f"{path}: truncated or corrupt ({type(exc).__name__}: {exc})") from None
    try:
        return check_joint(arr, name=str(path), normalize=normalize)
    except ValueError as exc:
        # the library's advice names the keyword; on the command line it is the flag
        raise ValueError(str(exc).replace("pass normalize=True", "pass --normalize")) from None


def _parse_betas(spec: str):
    import numpy as np

    parts = spec.split(":")
    try:
        if len(parts) == 3:
            lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
            if lo <= 0 or hi <= lo or n < 1:
                raise ValueError
            return np.geomspace(lo, hi, n)
        return np.array([float(v) for v in spec.split(",")])
    except ValueError:
        raise ValueError(f"--betas {spec!r}: give LOW:HIGH:COUNT (log-spaced, 0 < LOW < HIGH) or a comma-separated list") from None


def _cmd_curve(args: argparse.Namespace) -> int:
    from .report import curve_command

    try:
        joint = _load_joint(Path(args.joint), args.normalize)
        betas = _parse_betas(args.betas)
        written = curve_command(joint, betas, method=args.method, units=args.units, out=_out_dir(args.out), seed=args.seed,
                                effort=args.effort)
    except (ValueError, TypeError) as exc:  # TypeError: a complex table
        return _error(str(exc))
    for path in written:
        print(f"wrote {path}")
    return 0


def _cmd_ntk_info(args: argparse.Namespace) -> int:
    from .report import ntk_info_command

    try:
        written = ntk_info_command(
            data=args.data,
            n_train=args.n_train,
            n_eval=args.n_eval,
            depth=args.depth,
            activation=args.activation,
            w_std=args.w_std,
            b_std=args.b_std,
            units=args.units,
            out=_out_dir(args.out),
            seed=args.seed,
        )
    except ValueError as exc:
        return _error(str(exc))
    for path in written:
        print(f"wrote {path}")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep import SweepError, plan, resolve_sweep, run

    try:
        fn, grid = resolve_sweep(args.name, grid=args.grid, quick=args.quick)
        if not args.dry_run:
            _out_dir(args.out)
        if args.dry_run:
            p = plan(fn, grid, out=args.out)
            axes = ", ".join(f"{k} ({len(v)})" for k, v in grid.params.items())
            print(f"sweep {args.name}: {axes}, seed ({len(grid.seeds)}); out {args.out}")
            print(f"{p.n_tasks} tasks, {p.n_done} already done")
            return 0
        bar = None
        if not args.no_progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(grid), desc=f"sweep {args.name}", unit="task")

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.update(done - bar.n)

        try:
            result = run(fn, grid, out=args.out, client=args.scheduler, n_workers=args.workers,
                         batch_size=args.batch_size, progress=progress, durable=not args.no_fsync)
        finally:
            if bar is not None:
                bar.close()
    except (SweepError, ImportError, ValueError) as exc:
        return _error(str(exc))
    for f in result.failures:
        last = f.error.strip().splitlines()[-1] if f.error.strip() else "?"
        print(f"failed {f.key} {dict(f.params)} seed={f.seed}: {last}", file=sys.stderr)
    print(f"{result.n_tasks} tasks: {result.n_computed} computed, {result.n_cached} already done, "
          f"{result.n_elsewhere} by another run, {len(result.failures)} failed ({result.elapsed_s:.1f} s)")
    print(f"results: {result.table}")
    return 1 if result.failures else 0


def _add_sweep_parser(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="run a built-in or your own parameter sweep on Dask (resumable)",
        description=(
            "Run a sweep as independent, content-addressed tasks on a Dask cluster (default: local "
            "worker processes). Results are written as they finish; re-running with the same --out "
            "computes only what is missing. NAME is a built-in sweep (infoplane, ntk-information, "
            "ib-curves) or module:function with --grid GRID.json. See docs/sweep.md."
        ),
    )
    p.add_argument("name", metavar="NAME", help="infoplane, ntk-information, ib-curves, or module:function")
    p.add_argument("--quick", action="store_true", help="the built-in sweep's small grid (under a minute on 2 cores)")
    p.add_argument("--out", required=True, help="output folder (resumable; results.csv is written there)")
    p.add_argument("--grid", help="JSON grid: {\"params\": {...}, \"seeds\": [...], \"fixed\": {...}}")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="address of a running Dask scheduler")
    where.add_argument("--workers", type=int, metavar="N", help="local worker processes (default: one per CPU)")
    p.add_argument("--batch-size", type=int, default=1, help="grid points per Dask task (default 1)")
    p.add_argument("--no-fsync", action="store_true",
                   help="skip fsync of results (faster for many short tasks; a power cut may cost recomputation)")
    p.add_argument("--dry-run", action="store_true", help="print the number of tasks and how many are done")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_sweep)


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
    p.add_argument("--out", help="output folder (default: stdout for one name, derivations/ with --all)")
    p.set_defaults(func=_cmd_derive)

    p = sub.add_parser(
        "codegen",
        help="regenerate the kernels under ibtheory/_generated (or check them)",
        description="Regenerate the committed NumPy/Torch kernels from the symbolic layer.",
    )
    p.add_argument("--check", action="store_true", help="only compare; exit 1 if any file is stale")
    p.add_argument("--group", action="append", help="limit to a kernel group (repeatable)")
    p.set_defaults(func=_cmd_codegen)

    p = sub.add_parser(
        "reproduce",
        help="run the headline analyses and write figures, data and a report",
        description=(
            "Run the headline analyses (IB/dualIB curves and critical points, Gaussian IB vs dualIB, "
            "NTK kernels vs finite width, information of infinite ensembles over training time and "
            "sample size, the 12-bit information plane) and write PNG figures, CSV/JSON data and "
            "report.md/report.html stating every setting."
        ),
    )
    p.add_argument("--quick", action="store_true", help="small settings: under 3 minutes on 2 CPU cores")
    p.add_argument("--out", default="results", help="output folder (default: results)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default: 0)")
    p.add_argument("--only", action="append", metavar="ANALYSIS", help="run only this analysis (repeatable)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_reproduce)

    p = sub.add_parser(
        "curve",
        help="the IB or dualIB information curve of your joint distribution",
        description=(
            "Compute the optimal IB (or dualIB) curve of a joint distribution p(x, y) given as a CSV "
            "file (rows = x, columns = y, comma-separated) or a .npy array, and write the curve as CSV "
            "plus a figure of the information plane and of the effective number of clusters."
        ),
    )
    p.add_argument("joint", help="CSV or NPY file holding the (n_x, n_y) joint distribution (or counts with --normalize)")
    p.add_argument("--method", choices=["ib", "dualib"], default="ib")
    p.add_argument("--betas", default="0.1:100:60", help="LOW:HIGH:COUNT log-spaced, or a comma-separated list")
    p.add_argument("--units", choices=["nats", "bits"], default="nats")
    p.add_argument("--normalize", action="store_true", help="divide the table by its total (for counts)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--effort", choices=["optimum", "fast"], default="optimum",
        help="optimum (default): the full annealing pipeline; fast: one reverse annealing sweep, loose stopping",
    )
    p.add_argument("--out", default="curve-out", help="output folder (default: curve-out)")
    p.set_defaults(func=_cmd_curve)

    p = sub.add_parser(
        "ntk-info",
        help="information quantities of an infinite NTK ensemble over training time",
        description=(
            "Bounds on I(X;Z), I(Z;Y), the Gibbs/Bayes losses and KL to the prior of the output of an "
            "infinite ensemble of infinitely wide networks trained by gradient descent (Shwartz-Ziv & "
            "Alemi), over log-spaced training times; writes CSV and a figure."
        ),
    )
    p.add_argument("--data", default="digits", help="digits (scikit-learn, default), twelve-bit, synthetic, or a .npz file with x_train, y_train, x_test, y_test")
    p.add_argument("--n-train", type=int, default=200)
    p.add_argument("--n-eval", type=int, default=200)
    p.add_argument("--depth", type=int, default=2)
    p.add_argument("--activation", choices=["relu", "erf"], default="erf")
    p.add_argument("--w-std", type=float, default=1.5)
    p.add_argument("--b-std", type=float, default=0.05)
    p.add_argument("--units", choices=["nats", "bits"], default="nats")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="ntk-info-out")
    p.set_defaults(func=_cmd_ntk_info)
    _add_sweep_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except CommandError as exc:
        return _error(str(exc))
    except OSError as exc:  # a write that failed after the checks (disk full, permissions changed)
        where = f"{exc.filename}: " if exc.filename else ""
        return _error(f"{where}{exc.strerror or exc}")


if __name__ == "__main__":
    raise SystemExit(main())
