"""LibreOffice as a real second client: departments that fill their workbooks by typing.

:class:`Office` starts one LibreOffice headless with a private profile (Japanese
locale, as on a city PC) that listens on a named pipe, and drives it through the UNO
bridge: :mod:`tests.office_client` runs under the system Python, which has Debian's
``python3-uno``. A department's work is one :meth:`Office.fill`: open the workbook,
type each value as a person types it (the cell's input parsing and the sheet's
protection apply), save as .xlsx. :meth:`Office.look` reports what LibreOffice
displays in a workbook, sheet by sheet, and exports it as PDF on request.

Where LibreOffice or python3-uno is missing the tests that need it skip, except under
``XLPLAN_REQUIRE_OFFICE=1`` (set by ``.ci/run``), where they fail: CI must not pass
without the client it claims to test with.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CLIENT = Path(__file__).with_name("office_client.py")
JOB_TIMEOUT = 180  # seconds for one job; a first start of LibreOffice takes a few

_JAPANESE_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">
<value>ja-JP</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse">
<value>false</value></prop></item>
</oor:items>
"""


def uno_python() -> str | None:
    """A Python that can import LibreOffice's ``uno`` module, or None."""
    for candidate in ("/usr/bin/python3", shutil.which("python3")):
        if candidate and Path(candidate).exists():
            probe = subprocess.run([candidate, "-c", "import uno"], capture_output=True, timeout=60)
            if probe.returncode == 0:
                return candidate
    return None


def unavailable(reason: str) -> None:
    """Skip, or fail where CI requires the real client."""
    if os.environ.get("XLPLAN_REQUIRE_OFFICE") == "1":
        pytest.fail(f"{reason} (XLPLAN_REQUIRE_OFFICE=1: .ci/run installs it)")
    pytest.skip(reason)


@dataclass(frozen=True)
class Typed:
    """One cell typed: what was typed, what the cell then showed, whether protection refused it."""

    sheet: str
    cell: str
    typed: str
    shown: str
    refused: bool
    number_format: str


@dataclass(frozen=True)
class Look:
    """A workbook as LibreOffice shows it."""

    typed: tuple[Typed, ...]
    visibility: dict[str, str]  # sheet name → "visible" | "hidden"
    protected: dict[str, bool]  # sheet name → sheet protection on
    cells: dict[str, list[list[str]]]  # sheet name → displayed text of its used area
    structure_protected: bool
    heights: dict[str, list[tuple[int, float, float]]]  # sheet → (row, stored mm, needed mm)


