"""kill -9 anywhere loses nothing and sends nothing twice: collect, distribute --send and consolidate
are killed at many moments (real processes, real SIGKILL), run again, and compared with an
uninterrupted run.

After each round of kills and one more run that is allowed to finish:

- collect: every inbox file is archived and checked (no receipt left unchecked), the accepted
  returns are those of an uninterrupted run, the ledger passes SQLite's integrity check;
- distribute --send: no department receives its request twice (a real SMTP server on loopback
  counts), every department is either sent to or reported as "outcome unknown", and no
  workbook was written twice beside itself;
- collect --send with returns that have errors: each department whose latest return has
  errors receives its 差し戻し once, or it is reported as "outcome unknown"; none is left owed;
- consolidate: the previous report is intact (whole and readable) whenever a run was killed,
  and no LibreOffice process outlives a killed run.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import xlplan
from tests.conftest import calamine_rows, soffice_path
from xlplan.demo.respond import fill_response
from xlplan.examples import Example
from xlplan.workspace.folder import Workspace, init_workspace

KILLS = int(os.environ.get("XLPLAN_CRASH_KILLS", "8"))  # more for a longer soak: XLPLAN_CRASH_KILLS=20
SEED = 20261202  # the moments are random, and the same on every run of the tests


def _run(
    args: list[str], *, kill_after: float | None = None, env: dict[str, str] | None = None
) -> int | None:
    """``xlplan ARGS`` in a child process; with ``kill_after``, SIGKILLed after that many seconds."""
    process = subprocess.Popen(
        [sys.executable, "-m", "xlplan.cli", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})},
    )  # fmt: skip
    if kill_after is None:
        return process.wait(timeout=600)
    try:
        return process.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return None


def _integrity(workspace: Workspace) -> str:
    with sqlite3.connect(workspace.ledger_path) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


def _no_child_left(word: str) -> bool:
    """True when no process whose command line holds ``word`` runs (after a moment to die)."""
    for _ in range(50):
        found = subprocess.run(["pgrep", "-f", word], capture_output=True, text=True).stdout.split()
        if not [pid for pid in found if int(pid) != os.getpid()]:
            return True
        time.sleep(0.1)
    return False


# --- collect ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory, example: Example) -> tuple[Path, list[Path]]:
    """A distributed workspace and 60 returns for it (each department's, and copies with other answers)."""
    root = tmp_path_factory.mktemp("crash") / "ws"
    workspace = init_workspace(root, example.plan)
    sent = {
        item.department: item.workbook for item in xlplan.distribute(workspace).departments if item.workbook
    }
    files: list[Path] = []
    folder = root.parent / "returns"
    folder.mkdir()
    for round_number in range(4):
        for department, workbook in sorted(sent.items()):
            answers = [
                a for a in example.answers if example.plan.canonical_department(a.department) == department
            ]
            answers = [a.__class__(a.project_no, a.entry, a.department, a.value, f"{a.narrative or ''} 版{round_number}")
                       for a in answers]  # fmt: skip
            path = folder / f"{round_number}-{department}.xlsx"
            fill_response(workbook, answers, path)
            files.append(path)
    return root, files


def _fresh(template: Path, tmp_path: Path, files: list[Path]) -> Workspace:
    root = tmp_path / "ws"
    shutil.copytree(template, root)
    for path in files:
        shutil.copy(path, root / "inbox" / path.name)
    return Workspace(root)


def _accepted(workspace: Workspace) -> set[tuple[str, str]]:
    with sqlite3.connect(workspace.ledger_path) as connection:
        rows = connection.execute(
            "SELECT c.department, r.sha256 FROM acceptances c JOIN receipts r ON r.id = c.receipt_id "
            "WHERE c.superseded_by IS NULL"
        ).fetchall()
    return {(str(department), str(sha)) for department, sha in rows}


def test_collect_killed_anywhere_loses_nothing(filled: tuple[Path, list[Path]], tmp_path: Path) -> None:
    template, files = filled
    calm = _fresh(template, tmp_path / "calm", files)
    assert _run(["collect", "-w", str(calm.root)]) in (0, 1)
    expected = _accepted(calm)
    assert len(expected) == 15  # each department's last return

    killed = _fresh(template, tmp_path / "killed", files)
    moments = random.Random(SEED)
    started = time.monotonic()
    for _ in range(KILLS):
        _run(["collect", "-w", str(killed.root)], kill_after=moments.uniform(0.3, 3.0))
    assert _no_child_left(str(killed.root))  # no reader outlives its killed parent
    assert _run(["collect", "-w", str(killed.root)]) in (0, 1)
    assert time.monotonic() - started < 300

    assert _integrity(killed) == "ok"
    with sqlite3.connect(killed.ledger_path) as connection:
        left = connection.execute("SELECT COUNT(*) FROM receipts WHERE status = 'archived'").fetchone()[0]
        taken = {row[0] for row in connection.execute("SELECT original_name FROM receipts")}
    assert left == 0  # every file taken in was checked
    assert {path.name for path in files} <= taken  # every inbox file was taken in
    assert _accepted(killed) == expected  # the same returns accepted as without the kills


# --- distribute --send -------------------------------------------------------------------------


class _SlowMailbox:
    """An SMTP server on loopback that takes a while per message and counts who received what."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        import asyncio

        await asyncio.sleep(self.delay)
        with self.lock:
            for address in envelope.rcpt_tos:  # type: ignore[attr-defined]
                self.received[address] += 1
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[_SlowMailbox, int]]:
    from aiosmtpd.controller import Controller

    from tests.test_mail import _free_port

    handler = _SlowMailbox(delay=0.15)
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _smtp_workspace(tmp_path: Path, example: Example, port: int) -> Workspace:
    import openpyxl

    workspace = init_workspace(tmp_path / "ws", example.plan)
    book = openpyxl.load_workbook(workspace.master_path)
    settings = book["設定"]
    row = settings.max_row + 1
    for offset, (key, value) in enumerate(
        (("SMTPサーバー", "127.0.0.1"), ("SMTPポート", str(port)), ("SMTP暗号化", "なし"))
    ):
        settings.cell(row=row + offset, column=1, value=key)
        settings.cell(row=row + offset, column=2, value=value)
    book.save(workspace.master_path)
    return workspace


def test_distribute_send_killed_anywhere_sends_nothing_twice(
    example: Example, tmp_path: Path, mailbox: tuple[_SlowMailbox, int]
) -> None:
    handler, port = mailbox
    workspace = _smtp_workspace(tmp_path, example, port)
    moments = random.Random(SEED + 1)
    for _ in range(KILLS):
        _run(["distribute", "-w", str(workspace.root), "--send"], kill_after=moments.uniform(0.2, 3.0))
    _run(["distribute", "-w", str(workspace.root), "--send"])
    _run(["distribute", "-w", str(workspace.root), "--send"])  # and a run with nothing left to do

    assert _integrity(workspace) == "ok"
    assert max(handler.received.values()) == 1, handler.received  # nobody received a request twice
    addresses = {d.email for d in example.plan.departments if d.email}
    with sqlite3.connect(workspace.ledger_path) as connection:
        final = dict(
            connection.execute(
                "SELECT department, status FROM dispatches WHERE kind = 'request' AND status IN ('sent', 'unknown')"
            ).fetchall()
        )
    with_address = {d.name for d in example.plan.departments if d.email}
    assert set(final) == with_address  # each was sent, or is reported for the office to decide
    assert {a for a in addresses if handler.received[a]} >= {
        d.email for d in example.plan.departments if final.get(d.name) == "sent"
    }
    # No workbook was written twice beside itself: one version per department, no （2） copies.
    names = [path.name for path in (workspace.outbox).rglob("*.xlsx")]
    assert not [name for name in names if "（2）" in name], names
    assert len(names) == len({d.name for d in example.plan.departments})


def _typed_into_first_row(path: Path, value: str) -> None:
    """Type ``value`` into the 今年度 value cell of the workbook's first row, as a department would."""
    import openpyxl

    from xlplan.form import layout, manifest

    book = openpyxl.load_workbook(path)
    chunks = [str(r[0]) for r in book[layout.MANIFEST_SHEET].iter_rows(max_col=1, values_only=True) if r[0]]
    issued = manifest.loads(chunks)
    column = issued.columns.index(layout.CURRENT_VALUE) + 1
    book[layout.RESPONSE_SHEET].cell(issued.rows[0].row, column).value = value
    book.save(path)


def _address(example: Example, department: str) -> str | None:
    return example.plan.department(department).email


def test_collect_send_killed_anywhere_sends_each_feedback_once(
    example: Example, tmp_path: Path, mailbox: tuple[_SlowMailbox, int]
) -> None:
    """Every department whose latest return has errors gets its 差し戻し exactly once (or an unknown
    outcome for the office), however often collect --send is killed in between."""
    handler, port = mailbox
    workspace = _smtp_workspace(tmp_path, example, port)
    sent = {
        item.department: item.workbook for item in xlplan.distribute(workspace).departments if item.workbook
    }
    # Most departments' second return has an error: the 差し戻し are most of each run, where the kills land.
    wrong = sorted(sent)[3:]
    for round_number in range(2):
        for department, workbook in sorted(sent.items()):
            answers = [
                a for a in example.answers if example.plan.canonical_department(a.department) == department
            ]
            path = workspace.inbox / f"{round_number}-{department}.xlsx"
            fill_response(workbook, answers, path)
            if round_number == 1 and department in wrong:
                _typed_into_first_row(path, "たくさん")
    # An uninterrupted run of a copy says how long one takes: the kills land within that time.
    calm = tmp_path / "calm"
    shutil.copytree(workspace.root, calm)
    started = time.monotonic()
    _run(["collect", "-w", str(calm), "--send"])
    duration = time.monotonic() - started
    assert sum(handler.received.values()) == len([d for d in wrong if _address(example, d)])
    handler.received.clear()
    moments = random.Random(SEED + 2)
    for _ in range(KILLS):
        _run(
            ["collect", "-w", str(workspace.root), "--send"], kill_after=moments.uniform(0.3, 1.0) * duration
        )
    _run(["collect", "-w", str(workspace.root), "--send"])
    _run(["collect", "-w", str(workspace.root), "--send"])  # and a run with nothing left to do

    assert _integrity(workspace) == "ok"
    assert not handler.received or max(handler.received.values()) == 1, handler.received
    with sqlite3.connect(workspace.ledger_path) as connection:
        latest = dict(
            connection.execute(
                "SELECT department, status FROM receipts WHERE department IS NOT NULL ORDER BY id"
            ).fetchall()
        )
        final = dict(
            connection.execute(
                "SELECT department, status FROM dispatches WHERE kind = 'feedback' AND status IN ('sent', 'unknown')"
            ).fetchall()
        )
        owed = connection.execute("SELECT COUNT(*) FROM feedback_owed WHERE state = 'due'").fetchone()[0]
    assert {department for department, status in latest.items() if status == "invalid"} == set(wrong)
    email = {d.name: _address(example, d.name) for d in example.plan.departments}
    # Each was sent its 差し戻し, or is reported for the office to decide (those with an address).
    assert set(final) == {department for department in wrong if email[department]}
    assert {department for department in wrong if handler.received[email[department]]} >= {
        department for department, status in final.items() if status == "sent"
    }
    assert owed == 0


# --- consolidate ----------------------------------------------------------------------------


@pytest.mark.skipif(soffice_path() is None, reason="the PDF needs LibreOffice (.ci/run installs it)")
def test_consolidate_killed_anywhere_leaves_the_previous_report_whole(
    example: Example, tmp_path: Path
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    assert _run(["consolidate", "-w", str(workspace.root), "--pdf", "--csv"]) in (0, 1)
    [table] = [path for path in workspace.reports.glob("*.xlsx") if not path.name.startswith(".")]
    before = table.read_bytes()
    moments = random.Random(SEED + 2)
    for _ in range(KILLS // 2):
        _run(
            ["consolidate", "-w", str(workspace.root), "--pdf", "--csv"], kill_after=moments.uniform(0.5, 6.0)
        )
        # Whatever moment it died at, the published table is a whole workbook: the old one or a new one.
        assert calamine_rows(table, "基本目標Ⅰ")[0][0]
        assert _no_child_left(str(workspace.root))  # LibreOffice died with it
    assert _run(["consolidate", "-w", str(workspace.root), "--pdf", "--csv"]) in (0, 1)
    assert calamine_rows(table, "基本目標Ⅰ") == calamine_rows_of_bytes(before, tmp_path)


def calamine_rows_of_bytes(data: bytes, folder: Path) -> list[list[object]]:
    copy = folder / "before.xlsx"
    copy.write_bytes(data)
    return calamine_rows(copy, "基本目標Ⅰ")


def test_the_record_of_a_message_being_sent_is_synced_to_disk_before_it_goes(
    tmp_path: Path, example: Example
) -> None:
    """A power cut cannot be made here; what it would undo can be checked: the commit that says a
    message is being handed to the server is made with synchronous=FULL (the rest stay NORMAL)."""
    from xlplan.workspace import ledger
    from xlplan.workspace.folder import init_workspace

    workspace = init_workspace(tmp_path / "ws", example.plan)
    xlplan.distribute(workspace, only=["文化課"])
    connection = workspace.ledger()
    try:
        (row,) = ledger.dispatches(
            connection, ledger.current_round(connection, example.plan.settings), "request"
        )
        statements: list[str] = []
        connection.set_trace_callback(statements.append)
        ledger.mark_sending(connection, int(row["id"]))
        connection.set_trace_callback(None)
        level = int(connection.execute("PRAGMA synchronous").fetchone()[0])
    finally:
        connection.close()
    update = next(
        i for i, text in enumerate(statements) if text.startswith("UPDATE dispatches SET status = 'sending'")
    )
    assert "PRAGMA synchronous = FULL" in statements[:update]
    assert statements[-1] == "PRAGMA synchronous = NORMAL" and level == 1  # back to NORMAL after
