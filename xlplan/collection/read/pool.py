"""Reading in worker processes: a small pool with a time limit, an address-space limit and fresh workers.

python-calamine, which reads the values, is fast but can abort the whole process (a Rust
panic on allocation failure) or raise ``PanicException``, a ``BaseException``. A panic is
caught in the worker; a worker that dies or hangs is killed and replaced, and the file gets
a finding. On Windows there is no ``RLIMIT_AS``: the time limit and the dense-grid guard
still apply.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, TypeVar

from xlplan.children import die_with_parent
from xlplan.collection.read.limits import Limits, ReadFailed
from xlplan.collection.read.package import Wire
from xlplan.collection.read.sniff import read_guarded
from xlplan.collection.snapshot import Snapshot
from xlplan.findings import Finding

T = TypeVar("T")

# ----------------------------------------------------------------------------------------
# Public entry points (run in the caller's process; the reading itself runs in workers)
# ----------------------------------------------------------------------------------------


def read_return(path: Path, *, limits: Limits | None = None, name: str | None = None) -> Snapshot:
    """Read one returned workbook safely, in a worker process.

    Args:
        path: the file (normally its archived copy).
        limits: reading limits.
        name: the file name findings show (default: ``path.name``).

    Raises:
        ReadFailed: the file is not a readable workbook; its findings say why.
    """
    names = {path: name} if name else None
    for _, result in read_returns([path], limits=limits, workers=1, names=names):
        if isinstance(result, ReadFailed):
            raise result
        return result
    raise AssertionError("read_returns yielded nothing for one path")  # pragma: no cover


def read_returns(
    paths: Iterable[Path],
    *,
    limits: Limits | None = None,
    workers: int | None = None,
    names: Mapping[Path, str] | None = None,
) -> Iterator[tuple[Path, Snapshot | ReadFailed]]:
    """Read many returned workbooks in a small pool of worker processes.

    Yields ``(path, Snapshot)`` or ``(path, ReadFailed)`` for every path, in the order
    the readings finish (not the input order). A worker that dies (a native abort, the
    memory limit) or exceeds the time limit is killed and replaced; that file gets a
    ``file-read-crashed`` or ``file-read-timeout`` finding and the rest go on.
    Stopping the iteration early stops the workers.

    Args:
        paths: files to read; a path given twice is read twice.
        limits: reading limits (sizes, time, memory, bounds).
        workers: worker processes (default: one per core, never more than files).
        names: file names for findings, where they differ from ``path.name``
            (an archived copy is named by its hash; findings should show the name received).
    """
    yield from map_returns(paths, _identity, limits=limits, workers=workers, names=names)


def _identity(outcome: Snapshot | ReadFailed, name: str) -> Snapshot | ReadFailed:
    return outcome


def map_returns(
    paths: Iterable[Path],
    job: Callable[[Snapshot | ReadFailed, str], T],
    *,
    limits: Limits | None = None,
    workers: int | None = None,
    names: Mapping[Path, str] | None = None,
) -> Iterator[tuple[Path, T]]:
    """Read returned workbooks in worker processes and apply ``job`` to each reading.

    ``job(snapshot_or_failure, name)`` is what the caller does with a file once read
    (collection identifies and checks it). The workers run ``job`` themselves, so that
    only its result crosses back and every core reads and checks. Where the platform can
    fork a process that has no other threads (Linux, macOS), the workers are forked from
    this process and share what ``job`` refers to — the plan, its indexes, the compiled
    schema — without pickling it. Elsewhere (Windows; a caller with threads, such as the
    server) ``job`` is pickled once and each worker, spawned, loads it as it starts; a
    ``job`` that cannot be pickled runs here. A ``job`` that raises in a worker is run
    again here, so its exception is the caller's, as if it had run here. Yields ``(path,
    job's result)``, in the order the files finish; see :func:`read_returns` for the rest.
    """
    limits = limits or Limits()
    queue = _Tasks(paths)
    if not queue:
        return
    size = max(1, workers or os.cpu_count() or 1)
    context = _context(forked_job=job is not _identity)
    forked = context.get_start_method() == "fork"
    spec = _Spec(limits, job if forked else None, None if forked or job is _identity else _pickled(job))
    # By reference: a caller that produces paths as it goes (collection's intake) names each first.
    labels: Mapping[Path, str] = names if names is not None else {}
    pool: list[_Worker] = []
    try:
        pool = [_Worker(context, spec) for _ in range(queue.at_most(size))]
        while True:
            # Keep every worker's next file already in its pipe, so it never waits on this process.
            for slot, worker in enumerate(pool):
                while queue and worker.wants_more():
                    if not worker.assign(queue[0], labels):
                        queue.extendleft(reversed(worker.drain()))
                        pool[slot] = worker = worker.replace(context, spec)  # died while idle
                        if not worker.assign(queue[0], labels):
                            lost = queue.popleft()
                            failed = _failed("file-read-crashed", lost, labels, detail="worker start")
                            yield lost[1], job(failed, labels.get(lost[1]) or lost[1].name)
                            continue
                    queue.popleft()
            busy = [worker for worker in pool if worker.tasks]
            if not busy:
                break
            deadline = min(worker.deadline for worker in busy)
            waitables: list[Any] = [worker.connection for worker in busy]
            waitables += [worker.process.sentinel for worker in busy]
            ready = set(wait(waitables, timeout=max(0.0, deadline - time.monotonic())))
            now = time.monotonic()
            finished: list[tuple[_Task, _Answer]] = []
            for worker in busy:
                slot = pool.index(worker)
                head = worker.tasks[0]
                if worker.connection in ready or worker.process.sentinel in ready:
                    answer = worker.receive()
                    if answer is None:  # the pipe closed: the worker died reading the head file
                        worker.process.join(timeout=5)  # so its exit status is known
                        reason = _exit_reason(worker.process.exitcode)
                        queue.extendleft(reversed(worker.drain()[1:]))  # the others were not started
                        pool[slot] = worker.replace(context, spec)
                        finished.append(
                            (head, _Answer(_failed("file-read-crashed", head, labels, detail=reason)))
                        )
                        continue
                    finished.append((head, answer))
                    if worker.retiring() and not worker.tasks:
                        pool[slot] = worker.replace(context, spec)
                elif now >= worker.deadline:
                    queue.extendleft(reversed(worker.drain()[1:]))
                    pool[slot] = worker.replace(context, spec)
                    timeout = _failed("file-read-timeout", head, labels, seconds=limits.timeout_seconds)
                    finished.append((head, _Answer(timeout)))
            for task, answer in finished:
                if answer.done:
                    yield task[1], answer.result
                    continue
                raw = answer.result
                outcome = (
                    raw.assemble()
                    if isinstance(raw, Wire)
                    else raw
                    if isinstance(raw, ReadFailed)
                    else ReadFailed(raw)
                )
                yield task[1], job(outcome, labels.get(task[1]) or task[1].name)
    finally:
        for worker in pool:
            worker.stop()


# ----------------------------------------------------------------------------------------
# Worker processes
# ----------------------------------------------------------------------------------------

_Task = tuple[int, Path]


class _Tasks:
    """The files still to read: those put back (a worker died before starting them) first, then the source.

    The source is drawn only when a worker has room, so a caller can produce the paths as it
    goes (collection archives a file and records its receipt just before it is read).
    """

    def __init__(self, paths: Iterable[Path]) -> None:
        self.back: deque[_Task] = deque()
        self.source = iter(paths)
        self.count = 0
        self._fill()

    def _fill(self) -> None:
        if not self.back:
            path = next(self.source, None)
            if path is not None:
                self.back.append((self.count, path))
                self.count += 1

    def __bool__(self) -> bool:
        self._fill()
        return bool(self.back)

    def __getitem__(self, index: int) -> _Task:
        if index != 0:
            raise IndexError(index)
        self._fill()
        return self.back[0]

    def popleft(self) -> _Task:
        """The next file to read."""
        self._fill()
        return self.back.popleft()

    def extendleft(self, tasks: Iterable[_Task]) -> None:
        """Put back files that were sent to a worker that is gone, to be read first (reversed, as deque does)."""
        self.back.extendleft(tasks)

    def at_most(self, size: int) -> int:
        """``size``, or fewer when fewer files are known to come (no more workers than files)."""
        while len(self.back) < size:
            path = next(self.source, None)
            if path is None:
                break
            self.back.append((self.count, path))
            self.count += 1
        return max(1, min(size, len(self.back)))


def _context(*, forked_job: bool) -> multiprocessing.context.BaseContext:
    # fork, for a job that refers to the caller's data, where nothing else runs in this process (fork
    # copies one thread only, and a lock another thread held would stay locked in the child forever).
    methods = multiprocessing.get_all_start_methods()
    if forked_job and "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    # forkserver: cheap restarts after a crash and no fork of a threaded parent; Windows has only spawn.
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has the reader imported already (no effect once it runs).
        context.set_forkserver_preload(["xlplan.collection.read"])
        return context
    return multiprocessing.get_context("spawn")


def _failed(code: str, task: _Task, labels: Mapping[Path, str], **params: Any) -> ReadFailed:
    return ReadFailed([Finding(code, params, file=labels.get(task[1]) or task[1].name)])


def _exit_reason(exitcode: int | None) -> str:
    if exitcode is None:
        return "no exit status"
    if exitcode < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-exitcode).name}"
        return f"signal {-exitcode}"
    return f"exit status {exitcode}"


@dataclass(frozen=True)
class _Spec:
    """What every worker is started with: the limits, and the job when the workers run it — itself
    in a forked worker, pickled (once, for every worker) in a spawned one."""

    limits: Limits
    job: Callable[[Snapshot | ReadFailed, str], Any] | None = None
    pickled_job: bytes | None = None


def _pickled(job: Callable[[Snapshot | ReadFailed, str], Any]) -> bytes | None:
    """``job`` pickled for spawned workers; None when it cannot be (then it runs in the caller)."""
    try:
        return pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None


def _job(spec: _Spec) -> Callable[[Snapshot | ReadFailed, str], Any] | None:
    """The job this worker runs: the forked one, or the pickled one loaded; None to only read."""
    if spec.job is not None or spec.pickled_job is None:
        return spec.job
    try:
        job: Callable[[Snapshot | ReadFailed, str], Any] = pickle.loads(spec.pickled_job)
    except Exception:  # e.g. a module the spawned worker cannot import: the caller runs the job
        return None
    # Loaded for good (the plan and its indexes, when collecting): kept out of the collector's walks.
    gc.freeze()
    return job


@dataclass(frozen=True)
class _Answer:
    """A worker's answer for one file: the job's result (``done``), or what was read, for the caller's job."""

    result: Any
    done: bool = False


