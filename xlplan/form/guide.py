"""The 記入方法 sheet of a department workbook: how to fill it in, in Japanese, for people who never saw one."""

from __future__ import annotations

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from xlplan.form import layout
from xlplan.form.rows import WorkbookRequest
from xlplan.form.style import FONT, FONT_SIZE, TITLE_HEIGHT, Styles
from xlplan.plan.dates import wareki_date
from xlplan.xlsx.cells import clean_text
from xlplan.xlsx.text import text_height

K_OFFICE_PHONE = "連絡先電話"
K_RETURN_FOLDER = "提出先フォルダ"
"""Optional 設定 keys shown on the 記入方法 sheet (kept in ``Settings.extra``)."""
A4 = 9
TEXT_WIDTH = 100  # characters: the width of column B, where the instructions wrap


def write_guide_sheet(workbook: xlsxwriter.Workbook, styles: Styles, request: WorkbookRequest) -> None:
    settings, department = request.settings, request.department
    sheet = workbook.add_worksheet(layout.GUIDE_SHEET)
    sheet.set_column(0, 0, 4)
    sheet.set_column(1, 1, TEXT_WIDTH)
    year = settings.current_year.wareki
    deadline = wareki_date(settings.deadline) if settings.deadline else "（照会のメールをご確認ください）"
    office = " ".join(part for part in (settings.office, settings.office_contact) if part) or "照会元"
    phone = settings.extra.get(K_OFFICE_PHONE)
    folder = settings.extra.get(K_RETURN_FOLDER)
    how = []
    if settings.office_email:
        how.append(f"このファイルを添付して {settings.office_email} へメールで返信してください。")
    if folder:
        how.append(f"または、共有フォルダ {folder} に保存してください。")
    if not how:
        how.append(f"{office}へ提出してください。")
    ask = office + (f"（電話 {phone}）" if phone else "")
    if settings.office_email:
        ask += f"　{settings.office_email}"
    sections: list[tuple[str, list[str]]] = [
        (
            "このファイルについて",
            [
                f"{settings.plan_name}の{year}の事業実績を、{department.name}に照会するファイルです（{len(request.rows)}行）。",
                "「回答」シートの1行が、担当する事業1件（共同で報告する事業は、そのうち自課の分）です。",
            ],
        ),
        (
            "記入するセル",
            [
                "「回答」シートの黄色のセル（今年度の値・今年度の実績内容）だけに記入してください。",
                "灰色のセル（事業の内容・現状値・前年度の値など）は変更できません。行や列の追加・削除、シート名の変更もしないでください。",
            ],
        ),
        (
            "今年度の値",
            [
                "数値目標がある事業: 数値を半角で入力します。人・件・回などの単位は自動で表示されます（159 と入力すると「159人」と表示）。",
                "「%」の事業は 31.9 と入力しても 31.9% と入力してもかまいません。入力したとおりに読み取ります。",
                "人・件・回などの事業で「159人」のように単位を付けると、入力できません。",
                "数値目標がない事業: セルを選ぶと出る ▼ から、次の記号を選びます（数値目標がある事業でも、実施しなかった場合は ×、該当なしは — を入力します）。",
            ],
        ),
    ]
    marks = [("○", "実施した"), ("×", "実施しなかった（中止を含む）"), ("—", "該当なし・数値なし")]
    later: list[tuple[str, list[str]]] = [
        (
            "今年度の実績内容",
            [
                f"取り組みの内容、回数、参加者数などを{layout.NARRATIVE_MAX:,}字以内で記入してください。セル内の改行は Alt+Enter です。",
                "前年度の文章をそのまま使わず、今年度の内容を記入してください。",
                "文章が隠れて見えないときは、行番号の下の境界をダブルクリックすると行の高さが合います。",
            ],
        ),
        (
            "共同で報告する事業",
            [
                "担当課の欄に複数の課がある事業は、各課が自課の分だけを記入します（「回答する課」が自課の行）。合計は照会元で行います。",
                "前年度の値は、課ごとの内訳が記録されていない場合、共同の合計を表示しています。",
            ],
        ),
        ("提出", [f"締切: {deadline}", *how, "ファイル名は変えずに送付してください。"]),
        ("問い合わせ先", [ask]),
    ]
    sheet.write_string(
        0,
        0,
        clean_text(f"記入方法 — {settings.plan_name} {year}実績の照会（{department.name}）"),
        styles.title,
    )
    sheet.set_row(0, TITLE_HEIGHT)
    r = 2
    for number, (heading, lines) in enumerate(sections, start=1):
        r = _guide_section(sheet, styles, r, number, heading, lines) + 1
    r -= 1  # the marks belong to the last section: no blank line before them
    for mark, meaning in marks:
        sheet.write_string(r, 0, mark, styles.guide_mark)
        sheet.write_string(r, 1, meaning, styles.guide_text)
        sheet.set_row(r, text_height(meaning, TEXT_WIDTH, 12, FONT))  # the mark's 12 pt sets the line
        r += 1
    r += 1
    for number, (heading, lines) in enumerate(later, start=len(sections) + 1):
        r = _guide_section(sheet, styles, r, number, heading, lines) + 1
    issued = f"第{settings.round}回照会　様式 {layout.TEMPLATE_VERSION}"
    sheet.write_string(r, 1, issued, styles.info)
    sheet.hide_gridlines(2)
    sheet.protect()
    sheet.set_portrait()
    sheet.set_paper(A4)
    sheet.fit_to_pages(1, 0)


def _guide_section(
    sheet: Worksheet, styles: Styles, r: int, number: int, heading: str, lines: list[str]
) -> int:
    sheet.write_string(r, 0, f"{number}.", styles.guide_heading)
    sheet.write_string(r, 1, heading, styles.guide_heading)
    r += 1
    for line in lines:
        text = clean_text(line)
        sheet.write_string(r, 1, text, styles.guide_text)
        # A wrapped cell needs its height set: LibreOffice (screen and PDF) does not grow the
        # row of a file it opens, and Excel only when the row was never given a height.
        sheet.set_row(r, text_height(text, TEXT_WIDTH, FONT_SIZE, FONT))
        r += 1
    return r
