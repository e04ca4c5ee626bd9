"""The one module that uses XlsxWriter's internals, for speed where the benchmarks show it is needed.

Everything else in xlplan writes workbooks through XlsxWriter's public API. This
module overrides a few private methods, each for a measured reason, and only for
the XlsxWriter versions it is tested against (:data:`TESTED`, pinned in
``pyproject.toml``); with any other version, or with ``XLPLAN_PLAIN_XLSXWRITER=1``,
:func:`enabled` is False and the writers use the public API alone (the same cells,
formats and protection, more slowly, and in one process).

- :class:`FastWorksheet` writes the cell data of a sheet as one string per row instead
  of XlsxWriter's element-by-element loop (``_write_rows``, ``_calculate_spans``), and can
  take its XML from another process (``_assemble_xml_file``): the consolidated table.
- :class:`PreparedFormulaWorksheet` keeps XlsxWriter's preparation of data-validation
  formulas (``_prepare_formula``, some eighty regular expressions per formula), which is
  the same in department workbook after department workbook: distribution.
- :class:`ProtectedWorkbook` writes ``<workbookProtection lockStructure="1">`` after
  ``<workbookPr>`` (``_write_workbook_pr``): XlsxWriter has no public call for it.
- :class:`FastSharedStrings` writes the shared-string table with a few C-speed passes over all
  its strings instead of XlsxWriter's escaping regular expressions per string
  (``_write_sst_strings``, reached through the packager, ``_get_packager``): department
  workbooks and the consolidated table (:func:`table_workbook`).
- The helpers at the end let a second process write sheets whose styles and shared
  strings the first process numbered (``_get_xf_index``, the shared-string table).

``tests/test_xlsx_fast.py`` checks that every override produces XlsxWriter's own XML,
byte for byte.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterable
from fractions import Fraction
from math import isfinite
from pathlib import Path
from typing import Any, NamedTuple

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.worksheet import CellBlankTuple, CellNumberTuple, CellStringTuple, Worksheet

from xlplan.xlsx.cells import column_letters

TESTED = ((3, 3), (3, 3))
"""XlsxWriter's (major, minor) versions, first and last, that this module is tested against."""

PLAIN_ENV = "XLPLAN_PLAIN_XLSXWRITER"
"""Set to 1 to write with XlsxWriter's public API only (for comparison, or to rule this module out)."""


def _version() -> tuple[int, int]:
    parts = str(getattr(xlsxwriter, "__version__", "0.0")).split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return (0, 0)


def enabled() -> bool:
    """True when the fast path may be used: a tested XlsxWriter version, and not switched off."""
    if os.environ.get(PLAIN_ENV, "").strip() not in ("", "0"):
        return False
    return TESTED[0] <= _version() <= TESTED[1]