class _Worker:
    """One worker process, the pipe to it, and the files sent to it (the first is being read)."""

    DEPTH = 8
    """Files in a worker's pipe at once: the one it reads and the next seven, so that a worker goes on
    while the caller archives the next files (an fsync each) and records verdicts."""

    def __init__(self, context: multiprocessing.context.BaseContext, spec: _Spec) -> None:
        parent, child = context.Pipe(duplex=True)
        self.connection: Connection = parent
        self.process: Any = context.Process(  # type: ignore[attr-defined]  # every concrete context has it
            target=_worker_main, args=(child, spec), daemon=True
        )
        if context.get_start_method() == "fork":
            # Objects that exist now are never collected in the child, so its garbage collector does not
            # write to (and so copy) the pages of the plan it shares with this process.
            frozen_already = gc.get_freeze_count() > 0
            gc.freeze()
            try:
                self.process.start()
            finally:
                if not frozen_already:  # the caller froze them for a reason of its own: leave them so
                    gc.unfreeze()
        else:
            self.process.start()
        child.close()
        self.limits = spec.limits
        self.tasks: deque[_Task] = deque()
        self.deadline = 0.0  # of the file being read
        self.sent = 0

    def wants_more(self) -> bool:
        """True while the pipe has room and the worker is not due for replacement."""
        return len(self.tasks) < self.DEPTH and not self.retiring()

    def retiring(self) -> bool:
        """True once the worker has been sent its share of files (a fresh one bounds any leak)."""
        return self.sent >= self.limits.tasks_per_worker

    def assign(self, task: _Task, labels: Mapping[Path, str]) -> bool:
        """Send a file to the worker; False when the worker is gone."""
        try:
            self.connection.send((str(task[1]), labels.get(task[1]) or task[1].name))
        except (OSError, ValueError):
            return False
        if not self.tasks:
            self.deadline = time.monotonic() + self.limits.timeout_seconds
        self.tasks.append(task)
        self.sent += 1
        return True

    def receive(self) -> _Answer | None:
        """The answer for the first file, or None when the worker died before answering."""
        try:
            result: _Answer = self.connection.recv()
        except (EOFError, OSError):
            return None
        except Exception:  # an answer that does not unpickle is a broken worker, too
            return None
        self.tasks.popleft()
        # The next file in the pipe starts now; its time limit runs from here.
        self.deadline = time.monotonic() + self.limits.timeout_seconds
        return result

    def drain(self) -> list[_Task]:
        """Forget the files sent (the caller puts back those not started)."""
        tasks = list(self.tasks)
        self.tasks.clear()
        return tasks

    def replace(self, context: multiprocessing.context.BaseContext, spec: _Spec) -> _Worker:
        """Kill this worker and start a fresh one."""
        self.tasks.clear()
        self.stop(kill=True)
        return _Worker(context, spec)

    def stop(self, kill: bool = False) -> None:
        """End the worker: politely when idle, killed when busy or asked to."""
        if not kill and not self.tasks and self.process.is_alive():
            with contextlib.suppress(OSError, ValueError):
                self.connection.send(None)
            self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.connection.close()


