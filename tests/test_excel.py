"""The master workbook's buttons: ``xlplan excel build`` and the functions the buttons call.

The built ``master.xlsm`` is read back by readers we did not write (oletools' olevba for the VBA,
python-calamine for the cells, LibreOffice for the modules and the button bindings). Excel cannot
run here, so the button functions are driven through :func:`xlplan.excel.run` — the very code path
``xw.Book.caller()`` feeds — with :class:`FakeBook`, a small stand-in for xlwings' ``Book`` that
records what is written to the 状況 sheet and what is shown in the message box, on real workspaces.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import xlplan.excel
from tests.conftest import calamine_rows, convert_with_soffice, run_lock_held_elsewhere
from tests.office import Office
from tests.test_vba import olevba_modules, read_text_crlf, vba_constants
from xlplan.buttons.build import BUTTONS, OPS_SHEET, SERVER_BUTTONS, build_excel_master, rewrite_master
from xlplan.buttons.vba.remote import API_PREFIX, MESSAGES, ROLLOVER_QUESTION, SERVER_SHEET, UPLOAD_SUFFIXES
from xlplan.buttons.vba.skeleton import (
    BUTTONS_MODULE,
    CONF_SHEET,
    DEFAULT_INTERPRETER_WIN,
    button_macros,
    vba_project_bytes,
    xlwings_vba_files,
)
from xlplan.cli import main
from xlplan.demo.respond import fill_response
from xlplan.distribution.run import distribute
from xlplan.examples import Example
from xlplan.findings import Finding, Language
from xlplan.result import Reported
from xlplan.workspace.folder import Workspace, init_workspace
from xlplan.workspace.master import fill_master, read_master

MASTER_SHEETS = ["説明", "設定", "計画", "担当課", "履歴", "評価基準"]
INTERPRETER = r"C:\xlplan\venv\Scripts\pythonw.exe"


def make_built(root: Path, example: Example) -> Workspace:
    """A workspace from the example whose master was turned into master.xlsm by the command line."""
    workspace = init_workspace(root, example.plan)
    assert main(["excel", "build", "-w", str(root), "--interpreter", INTERPRETER]) == 0
    return workspace


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, example: Example) -> Workspace:
    return make_built(tmp_path_factory.mktemp("built") / "ws", example)


@pytest.fixture
def fresh(tmp_path: Path, example: Example) -> Workspace:
    """A built workspace of one's own, for tests that change it."""
    return make_built(tmp_path / "ws", example)


def style(cell: Any) -> list[str]:
    return [repr(part) for part in (cell.font, cell.fill, cell.border, cell.alignment, cell.protection)] + [
        cell.number_format
    ]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- xlplan excel build ---------------------------------------------------------------------------


def test_build_makes_master_xlsm_and_retires_master_xlsx(built: Workspace) -> None:
    assert built.master_path == built.root / "master.xlsm"
    assert not (built.root / "master.xlsx").exists(), "one master in the workspace, not two"
    backups = list((built.root / ".xlplan" / "backup").glob("master-*.xlsx"))
    assert len(backups) == 1
    book = openpyxl.load_workbook(built.master_path, keep_vba=True)
    assert book.sheetnames == [OPS_SHEET, *MASTER_SHEETS, CONF_SHEET]
    assert book.code_name == "ThisWorkbook"
    assert button_macros(built.master_path) == [button.macro for button in BUTTONS]
    conf = calamine_rows(built.master_path, CONF_SHEET)
    assert conf[0] == ["INTERPRETER_WIN", INTERPRETER]
    assert conf[1] == ["", ""], "xlwings reads keys from A1 to the first empty cell"
    ops = [row[0] for row in calamine_rows(built.master_path, OPS_SHEET) if row and row[0]]
    assert ops[0].startswith("第2次小城市男女共同参画プラン")
    for word in ("配布", "回収・検証", "集約", "督促", "inbox", "outbox", "reports", "archive", "feedback"):
        assert any(word in line for line in ops), word


def test_plan_sheets_data_and_formatting_survive(built: Workspace, example: Example) -> None:
    assert read_master(built.master_path).to_dict() == example.plan.to_dict()
    (original,) = (built.root / ".xlplan" / "backup").glob("master-*.xlsx")
    for sheet in MASTER_SHEETS:
        assert calamine_rows(built.master_path, sheet) == calamine_rows(original, sheet), sheet
    before, after = openpyxl.load_workbook(original), openpyxl.load_workbook(built.master_path)
    for name in MASTER_SHEETS:
        old, new = before[name], after[name]
        assert new.freeze_panes == old.freeze_panes and new.print_title_rows == old.print_title_rows, name
        assert new.page_setup.orientation == old.page_setup.orientation, name
        assert {k: d.width for k, d in new.column_dimensions.items()} == {
            k: d.width for k, d in old.column_dimensions.items()
        }, name
        for old_row, new_row in zip(old.iter_rows(), new.iter_rows(), strict=True):
            for a, b in zip(old_row, new_row, strict=True):
                # Styles compare by content (repr lists every field); the proxies never compare equal.
                assert style(b) == style(a), f"{name}!{a.coordinate}"
                assert (b.comment.text if b.comment else None) == (a.comment.text if a.comment else None)


def test_olevba_finds_the_button_subs_and_xlwings_verbatim(built: Workspace) -> None:
    modules = olevba_modules(built.master_path)
    assert {"ThisWorkbook", "xlwings", "Dictionary", BUTTONS_MODULE} <= set(modules)
    for button in BUTTONS:
        assert (
            f'Public Sub {button.macro}()\r\n    RunPython "import xlplan.excel; '
            f'xlplan.excel.{button.python_function}()"\r\nEnd Sub'
        ) in modules[BUTTONS_MODULE]
    bas, _ = xlwings_vba_files()
    assert modules["xlwings"] == read_text_crlf(bas)


def test_every_function_the_vba_calls_exists_in_xlplan_excel(built: Workspace) -> None:
    called = re.findall(
        r'RunPython "import xlplan\.excel; xlplan\.excel\.(\w+)\(\)"',
        olevba_modules(built.master_path)[BUTTONS_MODULE],
    )
    assert called == [button.python_function for button in BUTTONS]
    for name in called:
        assert callable(getattr(xlplan.excel, name)), name
        assert name in xlplan.excel.ACTIONS, name


