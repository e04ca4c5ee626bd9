"""A real ``xlplan serve`` on loopback, started as its own process, for the server tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

TOKEN = "test-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """One server process and a client that carries the token."""

    workspaces: Sequence[Path]
    token: str | None = TOKEN
    extra: Sequence[str] = ()
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None  # the server's output: a file, so that reading it never waits on a pipe

    @property
    def output(self) -> str:
        return (
            self.log.read_text(encoding="utf-8", errors="replace") if self.log and self.log.exists() else ""
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("XLPLAN_TOKEN", None)
        if self.token is not None:
            env["XLPLAN_TOKEN"] = self.token
        argv = [sys.executable, "-m", "xlplan", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        for workspace in self.workspaces:
            argv += ["-w", str(workspace)]
        self.process = subprocess.Popen([*argv, *self.extra], env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server stopped: {self.process.stdout.read() if self.process.stdout else ''}"
                )
            try:
                httpx.get(self.url + "/", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start in 30 s")

    def client(self, token: str | None = TOKEN, timeout: float = 120) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def kill(self) -> None:
        """kill -9: no clean-up of any kind."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
