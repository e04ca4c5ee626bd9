"""Targets, 達成率 and grades by the city's own rule (issue 15, item 1).

Each scheme below is one that cities use, written into the 評価基準 sheet as staff would fill it
(openpyxl on a real master), read back by the master reader, and applied to the example: targets
are set on some projects of the 計画 sheet, the table is consolidated, and its 達成率・評価・評価の理由
cells are read with python-calamine, a second reader. Bad rule data stops with the cell named.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.conftest import calamine_rows
from xlplan.errors import ConfigurationError
from xlplan.examples import Example
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.grading import DEFAULT_RULE, RATIO, Grade, GradingRule, achievement, target_for
from xlplan.plan.values import Value
from xlplan.publish.consolidate import consolidate_plan
from xlplan.workspace.folder import Workspace
from xlplan.workspace.master import read_master

# Targets for some projects of the example (令和2年度 answers in brackets; baselines of 平成27年度):
# 12 パパ・ママ教室 42人 → 60人 (56人), 17 女性消防団員の割合 1.6% → 3.0% (1.7%),
# 36 配偶者出産休暇の取得割合 75% → 85% (87.5%), 20 女性委員のいない審議会等の数 8 → 0 (7),
# 7 研修会等受講者数 60人 → 80人 (保育幼稚園課 ×, 学校教育課 54人).
TARGETS: dict[int, tuple[str, str | None, str | None]] = {
    12: ("60人", "令和6年度", None),
    17: ("3.0%", "令和6年度", None),
    36: ("85%", "令和6年度", "増加"),
    20: ("0", "令和6年度", "減少"),
    7: ("80人", "令和6年度", None),
}


def _set_targets(master: Path, targets: dict[int, tuple[str, str | None, str | None]]) -> None:
    """Type targets into the 計画 sheet's 目標値・目標年度・方向, as staff would in Excel."""
    book = openpyxl.load_workbook(master)
    sheet = book["計画"]
    header = [cell.value for cell in sheet[1]]
    number = header.index("事業番号")
    columns = [header.index(name) for name in ("目標値", "目標年度", "方向")]
    for row in sheet.iter_rows(min_row=2):
        if row[number].value in targets:
            for column, value in zip(columns, targets[row[number].value], strict=True):
                row[column].value = value
    book.save(master)


def _set_rule(master: Path, items: dict[str, Any], grades: list[tuple[str, Any]]) -> None:
    """Fill the 評価基準 sheet: 項目・値 rows, a blank row, then the 区分 table, highest first."""
    book = openpyxl.load_workbook(master)
    del book["評価基準"]
    sheet = book.create_sheet("評価基準")
    sheet.append(["項目", "値", "説明"])
    for key, value in items.items():
        sheet.append([key, value])
    sheet.append([])
    sheet.append(["区分", "下限", "説明"])
    for label, minimum in grades:
        sheet.append([label, minimum])
    book.save(master)


def _graded_cells(path: Path) -> dict[tuple[int, str], tuple[Any, Any, Any]]:
    """(project number, 担当課) → (達成率, 評価, 評価の理由) of every sheet, read with python-calamine."""
    from python_calamine import CalamineWorkbook

    found: dict[tuple[int, str], tuple[Any, Any, Any]] = {}
    for name in CalamineWorkbook.from_path(str(path)).sheet_names:
        rows = calamine_rows(path, name)
        header = rows[3]
        if "達成率" not in header:
            continue
        at = {label: header.index(label) for label in ("担当課", "達成率", "評価", "評価の理由")}
        number_column = at["担当課"] - 2  # the project number sits left of 事業
        project = None
        for row in rows[5:]:
            if isinstance(row[number_column], float) and row[number_column]:
                project = int(row[number_column])
            if project is not None and row[at["担当課"]]:
                found[(project, row[at["担当課"]])] = (
                    row[at["達成率"]],
                    row[at["評価"]],
                    row[at["評価の理由"]],
                )
    return found


