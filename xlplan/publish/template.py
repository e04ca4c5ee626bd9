"""The styled template of the consolidated table (事業実績一覧), read into XlsxWriter terms.

The template is an ordinary workbook the office can restyle in Excel. Its sheet
``事業実績一覧`` shows one sample of every kind of cell the table has (title,
goal heading, header, a 施策の方向 row, a project with two departments …); each
sample cell carries a workbook-level defined name ``xlplan_<role>`` (see
:data:`ROLES`). Consolidation reads from each sample:

* the cell's font, fill, borders, alignment and number format → the format of
  every cell of that role;
* the width of the sample's column → the width of that column in the table;
* the height of the sample's row (where it was set) → the height of heading rows,
  and the least height of data rows;
* the sheet's print setup (paper, orientation, fit to width, margins, header and
  footer text) → every sheet of the table.

Defined names follow a cell when rows or columns are inserted or moved in Excel,
so restyling or rearranging the sample keeps working; deleting a sample cell is
reported by name. The table is then written with XlsxWriter, which is several
times faster than openpyxl for tables of a hundred thousand rows; this module is
the bridge that turns openpyxl's reading of the styles into XlsxWriter
format properties, resolving theme and indexed colours, which a restyle in
Excel produces, to plain RGB.
"""

from __future__ import annotations

import colorsys
import io
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from xml.sax.saxutils import unescape

import defusedxml.ElementTree as SafeET
import openpyxl
from openpyxl.styles.colors import COLOR_INDEX, Color
from openpyxl.utils.cell import column_index_from_string
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from xlplan.errors import ConfigurationError
from xlplan.findings import Finding

TEMPLATE_NAME = "事業実績一覧テンプレート.xlsx"
"""File name of the template, in the package (``xlplan/templates/``) and in a workspace's ``templates/``."""

SAMPLE_SHEET = "事業実績一覧"
NAME_PREFIX = "xlplan_"

ROLES: dict[str, str] = {
    "title": "表題（事業実績一覧の名称）",
    "goal": "最上位の階層の見出し（基本目標）",
    "label": "資料番号（右上）",
    "plan_line": "体系一覧（計画名）の行",
    "slogan": "スローガン",
    "header": "表の見出し（1行目と各列の名称）",
    "header_year": "表の見出し（2行目・年度）",
    "level1": "2番目の階層の行（施策の方向）",
    "level2": "3番目以降の階層の行（基本事業）",
    "gutter": "事業の行の、階層の列の空欄",
    "no": "事業番号",
    "description": "事業の内容と【数値目標】",
    "department": "担当課",
    "baseline": "現状値",
    "previous": "前年度の実績値",
    "current": "今年度の実績値",
    "narrative": "今年度の実績（事業の内容・取り組み状況）",
}
"""Role → what the sample shows (Japanese, as the template's guide sheet lists it)."""

# XlsxWriter numbers patterns and border styles by position in these lists, which
# are the OOXML names openpyxl reports.
_PATTERNS = [
    "none",
    "solid",
    "mediumGray",
    "darkGray",
    "lightGray",
    "darkHorizontal",
    "darkVertical",
    "darkDown",
    "darkUp",
    "darkGrid",
    "darkTrellis",
    "lightHorizontal",
    "lightVertical",
    "lightDown",
    "lightUp",
    "lightGrid",
    "lightTrellis",
    "gray125",
    "gray0625",
]
_BORDERS = [
    "none",
    "thin",
    "medium",
    "dashed",
    "dotted",
    "thick",
    "double",
    "hair",
    "mediumDashed",
    "dashDot",
    "mediumDashDot",
    "dashDotDot",
    "mediumDashDotDot",
    "slantDashDot",
]
_HORIZONTAL = {
    "left": "left",
    "center": "center",
    "right": "right",
    "fill": "fill",
    "justify": "justify",
    "centerContinuous": "center_across",
    "distributed": "distributed",
}
_VERTICAL = {
    "top": "top",
    "center": "vcenter",
    "bottom": "bottom",
    "justify": "vjustify",
    "distributed": "vdistributed",
}
# Theme colour index → position in the theme's clrScheme (dk1 lt1 dk2 lt2 accent1-6 hlink folHlink):
# Excel numbers the first four as lt1 dk1 lt2 dk2, so they are swapped pairwise.
_THEME_ORDER = (1, 0, 3, 2, 4, 5, 6, 7, 8, 9, 10, 11)
_DEFAULT_THEME = [
    "000000",
    "FFFFFF",
    "44546A",
    "E7E6E6",
    "4472C4",
    "ED7D31",
    "A5A5A5",
    "FFC000",
    "5B9BD5",
    "70AD47",
    "0563C1",
    "954F72",
]
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


@dataclass(frozen=True)
class PageSetup:
    """Print setup copied from the template's sample sheet to every sheet of the table."""

    landscape: bool = True
    paper: int = 9  # 9 = A4 in Excel's paper codes
    fit_width: int | None = 1
    fit_height: int | None = 0  # 0 = as many pages as needed
    scale: int | None = None
    margins: tuple[float, float, float, float] = (0.4, 0.4, 0.6, 0.6)  # left right top bottom, inches
    header_margin: float = 0.3
    footer_margin: float = 0.3
    header: str = ""
    footer: str = "&C&P / &N"
    center_horizontally: bool = True


