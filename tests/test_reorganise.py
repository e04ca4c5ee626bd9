"""Three years of a plan with a reorganisation (機構改革) between: one department renamed, two merged.
The office changes only the 担当課 sheet (new names, 旧名称); every value stays under the department
that carries it on, in the department workbooks, the checks, the history and the table."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

import xlplan
from tests.conftest import calamine_rows, fill_and_collect
from tests.plans import FUKUSHI, GAKUSHU, KOMINKAN, mirai_plan
from xlplan.cli import main
from xlplan.demo.respond import fill_response
from xlplan.examples import Example
from xlplan.form import layout
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.model import Answer, Plan
from xlplan.plan.values import Mark, Value
from xlplan.workspace.folder import Workspace, init_workspace

RENAMED = "福祉こども課"  # was 福祉課
MERGED = "生涯学習推進課"  # 生涯学習課 and 公民館


def value_of(plan: Plan, project_no: int, member: str, year: int) -> Value:
    """What ``member`` reports for ``project_no`` in ``year``: different for every share and year."""
    project = plan.project(project_no)
    if project.indicator is None:
        return Value(mark=(Mark.DONE, Mark.NOT_DONE)[(project_no + year) % 2])
    seed = (year - 2020) * 100 + project_no * 7 + sum(map(ord, member)) % 50
    if project.unit == "%":
        return Value(Decimal(seed % 90) + Decimal("0.5"), "%")
    return Value(Decimal(seed), project.unit)


def answer_year(workspace: Workspace, year: int) -> None:
    """Every department answers the year's round; then the round is collected."""
    sent = xlplan.distribute(workspace)
    plan = workspace.load_plan()
    for dispatch in sent.departments:
        assert dispatch.workbook is not None
        answers = [
            Answer(
                project.no, entry.name, member, value_of(plan, project.no, member, year), f"{year}年 {member}"
            )
            for project, entry, member in plan.assignments(dispatch.department)
        ]
        fill_response(dispatch.workbook, answers, workspace.inbox / dispatch.workbook.name)
    result = xlplan.collect(workspace)
    assert result.count("accepted") == len(sent.departments), result.lines()


def reorganise(workspace: Workspace) -> None:
    """The office's April edit: the 担当課 sheet only (the 計画 sheet still names the old departments)."""
    book = openpyxl.load_workbook(workspace.master_path)
    sheet = book["担当課"]
    header = [cell.value for cell in sheet[1]]
    name, former = header.index("担当課") + 1, header.index("旧名称") + 1
    for row in range(2, sheet.max_row + 1):
        current = sheet.cell(row, name).value
        if current == FUKUSHI:
            sheet.cell(row, name).value = RENAMED
            sheet.cell(row, former).value = FUKUSHI
        elif current == GAKUSHU:
            sheet.cell(row, name).value = MERGED
            sheet.cell(row, former).value = f"{GAKUSHU}、{KOMINKAN}"
        elif current == KOMINKAN:
            sheet.delete_rows(row)
            break
    book.save(workspace.master_path)


@pytest.fixture(scope="module")
def three_years(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Plan]:
    original = mirai_plan()
    workspace = init_workspace(tmp_path_factory.mktemp("three") / "ws", original)
    answer_year(workspace, 2026)
    xlplan.rollover(workspace)
    reorganise(workspace)
    answer_year(workspace, 2027)
    xlplan.consolidate(workspace, csv=True)
    xlplan.rollover(workspace)
    xlplan.distribute(workspace)  # 令和10年度's workbooks
    return workspace, original


def test_the_plan_reads_the_old_cells_as_the_departments_are_now(three_years: tuple[Workspace, Plan]) -> None:
    workspace, _ = three_years
    plan = workspace.load_plan()
    assert plan.settings.current_year == FiscalYear(2028)
    names = {project.no: [entry.name for entry in project.entries] for project in plan.projects}
    assert names[4] == [MERGED]  # two separate rows that merged report once
    assert names[7] == [MERGED] and names[5] == [RENAMED] and names[3] == ["防災課", RENAMED]
    assert plan.canonical_department(FUKUSHI) == RENAMED and plan.canonical_department(KOMINKAN) == MERGED


