"""A 差し戻し is never lost to a stopped run, and never sent twice.

Collection commits its verdicts, then makes a 差し戻し票 (and its mail) for each department whose
latest return has errors. These tests stop a real collection at the moments in between — after
the verdicts, after the draft, while the mail is handed over — by raising an exception that no
code of xlplan's catches (as a kill would: only ``finally`` blocks run), then run collection again
and check what the departments got, on a real SMTP server on loopback and in the real ledger.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import xlplan.collection.run as collection_run
import xlplan.followup.feedback as feedback_module
from tests.serving import free_port
from tests.test_collect import _edit_value, _readings_stop, _returned, _sent
from tests.test_remind import _Inbox, _smtp_workspace
from tests.test_remind import smtp_server as smtp_server  # the fixture, re-exported for this module
from xlplan.collection.run import collect
from xlplan.distribution.run import distribute
from xlplan.examples import Example
from xlplan.followup.remind import remind
from xlplan.followup.status import status
from xlplan.form import layout
from xlplan.workspace.folder import Workspace

A = "文化課"
B = "総務課"


class _Stopped(BaseException):
    """Stands for a kill: not an Exception, so nothing in xlplan handles it."""


def _stop_at_first_call(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
    """Make the first call of ``module.name`` stop the run (later calls go through)."""
    original: Callable[..., Any] = getattr(module, name)
    calls = {"n": 0}

    def stopping(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise _Stopped
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, stopping)


def _stopped_before_feedback(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A collection stopped after its verdicts, before its first 差し戻し票 (the next runs go through)."""
    _stop_at_first_call(monkeypatch, collection_run, "write_feedback")
    with pytest.raises(_Stopped):
        collect(workspace)
    monkeypatch.undo()


def _feedback_rows(workspace: Workspace) -> list[tuple[str, int, str]]:
    with sqlite3.connect(workspace.ledger_path) as connection:
        rows = connection.execute(
            "SELECT department, version, status FROM dispatches WHERE kind = 'feedback' ORDER BY id"
        ).fetchall()
    return [(str(d), int(v), str(s)) for d, v, s in rows]


def _owed_states(workspace: Workspace) -> dict[str, str]:
    with sqlite3.connect(workspace.ledger_path) as connection:
        return dict(connection.execute("SELECT department, state FROM feedback_owed ORDER BY receipt_id"))


def _two_bad_returns(workspace: Workspace, example: Example) -> dict[str, Path]:
    """Distribute, and put a return with an error from each of A and B in the inbox; the workbooks sent."""
    sent = _sent(workspace)
    _edit_value(_returned(workspace, example, sent, A, "文化課.xlsx"), 3, "たくさん")
    _edit_value(_returned(workspace, example, sent, B, "総務課.xlsx"), 4, "3件")
    return sent


