"""表示する過去の年度数: several past years in the department workbooks and the consolidated table, and
checks against every earlier year of the history (a narrative copied from any of them, a value that
turns against the trend without a word). Outputs are read back by python-calamine and LibreOffice."""

from __future__ import annotations

import dataclasses
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

import xlplan
from tests.conftest import calamine_rows, convert_with_soffice
from tests.office import Office
from tests.plans import BOSAI, FUKUSHI, GAKUSHU, KOMINKAN, SHOBO, mirai_plan
from tests.test_libreoffice import type_answers
from xlplan.cli import main
from xlplan.collection.results import CollectResult
from xlplan.demo.respond import fill_response
from xlplan.findings import Finding
from xlplan.form import layout
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.model import Answer, HistoryRecord, Plan
from xlplan.plan.values import Mark, Value
from xlplan.publish.consolidate import ConsolidationResult
from xlplan.workspace.folder import Workspace, init_workspace

R5, R6 = FiscalYear(2023), FiscalYear(2024)
JOINT = f"{BOSAI} {SHOBO}"


def _plan() -> Plan:
    """みらい市's plan with two more years in its history and three past years shown."""
    plan = mirai_plan()
    earlier = (
        # 事業1 has only ever risen: 62.5 (baseline) → 65.0 → 67.3 → 70.1
        HistoryRecord(1, BOSAI, R5, Value(Decimal("65.0"), "%"), "60団体が結成した。"),
        HistoryRecord(1, BOSAI, R6, Value(Decimal("67.3"), "%"), "66団体が結成した。"),
        # the joint entry is kept per department: the table prints 7回 + 5回
        HistoryRecord(2, JOINT, R6, Value(Decimal(7), "回"), "地区訓練 7 回", BOSAI),
        HistoryRecord(2, JOINT, R6, Value(Decimal(5), "回"), "消防団と 5 回", SHOBO),
        HistoryRecord(4, GAKUSHU, R5, Value(Decimal(1250), "人"), "講座 36 回"),
        HistoryRecord(4, GAKUSHU, R6, Value(Decimal(1300), "人"), "講座 38 回"),
        HistoryRecord(5, FUKUSHI, R6, Value(Decimal(1800), "件"), "窓口を 1 か所増やした。"),
        # 事業6 goes up and down: no trend to break
        HistoryRecord(6, FUKUSHI, R5, Value(Decimal("31.0"), "%")),
        HistoryRecord(6, FUKUSHI, R6, Value(Decimal("29.0"), "%")),
    )
    settings = dataclasses.replace(plan.settings, past_years=3)
    return dataclasses.replace(plan, settings=settings, history=plan.history + earlier)


ANSWERS = [
    Answer(1, BOSAI, BOSAI, Value(Decimal("55.0"), "%")),  # falls back by 15.1 points, nothing said
    Answer(2, JOINT, BOSAI, Value(Decimal(9), "回"), "地区訓練 9 回"),
    Answer(2, JOINT, SHOBO, Value(Decimal(6), "回"), "消防団と 6 回"),
    Answer(3, BOSAI, BOSAI, Value(mark=Mark.DONE), "訓練で運営を試行した。"),
    Answer(3, FUKUSHI, FUKUSHI, Value(mark=Mark.DONE), "福祉避難所を 2 か所指定した。"),
    Answer(4, GAKUSHU, GAKUSHU, Value(Decimal(1380), "人"), "講座 36 回"),  # 令和5年度's words again
    Answer(4, KOMINKAN, KOMINKAN, Value(Decimal(430), "人"), "地区館で 13 講座"),
    Answer(5, FUKUSHI, FUKUSHI, Value(Decimal(2010), "件"), "夜間の電話相談を始めた。"),
    Answer(6, FUKUSHI, FUKUSHI, Value(Decimal("18.0"), "%")),  # a drop, but the values never had a trend
    Answer(7, KOMINKAN, KOMINKAN, Value(mark=Mark.DONE), "夏休みに 6 回"),
]


@dataclass(frozen=True)
class Round:
    workspace: Workspace
    workbooks: dict[str, Path]
    collected: CollectResult
    table: ConsolidationResult


# The two departments whose answers are questioned type them in LibreOffice, into the sheet with
# the extra year columns; the others are filled by openpyxl.
TYPED = {
    BOSAI: {1: ("55", None), 2: ("9", "地区訓練 9 回"), 3: ("○", "訓練で運営を試行した。")},
    GAKUSHU: {4: ("1380", "講座 36 回")},
}


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory, office: Office) -> Round:
    workspace = init_workspace(tmp_path_factory.mktemp("past") / "ws", _plan())
    distributed = xlplan.distribute(workspace)
    workbooks = {d.department: d.workbook for d in distributed.departments if d.workbook is not None}
    plan = workspace.load_plan()
    for department, workbook in workbooks.items():
        target = workspace.inbox / workbook.name
        if department in TYPED:
            type_answers(office, workbook, target, department, TYPED[department])
        else:
            answers = [a for a in ANSWERS if plan.canonical_department(a.department) == department]
            fill_response(workbook, answers, target)
    collected = xlplan.collect(workspace)
    table = xlplan.consolidate(workspace)
    return Round(workspace, workbooks, collected, table)