def _worker_main(connection: Connection, spec: _Spec) -> None:
    """Read files sent over ``connection`` until told to stop (None) or the pipe closes."""
    # Ctrl-C reaches the whole process group; the parent decides, the workers are killed by it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()  # a collection killed with kill -9 leaves no reader behind
    job = _job(spec)
    # A worker that runs the job holds the plan (its parent's pages, or loaded): the limit comes on top.
    _limit_memory(spec.limits.memory_bytes, on_top=job is not None)
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        path, name = message
        raw = read_guarded(Path(path), spec.limits, name)
        connection.send(_run(job, raw, name) if job is not None else _Answer(raw))


def _run(
    job: Callable[[Snapshot | ReadFailed, str], Any], raw: Wire | tuple[Finding, ...], name: str
) -> _Answer:
    """The job's result for one reading; what was read, when the job fails, for the caller to run it again."""
    try:
        outcome = raw.assemble() if isinstance(raw, Wire) else ReadFailed(raw)
        return _Answer(job(outcome, name), done=True)
    except Exception:
        return _Answer(raw)


def _limit_memory(limit: int, *, on_top: bool = False) -> None:
    """Cap the worker's address space, so a runaway allocation fails in this process only.

    With ``on_top``, the cap is ``limit`` beyond what the process already maps (a forked
    worker inherits its parent's mappings).
    """
    if sys.platform == "win32":  # no RLIMIT_AS on Windows; the time limit still applies
        return
    import resource

    with contextlib.suppress(ValueError, OSError):
        if on_top:
            limit += _mapped_bytes()
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _mapped_bytes() -> int:
    """The address space the process maps now (Linux: /proc/self/statm; elsewhere an estimate)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux, bytes on macOS
