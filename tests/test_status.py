"""Status: a scripted round on a real ledger, each department's state at each step, and the status
workbook read back with python-calamine (the second reader) and openpyxl (for its formatting)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import unicodedata
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import calamine_rows
from xlplan.cli import main
from xlplan.followup.status import format_status, status
from xlplan.followup.status_sheet import STATUS_WORKBOOK, save_status, write_status_workbook
from xlplan.workspace.folder import Workspace
from xlplan.workspace.ledger import now

DEADLINE = dt.date(2021, 5, 31)  # the ogi example's 締切
BEFORE = dt.date(2021, 5, 20)
AFTER = dt.date(2021, 6, 3)


# --- ledger rows as the other stages write them ------------------------------------------
# Distribution and collection record dispatches, receipts, findings and acceptances; these
# helpers write the same rows so the status can be scripted step by step.


def _round_id(connection: sqlite3.Connection) -> int:
    return int(
        connection.execute("SELECT id FROM rounds WHERE fiscal_year = 2020 AND number = 1").fetchone()[0]
    )


def dispatch(
    ws: Workspace, department: str, *, kind: str = "request", status: str = "sent", at: str | None = None
) -> None:
    with ws.ledger() as connection:
        connection.execute(
            "INSERT INTO dispatches (round_id, department, kind, status, created_at, sent_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                _round_id(connection),
                department,
                kind,
                status,
                at or now(),
                (at or now()) if status == "sent" else None,
            ),
        )


def receive(
    ws: Workspace,
    department: str | None,
    status: str,
    *,
    errors: int = 0,
    warnings: int = 0,
    at: str | None = None,
) -> int:
    with ws.ledger() as connection:
        cursor = connection.execute(
            "INSERT INTO receipts (sha256, original_name, source, archived_path, received_at, round_id, department, status) "
            "VALUES (?, ?, 'inbox', 'archive/x.xlsx', ?, ?, ?, ?)",
            (
                "0" * 64,
                "回答.xlsx",
                at or now(),
                _round_id(connection) if department else None,
                department,
                status,
            ),
        )
        receipt = int(cursor.lastrowid or 0)
        for severity, count in (("error", errors), ("warning", warnings)):
            for index in range(count):
                connection.execute(
                    "INSERT INTO findings (receipt_id, code, severity, sheet, cell, message) VALUES (?, ?, ?, '回答', ?, 'x')",
                    (receipt, "value-wrong-unit", severity, f"L{5 + index}"),
                )
    return receipt


def accept(ws: Workspace, department: str, receipt: int, *, answers: int = 0) -> None:
    with ws.ledger() as connection:
        connection.execute(
            "INSERT INTO acceptances (round_id, department, receipt_id, accepted_at) VALUES (?, ?, ?, ?)",
            (_round_id(connection), department, receipt, now()),
        )
        connection.execute("UPDATE receipts SET status = 'accepted' WHERE id = ?", (receipt,))
        for index in range(answers):
            connection.execute(
                "INSERT INTO answers (receipt_id, project_no, entry, department, value) VALUES (?, ?, ?, ?, '1人')",
                (receipt, index + 1, department, department),
            )


def states(ws: Workspace, today: dt.date) -> dict[str, str]:
    return {item.department: item.state for item in status(ws, today=today).departments}


# --- the scripted cycle ---------------------------------------------------------------


def test_a_round_moves_each_department_through_its_states(workspace: Workspace) -> None:
    ws = workspace
    assert set(states(ws, BEFORE).values()) == {"not_sent"}

    # 配布: all but 定住推進課 (a mail draft counts as sent: staff send drafts by hand).
    for department in ("文化課", "総務課", "市民課", "農業委員会"):
        dispatch(ws, department)
    dispatch(ws, "教育総務課", status="drafted")
    dispatch(ws, "生涯学習課", status="failed")  # SMTP refused: nothing went out
    assert {
        k: v
        for k, v in states(ws, BEFORE).items()
        if k in ("文化課", "教育総務課", "生涯学習課", "定住推進課")
    } == {
        "文化課": "sent",
        "教育総務課": "sent",
        "生涯学習課": "not_sent",
        "定住推進課": "not_sent",
    }

    # 回収: 文化課 returns with an error, 総務課 a clean file (not yet accepted), 市民課 accepted.
    receive(ws, "文化課", "invalid", errors=2, warnings=1)
    receive(ws, "総務課", "archived")
    accept(ws, "市民課", receive(ws, "市民課", "valid", warnings=1), answers=2)
    receive(ws, None, "invalid")  # a file nobody could be matched to
    report = status(ws, today=BEFORE)
    by_name = {item.department: item for item in report.departments}
    assert (by_name["文化課"].state, by_name["文化課"].errors, by_name["文化課"].warnings) == (
        "returned_with_errors",
        2,
        1,
    )
    assert by_name["総務課"].state == "received"
    assert (by_name["市民課"].state, by_name["市民課"].answered, by_name["市民課"].warnings) == (
        "accepted",
        2,
        1,
    )
    assert by_name["市民課"].accepted_at is not None
    assert report.unidentified == 1
    assert report.needs_action()

    # The deadline passes: 農業委員会 and 教育総務課 sent nothing back.
    after = status(ws, today=AFTER)
    overdue = [item.department for item in after.overdue()]
    assert overdue == ["教育総務課", "農業委員会"]  # registry order
    assert {item.department: item.overdue for item in after.departments if item.overdue} == {
        "文化課": True,  # has errors and is late: still 要修正, not a reminder case
        "総務課": True,
        "教育総務課": True,
        "農業委員会": True,
    }
    assert states(ws, DEADLINE)["農業委員会"] == "sent"  # the deadline day itself is not late

    # 文化課 corrects; a later bad file from 市民課 does not undo its acceptance; the same bytes again are counted apart.
    accept(ws, "文化課", receive(ws, "文化課", "valid"), answers=1)
    receive(ws, "市民課", "invalid", errors=1)
    receive(ws, "市民課", "duplicate")
    dispatch(ws, "農業委員会", kind="reminder")
    final = {item.department: item for item in status(ws, today=AFTER).departments}
    assert (final["文化課"].state, final["文化課"].errors, final["文化課"].receipts) == ("accepted", 0, 2)
    assert (final["市民課"].state, final["市民課"].receipts, final["市民課"].duplicates) == ("accepted", 2, 1)
    assert (final["農業委員会"].state, final["農業委員会"].reminders) == ("overdue", 1)
    assert status(ws, today=AFTER).counts() == {
        "accepted": 2,
        "returned_with_errors": 0,
        "review": 0,
        "received": 1,
        "overdue": 2,
        "sent": 0,
        "not_sent": 10,
    }


def test_rows_count_what_each_department_answers(workspace: Workspace, example) -> None:
    report = status(workspace, today=BEFORE)
    rows = {item.department: item.rows for item in report.departments}
    assert sum(rows.values()) == sum(len(entry.members) for p in example.plan.projects for entry in p.entries)
    assert rows["文化課"] == 1


# --- the status workbook, read back -----------------------------------------------------


def _scripted(ws: Workspace) -> None:
    dispatch(ws, "文化課", at="2021-05-10T09:00:00+09:00")
    dispatch(ws, "総務課", at="2021-05-10T09:00:00+09:00")
    dispatch(ws, "市民課", at="2021-05-10T09:00:00+09:00")
    receive(ws, "文化課", "invalid", errors=3, at="2021-05-25T14:30:00+09:00")
    accept(ws, "市民課", receive(ws, "市民課", "valid", at="2021-05-26T08:15:00+09:00"), answers=2)


def test_status_workbook_reads_back_with_calamine(workspace: Workspace) -> None:
    _scripted(workspace)
    report = status(workspace, today=AFTER)
    path = save_status(workspace, report)
    assert path == workspace.reports / STATUS_WORKBOOK
    rows = calamine_rows(path, "回答状況")
    assert rows[0][0] == "第2次小城市男女共同参画プラン 令和2年度 回答状況（第1回照会）"
    assert rows[1][0].startswith(
        "2021/06/03 時点　締切 2021/05/31　受理 1・要修正 1・期限超過 1・未送付 12（全15課）"
    )
    assert rows[3][:4] == ["担当課", "状況", "回答行数", "送付"]
    table = {row[0]: row for row in rows[4:]}
    assert len(table) == 15
    assert table["文化課"][1:3] == ["要修正", 1]
    assert table["文化課"][3] == dt.datetime(2021, 5, 10, 9, 0)  # a real date, not text
    assert table["文化課"][5] == dt.datetime(2021, 5, 25, 14, 30)
    assert table["文化課"][7] == 3  # errors
    assert table["総務課"][1] == "期限超過"
    assert table["市民課"][1] == "受理"
    assert table["定住推進課"][1] == "未送付"
    assert calamine_rows(path, "凡例")[0] == ["状況", "意味と対応"]


def test_status_workbook_is_formatted(workspace: Workspace) -> None:
    _scripted(workspace)
    path = write_status_workbook(status(workspace, today=AFTER), workspace.reports / "s.xlsx")
    sheet = openpyxl.load_workbook(path)["回答状況"]
    assert sheet.freeze_panes == "B5"
    assert sheet.auto_filter.ref == "A4:O19"  # 担当課 … 備考
    assert sheet.column_dimensions["A"].width > 15
    assert sheet["A4"].font.b and sheet["A4"].fill.fgColor.rgb.endswith("1F4E78")
    rows = {sheet.cell(r, 1).value: r for r in range(5, 20)}
    fills = {name: sheet.cell(row, 2).fill.fgColor.rgb[-6:] for name, row in rows.items()}
    assert (fills["市民課"], fills["文化課"], fills["総務課"], fills["定住推進課"]) == (
        "C6EFCE",
        "FFC7CE",
        "F8CBAD",
        "EDEDED",
    )
    assert sheet.cell(rows["文化課"], 4).number_format == "yyyy/mm/dd hh:mm"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows == "$4:$4"


def test_a_locked_status_workbook_is_written_beside_it(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    target = workspace.reports / STATUS_WORKBOOK
    real_replace = os.replace

    def refuse_target(source: str, destination: str) -> None:
        # What Windows does while Excel holds the file open.
        if Path(destination) == target:
            raise PermissionError(13, "used by another process")
        real_replace(source, destination)

    monkeypatch.setattr("xlplan.xlsx.atomic.os.replace", refuse_target)
    written = save_status(workspace, status(workspace, today=BEFORE))
    assert written.name == "回答状況 (2).xlsx"
    assert calamine_rows(written, "回答状況")[4][0] == "企画政策課"
    assert not list(workspace.reports.glob(".~*"))  # no temporary file left behind


# --- presentation and the command line --------------------------------------------------


def test_terminal_table_aligns_japanese(workspace: Workspace) -> None:
    _scripted(workspace)
    text = format_status(status(workspace, today=AFTER))
    lines = text.splitlines()
    assert lines[1].startswith("2021/06/03 時点　締切 2021/05/31")
    header, first = lines[3], lines[4]
    assert header.startswith("担当課") and first.startswith("企画政策課")

    def screen_column(line: str, text: str) -> int:
        # Wide (Japanese) characters take two terminal columns.
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line[: line.index(text)])

    assert {
        screen_column(line, label)
        for line, label in ((header, "状況"), (lines[4], "未送付"), (lines[6], "要修正"))
    } == {screen_column(header, "状況")}
    assert "要修正" in text and "期限超過" in text


def test_cli_status_json_is_the_library_report(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    _scripted(workspace)
    code = main(["status", "-w", str(workspace.root), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1  # 要修正 and 期限超過 need action (the real date is after the 2021 deadline)
    assert document["fiscal_year"] == {"wareki": "令和2年度", "western": 2020}
    assert document["counts"]["accepted"] == 1
    by_name = {item["department"]: item for item in document["departments"]}
    assert by_name["文化課"]["label"] == "要修正" and by_name["文化課"]["errors"] == 3
    assert (workspace.reports / STATUS_WORKBOOK).exists()


def test_cli_status_table_and_exit_zero_when_nothing_needs_action(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "-w", str(workspace.root)]) == 0
    out = capsys.readouterr().out
    assert "未送付 15（全15課）" in out
    assert "回答状況.xlsx" in out


def test_cli_status_outside_a_workspace_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["status", "-w", str(tmp_path)]) == 2


def test_the_docs_example_runs(
    tmp_path: Path, example, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import re

    from xlplan.workspace.folder import init_workspace

    page = (Path(__file__).resolve().parents[1] / "docs" / "status.md").read_text(encoding="utf-8")
    [code] = re.findall(r"```python\n(.*?)\n```", page, flags=re.S)
    init_workspace(tmp_path / "令和3年度", example.plan)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs/status.md", "exec"), {})
    assert "未送付 15（全15課）" in capsys.readouterr().out
    assert (tmp_path / "令和3年度" / "reports" / STATUS_WORKBOOK).exists()


def test_real_distribution_marks_departments_sent(workspace: Workspace) -> None:
    from xlplan.distribution.run import distribute

    distribute(workspace, only=["文化課", "市民課"], workers=1)
    report = status(workspace, today=BEFORE)
    sent = {
        item.department: (item.state, item.dispatch)
        for item in report.departments
        if item.state != "not_sent"
    }
    assert sent == {"文化課": ("sent", "drafted"), "市民課": ("sent", "drafted")}
    assert {item.department for item in status(workspace, today=AFTER).overdue()} == {"文化課", "市民課"}


def test_the_legend_prints_whole_on_one_page(
    workspace: Workspace, soffice: tuple[str, Path], tmp_path: Path
) -> None:
    # Printed (LibreOffice's PDF, read back with poppler): the status on its page and the legend on
    # one more, every meaning whole. The legend's long lines used to run off its page, cut mid-word.
    import subprocess

    from tests.conftest import convert_with_soffice
    from xlplan.followup.status_sheet import _LEGEND, _NOTE_LEGEND

    _scripted(workspace)
    path = write_status_workbook(status(workspace, today=AFTER), workspace.reports / "s.xlsx")
    pdf = convert_with_soffice(*soffice, path, "pdf", tmp_path / "pdf")
    pages = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True)
    texts = pages.stdout.split("\f")
    assert len([text for text in texts if text.strip()]) == 2
    legend = "".join(texts[1].split())  # the wrapped lines joined again
    for meaning in [*_LEGEND.values(), _NOTE_LEGEND]:
        assert "".join(meaning.split()) in legend