def test_the_setting_is_in_the_master_with_its_explanation(cycle: Round) -> None:
    rows = {row[0]: row[1:] for row in calamine_rows(cycle.workspace.master_path, "設定")}
    value, explanation = rows["表示する過去の年度数"][:2]
    assert int(value) == 3 and "前年度" in explanation


def test_the_department_workbook_shows_every_past_year_asked_for(cycle: Round) -> None:
    rows = calamine_rows(cycle.workbooks[BOSAI], layout.RESPONSE_SHEET)
    header = rows[layout.HEADER_ROW - 1]
    at = {text: index for index, text in enumerate(header)}
    shown = ["現状値（令和4年度）", "令和5年度の値", "令和6年度の値", "前年度の値（令和7年度）"]
    assert [at[name] for name in shown] == sorted(at[name] for name in shown)
    assert at["前年度の値（令和7年度）"] < at["今年度の値（令和8年度）"]
    body = {row[0]: row for row in rows[layout.HEADER_ROW :] if row and row[0]}
    first = body["P001-1-1"]
    assert [first[at[name]] for name in shown] == [62.5, 65.0, 67.3, 70.1]
    # A joint entry's member sees its own share of every year.
    joint = body["P002-1-1"]
    assert [joint[at["令和6年度の値"]], joint[at["前年度の値（令和7年度）"]]] == [7.0, 8.0]


def test_returns_with_the_extra_columns_are_accepted(cycle: Round) -> None:
    assert cycle.collected.count("accepted") == len(cycle.workbooks) == 5
    assert not [f for f in cycle.collected.findings if f.is_error]


def _found(collected: CollectResult, code: str) -> list[Finding]:
    return [f for f in collected.findings if f.code == code]


def test_a_narrative_copied_from_an_earlier_year_is_questioned(cycle: Round) -> None:
    copied = _found(cycle.collected, "narrative-copied")
    assert [(f.params["project_no"], f.params["year"]) for f in copied] == [(4, "令和5年度")]
    assert "令和5年度の実績内容と同じ" in copied[0].message("ja")
    assert copied[0].file == cycle.workbooks[GAKUSHU].name and copied[0].cell


def test_a_value_turning_against_the_trend_without_a_word_is_questioned(cycle: Round) -> None:
    broken = _found(cycle.collected, "value-breaks-trend")
    assert [f.params["project_no"] for f in broken] == [1]  # not 事業6, whose values never had a trend
    message = broken[0].message("ja")
    assert "今年度の値 55%" in message and "令和4年度 62.5%" in message and "令和7年度 70.1%" in message
    assert not _found(cycle.collected, "value-large-change")


def test_the_table_prints_every_past_year(cycle: Round) -> None:
    sheet = openpyxl.load_workbook(cycle.table.xlsx, read_only=True).sheetnames[0]
    rows = calamine_rows(cycle.table.xlsx, sheet)
    first, second = rows[3], rows[4]
    baseline = first.index("現状値")
    assert second[baseline : baseline + 5] == [
        "令和4年度",
        "令和5年度",
        "令和6年度",
        "令和7年度",
        "令和8年度",
    ]
    assert first[baseline + 1 : baseline + 4] == ["実績値", "実績値", "実績値"]
    numbers = {row[baseline - 3]: row for row in rows[5:] if isinstance(row[baseline - 3], float)}
    assert numbers[1.0][baseline : baseline + 5] == [62.5, 65.0, 67.3, 70.1, 55.0]
    assert numbers[2.0][baseline + 2 : baseline + 5] == [12.0, 14.0, 15.0]  # shares added up


def test_libreoffice_prints_the_past_years(cycle: Round, soffice: tuple[str, Path], tmp_path: Path) -> None:
    binary, profile = soffice
    pdf = convert_with_soffice(binary, profile, cycle.table.xlsx, "pdf", tmp_path)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    assert "令和5年度" in text.stdout and "令和6年度" in text.stdout and "67.3%" in text.stdout


def test_the_table_with_past_years_reads_back_with_them(cycle: Round, tmp_path: Path) -> None:
    assert main(["init", str(tmp_path / "ws"), "--from", str(cycle.table.xlsx)]) == 0
    plan = Workspace(tmp_path / "ws").load_plan()
    # The table showed three past years beside its own; the master for the year after shows as many.
    assert plan.settings.past_years == 3
    assert plan.settings.earlier_years == (FiscalYear(2024), FiscalYear(2025))
    history = {(r.project_no, r.entry, r.fiscal_year.western): r.value.display() for r in plan.history}
    assert [history[(1, BOSAI, year)] for year in (2023, 2024, 2025, 2026)] == [
        "65.0%",
        "67.3%",
        "70.1%",
        "55%",
    ]  # as printed: 55 was typed


def test_a_bad_number_of_past_years_names_its_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = init_workspace(tmp_path / "ws", mirai_plan())
    workbook = openpyxl.load_workbook(workspace.master_path)
    sheet = workbook["設定"]
    row = next(cell.row for cell in sheet["A"] if cell.value == "表示する過去の年度数")
    sheet.cell(row, 2).value = "三"
    workbook.save(workspace.master_path)
    assert main(["plan", "show", "-w", str(workspace.root)]) == 2
    err = capsys.readouterr().err
    assert "(master-bad-past-years)" in err and f"B{row}" in err and "「三」" in err
