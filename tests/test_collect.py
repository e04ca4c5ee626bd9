"""Collection end to end: intake, safe reading, checks, acceptance, feedback and the ledger, in one run.

The layers have their own tests (test_intake, test_safe_read, test_check); these
drive :func:`xlplan.collection.run.collect` and the CLI over a real distribution of the
example, with good and bad returns in the same inbox, and check what a run
promises: every file archived untouched, every file a result, one department's
file never changing another's rows, the latest valid return winning.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import time
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest

from tests import badfiles
from xlplan.cli import main
from xlplan.collection.read import Limits
from xlplan.collection.run import READ_ATTEMPTS, collect
from xlplan.demo.respond import fill_response
from xlplan.distribution.run import distribute
from xlplan.examples import Example
from xlplan.followup.status import status
from xlplan.form import layout, manifest
from xlplan.plan.model import Answer
from xlplan.workspace.folder import Workspace

A = "文化課"
B = "総務課"


def _sent(workspace: Workspace) -> dict[str, Path]:
    result = distribute(workspace)
    return {item.department: item.workbook for item in result.departments if item.workbook is not None}


def _answers(example: Example, department: str) -> list[Answer]:
    return [a for a in example.answers if example.plan.canonical_department(a.department) == department]


def _returned(
    workspace: Workspace, example: Example, sent: dict[str, Path], department: str, name: str
) -> Path:
    target = workspace.inbox / name
    fill_response(sent[department], _answers(example, department), target)
    return target


def _edit_value(path: Path, project_no: int, value: object) -> None:
    """Type ``value`` into the 今年度 value cell of ``project_no``'s row, as a department would in Excel."""
    book = openpyxl.load_workbook(path)
    chunks = [str(r[0]) for r in book[layout.MANIFEST_SHEET].iter_rows(max_col=1, values_only=True) if r[0]]
    issued = manifest.loads(chunks)
    row = next(r.row for r in issued.rows if r.project_no == project_no)
    column = issued.columns.index(layout.CURRENT_VALUE) + 1
    book[layout.RESPONSE_SHEET].cell(row, column).value = value
    book.save(path)


def _codes(result_files: object, name: str) -> set[str]:
    return {f.code for item in result_files if item.name == name for f in item.findings}  # type: ignore[attr-defined]


def _check_fails_for(monkeypatch: pytest.MonkeyPatch, name: str) -> object:
    """Make the checks raise for the file ``name`` (in the reading worker); returns the real check."""
    import xlplan.collection.verdict as verdict

    real = verdict.check_return

    def failing(plan, snapshot, identity, *, file):  # type: ignore[no-untyped-def]
        if file == name:
            raise RuntimeError("injected defect")
        return real(plan, snapshot, identity, file=file)

    monkeypatch.setattr(verdict, "check_return", failing)
    return real


def _readings_stop(monkeypatch: pytest.MonkeyPatch) -> Limits:
    """Make every reading take far longer than the limits returned (a machine under load), in the forked
    readers too; a limit of a millisecond instead let a fast reading through now and then."""
    import xlplan.collection.read.pool as pool

    def stuck(*args: object, **kwargs: object) -> object:
        time.sleep(30)
        return None

    monkeypatch.setattr(pool, "read_guarded", stuck)
    return Limits(timeout_seconds=0.5)


def _ledger(workspace: Workspace) -> sqlite3.Connection:
    connection = sqlite3.connect(workspace.ledger_path)
    connection.row_factory = sqlite3.Row
    return connection


