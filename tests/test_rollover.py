"""次年度へ: the demo's 令和2年度 closed into the history and a 令和3年度 cycle run on it, read back by
python-calamine and LibreOffice; refusals that write nothing; a kill -9 anywhere never closes a year
twice; a master with buttons keeps them."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

import xlplan
from tests.conftest import calamine_rows, fill_and_collect
from tests.office import Office
from xlplan.cli import main
from xlplan.demo.respond import fill_response
from xlplan.errors import OutputError
from xlplan.examples import Example
from xlplan.form import layout
from xlplan.plan.blank import advance_text
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.model import Plan
from xlplan.publish.consolidate import ConsolidationResult
from xlplan.workspace.folder import Workspace, init_workspace

R2, R3, R4 = FiscalYear(2020), FiscalYear(2021), FiscalYear(2022)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Years:
    workspace: Workspace
    r2: ConsolidationResult  # the 令和2年度 table, published before the rollover
    rolled: xlplan.RolloverResult
    r3: ConsolidationResult  # the 令和3年度 table, after a cycle on the rolled-over master


def _published(result: ConsolidationResult) -> dict[tuple[str, str], dict[str, str]]:
    """The open-data CSV by (事業番号, 担当課)."""
    assert result.csv is not None
    with result.csv.open(encoding="utf-8-sig", newline="") as handle:
        return {(row["事業番号"], row["担当課"]): row for row in csv.DictReader(handle)}


def _shown(row: dict[str, str], year: str) -> str:
    if row[f"{year}_記号"]:
        return row[f"{year}_記号"]
    if not row[f"{year}_数値"]:
        return ""
    return f"{Decimal(row[f'{year}_数値']):,}{row[f'{year}_単位']}"


@pytest.fixture(scope="module")
def years(tmp_path_factory: pytest.TempPathFactory, example: Example) -> Years:
    workspace = init_workspace(tmp_path_factory.mktemp("years") / "ws", example.plan)
    fill_and_collect(workspace, example)
    r2 = xlplan.consolidate(workspace, csv=True)
    rolled = xlplan.rollover(workspace)
    fill_and_collect(workspace, example)  # 令和3年度: the same answers stand in for a new year's
    r3 = xlplan.consolidate(workspace, csv=True)
    return Years(workspace, r2, rolled, r3)


def test_the_year_closes_into_the_history_with_every_entry(years: Years, example: Example) -> None:
    assert (years.rolled.closed, years.rolled.opened) == (R2, R3)
    plan = years.workspace.load_plan()
    assert (plan.settings.previous_year, plan.settings.current_year, plan.settings.round) == (R2, R3, 1)
    assert plan.settings.baseline_year == example.plan.settings.baseline_year
    assert plan.settings.title.endswith("（R3）")
    # The 履歴 sheet, read by the second reader: every one of the 86 entries has its 令和2年度 value.
    rows = calamine_rows(years.workspace.master_path, "履歴")
    header = rows[0]
    at = {name: header.index(name) for name in ("事業番号", "担当課", "内訳の課", "年度", "値", "実績内容")}
    closed = [row for row in rows[1:] if row[at["年度"]] == "令和2年度" and not row[at["内訳の課"]]]
    entries = [(p.no, e.name) for p in example.plan.projects for e in p.entries]
    assert len(entries) == 86
    assert sorted((int(row[at["事業番号"]]), row[at["担当課"]]) for row in closed) == sorted(entries)
    # … each as the 令和2年度 table printed it, value and narrative.
    published = _published(years.r2)
    for row in closed:
        printed = published[(str(int(row[at["事業番号"]])), row[at["担当課"]])]
        assert str(row[at["値"]] or "") == _shown(printed, "今年度"), row
        assert (row[at["実績内容"]] or "") == printed["今年度_実績内容"].replace("\r\n", "\n"), row
    # A joint entry keeps each department's own share too, for next year's department workbooks.
    shares = [row for row in rows[1:] if row[at["年度"]] == "令和2年度" and row[at["内訳の課"]]]
    joint = sum(len(e.members) for p in example.plan.projects for e in p.entries if e.joint)
    assert len(shares) == joint and years.rolled.records == 86 + joint


def test_next_years_department_workbooks_show_this_years_values_as_last_years(
    years: Years, example: Example
) -> None:
    plan = example.plan
    by_share = {(a.project_no, a.entry, plan.canonical_department(a.department)): a for a in example.answers}
    checked = 0
    for path in (years.workspace.outbox / "2021-R1").glob("*.xlsx"):
        rows = calamine_rows(path, layout.RESPONSE_SHEET)
        header = rows[layout.HEADER_ROW - 1]
        previous = header.index("前年度の値（令和2年度）")
        project, answering = header.index("事業番号"), header.index("回答する課")
        entry_col = header.index("担当課")
        for row in rows[layout.HEADER_ROW :]:
            if not row[0]:
                continue
            answer = by_share[(int(row[project]), row[entry_col], plan.canonical_department(row[answering]))]
            expected = answer.value.number if answer.value.number is not None else answer.value.display()
            got = row[previous]
            assert (Decimal(str(got)) if isinstance(got, float) else got or "") == (
                expected if expected is not None else ""
            ), row
            checked += 1
    assert checked == sum(len(e.members) for p in plan.projects for e in p.entries)


def test_the_next_years_table_prints_them_under_the_closed_years_heading(
    years: Years, office: Office
) -> None:
    before, after = _published(years.r2), _published(years.r3)
    assert set(before) == set(after)
    for key, row in after.items():
        assert row["前年度_年度（和暦）"] == "令和2年度"
        assert _shown(row, "前年度") == _shown(before[key], "今年度"), key
    # As LibreOffice displays the 令和3年度 workbook: the previous-year heading is 令和2年度.
    look = office.look(years.r3.xlsx, read=["基本目標Ⅰ"])
    heading = look.cells["基本目標Ⅰ"][4]
    assert heading[5] == "令和2年度" and heading[6] == "令和3年度"


# --- refusals: a Japanese message, nothing written --------------------------------------------------


def _snapshot(workspace: Workspace) -> dict[str, str]:
    return {str(p.relative_to(workspace.root)): _sha(p) for p in sorted(workspace.root.rglob("*"))
            if p.is_file() and "ledger" not in p.name and not p.name.endswith(".lock")}  # fmt: skip


@pytest.mark.parametrize(
    ("title", "advanced"),
    [
        ("事業実績一覧（R2）", "事業実績一覧（R3）"),
        ("令和２年度 事業実績一覧", "令和３年度 事業実績一覧"),  # full-width, as an IME types it
        ("事業実績一覧（Ｒ２）", "事業実績一覧（Ｒ３）"),
        ("事業実績一覧（R02）", "事業実績一覧（R03）"),
        ("２０２０年度 進捗状況", "２０２１年度 進捗状況"),
        # The plan's period is not the report's year: only the year reported on moves on.
        ("プラン（令和2年度～令和6年度）令和2年度実績", "プラン（令和2年度～令和6年度）令和3年度実績"),
        ("計画期間 令和2年度から令和6年度まで（R2）", "計画期間 令和2年度から令和6年度まで（R3）"),
        (
            "第2次プラン（令和2年度～6年度）事業実績一覧（R2）",
            "第2次プラン（令和2年度～6年度）事業実績一覧（R3）",
        ),
        ("計画期間：令和2年度から5年間 令和2年度実績", "計画期間：令和2年度から5年間 令和3年度実績"),
        ("R2D2 計画 R2", "R2D2 計画 R3"),
    ],
)
def test_the_title_s_year_moves_on_in_the_form_it_was_written(title: str, advanced: str) -> None:
    assert advance_text(title, R2) == advanced


def test_heisei_31_and_the_first_year_of_reiwa_move_on_as_the_same_year() -> None:
    assert advance_text("平成31年度 事業実績（H31）", FiscalYear(2019)) == "令和2年度 事業実績（R2）"
    assert advance_text("平成30年度（H30）", FiscalYear(2018)) == "令和元年度（R1）"


def test_a_title_written_in_full_width_gets_the_new_year_and_last_year_s_files_are_kept(
    tmp_path: Path, example: Example
) -> None:
    settings = dataclasses.replace(
        example.plan.settings, title="第2次小城市男女共同参画プラン 令和２年度 事業実績一覧"
    )
    workspace = init_workspace(tmp_path / "ws", dataclasses.replace(example.plan, settings=settings))
    fill_and_collect(workspace, example)
    r2 = xlplan.consolidate(workspace)
    published = _sha(r2.xlsx)
    rolled = xlplan.rollover(workspace)
    assert workspace.load_plan().settings.title == "第2次小城市男女共同参画プラン 令和３年度 事業実績一覧"
    assert "rollover-title-unchanged" not in [finding.code for finding in rolled.findings]
    fill_and_collect(workspace, example)
    r3 = xlplan.consolidate(workspace)
    assert r3.xlsx != r2.xlsx and _sha(r2.xlsx) == published  # last year's published table is untouched


def test_a_title_that_names_no_year_is_kept_with_a_warning_naming_the_files_at_stake(
    tmp_path: Path, example: Example
) -> None:
    settings = dataclasses.replace(example.plan.settings, title="男女共同参画プラン 事業実績一覧")
    workspace = init_workspace(tmp_path / "ws", dataclasses.replace(example.plan, settings=settings))
    fill_and_collect(workspace, example)
    rolled = xlplan.rollover(workspace)
    (finding,) = [finding for finding in rolled.findings if finding.code == "rollover-title-unchanged"]
    assert not finding.is_error and rolled.ok
    assert finding.sheet == "設定"
    assert "「男女共同参画プラン 事業実績一覧」" in finding.message("ja")
    assert "上書き" in finding.message("ja")


def test_a_return_waiting_in_the_inbox_stops_the_rollover(
    tmp_path: Path, example: Example, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    fill_and_collect(workspace, example, only={"企画政策課"})
    late = next(workspace.outbox.rglob("*文化課.xlsx"))
    shutil.copy(late, workspace.inbox / late.name)  # arrived after the last collection
    before = _snapshot(workspace)
    assert main(["rollover", "-w", str(workspace.root)]) == 2
    err = capsys.readouterr().err
    assert "まだ検証していない回答が 1 件" in err and late.name in err and "--force" in err
    assert _snapshot(workspace) == before
    assert main(["rollover", "-w", str(workspace.root), "--force"]) == 0
    assert workspace.load_plan().settings.current_year == R3


def test_a_year_without_accepted_answers_is_not_closed(
    tmp_path: Path, example: Example, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    before = _snapshot(workspace)
    assert main(["rollover", "-w", str(workspace.root)]) == 2
    assert "受理した回答が1件もありません" in capsys.readouterr().err
    assert _snapshot(workspace) == before


def test_rolling_over_twice_never_skips_a_year(
    tmp_path: Path, example: Example, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    fill_and_collect(workspace, example, only={"企画政策課"})
    assert main(["rollover", "-w", str(workspace.root), "--json"]) == 0
    capsys.readouterr()
    before = _snapshot(workspace)
    for extra in ([], ["--force"]):
        assert main(["rollover", "-w", str(workspace.root), *extra]) == 2
        assert "1年分が抜ける" in capsys.readouterr().err
    assert _snapshot(workspace) == before
    assert workspace.load_plan().settings.current_year == R3


def test_departments_that_never_answered_are_recorded_as_missing(tmp_path: Path, example: Example) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    fill_and_collect(workspace, example, only={"企画政策課"})
    result = xlplan.rollover(workspace)
    assert "生涯学習課" in result.silent and "企画政策課" not in result.silent
    history = [r for r in workspace.load_plan().recorded_history if r.fiscal_year == R2]
    joint = next(r for r in history if r.project_no == 1 and r.department is None)  # 企画政策課 生涯学習課
    assert joint.note == "未回答: 生涯学習課" and joint.value.display() == "90人"
    share = next(r for r in history if r.project_no == 1 and r.department == "生涯学習課")
    assert share.note == "未回答" and share.value.is_blank
    assert "未回答" in [row[6] for row in calamine_rows(workspace.master_path, "履歴")]


# --- kill -9 anywhere ----------------------------------------------------------------------------


def test_a_rollover_killed_anywhere_closes_the_year_exactly_once(tmp_path: Path, example: Example) -> None:
    template = init_workspace(tmp_path / "template", example.plan)
    fill_and_collect(template, example)
    moments = random.Random(20261203)
    for attempt in range(6):
        root = tmp_path / f"ws{attempt}"
        shutil.copytree(template.root, root)
        process = subprocess.Popen([sys.executable, "-m", "xlplan", "rollover", "-w", str(root)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(moments.uniform(0.2, 2.5))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        finish = subprocess.run([sys.executable, "-m", "xlplan", "rollover", "-w", str(root)],
                                capture_output=True, text=True)  # fmt: skip
        workspace = Workspace(root)
        plan = workspace.load_plan()
        assert plan.settings.current_year == R3, (attempt, finish.stderr)  # closed once: never 令和4年度
        closed = [r for r in plan.recorded_history if r.fiscal_year == R2 and r.department is None]
        assert len(closed) == 86, attempt  # every entry, none twice
        with sqlite3.connect(workspace.ledger_path) as connection:
            states = [row[0] for row in connection.execute("SELECT state FROM rollovers ORDER BY id")]
        assert states[-1] == "done", states


def test_a_rollover_that_never_replaced_the_master_is_not_taken_a_year_later_for_the_next(
    tmp_path: Path, example: Example
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    fill_and_collect(workspace, example)

    def held_by_excel(plan: object) -> Path:
        raise xlplan.OutputError([xlplan.Finding("file-busy", {"file": workspace.master_path.name})])

    with pytest.raises(xlplan.OutputError):  # the master is open in Excel: nothing replaced
        xlplan.rollover(workspace, write=held_by_excel)
    assert workspace.load_plan().settings.current_year == R2
    assert xlplan.rollover(workspace).opened == R3  # closed again, once the file is free
    fill_and_collect(workspace, example)
    rolled = xlplan.rollover(workspace)  # a year later: 令和3年度 is closed, not "finished"
    plan = workspace.load_plan()
    assert (rolled.opened, rolled.resumed, plan.settings.current_year) == (R4, False, R4)
    assert len([r for r in plan.recorded_history if r.fiscal_year == R3 and r.department is None]) == 86
    with sqlite3.connect(workspace.ledger_path) as connection:
        states = [row[0] for row in connection.execute("SELECT state FROM rollovers ORDER BY id")]
    assert states == ["abandoned", "done", "done"]


def test_a_rollover_killed_after_its_master_was_written_is_finished_though_the_year_was_reached_before(
    tmp_path: Path, example: Example
) -> None:
    from xlplan.buttons.build import rewrite_master

    workspace = init_workspace(tmp_path / "ws", example.plan)
    fill_and_collect(workspace, example)
    first = xlplan.rollover(workspace)
    assert first.backup is not None
    shutil.copyfile(first.backup, workspace.master_path)  # the office put the 令和2年度 master back

    def killed_after_writing(plan: Plan) -> Path:
        rewrite_master(workspace, plan)
        raise KeyboardInterrupt  # the run stops before it marks the rollover done

    with pytest.raises(KeyboardInterrupt):
        xlplan.rollover(workspace, write=killed_after_writing)
    finished = xlplan.rollover(workspace)
    assert finished.resumed and workspace.load_plan().settings.current_year == R3  # not 令和4年度
    with sqlite3.connect(workspace.ledger_path) as connection:
        states = [row[0] for row in connection.execute("SELECT state FROM rollovers ORDER BY id")]
    assert states == ["done", "done"]


def test_last_years_workbook_sent_after_the_rollover_is_said_to_be_last_years(
    tmp_path: Path, example: Example
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    sent = {d.department: d.workbook for d in xlplan.distribute(workspace).departments}
    plan = workspace.load_plan()
    late, source = tmp_path / "企画政策課_令和2年度.xlsx", sent["企画政策課"]
    assert source is not None
    answers = [a for a in example.answers if plan.canonical_department(a.department) == "企画政策課"]
    fill_response(source, [dataclasses.replace(a, narrative="遅れて提出します。") for a in answers], late)
    fill_and_collect(workspace, example)
    xlplan.rollover(workspace)
    shutil.copyfile(late, workspace.inbox / late.name)
    (returned,) = xlplan.collect(workspace).files
    codes = [finding.code for finding in returned.findings]
    assert "manifest-other-year" in codes and "columns-changed" not in codes, codes


# --- a master with buttons --------------------------------------------------------------------------


def test_a_master_with_buttons_keeps_its_vba_and_gets_the_rollover_button(
    tmp_path: Path, example: Example
) -> None:
    from xlplan.buttons.vba.skeleton import button_macros

    workspace = init_workspace(tmp_path / "ws", example.plan)
    xlplan.build_buttons(workspace)
    assert workspace.master_path.suffix == ".xlsm"
    macros = button_macros(workspace.master_path)
    assert "Rollover" in " ".join(str(m) for m in macros)
    fill_and_collect(workspace, example, only={"企画政策課"})
    xlplan.rollover(workspace)  # the command line, Excel closed: the file is replaced, VBA kept
    assert button_macros(workspace.master_path) == macros
    book = openpyxl.load_workbook(workspace.master_path, keep_vba=True)
    assert book.sheetnames[0] == "操作"
    assert workspace.load_plan().settings.current_year == R3
    # The 操作 sheet's text tells the new year and the new round's folder, as the second reader shows it.
    ops = [row[0] for row in calamine_rows(workspace.master_path, "操作") if row and row[0]]
    assert "令和3年度" in ops[0] and "令和2年度" not in ops[0]
    assert any("outbox\\2021-R1" in line for line in ops) and not any("2020-R1" in line for line in ops)


def test_a_master_open_in_excel_is_not_replaced_under_it(
    tmp_path: Path, example: Example, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    fill_and_collect(workspace, example)
    before = _sha(workspace.master_path)
    owner = workspace.root / "~$master.xlsx"  # what Excel leaves beside a workbook it has open
    owner.write_bytes(b"\x00" * 162)
    assert (
        main(["rollover", "-w", str(workspace.root)]) == OutputError.exit_code
    )  # a file that cannot be written
    assert _sha(workspace.master_path) == before
    assert workspace.load_plan().settings.current_year == R2
    refused = capsys.readouterr().err
    assert "「~$master.xlsx」" in refused and "削除" in refused  # a file a crashed Excel left: what to do
    with sqlite3.connect(workspace.ledger_path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM rollovers").fetchone() == (0,)  # nothing begun
    owner.unlink()  # closed in Excel: now it goes
    assert xlplan.rollover(workspace).opened == R3


def test_the_office_s_own_sheets_and_columns_survive_the_rollover(tmp_path: Path, example: Example) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    fill_and_collect(workspace, example)
    book = openpyxl.load_workbook(workspace.master_path)
    book.create_sheet("メモ")["A1"] = "来年度は第3次プランの策定年"
    added = {"計画": "所管部", "担当課": "内線", "履歴": "確認"}
    for name, title in added.items():
        sheet = book[name]
        column = sheet.max_column + 1
        sheet.cell(row=1, column=column, value=title)
        for row in range(2, sheet.max_row + 1):  # a value of its own on every row: key · row number
            keys = [sheet.cell(row=row, column=c).value for c in (1, 2)]
            sheet.cell(row=row, column=column, value=f"{title}{row}:{keys}")
    book.save(workspace.master_path)
    before = {name: _office_column(workspace.master_path, name, title) for name, title in added.items()}
    xlplan.rollover(workspace)
    rolled = openpyxl.load_workbook(workspace.master_path)
    assert rolled["メモ"]["A1"].value == "来年度は第3次プランの策定年"
    assert rolled.sheetnames.index("メモ") > rolled.sheetnames.index("計画")  # the master's sheets stay first
    for name, title in added.items():
        after = _office_column(workspace.master_path, name, title)
        # Every value the office typed is still on its row (履歴 gains the closed year's rows, blank there).
        assert {key: value for key, value in after.items() if value} == before[name], name


def _office_column(path: Path, sheet: str, title: str) -> dict[str, str]:
    """An office column's values by the row they stand on, as the second reader sees them: the row's
    own cells (project number and department; department alone on 担当課; the record on 履歴)."""
    rows = calamine_rows(path, sheet)
    header = rows[0]
    at = header.index(title)
    keys = {
        "計画": ("事業番号", "担当課"),
        "担当課": ("担当課",),
        "履歴": ("事業番号", "担当課", "内訳の課", "年度"),
    }[sheet]
    places = [header.index(key) for key in keys]
    return {"|".join(str(row[p]) for p in places): row[at] for row in rows[1:] if len(row) > at}


def test_a_project_dropped_from_the_plan_keeps_its_history_once_marked_retired(
    tmp_path: Path, example: Example, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    book = openpyxl.load_workbook(workspace.master_path)
    plan_sheet = book["計画"]
    header = [cell.value for cell in plan_sheet[1]]
    for row in range(plan_sheet.max_row, 1, -1):  # 事業69 is abolished at the plan's review
        if plan_sheet.cell(row, header.index("事業番号") + 1).value == 69:
            plan_sheet.delete_rows(row)
    book.save(workspace.master_path)
    assert main(["distribute", "-w", str(workspace.root)]) == 2
    err = capsys.readouterr().err
    assert "(master-unknown-project)" in err and "備考に「廃止」" in err  # what to do, not only what is wrong

    book = openpyxl.load_workbook(workspace.master_path)
    history = book["履歴"]
    columns = [cell.value for cell in history[1]]
    retired = []
    for row in range(2, history.max_row + 1):
        if history.cell(row, 1).value == 69:
            history.cell(row, columns.index("備考") + 1).value = "廃止"
            retired.append(history.cell(row, columns.index("値") + 1).value)
    book.save(workspace.master_path)
    assert retired
    assert 69 not in {project.no for project in workspace.load_plan().projects}
    fill_and_collect(
        workspace, dataclasses.replace(example, answers=[a for a in example.answers if a.project_no != 69])
    )
    assert "69" not in {
        row["事業番号"] for row in _published(xlplan.consolidate(workspace, csv=True)).values()
    }
    xlplan.rollover(workspace)
    rows = calamine_rows(workspace.master_path, "履歴")
    at = {name: rows[0].index(name) for name in ("事業番号", "値", "備考")}
    kept = [row for row in rows[1:] if row[at["事業番号"]] == 69]
    assert [row[at["値"]] for row in kept] == retired and {row[at["備考"]] for row in kept} == {"廃止"}


def test_a_server_mode_master_keeps_its_server_text_with_the_new_year(
    tmp_path: Path, example: Example
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    xlplan.build_buttons(workspace, server="http://xlplan.city.example:8765")
    fill_and_collect(workspace, example, only={"企画政策課"})
    xlplan.rollover(workspace)  # the server's 次年度へ: the file is replaced
    ops = [row[0] for row in calamine_rows(workspace.master_path, "操作") if row and row[0]]
    assert "令和3年度" in ops[0] and "サーバーモード" in ops[0]
    assert any("http://xlplan.city.example:8765" in line for line in ops)


def test_office_cells_come_back_however_the_record_cells_were_typed(tmp_path: Path, example: Example) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    fill_and_collect(workspace, example)
    book = openpyxl.load_workbook(workspace.master_path)
    history, registry = book["履歴"], book["担当課"]
    year = [cell.value for cell in history[1]].index("年度") + 1
    mark = history.max_column + 1
    history.cell(1, mark, "確認")
    history.cell(2, year, "R1")  # the sheet's own note allows R2 or 2020 for 令和2年度
    history.cell(2, mark, "済（R1 と入力）")
    note = registry.max_column + 2  # a column with no header, and a note under the table
    registry.cell(2, note, "見出しのない列のメモ")
    registry.cell(registry.max_row + 2, note, "※内線は令和3年4月の電話帳")
    book.save(workspace.master_path)
    assert workspace.load_plan().history  # the master reads as it is
    xlplan.rollover(workspace)
    after = openpyxl.load_workbook(workspace.master_path)
    texts = {
        str(cell.value) for sheet in ("履歴", "担当課") for row in after[sheet].iter_rows() for cell in row
    }
    assert {"済（R1 と入力）", "見出しのない列のメモ"} <= texts
    # A note under the table is on a sheet of its own (under the table its reader would take it for a record).
    moved = list(after["次年度へで移したメモ"].iter_rows(values_only=True))
    assert [value for value in moved[-1] if value is not None] == ["担当課", "※内線は令和3年4月の電話帳"]
    rows = calamine_rows(workspace.master_path, "履歴")
    at = rows[0].index("確認")
    (marked,) = [row for row in rows[1:] if row[at] == "済（R1 と入力）"]
    assert (marked[0], marked[rows[0].index("年度")]) == (1, "令和元年度")  # on its own record's row
    assert workspace.load_plan().settings.current_year == R3  # and the master still reads


def test_notes_on_two_departments_merged_into_one_are_both_kept_and_the_year_closes(
    tmp_path: Path, example: Example
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    fill_and_collect(workspace, example)
    book = openpyxl.load_workbook(workspace.master_path)
    for name in ("計画", "履歴"):  # a note on every row, naming the row's department
        sheet = book[name]
        header = [cell.value for cell in sheet[1]]
        column, department = sheet.max_column + 1, header.index("担当課") + 1
        sheet.cell(1, column, "確認メモ")
        for row in range(2, sheet.max_row + 1):
            sheet.cell(row, column, f"メモ:{sheet.cell(row, department).value}")
    registry = book["担当課"]  # 保育幼稚園課 and 学校教育課 become 子ども教育課 (both answer 事業7)
    header = [cell.value for cell in registry[1]]
    name, former = header.index("担当課") + 1, header.index("旧名称") + 1
    for row in range(registry.max_row, 1, -1):
        if registry.cell(row, name).value == "保育幼稚園課":
            registry.cell(row, name).value, registry.cell(row, former).value = (
                "子ども教育課",
                "保育幼稚園課、学校教育課",
            )
        elif registry.cell(row, name).value == "学校教育課":
            registry.delete_rows(row)
    book.save(workspace.master_path)
    assert main(["rollover", "-w", str(workspace.root), "--force"]) == 0  # the year closes
    plan_rows = calamine_rows(workspace.master_path, "計画")
    at = plan_rows[0].index("確認メモ")
    assert "メモ:保育幼稚園課／メモ:学校教育課" in {row[at] for row in plan_rows[1:]}  # both, on the one row
    history = calamine_rows(workspace.master_path, "履歴")
    at, who = history[0].index("確認メモ"), history[0].index("担当課")
    noted = [row for row in history[1:] if row[at]]
    # 履歴 is written back as typed: each note stays on its own department's record.
    assert noted and all(row[at] == f"メモ:{row[who]}" for row in noted)
    from xlplan.buttons.build import rewrite_master

    for _ in range(2):  # as every later rollover rewrites the master: nothing moves or is added twice
        rewrite_master(workspace, workspace.load_plan())
    again = calamine_rows(workspace.master_path, "履歴")
    assert [row for row in again[1:] if row[again[0].index("確認メモ")]] == noted
    assert calamine_rows(workspace.master_path, "計画") == plan_rows
