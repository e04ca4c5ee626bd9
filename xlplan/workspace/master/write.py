"""Writing a :class:`~xlplan.plan.model.Plan` into a master workbook, with explanations for the staff."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from xlplan.plan.grading import DIRECTIONS, GradingRule
from xlplan.plan.model import Department, Plan, Settings
from xlplan.workspace.master.format import (
    C_DIRECTION,
    C_TARGET,
    C_TARGET_YEAR,
    DEPARTMENT_COLUMNS,
    G_BAND,
    G_BAND_LABEL,
    G_METHOD,
    G_MINIMUM,
    G_PRORATE,
    G_TABLE,
    G_UNGRADED,
    GRADING_HELP,
    GRADING_TABLE_HELP,
    HEADER_FILL,
    HEADER_FONT,
    K_BASELINE,
    K_BASELINE_LABEL,
    K_CURRENT,
    K_DEADLINE,
    K_LABEL,
    K_LEVEL,
    K_MUNICIPALITY_CODE,
    K_OFFICE,
    K_OFFICE_CONTACT,
    K_OFFICE_EMAIL,
    K_PAST_YEARS,
    K_PLAN_NAME,
    K_PREVIOUS,
    K_ROUND,
    K_SLOGAN,
    K_TITLE,
    NO,
    REQUIRED_SHEETS,
    SETTING_HELP,
    SHEET_DEPARTMENTS,
    SHEET_GRADING,
    SHEET_GUIDE,
    SHEET_HISTORY,
    SHEET_PLAN,
    SHEET_SETTINGS,
    WRAP,
    YES,
    PlanColumns,
    history_columns,
)
from xlplan.workspace.master.kept import office_columns, restore_office_columns
from xlplan.xlsx.cells import set_text

# ----------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------


def write_master(plan: Plan, path: Path) -> None:
    """Write ``plan`` as a new master workbook at ``path`` (.xlsx)."""
    workbook = openpyxl.Workbook()
    fill_master(workbook, plan)
    workbook.save(path)


def fill_master(workbook: Workbook, plan: Plan) -> None:
    """Put the master's sheets into ``workbook``, replacing any sheets of the same names.

    Other sheets (an 操作 sheet with buttons, ``xlwings.conf``, the office's own) are kept, so the
    button workbook can be refreshed from the plan without losing them; each master sheet keeps
    its place among them, and the columns the office added to 計画, 担当課 and 履歴 are put back
    (:mod:`xlplan.workspace.master.kept`).
    """
    kept = office_columns(workbook, plan)
    ours = (SHEET_GUIDE, *REQUIRED_SHEETS, SHEET_GRADING)
    places = {name: index for index, name in enumerate(workbook.sheetnames) if name in ours}
    for name in ours:
        if name in workbook.sheetnames:
            del workbook[name]
    if (
        workbook.sheetnames == ["Sheet"]
        and workbook["Sheet"].max_row == 1
        and workbook["Sheet"]["A1"].value is None
    ):
        del workbook["Sheet"]

    def sheet(name: str) -> Worksheet:
        # Where it was (created in the order the sheets stood, each index is the old one); else last.
        return workbook.create_sheet(name, places.get(name))

    _write_guide(sheet(SHEET_GUIDE), plan)
    _write_settings(sheet(SHEET_SETTINGS), plan.settings)
    _write_plan(sheet(SHEET_PLAN), plan)
    _write_departments(sheet(SHEET_DEPARTMENTS), plan.departments)
    _write_history(sheet(SHEET_HISTORY), plan)
    _write_grading(sheet(SHEET_GRADING), plan.grading)
    restore_office_columns(workbook, kept, plan)


def _header(
    sheet: Worksheet, columns: Sequence[str], notes: Mapping[str, str], widths: Mapping[str, float]
) -> None:
    for position, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=position)
        set_text(cell, name)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        if name in notes:
            cell.comment = Comment(notes[name], "xlplan", width=300, height=120)
        sheet.column_dimensions[get_column_letter(position)].width = widths.get(name, 14)
    sheet.freeze_panes = "A2"
    _print_setup(sheet)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}1"


def _print_setup(sheet: Worksheet) -> None:
    # Staff print the master to check it: landscape, one page wide, the header row on every page.
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = "1:1"


def _write_rows(sheet: Worksheet, rows: Iterable[Sequence[Any]], wrap: Iterable[int] = ()) -> None:
    wrap_columns = set(wrap)
    for row_number, row in enumerate(rows, start=2):
        for position, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=position)
            if isinstance(value, str):
                set_text(cell, value)
            else:
                cell.value = value
            if position in wrap_columns:
                cell.alignment = WRAP


def _write_guide(sheet: Worksheet, plan: Plan) -> None:
    lines = [
        (f"{plan.settings.plan_name} 計画マスタ", True),
        ("このブックは xlplan が計画の進捗照会（配布 → 回収・検証 → 集約）に使う元データです。", False),
        ("", False),
        ("シートの役割", True),
        (
            "設定: 表題、階層名、年度（現状値・前年度・今年度）、締切、照会元、メールの文面。B列の値だけを変更してください。",
            False,
        ),
        ("計画: 事業 × 担当課ごとに1行。同じ事業を複数の課がそれぞれ報告する場合は行を分けます。", False),
        (
            "　　「回答する課」は空欄なら担当課がそのまま回答します。複数の課が1行で共同報告する場合は課名を「、」区切りで、",
            False,
        ),
        ("　　担当課の表示が課名と違う場合（例: 企画政策課 (関係各課)）は回答する課を1つ入力します。", False),
        (
            "担当課: 課の名称、別の表記（別名）、メールアドレス、担当者。計画シートの課名はここに登録が必要です。",
            False,
        ),
        (
            "履歴: 年度ごとの実績値と実績内容（1行に1件）。「内訳の課」は共同報告の各課の分のときだけ入力します。",
            False,
        ),
        (
            "評価基準: 目標値（計画シートの目標値・目標年度・方向）に対する達成率と評価の決まり。上は項目・値・説明、"
            "「区分」の行の下に区分と下限（達成率 %）を高い順に。",
            False,
        ),
        ("", False),
        ("値の書き方", True),
        ("数値は単位を付けて（172人、1.6%）、記号は ○（実施）× （未実施）—（該当なし）を使います。", False),
        ("年度は 令和2年度、R2、2020 のいずれの形でも入力できます。", False),
        ("", False),
        ("見出しのセルにコメント（赤い三角）で各列の説明があります。", False),
        *(
            [
                ("", False),
                ("はじめての入力（この計画マスタにはまだ事業がありません）", True),
                (
                    "1. 設定: 計画名・表題、現状値年度・前年度・今年度、締切、担当部署・連絡先メールを入力します。",
                    False,
                ),
                (
                    "2. 担当課: 照会する課を1行に1課。メールアドレスを入れるとメールの下書きを作ります。",
                    False,
                ),
                (
                    f"3. 計画: {plan.levels[-1]}ごとに1行（担当課ごとに分けて報告する{plan.levels[-1]}は課ごとに1行）。"
                    "上位の階層の番号と名称も各行に入れます。",
                    False,
                ),
                ("4. 履歴: 前年度までの実績値がわかれば入れます（なくても始められます）。", False),
                (
                    "いまある事業実績一覧の Excel から作ることもできます: xlplan init 作業フォルダ --from 事業実績一覧.xlsx",
                    False,
                ),
            ]
            if not plan.projects
            else []
        ),
        ("操作の詳しい説明は docs/ の利用者ガイドを参照してください。", False),
    ]
    sheet.column_dimensions["A"].width = 110
    _print_setup(sheet)
    sheet.print_title_rows = None
    for row_number, (text, bold) in enumerate(lines, start=1):
        cell = sheet.cell(row=row_number, column=1)
        set_text(cell, text or None)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if bold:
            cell.font = Font(bold=True, size=12 if row_number == 1 else 11)


def settings_rows(settings: Settings) -> list[tuple[str, Any, str]]:
    """The 設定 sheet's rows below its header: (項目, 値, 説明)."""
    rows: list[tuple[str, Any, str]] = [
        (K_PLAN_NAME, settings.plan_name, SETTING_HELP[K_PLAN_NAME]),
        (K_TITLE, settings.title, SETTING_HELP[K_TITLE]),
        (K_LABEL, settings.document_label, SETTING_HELP[K_LABEL]),
        (K_SLOGAN, settings.slogan, SETTING_HELP[K_SLOGAN]),
    ]
    for depth, level in enumerate(settings.levels, start=1):
        help_text = "階層の名称（上位から順に。最後が報告単位の事業）。" if depth == 1 else ""
        rows.append((f"{K_LEVEL}{depth}", level, help_text))
    rows += [
        (K_BASELINE, settings.baseline_year.wareki, SETTING_HELP[K_BASELINE]),
        (K_BASELINE_LABEL, settings.baseline_label, SETTING_HELP[K_BASELINE_LABEL]),
        (K_PREVIOUS, settings.previous_year.wareki, SETTING_HELP[K_PREVIOUS]),
        (K_CURRENT, settings.current_year.wareki, SETTING_HELP[K_CURRENT]),
        (K_ROUND, settings.round, SETTING_HELP[K_ROUND]),
        (K_PAST_YEARS, settings.past_years, SETTING_HELP[K_PAST_YEARS]),
        (K_MUNICIPALITY_CODE, settings.municipality_code, SETTING_HELP[K_MUNICIPALITY_CODE]),
        (K_DEADLINE, settings.deadline, SETTING_HELP[K_DEADLINE]),
        (K_OFFICE, settings.office, SETTING_HELP[K_OFFICE]),
        (K_OFFICE_CONTACT, settings.office_contact, SETTING_HELP[K_OFFICE_CONTACT]),
        (K_OFFICE_EMAIL, settings.office_email, SETTING_HELP[K_OFFICE_EMAIL]),
    ]
    for kind, template in settings.mail.items():
        rows.append(
            (
                f"{kind}メール件名",
                template.subject,
                f"{kind}メールの件名。{{担当課}} {{締切}} {{年度}} {{計画名}} が使えます。",
            )
        )
        rows.append(
            (f"{kind}メール本文", template.body, f"{kind}メールの本文。{{担当者}} {{照会元}} も使えます。")
        )
    rows += [(key, value, "") for key, value in settings.extra.items()]
    return rows


def _write_items(
    sheet: Worksheet,
    rows: Sequence[Sequence[Any]],
    note: str,
    *,
    value_width: int,
    help_width: int,
    wrap: tuple[int, ...],
) -> None:
    # 設定 and 評価基準 are both 項目・値・説明 sheets: one header, no filter (they are read by key).
    _header(sheet, ["項目", "値", "説明"], {"値": note}, {"項目": 22, "値": value_width, "説明": help_width})
    sheet.auto_filter.ref = None
    _write_rows(sheet, rows, wrap=wrap)


def _write_settings(sheet: Worksheet, settings: Settings) -> None:
    rows = settings_rows(settings)
    _write_items(sheet, rows, "この列だけを変更してください。", value_width=60, help_width=60, wrap=(2, 3))
    for row_number, (key, _value, _help) in enumerate(rows, start=2):
        if key == K_DEADLINE:
            sheet.cell(row=row_number, column=2).number_format = "yyyy/m/d"


def _write_plan(sheet: Worksheet, plan: Plan) -> None:
    names = PlanColumns(plan.levels)
    columns = names.all()
    notes = {
        names.number: "事業の番号（1以上の整数）。同じ事業を複数の課が別々に報告する場合は、同じ番号の行を続けて入れます。",
        "数値目標": "数値目標（指標）。ない事業は空欄。",
        "単位": "数値目標の単位（人、%、回 など）。回答の数値はこの単位で読みます。単位のない指標は空欄。",
        "現状値": "計画策定時の値（現状値年度の値）。数値は単位付き、または ○ × —。",
        C_TARGET: "数値目標の目標値（単位付き、例: 50%）。入れた事業は集約表に達成率と評価（評価基準シートの決まり）が載ります。空欄なら評価しません。",
        C_TARGET_YEAR: "目標値を達成する年度（例: 令和6年度）。評価基準で按分する場合に使います。",
        C_DIRECTION: f"{'・'.join(DIRECTIONS)}のどれか。空欄なら目標値と現状値の大小から決めます（同じなら維持）。",
        "担当課": "報告する課（集約表に表示する文字どおり）。",
        "回答する課": "回答を記入する課。空欄なら担当課がそのまま回答します。複数の課が1行で共同報告する場合は"
        "各課の名称を「、」区切りで入力します。",
    }
    widths = {names.description: 50, "数値目標": 30, "担当課": 22, "回答する課": 26}
    for depth in range(len(plan.levels) - 1):
        number_col, title_col, subtitle_col = names.node_columns(depth)
        widths[number_col] = 8
        widths[title_col] = 28
        widths[subtitle_col] = 12
    _header(sheet, columns, notes, widths)
    _write_rows(sheet, plan_rows(plan), wrap=(columns.index(names.description) + 1,))


def plan_rows(plan: Plan) -> list[list[Any]]:
    """The 計画 sheet's rows below its header: one per entry of each project."""
    rows = []
    for project in plan.projects:
        heading: list[Any] = []
        for node in plan.ancestors(project):
            heading += [node.number, node.title, node.subtitle]
        for entry in project.entries:
            rows.append(
                [
                    *heading,
                    project.no,
                    project.description,
                    project.indicator,
                    project.unit,
                    project.baseline.to_json(),
                    entry.name,
                    "、".join(entry.members) if entry.members != (entry.name,) else None,
                    project.target.to_json() if project.target is not None else None,
                    project.target_year.wareki if project.target_year is not None else None,
                    project.direction,
                ]
            )
    return rows


def _write_departments(sheet: Worksheet, departments: Sequence[Department]) -> None:
    notes = {
        "別名": "計画シートで使われている別の表記（例: 旧字体・誤記）。「、」区切り。",
        "メールアドレス": "照会メールの宛先。空欄の課にはメールを作りません（ブックは作ります）。",
        "旧名称": "機構改革の前の課名。名称変更は旧名を1つ、統合は統合前の課名を「、」区切りで。分割は、分かれた"
        "それぞれの課に同じ旧名を入れます。過去の実績はこの課に引き継がれます。",
    }
    _header(sheet, DEPARTMENT_COLUMNS, notes, {"担当課": 22, "別名": 22, "メールアドレス": 32, "旧名称": 26})
    _write_rows(sheet, department_rows(departments))


def department_rows(departments: Sequence[Department]) -> list[list[Any]]:
    """The 担当課 sheet's rows below its header."""
    return [
        [
            dep.name,
            "、".join(dep.aliases) or None,
            dep.email,
            dep.contact,
            dep.phone,
            "、".join(dep.former) or None,
        ]
        for dep in departments
    ]


def _write_history(sheet: Worksheet, plan: Plan) -> None:
    columns = history_columns(plan.levels)
    notes = {
        "内訳の課": "共同報告の各課の分のときだけ課名を入力します。空欄は行全体の値です。",
        "年度": "令和2年度、R2、2020 のいずれでも可。",
        "備考": "未回答（照会したが回答がなかった）など。",
    }
    _header(sheet, columns, notes, {"担当課": 22, "内訳の課": 16, "実績内容": 80, "備考": 16})
    _write_rows(sheet, history_rows(plan), wrap=(6,))


def history_rows(plan: Plan) -> list[list[Any]]:
    """The 履歴 sheet's rows below its header: the history as the master holds it."""
    return [
        [
            record.project_no,
            record.entry,
            record.department,
            record.fiscal_year.wareki,
            record.value.to_json(),
            record.narrative,
            record.note,
        ]
        for record in plan.recorded_history
    ]


def grading_rows(rule: GradingRule) -> list[tuple[Any, Any, str]]:
    """The 評価基準 sheet's rows below its header: the 項目・値・説明 rows, a blank row, then the 区分 table."""
    rows: list[tuple[Any, Any, str]] = [
        (G_METHOD, rule.method, GRADING_HELP[G_METHOD]),
        (G_PRORATE, YES if rule.prorate else NO, GRADING_HELP[G_PRORATE]),
        (G_BAND, float(rule.band) if rule.band is not None else None, GRADING_HELP[G_BAND]),
        (G_BAND_LABEL, rule.band_label, GRADING_HELP[G_BAND_LABEL]),
        (G_UNGRADED, rule.ungraded, GRADING_HELP[G_UNGRADED]),
        (None, None, ""),
        (G_TABLE, G_MINIMUM, GRADING_TABLE_HELP),
    ]
    for grade in rule.grades:
        minimum = float(grade.minimum) if grade.minimum is not None else None
        rows.append((grade.label, minimum, grade.description or ""))
    return rows


def _write_grading(sheet: Worksheet, rule: GradingRule) -> None:
    rows = grading_rows(rule)
    note = "この列を変更します。区分の表は行を足したり消したりできます（上から高い順）。"
    _write_items(sheet, rows, note, value_width=16, help_width=90, wrap=(3,))
    table_row = next(number for number, row in enumerate(rows, start=2) if row[0] == G_TABLE)
    for column in range(1, 4):
        cell = sheet.cell(row=table_row, column=column)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL


def master_tables(plan: Plan) -> dict[str, list[list[Any]]]:
    """Each data sheet of the master as rows of values, header first: what a workbook open in Excel
    is given when the plan changes under it (the 次年度へ button writes these through xlwings)."""
    names = PlanColumns(plan.levels)
    return {
        SHEET_SETTINGS: [["項目", "値", "説明"], *[list(row) for row in settings_rows(plan.settings)]],
        SHEET_PLAN: [names.all(), *plan_rows(plan)],
        SHEET_DEPARTMENTS: [list(DEPARTMENT_COLUMNS), *department_rows(plan.departments)],
        SHEET_HISTORY: [history_columns(plan.levels), *history_rows(plan)],
    }