def _consolidated(
    workspace: Workspace, example: Example, tmp_path: Path
) -> dict[tuple[int, str], tuple[Any, Any, Any]]:
    plan = read_master(workspace.master_path)
    result = consolidate_plan(plan, example.answers, tmp_path / "reports")
    return _graded_cells(result.xlsx)


# ----------------------------------------------------------------------------------------
# the default rule (a blank master and the example): A ≥ 100, B ≥ 80, C ≥ 50, D otherwise
# ----------------------------------------------------------------------------------------


def test_the_example_master_carries_the_default_rule_and_no_targets(workspace: Workspace) -> None:
    plan = read_master(workspace.master_path)
    assert plan.grading == DEFAULT_RULE
    assert not plan.has_targets
    rows = calamine_rows(workspace.master_path, "評価基準")
    assert rows[0][:2] == ["項目", "値"] and ["A", 100.0] in [row[:2] for row in rows]


def test_a_d_at_100_80_50_percent_of_the_way_to_the_target(
    workspace: Workspace, example: Example, tmp_path: Path
) -> None:
    _set_targets(workspace.master_path, TARGETS)
    plan = read_master(workspace.master_path)
    assert plan.project(36).target == Value(Decimal("85"), "%") and plan.project(36).direction == "増加"
    assert plan.project(12).target_year == FiscalYear(2024) and plan.project(12).direction is None
    cells = _consolidated(workspace, example, tmp_path)
    assert cells[(12, "健康増進課")] == (77.8, "C", "目標 60人 に対し 56人（達成率 77.8%）: C（50% 以上）")
    assert cells[(17, "防災対策課")] == (7.1, "D", "目標 3.0% に対し 1.7%（達成率 7.1%）: D（50% 未満）")
    assert cells[(36, "総務課")] == (125.0, "A", "目標 85% に対し 87.5%（達成率 125%）: A（100% 以上）")
    # A decreasing indicator: (7 − 8) / (0 − 8) = 12.5% of the way.
    assert cells[(20, "企画政策課 (関係各課)")][:2] == (12.5, "D")
    # Separate departments are graded row by row; a mark cannot be graded.
    assert cells[(7, "学校教育課")][:2] == (-30.0, "D")
    assert cells[(7, "保育幼稚園課")] == ("", "−", "実績値が記号（×）です: −（評価できない）")
    # Projects without a target have blank cells in the new columns.
    assert cells[(3, "文化課")] == ("", "", "")


def test_the_open_data_carries_targets_and_grades_as_the_workbook_prints_them(
    workspace: Workspace, example: Example, tmp_path: Path
) -> None:
    """目標値 (year, number, unit), 達成率, 評価 and 評価の理由 in the CSV and the JSON, after the columns of
    earlier versions; the same as the workbook's cells read with python-calamine."""
    _set_targets(workspace.master_path, TARGETS)
    plan = read_master(workspace.master_path)
    result = consolidate_plan(plan, example.answers, tmp_path / "reports", csv=True)
    assert result.csv is not None and result.json is not None
    with result.csv.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    added = [
        "目標値_年度（和暦）",
        "目標値_年度（西暦）",
        "目標値_数値",
        "目標値_単位",
        "達成率",
        "評価",
        "評価の理由",
    ]
    assert header[header.index("今年度_実績内容") + 1 :] == added
    printed = _graded_cells(result.xlsx)
    graded = [row for row in rows if row["評価"]]
    assert len(graded) == sum(1 for cells in printed.values() if cells[1]) > 5
    for row in graded:
        rate, grade, reason = printed[(int(row["事業番号"]), row["担当課"])]
        assert (row["達成率"], row["評価"], row["評価の理由"]) == (
            "" if rate == "" else f"{rate:g}",
            grade,
            reason,
        )
    health = next(row for row in rows if row["事業番号"] == "12")
    assert [health[name] for name in added[:4]] == ["令和6年度", "2024", "60", "人"]
    ungraded = next(row for row in rows if row["事業番号"] == "3")
    assert all(ungraded[name] == "" for name in added)
    document = json.loads(result.json.read_text(encoding="utf-8"))
    in_json = next(r for r in document["rows"] if r["事業番号"] == 12)
    assert (in_json["目標値_数値"], in_json["達成率"], in_json["評価"]) == (60, 77.8, "C")
    # The 達成率 cell prints as the reason does: 2,336.6%, with its separator (openpyxl reads the format).
    import openpyxl

    rate_formats = {cell.number_format for sheet in openpyxl.load_workbook(result.xlsx).worksheets
                    for row in sheet.iter_rows() for cell in row if str(cell.number_format).endswith('"%"')
                    and isinstance(cell.value, float)}  # fmt: skip
    assert '#,##0.0"%"' in rate_formats and '0.0"%"' not in rate_formats, rate_formats


