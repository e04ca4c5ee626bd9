"""The workspace's run lock: one run that changes the ledger and the master at a time.

A scheduled collect on the server and a click on a button may start together; the second waits
for the first, and gives up with ``collect-busy`` rather than queueing for ever.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import filelock

from xlplan.errors import BusyError
from xlplan.findings import Finding
from xlplan.workspace.folder import Workspace

LOCK_NAME = "collect.lock"
LOCK_TIMEOUT = 300.0
"""Seconds to wait for another run of the same workspace (a thousand files take minutes)."""


@contextmanager
def run_lock(workspace: Workspace, timeout: float | None = None) -> Iterator[None]:
    """Hold the workspace's run lock for the ``with`` block.

    Raises:
        BusyError: another run did not finish within ``timeout`` seconds (default :data:`LOCK_TIMEOUT`).
    """
    workspace.key_path.parent.mkdir(parents=True, exist_ok=True)
    wait = LOCK_TIMEOUT if timeout is None else timeout
    lock = filelock.FileLock(str(workspace.key_path.parent / LOCK_NAME), timeout=wait)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise BusyError([Finding("collect-busy", {"lock": lock.lock_file})]) from exc
    try:
        yield
    finally:
        lock.release()
