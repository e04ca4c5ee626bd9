"""Reminders: drafts for overdue departments only, parsed back with the email package; delivery to a
real SMTP server (aiosmtpd) on loopback, with a refused recipient retried on the next run; ledger rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import json
import socket
import sqlite3
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.test_status import AFTER, BEFORE, dispatch, receive
from xlplan.cli import main
from xlplan.distribution.run import distribute
from xlplan.examples import Example
from xlplan.followup.remind import remind
from xlplan.followup.status import status
from xlplan.workspace.folder import Workspace, init_workspace


def _overdue_two(ws: Workspace) -> dict[str, Path]:
    """農業委員会, 市民課 and 文化課 are sent their workbooks (by the real distribution); 文化課 returns
    a file with errors; the others stay silent. Returns the workbooks sent, by department."""
    result = distribute(ws, only=["農業委員会", "市民課", "文化課"], workers=1)
    receive(ws, "文化課", "invalid", errors=1)
    return {item.department: item.workbook for item in result.departments if item.workbook}


def _parse(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_drafts_go_to_overdue_departments_only(workspace: Workspace) -> None:
    sent = _overdue_two(workspace)
    workbook = sent["農業委員会"]
    sent["市民課"].unlink()  # lost from the outbox: the reminder goes without it

    assert remind(workspace, today=BEFORE).reminders == ()  # before the deadline nobody is late
    result = remind(workspace, today=AFTER)
    assert [(r.department, r.outcome) for r in result.reminders] == [
        ("農業委員会", "drafted"),
        ("市民課", "drafted"),
    ]
    assert result.ok and result.findings == ()

    first = result.reminders[0]
    assert first.mail_path is not None and first.mail_path.parent == workspace.outbox / "2020-R1" / "督促"
    assert first.mail_path.name == f"督促_農業委員会_{dt.date.today():%Y%m%d}.eml"
    message = _parse(first.mail_path)
    assert message["To"] == "農業委員会 <nogyo@ogi.example>"
    assert (
        message["Subject"]
        == "【再送・5月31日（月）締切】第2次小城市男女共同参画プラン 令和2年度実績の照会（農業委員会）"
    )
    body = message.get_body(("plain",))
    assert body is not None and "まだ回答をいただいていません" in body.get_content()
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == [workbook.name]
    assert attachments[0].get_content() == workbook.read_bytes()  # the same workbook, byte for byte
    second = result.reminders[1]
    assert second.mail_path is not None and list(_parse(second.mail_path).iter_attachments()) == []

    with workspace.ledger() as connection:
        rows = connection.execute(
            "SELECT department, kind, version, status, mail_path, message_id, sha256 FROM dispatches "
            "WHERE kind = 'reminder' ORDER BY id"
        ).fetchall()
    assert [(r["department"], r["version"], r["status"]) for r in rows] == [
        ("農業委員会", 1, "drafted"),
        ("市民課", 1, "drafted"),
    ]
    assert rows[0]["message_id"] == message["Message-ID"] and rows[0]["sha256"] is not None

    # Status now counts the reminders; a second run the same day drafts nothing new.
    assert {d.department: d.reminders for d in status(workspace, today=AFTER).departments if d.reminders} == {
        "農業委員会": 1,
        "市民課": 1,
    }
    again = remind(workspace, today=AFTER)
    assert [r.outcome for r in again.reminders] == ["already_reminded", "already_reminded"]


def test_a_reminder_a_run_stopped_on_an_earlier_day_is_todays_once_made(workspace: Workspace) -> None:
    _overdue_two(workspace)
    remind(workspace, today=AFTER, only=["農業委員会"])
    # As a run stopped yesterday while writing the draft leaves its row (the draft on disk, whole or not).
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    with sqlite3.connect(workspace.ledger_path) as connection:
        connection.execute(
            "UPDATE dispatches SET status = 'writing', created_at = ? || substr(created_at, 11) "
            "WHERE kind = 'reminder'",
            (yesterday,),
        )
    again = remind(workspace, today=AFTER, only=["農業委員会"])
    assert [r.outcome for r in again.reminders] == ["drafted"]  # written again at its name
    third = remind(workspace, today=AFTER, only=["農業委員会"])
    assert [r.outcome for r in third.reminders] == ["already_reminded"]  # and it is today's: once a day
    assert len(list((workspace.outbox / "2020-R1" / "督促").glob("*.eml"))) == 1


def test_a_department_without_address_gets_a_warning(tmp_path: Path, example: Example) -> None:
    plan = example.plan
    departments = tuple(
        dataclasses.replace(d, email=None) if d.name == "市民課" else d for d in plan.departments
    )
    ws = init_workspace(tmp_path / "ws", dataclasses.replace(plan, departments=departments))
    _overdue_two(ws)
    result = remind(ws, today=AFTER)
    assert [(r.department, r.outcome) for r in result.reminders] == [
        ("農業委員会", "drafted"),
        ("市民課", "no_address"),
    ]
    assert [(f.code, f.severity) for f in result.findings] == [("remind-no-address", "warning")]
    assert "市民課" in result.findings[0].message() and result.ok


# --- SMTP: a real server on loopback -----------------------------------------------------


class _Inbox:
    """aiosmtpd handler that keeps what it receives and refuses one address."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Inbox, int]]:
    from aiosmtpd.controller import Controller

    # Controller.start() connects to its own port to check it is up, so port 0 cannot be used.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _smtp_workspace(tmp_path: Path, example: Example, port: int) -> Workspace:
    settings = dataclasses.replace(
        example.plan.settings,
        extra={"SMTPサーバー": "127.0.0.1", "SMTPポート": str(port), "SMTP暗号化": "なし"},
    )
    return init_workspace(tmp_path / "ws", dataclasses.replace(example.plan, settings=settings))