def test_good_and_bad_files_in_one_run(workspace: Workspace, example: Example, tmp_path: Path) -> None:
    sent = _sent(workspace)
    good = _returned(workspace, example, sent, A, "文化課_回答.xlsx")
    wrong_unit = _returned(workspace, example, sent, B, "総務課.xlsx")
    _edit_value(wrong_unit, 4, "3件")  # project 4 has no indicator: only ○ × — are accepted
    inbox = workspace.inbox
    badfiles.truncated(good, inbox / "途中まで.xlsx")
    badfiles.csv_as_xlsx(inbox / "CSV.xlsx")
    badfiles.xls(inbox / "古い形式.xls")
    badfiles.zip_bomb(inbox / "爆弾.xlsx")
    badfiles.far_cell_workbook(inbox / "遠いセル.xlsx")
    (inbox / "空.xlsx").write_bytes(b"")
    (inbox / "~$文化課_回答.xlsx").write_bytes(b"lock file of Excel")
    shutil.copy(good, inbox / "文化課_回答（再送）.xlsx")
    before = {path.name: path.read_bytes() for path in inbox.iterdir()}

    result = collect(workspace)

    by_name = {item.name: item for item in result.files}
    # Excel's lock file is not a return, and the workbook it locks is still open: left for the next run.
    assert "~$文化課_回答.xlsx" not in by_name and "文化課_回答.xlsx" not in by_name
    [busy] = [f for f in result.findings if f.file == "文化課_回答.xlsx"]
    assert (
        busy.code == "file-busy"
        and "Excel または LibreOffice で開かれています（~$文化課_回答.xlsx）" in busy.message()
    )
    assert by_name["文化課_回答（再送）.xlsx"].outcome == "accepted"  # the same answers under another name
    assert by_name["総務課.xlsx"].outcome == "invalid"
    assert "value-not-a-mark" in _codes(result.files, "総務課.xlsx")
    assert "file-damaged" in _codes(result.files, "途中まで.xlsx")
    assert "file-text" in _codes(result.files, "CSV.xlsx")
    assert "file-xls" in _codes(result.files, "古い形式.xls")
    assert "file-zip-bomb" in _codes(result.files, "爆弾.xlsx")
    assert "file-empty" in _codes(result.files, "空.xlsx")
    assert by_name["遠いセル.xlsx"].outcome in ("unidentified", "unreadable")
    # Every file was archived byte for byte, and the inbox was left as it was.
    for item in result.files:
        original = before[item.name]
        assert item.archived.read_bytes() == original
        assert item.sha256 == hashlib.sha256(original).hexdigest()
    assert {path.name: path.read_bytes() for path in inbox.iterdir()} == before
    # Every message a department or the office reads is Japanese and says what to do.
    for item in result.files:
        for finding in item.findings:
            assert any("\u3040" <= ch <= "\u30ff" for ch in finding.message()), finding.code
    # The department with errors got a 差し戻し票; the good one did not.
    assert [fb.department for fb in result.feedback] == [B]
    assert result.feedback[0].path.exists()
    states = {item.department: item.state for item in status(workspace).departments}
    assert states[A] == "accepted" and states[B] == "returned_with_errors"

    # Excel closed: the workbook is taken in now, recognised as the same bytes already received.
    (inbox / "~$文化課_回答.xlsx").unlink()
    later = collect(workspace)
    assert [(item.name, item.outcome) for item in later.files] == [("文化課_回答.xlsx", "duplicate")]


def test_only_a_departments_latest_return_of_the_run_decides_its_feedback(
    workspace: Workspace, example: Example
) -> None:
    """Two returns of one department in one run: a later good one needs no 差し戻し票, a later bad one does."""
    sent = _sent(workspace)
    _edit_value(_returned(workspace, example, sent, A, "1_文化課.xlsx"), 3, "たくさん")
    _returned(workspace, example, sent, A, "2_文化課_訂正.xlsx")
    _returned(workspace, example, sent, B, "1_総務課.xlsx")
    _edit_value(_returned(workspace, example, sent, B, "2_総務課_再送.xlsx"), 4, "3件")

    result = collect(workspace)

    assert [(item.name, item.outcome) for item in result.files] == [
        ("1_文化課.xlsx", "invalid"),
        ("1_総務課.xlsx", "accepted"),
        ("2_文化課_訂正.xlsx", "accepted"),
        ("2_総務課_再送.xlsx", "invalid"),
    ]
    assert [fb.department for fb in result.feedback] == [B]
    marked = openpyxl.load_workbook(result.feedback[0].path)[layout.RESPONSE_SHEET]
    assert "3件" in [cell.value for row in marked.iter_rows() for cell in row]  # the later file's answers