class Office:
    """One LibreOffice headless, listening on a pipe, for the tests of one module."""

    def __init__(self, binary: str, python: str, profile: Path) -> None:
        self.python = python
        self.binary, self.profile = binary, profile
        (profile / "user").mkdir(parents=True, exist_ok=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_JAPANESE_PROFILE, encoding="utf-8")
        self._start()

    def _start(self) -> None:
        binary, profile = self.binary, self.profile
        # What soffice prints (a fatal signal's report, say) is kept for a failing job's message.
        self._log_path = profile / f"soffice-{uuid.uuid4().hex[:8]}.log"
        self._log = self._log_path.open("wb")
        self.pipe = f"xlplan-tests-{uuid.uuid4().hex[:12]}"
        self._process = subprocess.Popen(
            [
                binary,
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--invisible",
                "--norestore",
                "--nologo",
                "--nodefault",
                f"--accept=pipe,name={self.pipe};urp;StarOffice.ComponentContext",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HOME": str(profile), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
            start_new_session=True,  # its own process group: stop() ends oosplash and soffice.bin
        )

    def _log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        text = self._log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(["soffice printed:", *text[-lines:]]) if text else "soffice printed nothing."

    def stop(self) -> None:
        """End LibreOffice and every process it started."""
        if self._process.poll() is None:
            try:
                os.killpg(self._process.pid, signal.SIGTERM)
                self._process.wait(timeout=30)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(timeout=30)
        self._log.close()

    def run(self, job: Mapping[str, Any]) -> dict[str, Any]:
        """Run one job of :mod:`tests.office_client` and return its JSON answer.

        A LibreOffice that dies under a job fails the test, with the end of what it printed: a
        workbook that crashes LibreOffice would crash it on a department's PC too.
        """
        if self._process.poll() is not None:
            # an earlier test's job killed it; that test failed already, this one starts afresh
            self.stop()
            self._start()
        return self._run(job)

    def _run(self, job: Mapping[str, Any]) -> dict[str, Any]:
        done = subprocess.run(
            [self.python, str(CLIENT)],
            input=json.dumps({"pipe": self.pipe, "timeout": JOB_TIMEOUT, **job}, ensure_ascii=False),
            capture_output=True,
            text=True,
            timeout=JOB_TIMEOUT + 60,
        )
        if done.returncode != 0:
            time.sleep(0.5)  # let a dying soffice finish writing its report
            died = (
                ""
                if self._process.poll() is None
                else f"LibreOffice itself exited ({self._process.poll()}).\n"
            )
            raise RuntimeError(
                f"the LibreOffice client failed (exit {done.returncode}):\n{done.stderr}\n{died}{self._log_tail()}"
            )
        answer: dict[str, Any] = json.loads(done.stdout)
        return answer

    def fill(
        self,
        source: Path,
        typing: Sequence[tuple[str, str, str]],
        target: Path,
        *,
        read: Sequence[str] = (),
    ) -> Look:
        """Open ``source``, type ``(sheet, cell, text)`` in order, save as .xlsx at ``target``."""
        target.parent.mkdir(parents=True, exist_ok=True)
        answer = self.run(
            {
                "open": str(source),
                "type": [list(item) for item in typing],
                "save": str(target),
                "read": list(read),
            }
        )
        return _look(answer)

    def call(
        self, source: Path, calls: Sequence[tuple[str, Sequence[Any]]], *, read: Sequence[str] = ()
    ) -> tuple[list[Any], Look]:
        """Open ``source`` with its macros allowed, call each ``("Module.Function", args)`` in order.

        Returns the functions' results and what the sheets in ``read`` then display (not saved).
        """
        answer = self.run(
            {"open": str(source), "call": [[macro, list(args)] for macro, args in calls], "read": list(read)}
        )
        return list(answer["called"]), _look(answer)

    def look(
        self, source: Path, *, read: Sequence[str] = (), pdf: Path | None = None, heights: Sequence[str] = ()
    ) -> Look:
        """What LibreOffice displays in ``source`` (sheets in ``read``); with ``pdf``, export it there.

        ``heights`` names sheets whose rows are measured: as stored, and as LibreOffice needs them.
        """
        job: dict[str, Any] = {"open": str(source), "read": list(read), "heights": list(heights)}
        if pdf is not None:
            pdf.parent.mkdir(parents=True, exist_ok=True)
            job["pdf"] = str(pdf)
        return _look(self.run(job))


def _look(answer: Mapping[str, Any]) -> Look:
    sheets: dict[str, Any] = answer["sheets"]
    return Look(
        typed=tuple(Typed(**item) for item in answer["typed"]),
        visibility={name: sheet["visibility"] for name, sheet in sheets.items()},
        protected={name: sheet["protected"] for name, sheet in sheets.items()},
        cells={name: sheet["cells"] for name, sheet in sheets.items() if sheet["cells"] is not None},
        structure_protected=answer["structure_protected"],
        heights={
            name: [(int(row), stored, needed) for row, stored, needed in sheet["heights"]]
            for name, sheet in sheets.items()
            if sheet.get("heights") is not None
        },
    )


def office_session(profile: Path) -> Iterator[Office]:
    """The body of the `office` fixture: start LibreOffice, yield it, stop it."""
    binary = shutil.which("soffice") or shutil.which("libreoffice")
    if binary is None:
        unavailable("LibreOffice (soffice) is not installed")
        return
    python = uno_python()
    if python is None:
        unavailable("LibreOffice's Python bridge (python3-uno) is not installed")
        return
    # Debian's libreoffice-calc-nogui converts files but lacks Calc's dialogs and bars: the first
    # typed entry makes Calc build its input line from this file, and without it soffice aborts.
    program = Path(os.path.realpath(binary)).parent
    if not (program.parent / "share/config/soffice.cfg/modules/scalc/ui/posbox.ui").exists():
        unavailable(
            "LibreOffice Calc has no user-interface files (libreoffice-calc-nogui?): install libreoffice-calc"
        )
        return
    office = Office(binary, python, profile)
    try:
        yield office
    finally:
        office.stop()