def test_the_pdf_shows_the_rates_and_grades(
    workspace: Workspace, example: Example, tmp_path: Path, soffice: tuple[str, Path]
) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    _set_targets(workspace.master_path, TARGETS)
    result = consolidate_plan(read_master(workspace.master_path), example.answers, tmp_path, pdf=True)
    assert result.pdf is not None and result.pdf.exists(), result.findings
    done = subprocess.run(
        ["pdftotext", "-layout", str(result.pdf), "-"], capture_output=True, text=True, check=True
    )
    text = " ".join(done.stdout.split())
    assert "達成率" in text and "評価の理由" in text
    assert "目標 60人 に対し 56人（達成率 77.8%）: C（50% 以上）" in text
    assert "目標 85% に対し 87.5%（達成率 125%）: A（100% 以上）" in text


def test_a_plan_without_targets_keeps_the_seed_columns(example: Example, tmp_path: Path) -> None:
    result = consolidate_plan(example.plan, example.answers, tmp_path)
    rows = calamine_rows(result.xlsx, "基本目標Ⅰ")
    assert "達成率" not in rows[3] and rows[3][-1].startswith("②")


# ----------------------------------------------------------------------------------------
# S / A / B / C / − with a ±10% band around the baseline meaning no change
# ----------------------------------------------------------------------------------------


def test_s_a_b_c_with_a_ten_percent_no_change_band(
    workspace: Workspace, example: Example, tmp_path: Path
) -> None:
    _set_targets(workspace.master_path, TARGETS)
    _set_rule(
        workspace.master_path,
        {
            "算式": "差分",
            "按分": "しない",
            "変化なしの幅": "10%",
            "変化なしの区分": "B",
            "評価できない区分": "−",
        },
        [("S", "100%"), ("A", "０"), ("C", None)],  # as typed: a % sign, a full-width zero
    )
    plan = read_master(workspace.master_path)
    assert plan.grading == GradingRule(
        grades=(Grade("S", Decimal(100)), Grade("A", Decimal(0)), Grade("C", None)),
        band=Decimal(10),
        band_label="B",
    )
    cells = _consolidated(workspace, example, tmp_path)
    assert cells[(36, "総務課")][1] == "S"  # the target reached wins over the band
    assert cells[(12, "健康増進課")][1] == "A"  # 42 → 56: beyond +10%, improving
    assert cells[(17, "防災対策課")] == (
        7.1,
        "B",
        "目標 3.0% に対し 1.7%（達成率 7.1%）、現状値 1.6% から ±10% 以内: B",
    )
    assert cells[(20, "企画政策課 (関係各課)")][1] == "A"  # 8 → 7: −12.5%, beyond the band, the right way
    assert cells[(7, "学校教育課")][1] == "B"  # 60 → 54: within ±10%
    assert cells[(7, "保育幼稚園課")][1] == "−"


def test_a_band_typed_in_a_percent_formatted_cell(workspace: Workspace) -> None:
    _set_rule(workspace.master_path, {"変化なしの幅": 0.1}, [("A", 1.0), ("B", None)])
    book = openpyxl.load_workbook(workspace.master_path)
    for row in book["評価基準"].iter_rows(min_row=2):
        if row[1].value in (0.1, 1.0):
            row[1].number_format = "0%"  # Excel keeps 10% as 0.1
    book.save(workspace.master_path)
    rule = read_master(workspace.master_path).grading
    assert rule.band == Decimal(10) and rule.grades[0].minimum == Decimal(100)