def test_a_second_download_of_a_return_comes_after_the_first_whatever_its_name_sorts_as(
    workspace: Workspace, example: Example
) -> None:
    """A browser saves a second download as "回答 (2).xlsx", which sorts before "回答.xlsx" by name."""
    sent = _sent(workspace)
    _edit_value(_returned(workspace, example, sent, A, "回答.xlsx"), 3, "たくさん")  # the first had a mistake
    _returned(workspace, example, sent, A, "回答 (2).xlsx")  # the correction, downloaded second
    _returned(workspace, example, sent, B, "総務課 - コピー.xlsx")
    _edit_value(_returned(workspace, example, sent, B, "総務課.xlsx"), 4, "3件")
    result = collect(workspace)
    assert [(item.name, item.outcome) for item in result.files] == [
        ("回答.xlsx", "invalid"),
        ("回答 (2).xlsx", "accepted"),
        ("総務課.xlsx", "invalid"),
        ("総務課 - コピー.xlsx", "accepted"),  # Explorer's copy is the later one
    ]
    assert result.feedback == ()  # each department's later file stands: no 差し戻し


def test_a_second_run_takes_nothing_again(workspace: Workspace, example: Example) -> None:
    sent = _sent(workspace)
    _returned(workspace, example, sent, A, "a.xlsx")
    assert collect(workspace).count("accepted") == 1
    again = collect(workspace)
    assert again.files == () and again.findings == []


def test_the_latest_valid_return_supersedes_and_both_stay(workspace: Workspace, example: Example) -> None:
    sent = _sent(workspace)
    first = _returned(workspace, example, sent, A, "first.xlsx")
    collect(workspace)
    second = workspace.inbox / "second.xlsx"
    shutil.copy(first, second)
    _edit_value(second, 3, 30)  # project 3 (文化課, 冊) corrected to 30冊
    result = collect(workspace)
    assert [item.outcome for item in result.files] == ["accepted"]
    mine = [a for a in workspace.accepted_answers() if a.project_no == 3]
    assert [a.value.display() for a in mine] == ["30冊"]
    connection = _ledger(workspace)
    statuses = [row["status"] for row in connection.execute("SELECT status FROM receipts ORDER BY id")]
    assert statuses == ["superseded", "accepted"]
    acceptances = connection.execute("SELECT superseded_by FROM acceptances ORDER BY id").fetchall()
    assert acceptances[0]["superseded_by"] is not None and acceptances[1]["superseded_by"] is None
    assert len(list(workspace.archive.rglob("*.xlsx"))) == 2


def test_a_file_with_another_departments_rows_cannot_change_them(
    workspace: Workspace, example: Example
) -> None:
    sent = _sent(workspace)
    _returned(workspace, example, sent, B, "b.xlsx")
    collect(workspace)
    before = [a for a in workspace.accepted_answers() if example.plan.canonical_department(a.department) == B]
    # A's file with B's rows pasted over A's: B's manifest rows are not A's to answer.
    forged = workspace.inbox / "forged.xlsx"
    fill_response(sent[A], _answers(example, A), forged)
    b_book = openpyxl.load_workbook(sent[B])
    a_book = openpyxl.load_workbook(forged)
    for row in b_book[layout.RESPONSE_SHEET].iter_rows(min_row=layout.FIRST_DATA_ROW):
        for cell in row:
            a_book[layout.RESPONSE_SHEET].cell(cell.row, cell.column).value = cell.value
    a_book.save(forged)
    result = collect(workspace)
    assert result.files[0].outcome in ("invalid", "unidentified")
    after = [a for a in workspace.accepted_answers() if example.plan.canonical_department(a.department) == B]
    assert after == before