def test_a_run_stopped_after_its_verdicts_leaves_the_feedback_to_the_next(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_bad_returns(workspace, example)
    _stopped_before_feedback(workspace, monkeypatch)
    assert not list(workspace.feedback.glob("*.xlsx"))  # stopped before any 差し戻し票

    again = collect(workspace)  # the next run: nothing new in the inbox
    assert again.files == ()  # nothing is taken in or checked twice
    assert sorted(item.department for item in again.feedback) == sorted([A, B])
    for item in again.feedback:
        sheet = openpyxl.load_workbook(item.path)[layout.RESPONSE_SHEET]
        typed = [cell.value for row in sheet.iter_rows() for cell in row]
        assert ("たくさん" if item.department == A else "3件") in typed  # the department's own answer, marked
        assert item.errors >= 1
    assert sorted(_feedback_rows(workspace)) == sorted([(A, 1, "drafted"), (B, 1, "drafted")])
    assert _owed_states(workspace) == {A: "done", B: "done"}
    assert collect(workspace).feedback == ()  # once made, never again


def test_an_owed_feedback_whose_reading_stops_stays_owed(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_bad_returns(workspace, example)
    _stopped_before_feedback(workspace, monkeypatch)
    hurried = collect(workspace, limits=_readings_stop(monkeypatch))  # the archived copies cannot be read now
    monkeypatch.undo()
    assert hurried.feedback == ()
    assert {f.code for f in hurried.findings} >= {"feedback-pending"}
    assert _owed_states(workspace) == {A: "due", B: "due"}  # still owed, not forgotten
    assert sorted(item.department for item in collect(workspace).feedback) == sorted([A, B])


def test_a_corrected_return_before_the_next_run_needs_no_feedback(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = _two_bad_returns(workspace, example)
    _stopped_before_feedback(workspace, monkeypatch)
    _returned(workspace, example, sent, A, "文化課_訂正.xlsx")  # A corrected its return in the meantime

    again = collect(workspace)
    assert [(item.name, item.outcome) for item in again.files] == [("文化課_訂正.xlsx", "accepted")]
    assert [item.department for item in again.feedback] == [B]  # A's earlier return is owed nothing now
    assert _owed_states(workspace) == {A: "superseded", B: "done"}


def test_a_run_stopped_after_the_draft_sends_it_once_next_time(
    tmp_path: Path, example: Example, smtp_server: tuple[_Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port = smtp_server
    workspace = _smtp_workspace(tmp_path, example, port)
    _two_bad_returns(workspace, example)
    _stop_at_first_call(monkeypatch, feedback_module, "send_messages")  # the draft is written and recorded
    with pytest.raises(_Stopped):
        collect(workspace, send=True)
    assert inbox.messages == []
    first = _feedback_rows(workspace)
    assert [status for _, _, status in first] == ["drafted"]
    [(stopped_department, _, _)] = first

    again = collect(workspace, send=True)
    assert sorted(item.outcome for item in again.feedback) == ["sent", "sent"]
    received = [str(message["To"]) for message in inbox.messages]
    assert len(received) == len(set(received)) == 2  # each department once
    # The stopped one was made again in its place: the same version, no copy beside it.
    assert sorted(_feedback_rows(workspace)) == sorted([(A, 1, "sent"), (B, 1, "sent")])
    names = sorted(path.name for path in workspace.feedback.iterdir())
    assert len([name for name in names if name.endswith(".xlsx")]) == 2, names
    assert len([name for name in names if name.endswith(".eml")]) == 2, names
    assert stopped_department in {A, B}
    assert collect(workspace, send=True).feedback == () and len(inbox.messages) == 2


def test_a_run_stopped_while_sending_never_sends_again(
    tmp_path: Path, example: Example, smtp_server: tuple[_Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port = smtp_server
    workspace = _smtp_workspace(tmp_path, example, port)
    sent = _sent(workspace)
    _edit_value(_returned(workspace, example, sent, A, "文化課.xlsx"), 3, "たくさん")
    original = feedback_module.send_messages

    def handed_over(smtp: Any, messages: Any, password: Any, *, before: Any, after: Any) -> Any:
        before(0)  # "being sent" is recorded; the message may have reached the server
        raise _Stopped

    monkeypatch.setattr(feedback_module, "send_messages", handed_over)
    with pytest.raises(_Stopped):
        collect(workspace, send=True)
    monkeypatch.setattr(feedback_module, "send_messages", original)
    # Other commands leave it alone: for all they know, a collection is sending it at this moment.
    distribute(workspace)
    remind(workspace)
    assert _feedback_rows(workspace) == [(A, 1, "sending")]

    again = collect(workspace, send=True)
    assert again.feedback == () and inbox.messages == []  # the office decides, as for any unknown outcome
    assert [(f.code, f.params["department"]) for f in again.findings] == [("send-outcome-unknown", A)]
    assert _feedback_rows(workspace) == [(A, 1, "unknown")]
    assert _owed_states(workspace) == {A: "done"}


def test_a_collection_without_feedback_still_supersedes_what_was_owed(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = _two_bad_returns(workspace, example)
    _stopped_before_feedback(workspace, monkeypatch)
    _returned(workspace, example, sent, A, "文化課_訂正.xlsx")
    collect(workspace, feedback=False)  # A's correction is accepted by a run that makes no 差し戻し票
    assert _owed_states(workspace) == {A: "superseded", B: "due"}
    assert [item.department for item in collect(workspace).feedback] == [B]


def test_a_return_without_proof_does_not_cancel_a_departments_feedback(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Anyone can send a workbook without its hidden sheet in a department's name: until the office
    # decides on it, it must not spare the department the 差し戻し票 its own signed return needs.
    sent = _two_bad_returns(workspace, example)
    _stopped_before_feedback(workspace, monkeypatch)
    unsigned = _returned(workspace, example, sent, A, "文化課_管理情報なし.xlsx")
    book = openpyxl.load_workbook(unsigned)
    del book[layout.MANIFEST_SHEET]
    book.save(unsigned)
    again = collect(workspace)
    assert [(item.name, item.outcome) for item in again.files] == [("文化課_管理情報なし.xlsx", "review")]
    assert sorted(item.department for item in again.feedback) == sorted([A, B])


def test_rollover_waits_for_an_owed_feedback(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xlplan.errors import ConfigurationError
    from xlplan.yearend.run import rollover

    _two_bad_returns(workspace, example)
    _stopped_before_feedback(workspace, monkeypatch)
    with pytest.raises(ConfigurationError) as refused:
        rollover(workspace)
    assert "rollover-feedback-owed" in [finding.code for finding in refused.value.findings]
    [owed] = [finding for finding in refused.value.findings if finding.code == "rollover-feedback-owed"]
    assert "差し戻し票をまだ作っていない回答が 2 件" in owed.message()


def test_a_feedback_begun_then_superseded_is_marked_so(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = _sent(workspace)
    _edit_value(_returned(workspace, example, sent, A, "文化課.xlsx"), 3, "たくさん")
    _stop_at_first_call(monkeypatch, feedback_module, "_save")  # its dispatch is recorded as writing
    with pytest.raises(_Stopped):
        collect(workspace)
    monkeypatch.undo()
    assert _feedback_rows(workspace) == [(A, 1, "writing")]
    _returned(workspace, example, sent, A, "文化課_訂正.xlsx")
    again = collect(workspace)
    assert again.feedback == ()
    assert _feedback_rows(workspace) == [(A, 1, "superseded")]  # not left "being written" for ever
    [state] = [item for item in status(workspace).departments if item.department == A]
    assert state.state == "accepted" and state.feedback_at is None


def _unsigned(workspace: Workspace, example: Example, sent: dict[str, Path], name: str) -> Path:
    """A return of A with its hidden sheet (the signed manifest) removed: it waits for the office."""
    path = _returned(workspace, example, sent, A, name)
    book = openpyxl.load_workbook(path)
    del book[layout.MANIFEST_SHEET]
    book.save(path)
    return path


def test_the_offices_acceptance_of_a_later_return_settles_what_was_owed(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xlplan.followup.review import decide

    sent = _sent(workspace)
    _edit_value(_returned(workspace, example, sent, A, "1_文化課.xlsx"), 3, "たくさん")
    _stopped_before_feedback(workspace, monkeypatch)
    _unsigned(workspace, example, sent, "2_文化課_管理情報なし.xlsx")
    [waiting] = collect(workspace, feedback=False).files
    assert waiting.outcome == "review"
    # The office looks at the later file without proof, confirms with 文化課 by telephone and accepts it.
    assert decide(workspace, waiting.receipt_id, "accept", department=A, note="電話で確認").findings == ()
    assert collect(workspace).feedback == ()  # 文化課 is not sent a 差し戻し票 for an answer already settled
    assert _owed_states(workspace) == {A: "superseded"}


def test_the_offices_acceptance_of_an_earlier_return_leaves_a_later_ones_feedback(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As without the stop: the later signed return's 差し戻し票 would have been made before the decision.
    from xlplan.followup.review import decide

    sent = _sent(workspace)
    _unsigned(workspace, example, sent, "1_文化課_管理情報なし.xlsx")
    [waiting] = collect(workspace).files
    assert waiting.outcome == "review"
    _edit_value(_returned(workspace, example, sent, A, "2_文化課.xlsx"), 3, "たくさん")
    _stopped_before_feedback(workspace, monkeypatch)
    decided = decide(workspace, waiting.receipt_id, "accept", department=A, note="電話で確認")
    [note] = decided.findings  # the office is told that a later signed return exists
    assert note.code == "review-newer-return" and "後に署名付きの回答" in note.message()
    assert [item.department for item in collect(workspace).feedback] == [A]
    assert _owed_states(workspace) == {A: "done"}


def test_the_files_of_a_superseded_feedback_are_set_aside(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Staff who send drafts by hand from feedback/ must not find a 差し戻し票 the department no longer needs.
    sent = _sent(workspace)
    _edit_value(_returned(workspace, example, sent, A, "文化課.xlsx"), 3, "たくさん")
    _stop_at_first_call(monkeypatch, feedback_module, "build_message")  # the workbook is written
    with pytest.raises(_Stopped):
        collect(workspace)
    monkeypatch.undo()
    [written] = list(workspace.feedback.glob("*.xlsx"))
    _returned(workspace, example, sent, A, "文化課_訂正.xlsx")
    collect(workspace)
    assert _feedback_rows(workspace) == [(A, 1, "superseded")]
    assert not written.exists()
    assert [path.name for path in workspace.feedback.iterdir()] == [
        f"{written.stem}{collection_run.STALE}.xlsx"
    ]


def test_an_owed_feedback_is_dropped_when_the_changed_master_finds_no_error(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_bad_returns(workspace, example)  # B typed "3件" where project 4 asks for ○ or ×
    _stopped_before_feedback(workspace, monkeypatch)
    # Before the next run the office gives project 4 a count in 件: B's "3件" is now what it asks for.
    book = openpyxl.load_workbook(workspace.master_path)
    sheet = book["計画"]
    header = [cell.value for cell in sheet[1]]
    [row] = [
        row for row in range(2, sheet.max_row + 1) if sheet.cell(row, header.index("事業番号") + 1).value == 4
    ]
    for column, value in (("数値目標", "市報等への掲載件数"), ("単位", "件"), ("現状値", "1件")):
        sheet.cell(row, header.index(column) + 1).value = value
    book.save(workspace.master_path)

    again = collect(workspace)
    assert [item.department for item in again.feedback] == [A]  # B's return is checked again: no error now
    assert _owed_states(workspace) == {A: "done", B: "superseded"}
    assert sorted(_feedback_rows(workspace)) == [(A, 1, "drafted")]
    assert not [path for path in workspace.feedback.iterdir() if B in path.name]
    assert collect(workspace).feedback == ()  # and it stays so


def test_what_an_earlier_round_owed_is_not_made_in_the_next(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_bad_returns(workspace, example)
    _stopped_before_feedback(workspace, monkeypatch)
    book = openpyxl.load_workbook(workspace.master_path)  # the office begins a second round (回 2)
    [row] = [row for row in book["設定"].iter_rows(min_row=2) if row[0].value == "回"]
    row[1].value = 2
    book.save(workspace.master_path)

    again = collect(workspace)
    assert again.feedback == ()  # the departments answer in the new round's workbooks
    dropped = [finding for finding in again.findings if finding.code == "feedback-owed-other-round"]
    assert sorted(finding.params["department"] for finding in dropped) == sorted([A, B])
    assert "文化課.xlsx" in dropped[0].message() or "総務課.xlsx" in dropped[0].message()
    assert _owed_states(workspace) == {A: "superseded", B: "superseded"}  # not owed for ever
    assert not [f for f in collect(workspace).findings if f.code == "feedback-owed-other-round"]


class _CutOff:
    """An SMTP server that takes a message, then drops the connection before its reply to the final dot."""

    def __init__(self) -> None:
        self.data = 0  # messages it was handed

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data += 1
        server.transport.abort()
        return "250 OK"


@contextlib.contextmanager
def _cut_off_server() -> Iterator[tuple[_CutOff, int]]:
    from aiosmtpd.controller import Controller

    handler, port = _CutOff(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def test_a_feedback_mail_cut_off_as_the_server_took_it_is_said_to_be_unknown_not_failed(
    tmp_path: Path, example: Example
) -> None:
    with _cut_off_server() as (_, port):
        workspace = _smtp_workspace(tmp_path, example, port)
        sent = _sent(workspace)
        _edit_value(_returned(workspace, example, sent, A, "文化課.xlsx"), 3, "たくさん")
        result = collect(workspace, send=True)
    (item,) = result.feedback
    assert item.outcome == "unknown" and _feedback_rows(workspace) == [(A, 1, "unknown")]
    (line,) = item.lines("ja")
    assert "届いたかどうか分かりません" in line and "送信できませんでした" not in line
    assert item.to_dict()["outcome"] == "unknown"


def test_once_the_mail_server_stops_answering_the_other_feedback_mails_wait_for_the_next_run(
    tmp_path: Path, example: Example
) -> None:
    with _cut_off_server() as (server, port):
        workspace = _smtp_workspace(tmp_path, example, port)
        _two_bad_returns(workspace, example)
        first = collect(workspace, send=True)
    # One department's mail reached the server before it broke; the other was not tried in this run
    # (each would have waited a full time-out), and is failed, so that the next run sends it.
    assert server.data == 1
    assert sorted(item.outcome for item in first.feedback) == ["failed", "unknown"]
    held = next(item for item in first.feedback if item.outcome == "failed")
    (said,) = [f for f in held.findings if f.code == "smtp-send-failed"]
    assert "送っていません" in said.message("ja") and "再送" in said.message("ja")
    rows = dict((d, s) for d, _, s in _feedback_rows(workspace))
    assert sorted(rows.values()) == ["failed", "unknown"]


def test_a_resend_that_finds_the_server_gone_holds_the_new_feedback_mails_too(
    tmp_path: Path, example: Example, smtp_server: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp_server
    workspace = _smtp_workspace(tmp_path, example, port)
    sent = _sent(workspace)
    inbox.refuse = {example.plan.department(A).email or ""}  # A's 差し戻し is refused: failed, to go again
    _edit_value(_returned(workspace, example, sent, A, "文化課.xlsx"), 3, "たくさん")
    first = collect(workspace, send=True)
    assert [item.outcome for item in first.feedback] == ["failed"]
    # The next run: the server is gone. The resend of A's finds it so; B's new 差し戻し is not tried.
    gone = free_port()  # nothing listens there
    book = openpyxl.load_workbook(workspace.master_path)
    settings = book["設定"]
    for row in range(1, settings.max_row + 1):
        if settings.cell(row, 1).value == "SMTPポート":
            settings.cell(row, 2).value = str(gone)
    book.save(workspace.master_path)
    _edit_value(_returned(workspace, example, sent, B, "総務課.xlsx"), 4, "3件")
    second = collect(workspace, send=True)
    (made,) = second.feedback
    assert made.department == B and made.outcome == "failed"
    (said,) = [f for f in made.findings if f.code == "smtp-send-failed"]
    assert "送っていません" in said.message("ja")  # held, not a second wait on the dead server