# ----------------------------------------------------------------------------------------
# targets pro-rated year by year toward the final year (比率)
# ----------------------------------------------------------------------------------------


def test_targets_pro_rated_year_by_year_to_the_final_year(
    workspace: Workspace, example: Example, tmp_path: Path
) -> None:
    _set_targets(workspace.master_path, TARGETS)
    _set_rule(
        workspace.master_path,
        {"算式": "比率", "按分": "する", "評価できない区分": "－"},
        [("◎", 100), ("○", 80), ("△", 60), ("×", None)],
    )
    plan = read_master(workspace.master_path)
    assert plan.grading.method == RATIO and plan.grading.prorate
    cells = _consolidated(workspace, example, tmp_path)
    # 平成27年度 42人 → 令和6年度 60人: 令和2年度 is 5 of 9 years, a target of 52人; 56 / 52 = 107.7%.
    assert cells[(12, "健康増進課")] == (
        107.7,
        "◎",
        "令和2年度の目標 52.0人（按分） に対し 56人（達成率 107.7%）: ◎（100% 以上）",
    )
    # 1.6% → 3.0%: 2.4% this year; 1.7 / 2.4 = 70.8%.
    assert cells[(17, "防災対策課")][:2] == (70.8, "△")
    # Decreasing, by ratio: the target over the value; 8 → 0 pro-rated is 3.6 this year, 3.6 / 7.
    assert cells[(20, "企画政策課 (関係各課)")][:2] == (51.4, "×")


def test_pro_rating_reaches_the_target_in_the_target_year() -> None:
    rule = GradingRule(prorate=True)
    baseline, target = Value(Decimal(42), "人"), Value(Decimal(60), "人")
    base, final = FiscalYear(2015), FiscalYear(2024)
    assert target_for(rule, baseline, target, final, FiscalYear(2020), base) == Value(Decimal("52.0"), "人")
    assert target_for(rule, baseline, target, final, final, base) == target
    assert target_for(rule, baseline, target, final, FiscalYear(2026), base) == target


def test_a_seven_point_scale_and_a_kept_indicator() -> None:
    rule = GradingRule(
        method=RATIO,
        grades=(*(Grade(str(7 - i), Decimal(100 - 10 * i)) for i in range(6)), Grade("1", None)),
    )
    year, base = FiscalYear(2020), FiscalYear(2015)
    graded = achievement(
        rule, Value(Decimal(50), "%"), Value(Decimal(50), "%"), Value(Decimal(46), "%"), year, base
    )
    assert graded is not None and (graded.rate, graded.grade) == (Decimal("92.0"), "6")  # 維持: 46 / 50
    low = achievement(
        rule, Value(Decimal(10), "人"), Value(Decimal(20), "人"), Value(Decimal(9), "人"), year, base
    )
    assert low is not None and (low.rate, low.grade) == (Decimal("45.0"), "1")
    assert achievement(rule, Value(Decimal(10), "人"), None, Value(Decimal(9), "人"), year, base) is None


# ----------------------------------------------------------------------------------------
# bad rule data and bad targets: findings naming the cell
# ----------------------------------------------------------------------------------------


def test_bad_rule_data_names_each_cell(workspace: Workspace) -> None:
    _set_rule(
        workspace.master_path,
        {"算式": "平均", "按分": "はい", "変化なし幅": "10"},
        [("A", 100), ("B", "八十"), ("C", 120), ("A", 10), ("D", None)],
    )
    with pytest.raises(ConfigurationError) as raised:
        read_master(workspace.master_path)
    found = [(f.code, f.sheet, f.cell) for f in raised.value.findings]
    assert found == [
        ("master-grading-unknown-item", "評価基準", "A4"),
        ("master-grading-bad-number", "評価基準", "B8"),
        ("master-grading-order", "評価基準", "B9"),
        ("master-grading-duplicate-grade", "評価基準", "A10"),
        ("master-grading-bad-method", "評価基準", "B2"),
        ("master-grading-bad-switch", "評価基準", "B3"),
    ]
    assert all(f.message("ja") and f.message("en") for f in raised.value.findings)