def test_cli_collect_json_and_exit_status(
    workspace: Workspace, example: Example, capsys: pytest.CaptureFixture[str]
) -> None:
    sent = _sent(workspace)
    _returned(workspace, example, sent, A, "a.xlsx")
    assert main(["collect", "-w", str(workspace.root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["accepted"] == 1 and data["files"][0]["department"] == A
    badfiles.csv_as_xlsx(workspace.inbox / "bad.xlsx")
    assert main(["collect", "-w", str(workspace.root), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    [finding] = data["files"][0]["findings"]
    assert finding["code"] == "file-text" and finding["severity"] == "error" and finding["file"] == "bad.xlsx"


def test_cli_validate_checks_without_taking_in(
    workspace: Workspace, example: Example, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sent = _sent(workspace)
    good = tmp_path / "good.xlsx"
    fill_response(sent[A], _answers(example, A), good)
    bad = tmp_path / "bad.xlsx"
    shutil.copy(good, bad)
    _edit_value(bad, 3, "24件")
    assert main(["validate", str(good), "-w", str(workspace.root)]) == 0
    assert main(["validate", str(good), str(bad), "-w", str(workspace.root), "--json"]) == 1
    data = json.loads(_last_json(capsys))
    assert [item["outcome"] for item in data["files"]] == ["valid", "invalid"]
    assert "value-unit-mismatch" in {f["code"] for f in data["files"][1]["findings"]}
    # Nothing was taken in: no archive, no receipt.
    assert not [path for path in workspace.archive.rglob("*") if path.is_file()]
    assert _ledger(workspace).execute("SELECT COUNT(*) FROM receipts").fetchone()[0] == 0
    capsys.readouterr()
    assert main(["validate", str(tmp_path / "missing.xlsx"), "-w", str(workspace.root)]) == 1
    assert "missing.xlsx: 読み取り不可" in capsys.readouterr().out  # not 要修正: there is nothing to correct
    assert main(["validate", str(tmp_path), "-w", str(workspace.root)]) == 1
    output = capsys.readouterr()
    assert "はフォルダです" in output.err and "見つかりません" not in output.err
    (unsigned := tmp_path / "unsigned.xlsx").write_bytes(good.read_bytes())
    book = openpyxl.load_workbook(unsigned)
    book.remove(book[layout.MANIFEST_SHEET])
    book.save(unsigned)
    main(["validate", str(unsigned), "-w", str(workspace.root)])
    assert "unsigned.xlsx: 要確認（提出元の証明なし）" in capsys.readouterr().out


def _last_json(capsys: pytest.CaptureFixture[str]) -> str:
    out = capsys.readouterr().out
    return out[out.index("{") :]


def test_a_master_with_problems_stops_collection_before_anything_is_taken(
    workspace: Workspace, example: Example
) -> None:
    sent = _sent(workspace)
    _returned(workspace, example, sent, A, "a.xlsx")
    book = openpyxl.load_workbook(workspace.master_path)
    del book["計画"]
    book.save(workspace.master_path)
    assert main(["collect", "-w", str(workspace.root)]) == 2
    assert not [path for path in workspace.archive.rglob("*") if path.is_file()]


def test_a_second_collection_waits_for_the_first(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    import filelock

    from xlplan.errors import EXIT_BUSY, BusyError
    from xlplan.workspace import lock as lock_module

    sent = _sent(workspace)
    _returned(workspace, example, sent, A, "a.xlsx")
    monkeypatch.setattr(lock_module, "LOCK_TIMEOUT", 0.2)
    held = filelock.FileLock(str(workspace.key_path.parent / lock_module.LOCK_NAME))
    with held, pytest.raises(BusyError) as raised:
        collect(workspace)
    assert [f.code for f in raised.value.findings] == ["collect-busy"]
    with held:  # the command line says so with its own exit status: try again later
        assert main(["collect", "-w", str(workspace.root)]) == EXIT_BUSY
    assert not [path for path in workspace.archive.rglob("*") if path.is_file()]  # nothing was taken
    assert collect(workspace).count("accepted") == 1  # and after the first, everything is


def _reply(subject: str, text: str, workbook: Path) -> EmailMessage:
    """文化課's reply as a mail program writes it: a text, and the workbook attached under its name."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "bunka@ogi.example", "kikaku@ogi.example", subject
    mail.set_content(text)
    mail.add_attachment(workbook.read_bytes(), maintype="application",
                        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        filename=workbook.name)  # fmt: skip
    return mail


def test_a_saved_mail_gives_its_attached_return(
    workspace: Workspace, example: Example, tmp_path: Path
) -> None:

    sent = _sent(workspace)
    filled = tmp_path / "文化課_回答.xlsx"
    fill_response(sent[A], _answers(example, A), filled)
    (workspace.inbox / "Re 実績照会.eml").write_bytes(
        _reply("Re: 実績照会", "回答を送ります。", filled).as_bytes()
    )
    result = collect(workspace)
    assert [(item.name, item.outcome, item.department) for item in result.files] == [
        ("文化課_回答.xlsx", "accepted", A)
    ]
    report = status(workspace)
    assert report.unidentified == 0  # the archived mail itself is not an unidentified return
    assert {item.department: item.state for item in report.departments}[A] == "accepted"


def test_the_office_s_own_mail_forwarded_with_the_answer_is_not_a_second_return(
    workspace: Workspace, example: Example, tmp_path: Path
) -> None:
    from email import policy
    from email.parser import BytesParser

    (request,) = [item for item in distribute(workspace).departments if item.department == A]
    assert request.workbook is not None and request.mail is not None
    filled = tmp_path / "回答_文化課.xlsx"
    fill_response(request.workbook, _answers(example, A), filled)
    reply = _reply("Fwd: 実績照会", "回答を添付します。元の依頼メールも添付します。", filled)
    # "Forward as attachment": the office's mail, as received, with the blank workbook it carried.
    reply.add_attachment(BytesParser(policy=policy.SMTP).parsebytes(request.mail.read_bytes()))
    (workspace.inbox / "Fwd 実績照会.eml").write_bytes(reply.as_bytes(policy=policy.SMTP))
    result = collect(workspace)
    assert [(item.name, item.outcome) for item in result.files] == [(filled.name, "accepted")]
    assert all(item.department != A for item in result.feedback)  # no 差し戻し for the blank
    (note,) = [finding for finding in result.run_findings if finding.code == "eml-forwarded-original"]
    assert not note.is_error and request.workbook.name in note.message("ja")
    assert {item.department: item.state for item in status(workspace).departments}[A] == "accepted"


def test_a_workbook_sent_back_as_it_was_is_still_a_return(workspace: Workspace) -> None:
    # Attached by itself (not inside a forwarded mail), the untouched workbook is the department's
    # return: an empty one, which is checked and sent back, as before.

    sent = _sent(workspace)
    (workspace.inbox / "Re 実績照会.eml").write_bytes(
        _reply("Re: 実績照会", "送ります。", sent[A]).as_bytes()
    )
    result = collect(workspace, feedback=False)
    assert [(item.name, item.outcome) for item in result.files] == [(sent[A].name, "invalid")]


def test_a_check_that_fails_on_our_side_costs_only_its_file_and_is_retried(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A defect in the checks (injected: it raises for one file, in the reading worker) must not stop
    # the run, nor every later one that would start with the unchecked file: the file stays
    # unchecked, is reported, and the next run checks it.
    import xlplan.collection.verdict as verdict

    sent = _sent(workspace)
    _returned(workspace, example, sent, A, "a_文化課.xlsx")
    _returned(workspace, example, sent, B, "b_総務課.xlsx")
    real = _check_fails_for(monkeypatch, "b_総務課.xlsx")
    first = collect(workspace, feedback=False)
    assert [(item.name, item.outcome) for item in first.files] == [("a_文化課.xlsx", "accepted")]
    assert [(f.code, f.file) for f in first.run_findings] == [("check-failed", "b_総務課.xlsx")]
    assert (
        "injected defect" in first.run_findings[0].message() and "次に回収" in first.run_findings[0].message()
    )
    with _ledger(workspace) as connection:
        statuses = dict(connection.execute("SELECT original_name, status FROM receipts").fetchall())
    assert statuses == {"a_文化課.xlsx": "accepted", "b_総務課.xlsx": "archived"}

    monkeypatch.setattr(verdict, "check_return", real)
    second = collect(workspace, feedback=False)
    assert [(item.name, item.outcome) for item in second.files] == [("b_総務課.xlsx", "accepted")]
    assert second.run_findings == ()


# --- a reading that stops (a timeout, a crash) is tried again ----------------------------------


def test_a_reading_that_stops_is_tried_again_by_the_next_run(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = _sent(workspace)
    _returned(workspace, example, sent, A, "文化課.xlsx")
    hurried = _readings_stop(monkeypatch)  # as on a machine too busy to read the file in time

    first = collect(workspace, limits=hurried)
    monkeypatch.undo()
    assert first.files == ()  # no verdict: the file is not "unreadable" for good
    [retry] = first.findings
    assert (retry.code, retry.severity, retry.file) == ("file-read-retry", "warning", "文化課.xlsx")
    assert retry.params["attempt"] == 1 and retry.params["attempts"] == READ_ATTEMPTS
    assert "次に回収を実行したときにもう一度読み取ります" in retry.message()
    assert "制限時間" in retry.message() and "longer than" in retry.message("en")
    assert status(workspace).unidentified == 0  # waiting to be read again, not a file from nobody

    again = collect(workspace)
    assert [(item.name, item.outcome) for item in again.files] == [("文化課.xlsx", "accepted")]
    assert again.findings == []


def test_a_reading_that_keeps_stopping_is_final_after_the_last_attempt(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = _sent(workspace)
    returned = _returned(workspace, example, sent, A, "文化課.xlsx")
    hurried = _readings_stop(monkeypatch)
    for attempt in range(1, READ_ATTEMPTS):
        result = collect(workspace, limits=hurried)
        assert [(f.code, f.params["attempt"]) for f in result.findings] == [("file-read-retry", attempt)]
    last = collect(workspace, limits=hurried)
    monkeypatch.undo()
    assert [(item.name, item.outcome) for item in last.files] == [("文化課.xlsx", "unreadable")]
    assert _codes(last.files, "文化課.xlsx") == {"file-read-timeout"}
    assert collect(workspace).files == ()  # the verdict is final: not read again
    shutil.copy(returned, workspace.inbox / "再送.xlsx")  # the same bytes again: the same verdict stands
    resent = collect(workspace)
    assert [(item.name, item.outcome) for item in resent.files] == [("再送.xlsx", "duplicate")]


def test_an_earlier_return_checked_after_a_later_one_does_not_replace_it(
    workspace: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The department's first return is left unchecked by the first run (its check fails there; a
    # reading that stops does the same), and its second one is accepted: when the next run checks
    # the first, the later return still stands, and the earlier one is owed no 差し戻し票.
    import xlplan.collection.verdict as verdict

    sent = _sent(workspace)
    _edit_value(_returned(workspace, example, sent, A, "1_文化課.xlsx"), 3, "たくさん")
    _returned(workspace, example, sent, A, "2_文化課_訂正.xlsx")
    real = _check_fails_for(monkeypatch, "1_文化課.xlsx")
    first = collect(workspace)
    assert [(item.name, item.outcome) for item in first.files] == [("2_文化課_訂正.xlsx", "accepted")]
    monkeypatch.setattr(verdict, "check_return", real)

    second = collect(workspace)
    assert [(item.name, item.outcome) for item in second.files] == [("1_文化課.xlsx", "superseded")]
    assert "return-superseded" in _codes(second.files, "1_文化課.xlsx")
    assert second.ok and second.files[0].errors == 0  # its errors need nothing done now
    assert second.feedback == ()  # the department's latest return has no errors
    assert "不採用 1" in second.lines()[0]
    with _ledger(workspace) as connection:
        accepted = connection.execute(
            "SELECT r.original_name FROM acceptances a JOIN receipts r ON r.id = a.receipt_id "
            "WHERE a.superseded_by IS NULL"
        ).fetchall()
    assert [row[0] for row in accepted] == ["2_文化課_訂正.xlsx"]
    states = {item.department: item.state for item in status(workspace).departments}
    assert states[A] == "accepted"


def test_a_return_with_errors_after_acceptance_is_said_to_leave_the_accepted_one(
    workspace: Workspace, example: Example
) -> None:
    # A department whose return is accepted sends another, with an error (an old copy sent again by
    # mistake, or a change half made): its accepted answers stand, its 差し戻し票 says so, and the
    # status shows it beside 受理.
    from tests.conftest import calamine_rows
    from xlplan.followup.feedback_sheet import LIST_SHEET
    from xlplan.followup.status_sheet import save_status

    sent = _sent(workspace)
    _edit_value(_returned(workspace, example, sent, A, "0_文化課.xlsx"), 3, "たくさん")
    before = collect(workspace)
    assert "return-after-acceptance" not in _codes(before.files, "0_文化課.xlsx")  # nothing accepted yet
    _returned(workspace, example, sent, A, "1_文化課.xlsx")
    assert collect(workspace).count("accepted") == 1
    accepted = sorted((a.project_no, a.value.display()) for a in workspace.accepted_answers())
    _edit_value(_returned(workspace, example, sent, A, "2_文化課_再送.xlsx"), 3, "かなり多い")

    result = collect(workspace)
    assert [item.outcome for item in result.files] == ["invalid"]
    finding = next(f for f in result.files[0].findings if f.code == "return-after-acceptance")
    assert finding.severity == "warning" and finding.params["accepted"] == "1_文化課.xlsx"
    assert "「1_文化課.xlsx」を受理しており、それが有効なまま" in finding.message()
    assert sorted((a.project_no, a.value.display()) for a in workspace.accepted_answers()) == accepted
    (made,) = result.feedback
    listed = [str(cell) for row in calamine_rows(made.path, LIST_SHEET) for cell in row]
    assert "return-after-acceptance" in listed and "ファイル全体" in listed

    report = status(workspace)
    mine = next(item for item in report.departments if item.department == A)
    assert (mine.state, mine.later) == ("accepted", "returned_with_errors")
    assert mine.to_dict()["later"] == "returned_with_errors"
    other = next(item for item in report.departments if item.department == B)
    assert other.later is None
    rows = calamine_rows(save_status(workspace, report), "回答状況")
    header = next(row for row in rows if "備考" in row)
    note = header.index("備考")
    (row,) = [row for row in rows if row[0] == A]
    assert row[1] == "受理" and row[note].startswith("受理後の回答に誤り")
    assert "受理後の回答に誤り" in "\n".join(report.lines())

    # A later valid return replaces the accepted one, and the note goes.
    _edit_value(_returned(workspace, example, sent, A, "3_文化課_訂正.xlsx"), 3, 30)
    assert collect(workspace).count("accepted") == 1
    assert next(item for item in status(workspace).departments if item.department == A).later is None


def test_an_earlier_return_sent_again_after_a_later_one_says_what_stands(
    workspace: Workspace, example: Example
) -> None:
    sent = _sent(workspace)
    first = _returned(workspace, example, sent, A, "1_文化課.xlsx")
    assert [item.outcome for item in collect(workspace).files] == ["accepted"]
    _edit_value(_returned(workspace, example, sent, A, "2_文化課.xlsx"), 3, 30)  # a later, different one
    collect(workspace)
    shutil.copyfile(first, workspace.inbox / "3_文化課_前の版.xlsx")  # the first file, sent again
    (again,) = collect(workspace).files
    assert again.outcome == "duplicate"
    (note,) = again.findings
    assert (
        note.code == "duplicate-of-replaced"
        and "後の回答" in note.message()
        and "1_文化課.xlsx" in note.message()
    )
