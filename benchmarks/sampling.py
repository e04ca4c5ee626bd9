"""Running a benchmark phase in a fresh process and sampling it from outside.

Every benchmark here runs each phase in its own process, so that its peak memory is its
own, and samples that process and all its descendants every 20 ms from the benchmark's
process. The sampling must not run inside the measured process: xlplan forks its workers
only from a process with no other thread (as the command line is), and a sampling thread
there makes it fall back to a fork server, which is a different, slower path.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from dataclasses import dataclass
from typing import Any

INTERVAL = 0.02
"""Seconds between samples."""
PSS_EVERY = 10
"""Every how many samples PSS is taken: it walks every mapping, which costs this process a good
part of a core at 50 samples a second (RSS is cheap and taken every time)."""


@dataclass(frozen=True)
class Sampled:
    """What a phase's process printed last (JSON), and what sampling it saw."""

    result: dict[str, Any]
    wall_s: float  # from start to exit, as seen from outside
    peak_rss: int  # bytes, summed over the process tree (shared pages once per process)
    peak_pss: int  # bytes, summed proportional set size (shared pages once); RSS where there is no PSS
    cpu: dict[int, float]  # CPU seconds per process of the tree, from its last sample
    pid: int  # the phase's process

    @property
    def descendants_cpu(self) -> float:
        """CPU seconds of the phase's workers (every process of the tree but its root)."""
        return sum(seconds for pid, seconds in self.cpu.items() if pid != self.pid)


def own_cpu() -> float:
    """This process's own CPU seconds so far (what a phase reports before and after its clock)."""
    times = os.times()
    return times.user + times.system


def run_sampled(command: list[str]) -> Sampled:
    """Run ``command``, sampling its process tree until it exits; its last output line is JSON."""
    import psutil

    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    watched = psutil.Process(process.pid)
    peak = peak_pss = 0
    cpu: dict[int, float] = {}
    tick = 0
    start = time.perf_counter()
    while process.poll() is None:
        full = tick % PSS_EVERY == 0
        rss = pss = 0
        with contextlib.suppress(psutil.Error):
            for member in [watched, *watched.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # a worker may exit between listing and reading
                    memory = member.memory_full_info() if full else member.memory_info()
                    rss += memory.rss
                    pss += getattr(memory, "pss", memory.rss)  # PSS is Linux-only
                    times = member.cpu_times()
                    cpu[member.pid] = times.user + times.system
        peak = max(peak, rss)
        if full:
            peak_pss = max(peak_pss, pss)
        tick += 1
        time.sleep(INTERVAL)
    wall = time.perf_counter() - start
    stdout, _ = process.communicate()
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    result = json.loads(stdout.strip().splitlines()[-1])
    return Sampled(result, wall, peak, peak_pss, cpu, process.pid)
