"""The master workbook: round trips, another plan's shape, and bad masters."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

import xlplan
from tests.conftest import calamine_rows
from xlplan.cli import main
from xlplan.errors import ConfigurationError
from xlplan.examples import Example
from xlplan.plan.blank import PLACEHOLDER_NAME
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.model import Department, Entry, HistoryRecord, MailTemplate, Node, Plan, Project, Settings
from xlplan.plan.values import Mark, Value
from xlplan.workspace.folder import Workspace, init_workspace
from xlplan.workspace.master import read_master, write_master


def test_example_round_trips_through_the_master(tmp_path: Path, example: Example) -> None:
    first = tmp_path / "first.xlsx"
    write_master(example.plan, first)
    again = read_master(first)
    assert again == example.plan
    second = tmp_path / "second.xlsx"
    write_master(again, second)
    # Written twice from equal plans, the sheets hold the same cells (read by a second reader).
    for sheet in ("設定", "計画", "担当課", "履歴"):
        assert calamine_rows(first, sheet) == calamine_rows(second, sheet)


def test_master_sheets_read_by_a_second_reader(tmp_path: Path, example: Example) -> None:
    path = tmp_path / "master.xlsx"
    write_master(example.plan, path)
    plan_rows = calamine_rows(path, "計画")
    header = plan_rows[0]
    assert header[:6] == [
        "基本目標",
        "基本目標名",
        "基本目標副題",
        "施策の方向",
        "施策の方向名",
        "施策の方向副題",
    ]
    body = [row for row in plan_rows[1:] if any(cell != "" for cell in row)]
    assert len(body) == 86  # one row per project × department entry
    number = header.index("事業番号")
    assert sorted({int(row[number]) for row in body}) == list(range(1, 70))
    joint = header.index("回答する課")
    entry = header.index("担当課")
    first = body[0]
    assert (first[entry], first[joint]) == ("企画政策課 生涯学習課", "企画政策課、生涯学習課")
    departments = calamine_rows(path, "担当課")
    assert len([row for row in departments[1:] if row[0]]) == 15
    guide = calamine_rows(path, "説明")
    assert any("計画マスタ" in str(row[0]) for row in guide)


def three_level_plan() -> Plan:
    """A plan of another shape: three levels named 政策 › 施策 › 取組, a percent indicator, history."""
    settings = Settings(
        plan_name="第3次みらい市総合計画",
        title="第3次みらい市総合計画 進捗状況（R5）",
        levels=("政策", "施策", "取組"),
        baseline_year=FiscalYear(2021),
        previous_year=FiscalYear(2022),
        current_year=FiscalYear(2023),
        document_label="資料2",
        deadline=dt.date(2024, 6, 28),
        office="企画課",
        mail={"依頼": MailTemplate("{年度}照会", "{担当課} 様\n回答をお願いします。\n")},
        extra={"SMTPサーバー": "mail.mirai.example"},
    )
    nodes = (
        Node(("1",), "安心して暮らせるまち", "重点"),
        Node(("1", "1-1"), "防災力の向上"),
        Node(("2",), "学びのまち"),
        Node(("2", "2-1"), "生涯学習"),
    )
    projects = (
        Project(
            1,
            ("1", "1-1"),
            "自主防災組織の結成を支援する。",
            "結成率",
            "%",
            Value(Decimal("62.5"), "%"),
            (Entry("防災課", ("防災課",)),),
        ),
        Project(
            2,
            ("1", "1-1"),
            "=防災訓練を実施する。",
            None,
            None,
            Value(mark=Mark.NOT_APPLICABLE),
            (Entry("防災課", ("防災課",)), Entry("消防本部", ("消防本部",))),
        ),
        Project(
            3,
            ("2", "2-1"),
            "公民館講座を開催する。",
            "受講者数",
            "人",
            Value(Decimal(1200), "人"),
            (Entry("生涯学習課 公民館", ("生涯学習課", "公民館")),),
        ),
    )
    departments = (
        Department("防災課", email="bosai@mirai.example"),
        Department("消防本部", ("消防署",)),
        Department("生涯学習課", contact="山田"),
        Department("公民館"),
    )
    history = (
        HistoryRecord(1, "防災課", FiscalYear(2022), Value(Decimal("70.1"), "%"), "72団体が結成。"),
        HistoryRecord(3, "生涯学習課 公民館", FiscalYear(2022), Value(Decimal(1350), "人"), "講座 40 回"),
        HistoryRecord(3, "生涯学習課 公民館", FiscalYear(2022), Value(Decimal(350), "人"), None, "公民館"),
    )
    return Plan(settings, nodes, projects, departments, history)


def test_three_level_plan_loads_shows_and_round_trips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = three_level_plan()
    workspace = init_workspace(tmp_path / "mirai", plan)
    assert workspace.load_plan() == plan
    header = calamine_rows(workspace.master_path, "計画")[0]
    assert "政策" in header and "施策名" in header and "取組番号" in header and "基本目標" not in header
    # A description starting with = stays text in the master.
    book = openpyxl.load_workbook(workspace.master_path)
    cells = [
        cell for row in book["計画"].iter_rows() for cell in row if cell.value == "=防災訓練を実施する。"
    ]
    assert cells and all(cell.data_type == "s" for cell in cells)

    assert main(["plan", "show", "-w", str(workspace.root), "--json"]) == 0
    import json

    shown = json.loads(capsys.readouterr().out)
    assert shown["levels"] == ["政策", "施策", "取組"]
    assert shown["counts"]["per_level"] == {"政策": 2, "施策": 2, "取組": 3}
    project3 = shown["projects"][2]
    assert project3["entries"][0]["members"] == ["生涯学習課", "公民館"]
    assert project3["entries"][0]["values"]["令和4年度"]["value"] == "1,350人"
    assert project3["entries"][0]["values"]["令和4年度"]["shares"]["公民館"]["value"] == "350人"


# --- bad masters ------------------------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != "ledger.sqlite-wal" and path.name != "ledger.sqlite-shm"
    }


def _break(workspace: Workspace, edit: str) -> None:
    book = openpyxl.load_workbook(workspace.master_path)
    plan = book["計画"]
    header = [cell.value for cell in plan[1]]

    def column(name: str) -> int:
        return header.index(name) + 1

    if edit == "missing-sheet":
        del book["担当課"]
    elif edit == "duplicate-project":
        # Row 10 holds project 9; give it the number of project 3, which came earlier.
        plan.cell(row=10, column=column("事業番号")).value = 3
    elif edit == "unknown-department":
        plan.cell(row=6, column=column("担当課")).value = "未来創造課"
    elif edit == "bad-value":
        plan.cell(row=4, column=column("現状値")).value = "たくさん"
    elif edit == "bad-address":
        book["担当課"].cell(row=2, column=3).value = "bunka＠市役所.jp"  # C2: the first department's address
    elif edit == "bad-fiscal-year":
        _setting(book, "今年度", "来年度")
    elif edit == "renamed-baseline":
        plan.cell(row=1, column=column("現状値")).value = "現状値（R4）"  # every baseline would be dropped
    elif edit == "renamed-target":
        plan.cell(row=1, column=column("目標値")).value = "目標値（R10）"  # every target would be dropped
    elif edit == "unit-without-indicator":
        plan.cell(row=2, column=column("数値目標")).value = None  # 単位 人 stays: the form would ask ○×—
    elif edit == "years-out-of-order":
        _setting(book, "前年度", "令和3年度")  # after 今年度 令和2年度: the table's headings would say so
    elif edit == "baseline-after-previous":
        _setting(book, "現状値年度", "令和2年度")
    elif edit == "deadline-before-year":
        _setting(book, "締切", dt.datetime(2020, 3, 31))  # before 令和2年度 starts: overdue on the day sent
    elif edit == "bad-round":
        _setting(book, "回", 1.5)
    elif edit == "level-gap":
        _setting(book, "階層2", None)  # 階層3 and 階層4 are still filled
    elif edit == "history-duplicate":
        history = book["履歴"]
        history.append([cell.value for cell in history[2]])  # a row pasted twice
    elif edit == "history-current-year":
        book["履歴"]["D2"] = "令和2年度"
    book.save(workspace.master_path)


def _setting(book: openpyxl.Workbook, key: str, value: object) -> None:
    for row in book["設定"].iter_rows(min_row=2):
        if row[0].value == key:
            row[1].value = value
            return
    raise AssertionError(key)


@pytest.mark.parametrize(
    ("edit", "code", "sheet", "cell", "words"),
    [
        ("missing-sheet", "master-missing-sheet", "担当課", None, "シート「担当課」がありません"),
        ("duplicate-project", "master-duplicate-project", "計画", "J10", "事業番号 3 が重複"),
        ("unknown-department", "master-unknown-department", "計画", "O6", "未来創造課"),
        ("bad-value", "master-bad-value", "計画", "N4", "値「たくさん」を読み取れません"),
        ("bad-fiscal-year", "master-bad-fiscal-year", "設定", "B13", "年度「来年度」を読み取れません"),
        ("renamed-baseline", "master-missing-column", "計画", "1:1", "列「現状値」"),
        ("renamed-target", "master-missing-column", "計画", "1:1", "列「目標値」"),
        ("unit-without-indicator", "master-missing-value", "計画", "L2", "数値目標"),
        (
            "years-out-of-order",
            "master-years-out-of-order",
            "設定",
            "B12",
            "前年度「令和3年度」が今年度「令和2年度」より前",
        ),
        (
            "baseline-after-previous",
            "master-baseline-after-previous",
            "設定",
            "B10",
            "現状値の年度「令和2年度」",
        ),
        ("deadline-before-year", "master-deadline-before-year", "設定", "B17", "締切「2020年3月31日」"),
        ("bad-round", "master-bad-round", "設定", "B14", "回「1.5」は 1 以上の整数"),
        ("level-gap", "master-missing-setting", "設定", "B7", "設定「階層2」が入力されていません"),
        ("history-duplicate", "master-duplicate-history", "履歴", "D84", "（最初の行は D2）"),
        (
            "history-current-year",
            "master-history-not-past",
            "履歴",
            "D2",
            "「令和2年度」は今年度「令和2年度」以後",
        ),
        (
            "bad-address",
            "master-bad-address",
            "担当課",
            "C2",
            "「bunka＠市役所.jp」はメールアドレスとして使えません",
        ),
    ],
)
def test_bad_master_stops_with_sheet_and_cell_and_writes_nothing(
    workspace: Workspace,
    capsys: pytest.CaptureFixture[str],
    edit: str,
    code: str,
    sheet: str,
    cell: str | None,
    words: str,
) -> None:
    _break(workspace, edit)
    with pytest.raises(ConfigurationError) as raised:
        read_master(workspace.master_path)
    finding = next(f for f in raised.value.findings if f.code == code)
    assert (finding.sheet, finding.cell) == (sheet, cell)
    assert words in finding.message()

    before = _snapshot(workspace.root)
    for command in (["plan", "show"], ["distribute"], ["consolidate"]):
        assert main([*command, "-w", str(workspace.root)]) == 2
        err = capsys.readouterr().err
        assert words in err and code in err, command
        if cell:
            assert f"{sheet}!{cell}" in err
    assert _snapshot(workspace.root) == before


@pytest.mark.parametrize(
    ("edit", "key", "commands"),
    [
        ("placeholder-name", "計画名", ["distribute", "consolidate"]),  # it would name every file and table
        ("no-office", "担当部署", ["distribute"]),  # 「いつもお世話になっております。です。」
        ("no-deadline", "締切", ["distribute"]),  # 「【締切】…」
    ],
)
def test_a_master_not_yet_finished_is_shown_but_nothing_goes_out(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], edit: str, key: str, commands: list[str]
) -> None:
    book = openpyxl.load_workbook(workspace.master_path)
    value = {"placeholder-name": PLACEHOLDER_NAME, "no-office": None, "no-deadline": None}[edit]
    _setting(
        book, {"placeholder-name": "計画名", "no-office": "担当部署", "no-deadline": "締切"}[edit], value
    )
    if edit == "no-office":
        _setting(book, "担当者", None)
    book.save(workspace.master_path)
    assert main(["plan", "show", "-w", str(workspace.root)]) == 0  # the office can still look at it
    capsys.readouterr()
    before = _snapshot(workspace.root)
    for command in commands:
        assert main([command, "-w", str(workspace.root)]) == 2, command
        assert f"設定「{key}」が入力されていません" in capsys.readouterr().err, command
    assert _snapshot(workspace.root) == before


def test_an_address_typed_in_full_width_is_read_half_width(workspace: Workspace) -> None:
    book = openpyxl.load_workbook(workspace.master_path)
    sheet = book["担当課"]
    assert sheet.cell(row=1, column=3).value == "メールアドレス"
    department = sheet.cell(row=2, column=1).value
    sheet.cell(
        row=2, column=3
    ).value = " ｂｕｎｋａ＠ｃｉｔｙ．ｅｘａｍｐｌｅ．ｊｐ"  # as an input method types it
    book.save(workspace.master_path)
    plan = read_master(workspace.master_path)
    assert plan.department(department).email == "bunka@city.example.jp"
    [sent] = [item for item in xlplan.distribute(workspace).departments if item.department == department]
    assert sent.mail is not None
    message = email.message_from_bytes(sent.mail.read_bytes(), policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "bunka@city.example.jp"


def test_missing_master_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "show", "-w", str(tmp_path)]) == 2
    assert "作業フォルダではありません" in capsys.readouterr().err


def test_english_messages_on_request(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    _break(workspace, "bad-value")
    assert main(["--lang", "en", "plan", "show", "-w", str(workspace.root)]) == 2
    assert "Cannot read value 'たくさん'" in capsys.readouterr().err


def test_init_refuses_an_existing_workspace(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(workspace.root)]) == 2
    assert "既に作業フォルダがあります" in capsys.readouterr().err


def test_unknown_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "x"), "--example", "tokyo"]) == 2
    assert "例「tokyo」はありません" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_bad_smtp_port_is_a_master_finding_when_the_master_is_read(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    # Settings are typed when the master is read: a typo waits for no first mail to be sent.
    book = openpyxl.load_workbook(workspace.master_path)
    settings = book["設定"]
    row = settings.max_row + 1
    settings.cell(row=row, column=1, value="SMTPサーバー")
    settings.cell(row=row, column=2, value="mail.city.example")
    settings.cell(row=row + 1, column=1, value="SMTPポート")
    settings.cell(row=row + 1, column=2, value="八〇")
    book.save(workspace.master_path)
    with pytest.raises(ConfigurationError) as raised:
        read_master(workspace.master_path)
    [finding] = [f for f in raised.value.findings if f.code == "smtp-bad-setting"]
    assert (finding.sheet, finding.cell) == ("設定", f"B{row + 1}")
    assert "1〜65535 の整数" in finding.message() and "a whole number from 1 to 65535" in finding.message(
        "en"
    )
    assert main(["distribute", "-w", str(workspace.root)]) == 2  # before anything is written
    assert "SMTPポート" in capsys.readouterr().err
    assert not list(workspace.outbox.rglob("*.xlsx"))


# --- every row read or reported; one root cause, one message (issue: what is seen is published) ---


def _plan_sheet_edit(workspace: Workspace, edit: str) -> None:
    book = openpyxl.load_workbook(workspace.master_path)
    plan = book["計画"]
    header = [cell.value for cell in plan[1]]
    column = {name: header.index(name) + 1 for name in header if name}
    if edit == "blank-number":
        plan.cell(row=8, column=column["事業番号"]).value = None
    elif edit == "unit":
        plan.cell(row=2, column=column["現状値"]).value = "24回"  # project 1 counts 人
    book.save(workspace.master_path)


def test_a_project_row_without_its_number_is_reported_not_dropped(workspace: Workspace) -> None:
    _plan_sheet_edit(workspace, "blank-number")
    with pytest.raises(ConfigurationError) as raised:
        read_master(workspace.master_path)
    codes = [(f.code, f.sheet, f.cell) for f in raised.value.findings]
    assert ("master-missing-value", "計画", "J8") in codes
    assert not [code for code, sheet, _cell in codes if sheet == "履歴"]  # its history rows say nothing more


def test_a_unit_mismatch_names_the_expected_unit(workspace: Workspace) -> None:
    _plan_sheet_edit(workspace, "unit")
    with pytest.raises(ConfigurationError) as raised:
        read_master(workspace.master_path)
    [finding] = [f for f in raised.value.findings if f.code == "master-unit-mismatch"]
    assert "「人」" in finding.message() and "「回」" in finding.message() and finding.cell == "N2"
    assert not [f for f in raised.value.findings if f.sheet == "履歴"]  # one root cause, one message


@pytest.mark.parametrize("arguments", [["plan", "show"], ["plan", "show", "--json"], ["status"]])
def test_a_closed_pipe_ends_quietly(workspace: Workspace, arguments: list[str]) -> None:
    """`xlplan plan show | head -1`: the reader is gone before xlplan writes; no traceback follows."""
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)  # nobody will ever read: every write fails with EPIPE
    done = subprocess.run(
        [sys.executable, "-m", "xlplan", *arguments, "-w", str(workspace.root)],
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    os.close(write)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr


def test_control_and_direction_characters_typed_into_the_master_are_never_published(
    workspace: Workspace, tmp_path: Path
) -> None:
    book = openpyxl.load_workbook(workspace.master_path)
    sheet = book["計画"]
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("事業の内容") + 1)
    original = str(cell.value)
    cell.value = "\u202e" + original + "\x7f"  # pasted from a web page: reads backwards, ends in DEL
    book.save(workspace.master_path)
    plan = read_master(workspace.master_path)
    assert plan.projects[0].description == original
    result = xlplan.consolidate(workspace, csv=True, html=True)
    assert result.csv is not None and result.html is not None
    published = [result.csv.read_text(encoding="utf-8-sig"), result.html.read_text(encoding="utf-8")]
    published += [
        str(value)
        for sheet_name in ("基本目標Ⅰ",)
        for row in calamine_rows(result.xlsx, sheet_name)
        for value in row
    ]
    assert not [text for text in published if "\u202e" in text or "\x7f" in text]
    assert any(original in text for text in published)


def test_a_percentage_typed_into_the_master_is_read_as_it_was_shown(workspace: Workspace) -> None:
    book = openpyxl.load_workbook(workspace.master_path)
    sheet = book["計画"]
    header = [cell.value for cell in sheet[1]]
    number, target, year = (header.index(name) + 1 for name in ("事業番号", "目標値", "目標年度"))
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, number).value in (17, "17"))
    sheet.cell(row, target).value = 0.5  # "50%" typed into a cell: Excel keeps 0.5 under 0%
    sheet.cell(row, target).number_format = "0%"
    sheet.cell(row, year).value = "令和6年度"
    book.save(workspace.master_path)
    project = read_master(workspace.master_path).project(17)
    assert project.unit == "%" and project.target is not None and project.target.display() == "50%"
