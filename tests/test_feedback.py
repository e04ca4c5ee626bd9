"""差し戻し票: the department's workbook re-issued with its answers kept and each finding marked on its
cell. Read back with openpyxl (fills, notes, protection) and python-calamine (values), the manifest
verified, the mail draft parsed, delivery to a real SMTP server, and a LibreOffice rendering."""

from __future__ import annotations

import dataclasses
import email
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from tests.conftest import calamine_rows, convert_with_soffice
from tests.test_remind import _Inbox, _smtp_workspace
from tests.test_remind import smtp_server as smtp_server  # the fixture, re-exported for this module
from xlplan.cli import main
from xlplan.examples import Example
from xlplan.findings import Finding
from xlplan.followup.feedback import write_feedback
from xlplan.followup.feedback_sheet import ERROR_FILL, LIST_SHEET, WARNING_FILL
from xlplan.followup.status import status
from xlplan.form import layout, manifest
from xlplan.plan.model import Answer
from xlplan.workspace.folder import Workspace, init_workspace

DEPARTMENT = "社会福祉課"
# Columns of the ogi example's 回答 sheet (four levels: three hierarchy columns before the project).
ROW_ID, PROJECT, VALUE, NARRATIVE = "A", "E", "N", "O"


def _answers(example: Example) -> list[Answer]:
    return [a for a in example.answers if example.plan.canonical_department(a.department) == DEPARTMENT]


def _findings() -> list[Finding]:
    """What a check of 社会福祉課's return might find; each kind of location the check can give.

    The codes are the master's value messages, which say the same thing as a return's would.
    """
    return [
        # located by row id and column key (survives inserted rows)
        Finding(
            "master-bad-value",
            {"value": "1644件", "row_id": "P021-1-1", "column": layout.CURRENT_VALUE},
            file="回答.xlsx",
            sheet="回答",
            cell="N9",
        ),
        # located by project number only (one row of the department in project 41)
        Finding(
            "master-missing-value",
            {"column": "今年度の実績内容", "project_no": 41},
            file="回答.xlsx",
            sheet="回答",
            cell="O9",
            severity="warning",
        ),
        # located by the cell alone, as issued
        Finding("master-bad-value", {"value": "たくさん"}, file="回答.xlsx", sheet="回答", cell="N7"),
        # about the file, not a cell
        Finding("master-missing-setting", {"key": "回答する課"}, file="回答.xlsx"),
    ]


def _row(path: Path, row_id: str) -> int:
    rows = calamine_rows(path, layout.RESPONSE_SHEET)
    return next(index for index, row in enumerate(rows, start=1) if row and row[0] == row_id)


@pytest.fixture
def result(workspace: Workspace, example: Example):  # type: ignore[no-untyped-def]
    answers = _answers(example)
    # The value of project 21 could not be read, so it is not among the answers.
    answers = [a for a in answers if a.project_no != 21]
    return write_feedback(
        workspace, DEPARTMENT, _findings(), answers, source=Path("inbox/社会福祉課の回答.xlsx")
    )


