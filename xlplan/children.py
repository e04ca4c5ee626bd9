"""Child processes that die with their parent: no reader or LibreOffice outlives a killed run.

On Linux a child can ask the kernel for a signal when its parent dies
(``prctl(PR_SET_PDEATHSIG)``); :func:`die_with_parent` does so in the child. A program
started with :func:`watched_command` runs under a small watchdog that gets that signal
and kills the program's whole process group — LibreOffice starts a second process
(``soffice.bin``) that a signal to the first would miss. Elsewhere these are no-ops:
the next run finds and ends what a killed one left (see :mod:`xlplan.xlsx.pdf`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import multiprocessing.context
import signal
import sys
import threading

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """In a child process: have the kernel send ``sig`` when the parent dies. True where it could."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


_WATCHDOG = r"""
import os, signal, subprocess, sys
sys.path[:0] = []
import ctypes, ctypes.util
try:
    ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").prctl(1, int(signal.SIGTERM), 0, 0, 0)
except OSError:
    pass
if os.getppid() == 1:
    sys.exit(70)
child = subprocess.Popen(sys.argv[1:], start_new_session=True)
def end(*_):
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except OSError:
        pass
    sys.exit(70)
signal.signal(signal.SIGTERM, end)
signal.signal(signal.SIGINT, end)
code = child.wait()
try:
    os.killpg(child.pid, signal.SIGKILL)
except OSError:
    pass
sys.exit(code)
"""


def watched_command(command: list[str]) -> list[str]:
    """``command`` wrapped in a watchdog that ends its whole process group when this process dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, "-c", _WATCHDOG, *command]


def pool_context() -> multiprocessing.context.BaseContext:
    """The way to start worker processes from here: fork while this process has one thread, else
    forkserver (or spawn where there is none).

    Forking a process that runs other threads — the server runs each request in a worker thread —
    copies locks another thread holds, and a child can wait on them for ever.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