@dataclass(frozen=True)
class ReportStyle:
    """Everything the writer needs from the template.

    ``formats`` maps a role to XlsxWriter format properties; ``widths`` a role to
    the width of its sample's column (Excel character units); ``heights`` a role
    to its sample row's height in points, where the template sets one.
    """

    source: str
    formats: dict[str, dict[str, Any]]
    widths: dict[str, float]
    heights: dict[str, float]
    default_height: float
    page: PageSetup = field(default_factory=PageSetup)

    def font_size(self, role: str) -> float:
        """The font size of a role, in points (11 when the template does not say)."""
        return float(self.formats[role].get("font_size", 11))


def packaged_template() -> bytes:
    """The template shipped with xlplan (``xlplan/templates/事業実績一覧テンプレート.xlsx``)."""
    return resources.files("xlplan").joinpath("templates", TEMPLATE_NAME).read_bytes()


def load_report_style(path: Path | None = None) -> ReportStyle:
    """Read the styles of the table from a template workbook.

    Args:
        path: a template restyled by the office; None for the packaged one.

    Raises:
        ConfigurationError: the file cannot be read, has no sample sheet, or a
            sample cell (defined name ``xlplan_<role>``) is missing.
    """
    source = str(path) if path is not None else TEMPLATE_NAME
    try:
        data = path.read_bytes() if path is not None else packaged_template()
        # Not read-only: styles, dimensions and print setup are only read in full mode;
        # the template is a few kilobytes.
        workbook = openpyxl.load_workbook(io.BytesIO(data))
    except Exception as exc:  # openpyxl raises many types on a bad file; all mean "unreadable"
        raise ConfigurationError(
            [
                Finding(
                    "consolidate-template-unreadable",
                    {"path": source, "reason": str(exc) or type(exc).__name__},
                )
            ]
        ) from exc
    theme = _theme_colours(workbook)
    cells: dict[str, tuple[Worksheet, int, int]] = {}
    for role in ROLES:
        place = _named_cell(workbook, NAME_PREFIX + role)
        if place is None:
            raise ConfigurationError(
                [Finding("consolidate-template-missing-style", {"path": source, "name": NAME_PREFIX + role})]
            )
        cells[role] = place
    formats: dict[str, dict[str, Any]] = {}
    widths: dict[str, float] = {}
    heights: dict[str, float] = {}
    for role, (sheet, row, column) in cells.items():
        formats[role] = _format_properties(sheet.cell(row, column), theme)
        widths[role] = _column_width(sheet, column)
        height = sheet.row_dimensions[row].height
        if height is not None:
            heights[role] = float(height)
    sample = cells["title"][0]
    default_height = float(sample.sheet_format.defaultRowHeight or 13.5)
    return ReportStyle(source, formats, widths, heights, default_height, _page_setup(sample))


def _named_cell(workbook: Workbook, name: str) -> tuple[Worksheet, int, int] | None:
    """The sheet, row and column of the single cell a defined name refers to."""
    defined = workbook.defined_names.get(name)
    if defined is None:
        return None
    for title, reference in defined.destinations:
        if title not in workbook.sheetnames:
            return None
        match = re.match(r"^\$?([A-Z]{1,3})\$?(\d+)", reference)
        if not match:
            return None
        return workbook[title], int(match.group(2)), column_index_from_string(match.group(1))
    return None


def _column_width(sheet: Worksheet, column: int) -> float:
    # openpyxl keeps <col min= max=> groups keyed by their first letter; asking for a
    # letter inside a group would create a new default entry, so search the groups.
    for dimension in sheet.column_dimensions.values():
        if (
            dimension.min is not None
            and dimension.max is not None
            and dimension.min <= column <= dimension.max
        ) and dimension.width:
            return float(dimension.width)
    return float(sheet.sheet_format.defaultColWidth or 8.43)