def test_feedback_workbook_marks_each_cell_with_a_japanese_note(result, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    path = result.path
    assert path.parent == workspace.feedback and path.name.startswith("差し戻し票_")
    assert (result.errors, result.warnings, result.marked, result.unplaced) == (3, 1, 3, 1)

    sheet = openpyxl.load_workbook(path)[layout.RESPONSE_SHEET]
    p021, p041 = _row(path, "P021-1-1"), _row(path, "P041-1-1")
    marked = {
        address: (cell.fill.fgColor.rgb[-6:], cell.comment.text if cell.comment else None)
        for address, cell in (
            (f"{VALUE}{p021}", sheet[f"{VALUE}{p021}"]),
            (f"{NARRATIVE}{p041}", sheet[f"{NARRATIVE}{p041}"]),
            ("N7", sheet["N7"]),
        )
    }
    assert marked[f"{VALUE}{p021}"] == (
        ERROR_FILL,
        "【エラー】値「1644件」を読み取れません（数値・単位、または ○ × — を入力してください）。",
    )
    # Project 41's warning: the row from the project number, the column from its cell.
    assert marked[f"{NARRATIVE}{p041}"] == (WARNING_FILL, "【確認】「今年度の実績内容」が空欄です。")
    assert marked["N7"][0] == ERROR_FILL and "たくさん" in (marked["N7"][1] or "")
    # Unmarked cells keep the yellow of an input cell and have no note.
    p013 = _row(path, "P013-1-1")
    assert (
        sheet[f"{VALUE}{p013}"].fill.fgColor.rgb[-6:] == "FFF2A8" and sheet[f"{VALUE}{p013}"].comment is None
    )
    # Marked input cells stay editable; the sheet stays protected.
    assert sheet.protection.sheet
    assert sheet[f"{VALUE}{p021}"].protection.locked is False
    # The top says what to do.
    assert sheet["A1"].value.startswith("【差し戻し票】")
    assert sheet["B3"].value.startswith(
        "【要修正】修正が必要な箇所 3 件（赤色のセル）・確認してほしい箇所 1 件（オレンジ色のセル）。"
    )


def test_answers_are_kept_and_what_was_typed_is_shown(result, example: Example) -> None:  # type: ignore[no-untyped-def]
    rows = calamine_rows(result.path, layout.RESPONSE_SHEET)
    header = rows[layout.HEADER_ROW - 1]
    value_col = header.index("今年度の値（令和2年度）")
    by_id = {row[0]: row for row in rows[layout.FIRST_DATA_ROW - 1 :]}
    assert len(by_id) == len(_answers(example))
    # Every answer that could be read is back in its yellow cell, seen by a second reader.
    for answer in _answers(example):
        if answer.project_no == 21:
            continue
        row = next(r for r in by_id.values() if r[4] == answer.project_no)
        expected = answer.value.mark.value if answer.value.mark else float(answer.value.number or 0)
        assert row[value_col] == (expected if answer.value.mark or answer.value.number is not None else "")
        assert row[value_col + 1] == (answer.narrative or "")
    # The value that could not be read is shown as typed, so the department sees what to correct.
    assert by_id["P021-1-1"][value_col] == "1644件"


def test_manifest_is_fresh_and_signed(result, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    chunks = [str(row[0]) for row in calamine_rows(result.path, layout.MANIFEST_SHEET) if row and row[0]]
    issued = manifest.loads(chunks)
    assert manifest.verify(issued, workspace.signing_key())
    assert issued.department == DEPARTMENT and issued.fiscal_year == 2020
    rows = calamine_rows(result.path, layout.RESPONSE_SHEET)
    assert all(rows[item.row - 1][0] == item.row_id for item in issued.rows)
    book = openpyxl.load_workbook(result.path)
    assert book.sheetnames == [layout.RESPONSE_SHEET, LIST_SHEET, layout.GUIDE_SHEET, layout.MANIFEST_SHEET]
    assert book[layout.MANIFEST_SHEET].sheet_state == "veryHidden"
    assert book.security is not None and book.security.lockStructure
    assert book.active.title == LIST_SHEET  # the file opens on what to fix


def test_list_sheet_links_every_finding(result) -> None:  # type: ignore[no-untyped-def]
    rows = calamine_rows(result.path, LIST_SHEET)
    assert rows[3] == [
        "No.",
        "区分",
        "セル",
        "事業番号",
        "事業の内容",
        "修正してほしいこと",
        "問い合わせ用コード",
    ]
    table = [row for row in rows[4:] if row and row[0] != ""]
    assert [row[1] for row in table] == ["エラー", "エラー", "エラー", "確認"]
    # Errors first, in sheet order, each with its project; then what concerns the whole file.
    assert [(row[2], row[3]) for row in table[:2]] == [("回答!N6", 21), ("回答!N7", 24)]
    assert table[0][4].startswith("子育ての手助けを必要としている人")
    assert table[2][2] == "ファイル全体" and "回答する課" in table[2][5]
    sheet = openpyxl.load_workbook(result.path)[LIST_SHEET]
    link = sheet["C5"].hyperlink
    assert "'回答'!N6" in (link.location or link.target or "")
    assert sheet["B8"].fill.fgColor.rgb[-6:] == WARNING_FILL


def test_mail_draft_and_ledger(result, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    assert result.outcome == "drafted" and result.mail_path is not None
    message = email.message_from_bytes(result.mail_path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert (
        message["Subject"]
        == "【修正のお願い】第2次小城市男女共同参画プラン 令和2年度実績の照会（社会福祉課）"
    )
    assert message["To"] == "社会福祉課 <fukushi@ogi.example>"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == result.path.name
    assert attachment.get_content() == result.path.read_bytes()
    with workspace.ledger() as connection:
        row = connection.execute("SELECT * FROM dispatches WHERE kind = 'feedback'").fetchone()
    assert (row["department"], row["version"], row["status"]) == (DEPARTMENT, 1, "drafted")
    assert row["message_id"] == message["Message-ID"]
    assert workspace.root / row["file_path"] == result.path  # kept relative to the workspace
    item = next(d for d in status(workspace).departments if d.department == DEPARTMENT)
    assert item.feedback_at is not None


def test_a_second_feedback_is_a_new_version(workspace: Workspace, example: Example) -> None:
    first = write_feedback(workspace, DEPARTMENT, _findings(), _answers(example))
    second = write_feedback(workspace, DEPARTMENT, _findings()[:1], _answers(example))
    assert first.path != second.path and second.path.stem.endswith("_2")
    assert first.path.exists() and second.path.exists()  # nothing is overwritten


def test_no_address_still_writes_the_workbook(tmp_path: Path, example: Example) -> None:
    plan = example.plan
    departments = tuple(
        dataclasses.replace(d, email=None) if d.name == DEPARTMENT else d for d in plan.departments
    )
    ws = init_workspace(tmp_path / "ws", dataclasses.replace(plan, departments=departments))
    result = write_feedback(ws, DEPARTMENT, _findings(), _answers(example))
    assert result.outcome == "no_address" and result.path.exists() and result.mail_path is None
    assert [f.code for f in result.findings] == ["feedback-no-address"]


def test_send_delivers_over_smtp(tmp_path: Path, example: Example, smtp_server: tuple[_Inbox, int]) -> None:
    inbox, port = smtp_server
    ws = _smtp_workspace(tmp_path, example, port)
    result = write_feedback(ws, DEPARTMENT, _findings(), _answers(example), send=True)
    assert result.outcome == "sent"
    [delivered] = inbox.messages
    assert delivered["Message-ID"] == result.message_id
    [attachment] = list(delivered.iter_attachments())
    assert attachment.get_content() == result.path.read_bytes()
    inbox.refuse = {"fukushi@ogi.example"}
    failed = write_feedback(ws, DEPARTMENT, _findings(), _answers(example), send=True)
    assert failed.outcome == "failed" and [f.code for f in failed.findings] == ["smtp-send-failed"]
    with ws.ledger() as connection:
        statuses = [
            r["status"]
            for r in connection.execute("SELECT status FROM dispatches WHERE kind = 'feedback' ORDER BY id")
        ]
    assert statuses == ["sent", "failed"]


def test_libreoffice_renders_the_feedback_workbook(result, soffice: tuple[str, Path], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    binary, profile = soffice
    source = tmp_path / "fb.xlsx"  # a short ASCII name: LibreOffice names the PDF after it
    source.write_bytes(result.path.read_bytes())
    pdf = convert_with_soffice(binary, profile, source, "pdf", tmp_path / "pdf")
    assert pdf.stat().st_size > 10_000


def test_the_department_can_correct_and_return_the_feedback_workbook(
    result, example: Example, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from xlplan.demo.respond import fill_response

    # The department fixes every row in Excel (here: openpyxl, as respond does) and saves.
    corrected = tmp_path / "返送.xlsx"
    fill_response(result.path, _answers(example), corrected)
    rows = calamine_rows(corrected, layout.RESPONSE_SHEET)
    by_id = {row[0]: row for row in rows[layout.FIRST_DATA_ROW - 1 :]}
    value_col = rows[layout.HEADER_ROW - 1].index("今年度の値（令和2年度）")
    assert by_id["P021-1-1"][value_col] == 1644.0  # the number, no longer the text 1644件
    chunks = [str(row[0]) for row in calamine_rows(corrected, layout.MANIFEST_SHEET) if row and row[0]]
    assert manifest.loads(chunks).department == DEPARTMENT


def test_the_feedback_files_get_the_folders_normal_permissions(result, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    # What any other file written here gets (0644 under the usual umask 022): colleagues on a shared
    # folder must be able to open the 差し戻し票 as they open the department workbooks.
    reference = workspace.feedback / "reference.txt"
    reference.write_text("x", encoding="utf-8")
    normal = reference.stat().st_mode & 0o777
    assert normal & 0o044, "the test needs a umask that lets the group and others read"
    assert result.path.stat().st_mode & 0o777 == normal
    assert result.mail_path is not None and result.mail_path.stat().st_mode & 0o777 == normal
    main(["status", "-w", str(workspace.root)])  # 回答状況.xlsx, written the same way
    status = next(workspace.reports.glob("回答状況*.xlsx"))
    assert status.stat().st_mode & 0o777 == normal


def _filled_by_general_affairs(
    workspace: Workspace, example: Example
) -> tuple[Path, Any, Any, Callable[[str], int]]:
    """総務課's workbook, distributed and filled with the example's answers: its path, the workbook
    open in openpyxl, its 回答 sheet, and the column (1-based) of the heading that starts so."""
    import xlplan
    from xlplan.demo.respond import fill_response

    (sent,) = xlplan.distribute(workspace, only=["総務課"]).departments
    assert sent.workbook is not None
    answers = [a for a in example.answers if example.plan.canonical_department(a.department) == "総務課"]
    filled = workspace.root / "filled.xlsx"
    fill_response(sent.workbook, answers, filled)
    book = openpyxl.load_workbook(filled)
    sheet = book[layout.RESPONSE_SHEET]
    headers = [str(cell.value) for cell in sheet[layout.HEADER_ROW]]

    def column(start: str) -> int:
        return next(n for n, text in enumerate(headers, start=1) if text.startswith(start))

    return filled, book, sheet, column


def test_a_row_the_department_inserted_marks_no_row_of_the_reissued_workbook(
    workspace: Workspace, example: Example
) -> None:
    import xlplan

    _, book, sheet, column = _filled_by_general_affairs(workspace, example)
    narrative = column("今年度の実績内容")
    first = layout.HEADER_ROW + 1
    sheet.protection.sheet = False
    sheet.insert_rows(first + 1)  # a memo row under the first project
    sheet.cell(first + 1, narrative).value = "補足メモ"
    value = column("今年度の値")
    sheet.cell(first + 5, value).value = "たくさん"  # and an error, so that a 差し戻し票 is made
    book.save(workspace.inbox / "総務課_回答.xlsx")
    collected = xlplan.collect(workspace)
    assert "row-extra" in [f.code for f in collected.findings]
    (feedback,) = workspace.feedback.glob("*.xlsx")
    marked = openpyxl.load_workbook(feedback)[layout.RESPONSE_SHEET]
    notes = [cell.comment.text for row in marked.iter_rows() for cell in row if cell.comment]
    # The added row is listed on 修正箇所 only: no note of it lands on another project's row.
    assert not [note for note in notes if "照会した行ではない" in note], notes


def test_after_an_inserted_column_each_message_names_the_cell_it_is_marked_at(
    workspace: Workspace, example: Example
) -> None:
    import xlplan

    _, book, sheet, column = _filled_by_general_affairs(workspace, example)
    value = column("今年度の値")
    sheet.protection.sheet = False
    sheet.insert_cols(7)  # a memo column the department added: every later column moves one right
    first = layout.HEADER_ROW + 1
    sheet.cell(first, value + 1).value = None  # a value left blank, in its moved column
    book.save(workspace.inbox / "総務課_回答.xlsx")
    xlplan.collect(workspace)
    (feedback,) = workspace.feedback.glob("*.xlsx")
    reissued = openpyxl.load_workbook(feedback)
    marked = [cell for row in reissued[layout.RESPONSE_SHEET].iter_rows() for cell in row if cell.comment]
    missing = [cell for cell in marked if "入力されていません" in cell.comment.text]
    assert [cell.coordinate for cell in missing] == [f"{get_column_letter(value)}{first}"]  # back in place
    # Before, the text said O5 (the return's cell, one column right) while N5 was marked.
    assert f"（{missing[0].coordinate}）" in missing[0].comment.text, missing[0].comment.text
    listed = [str(row[5]) for row in reissued["修正箇所"].iter_rows(min_row=5, values_only=True) if row[5]]
    assert any(f"（{missing[0].coordinate}）" in text for text in listed), listed


def test_what_the_feedback_workbook_put_back_is_said_to_be_back(
    workspace: Workspace, example: Example
) -> None:
    import xlplan

    _, book, sheet, column = _filled_by_general_affairs(workspace, example)
    first = layout.HEADER_ROW + 1
    description = column("事業の内容")
    sheet.protection.sheet = False
    sheet.cell(first, description).value = "（令和2年度は中止）"  # a grey cell overwritten
    book.save(workspace.inbox / "総務課_回答.xlsx")
    xlplan.collect(workspace)
    (feedback,) = workspace.feedback.glob("*.xlsx")
    reissued = openpyxl.load_workbook(feedback)[layout.RESPONSE_SHEET]
    cell = reissued.cell(first, description)
    assert cell.value != "（令和2年度は中止）" and cell.comment is not None  # restored, and marked
    # Not only 「元の内容に戻してください」: the department is told the sheet has it back already.
    assert "この差し戻し票では、送付したときの内容・位置に戻してあります" in cell.comment.text, (
        cell.comment.text
    )


def test_control_characters_typed_into_a_value_never_reach_the_feedback_workbook(
    workspace: Workspace, example: Example
) -> None:
    import zipfile

    import xlplan

    filled, book, sheet, column = _filled_by_general_affairs(workspace, example)
    value = column("今年度の値")
    sheet.cell(layout.HEADER_ROW + 1, value).value = "\x9bXXESCXX]0;title XXBELXX たくさん"
    book.save(filled)
    # The escapes Excel itself writes for control characters (_x001B_ is ESC), as a spreadsheet saves them.
    target = workspace.inbox / "回答.xlsx"
    with zipfile.ZipFile(filled) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename).replace(b"XXESCXX", b"_x001B_").replace(b"XXBELXX", b"_x0007_")
            out.writestr(item, data)
    collected = xlplan.collect(workspace)
    assert [item.outcome for item in collected.files] == ["invalid"]
    (feedback,) = workspace.feedback.glob("*.xlsx")
    marked = openpyxl.load_workbook(feedback)  # a workbook Excel opens without "repair"
    notes = [
        cell.comment.text for row in marked[layout.RESPONSE_SHEET].iter_rows() for cell in row if cell.comment
    ]
    assert any("たくさん" in note for note in notes)
    with zipfile.ZipFile(feedback) as package:
        parts = b"".join(package.read(name) for name in package.namelist() if name.endswith(".xml"))
    assert not [char for char in (b"\x1b", b"\x07", "\x9b".encode()) if char in parts]
