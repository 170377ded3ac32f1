"""The on-disk store of a sweep: one verified record per finished task, written atomically.

Layout of ``OUT``::

    sweep.json                  the function, its version and the grid of the last run
    tasks/<k[:2]>/<k>.json      the record of task k: parameters, seed, scalar results, versions,
                                timing, the name and SHA-256 of its arrays, and its own checksum
    tasks/<k[:2]>/<k>-<h>.npz   its arrays, named by (a prefix of) their SHA-256 h
    claims/<k>.claim            a run is computing task k (removed when its record is written)
    results.csv                 one row per finished task of the grid (rewritten by every run)

A task is done if and only if its record parses, its checksum, key and parameters agree, and its
arrays file has the recorded SHA-256: a truncated or corrupt file is recomputed, never read as
data. Every file is written to a temporary name in the same folder, flushed to disk and renamed
over its final name (POSIX rename is atomic), so a reader sees a whole old file or a whole new one.
Array files are content-named, so two runs that compute the same task concurrently never pair one
run's record with the other's arrays.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
import os
import socket
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import SweepError
from ._grid import Grid, Task, TaskSpec, task_key

#: Version of the record format; records of another format are recomputed.
RECORD_FORMAT = 1
MANIFEST = "sweep.json"
TABLE = "results.csv"


def package_version() -> str:
    from .. import __version__

    return __version__


@dataclass(frozen=True)
class Outcome:
    """What a worker sends back for one task: scalar results, arrays, or the error it raised.

    Fields
    ------
    key : the task key.  scalars : dict name -> bool/int/float/str/None.
    arrays : dict name -> ndarray.  elapsed_s : seconds the task function ran.
    worker : ``host:pid`` that ran it.  error : the traceback text if it raised, else None.
    cpu_s : CPU seconds of the worker process meanwhile (all its threads).
    """

    key: str
    scalars: Mapping[str, Any]
    arrays: Mapping[str, np.ndarray]
    elapsed_s: float
    worker: str
    error: str | None = None
    cpu_s: float = 0.0


def _checksum(record: Mapping[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system can open a folder
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, data: bytes, *, fsync: bool = True, sync_dir: bool = True,
                 made: set[Path] | None = None) -> None:
    """Write ``data`` to ``path`` atomically: temporary file in the same folder, fsync, rename
    (then fsync the folder, unless the caller does it after a later rename into the same folder).
    ``fsync=False`` skips both fsyncs: still atomic for readers, not durable across a power cut.

    On any error (a full disk: ENOSPC) the temporary file is removed and ``path`` is untouched.
    ``made`` caches the folders already created (a mkdir per write is slow on some file systems)."""
    if made is None or path.parent not in made:
        path.parent.mkdir(parents=True, exist_ok=True)
        if made is not None:
            made.add(path.parent)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if fsync and sync_dir:
        _fsync_dir(path.parent)


class Store:
    """Records, claims, manifest and table of one ``out`` folder."""

    def __init__(self, out: str | os.PathLike[str], *, durable: bool = True) -> None:
        self.out = Path(out)
        self.durable = durable
        self._made: set[Path] = set()

    # --- manifest -------------------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any] | None:
        path = self.out / MANIFEST
        if not path.exists():
            return None
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise SweepError(f"{path}: unreadable sweep manifest ({exc}); remove it to start again") from None
        if not isinstance(manifest, dict) or "function" not in manifest or "grid" not in manifest:
            raise SweepError(f"{path}: not a sweep manifest; use another --out")
        return manifest

    def open(self, spec: TaskSpec, grid: Grid) -> None:
        """Create ``out`` or check that it holds a sweep of the same function; record the grid."""
        old = self.read_manifest()
        if old is not None and old["function"] != spec.name:
            raise SweepError(
                f"{self.out} holds a sweep of {old['function']}, not {spec.name}; use another out folder"
            )
        manifest = {
            "function": spec.name,
            "version": spec.version,
            "dims": {k: list(v) for k, v in spec.dims.items()},
            "grid": grid.to_dict(),
            "package_version": package_version(),
        }
        if manifest != old:
            atomic_write(self.out / MANIFEST, json.dumps(manifest, indent=1, allow_nan=True).encode())

    # --- records --------------------------------------------------------------------------
    def record_path(self, key: str) -> Path:
        return self.out / "tasks" / key[:2] / f"{key}.json"

    def read_record(self, task: Task, spec: TaskSpec) -> dict[str, Any] | None:
        """The verified record of ``task``, or None if it is missing, partial or corrupt."""
        path = self.record_path(task.key)
        try:
            record = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("checksum") != _checksum(record):
            return None
        if (
            record.get("format") != RECORD_FORMAT
            or record.get("key") != task.key
            or task_key(record.get("function", ""), record.get("version", ""), record.get("params", {}),
                        record.get("seed", 0)) != task.key
            or record.get("function") != spec.name
            or record.get("version") != spec.version
        ):
            return None
        arrays = record.get("arrays")
        if arrays is not None and self._verified_array_bytes(arrays) is None:
            return None
        return record

    def _verified_array_bytes(self, arrays: Mapping[str, Any]) -> bytes | None:
        path = self.out / arrays["file"]
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != arrays["sha256"]:
            # content-named: a file whose bytes do not match its name is damaged, never another
            # run's good result, so it is safe to remove
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        return data

    def load_arrays(self, record: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """The arrays of a record (checked against its SHA-256 again; SweepError if damaged since)."""
        arrays = record.get("arrays")
        if arrays is None:
            return {}
        data = self._verified_array_bytes(arrays)
        if data is None:
            raise SweepError(f"{self.out / arrays['file']}: missing or corrupt; re-run the sweep to recompute it")
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}

    def write(self, task: Task, spec: TaskSpec, outcome: Outcome) -> dict[str, Any]:
        """Write the arrays, then the record (the commit point), each atomically."""
        arrays_entry = None
        if outcome.arrays:
            buf = io.BytesIO()
            np.savez(buf, **dict(outcome.arrays))  # type: ignore[arg-type]
            data = buf.getvalue()
            digest = hashlib.sha256(data).hexdigest()
            rel = Path("tasks") / task.key[:2] / f"{task.key}-{digest[:16]}.npz"
            # same folder as the record: one folder fsync after the record's rename covers both
            atomic_write(self.out / rel, data, fsync=self.durable, sync_dir=False, made=self._made)
            arrays_entry = {"file": rel.as_posix(), "sha256": digest, "bytes": len(data),
                            "names": sorted(outcome.arrays)}
        record: dict[str, Any] = {
            "format": RECORD_FORMAT,
            "key": task.key,
            "function": spec.name,
            "version": spec.version,
            "params": dict(task.params),
            "seed": task.seed,
            "results": dict(outcome.scalars),
            "arrays": arrays_entry,
            "package_version": package_version(),
            "elapsed_s": outcome.elapsed_s,
            "cpu_s": outcome.cpu_s,
            "worker": outcome.worker,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        record["checksum"] = _checksum(record)
        atomic_write(self.record_path(task.key), json.dumps(record, indent=1, allow_nan=True).encode(),
                     fsync=self.durable, made=self._made)
        return record

    # --- claims ---------------------------------------------------------------------------
    def claim_path(self, key: str) -> Path:
        return self.out / "claims" / f"{key}.claim"

    def try_claim(self, key: str, owner: str, lease_s: float) -> bool:
        """Claim ``key`` for ``owner`` (exclusive create); a stale claim is taken over."""
        path = self.claim_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"owner": owner, "host": socket.gethostname(), "pid": os.getpid()}).encode()
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if not self.claim_is_stale(key, lease_s):
                    return False
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
            return True
        return False

    def claim_is_stale(self, key: str, lease_s: float) -> bool:
        """True if the claim is gone, older than ``lease_s`` without a heartbeat, or held by a
        process of this host that no longer exists."""
        path = self.claim_path(key)
        try:
            if time.time() - path.stat().st_mtime > lease_s:
                return True
            info = json.loads(path.read_text())
        except FileNotFoundError:
            return True
        except (OSError, ValueError):  # just created, its owner is writing it
            return False
        if info.get("host") == socket.gethostname() and isinstance(info.get("pid"), int):
            return not _pid_alive(info["pid"])
        return False

    def heartbeat(self, keys: Iterable[str]) -> None:
        now = time.time()
        for key in keys:
            with contextlib.suppress(OSError):
                os.utime(self.claim_path(key), (now, now))

    def release(self, key: str) -> None:
        with contextlib.suppress(OSError):
            self.claim_path(key).unlink()

    # --- table ----------------------------------------------------------------------------
    def write_table(self, tasks: Iterable[Task], spec: TaskSpec) -> Path:
        """Write ``results.csv``: one row per finished task, in grid order (atomically)."""
        records = [r for r in (self.read_record(t, spec) for t in tasks) if r is not None]
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        header, rows = table_rows(records)
        writer.writerow(header)
        writer.writerows(rows)
        path = self.out / TABLE
        atomic_write(path, buf.getvalue().encode())
        return path


def table_rows(records: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the tidy table: key, parameters, seed, scalar results, arrays path,
    elapsed and CPU seconds."""
    params: list[str] = []
    results: list[str] = []
    for rec in records:
        params += [p for p in rec["params"] if p not in params]
        results += [r for r in rec["results"] if r not in results]
    clash = sorted(set(results) & {*params, "key", "seed", "arrays", "elapsed_s", "cpu_s"})
    if clash:
        raise SweepError(f"result names clash with parameter or table columns: {clash}; rename them")
    header = ["key", *params, "seed", *results, "arrays", "elapsed_s", "cpu_s"]
    rows = []
    for rec in records:
        arrays = rec["arrays"]["file"] if rec["arrays"] else ""
        rows.append([
            rec["key"], *(_cell(rec["params"].get(p)) for p in params), rec["seed"],
            *(_cell(rec["results"].get(r)) for r in results), arrays, f"{rec['elapsed_s']:.6g}",
            f"{rec.get('cpu_s', math.nan):.6g}",
        ])
    return header, rows


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # round-trips exactly
    return value


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