def test_bad_targets_name_each_cell(workspace: Workspace) -> None:
    _set_targets(
        workspace.master_path,
        {
            12: ("○", None, None),
            17: ("3.0%", "来年", "上昇"),
            36: ("60%", None, "増加"),
            3: ("40人", None, None),
        },
    )
    with pytest.raises(ConfigurationError) as raised:
        read_master(workspace.master_path)
    found = {(f.code, f.sheet, f.cell) for f in raised.value.findings}
    sheet = openpyxl.load_workbook(workspace.master_path)["計画"]
    header = [cell.value for cell in sheet[1]]
    rows = {row[header.index("事業番号")].value: row[0].row for row in sheet.iter_rows(min_row=2)}

    def cell(no: int, column: str) -> str:
        return f"{openpyxl.utils.get_column_letter(header.index(column) + 1)}{rows[no]}"

    assert found == {
        ("master-bad-target", "計画", cell(12, "目標値")),
        ("master-bad-fiscal-year", "計画", cell(17, "目標年度")),
        ("master-bad-direction", "計画", cell(17, "方向")),
        ("master-direction-conflict", "計画", cell(36, "方向")),  # 増加, yet 60% is below 75%
        ("master-unit-mismatch", "計画", cell(3, "目標値")),  # 冊, not 人
    }


def test_a_pro_rating_rule_needs_target_years(workspace: Workspace) -> None:
    _set_targets(workspace.master_path, {12: ("60人", None, None)})
    _set_rule(workspace.master_path, {"按分": "する"}, [("A", 100), ("B", None)])
    with pytest.raises(ConfigurationError) as raised:
        read_master(workspace.master_path)
    assert [f.code for f in raised.value.findings] == ["master-target-year-needed"]


def test_an_old_master_without_targets_or_rule_reads_as_before(workspace: Workspace) -> None:
    book = openpyxl.load_workbook(workspace.master_path)
    del book["評価基準"]
    sheet = book["計画"]
    header = [cell.value for cell in sheet[1]]
    sheet.delete_cols(header.index("目標値") + 1, 3)
    book.save(workspace.master_path)
    plan = read_master(workspace.master_path)
    assert plan.grading == DEFAULT_RULE and not plan.has_targets
    assert "target" not in plan.to_dict()["projects"][0]


def test_targets_show_in_plan_json_only_when_set(workspace: Workspace) -> None:
    _set_targets(workspace.master_path, {36: ("85%", "令和6年度", "増加")})
    projects = {p["no"]: p for p in read_master(workspace.master_path).to_dict()["projects"]}
    assert projects[36]["target"] == "85%" and projects[36]["direction"] == "増加"
    assert projects[36]["target_year"] == {"wareki": "令和6年度", "western": 2024}
    assert "target" not in projects[3]