class FastWorksheet(Worksheet):
    """XlsxWriter's worksheet with a faster writer of the cell data.

    A consolidated table has about a million cells, and XlsxWriter's general
    cell loop (a list of attributes per cell, each run through an escaping regex,
    one file write per element) is most of the time spent closing the workbook.
    This loop writes the same XML for the cells a table has (blank, number and
    shared-string cells, whose attributes never need escaping) as one string per
    row, and hands any other kind of cell, or a sheet with comments, back to
    XlsxWriter. ``tests/test_xlsx_fast.py`` checks the XML is byte-identical.
    """

    spliced: Path | None = None
    """The sheet's XML as another process wrote it; copied into the package in place of this sheet's own."""

    def _assemble_xml_file(self) -> None:
        if self.spliced is None:
            super()._assemble_xml_file()
            return
        self.fh.flush()
        with self.spliced.open("rb") as source:
            shutil.copyfileobj(source, self.fh.buffer)
        self._xml_close()

    def _calculate_spans(self) -> None:
        if self.comments:
            super()._calculate_spans()
            return
        # The span of each block of 16 rows: the first and last column used in it.
        spans: dict[int, tuple[int, int]] = {}
        for row_num, cells in self.table.items():
            if cells:
                block, low, high = row_num >> 4, min(cells), max(cells)
                known = spans.get(block)
                if known is not None:
                    low, high = min(low, known[0]), max(high, known[1])
                spans[block] = (low, high)
        self.row_spans = {block: f"{low + 1}:{high + 1}" for block, (low, high) in spans.items()}

    def _write_rows(self) -> None:
        if self.comments or self.constant_memory:
            super()._write_rows()
            return
        self._calculate_spans()
        names = {column: column_letters(column + 1) for column in range(self.dim_colmin, self.dim_colmax + 1)}
        write, table, row_info, spans = self.fh.write, self.table, self.row_info, self.row_spans
        # A sheet has a few dozen formats and many thousand cells: each format's attribute is made once.
        attributes: dict[int, str] = {}
        for row_num in range(self.dim_rowmin, self.dim_rowmax + 1):
            cells = table.get(row_num)
            info = row_info.get(row_num)
            span = spans.get(row_num >> 4)
            if not cells:
                if info is not None:
                    self._write_empty_row(row_num, span, info)
                continue
            self._write_row(row_num, span, info)
            number = str(row_num + 1)
            parts: list[str] = []
            for col_num in sorted(cells):
                cell = cells[col_num]
                kind = type(cell)
                if kind is not CellBlankTuple and kind is not CellNumberTuple and kind is not CellStringTuple:
                    write("".join(parts))
                    parts.clear()
                    self._write_cell(row_num, col_num, cell)
                    continue
                cell_format = cell.format
                if cell_format:
                    style = attributes.get(id(cell_format))
                    if style is None:
                        style = attributes[id(cell_format)] = f' s="{cell_format._get_xf_index()}"'
                else:
                    style = self._style_attribute(row_num, col_num, cell_format)
                if kind is CellStringTuple:
                    parts.append(f'<c r="{names[col_num]}{number}"{style} t="s"><v>{cell.string}</v></c>')
                elif kind is CellNumberTuple:
                    parts.append(f'<c r="{names[col_num]}{number}"{style}><v>{cell.number:.16G}</v></c>')
                else:
                    parts.append(f'<c r="{names[col_num]}{number}"{style}/>')
            parts.append("</row>")
            write("".join(parts))

    def blank_column(self, first_row: int, last_row: int, column: int, cell_format: Format) -> None:
        """Formatted blank cells down one column: what ``write_blank`` does cell by cell."""
        if self._check_dimensions(first_row, column) or self._check_dimensions(last_row, column):
            raise ValueError(f"rows {first_row}–{last_row} of column {column} are outside the sheet")
        blank, table = CellBlankTuple(cell_format), self.table
        for row in range(first_row, last_row + 1):
            table[row][column] = blank

    def merge_column(self, first_row: int, last_row: int, column: int, cell_format: Format) -> None:
        """Merge rows ``first_row``–``last_row`` of one column, formatting every cell, as ``merge_range`` does.

        ``merge_range`` also indexes every merged cell to detect overlapping merges;
        the table's merges are over distinct project rows by construction, so that
        index (a dictionary entry per cell) is left out. The first cell is left for
        the caller to write with ``write_string`` / ``write_number``.
        """
        self.blank_column(first_row, last_row, column, cell_format)
        self.merge.append([first_row, column, last_row, column])

    def _style_attribute(self, row: int, column: int, cell_format: Format | None) -> str:
        # The same choice as XlsxWriter's _write_cell: the cell's format, else the row's, else the column's.
        if cell_format:
            return f' s="{cell_format._get_xf_index()}"'
        info = self.row_info.get(row)
        if info is not None and info.row_format:
            return f' s="{info.row_format._get_xf_index()}"'
        column_info = self.col_info.get(column)
        if column_info is not None and column_info.column_format is not None:
            return f' s="{column_info.column_format._get_xf_index()}"'
        return ""


_FORMULA_CACHE_SIZE = 4096
_prepared_formulas: dict[tuple[str, bool, bool], str] = {}


class PreparedFormulaWorksheet(FastWorksheet):
    """:class:`FastWorksheet` that also keeps prepared data-validation formulas.

    XlsxWriter prepares every data-validation formula with some eighty regular
    expressions (for Excel's newer functions) each time a workbook is closed; the
    formulas are the same in workbook after workbook, and preparing is a pure
    function of the formula and two flags, so its result is kept.
    """

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        key = (formula, expand_future_functions, bool(self.use_future_functions))
        found = _prepared_formulas.get(key)
        if found is None:
            if len(_prepared_formulas) >= _FORMULA_CACHE_SIZE:
                _prepared_formulas.clear()
            found = _prepared_formulas[key] = super()._prepare_formula(formula, expand_future_functions)
        return found


_SEPARATOR = "\x01"
# What XlsxWriter's _write_si changes in a string: control characters become _xHHHH_, a literal
# _xHHHH_ is escaped, U+FFFE and U+FFFF too. A table holding any of these is written string by
# string (:meth:`FastSharedStrings._write_si`). The separator is a control character: a string
# holding it makes the count of separators in the joined text wrong, and is written so too.
_CONTROL = re.compile(r"[\x00\x02-\x08\x0b-\x1f\ufffe\uffff]")
_ESCAPE_TEXT = re.compile(r"_x[0-9a-fA-F]{4}_")