def test_send_delivers_and_a_refused_address_is_retried(
    tmp_path: Path, example: Example, smtp_server: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp_server
    ws = _smtp_workspace(tmp_path, example, port)
    _overdue_two(ws)
    inbox.refuse = {"shimin@ogi.example"}

    result = remind(ws, send=True, today=AFTER)
    assert [(r.department, r.outcome) for r in result.reminders] == [
        ("農業委員会", "sent"),
        ("市民課", "failed"),
    ]
    assert not result.ok
    assert [(f.code, f.params["department"]) for f in result.findings] == [("smtp-send-failed", "市民課")]
    assert "550" in (result.reminders[1].error or "")
    assert [m["To"] for m in inbox.messages] == ["農業委員会 <nogyo@ogi.example>"]
    delivered = inbox.messages[0].get_body(("plain",))
    assert delivered is not None and "至急ご回答ください" in delivered.get_content()

    # The next run sends only what failed; the department sent to today is not sent again.
    inbox.refuse = set()
    retry = remind(ws, send=True, today=AFTER)
    assert [(r.department, r.outcome) for r in retry.reminders] == [
        ("農業委員会", "already_reminded"),
        ("市民課", "sent"),
    ]
    assert [m["To"] for m in inbox.messages] == [
        "農業委員会 <nogyo@ogi.example>",
        "市民課 <shimin@ogi.example>",
    ]
    with ws.ledger() as connection:
        rows = connection.execute(
            "SELECT department, version, status, error, sent_at FROM dispatches WHERE kind = 'reminder' ORDER BY id"
        ).fetchall()
    assert [(r["department"], r["version"], r["status"]) for r in rows] == [
        ("農業委員会", 1, "sent"),
        ("市民課", 1, "failed"),
        ("市民課", 2, "sent"),
    ]
    assert rows[1]["error"] and rows[2]["sent_at"]


def test_send_without_smtp_settings_is_a_configuration_error_before_any_draft(workspace: Workspace) -> None:
    _overdue_two(workspace)
    assert main(["remind", "-w", str(workspace.root), "--send"]) == 2
    assert not (workspace.outbox / "2020-R1" / "督促").exists()


def test_cli_remind_prints_japanese_and_exits_by_delivery(
    tmp_path: Path, example: Example, smtp_server: tuple[_Inbox, int], capsys: pytest.CaptureFixture[str]
) -> None:
    inbox, port = smtp_server
    ws = _smtp_workspace(tmp_path, example, port)
    # The CLI uses the real date, which is after the example's 2021 deadline.
    assert dt.date.today() > AFTER
    assert main(["remind", "-w", str(ws.root)]) == 0
    assert "督促が必要な課はありません" in capsys.readouterr().out
    _overdue_two(ws)
    assert main(["remind", "-w", str(ws.root), "--send"]) == 0
    out = capsys.readouterr().out
    assert "農業委員会: 督促メールを送信しました" in out and len(inbox.messages) == 2
    inbox.refuse = {"somu@ogi.example"}
    dispatch(ws, "総務課")
    assert main(["remind", "-w", str(ws.root), "--send"]) == 1
    captured = capsys.readouterr()
    assert "総務課: 督促メールを送信できませんでした" in captured.out
    assert "農業委員会: 本日は督促済みです" in captured.out
    assert "[エラー]" in captured.err and "smtp-send-failed" in captured.err


def test_result_json(workspace: Workspace) -> None:
    _overdue_two(workspace)
    document = json.loads(json.dumps(remind(workspace, today=AFTER).to_dict(), ensure_ascii=False))
    assert document["deadline"] == "2021-05-31"
    assert [r["department"] for r in document["reminders"]] == ["農業委員会", "市民課"]


def test_distribute_and_remind_wait_for_another_run_and_send_nothing_meanwhile(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import run_lock_held_elsewhere
    from xlplan.errors import BusyError

    _overdue_two(workspace)
    before = sorted(path.name for path in workspace.outbox.rglob("*"))
    with run_lock_held_elsewhere(workspace, monkeypatch):  # a collection, or a second PC's 督促 button
        with pytest.raises(BusyError) as busy:
            remind(workspace, today=AFTER)
        assert "実行中" in busy.value.findings[0].message()
        with pytest.raises(BusyError):
            distribute(workspace, only=["総務課"])
    assert sorted(path.name for path in workspace.outbox.rglob("*")) == before
    assert [r.outcome for r in remind(workspace, today=AFTER).reminders] == ["drafted", "drafted"]


def test_a_department_renamed_after_the_workbooks_went_out_is_itself_and_is_not_reminded(
    workspace: Workspace, example: Example
) -> None:
    import openpyxl

    import xlplan
    from xlplan.demo.respond import fill_response

    sent = {item.department: item.workbook for item in distribute(workspace).departments}
    plan = workspace.load_plan()
    workbook = sent["文化課"]
    assert workbook is not None
    answers = [a for a in example.answers if plan.canonical_department(a.department) == "文化課"]
    fill_response(workbook, answers, workspace.inbox / workbook.name)
    book = openpyxl.load_workbook(workspace.master_path)  # April: 文化課 is now 文化振興課
    sheet = book["担当課"]
    header = [cell.value for cell in sheet[1]]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "文化課")
    sheet.cell(row, 1).value = "文化振興課"
    sheet.cell(row, header.index("旧名称") + 1).value = "文化課"
    book.save(workspace.master_path)

    (returned,) = xlplan.collect(workspace).files
    assert (returned.outcome, returned.department) == (
        "accepted",
        "文化振興課",
    )  # signed for 文化課: the same
    shown = {item.department: item.state for item in status(workspace, today=AFTER).departments}
    assert shown["文化振興課"] == "accepted" and "文化課" not in shown
    reminded = [r.department for r in remind(workspace, today=AFTER).reminders]
    assert "文化振興課" not in reminded and "文化課" not in reminded and reminded  # the silent ones only


def test_a_draft_made_today_is_the_reminder_sent_today(
    tmp_path: Path, example: Example, smtp_server: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp_server
    ws = _smtp_workspace(tmp_path, example, port)
    _overdue_two(ws)
    drafted = remind(ws, today=AFTER)  # staff look at the drafts first …
    sent = remind(ws, send=True, today=AFTER)  # … then send them
    assert [r.outcome for r in sent.reminders] == ["sent", "sent"]
    assert [r.mail_path for r in sent.reminders] == [r.mail_path for r in drafted.reminders]  # no "(2)"
    assert [str(m["Message-ID"]) for m in inbox.messages] == [r.message_id for r in drafted.reminders]
    assert not list((ws.outbox / "2020-R1" / "督促").glob("*(2)*"))
    shown = {item.department: item.reminders for item in status(ws, today=AFTER).departments}
    assert shown["農業委員会"] == shown["市民課"] == 1  # one reminder each, not two


def test_a_workbook_sent_before_a_merger_cannot_replace_the_merged_departments_answers(
    workspace: Workspace, example: Example
) -> None:
    import openpyxl

    import xlplan
    from xlplan.demo.respond import fill_response

    sent = {item.department: item.workbook for item in distribute(workspace).departments}
    plan = workspace.load_plan()

    def answer(department: str, name: str) -> None:
        workbook = sent[department]
        assert workbook is not None
        own = [a for a in example.answers if plan.canonical_department(a.department) == department]
        fill_response(workbook, own, workspace.inbox / name)

    answer("定住推進課", "定住推進課.xlsx")
    assert [item.outcome for item in xlplan.collect(workspace).files] == ["accepted"]
    before = sorted(
        (a.project_no, a.value.display()) for a in workspace.accepted_answers(workspace.load_plan())
    )
    answer("文化課", "文化課_古い.xlsx")
    book = openpyxl.load_workbook(workspace.master_path)  # 文化課 merges into 定住推進課
    sheet = book["担当課"]
    header = [cell.value for cell in sheet[1]]
    rows = {sheet.cell(r, 1).value: r for r in range(2, sheet.max_row + 1)}
    sheet.cell(rows["定住推進課"], header.index("旧名称") + 1).value = "文化課"
    sheet.delete_rows(rows["文化課"])
    book.save(workspace.master_path)

    (late,) = xlplan.collect(workspace).files
    assert late.outcome == "invalid" and "manifest-rows-outdated" in [f.code for f in late.findings]
    after = sorted(
        (a.project_no, a.value.display()) for a in workspace.accepted_answers(workspace.load_plan())
    )
    assert after == before  # 定住推進課's own answers stand