def test_every_value_stays_under_the_department_that_carries_it_on(
    three_years: tuple[Workspace, Plan],
) -> None:
    workspace, original = three_years
    plan = workspace.load_plan()

    def recorded(no: int, entry: str, year: int) -> Value:
        (record,) = [r for r in plan.history if r.project_no == no and r.entry == entry and
                     r.fiscal_year.western == year and r.department is None]  # fmt: skip
        return record.value

    # 令和8年度 (before): 生涯学習課 and 公民館 reported project 4 separately; now one entry, added up.
    before = value_of(original, 4, GAKUSHU, 2026).number + value_of(original, 4, KOMINKAN, 2026).number  # type: ignore[operator]
    assert recorded(4, MERGED, 2026).number == before
    assert recorded(5, RENAMED, 2026) == value_of(original, 5, FUKUSHI, 2026)
    assert recorded(7, MERGED, 2026) == value_of(original, 7, KOMINKAN, 2026)
    # 令和9年度 (after): answered under the new names.
    assert recorded(5, RENAMED, 2027) == value_of(plan, 5, RENAMED, 2027)
    assert recorded(4, MERGED, 2027) == value_of(plan, 4, MERGED, 2027)
    # The master's 履歴 sheet keeps what was written in 令和8年度 under the names of the time.
    rows = calamine_rows(workspace.master_path, "履歴")
    assert any(row[1] == KOMINKAN and row[3] == "令和8年度" for row in rows[1:])


def test_the_department_workbooks_show_last_years_values_under_the_new_name(
    three_years: tuple[Workspace, Plan],
) -> None:
    workspace, _ = three_years
    plan = workspace.load_plan()
    (path,) = (workspace.outbox / "2028-R1").glob(f"*_{MERGED}.xlsx")
    rows = calamine_rows(path, layout.RESPONSE_SHEET)
    header = rows[layout.HEADER_ROW - 1]
    previous, number = header.index("前年度の値（令和9年度）"), header.index("取組番号")
    shown = {int(row[number]): row[previous] for row in rows[layout.HEADER_ROW :] if row[0]}
    assert Decimal(str(shown[4])) == value_of(plan, 4, MERGED, 2027).number
    assert shown[7] == value_of(plan, 7, MERGED, 2027).display()


def test_the_table_shows_the_departments_as_named_now(three_years: tuple[Workspace, Plan]) -> None:
    workspace, original = three_years
    (table,) = workspace.reports.glob("*.csv")
    with table.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    departments = {row["担当課"] for row in rows}
    assert {RENAMED, MERGED} <= departments and not {FUKUSHI, GAKUSHU, KOMINKAN} & departments
    project4 = next(row for row in rows if row["取組番号"] == "4")
    before = value_of(original, 4, GAKUSHU, 2026).number + value_of(original, 4, KOMINKAN, 2026).number  # type: ignore[operator]
    assert Decimal(project4["前年度_数値"]) == before  # 令和8年度, the two former departments added up


def test_a_former_name_that_is_also_a_current_name_stops_the_master(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = init_workspace(tmp_path / "ws", mirai_plan())
    book = openpyxl.load_workbook(workspace.master_path)
    sheet = book["担当課"]
    header = [cell.value for cell in sheet[1]]
    sheet.cell(2, header.index("旧名称") + 1).value = FUKUSHI  # 防災課 "was" 福祉課, which exists
    book.save(workspace.master_path)
    assert main(["plan", "show", "-w", str(workspace.root)]) == 2
    err = capsys.readouterr().err
    assert "旧名称「福祉課」" in err and "担当課!" in err


def test_a_split_department_must_be_chosen_on_the_plan_sheet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = init_workspace(tmp_path / "ws", mirai_plan())
    book = openpyxl.load_workbook(workspace.master_path)
    sheet = book["担当課"]
    header = [cell.value for cell in sheet[1]]
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, 1).value == FUKUSHI:
            sheet.cell(row, 1).value = "福祉課A"
            sheet.cell(row, header.index("旧名称") + 1).value = FUKUSHI
    sheet.append(["福祉課B", None, None, None, None, FUKUSHI])
    book.save(workspace.master_path)
    assert main(["plan", "show", "-w", str(workspace.root)]) == 2
    err = capsys.readouterr().err
    assert "福祉課A、福祉課B に分かれました" in err and "計画!" in err


