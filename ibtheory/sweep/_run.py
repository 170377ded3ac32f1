"""Run a function over a grid as independent, resumable tasks on Dask (or in this process)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import socket
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import SweepError, require
from ._grid import Grid, Task, TaskSpec, grid_tasks, task_spec
from ._store import Outcome, Store

#: Seconds without a heartbeat after which another run may take over a task's claim. The driver
#: refreshes its claims every LEASE_S / 4; a claim of a dead process on the same host is stale at once.
LEASE_S = 120.0

#: Smallest default number of grid points in flight per batch slot: enough to hide the round trips
#: of short tasks on a small cluster (a killed driver loses at most these).
MIN_WINDOW = 32

#: Value of ``client`` that runs the tasks one after another in this process (no Dask needed).
IN_PROCESS = "in-process"

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class TaskFailure:
    """A task whose function raised (or whose workers kept dying): its key, parameters, seed and
    the error text. Failed tasks are not recorded, so the next run tries them again."""

    key: str
    params: Mapping[str, Any]
    seed: int
    error: str


@dataclass(frozen=True)
class SweepResult:
    """What :func:`run` did.

    Fields
    ------
    out : the output folder.  table : ``out/results.csv``.
    n_tasks : tasks in the grid.  n_cached : already done when the run started (not recomputed).
    n_computed : computed and written by this run.  n_elsewhere : finished by a concurrent run.
    failures : tuple of :class:`TaskFailure`.  elapsed_s : wall-clock seconds of the run.
    """

    out: Path
    table: Path
    n_tasks: int
    n_cached: int
    n_computed: int
    n_elsewhere: int
    failures: tuple[TaskFailure, ...]
    elapsed_s: float

    @property
    def complete(self) -> bool:
        return not self.failures and self.n_cached + self.n_computed + self.n_elsewhere == self.n_tasks


@dataclass(frozen=True)
class SweepPlan:
    """The tasks of a grid and which of them ``out`` already holds (see :func:`plan`)."""

    tasks: tuple[Task, ...]
    done: frozenset[str]

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def n_done(self) -> int:
        return len(self.done)

    @property
    def todo(self) -> tuple[Task, ...]:
        return tuple(t for t in self.tasks if t.key not in self.done)


def plan(fn: Callable[..., Any], grid: Grid | Mapping[str, Any], *, out: str | os.PathLike[str]) -> SweepPlan:
    """The tasks of ``grid`` and the keys ``out`` already holds verified results for (no Dask)."""
    spec = task_spec(fn)
    tasks = grid_tasks(spec, Grid.from_dict(grid))
    store = Store(out)
    old = store.read_manifest()
    if old is not None and old["function"] != spec.name:
        raise SweepError(f"{out} holds a sweep of {old['function']}, not {spec.name}; use another out folder")
    done = frozenset(t.key for t in tasks if store.read_record(t, spec) is not None)
    return SweepPlan(tuple(tasks), done)


# --- the worker side ---------------------------------------------------------------------------

def _split_results(value: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if not isinstance(value, Mapping):
        raise TypeError(f"a sweep task must return a mapping of result names to values, got {type(value).__name__}")
    scalars: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for name, v in value.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise TypeError(f"result names must be identifiers, got {name!r}")
        if isinstance(v, np.generic):
            v = v.item()
        if v is None or isinstance(v, bool | int | float | str):
            scalars[name] = v
            continue
        a = np.asarray(v)
        if a.dtype.kind not in "biufcUS":
            raise TypeError(f"result {name!r}: arrays must be numeric, boolean or string, got dtype {a.dtype}")
        if a.ndim == 0:
            scalars[name] = a.item()
        else:
            arrays[name] = a
    return scalars, arrays


def execute_batch(fn: Callable[..., Any], tasks: Sequence[Task]) -> list[Outcome]:
    """Run ``fn(**params, seed=seed)`` for each task; an exception becomes the outcome's error."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    outcomes = []
    for t in tasks:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            scalars, arrays = _split_results(fn(**t.params, seed=t.seed))
        except Exception:
            outcomes.append(Outcome(t.key, {}, {}, time.perf_counter() - start, worker, traceback.format_exc()))
            continue
        outcomes.append(Outcome(t.key, scalars, arrays, time.perf_counter() - start, worker,
                                cpu_s=time.process_time() - cpu))
    return outcomes


