"""The look of a department workbook, shared by its writer, its guide sheet and the 差し戻し票."""

from __future__ import annotations

import xlsxwriter
from xlsxwriter.format import Format

GREY = "#F2F2F2"
YELLOW = "#FFF2A8"
HEADER_BLUE = "#DDEBF7"
BORDER_GREY = "#A6A6A6"
FONT = "游ゴシック"  # the Japanese Office default since 2016; Excel substitutes where it is missing
FONT_SIZE = 10
TITLE_SIZE = 14
TITLE_HEIGHT = 24  # points: a 14 pt line with room; rows are not grown to their font when a file is opened


class Styles:
    """The formats of a workbook, made once and cached by number format."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.workbook = workbook
        border = {"border": 1, "border_color": BORDER_GREY}
        self.title = workbook.add_format({"bold": True, "font_size": TITLE_SIZE})
        self.info = workbook.add_format({"font_size": 10})
        self.notice = workbook.add_format({"bold": True, "font_color": "#C00000"})
        self.swatch = workbook.add_format({"bg_color": YELLOW, **border})
        heading = {"bold": True, "text_wrap": True, "align": "center", "valign": "vcenter", **border}
        self.header = workbook.add_format({"bg_color": HEADER_BLUE, **heading})
        self.header_input = workbook.add_format({"bg_color": YELLOW, **heading})
        self.locked_text = workbook.add_format(
            {"bg_color": GREY, "text_wrap": True, "valign": "top", **border}
        )
        self.locked_center = workbook.add_format(
            {"bg_color": GREY, "text_wrap": True, "align": "center", "valign": "top", **border}
        )
        self.input_text = workbook.add_format(
            {"bg_color": YELLOW, "text_wrap": True, "valign": "top", "locked": False, **border}
        )
        self.guide_heading = workbook.add_format({"bold": True, "font_size": 12, "bottom": 1})
        self.guide_text = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.guide_mark = workbook.add_format(
            {"bold": True, "align": "center", "valign": "top", "font_size": 12}
        )
        self._numbers: dict[tuple[str, bool], Format] = {}

    def number(self, num_format: str, *, input_cell: bool) -> Format:
        """A centred value cell with ``num_format``: grey and locked, or yellow and unlocked."""
        key = (num_format, input_cell)
        if key not in self._numbers:
            self._numbers[key] = self.workbook.add_format(
                {
                    "bg_color": YELLOW if input_cell else GREY,
                    "locked": not input_cell,
                    "num_format": num_format,
                    "align": "center",
                    "valign": "top",
                    "border": 1,
                    "border_color": BORDER_GREY,
                }
            )
        return self._numbers[key]