def _edged(string: str) -> bool:
    """True when ``string`` has white space at either end (XlsxWriter's ^\\s or \\s$: xml:space="preserve")."""
    return string[:1].isspace() or string[-1:].isspace()


class FastSharedStrings(SharedStrings):
    """XlsxWriter's shared-string table writer, for a table of plain strings in a few passes.

    XlsxWriter writes each string with two regular-expression substitutions, a search for
    white space at either end and an escaping search. Strings that need none of that (the
    usual case) are joined, searched, escaped and written at once; a string with white space
    at either end is written by :meth:`_write_si` in its place, and a table with any control
    character or ``_xHHHH_`` text wholly so. ``tests/test_xlsx_fast.py`` checks the XML is
    XlsxWriter's, byte for byte, but for one thing: XlsxWriter writes a string that begins
    with ``<r>`` and ends with ``</r>`` unescaped, as the runs of a rich string. xlplan writes
    no rich strings, so such a string is a department's text (a narrative typed that way,
    published the next year): it is escaped like any other, and can never become markup.
    """

    def _write_si(self, string: str) -> None:
        # XlsxWriter's _write_si without its branch for rich strings (see the class docstring).
        string = self._escape_control_characters(string)
        self._xml_si_element(string, [("xml:space", "preserve")] if _edged(string) else [])

    def _write_sst_strings(self) -> None:
        strings: list[str] = self.string_table.string_array
        joined = _SEPARATOR.join(strings)
        if (
            joined.count(_SEPARATOR) != len(strings) - 1
            or _CONTROL.search(joined)
            or ("_x" in joined and _ESCAPE_TEXT.search(joined))
        ):
            super()._write_sst_strings()
            return
        # Regular expressions are slow on Japanese text; the ends of each string are tested here.
        if not any(map(_edged, strings)):
            self._write_plain(strings, joined)
            return
        plain: list[str] = []
        for string in strings:
            if not _edged(string):
                plain.append(string)
                continue
            self._write_plain(plain)
            plain = []
            self._write_si(string)
        self._write_plain(plain)

    def _write_plain(self, strings: list[str], joined: str | None = None) -> None:
        """``<si><t>…</t></si>`` for each of ``strings`` (``joined``: them joined by the separator)."""
        if not strings:
            return
        if joined is None:
            joined = _SEPARATOR.join(strings)
        # XlsxWriter escapes &, < and > in text (not quotes): the same replacements, once for all.
        if "&" in joined:
            joined = joined.replace("&", "&amp;")
        if "<" in joined:
            joined = joined.replace("<", "&lt;")
        if ">" in joined:
            joined = joined.replace(">", "&gt;")
        self.fh.write("<si><t>" + joined.replace(_SEPARATOR, "</t></si><si><t>") + "</t></si>")


class FastPackager(Packager):
    """XlsxWriter's packager with :class:`FastSharedStrings` for the shared-string table."""

    def _write_shared_strings_file(self) -> None:
        table = self.workbook.str_table
        if not table.count:
            return
        writer = FastSharedStrings()
        writer.string_table = table
        writer._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        writer._assemble_xml_file()


class FastWorkbook(xlsxwriter.Workbook):
    """XlsxWriter's workbook packaged with :class:`FastPackager`."""

    def _get_packager(self) -> Packager:
        return FastPackager()


def table_workbook(target: Any, options: dict[str, Any]) -> xlsxwriter.Workbook:
    """A workbook for the consolidated table: :class:`FastWorkbook` where :func:`enabled`."""
    return FastWorkbook(target, options) if enabled() else xlsxwriter.Workbook(target, options)


class ProtectedWorkbook(FastWorkbook):
    """XlsxWriter's workbook plus workbook structure protection, which XlsxWriter does not offer.

    ``<workbookProtection>`` must follow ``<workbookPr>`` in workbook.xml (ECMA-376
    §18.2.28), so it is written right after it. Without a password, as for the sheets:
    protection guards against slips, and the manifest's hashes detect deliberate edits.
    """

    worksheet_class = PreparedFormulaWorksheet

    def _write_workbook_pr(self) -> None:
        super()._write_workbook_pr()
        self._xml_empty_tag("workbookProtection", [("lockStructure", 1)])


def department_workbook(target: Any, options: dict[str, Any]) -> xlsxwriter.Workbook:
    """A workbook for a department: structure-protected and with the fast sheets where :func:`enabled`."""
    return ProtectedWorkbook(target, options) if enabled() else xlsxwriter.Workbook(target, options)


def table_sheet_class() -> type[Worksheet]:
    """The worksheet class of the consolidated table: :class:`FastWorksheet` where :func:`enabled`."""
    return FastWorksheet if enabled() else Worksheet