# --- executors ---------------------------------------------------------------------------------

class _InProcess:
    """Tasks one after another in a thread of this process (the driver keeps heartbeating)."""

    def __init__(self) -> None:
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        self.n_slots = 1

    def submit(self, fn: Callable[..., Any], batch: list[Task], name: str) -> Any:
        return self.pool.submit(execute_batch, fn, batch)

    def wait(self, futures: Sequence[Any], timeout: float) -> set[Any]:
        done, _ = concurrent.futures.wait(futures, timeout=timeout, return_when="FIRST_COMPLETED")
        return set(done)

    def collect(self, futures: set[Any]) -> list[tuple[Any, Any, BaseException | None]]:
        return [(f, None, f.exception()) if f.exception() else (f, f.result(), None) for f in futures]

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _Dask:
    """Tasks on a dask.distributed cluster: a given Client, a scheduler address, or a LocalCluster."""

    def __init__(self, client: Any, n_workers: int | None) -> None:
        require("distributed", "ibtheory.sweep.run")
        from distributed import Client, LocalCluster

        self._own: list[Any] = []
        if isinstance(client, Client):
            self.client = client
        elif isinstance(client, str):
            self.client = Client(client)
            self._own.append(self.client)
        elif client is None:
            n = n_workers or os.cpu_count() or 1
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
            self._own.append(cluster)
            self.client = Client(cluster)
            self._own.insert(0, self.client)
        else:
            raise SweepError(
                f"client must be a dask.distributed.Client, a scheduler address, {IN_PROCESS!r} or None, got {client!r}"
            )
        self.n_slots = max(sum(self.client.nthreads().values()), 1)

    def submit(self, fn: Callable[..., Any], batch: list[Task], name: str) -> Any:
        return self.client.submit(execute_batch, fn, batch, key=name, pure=False)

    def wait(self, futures: Sequence[Any], timeout: float) -> set[Any]:
        from distributed import wait

        try:
            return set(wait(futures, timeout=timeout, return_when="FIRST_COMPLETED").done)
        except TimeoutError:
            return set()

    def collect(self, futures: set[Any]) -> list[tuple[Any, Any, BaseException | None]]:
        """(future, value, error) of finished futures, the values fetched in one gather (one round
        trip to the workers instead of one per future)."""
        ok = [f for f in futures if f.status == "finished"]
        out: list[tuple[Any, Any, BaseException | None]] = []
        try:
            values = self.client.gather(ok) if ok else []
            out += [(f, v, None) for f, v in zip(ok, values, strict=True)]
        except Exception:  # some result was lost meanwhile: fall back to one future at a time
            for f in ok:
                try:
                    out.append((f, f.result(), None))
                except Exception as exc:
                    out.append((f, None, exc))
        for f in futures:
            if f.status != "finished":
                err: BaseException | None
                try:
                    err = f.exception()
                except BaseException as cancelled:  # asyncio.CancelledError is not an Exception
                    if isinstance(cancelled, KeyboardInterrupt | SystemExit):
                        raise
                    err = cancelled
                out.append((f, None, err or RuntimeError(f"task ended with status {f.status}")))
        return out

    def close(self) -> None:
        for obj in self._own:
            with contextlib.suppress(Exception):
                obj.close()


@contextlib.contextmanager
def _executor(client: Any, n_workers: int | None) -> Iterator[Any]:
    ex: Any = _InProcess() if client == IN_PROCESS else _Dask(client, n_workers)
    try:
        yield ex
    finally:
        ex.close()


# --- the driver --------------------------------------------------------------------------------