def test_two_departments_that_reported_one_project_jointly_merge_without_counting_it_twice(
    tmp_path: Path, example: Example
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    fill_and_collect(workspace, example)
    xlplan.rollover(workspace)

    def project_1(plan: Plan) -> list[tuple[str, str | None, str]]:
        return [(r.entry, r.department, r.value.display()) for r in plan.history
                if r.project_no == 1 and r.fiscal_year == FiscalYear(2020)]  # fmt: skip

    before = project_1(workspace.load_plan())
    (whole,) = [value for entry, department, value in before if department is None]
    assert entry_of(before) == "企画政策課 生涯学習課" and len(before) == 3  # the whole and two shares
    book = openpyxl.load_workbook(workspace.master_path)
    sheet = book["担当課"]
    header = [cell.value for cell in sheet[1]]
    name, former = header.index("担当課") + 1, header.index("旧名称") + 1
    rows = {sheet.cell(row, name).value: row for row in range(2, sheet.max_row + 1)}
    sheet.cell(rows["企画政策課"], name).value = "企画学習課"
    sheet.cell(rows["企画政策課"], former).value = "企画政策課、生涯学習課"
    sheet.delete_rows(rows["生涯学習課"])
    book.save(workspace.master_path)
    assert project_1(workspace.load_plan()) == [("企画学習課", None, whole)]  # once, as recorded


def entry_of(records: list[tuple[str, str | None, str]]) -> str:
    """The one entry the records are under."""
    (entry,) = {entry for entry, _, _ in records}
    return entry


def _rename(workspace: Workspace, old: str, new: str, former: str) -> None:
    book = openpyxl.load_workbook(workspace.master_path)
    sheet = book["担当課"]
    header = [cell.value for cell in sheet[1]]
    name, column = header.index("担当課") + 1, header.index("旧名称") + 1
    row = next(row for row in range(2, sheet.max_row + 1) if sheet.cell(row, name).value == old)
    sheet.cell(row, name).value, sheet.cell(row, column).value = new, former
    book.save(workspace.master_path)


def test_a_second_rename_that_forgets_the_first_name_says_where_to_write_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from xlplan.buttons.build import rewrite_master

    workspace = init_workspace(tmp_path / "ws", mirai_plan())
    _rename(workspace, FUKUSHI, RENAMED, FUKUSHI)
    rewrite_master(workspace, workspace.load_plan())  # as 次年度へ writes it: 計画 under the new name
    rows = calamine_rows(workspace.master_path, "計画")
    assert RENAMED in [row[rows[0].index("担当課")] for row in rows]
    _rename(workspace, RENAMED, "こども家庭課", RENAMED)  # a year later; 福祉課 left out
    assert main(["plan", "show", "-w", str(workspace.root)]) == 2
    err = capsys.readouterr().err
    assert "(master-history-unknown-department)" in err and "「福祉課」" in err and "履歴!" in err, err
    assert "(master-unknown-project)" not in err
    _rename(workspace, "こども家庭課", "こども家庭課", f"{RENAMED}、{FUKUSHI}")  # as the message says
    plan = workspace.load_plan()
    assert [r.entry for r in plan.history if r.project_no == 5] == ["こども家庭課"]


def test_history_of_a_split_department_that_both_halves_carry_on_names_the_halves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = init_workspace(tmp_path / "ws", mirai_plan())
    book = openpyxl.load_workbook(workspace.master_path)
    departments, plan_sheet = book["担当課"], book["計画"]
    header = [cell.value for cell in departments[1]]
    for row in range(2, departments.max_row + 1):
        if departments.cell(row, 1).value == FUKUSHI:
            departments.cell(row, 1).value = "福祉課A"
            departments.cell(row, header.index("旧名称") + 1).value = FUKUSHI
    departments.append(["福祉課B", None, None, None, None, FUKUSHI])
    columns = [cell.value for cell in plan_sheet[1]]
    entry, number = columns.index("担当課") + 1, columns.index("取組番号") + 1
    for row in range(2, plan_sheet.max_row + 1):  # the office chose who carries each project on …
        if plan_sheet.cell(row, entry).value == FUKUSHI:
            plan_sheet.cell(row, entry).value = "福祉課A"
    five = next(row for row in range(2, plan_sheet.max_row + 1) if plan_sheet.cell(row, number).value == 5)
    plan_sheet.insert_rows(five + 1)  # … and project 5 by both halves, separately
    for column in range(1, plan_sheet.max_column + 1):
        plan_sheet.cell(five + 1, column).value = plan_sheet.cell(five, column).value
    plan_sheet.cell(five + 1, entry).value = "福祉課B"
    book.save(workspace.master_path)
    assert main(["plan", "show", "-w", str(workspace.root)]) == 2
    err = capsys.readouterr().err
    assert "(master-history-split-department)" in err and "福祉課A、福祉課B" in err, err


@pytest.mark.parametrize(
    ("label", "renamed"),
    [
        ("福祉課・障害福祉課", "地域福祉課・障害福祉課"),  # 障害福祉課 holds 福祉課 but is not renamed
        ("障害福祉課・福祉課", "障害福祉課・地域福祉課"),
        ("福祉課（障害福祉課と連携）", "地域福祉課（障害福祉課と連携）"),
    ],
)
def test_a_rename_inside_a_label_leaves_a_name_that_contains_it(label: str, renamed: str) -> None:
    from xlplan.plan.model import Department, Entry
    from xlplan.plan.reorganise import Names, rename_entry

    names = Names.of([Department("地域福祉課", former=("福祉課",)), Department("障害福祉課")])
    entry = rename_entry(Entry(label, ("福祉課", "障害福祉課")), names)
    assert (entry.name, entry.members) == (renamed, ("地域福祉課", "障害福祉課"))
    # A name in the label that is not a member is a department's all the same, and stays whole.
    alone = rename_entry(Entry("福祉課（障害福祉課と連携）", ("福祉課",)), names)
    assert (alone.name, alone.members) == ("地域福祉課（障害福祉課と連携）", ("地域福祉課",))


def _rename_in_registry(workspace: Workspace, old: str, new: str) -> None:
    """The office's April edit in the 担当課 sheet: the new name, the old one as 旧名称."""
    book = openpyxl.load_workbook(workspace.master_path)
    sheet = book["担当課"]
    header = [cell.value for cell in sheet[1]]
    name, former = header.index("担当課") + 1, header.index("旧名称") + 1
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, name).value == old:
            sheet.cell(row, name).value, sheet.cell(row, former).value = new, old
    book.save(workspace.master_path)


