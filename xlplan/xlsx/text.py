"""How much room text needs: the one estimate of text width, wrapped lines and row height.

Excel autofits a row's height only when it has none and nobody printed the sheet;
LibreOffice (and any PDF printed on a server) does not, so every writer sets the
height of rows holding wrapped text. The estimate is deliberately generous:

- **Width** is counted in *units*: 1 for a narrow character, 2 for an East Asian wide
  one (kana, kanji, full-width signs). It is taken from the UTF-8 length (1 byte for
  ASCII, 3 for kana and kanji), which is C-fast on a table of a hundred thousand
  narratives and the same as the terminal width of Japanese text.
- **Lines**: a column of width *W* (Excel's character units) is ``W*7+5`` pixels in the
  default font; a wide character of an *N*-point font is about ``N*96/72`` pixels.
- **Height**: a line takes about 1.25 × the font size in MS Pゴシック, but where that font
  is missing — a server printing with LibreOffice — Noto Sans CJK stands in, and its line
  is 1.45 × the size; rows estimated at 1.25 clipped the last line of wrapped narratives
  in the PDF. 游ゴシック and メイリオ have tall line gaps (one 11-point line of 游ゴシック is
  18.75 points): 1.7. A little air in Excel is better than a cut-off line.
"""

from __future__ import annotations

import functools

LINE_SPACING = 1.45
LINE_SPACING_TALL = 1.7
TALL_FONTS = ("游", "Yu ", "Meiryo", "メイリオ")
CELL_PADDING_PX = 6
ROW_PADDING_PT = 3.0
MAX_ROW_HEIGHT = 409.0
"""Excel's limit on a row's height, in points."""


def text_units(line: str) -> int:
    """Display width of one line: 1 per narrow character, 2 per East Asian wide one."""
    characters = len(line)
    wide = (len(line.encode("utf-8")) - characters) // 2
    return characters + wide


display_width = text_units
"""The width of text in a terminal, in columns (wide characters take two)."""


def units_per_line(width: float, font_size: float) -> int:
    """How many :func:`text_units` fit on one line of a column ``width`` characters wide."""
    usable_px = width * 7 + 5 - CELL_PADDING_PX
    wide_px = font_size * 96 / 72
    return max(2, int(usable_px / wide_px) * 2)


_NARROW_EM = {
    **dict.fromkeys("0123456789", 0.5),
    **dict.fromkeys(",.:'", 0.25),
    "%": 0.75,
    "-": 0.4,
    " ": 0.3,
}


def number_fits(text: str, width: float, font_size: float) -> bool:
    """Whether a number, as its cell prints it (``1,234,567人``, ``33.3%``), fits a column ``width``
    characters wide; Excel and LibreOffice print ``###`` where it does not. Digits are measured narrow
    (half a full-width character) and a little room is given, so that only what surely does not fit is
    said not to: checked against what LibreOffice prints (tests/test_consolidate.py)."""
    usable_px = width * 7 + 5 - CELL_PADDING_PX
    em = sum(_NARROW_EM.get(char, 0.5 if char.isascii() else 1.0) for char in text)
    return em * font_size * 96 / 72 <= usable_px * 1.1


def wrapped_lines(text: str, per_line: int) -> int:
    """Lines that ``text`` wraps to at ``per_line`` units a line (each line break starts a new one)."""
    if "\n" not in text:
        units = text_units(text)
        return -(-units // per_line) if units > per_line else 1
    total = 0
    for line in text.split("\n"):
        units = text_units(line)
        total += -(-units // per_line) if units > per_line else 1
    return total


@functools.lru_cache(maxsize=4096)
def estimate_lines(text: str, width: float, font_size: float) -> int:
    """Lines that ``text`` wraps to in a column ``width`` characters wide at ``font_size`` points.

    Kept for the last few thousand texts: the same headings, descriptions and department names
    come back row after row and workbook after workbook.
    """
    return wrapped_lines(text, units_per_line(width, font_size))


def line_spacing(font_name: str) -> float:
    """Points per point of font size that one line of ``font_name`` takes."""
    return LINE_SPACING_TALL if font_name.startswith(TALL_FONTS) else LINE_SPACING


def lines_height(lines: int, font_size: float, font_name: str = "") -> float:
    """Row height in points for ``lines`` lines of text in ``font_name``, within Excel's limit."""
    return min(lines * font_size * line_spacing(font_name) + ROW_PADDING_PT, MAX_ROW_HEIGHT)


def text_height(
    text: str, width: float, font_size: float, font_name: str = "", *, min_lines: int = 1
) -> float:
    """The row height that shows ``text`` whole in a column ``width`` characters wide."""
    return lines_height(max(min_lines, estimate_lines(text, width, font_size)), font_size, font_name)