def _format_properties(cell: Any, theme: list[str]) -> dict[str, Any]:
    """XlsxWriter format properties equal to the openpyxl style of ``cell``."""
    props: dict[str, Any] = {}
    font = cell.font
    if font is not None:
        if font.name:
            props["font_name"] = font.name
        if font.sz:
            props["font_size"] = float(font.sz)
        if font.b:
            props["bold"] = True
        if font.i:
            props["italic"] = True
        if font.strike:
            props["font_strikeout"] = True
        if font.u:
            props["underline"] = {
                "single": 1,
                "double": 2,
                "singleAccounting": 33,
                "doubleAccounting": 34,
            }.get(font.u, 1)
        if font.vertAlign in ("superscript", "subscript"):
            props["font_script"] = 1 if font.vertAlign == "superscript" else 2
        colour = _rgb(font.color, theme)
        if colour:
            props["font_color"] = colour
    fill = cell.fill
    pattern = getattr(fill, "fill_type", None) or getattr(fill, "patternType", None)
    if pattern and pattern in _PATTERNS and pattern != "none":
        props["pattern"] = _PATTERNS.index(pattern)
        foreground = _rgb(fill.fgColor, theme)
        background = _rgb(fill.bgColor, theme)
        if pattern == "solid":
            # XlsxWriter calls the colour of a solid fill bg_color and writes it as fgColor.
            if foreground:
                props["bg_color"] = foreground
        else:
            if foreground:
                props["fg_color"] = foreground
            if background:
                props["bg_color"] = background
    border = cell.border
    for side in ("left", "right", "top", "bottom"):
        edge = getattr(border, side)
        if edge is not None and edge.style in _BORDERS and edge.style != "none":
            props[side] = _BORDERS.index(edge.style)
            colour = _rgb(edge.color, theme)
            if colour:
                props[f"{side}_color"] = colour
    alignment = cell.alignment
    if alignment.horizontal in _HORIZONTAL:
        props["align"] = _HORIZONTAL[alignment.horizontal]
    if alignment.vertical in _VERTICAL:
        props["valign"] = _VERTICAL[alignment.vertical]
    if alignment.wrap_text:
        props["text_wrap"] = True
    if alignment.shrink_to_fit:
        props["shrink"] = True
    if alignment.indent:
        props["indent"] = int(alignment.indent)
    if alignment.textRotation:
        props["rotation"] = int(alignment.textRotation)
    if cell.number_format and cell.number_format != "General":
        props["num_format"] = cell.number_format
    return props


def _rgb(colour: Color | None, theme: list[str]) -> str | None:
    """``#RRGGBB`` for an openpyxl colour of any kind, or None for automatic / unset."""
    if colour is None:
        return None
    kind = colour.type
    base: str | None = None
    if kind == "rgb" and isinstance(colour.rgb, str):
        base = colour.rgb[-6:]
    elif kind == "theme" and colour.theme is not None and 0 <= colour.theme < len(_THEME_ORDER):
        base = theme[_THEME_ORDER[colour.theme]]
    elif kind == "indexed" and colour.indexed is not None:
        if colour.indexed >= len(COLOR_INDEX) or colour.indexed >= 64:
            return None  # 64 = system foreground, 65 = system background: automatic
        base = COLOR_INDEX[colour.indexed][-6:]
    if base is None or not re.fullmatch(r"[0-9A-Fa-f]{6}", base):
        return None
    tint = float(colour.tint or 0)
    return "#" + (_apply_tint(base, tint) if tint else base.upper())


def _apply_tint(rgb: str, tint: float) -> str:
    """Excel's tint: lighten (tint > 0) or darken (tint < 0) the colour's luminance in HLS."""
    red, green, blue = (int(rgb[i : i + 2], 16) / 255 for i in (0, 2, 4))
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    lightness = lightness * (1 + tint) if tint < 0 else lightness * (1 - tint) + tint
    red, green, blue = colorsys.hls_to_rgb(hue, min(1.0, max(0.0, lightness)), saturation)
    return "".join(f"{round(channel * 255):02X}" for channel in (red, green, blue))


def _theme_colours(workbook: Workbook) -> list[str]:
    """The 12 colours of the workbook's theme in clrScheme order (Office defaults if absent)."""
    raw = getattr(workbook, "loaded_theme", None)
    if not raw:
        return list(_DEFAULT_THEME)
    try:
        root = SafeET.fromstring(raw)
    except Exception:  # a damaged theme only costs the theme colours
        return list(_DEFAULT_THEME)
    scheme = root.find(f".//{_A}clrScheme")
    if scheme is None:
        return list(_DEFAULT_THEME)
    colours = []
    for slot in list(scheme)[:12]:
        srgb = slot.find(f"{_A}srgbClr")
        system = slot.find(f"{_A}sysClr")
        if srgb is not None:
            colours.append(srgb.get("val", "000000"))
        elif system is not None:
            colours.append(system.get("lastClr", "000000"))
        else:
            colours.append("000000")
    return colours + list(_DEFAULT_THEME[len(colours) :])


def _page_setup(sheet: Worksheet) -> PageSetup:
    setup = sheet.page_setup
    fit = bool(sheet.sheet_properties.pageSetUpPr and sheet.sheet_properties.pageSetUpPr.fitToPage)
    margins = sheet.page_margins
    options = sheet.print_options
    return PageSetup(
        landscape=setup.orientation != "portrait",
        paper=int(setup.paperSize or 9),
        fit_width=int(setup.fitToWidth if setup.fitToWidth is not None else 1) if fit else None,
        fit_height=int(setup.fitToHeight if setup.fitToHeight is not None else 0) if fit else None,
        scale=int(setup.scale) if setup.scale and not fit else None,
        margins=(float(margins.left), float(margins.right), float(margins.top), float(margins.bottom)),
        header_margin=float(margins.header),
        footer_margin=float(margins.footer),
        header=unescape(str(sheet.oddHeader)) if sheet.oddHeader else "",
        footer=unescape(str(sheet.oddFooter)) if sheet.oddFooter else "",
        center_horizontally=bool(options.horizontalCentered),
    )
