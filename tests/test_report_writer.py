"""The consolidated table's fast worksheet writer produces XlsxWriter's own XML."""

from __future__ import annotations

import zipfile
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from xlplan.report_writer import _Sheet


def _sheet_xml(path: Path, worksheet_class: type[Worksheet]) -> bytes:
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    bold = book.add_format({"bold": True, "border": 1})
    unit = book.add_format({"num_format": '#,##0"人"', "text_wrap": True})
    shaded = book.add_format({"bg_color": "#E2EFDA"})
    sheet = book.add_worksheet("表", worksheet_class=worksheet_class)
    sheet.set_column(0, 0, 7, shaded)
    sheet.set_column(5, 6, 30)
    sheet.set_row(2, 30, bold)
    sheet.write_string(0, 0, '見出し & <注> "引用"', bold)
    sheet.write_string(0, 3, "  leading and trailing  ")
    sheet.merge_range(1, 1, 40, 1, "", bold)
    sheet.write_number(1, 1, 7, bold)
    for row in range(1, 41):
        sheet.write_blank(row, 0, None, shaded)
        sheet.write_number(row, 2, row * 1.5, unit)
        sheet.write_string(row, 3, f'課{row:04d}\n=WEBSERVICE("x")')
        sheet.write_blank(row, 4, None)  # no format: not written
        sheet.write_number(row, 5, 1e20 / row)
        sheet.set_row(row, 12 + row % 5)
    sheet.write_blank(2, 4, None, unit)
    sheet.write_formula(41, 2, "=SUM(C2:C41)", unit, 0)  # handed back to XlsxWriter
    sheet.write_rich_string(42, 3, "a", bold, "b")
    sheet.set_row(60, 20)  # a row with a height only
    sheet.write_boolean(70, 6, True)
    book.close()
    with zipfile.ZipFile(path) as package:
        return package.read("xl/worksheets/sheet1.xml")


def test_fast_sheet_writes_xlsxwriters_xml(tmp_path: Path) -> None:
    assert _sheet_xml(tmp_path / "fast.xlsx", _Sheet) == _sheet_xml(tmp_path / "stock.xlsx", Worksheet)