def test_libreoffice_lists_the_modules_and_binds_every_button(
    built: Workspace, tmp_path: Path, soffice: tuple[str, Path]
) -> None:
    binary, profile = soffice
    ods = convert_with_soffice(binary, profile, built.master_path, "ods", tmp_path / "lo")
    with zipfile.ZipFile(ods) as archive:
        library = archive.read("Basic/VBAProject/script-lb.xml").decode()
        content = archive.read("content.xml").decode()
    listed = set(re.findall(r'library:name="([^"]+)"', library))
    assert {"xlwings", "Dictionary", BUTTONS_MODULE} <= listed
    bound = re.findall(r"vnd\.sun\.star\.script:VBAProject\.([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\?", content)
    assert bound == [(BUTTONS_MODULE, button.macro) for button in BUTTONS]
    labels = re.findall(r'<form:button [^>]*form:label="([^"]*)"', content)
    assert labels == [button.caption for button in BUTTONS]


def test_building_again_keeps_data_extra_sheets_settings_and_buttons(
    fresh: Workspace, example: Example
) -> None:
    first_vba = vba_project_bytes(fresh.master_path)
    # What the office might do between builds: a sheet of its own, a second xlwings setting.
    book = openpyxl.load_workbook(fresh.master_path, keep_vba=True)
    book.create_sheet("メモ")["A1"] = "来年度は 4 月に配布"
    book[CONF_SHEET]["A2"], book[CONF_SHEET]["B2"] = "PYTHONPATH", r"C:\xlplan\extra"
    book.save(fresh.master_path)
    book.close()

    result = build_excel_master(fresh)
    assert result.interpreter_win == INTERPRETER, "the interpreter setting is kept"
    assert result.sheets == (OPS_SHEET, *MASTER_SHEETS, "メモ", CONF_SHEET)
    assert calamine_rows(fresh.master_path, "メモ") == [["来年度は 4 月に配布"]]
    conf = calamine_rows(fresh.master_path, CONF_SHEET)
    assert conf[:3] == [["INTERPRETER_WIN", INTERPRETER], ["PYTHONPATH", r"C:\xlplan\extra"], ["", ""]]
    assert read_master(fresh.master_path).to_dict() == example.plan.to_dict()
    assert button_macros(fresh.master_path) == [button.macro for button in BUTTONS]
    assert vba_project_bytes(fresh.master_path) == first_vba
    assert result.backup is not None and result.backup.suffix == ".xlsm" and result.backup.exists()


def test_nothing_in_the_cycle_rewrites_the_master(fresh: Workspace) -> None:
    # Only init_workspace writes a master (a new .xlsx); the cycle reads it. Were that to change,
    # rewrite_master (below) is the way that keeps an .xlsm's VBA and buttons.
    from xlplan.followup import save_status, status
    from xlplan.followup.remind import remind
    from xlplan.publish.consolidate import consolidate

    before = sha256(fresh.master_path)
    distribute(fresh)
    save_status(fresh, status(fresh))
    remind(fresh)
    consolidate(fresh, csv=True)
    assert sha256(fresh.master_path) == before


def test_rewriting_the_plan_into_master_xlsm_keeps_vba_and_buttons(
    fresh: Workspace, example: Example
) -> None:
    vba, buttons = vba_project_bytes(fresh.master_path), button_macros(fresh.master_path)
    assert rewrite_master(fresh, example.plan) == fresh.master_path
    assert vba_project_bytes(fresh.master_path) == vba and button_macros(fresh.master_path) == buttons
    assert read_master(fresh.master_path).to_dict() == example.plan.to_dict()
    book = openpyxl.load_workbook(fresh.master_path, keep_vba=True)
    assert book.sheetnames[:1] == [OPS_SHEET] and set(MASTER_SHEETS) <= set(book.sheetnames)
    # openpyxl's own load and save with keep_vba (what any later tool does) keeps them too.
    fill_master(book, example.plan)
    book.save(fresh.master_path)
    assert vba_project_bytes(fresh.master_path) == vba and button_macros(fresh.master_path) == buttons
    with zipfile.ZipFile(fresh.master_path) as archive:
        assert "sheet.macroEnabled.main+xml" in archive.read("[Content_Types].xml").decode()


