"""Reading in worker processes: a small pool with a time limit, an address-space limit and fresh workers.

python-calamine, which reads the values, is fast but can abort the whole process (a Rust
panic on allocation failure) or raise ``PanicException``, a ``BaseException``. A panic is
caught in the worker; a worker that dies or hangs is killed and replaced, and the file gets
a finding. On Windows there is no ``RLIMIT_AS``: the time limit and the dense-grid guard
still apply.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from xlplan.collection.read.limits import Limits, ReadFailed
from xlplan.collection.read.package import Wire
from xlplan.collection.read.sniff import read_guarded
from xlplan.collection.snapshot import Snapshot
from xlplan.findings import Finding

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
    limits = limits or Limits()
    queue = deque((index, path) for index, path in enumerate(paths))
    if not queue:
        return
    size = max(1, min(workers or os.cpu_count() or 1, len(queue)))
    context = _context()
    labels = dict(names or {})
    pool: list[_Worker] = []
    try:
        pool = [_Worker(context, limits) for _ in range(size)]
        while True:
            # Keep every worker's next file already in its pipe, so it never waits on this process.
            for slot, worker in enumerate(pool):
                while queue and worker.wants_more():
                    if not worker.assign(queue[0], labels):
                        queue.extendleft(reversed(worker.drain()))
                        pool[slot] = worker = worker.replace(context, limits)  # died while idle
                        if not worker.assign(queue[0], labels):
                            lost = queue.popleft()
                            yield lost[1], _failed("file-read-crashed", lost, labels, reason="worker start")
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
            finished: list[tuple[Path, Wire | ReadFailed]] = []
            for worker in busy:
                slot = pool.index(worker)
                head = worker.tasks[0]
                if worker.connection in ready or worker.process.sentinel in ready:
                    result = worker.receive()
                    if result is None:  # the pipe closed: the worker died reading the head file
                        worker.process.join(timeout=5)  # so its exit status is known
                        reason = _exit_reason(worker.process.exitcode)
                        queue.extendleft(reversed(worker.drain()[1:]))  # the others were not started
                        pool[slot] = worker.replace(context, limits)
                        finished.append((head[1], _failed("file-read-crashed", head, labels, reason=reason)))
                        continue
                    finished.append((head[1], ReadFailed(result) if isinstance(result, tuple) else result))
                    if worker.retiring() and not worker.tasks:
                        pool[slot] = worker.replace(context, limits)
                elif now >= worker.deadline:
                    queue.extendleft(reversed(worker.drain()[1:]))
                    pool[slot] = worker.replace(context, limits)
                    finished.append(
                        (head[1], _failed("file-read-timeout", head, labels, seconds=limits.timeout_seconds))
                    )
            for path, outcome in finished:
                yield path, (outcome.assemble() if isinstance(outcome, Wire) else outcome)
    finally:
        for worker in pool:
            worker.stop()


# ----------------------------------------------------------------------------------------
# Worker processes
# ----------------------------------------------------------------------------------------

_Task = tuple[int, Path]


def _context() -> multiprocessing.context.BaseContext:
    # forkserver: cheap restarts after a crash and no fork of a threaded parent; Windows has only spawn.
    if "forkserver" in multiprocessing.get_all_start_methods():
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


class _Worker:
    """One worker process, the pipe to it, and the files sent to it (the first is being read)."""

    DEPTH = 2
    """Files in a worker's pipe at once: the one it reads and the next."""

    def __init__(self, context: multiprocessing.context.BaseContext, limits: Limits) -> None:
        parent, child = context.Pipe(duplex=True)
        self.connection: Connection = parent
        self.process: Any = context.Process(  # type: ignore[attr-defined]  # every concrete context has it
            target=_worker_main, args=(child, limits), daemon=True
        )
        self.process.start()
        child.close()
        self.limits = limits
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

    def receive(self) -> Wire | tuple[Finding, ...] | None:
        """The answer for the first file, or None when the worker died before answering."""
        try:
            result: Wire | tuple[Finding, ...] = self.connection.recv()
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

    def replace(self, context: multiprocessing.context.BaseContext, limits: Limits) -> _Worker:
        """Kill this worker and start a fresh one."""
        self.tasks.clear()
        self.stop(kill=True)
        return _Worker(context, limits)

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


def _worker_main(connection: Connection, limits: Limits) -> None:
    """Read files sent over ``connection`` until told to stop (None) or the pipe closes."""
    # Ctrl-C reaches the whole process group; the parent decides, the workers are killed by it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_memory(limits.memory_bytes)
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        path, name = message
        connection.send(read_guarded(Path(path), limits, name))


def _limit_memory(limit: int) -> None:
    """Cap the worker's address space, so a runaway allocation fails in this process only."""
    if sys.platform == "win32":  # no RLIMIT_AS on Windows; the time limit still applies
        return
    import resource

    with contextlib.suppress(ValueError, OSError):
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