def _merge_in_registry(workspace: Workspace, merged: str, into: str) -> None:
    """The office's April edit for a merge: ``merged`` becomes a 旧名称 of ``into``, its own row goes."""
    book = openpyxl.load_workbook(workspace.master_path)
    sheet = book["担当課"]
    header = [cell.value for cell in sheet[1]]
    name, former = header.index("担当課") + 1, header.index("旧名称") + 1
    for row in range(sheet.max_row, 1, -1):
        if sheet.cell(row, name).value == into:
            sheet.cell(row, former).value = merged
        elif sheet.cell(row, name).value == merged:
            sheet.delete_rows(row)
    book.save(workspace.master_path)


def _published_values(result: xlplan.ConsolidationResult) -> list[tuple[str, str, str, str]]:
    assert result.csv is not None
    with result.csv.open(encoding="utf-8-sig", newline="") as handle:
        return [
            (r["事業番号"], r["今年度_数値"], r["今年度_記号"], r["今年度_実績内容"])
            for r in csv.DictReader(handle)
        ]


def test_a_rename_typed_in_after_the_returns_were_accepted_keeps_every_answer(
    tmp_path: Path, example: Example
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    fill_and_collect(workspace, example)
    before = _published_values(xlplan.consolidate(workspace, csv=True))
    _rename_in_registry(workspace, "社会福祉課", "福祉課")  # 4月1日の機構改革, during the collection
    after = xlplan.consolidate(workspace, csv=True)
    lost = {"consolidate-missing-answer", "consolidate-unknown-answer"} & {f.code for f in after.findings}
    assert not lost  # its own answers and its co-departments' (企画政策課 社会福祉課) are all there
    assert _published_values(after) == before
    rolled = xlplan.rollover(workspace)
    assert rolled.silent == ()
    closed = [r for r in workspace.load_plan().history if r.fiscal_year == FiscalYear(2020)]
    assert closed and not [r for r in closed if r.note == "未回答"]


def test_a_rename_typed_in_while_the_workbooks_are_out_reads_every_row_of_them(
    tmp_path: Path, example: Example
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    sent = xlplan.distribute(workspace)
    _rename_in_registry(workspace, "社会福祉課", "福祉課")
    for dispatch in sent.departments:
        assert dispatch.workbook is not None
        answers = [
            a
            for a in example.answers
            if example.plan.canonical_department(a.department) == dispatch.department
        ]
        fill_response(dispatch.workbook, answers, workspace.inbox / dispatch.workbook.name)
    collected = xlplan.collect(workspace)
    assert collected.count("accepted") == len(sent.departments)
    assert "row-reassigned" not in {f.code for item in collected.files for f in item.findings}
    table = xlplan.consolidate(workspace)
    assert "consolidate-missing-answer" not in {f.code for f in table.findings}


def test_a_merge_typed_in_after_the_returns_were_accepted_adds_the_two_answers(
    tmp_path: Path, example: Example
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    fill_and_collect(workspace, example)
    before = {row[0]: row for row in _published_values(xlplan.consolidate(workspace, csv=True))}
    _merge_in_registry(workspace, "社会福祉課", "企画政策課")  # on 4月1日
    after = xlplan.consolidate(workspace, csv=True)
    row = next(r for r in _published_values(after) if r[0] == "52")  # 企画政策課 64人 and 社会福祉課 0人
    assert row[1] == before["52"][1] == "64"  # the two shares added, as the joint row printed them
    plan = workspace.load_plan()
    given = [a for a in workspace.accepted_answers(plan) if a.project_no == 52]
    seed = [a for a in example.answers if a.project_no == 52]
    # One answer for the one department now; the narrative is the one that was written (社会福祉課 wrote none).
    assert len(given) == 1 and given[0].narrative == next(a.narrative for a in seed if a.narrative)


def test_the_merged_department_answering_again_on_a_new_workbook_replaces_its_predecessors(
    tmp_path: Path, example: Example
) -> None:
    import dataclasses

    workspace = init_workspace(tmp_path / "ws", example.plan)
    six = Value(Decimal(6), "人")  # 社会福祉課's share of 事業52 before the merge (企画政策課 64人)
    before = [dataclasses.replace(a, value=six) if (a.project_no, a.department) == (52, "社会福祉課") else a
              for a in example.answers]  # fmt: skip
    fill_and_collect(workspace, dataclasses.replace(example, answers=tuple(before)))
    _merge_in_registry(workspace, "社会福祉課", "企画政策課")
    plan = workspace.load_plan()
    assert [a.value for a in workspace.accepted_answers(plan) if a.project_no == 52] == [
        Value(Decimal(70), "人")
    ]
    # The office sends 企画政策課 a new workbook, which holds the merged rows; it answers 70人 for all of 事業52.
    (dispatch,) = xlplan.distribute(workspace, only=["企画政策課"]).departments
    assert dispatch.workbook is not None
    answers = [
        Answer(project.no, entry.name, member, Value(Decimal(70), "人") if project.no == 52 else
               value_or_blank(example, project.no), "統合後の回答")
        for project, entry, member in plan.assignments("企画政策課")
    ]  # fmt: skip
    fill_response(dispatch.workbook, answers, workspace.inbox / "統合後.xlsx")
    assert xlplan.collect(workspace).count("accepted") == 1
    given = [a for a in workspace.accepted_answers(workspace.load_plan()) if a.project_no == 52]
    assert [a.value for a in given] == [Value(Decimal(70), "人")]  # not 70人 + the predecessor's 6人


def value_or_blank(example: Example, project_no: int) -> Value:
    """A value in the project's unit (the first the example has), for rows the test does not look at."""
    return next((a.value for a in example.answers if a.project_no == project_no and a.value.number is not None),
                Value(mark=Mark.DONE))  # fmt: skip


def test_a_renamed_department_correcting_its_return_on_the_old_workbook_replaces_it(
    tmp_path: Path, example: Example
) -> None:
    import dataclasses

    workspace = init_workspace(tmp_path / "ws", example.plan)
    sent = {item.department: item.workbook for item in xlplan.distribute(workspace).departments}
    mine = [a for a in example.answers if example.plan.canonical_department(a.department) == "社会福祉課"]
    workbook = sent["社会福祉課"]
    assert workbook is not None
    fill_response(workbook, mine, workspace.inbox / "最初.xlsx")
    assert xlplan.collect(workspace).count("accepted") == 1
    _rename_in_registry(workspace, "社会福祉課", "福祉課")
    # A correction on the workbook it was sent before the rename: every value one more.
    corrected = [
        dataclasses.replace(a, value=Value(a.value.number + 1, a.value.unit))
        if a.value.number is not None
        else a
        for a in mine
    ]
    fill_response(workbook, corrected, workspace.inbox / "訂正.xlsx")
    assert xlplan.collect(workspace).count("accepted") == 1
    plan = workspace.load_plan()
    given = {
        (a.project_no, a.entry): a.value for a in workspace.accepted_answers(plan) if a.department == "福祉課"
    }
    expected = {}
    for a in corrected:
        entry, _ = plan.current_entry(a.project_no, a.entry, a.department) or (a.entry, a.department)
        expected[(a.project_no, entry)] = a.value
    assert given == expected  # the correction replaces the first return, never added to it