def run(
    fn: Callable[..., Any],
    grid: Grid | Mapping[str, Any],
    *,
    out: str | os.PathLike[str],
    client: Any = None,
    n_workers: int | None = None,
    batch_size: int = 1,
    max_in_flight: int | None = None,
    progress: ProgressCallback | None = None,
    lease_s: float = LEASE_S,
    durable: bool = True,
) -> SweepResult:
    """Run ``fn(**params, seed=seed)`` at every point of ``grid``; results go to ``out``.

    Each task is content-addressed (:func:`task_key`: the function's name and version, its
    parameters and the seed), so a re-run with the same ``out`` computes only what is missing or
    damaged. Each result is written atomically as soon as it arrives, with its parameters and the
    package version beside it (module :mod:`ibtheory.sweep._store`); at the end ``out/results.csv``
    holds one row per finished task. Concurrent runs on one ``out`` share the work through claim
    files and never write a task twice over each other's results.

    Parameters
    ----------
    fn:
        The task function. It returns a mapping of result names to scalars or arrays; declare its
        version and array axes with :func:`task`.
    grid:
        A :class:`Grid` or a mapping for :meth:`Grid.from_dict`.
    out:
        The output folder (created if needed).
    client:
        A ``dask.distributed.Client``, a scheduler address (``"tcp://host:8786"``), ``None`` for an
        embedded ``LocalCluster`` of ``n_workers`` single-threaded processes (default: one per CPU),
        or ``"in-process"`` to run the tasks here one by one (no Dask; for debugging).
    batch_size:
        Grid points per Dask task (> 1 for tasks of well under a second, so scheduler overhead and
        round trips stay small; docs/sweep.md).
    max_in_flight:
        Most grid points submitted and not yet written (default: max(4 x worker threads, 32) x
        batch_size),
        so the scheduler never holds the whole grid and a killed driver loses at most these.
    progress:
        Called as ``progress(n_done, n_tasks)`` when the run starts and after each finished task.
    lease_s:
        Seconds after which a claim without heartbeat (a killed run on another host) is taken over.
    durable:
        fsync every result before it counts as written (default). ``False`` skips the fsyncs
        (~10x cheaper writes for very many short tasks): a killed process still loses nothing,
        but a power cut may lose the results of the last seconds, which are then found damaged
        or missing and recomputed.

    Notes
    -----
    Tasks that raise are reported in ``failures`` and not recorded; a result that cannot be written
    (a full disk) stops the run with :class:`SweepError` after releasing its claims.
    """
    start = time.perf_counter()
    spec = task_spec(fn)
    grid = Grid.from_dict(grid)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise SweepError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not (isinstance(lease_s, int | float) and lease_s > 0):
        raise SweepError(f"lease_s must be > 0 seconds, got {lease_s!r}")
    store = Store(out, durable=durable)
    store.open(spec, grid)
    tasks = grid_tasks(spec, grid)
    todo = [t for t in tasks if store.read_record(t, spec) is None]
    n_cached = len(tasks) - len(todo)
    driver = _Driver(store, spec, fn, len(tasks), n_cached, batch_size, lease_s, progress)
    driver.report()
    try:
        if todo:
            with _executor(client, n_workers) as ex:
                window = max_in_flight or max(4 * ex.n_slots, MIN_WINDOW) * batch_size
                driver.loop(ex, deque(todo), max(int(window), 1))
    except BaseException:
        with contextlib.suppress(Exception):  # a partial table; the original error matters more
            store.write_table(tasks, spec)
        raise
    table = store.write_table(tasks, spec)
    return SweepResult(
        out=store.out, table=table, n_tasks=len(tasks), n_cached=n_cached, n_computed=driver.n_computed,
        n_elsewhere=driver.n_elsewhere, failures=tuple(driver.failures), elapsed_s=time.perf_counter() - start,
    )


