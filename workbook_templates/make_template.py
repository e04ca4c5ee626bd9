"""Generate 事業実績一覧テンプレート.xlsx, the styled template of the consolidated table.

Run from the repository root after changing the default look:

    python workbook_templates/make_template.py

It writes ``workbook_templates/事業実績一覧テンプレート.xlsx`` (the copy people
open and restyle) and the identical copy shipped inside the package,
``xlplan/templates/事業実績一覧テンプレート.xlsx`` (a test checks they are the
same bytes). Offices do not need this script: they restyle the .xlsx in Excel
and put it in their workspace's ``templates/`` folder.

The sample sheet imitates the seed (令和2年度 事業実績一覧, 基本目標Ⅰ) with one
cell of each role; every role cell is marked by the defined name
``xlplan_<role>`` that :mod:`xlplan.publish.template` reads.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import sys
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.workbook.defined_name import DefinedName

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xlplan.publish.template import NAME_PREFIX, ROLES, SAMPLE_SHEET, TEMPLATE_NAME  # noqa: E402

FONT = "ＭＳ Ｐゴシック"  # installed on every Japanese Windows; LibreOffice substitutes a CJK gothic
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
LEVEL1_FILL = PatternFill("solid", fgColor="E2EFDA")
LEVEL2_FILL = PatternFill("solid", fgColor="F2F2F2")
WIDTHS = {"A": 7, "B": 6, "C": 40, "D": 13, "E": 9, "F": 10, "G": 10, "H": 66}
# Fixed so that regenerating gives the same bytes (the package copy is compared with this one).
FIXED_TIME = dt.datetime(2021, 4, 1)


def build() -> Workbook:
    """The template workbook: the sample sheet and a guide sheet."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SAMPLE_SHEET
    for letter, width in WIDTHS.items():
        sheet.column_dimensions[letter].width = width

    def put(address: str, value: object, role: str | None = None, **style: object) -> None:
        cell = sheet[address]
        cell.value = value
        for key, item in style.items():
            setattr(cell, key, item)
        if role is not None:
            workbook.defined_names[NAME_PREFIX + role] = DefinedName(
                NAME_PREFIX + role, attr_text=f"'{SAMPLE_SHEET}'!${cell.column_letter}${cell.row}"
            )

    body = Font(name=FONT, size=9)
    top_left = Alignment(horizontal="left", vertical="top", wrap_text=True)
    centred = Alignment(horizontal="center", vertical="center", wrap_text=True)

    # Heading block: title and document label, goal heading, 体系一覧 line with the slogan.
    put(
        "A1",
        "第2次小城市男女共同参画プラン事業実績一覧（R2）",
        "title",
        font=Font(name=FONT, size=14, bold=True),
        alignment=Alignment(horizontal="left", vertical="center"),
    )
    sheet.merge_cells("A1:G1")
    put(
        "H1",
        "資料 1-3",
        "label",
        font=Font(name=FONT, size=11),
        alignment=Alignment(horizontal="right", vertical="center"),
    )
    put(
        "A2",
        "基本目標Ⅰ 男女共同参画社会の実現に向けた意識づくり",
        "goal",
        font=Font(name=FONT, size=12, bold=True),
        alignment=Alignment(horizontal="left", vertical="center"),
    )
    sheet.merge_cells("A2:H2")
    put(
        "A3",
        "体系一覧（第2次小城市男女共同参画プラン）",
        "plan_line",
        font=Font(name=FONT, size=10),
        alignment=Alignment(horizontal="left", vertical="center"),
    )
    sheet.merge_cells("A3:D3")
    put(
        "E3",
        "～男女がともに認めあい、支えあい、希望あふれる小城市をめざして～",
        "slogan",
        font=Font(name=FONT, size=10),
        alignment=Alignment(horizontal="right", vertical="center"),
    )
    sheet.merge_cells("E3:H3")
    sheet.row_dimensions[1].height = 24
    sheet.row_dimensions[2].height = 21
    sheet.row_dimensions[3].height = 16

    # The two-row table header.
    header_font = Font(name=FONT, size=9, bold=True)
    first = ["施策の方向", "基本事業", "事業", "担当課", "現状値", "実績値", "①実績値", "②令和2年度実績"]
    second = ["", "", "", "", "27年度", "令和元年度", "令和2年度", "（事業の内容・取り組み状況）"]
    for index, (upper, lower) in enumerate(zip(first, second, strict=True)):
        letter = "ABCDEFGH"[index]
        put(
            f"{letter}4",
            upper,
            "header" if index == 0 else None,
            font=header_font,
            fill=HEADER_FILL,
            border=BOX,
            alignment=centred,
        )
        put(
            f"{letter}5",
            lower or None,
            "header_year" if index == 4 else None,
            font=header_font,
            fill=HEADER_FILL,
            border=BOX,
            alignment=centred,
        )
        if index < 4:
            sheet.merge_cells(f"{letter}4:{letter}5")
    sheet.row_dimensions[4].height = 15
    sheet.row_dimensions[5].height = 15

    # A 施策の方向 row, a 基本事業 row, and project 7 (two departments, a number and a mark).
    put(
        "A6",
        "(1) 男女共同参画に関する教育・学習の推進",
        "level1",
        font=Font(name=FONT, size=10, bold=True),
        fill=LEVEL1_FILL,
        border=BOX,
        alignment=Alignment(horizontal="left", vertical="center"),
    )
    sheet.merge_cells("A6:H6")
    put("A7", None, None, fill=LEVEL1_FILL, border=BOX)
    put(
        "B7",
        "① 幼少期からの発達段階に応じた教育における男女平等意識の醸成",
        "level2",
        font=Font(name=FONT, size=10, bold=True),
        fill=LEVEL2_FILL,
        border=BOX,
        alignment=Alignment(horizontal="left", vertical="center"),
    )
    sheet.merge_cells("B7:H7")
    sheet.row_dimensions[6].height = 16
    sheet.row_dimensions[7].height = 16
    for row in (8, 9):
        put(f"A{row}", None, "gutter" if row == 8 else None, fill=LEVEL1_FILL, border=BOX)
    put(
        "B8",
        7,
        "no",
        font=body,
        border=BOX,
        alignment=Alignment(horizontal="center", vertical="top"),
        number_format="0",
    )
    sheet.merge_cells("B8:B9")
    put(
        "C8",
        "保育・教育関係者へ男女平等の視点に立った保育・教育のための研修会等を実施する。\n"
        "【数値目標】男女の人権を取り扱った保育・教育関係者の研修会等受講者数",
        "description",
        font=body,
        border=BOX,
        alignment=top_left,
    )
    sheet.merge_cells("C8:C9")
    put("D8", "保育幼稚園課", "department", font=body, border=BOX, alignment=top_left)
    put("D9", "学校教育課", None, font=body, border=BOX, alignment=top_left)
    value_style = {"font": body, "border": BOX, "alignment": Alignment(horizontal="center", vertical="top")}
    put("E8", 60, "baseline", number_format='#,##0"人"', **value_style)
    sheet.merge_cells("E8:E9")
    put("F8", 50, "previous", number_format='#,##0"人"', **value_style)
    put("F9", 49, None, number_format='#,##0"人"', **value_style)
    put("G8", "×", "current", **value_style)
    put("G9", 54, None, number_format='#,##0"人"', **value_style)
    put("H8", "該当する研修会は未実施", "narrative", font=body, border=BOX, alignment=top_left)
    put(
        "H9",
        "・小城市教職員人権・同和教育研修会「コロナ差別と部落問題を通して」11月5日実施 参加者54人\n"
        "・市内全4中学校において男女混合名簿導入",
        None,
        font=body,
        border=BOX,
        alignment=top_left,
    )
    sheet.row_dimensions[8].height = 40
    sheet.row_dimensions[9].height = 40

    # Print setup: A4 landscape, one page wide, the header rows on every page, page numbers.
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    assert sheet.sheet_properties.pageSetUpPr is not None
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.page_margins.header = sheet.page_margins.footer = 0.3
    sheet.print_options.horizontalCentered = True
    assert sheet.oddFooter is not None
    sheet.oddFooter.center.text = "&P / &N"
    sheet.print_title_rows = "4:5"
    sheet.freeze_panes = "A6"

    guide = workbook.create_sheet("使い方")
    guide.column_dimensions["A"].width = 24
    guide.column_dimensions["B"].width = 70
    lines = [
        ("事業実績一覧テンプレート", ""),
        ("", ""),
        ("このブックの役割", "xlplan が作る事業実績一覧（集約表）の書式の見本です。"),
        (
            "",
            f"「{SAMPLE_SHEET}」シートの見本セルの書式（フォント・塗りつぶし・罫線・配置・表示形式）、"
            "列の幅、見出し行の高さ、印刷設定（用紙・向き・余白・ヘッダー/フッター）が集約表に使われます。",
        ),
        (
            "書式を変えるには",
            "見本のセルを Excel で自由に書式設定し、上書き保存してください。"
            "作業フォルダの templates フォルダにこのファイルを置くと、次の集約から使われます。",
        ),
        (
            "してはいけないこと",
            "見本のセルを削除しないでください（行・列の挿入や移動はかまいません）。"
            "各見本セルには下の名前が付いています（数式タブ → 名前の管理）。",
        ),
        ("", "見本の文字や数値そのものは集約表には使われません。"),
        ("", ""),
        ("名前", "見本の内容"),
        *((NAME_PREFIX + role, text) for role, text in ROLES.items()),
    ]
    for row, (left, right) in enumerate(lines, start=1):
        guide.cell(row, 1, left or None).font = Font(name=FONT, size=10, bold=row in (1, 9))
        guide.cell(row, 2, right or None).font = Font(name=FONT, size=10, bold=row == 9)
        guide.cell(row, 2).alignment = Alignment(wrap_text=True, vertical="top")
    workbook.properties.creator = "xlplan"
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    return workbook


def _normalised(data: bytes) -> bytes:
    """Rewrite the zip with fixed timestamps so that regenerating gives identical bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with the current time
                content = _fixed_core(content)
            target.writestr(fixed, content)
    return out.getvalue()


def _fixed_core(content: bytes) -> bytes:
    import re

    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    return re.sub(
        rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>", content
    )


def main() -> None:
    """Write the template beside this script and copy it into the package."""
    buffer = io.BytesIO()
    build().save(buffer)
    data = _normalised(buffer.getvalue())
    target = Path(__file__).resolve().parent / TEMPLATE_NAME
    target.write_bytes(data)
    packaged = ROOT / "xlplan" / "templates" / TEMPLATE_NAME
    packaged.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target, packaged)
    print(f"wrote {target} and {packaged}")


if __name__ == "__main__":
    main()