def test_build_refuses_a_broken_master_and_writes_nothing(
    tmp_path: Path, example: Example, capsys: Any
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    book = openpyxl.load_workbook(workspace.master_path)
    del book["計画"]
    book.save(workspace.master_path)
    before = sha256(workspace.master_path)
    assert main(["excel", "build", "-w", str(workspace.root)]) == 2
    assert "計画" in capsys.readouterr().err
    assert not (workspace.root / "master.xlsm").exists()
    assert sha256(workspace.root / "master.xlsx") == before


# --- the button functions, through the same code path as xw.Book.caller() ---------------------------


class FakeSheet:
    """One sheet: remembers the rectangle written at A1."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows: list[list[Any]] = []

    def clear_contents(self) -> None:
        self.rows = []

    def range(self, address: str) -> FakeSheet:
        assert address == "A1"
        return self

    @property
    def used_range(self) -> FakeSheet:
        return self

    def options(self, ndim: int | None = None) -> FakeSheet:
        assert ndim == 2  # a sheet's rows as a list of lists, also for a single row
        return self

    @property
    def value(self) -> list[list[Any]]:
        return self.rows

    @value.setter
    def value(self, rows: list[list[Any]]) -> None:
        assert len({len(row) for row in rows}) == 1, "xlwings writes a rectangle"
        self.rows = rows


class FakeSheets(list[FakeSheet]):
    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return next(sheet for sheet in self if sheet.name == key)
        return super().__getitem__(key)

    def add(self, name: str, before: Any = None, after: Any = None) -> FakeSheet:
        sheet = FakeSheet(name)
        self.insert(self.index(after) + 1 if after is not None else 0, sheet)
        return sheet


class FakeApp:
    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []

    def alert(
        self, prompt: str, title: str | None = None, buttons: str = "ok", mode: str | None = None
    ) -> None:
        self.alerts.append({"prompt": prompt, "title": title, "mode": mode})


class FakeBook:
    """Stand-in for the caller's xlwings Book: the master.xlsm of a real workspace."""

    def __init__(self, path: Path) -> None:
        self.fullname = str(path)
        self.sheets = FakeSheets(
            FakeSheet(name) for name in openpyxl.load_workbook(path, read_only=True).sheetnames
        )
        self.app = FakeApp()
        self.saved = 0

    def save(self) -> None:
        self.saved += 1

    def status_text(self) -> str:
        return "\n".join(" | ".join(str(value) for value in row) for row in self.sheets["状況"].rows)

    @property
    def alert(self) -> dict[str, Any]:
        (alert,) = self.app.alerts
        return alert


def press(workspace: Workspace, action: str) -> FakeBook:
    book = FakeBook(workspace.master_path)
    xlplan.excel.run(action, book)
    return book


def test_distribute_button(fresh: Workspace, example: Example) -> None:
    book = press(fresh, "distribute")
    assert book.saved == 2, "saved before the run (the library reads the file) and after writing 状況"
    assert [sheet.name for sheet in book.sheets][:2] == [OPS_SHEET, "状況"]
    rows = book.sheets["状況"].rows
    assert rows[1][:2] == ["処理", "配布"] and rows[2][1] == "「配布」が終わりました"
    assert rows[5][:2] == ["作業フォルダ", str(fresh.root)]
    folder = fresh.outbox / "2020-R1"
    assert f"出力先: {folder}" in book.status_text()
    workbooks = list(folder.glob("*.xlsx"))
    assert len(workbooks) == len(example.plan.departments) == 15
    for path in workbooks:
        assert path.name in book.status_text()
    assert book.alert["title"] == "xlplan 配布" and book.alert["mode"] == "info"
    assert (
        book.alert["prompt"].startswith("「配布」が終わりました（")
        and "「状況」シート" in book.alert["prompt"]
    )
    assert "Traceback" not in book.alert["prompt"]


def test_status_and_remind_buttons(fresh: Workspace) -> None:
    press(fresh, "distribute")
    book = press(fresh, "status")
    rows = book.sheets["状況"].rows
    assert rows[8][0].startswith("令和2年度 第1回照会: ") and "全15課" in rows[8][0]
    assert [row[0].split(":")[0] for row in rows[9:24]] == [d.name for d in fresh.load_plan().departments]
    assert f"回答状況を保存しました: {fresh.reports / '回答状況.xlsx'}" in book.status_text()
    assert (fresh.reports / "回答状況.xlsx").exists()
    reminded = press(fresh, "remind")
    assert reminded.sheets["状況"].rows[1][1] == "督促"
    # The example's deadline has passed, so every department sent to is overdue and reminded.
    assert "督促メールの下書きを作成しました" in reminded.status_text()
    assert any((fresh.outbox / "2020-R1" / "督促").glob("*.eml"))


def test_collect_button(fresh: Workspace, example: Example) -> None:
    sent = distribute(fresh)
    plan = example.plan
    for item in sent.departments[:3]:
        assert item.workbook is not None
        own = [a for a in example.answers if plan.canonical_department(a.department) == item.department]
        fill_response(item.workbook, own, fresh.inbox / item.workbook.name)
    book = press(fresh, "collect")
    assert book.sheets["状況"].rows[8][0].startswith("受信 3 件: 受理 3")
    assert book.alert["mode"] == "info"
    assert len([p for p in fresh.archive.rglob("*") if p.is_file()]) >= 3


def test_consolidate_button(fresh: Workspace) -> None:
    book = press(fresh, "consolidate")
    text = book.status_text()
    xlsx = next(fresh.reports.glob("*.xlsx"), None)
    assert re.search(r"集約表（\d+ 行）: ", text) and str(xlsx) in text
    assert "CSV: " in text and any(fresh.reports.glob("*.csv"))
    assert book.alert["mode"] == "info" and xlsx is not None


def test_a_broken_master_reaches_the_user_as_a_japanese_message(fresh: Workspace) -> None:
    book = FakeBook(fresh.master_path)
    fresh.master_path.write_bytes(b"not a workbook")
    xlplan.excel.run("distribute", book)
    assert book.alert["mode"] == "critical"
    prompt = book.alert["prompt"]
    assert (
        prompt.startswith("「配布」を実行できませんでした")
        and "計画マスタ" in prompt
        and "開けません" in prompt
    )
    assert "Traceback" not in prompt
    assert book.sheets["状況"].rows[2][1] == "「配布」を実行できませんでした"
    assert "master-unreadable" in book.status_text()


def test_an_unexpected_error_is_logged_not_shown(fresh: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(workspace: Workspace, book: Any) -> Any:
        raise ValueError("internal detail")

    monkeypatch.setitem(xlplan.excel.ACTIONS, "remind", ("督促", boom))
    book = press(fresh, "remind")
    log = fresh.root / ".xlplan" / "excel.log"
    assert book.alert["mode"] == "critical"
    assert "予期しないエラー" in book.alert["prompt"] and str(log) in book.alert["prompt"]
    assert "Traceback" not in book.alert["prompt"] and "internal detail" not in book.alert["prompt"]
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "ValueError: internal detail" in text


def test_a_workbook_that_cannot_be_saved_runs_nothing(fresh: Workspace) -> None:
    class ReadOnlyBook(FakeBook):
        def save(self) -> None:
            raise PermissionError("read-only")

    book = ReadOnlyBook(fresh.master_path)
    xlplan.excel.run("distribute", book)
    assert book.alert["mode"] == "critical" and "保存できませんでした" in book.alert["prompt"]
    assert not any(fresh.outbox.rglob("*.xlsx")), "nothing is distributed from an unsaved master"


def test_status_sheet_is_replaced_and_text_never_becomes_a_formula(
    fresh: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        xlplan.excel.ACTIONS, "status", ("回答状況", lambda workspace, book: _Lines(["=HYPERLINK(1)"]))
    )
    book = FakeBook(fresh.master_path)
    book.sheets.add("状況", after=book.sheets[0]).value = [["古い結果"] * 5] * 40
    xlplan.excel.run("status", book)
    assert "古い結果" not in book.status_text()
    assert book.sheets["状況"].rows[8][0] == "'=HYPERLINK(1)"


def test_importing_xlplan_excel_does_not_import_xlwings() -> None:
    code = "import sys, xlplan.excel, xlplan.buttons.build; print('xlwings' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_default_interpreter_is_written_without_the_option(tmp_path: Path, example: Example) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    result = build_excel_master(workspace)
    assert result.interpreter_win == DEFAULT_INTERPRETER_WIN
    assert any("pythonw.exe" in line for line in result.lines())


@dataclass(frozen=True)
class _Lines(Reported):
    """A result that only has lines, for a button stubbed out."""

    text: list[str]
    findings: tuple[Finding, ...] = ()

    def lines(self, language: Language = "ja") -> list[str]:
        return list(self.text)

    def to_dict(self, language: Language = "ja") -> dict[str, object]:
        return {"lines": self.text}


def test_review_button_lists_returns_without_proof_and_records_the_offices_marks(
    fresh: Workspace, example: Example
) -> None:
    sent = {item.department: item.workbook for item in distribute(fresh).departments if item.workbook}
    department = "総務課"
    answers = [a for a in example.answers if example.plan.canonical_department(a.department) == department]
    pasted = fresh.inbox / "貼り付け.xlsx"
    fill_response(sent[department], answers, pasted)
    book = openpyxl.load_workbook(pasted)
    book.remove(book["_xlplan"])
    book.save(pasted)
    press(fresh, "collect")
    listed = press(fresh, "review")
    table = listed.sheets["確認待ち"].rows
    header = table[3]
    assert header[:3] == ["受付番号", "ファイル", "内容から見た課"] and table[4][2] == department
    # The office marks it 受理 in the sheet and presses the button again.
    again = FakeBook(fresh.master_path)
    again.sheets.add("確認待ち", after=again.sheets[0]).value = [
        [*row[:6], "受理", "", "電話で確認"] for row in table
    ]
    xlplan.excel.run("review", again)
    assert "受理" in again.status_text() and len(again.sheets["確認待ち"].rows) == 4  # nothing waits now
    plan = fresh.load_plan()
    accepted = {a.department for a in fresh.accepted_answers(plan)}
    assert accepted == {m for a in answers for m in [a.department]}
    import sqlite3

    with sqlite3.connect(fresh.ledger_path) as connection:
        ((by, note),) = connection.execute("SELECT decided_by, note FROM decisions").fetchall()
    assert by and note == "電話で確認"


def test_review_marks_left_when_a_collection_holds_the_workspace_are_kept(
    fresh: Workspace, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = {item.department: item.workbook for item in distribute(fresh).departments if item.workbook}
    for department in ("総務課", "文化課"):
        answers = [
            a for a in example.answers if example.plan.canonical_department(a.department) == department
        ]
        pasted = fresh.inbox / f"{department}_貼り付け.xlsx"
        fill_response(sent[department], answers, pasted)
        book = openpyxl.load_workbook(pasted)
        book.remove(book["_xlplan"])
        book.save(pasted)
    press(fresh, "collect")
    table = press(fresh, "review").sheets["確認待ち"].rows
    marked = [
        [*row[:6], "受理", "", f"{row[2]}に電話で確認"] if i >= 4 else row for i, row in enumerate(table)
    ]
    # A collection (another process) holds the workspace all the while the button waits.
    with run_lock_held_elsewhere(fresh, monkeypatch):
        busy = FakeBook(fresh.master_path)
        busy.sheets.add("確認待ち", after=busy.sheets[0]).value = marked
        xlplan.excel.run("review", busy)
    assert "collect-busy" in busy.status_text()
    kept = busy.sheets["確認待ち"].rows
    assert [row[6:9] for row in kept[4:]] == [
        row[6:9] for row in marked[4:]
    ]  # nothing the office typed is lost
    again = FakeBook(fresh.master_path)
    again.sheets.add("確認待ち", after=again.sheets[0]).value = kept
    xlplan.excel.run("review", again)
    assert len(again.sheets["確認待ち"].rows) == 4  # both decided with the next click
    assert {a.department for a in fresh.accepted_answers(fresh.load_plan())} >= {"総務課", "文化課"}


# --- 次年度へ: the master is the open workbook; Windows will not let anyone replace it --------------


class SavingBook(FakeBook):
    """Excel saving what a macro wrote into the open master's sheets (values only; VBA and buttons kept)."""

    MASTER_SHEETS = ("設定", "計画", "担当課", "履歴")

    def __init__(self, path: Path, answer: str | None = "ok") -> None:
        super().__init__(path)
        self.answer = answer
        self.app.alert = self._alert  # type: ignore[method-assign]

    def _alert(
        self, prompt: str, title: str | None = None, buttons: str = "ok", mode: str | None = None
    ) -> str | None:
        self.app.alerts.append({"prompt": prompt, "title": title, "mode": mode, "buttons": buttons})
        return self.answer if buttons == "ok_cancel" else None

    @staticmethod
    def typed(value: Any) -> Any:
        """A value given to a cell through xlwings as Excel stores it: text read as if typed, so that
        "(1)" is -1, "1.6%" 0.016 and "1,957" 1957 — unless it starts with an apostrophe (text)."""
        if not isinstance(value, str):
            return value
        if value.startswith("'"):
            return value[1:]
        text = value.strip()
        negative = re.fullmatch(r"\((\d+(?:\.\d+)?)\)", text)
        if negative:
            return -float(negative.group(1))
        if re.fullmatch(r"-?\d+(?:\.\d+)?%", text):
            return float(text[:-1]) / 100
        if re.fullmatch(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?", text):
            return float(text.replace(",", ""))
        return value

    def save(self) -> None:
        super().save()
        written = [sheet for sheet in self.sheets if sheet.rows and sheet.name in self.MASTER_SHEETS]
        if not written:
            return
        book = openpyxl.load_workbook(self.fullname, keep_vba=True)
        for sheet in written:
            target = book[sheet.name]
            target.delete_rows(1, target.max_row)
            for r, row in enumerate(sheet.rows, start=1):
                for c, value in enumerate(row, start=1):
                    target.cell(r, c, self.typed(value))
        book.save(self.fullname)


def _answered(workspace: Workspace, example: Example) -> None:
    result = xlplan.distribute(workspace)
    plan = workspace.load_plan()
    dispatch = next(item for item in result.departments if item.department == "企画政策課")
    assert dispatch.workbook is not None
    answers = [a for a in example.answers if plan.canonical_department(a.department) == "企画政策課"]
    fill_response(dispatch.workbook, answers, workspace.inbox / dispatch.workbook.name)
    xlplan.collect(workspace)


def test_the_rollover_button_asks_then_writes_the_next_year_into_the_open_master(
    fresh: Workspace, example: Example
) -> None:
    _answered(fresh, example)
    vba, buttons = vba_project_bytes(fresh.master_path), button_macros(fresh.master_path)
    book = SavingBook(fresh.master_path)
    xlplan.excel.run("rollover", book)
    confirm, done = book.app.alerts
    assert (
        confirm["buttons"] == "ok_cancel" and "令和2年度を締めて令和3年度に切り替えます" in confirm["prompt"]
    )
    assert done["title"] == "xlplan 次年度へ" and done["mode"] == "info", done
    assert "令和2年度を締めて令和3年度に切り替えました" in done["prompt"]
    plan = read_master(fresh.master_path)  # what Excel saved is a master that reads
    assert plan.settings.current_year.western == 2021
    before = example.plan  # the plan itself is as it was: "(1)" stayed (1), "1.6%" stayed 1.6%
    assert plan.nodes == before.nodes and [p.baseline for p in plan.projects] == [
        p.baseline for p in before.projects
    ]
    assert any(r.fiscal_year.western == 2020 and r.project_no == 1 for r in plan.history)
    assert vba_project_bytes(fresh.master_path) == vba and button_macros(fresh.master_path) == buttons
    ops = [row[0] for row in book.sheets[OPS_SHEET].rows]  # the sheet's text names the new year
    assert "令和3年度" in ops[0] and any("2021-R1" in line for line in ops)
    assert list((fresh.root / ".xlplan" / "backup").glob("master_令和2年度締め前_*.xlsm"))


def test_the_rollover_button_keeps_the_columns_the_office_added(fresh: Workspace, example: Example) -> None:
    _answered(fresh, example)
    book = openpyxl.load_workbook(fresh.master_path, keep_vba=True)
    sheet = book["計画"]
    column = sheet.max_column + 1
    sheet.cell(row=1, column=column, value="所管部")
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row=row, column=column, value=f"部{sheet.cell(row=row, column=1).value}-{row}")
    book.save(fresh.master_path)
    before = {(r[0], r[column - 1]) for r in calamine_rows(fresh.master_path, "計画")[1:]}

    class Open(SavingBook):  # the sheets hold what the file holds, as in Excel
        def __init__(self, path: Path) -> None:
            super().__init__(path)
            values = openpyxl.load_workbook(path, read_only=True)
            for name in self.MASTER_SHEETS:
                self.sheets[name].rows = [list(row) for row in values[name].iter_rows(values_only=True)]

    xlplan.excel.run("rollover", Open(fresh.master_path))
    rows = calamine_rows(fresh.master_path, "計画")
    at = rows[0].index("所管部")
    assert {(r[0], r[at]) for r in rows[1:]} == before  # every value back on its row
    assert read_master(fresh.master_path).settings.current_year.western == 2021


def test_a_master_excel_saved_differently_from_what_was_written_is_said_to_be(
    fresh: Workspace, example: Example
) -> None:
    class Converting(SavingBook):  # an Excel that converted text the apostrophe did not protect
        @staticmethod
        def typed(value: Any) -> Any:
            return SavingBook.typed(value.lstrip("'") if isinstance(value, str) else value)

    _answered(fresh, example)
    book = Converting(fresh.master_path)
    xlplan.excel.run("rollover", book)
    assert "元に戻し" in book.app.alerts[-1]["prompt"] and ".xlplan/backup" in book.app.alerts[-1]["prompt"]


@pytest.mark.parametrize("decided", ["ok", "cancel"])
def test_the_rollover_button_asks_again_where_the_command_line_needs_force(
    fresh: Workspace, example: Example, decided: str
) -> None:
    # Nothing accepted yet (rollover-no-answers): the command line stops and says --force; the button
    # asks the office, which decides there.
    class Deciding(SavingBook):
        def _alert(self, prompt: str, title: str | None = None, buttons: str = "ok", mode: str | None = None
                   ) -> str | None:  # fmt: skip
            asked = [alert for alert in self.app.alerts if alert["buttons"] == "ok_cancel"]
            super()._alert(prompt, title, buttons, mode)
            return ("ok" if not asked else decided) if buttons == "ok_cancel" else None

    book = Deciding(fresh.master_path)
    xlplan.excel.run("rollover", book)
    questions = [alert for alert in book.app.alerts if alert["buttons"] == "ok_cancel"]
    assert len(questions) == 2
    assert "受理した回答が1件もありません" in questions[1]["prompt"] and "それでも" in questions[1]["prompt"]
    year = read_master(fresh.master_path).settings.current_year.western
    if decided == "ok":
        assert year == 2021 and "切り替えました" in book.app.alerts[-1]["prompt"]
    else:
        assert year == 2020 and "中止しました" in book.app.alerts[-1]["prompt"]


def test_the_rollover_button_cancelled_changes_nothing(fresh: Workspace, example: Example) -> None:
    _answered(fresh, example)
    before = read_master(fresh.master_path).to_dict()
    book = SavingBook(fresh.master_path, answer="cancel")
    xlplan.excel.run("rollover", book)
    assert "中止しました" in book.app.alerts[-1]["prompt"]
    assert read_master(fresh.master_path).to_dict() == before
    assert not (fresh.root / ".xlplan" / "backup").exists() or not list(
        (fresh.root / ".xlplan" / "backup").glob("*締め前*")
    )


# --- server mode: xlplan excel build --server URL ----------------------------------------------------
#
# The buttons call the xlplan server over HTTP from VBA. Excel cannot run here, so the VBA is
# read back with olevba (what it calls, what it never calls), bound by LibreOffice, and its two
# pure functions — the reply written into 状況, the 次年度へ question — are run by LibreOffice's
# VBA interpreter on the document itself.

SERVER_URL = "http://xlplan.city.local:8000"


def make_server_built(root: Path, example: Example) -> Workspace:
    workspace = init_workspace(root, example.plan)
    assert main(["excel", "build", "-w", str(root), "--server", SERVER_URL + "/"]) == 0
    return workspace


@pytest.fixture(scope="module")
def server_built(tmp_path_factory: pytest.TempPathFactory, example: Example) -> Workspace:
    return make_server_built(tmp_path_factory.mktemp("server") / "令和2年度", example)


def server_module(workspace: Workspace) -> str:
    return olevba_modules(workspace.master_path)[BUTTONS_MODULE]


def test_server_build_makes_a_master_whose_settings_sheet_names_the_server(
    server_built: Workspace, example: Example
) -> None:
    assert server_built.master_path.name == "master.xlsm" and not (server_built.root / "master.xlsx").exists()
    book = openpyxl.load_workbook(server_built.master_path, keep_vba=True)
    assert book.sheetnames == [OPS_SHEET, *MASTER_SHEETS, SERVER_SHEET]
    assert button_macros(server_built.master_path) == [button.macro for button in SERVER_BUTTONS]
    assert [b.caption for b in SERVER_BUTTONS] == [
        "配布", "回答を送る", "回収・検証", "集約", "督促", "回答状況", "確認待ち", "次年度へ"
    ]  # fmt: skip
    settings = {row[0]: row[1] for row in calamine_rows(server_built.master_path, SERVER_SHEET)[1:8]}
    assert settings["SERVER_URL"] == SERVER_URL, "the trailing / is dropped"
    assert settings["WORKSPACE"] == "令和2年度", "the workspace folder's name, as the server names it"
    assert read_master(server_built.master_path).to_dict() == example.plan.to_dict()
    ops = [row[0] for row in calamine_rows(server_built.master_path, OPS_SHEET) if row and row[0]]
    assert SERVER_URL in ops[1] and "Python は要りません" in ops[1]
    assert not any("xlwings" in line for line in ops)


def test_server_master_vba_calls_the_server_and_never_starts_a_program(server_built: Workspace) -> None:
    modules = olevba_modules(server_built.master_path)
    assert "xlwings" not in modules and "Dictionary" not in modules
    source = modules[BUTTONS_MODULE]
    for forbidden in (r"\bDeclare\b", r"\bShell\b", r"WScript", r"RunPython", r"\bResponseText\b"):
        assert not re.search(forbidden, source, flags=re.I), forbidden
    for needed in (
        'CreateObject("WinHttp.WinHttpRequest.5.1")',
        f'Private Const BUILT_SERVER_URL As String = "{SERVER_URL}"',
        f'"{API_PREFIX}"',
        '"?format=sheet"',
        '"Authorization", "Bearer " & token',
        "http.SetTimeouts",
        "http.SetProxy PROXY_DIRECT",
        'GetSetting(APP_NAME, TokenSection(apiRoot), "token", "")',
        'SaveSetting APP_NAME, TokenSection(apiRoot), "token", token',
        'DeleteSetting APP_NAME, TokenSection(apiRoot), "token"',
        "If status = 401 Then",
        'stream.Charset = "utf-8"',
        "http.ResponseBody",
        'CreateObject("ADODB.Stream")',
        "MultiSelect:=True",
        '"multipart/form-data; boundary=" & boundary',
        'name=""file""; filename=""',
        "ThisWorkbook.FollowHyperlink url",
        'url = ServerUrl() & "/"',
        "Worksheets.Add(After:=ThisWorkbook.Worksheets(1))",
    ):
        assert needed in source, needed
    calls = re.findall(r'RunAction "(GET|POST)", "(/\w+)"', source)
    assert calls == [
        ("POST", "/distribute"),
        ("POST", "/collect"),
        ("POST", "/consolidate"),
        ("POST", "/remind"),
        ("GET", "/status"),
        ("GET", "/status"),
    ]  # fmt: skip  (the 2nd: 次年度へ's reason)
    assert 'SendFiles "/returns"' in source and 'ConfirmAndRollover "/rollover"' in source
    assert 'Send("GET", apiRoot & "/status", token' in source, "次年度へ asks the server for the year first"
    for button in SERVER_BUTTONS:
        assert f"Public Sub {button.macro}()\r\n" in source
    constants = vba_constants(source)
    assert {name for name in constants if name.startswith("MSG_")} == {f"MSG_{name}" for name in MESSAGES}
    assert constants["UPLOAD_SUFFIXES"].split() == list(UPLOAD_SUFFIXES)


def test_the_upload_takes_every_kind_of_file_the_inbox_takes() -> None:
    from xlplan.collection.intake import WORKBOOK_SUFFIXES

    assert set(UPLOAD_SUFFIXES) == set(WORKBOOK_SUFFIXES) | {".eml"}


def test_libreoffice_binds_every_server_button(
    server_built: Workspace, tmp_path: Path, soffice: tuple[str, Path]
) -> None:
    binary, profile = soffice
    ods = convert_with_soffice(binary, profile, server_built.master_path, "ods", tmp_path / "lo")
    with zipfile.ZipFile(ods) as archive:
        library = archive.read("Basic/VBAProject/script-lb.xml").decode()
        content = archive.read("content.xml").decode()
        module = archive.read(f"Basic/VBAProject/{BUTTONS_MODULE}.xml").decode()
    listed = set(re.findall(r'library:name="([^"]+)"', library)) - {"VBAProject"}
    assert listed == {"ThisWorkbook", "Sheet1", "Sheet2", BUTTONS_MODULE}
    assert "WinHttp.WinHttpRequest.5.1" in module
    bound = re.findall(r"vnd\.sun\.star\.script:VBAProject\.([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\?", content)
    assert bound == [(BUTTONS_MODULE, button.macro) for button in SERVER_BUTTONS]
    labels = re.findall(r'<form:button [^>]*form:label="([^"]*)"', content)
    assert labels == [button.caption for button in SERVER_BUTTONS]


def test_libreoffice_runs_the_vba_that_writes_the_reply_into_the_status_sheet(
    server_built: Workspace, office: Office
) -> None:
    from xlplan.buttons.report import status_rows

    # A reply as the server sends it: line 1 the message (\n for a line break), then the rows of
    # the 状況 sheet as the RunPython buttons write them, with text that looks like a formula.
    started = dt.datetime(2021, 5, 10, 9, 30)
    rows = status_rows("回収・検証", "「回収・検証」が終わりました", started, 3.2, "/srv/令和2年度",
                       ["受信 1 件: 受理 1", "=SUM(A1:A9) は数式ではありません", "@担当", "+81 0952"], [])  # fmt: skip
    rows.append(["-1", "", "", "", '=HYPERLINK("http://x")'])
    # A backslash is sent as \\ (a Windows path), so "\\new" is a backslash and "new", no line break.
    reply = "「回収・検証」が終わりました（3 秒）。\\n記録: C:\\\\xlplan\\\\new.log\n" + "".join(
        "\t".join(str(cell) for cell in row) + "\n" for row in rows
    )
    (message, again), look = office.call(
        server_built.master_path,
        [
            (f"{BUTTONS_MODULE}.WriteReply", ["古い結果\n" + "古い\t行\n" * 40]),
            (f"{BUTTONS_MODULE}.WriteReply", [reply]),
        ],
        read=["状況"],
    )
    assert again == "「回収・検証」が終わりました（3 秒）。\n記録: C:\\xlplan\\new.log"
    assert message == "古い結果"
    assert list(look.visibility)[:2] == [OPS_SHEET, "状況"], "状況 is added right after the first sheet"
    shown = look.cells["状況"]
    assert len(shown) == len(rows), "the old, longer result was cleared first"
    # Displayed as sent: the apostrophe (from the server or added by the VBA) keeps formulas text.
    assert shown == [[str(cell).removeprefix("'") for cell in row] for row in rows]
    assert ["=SUM(A1:A9) は数式ではありません", "", "", "", ""] in shown, "text, not a formula"
    assert shown[-1] == ["-1", "", "", "", '=HYPERLINK("http://x")'], "written by the VBA as text"


def test_libreoffice_runs_the_vba_that_asks_before_the_rollover(
    server_built: Workspace, office: Office
) -> None:
    import json

    from xlplan.plan.fiscal_year import FiscalYear

    document = xlplan.status(server_built).to_dict()
    pretty = json.dumps(document, ensure_ascii=False)
    compact = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    heisei = compact.replace('"western":2020', '"western":2018')
    answers, _ = office.call(
        server_built.master_path,
        [(f"{BUTTONS_MODULE}.RolloverQuestion", [text]) for text in (pretty, compact, heisei, "{}")],
    )
    year = FiscalYear(2020)
    assert answers[0] == answers[1] == ROLLOVER_QUESTION.format(year=year.wareki, next=year.next().wareki)
    assert answers[2] == ROLLOVER_QUESTION.format(year="平成30年度", next="令和元年度")
    assert answers[3] == MESSAGES["ROLLOVER_ASK_PLAIN"]


def test_libreoffice_runs_the_vba_that_offers_to_force_only_what_force_overrides(
    server_built: Workspace, office: Office
) -> None:
    from xlplan.buttons.report import status_rows

    started = dt.datetime(2021, 5, 10, 9, 30)

    def reply(*codes: str) -> str:
        """The server's sheet reply to a refused rollover with these findings."""
        findings = [Finding(code, {"count": 1, "files": "a.xlsx", "year": "令和2年度"}) for code in codes]
        rows = status_rows(
            "次年度へ", "「次年度へ」を実行できませんでした", started, 0.1, "/srv/令和2年度", [], findings
        )
        return "「次年度へ」を実行できませんでした\n" + "".join(
            "\t".join(str(c) for c in row) + "\n" for row in rows
        )

    cases = [
        reply("rollover-no-answers"),
        reply("rollover-unchecked", "rollover-review"),
        reply("rollover-year-untouched"),  # never forced: it would skip a year
        reply("rollover-unchecked", "rollover-year-untouched"),
        reply("master-missing-setting"),  # not a refusal of the rollover at all
    ]
    answers, _ = office.call(
        server_built.master_path, [(f"{BUTTONS_MODULE}.CanForce", [text]) for text in cases]
    )
    assert answers == [True, True, False, False, False]


def test_the_server_question_is_the_one_the_python_button_asks(fresh: Workspace, example: Example) -> None:
    _answered(fresh, example)
    book = SavingBook(fresh.master_path, answer="cancel")
    xlplan.excel.run("rollover", book)
    year = fresh.load_plan().settings.current_year
    assert book.app.alerts[0]["prompt"] == ROLLOVER_QUESTION.format(year=year.wareki, next=year.next().wareki)
    assert book.app.alerts[0]["title"] == "xlplan 次年度へ"


def test_the_python_mode_master_is_unchanged_by_server_mode(built: Workspace) -> None:
    from xlplan.buttons.vba.skeleton import buttons_module_source

    modules = olevba_modules(built.master_path)
    assert set(modules) == {"ThisWorkbook", "Sheet1", "Sheet2", "xlwings", "Dictionary", BUTTONS_MODULE}
    assert modules[BUTTONS_MODULE] == f'Attribute VB_Name = "{BUTTONS_MODULE}"\r\n' + buttons_module_source(
        BUTTONS
    )
    assert "WinHttp" not in modules[BUTTONS_MODULE]
    assert SERVER_SHEET not in openpyxl.load_workbook(built.master_path, read_only=True).sheetnames
    result = xlplan.buttons.build.BuildResult(built.master_path, None, (), (), INTERPRETER)
    assert result.to_dict()["interpreter_win"] == INTERPRETER and result.to_dict()["server"] is None


def test_switching_modes_and_rebuilding_keeps_the_offices_proxy_and_timeouts(
    tmp_path: Path, example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = make_built(tmp_path / "ws", example)
    # Server mode needs no xlwings at all.
    from xlplan.buttons import build
    from xlplan.buttons.vba.skeleton import XlwingsVbaNotFoundError

    def missing() -> None:
        raise XlwingsVbaNotFoundError("xlwings is not installed")

    monkeypatch.setattr(build, "xlwings_vba_files", missing)
    result = build_excel_master(workspace, server="https://xlplan.example.lg.jp/plan")
    assert result.server == "https://xlplan.example.lg.jp/plan" and result.interpreter_win == ""
    assert "サーバー（xlplan.server シート）: https://xlplan.example.lg.jp/plan" in "\n".join(result.lines())
    assert CONF_SHEET not in result.sheets and result.sheets[-1] == SERVER_SHEET
    book = openpyxl.load_workbook(workspace.master_path, keep_vba=True)
    sheet = book[SERVER_SHEET]
    for row in sheet.iter_rows(min_row=2, max_row=8):
        if row[0].value == "PROXY":
            row[1].value = "proxy.city.local:8080"
        if row[0].value == "TIMEOUT_RECEIVE":
            row[1].value = 1800
    book.save(workspace.master_path)

    again = build_excel_master(workspace, server="http://10.1.2.3:8000")
    settings = {row[0]: row[1] for row in calamine_rows(workspace.master_path, SERVER_SHEET)[1:8]}
    assert settings["SERVER_URL"] == "http://10.1.2.3:8000" and again.sheets.count(SERVER_SHEET) == 1
    assert settings["PROXY"] == "proxy.city.local:8080" and settings["TIMEOUT_RECEIVE"] == 1800
    assert '"http://10.1.2.3:8000"' in server_module(workspace)
    assert read_master(workspace.master_path).to_dict() == example.plan.to_dict()

    monkeypatch.undo()
    back = build_excel_master(workspace)  # without --server: the Python buttons again
    assert back.server is None and back.sheets[-1] == CONF_SHEET and SERVER_SHEET not in back.sheets
    assert button_macros(workspace.master_path) == [button.macro for button in BUTTONS]
    assert "xlwings" in olevba_modules(workspace.master_path)


@pytest.mark.parametrize(
    "url", ["ftp://xlplan.city.local", "xlplan.city.local:8000", "http://admin:pw@xlplan.city.local", ""]
)
def test_server_must_be_an_http_url_said_in_japanese_and_nothing_is_written(
    tmp_path: Path, example: Example, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    before = sha256(workspace.master_path)
    assert main(["excel", "build", "-w", str(workspace.root), "--server", url]) == 2
    err = capsys.readouterr().err
    assert "http:// または https:// で始まるアドレスを指定してください" in err and "server-url-invalid" in err
    assert not (workspace.root / "master.xlsm").exists()
    assert sha256(workspace.root / "master.xlsx") == before


def test_server_and_interpreter_do_not_go_together(
    tmp_path: Path, example: Example, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    argv = ["excel", "build", "-w", str(workspace.root), "--server", SERVER_URL, "--interpreter", INTERPRETER]
    assert main(argv) == 2
    assert "は一緒に指定できません" in capsys.readouterr().err
    assert not (workspace.root / "master.xlsm").exists()


def test_the_operations_sheet_explains_every_button_in_both_modes(example: Example) -> None:
    from xlplan.buttons.build import BUTTONS, SERVER_BUTTONS, explanation_lines, server_explanation_lines

    for buttons, lines in (
        (BUTTONS, explanation_lines(example.plan)),
        (SERVER_BUTTONS, server_explanation_lines(example.plan, "http://xlplan.city.local:8000")),
    ):
        cycle = next(line for line in lines if line.startswith("1年の流れ"))
        for button in buttons:
            assert any(line.startswith(f"・{button.caption}: ") for line in lines), button.caption
        assert cycle.endswith("→ 次年度へ"), cycle


def test_the_message_box_text_keeps_its_last_line_within_what_excel_shows() -> None:
    from xlplan.buttons.report import alert_text

    long = [Finding("serve-failed", {"action": "回収・検証", "log": "あ" * 280}) for _ in range(8)]
    text = alert_text("「回収・検証」を実行できませんでした", 3.0, ["受信 1 件" * 20] * 8, long)
    assert len(text) <= 1000 and text.endswith("詳しくは「状況」シートを見てください。"), len(text)
    assert text.startswith("「回収・検証」を実行できませんでした（3 秒）。")


def test_libreoffice_runs_the_vba_that_names_the_tokens_registry_key(
    server_built: Workspace, office: Office
) -> None:
    from urllib.parse import quote

    base = "https://intra.city.lg.jp/xlplan/api/v1/workspaces/"
    long_a = base + quote("第3次みらい市男女共同参画プラン令和8年度実績照会の作業フォルダ")
    long_b = base + quote("第3次みらい市男女共同参画プラン令和9年度実績照会の作業フォルダ")
    short = base + quote("令和2年度")
    answers, _ = office.call(
        server_built.master_path,
        [(f"{BUTTONS_MODULE}.TokenSection", [text]) for text in (long_a, long_b, short, long_a)],
    )
    assert len(long_a) > 255 and all(len(answer) <= 255 for answer in answers), [len(a) for a in answers]
    assert (
        answers[0] != answers[1] and answers[0] == answers[3]
    )  # two workspaces apart, one the same each time
    assert answers[2] == short  # a short address is its own key, as before


def test_building_under_a_master_open_in_excel_is_refused_and_moves_nothing(
    tmp_path: Path, example: Example, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = init_workspace(tmp_path / "令和2年度", example.plan)
    (workspace.root / "~$master.xlsx").write_bytes(b"\x00" * 162)  # Excel has master.xlsx open
    assert main(["excel", "build", "-w", str(workspace.root), "--server", SERVER_URL]) == 3
    assert "(master-open-in-excel)" in capsys.readouterr().err
    assert (workspace.root / "master.xlsx").exists() and not (workspace.root / "master.xlsm").exists()