class _Driver:
    """The submit / collect / write loop with claims and heartbeats."""

    def __init__(self, store: Store, spec: TaskSpec, fn: Callable[..., Any], n_tasks: int, n_cached: int,
                 batch_size: int, lease_s: float, progress: ProgressCallback | None) -> None:
        self.store, self.spec, self.fn = store, spec, fn
        self.n_tasks, self.n_cached, self.batch_size, self.lease_s = n_tasks, n_cached, batch_size, lease_s
        self.progress = progress
        self.owner = uuid.uuid4().hex
        self.n_computed = 0
        self.n_elsewhere = 0
        self.failures: list[TaskFailure] = []

    def report(self) -> None:
        if self.progress is not None:
            self.progress(self.n_cached + self.n_computed + self.n_elsewhere + len(self.failures), self.n_tasks)

    def _claim(self, task: Task) -> str:
        """'mine', 'done' (finished meanwhile) or 'foreign' (another run is computing it)."""
        if not self.store.try_claim(task.key, self.owner, self.lease_s):
            return "foreign"
        if self.store.read_record(task, self.spec) is not None:
            self.store.release(task.key)
            return "done"
        return "mine"

    def loop(self, ex: Any, queue: deque[Task], window: int) -> None:
        in_flight: dict[Any, list[Task]] = {}
        foreign: list[Task] = []
        beat_every = self.lease_s / 4
        last_beat = time.monotonic()
        try:
            while queue or in_flight or foreign:
                while queue and sum(map(len, in_flight.values())) < window:
                    batch: list[Task] = []
                    while queue and len(batch) < self.batch_size:
                        t = queue.popleft()
                        state = self._claim(t)
                        if state == "mine":
                            batch.append(t)
                        elif state == "foreign":
                            foreign.append(t)
                        else:
                            self.n_elsewhere += 1
                            self.report()
                    if batch:
                        name = f"ibtheory-sweep-{batch[0].key}-{self.owner[:8]}"
                        in_flight[ex.submit(self.fn, batch, name)] = batch
                if in_flight:
                    done = ex.wait(list(in_flight), timeout=min(beat_every, 1.0))
                    for fut, value, error in ex.collect(done):
                        self._collect(value, error, in_flight.pop(fut))
                elif foreign:
                    # only tasks claimed by other runs are left: wait for them to finish or go stale
                    time.sleep(min(beat_every, 0.5))
                    still = []
                    for t in foreign:
                        if self.store.read_record(t, self.spec) is not None:
                            self.n_elsewhere += 1
                            self.report()
                        elif self.store.claim_is_stale(t.key, self.lease_s):
                            queue.append(t)
                        else:
                            still.append(t)
                    foreign = still
                if time.monotonic() - last_beat >= beat_every:
                    self.store.heartbeat(t.key for b in in_flight.values() for t in b)
                    last_beat = time.monotonic()
        finally:
            for fut, batch in in_flight.items():
                with contextlib.suppress(Exception):
                    fut.cancel()
                for t in batch:
                    self.store.release(t.key)

    def _collect(self, value: Any, error: BaseException | None, batch: list[Task]) -> None:
        if error is None:
            outcomes = {o.key: o for o in value}
        else:  # the batch never finished: e.g. KilledWorker after repeated deaths
            err = "".join(traceback.format_exception_only(type(error), error)).strip()
            outcomes = {t.key: Outcome(t.key, {}, {}, 0.0, "", err) for t in batch}
        try:
            for t in batch:
                o = outcomes[t.key]
                if o.error is not None:
                    self.failures.append(TaskFailure(t.key, dict(t.params), t.seed, o.error))
                else:
                    try:
                        self.store.write(t, self.spec, o)
                    except OSError as exc:
                        raise SweepError(
                            f"cannot write the result of task {t.key} to {self.store.out}: {exc}; "
                            "finished results are kept, re-run with the same out to continue"
                        ) from exc
                    self.n_computed += 1
                self.store.release(t.key)
                self.report()
        finally:
            for t in batch:
                self.store.release(t.key)