def test_graded_sheets_written_in_two_processes_match_one(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A second process may write only formats and texts numbered beforehand: the grading cells too.
    import dataclasses

    from xlplan.publish import parallel
    from xlplan.publish.table import build_table
    from xlplan.publish.template import load_report_style

    targets = {
        no: Value(Decimal(target.rstrip("人%")), "%" if "%" in target else "人")
        for no, (target, _, _) in TARGETS.items()
        if no != 20
    }
    projects = tuple(dataclasses.replace(p, target=targets.get(p.no)) for p in example.plan.projects)
    table = build_table(dataclasses.replace(example.plan, projects=projects), example.answers)
    assert table.graded
    monkeypatch.setattr(parallel, "PARALLEL_MIN_ROWS", 0)
    if not parallel._can_fork(table):
        pytest.skip("writing in two processes needs fork() (Linux)")
    delivered: list[object] = []
    forked = parallel._forked

    def watched(function):  # type: ignore[no-untyped-def]
        result = forked(function)
        return lambda: delivered.append(result()) or delivered[-1]  # raises if the second process failed

    monkeypatch.setattr(parallel, "_forked", watched)
    shared = parallel.write_table(table, load_report_style(), tmp_path / "two.xlsx")
    assert delivered, "the second process wrote no sheets"
    monkeypatch.setattr(parallel, "_can_fork", lambda table: False)
    single = parallel.write_table(table, load_report_style(), tmp_path / "one.xlsx")
    names = parallel.sheet_names(table)
    assert shared == single == parallel.read_back_checksum(tmp_path / "two.xlsx", names)
    assert _graded_cells(tmp_path / "two.xlsx") == _graded_cells(tmp_path / "one.xlsx")
    assert _graded_cells(tmp_path / "two.xlsx")[(36, "総務課")][1] == "A"
    # Every sheet alike, the 推移 sheet the first process writes while the second works included.
    from python_calamine import CalamineWorkbook

    sheets = CalamineWorkbook.from_path(str(tmp_path / "two.xlsx")).sheet_names
    assert (
        sheets == CalamineWorkbook.from_path(str(tmp_path / "one.xlsx")).sheet_names and sheets[-1] == "推移"
    )
    for name in sheets:
        assert calamine_rows(tmp_path / "two.xlsx", name) == calamine_rows(tmp_path / "one.xlsx", name), name

    def charts(path: Path) -> list[bytes]:
        with zipfile.ZipFile(path) as package:
            return [package.read(n) for n in sorted(package.namelist()) if n.startswith("xl/charts/chart")]

    assert charts(tmp_path / "two.xlsx") == charts(tmp_path / "one.xlsx") != []


def test_the_html_twin_and_the_digests_carry_the_grades(
    workspace: Workspace, example: Example, tmp_path: Path
) -> None:
    from xlplan.publish.digest import write_digests
    from xlplan.publish.html import html_text
    from xlplan.publish.table import build_table

    _set_targets(workspace.master_path, TARGETS)
    plan = read_master(workspace.master_path)
    table = build_table(plan, example.answers)
    page = html_text(table)
    assert '<th scope="col" rowspan="2">達成率</th>' in page
    assert "目標 60人 に対し 56人（達成率 77.8%）: C（50% 以上）" in page
    digests, _ = write_digests(table, tmp_path / "還元")
    health = next(d for d in digests if d.department == "健康増進課")
    rows = calamine_rows(health.workbook, "実績の推移")
    header = rows[3]
    row = next(r for r in rows[4:] if r and r[0] == 12.0)
    assert (row[header.index("達成率")], row[header.index("評価")]) == ("77.8%", "C")


def test_a_decrease_still_at_its_baseline_is_zero_percent_not_minus_zero() -> None:
    from xlplan.plan.fiscal_year import FiscalYear as Year

    graded = achievement(DEFAULT_RULE, Value(Decimal(8), "件"), Value(Decimal(4), "件"), Value(Decimal(8), "件"),
                         Year(2020), Year(2015))  # fmt: skip
    assert graded is not None and graded.rate is not None
    assert str(graded.rate) == "0.0" and not graded.rate.is_signed(), graded.rate  # the HTML printed -0.0%
    assert "-0" not in graded.reason


def test_a_goal_reached_where_the_ratio_divides_by_zero_gets_the_top_grade() -> None:
    import dataclasses

    from xlplan.plan.fiscal_year import FiscalYear as Year

    rule = dataclasses.replace(DEFAULT_RULE, method=RATIO)
    top = rule.grades[0].label

    def grade(target: int, value: int, direction: str) -> tuple[Decimal | None, str]:
        graded = achievement(rule, Value(Decimal(8), "件"), Value(Decimal(target), "件"), Value(Decimal(value), "件"),
                             Year(2020), Year(2015), direction=direction)  # fmt: skip
        assert graded is not None
        return graded.rate, graded.grade

    assert grade(2, 0, "減少") == (None, top)  # brought to zero: better than the target of 2
    assert grade(0, 0, "維持") == (None, top)  # kept at zero
    assert grade(0, 3, "維持")[1] != top  # not kept
    assert grade(2, 1, "減少") == (Decimal("200.0"), top)  # the ratio where it can be taken, as before