# ----------------------------------------------------------------------------------------
# Column-wise writes: fast on FastWorksheet, public calls on any other sheet
# ----------------------------------------------------------------------------------------


def blank_column(sheet: Worksheet, first_row: int, last_row: int, column: int, cell_format: Format) -> None:
    """Formatted blank cells down one column (``write_blank`` cell by cell on a plain sheet)."""
    if isinstance(sheet, FastWorksheet):
        sheet.blank_column(first_row, last_row, column, cell_format)
        return
    for row in range(first_row, last_row + 1):
        sheet.write_blank(row, column, None, cell_format)


def merge_column(sheet: Worksheet, first_row: int, last_row: int, column: int, cell_format: Format) -> None:
    """Merge rows ``first_row``–``last_row`` of one column; the caller writes the first cell's value."""
    if isinstance(sheet, FastWorksheet):
        sheet.merge_column(first_row, last_row, column, cell_format)
        return
    sheet.merge_range(first_row, column, last_row, column, "", cell_format)


class CellWriters(NamedTuple):
    """``write_string``, ``write_number`` and ``write_blank`` of one sheet, taking (row, column, value, format)."""

    string: Callable[..., int]
    number: Callable[..., int]
    blank: Callable[..., int]


def cell_writers(sheet: Worksheet) -> CellWriters:
    """``write_string``, ``write_number`` and ``write_blank`` of a sheet, for row and column numbers only.

    On a :class:`FastWorksheet` they put the cells into the sheet's table as XlsxWriter's
    undecorated ``_write_*`` methods do — the same limits (a row or column off the sheet) and
    the same cells — without the public methods' check for A1 notation or the named tuples'
    own constructors, which between them are a third of the time of putting a cell into a
    table of a million; text over 16,383 characters (which XlsxWriter may truncate), a number
    that is not finite or a fraction go through XlsxWriter's own methods. On any other sheet,
    and on a sheet in ``constant_memory`` mode (which writes rows as they come), they are the
    public methods.
    """
    if not isinstance(sheet, FastWorksheet) or sheet.constant_memory:
        return CellWriters(sheet.write_string, sheet.write_number, sheet.write_blank)
    table, check = sheet.table, sheet._check_dimensions
    shared = sheet.str_table._get_shared_string_index
    longest = sheet.xls_strmax // 2  # XlsxWriter measures longer text in UTF-16 units, and may cut it
    make = tuple.__new__  # what a named tuple's constructor calls, without the call in between

    def string(row: int, col: int, text: str, cell_format: Format | None = None) -> int:
        if len(text) > longest:
            return int(sheet._write_string(row, col, text, cell_format))
        if check(row, col):
            return -1
        table[row][col] = make(CellStringTuple, (shared(text), cell_format))
        return 0

    def number(row: int, col: int, value: float, cell_format: Format | None = None) -> int:
        if value.__class__ is Fraction or not isfinite(value):
            return int(sheet._write_number(row, col, value, cell_format))
        if check(row, col):
            return -1
        table[row][col] = make(CellNumberTuple, (value, cell_format))
        return 0

    def blank(row: int, col: int, _value: object, cell_format: Format | None = None) -> int:
        if cell_format is None:
            return 0
        if check(row, col):
            return -1
        table[row][col] = make(CellBlankTuple, (cell_format,))
        return 0

    return CellWriters(string, number, blank)


# ----------------------------------------------------------------------------------------
# Writing sheets in a second process
# ----------------------------------------------------------------------------------------


def number_styles(formats: Iterable[Format]) -> None:
    """Fix the style index of each format now, in this order (XlsxWriter numbers them on first use)."""
    for found in formats:
        found._get_xf_index()


def reserve_strings(book: xlsxwriter.Workbook, texts: Iterable[str]) -> None:
    """Give ``texts`` their shared-string numbers now, without counting them as used."""
    strings = book.str_table
    count = strings.count
    for text in texts:
        strings._get_shared_string_index(text)
    strings.count = count


def string_counts(book: xlsxwriter.Workbook) -> tuple[int, int]:
    """(distinct strings, references) in the book's shared-string table."""
    return book.str_table.unique_count, book.str_table.count


def add_string_references(book: xlsxwriter.Workbook, references: int) -> None:
    """Count ``references`` more uses of shared strings (made by sheets written elsewhere)."""
    book.str_table.count += references


def render_sheet(sheet: FastWorksheet, path: Path) -> None:
    """Write the sheet's XML to ``path``, to be spliced into the package by :attr:`FastWorksheet.spliced`."""
    sheet._set_xml_writer(str(path))
    sheet._assemble_xml_file()
