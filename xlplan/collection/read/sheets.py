"""Reading a sheet safely: python-calamine within a safe grid, or streamed with defusedxml within bounds.

Only the rows and columns the manifest declares (plus slack for inserted rows and
columns) are read. python-calamine builds a dense grid from A1 to the last cell holding
a value: a single value in ``XFD1048576`` makes it allocate 549 GB and abort. The
sheet's XML is therefore scanned first (a C-speed regular expression over the cell
references); when the grid would exceed :attr:`Limits.dense_cells`, the sheet is
streamed here with defusedxml's iterparse, within the bounds, instead of calling calamine.

Formulas: calamine gives cached values only, so a sheet whose XML holds ``<f>`` elements is
streamed for the formula texts, which go into :attr:`SheetRead.formulas` beside the cached values.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from xlplan.collection.read.limits import Refused
from xlplan.collection.snapshot import CellValue, SheetRead
from xlplan.findings import Finding
from xlplan.form import layout
from xlplan.xlsx.cells import a1
from xlplan.xlsx.cells import column_number as column_index

if TYPE_CHECKING:
    from xlplan.collection.read.package import Package


@dataclass(frozen=True)
class SheetData:
    """A read sheet in the compact form that crosses the process boundary (plain lists pickle fast)."""

    name: str
    keys: list[tuple[int, int]]
    values: list[CellValue]
    formulas: dict[tuple[int, int], str]
    max_row: int
    max_column: int
    truncated: bool
    formats: dict[tuple[int, int], str] = field(default_factory=dict)

    def sheet_read(self) -> SheetRead:
        """The :class:`SheetRead` checking works on, built where it is checked."""
        values = dict(zip(self.keys, self.values, strict=True))
        return SheetRead(
            self.name, values, self.max_row, self.max_column, self.truncated, self.formulas, self.formats
        )


# A start tag's attributes may hold ">" inside quotes (a format code such as [>=100]0).
_TAG_REST = rb"""((?:[^>"']+|"[^"]*"|'[^']*')*)>"""
_NUMBER_FORMAT = re.compile(rb"<(?:[\w.-]+:)?numFmt\b" + _TAG_REST)
_CELL_FORMATS = re.compile(rb"<(?:[\w.-]+:)?cellXfs\b[^>]*>(.*?)</(?:[\w.-]+:)?cellXfs\s*>", re.DOTALL)
_FORMAT_RECORD = re.compile(rb"<(?:[\w.-]+:)?xf\b" + _TAG_REST)
# A cell style needs only its numFmtId: one search per record rather than every attribute unescaped.
_FORMAT_ID = re.compile(rb"""(?:^|\s)numFmtId\s*=\s*["']([0-9]{1,9})["']""")
_ATTRIBUTE = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _attributes(text: bytes) -> dict[bytes, str]:
    """The attributes of one start tag's text, unescaped (the prefix of a qualified name dropped)."""
    found: dict[bytes, str] = {}
    for name, double, single in _ATTRIBUTE.findall(text):
        value = (double if double or not single else single).decode("utf-8", errors="replace")
        found[name.rpartition(b":")[2]] = html.unescape(value) if "&" in value else value
    return found


@functools.lru_cache(maxsize=8)  # one styles.xml for all the returns of a distribution, parsed once
def number_formats(styles: bytes) -> tuple[str | None, ...]:
    """Format code per cell style of a styles.xml (``cellXfs`` order); None for General.

    Only the built-in formats that change how a number or a date looks are named.
    """
    custom: dict[str, str] = {}
    for match in _NUMBER_FORMAT.finditer(styles):
        attributes = _attributes(match.group(1))
        custom[attributes.get(b"numFmtId", "")] = attributes.get(b"formatCode", "")
    section = _CELL_FORMATS.search(styles)
    if section is None:
        return ()
    codes: list[str | None] = []
    for attributes in _FORMAT_RECORD.findall(section.group(1)):
        found = _FORMAT_ID.search(attributes)
        number = found.group(1).decode("ascii") if found else "0"
        codes.append(custom.get(number) or _BUILTIN_FORMATS.get(number))
    return tuple(codes)


@functools.lru_cache(maxsize=64)
def _styled_cells(styles: tuple[int, ...]) -> re.Pattern[bytes]:
    """:data:`_STYLED_CELL` for these styles only, and not for a cell typed after its style (``s="8"
    t="inlineStr"``, as XlsxWriter and openpyxl write text): cells in General, and text, are passed
    over at C speed. The returns of one distribution share their styles, so the pattern is reused."""
    if len(styles) > _MAX_NAMED_STYLES:
        return _STYLED_CELL
    named = b"|".join(str(style).encode("ascii") for style in styles)
    return re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"(?: t="n")? s="(' + named + rb')"(?! t="(?!n"))')


def tag_name(tag: str) -> str:
    return tag.rpartition("}")[2]


_PROLOG = re.compile(r"\A\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*)*<[A-Za-z_]", re.DOTALL)


def prolog_is_safe(head: bytes) -> bool:
    """True when the XML in ``head`` reaches its root element with no DTD before it."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="replace")
    elif head.startswith(b"<\x00"):
        text = head.decode("utf-16-le", errors="replace")
    elif head.startswith(b"\x00<"):
        text = head.decode("utf-16-be", errors="replace")
    else:
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    return _PROLOG.match(text) is not None


# ----------------------------------------------------------------------------------------
# Sheets: calamine within a safe grid, or streamed within the bounds
# ----------------------------------------------------------------------------------------

# Cell references, scanned at C speed over the raw XML. The fast patterns match the canonical form
# every known writer uses (``<c r="B5" ...>``, reference first, no prefix); a sheet with any other
# form of cell element is scanned with the general pattern instead.
_CANONICAL_VALUE_CELL = re.compile(rb'<c r="([A-Z]{1,4})([0-9]{1,8})"(?:>|[^>]*[^/>]>)')
# Any other form of cell element: no attributes, another first attribute or spacing, a namespace prefix.
_OTHER_CELL = re.compile(rb'<c(?:[>/\t\n\r]| (?!r="[A-Z]))')
_PREFIXED_CELL = re.compile(rb":c[\s>/]")
# A cell element that is not canonical with a reference within ZZ9999 (two letters, four digits).
_OUTSIDE_ENVELOPE = re.compile(rb'<c(?:[>/\t\n\r]| (?!r="[A-Z]{1,2}[0-9]{1,4}"))')
_ENVELOPE_CELLS = 702 * 9999
"""Largest grid calamine builds for a sheet inside the envelope (about 220 MB of cells)."""
_GENERAL_CELL = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br\s*=\s*[\"']([A-Za-z]{1,4})([0-9]{1,8})[\"'][^>]*?(/?)>"
)
_ANY_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s>/]")
_FORMULA = re.compile(rb"<f[\s>/]")
# A cell's style: its reference, perhaps its type, then s="…" (how Excel, LibreOffice, XlsxWriter and
# openpyxl all write it). A cell written otherwise is read as General, as it was before formats counted.
# Only cells that can hold a number: no type, or t="n" (text, booleans and errors carry another t).
_STYLED_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"(?: t="n")? s="([0-9]{1,6})"')
_MAX_NAMED_STYLES = 200  # beyond this many styles with a format, the general pattern is used
_BUILTIN_FORMATS = {"1": "0", "2": "0.00", "3": "#,##0", "4": "#,##0.00", "9": "0%", "10": "0.00%",
                    "11": "0.00E+00", "12": "# ?/?", "13": "# ??/??", "37": "#,##0 ;(#,##0)",
                    "38": "#,##0 ;[Red](#,##0)", "39": "#,##0.00;(#,##0.00)", "40": "#,##0.00;[Red](#,##0.00)",
                    "48": "##0.0E+0"}  # fmt: skip
"""Built-in number formats that change what a number looks like (ECMA-376 §18.8.30)."""
_WAREKI, _NENGAPPI = "[$-411]ge.m.d", '[$-411]ggge"年"m"月"d"日"'
_BUILTIN_FORMATS |= {
    "14": "yyyy/m/d", "15": "d-mmm-yy", "16": "d-mmm", "17": "mmm-yy", "18": "h:mm AM/PM",
    "19": "h:mm:ss AM/PM", "20": "h:mm", "21": "h:mm:ss", "22": "yyyy/m/d h:mm", "27": _WAREKI,
    "28": _NENGAPPI, "29": _NENGAPPI, "30": "m/d/yy", "31": 'yyyy"年"m"月"d"日"', "32": 'h"時"mm"分"',
    "33": 'h"時"mm"分"ss"秒"', "34": 'yyyy"年"m"月"', "35": 'm"月"d"日"', "36": _WAREKI, "45": "mm:ss",
    "50": _WAREKI, "51": '[$-411]ggge"年"m"月"', "52": 'yyyy"年"m"月"', "53": 'm"月"d"日"', "54": _NENGAPPI,
    "55": 'yyyy"年"m"月"', "56": 'm"月"d"日"', "57": _WAREKI, "58": _NENGAPPI,
}  # fmt: skip
"""…and the built-in dates as a Japanese Excel shows them (calamine reads the date, the format how it looked)."""
_PREFIXED_FORMULA = re.compile(rb":f[\s>/]")


@dataclass
class _Extent:
    """What the scan of a sheet's XML found: the last row and column holding something."""

    max_row: int
    max_column: int
    all_referenced: bool  # every cell element names its reference (else positions are implied)
    beyond: tuple[int, int] | None  # a cell holding something outside the bounds, if any
    has_formulas: bool


def _has_formulas(xml: bytes) -> bool:
    # Two regular-expression searches: timed faster than bytes.find over a sheet, where "<" is everywhere.
    return _FORMULA.search(xml) is not None or _PREFIXED_FORMULA.search(xml) is not None


def _scan(xml: bytes, rows: int, columns: int) -> _Extent:
    """Where the cells holding something are, from the raw XML, without parsing it."""
    has_formulas = _has_formulas(xml)
    if _OTHER_CELL.search(xml) is None and _PREFIXED_CELL.search(xml) is None:
        found = _CANONICAL_VALUE_CELL.findall(xml)
        all_referenced = True
    else:
        general = _GENERAL_CELL.findall(xml)
        found = [(letters.upper(), digits) for letters, digits, closed in general if not closed]
        all_referenced = len(general) == len(_ANY_CELL.findall(xml))
    if not found:
        return _Extent(0, 0, all_referenced, None, has_formulas)
    letters_found = [letters for letters, _ in found]
    digits_found = [digits for _, digits in found]
    max_row = max(map(int, digits_found))
    # Columns compare as numbers by (length, text): few distinct ones, so the set is small.
    max_column = max(column_index(letters.decode("ascii")) for letters in set(letters_found))
    beyond: tuple[int, int] | None = None
    if max_row > rows or max_column > columns:
        for letters, digits in found:
            row, column = int(digits), column_index(letters.decode("ascii"))
            if row > rows or column > columns:
                beyond = (row, column)
                break
    return _Extent(max_row, max_column, all_referenced, beyond, has_formulas)


class SheetReader:
    """Reads sheets of one package, opening python-calamine once, when first needed."""

    def __init__(self, package: Package, file: str, findings: list[Finding]) -> None:
        self.package = package
        self.file = file
        self.findings = findings
        self._workbook: Any = None
        self.calamine_failure: str | None = None
        self._shared: list[str] | None = None
        self._codes: tuple[str | None, ...] | None = None
        self._last: tuple[str, bytes] = ("", b"")

    def _calamine(self) -> Any:
        """The workbook opened by python-calamine, or None where calamine cannot open it.

        calamine refuses some legal workbooks outright (one with an Excel 4.0 macro sheet:
        "Unrecognized sheet type"), and a file object hides even that behind "Cannot detect
        file format". Such a workbook is streamed instead (:meth:`_stream`), so it keeps its
        manifest, its department and its 差し戻し票; calamine's reason is kept in
        :attr:`calamine_failure` for the finding's detail should streaming fail too.
        """
        if self._workbook is None and self.calamine_failure is None:
            from python_calamine import CalamineWorkbook

            try:
                self._workbook = CalamineWorkbook.from_filelike(io.BytesIO(self.package.data))
            except Exception as exc:  # CalamineError, or whatever the Rust side raises
                self.calamine_failure = f"{type(exc).__name__}: {exc}"[:300]
        return self._workbook

    def _grid(
        self, sheet: str, part: str, rows: int, columns: int, *, formulas: bool = True
    ) -> tuple[list[list[Any]] | None, _Extent]:
        """Values of the top ``rows`` rows (from A1) by calamine, or None where that is not safe.

        The common case costs one regular-expression search: every cell reference is within
        ZZ9999, so calamine's grid has at most :data:`_ENVELOPE_CELLS` cells. Otherwise the
        references are scanned exactly, and a sheet whose grid would exceed
        :attr:`Limits.dense_cells` is left to the streaming reader.
        """
        xml = self.package._part(part)
        self._last = (part, xml)
        if not prolog_is_safe(xml[:4096]):
            raise Refused("file-xml-unsafe", part=self.package.parts[part])
        limits = self.package.limits
        inside_envelope = _OUTSIDE_ENVELOPE.search(xml) is None and _PREFIXED_CELL.search(xml) is None
        if not (inside_envelope and limits.dense_cells >= _ENVELOPE_CELLS):
            extent = _scan(xml, rows, columns)
            if not extent.all_referenced or extent.max_row * extent.max_column > limits.dense_cells:
                return None, extent
        workbook = self._calamine()
        found = None
        if workbook is not None:
            try:
                found = workbook.get_sheet_by_name(sheet)
            except Exception as exc:  # one sheet calamine cannot read: stream that one
                self.calamine_failure = f"{type(exc).__name__}: {exc}"[:300]
        if found is None:
            return None, _scan(xml, rows, columns)
        end = found.end  # None for a sheet without cells
        max_row, max_column = (end[0] + 1, end[1] + 1) if end and found.height and found.width else (0, 0)
        beyond = None
        if max_row > rows or max_column > columns:  # rare: find a real cell to name in the finding
            beyond = _scan(xml, rows, columns).beyond or (max_row, max_column)
        extent = _Extent(max_row, max_column, True, beyond, formulas and _has_formulas(xml))
        if not max_row:
            return [], extent
        try:
            values: list[list[Any]] = found.to_python(skip_empty_area=False, nrows=rows)
        except Exception as exc:
            self.calamine_failure = f"{type(exc).__name__}: {exc}"[:300]
            return None, _scan(xml, rows, columns)
        return values, extent

    def manifest(self, sheet: str, part: str) -> tuple[str, ...]:
        """Column A of the manifest sheet, from A1, as text."""
        limit = self.package.limits.max_manifest_chunks
        grid, _ = self._grid(sheet, part, limit, 1, formulas=False)
        if grid is None:
            cells = self._stream(part, limit, 1, values=True)
            column = [cells[(row, 1)][0] if (row, 1) in cells else None for row in range(1, limit + 1)]
        else:
            column = [row[0] if row else None for row in grid[:limit]]
        chunks = []
        for value in column:
            text = value if isinstance(value, str) else layout.canonical_cell(value)
            if text:
                chunks.append(text)
        return tuple(chunks)

    def sheet(self, sheet: str, part: str, rows: int, columns: int) -> SheetData:
        """The cells of ``sheet`` within the bounds, with formula texts beside cached values."""
        grid, extent = self._grid(sheet, part, rows, columns)
        keys: list[tuple[int, int]] = []
        values: list[CellValue] = []
        formulas: dict[tuple[int, int], str] = {}
        if grid is None:
            for key, (value, formula, _) in self._stream(part, rows, columns, values=True).items():
                keys.append(key)
                values.append(None if value == "" else value)
                if formula is not None:
                    formulas[key] = formula
        else:
            # A comprehension: this loop runs for every cell of every file.
            found = [
                ((row_index, column_index), value)
                for row_index, row in enumerate(grid[:rows], start=1)
                for column_index, value in enumerate(row[:columns], start=1)
                if value != "" and value is not None
            ]
            keys = [key for key, _ in found]
            values = [value for _, value in found]
            if extent.has_formulas:
                # Cached values stay calamine's; a formula whose result was never saved reads as None.
                known = set(keys)
                for key, (error, formula, _) in self._stream(part, rows, columns, values=False).items():
                    if formula is not None:
                        formulas[key] = formula
                        if key not in known:  # an error result is quoted as it showed (#DIV/0!)
                            keys.append(key)
                            values.append(error)
        if extent.beyond is not None:
            self.findings.append(
                Finding(
                    "sheet-truncated",
                    {"rows": rows, "columns": columns, "last": a1(*extent.beyond)},
                    file=self.file,
                    sheet=sheet,
                )
            )
        return SheetData(
            sheet,
            keys,
            values,
            formulas,
            extent.max_row,
            extent.max_column,
            extent.beyond is not None,
            self._formats(part, keys, values),
        )

    # -- number formats: what a number looked like to the person who typed it --------------

    def _formats(
        self, part: str, keys: list[tuple[int, int]], values: list[CellValue]
    ) -> dict[tuple[int, int], str]:
        """The number format code of each numeric or date cell that has one other than General.

        A person reads a cell as it is displayed: 0.412 in a cell formatted ``0.0%`` is 41.2%,
        as LibreOffice and Excel store "41.2%" typed into a cell. The style index comes from
        the cell's ``s`` attribute (a C-speed scan of the XML), its format from styles.xml.
        """
        codes = self._number_formats()
        if not codes:
            return {}
        xml = self._last[1] if self._last[0] == part else self.package._part(part)
        # Only the few formatted cells are looked up (a dictionary made at C speed), not every cell tested.
        cells = dict(zip(keys, values, strict=True))
        found: dict[tuple[int, int], str] = {}
        columns: dict[bytes, int] = {}  # a sheet has few distinct column letters
        styled = _styled_cells(tuple(index for index, code in enumerate(codes) if code))
        for letters, digits, style in styled.findall(xml):
            index = int(style)
            code = codes[index] if index < len(codes) else None
            if not code:
                continue
            column = columns.get(letters)
            if column is None:
                column = columns[letters] = column_index(letters.decode("ascii"))
            key = (int(digits), column)
            value = cells.get(key)
            if isinstance(value, (int, float, dt.date, dt.time)) and not isinstance(value, bool):
                found[key] = code
        return found

    def _number_formats(self) -> tuple[str | None, ...]:
        """Format code per cell style (``cellXfs`` order); None for General. Read once per file.

        styles.xml is matched with regular expressions rather than parsed into a tree: building
        its few hundred elements cost more than calamine's whole read of the sheet. The part's
        prolog was checked already (no DTD, so no entities); its text is only searched here.
        """
        if self._codes is None:
            self._codes = ()
            package = self.package
            part = package.related("styles", "xl/styles.xml")
            if part in package.parts:
                self._codes = number_formats(package._part(part))
        return self._codes

    # -- streaming with defusedxml ----------------------------------------------------------

    def _shared_strings(self) -> list[str]:
        if self._shared is None:
            shared: list[str] = []
            package = self.package
            part = package.related("sharedStrings", "xl/sharedstrings.xml")
            if part in package.parts:
                with package._open(part) as stream:
                    for _, element in iterparse(stream, ("end",), package.parts[part]):
                        if tag_name(element.tag) == "si":
                            shared.append(rich_text(element))
                            element.clear()
            self._shared = shared
        return self._shared

    def _stream(
        self, part: str, rows: int, columns: int, *, values: bool
    ) -> dict[tuple[int, int], tuple[CellValue, str | None, bool]]:
        """(value, formula, has cached value) of the cells within the bounds, streamed from the XML.

        Values are decoded only with ``values`` (types as the file stores them: numbers as
        float, no date formats applied — calamine is used wherever it is safe). Reading stops
        at the first row past the bounds (rows are stored in ascending order).
        """
        shared = self._shared_strings() if values else []
        found: dict[tuple[int, int], tuple[CellValue, str | None, bool]] = {}
        shared_formulas: dict[str, str] = {}
        row_number = 0
        column_number = 0
        name = self.package.parts[part]
        with self.package._open(part) as stream:
            for event, element in iterparse(stream, ("start", "end"), name):
                local = tag_name(element.tag)
                if event == "start":
                    if local == "row":
                        reference = element.get("r")
                        row_number = int(reference) if reference and reference.isdecimal() else row_number + 1
                        column_number = 0
                        if row_number > rows:
                            break
                    continue
                if local == "c":
                    reference = element.get("r")
                    if reference:
                        letters = reference.rstrip("0123456789")
                        column_number = (
                            column_index(letters)
                            if letters.isascii() and letters.isalpha()
                            else column_number + 1
                        )
                    else:
                        column_number += 1
                    if column_number <= columns:
                        cell = self._cell(element, shared, shared_formulas, values)
                        if cell is not None:
                            found[(row_number, column_number)] = cell
                    element.clear()
                elif local == "row":
                    element.clear()
        return found

    @staticmethod
    def _cell(
        element: Element, shared: list[str], shared_formulas: dict[str, str], values: bool
    ) -> tuple[CellValue, str | None, bool] | None:
        formula: str | None = None
        raw: str | None = None
        inline: Element | None = None
        has_value = False
        for child in element:
            local = tag_name(child.tag)
            if local == "f":
                formula = child.text or ""
                index = child.get("si")
                if child.get("t") == "shared" and index is not None:
                    # The first cell of a shared formula holds its text; the others refer to it.
                    if formula:
                        shared_formulas[index] = formula
                    else:
                        formula = shared_formulas.get(index, "")
                elif child.get("t") == "dataTable":
                    formula = f"TABLE({child.get('r1', '')},{child.get('r2', '')})"
            elif local == "v":
                raw = child.text or ""
                has_value = True
            elif local == "is":
                inline = child
                has_value = True
        if not values:  # the formula only; but an error result (#DIV/0!), which calamine reads as empty
            error = raw if element.get("t") == "e" and raw else None
            return (error, formula, has_value) if formula is not None else None
        kind = element.get("t", "n")
        value: CellValue = None
        if kind == "inlineStr" and inline is not None:
            value = rich_text(inline)
        elif raw is not None:
            if kind == "s":
                position = int(raw) if raw.isdecimal() else -1
                value = shared[position] if 0 <= position < len(shared) else None
            elif kind == "b":
                value = raw.strip() == "1"
            elif kind in ("str", "e", "d", "inlineStr"):
                value = raw
            else:
                try:
                    value = float(raw)
                except ValueError:
                    value = raw
        if value in (None, "") and formula is None:
            return None
        return value, formula, has_value


def iterparse(stream: IO[bytes], events: tuple[str, ...], name: str) -> Iterator[tuple[str, Element]]:
    """defusedxml's iterparse with DTDs forbidden; unsafe or malformed XML refuses the file."""
    try:
        yield from SafeET.iterparse(stream, events=events, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise Refused("file-xml-unsafe", part=name) from exc
    except ParseError as exc:
        raise Refused("file-workbook-unreadable", detail=f"{name}: {exc}"[:200]) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise Refused("file-damaged", detail=f"{name}: {exc}"[:200]) from exc


def rich_text(element: Element) -> str:
    """The text of a rich-text container (``si``, ``is``) without its phonetic runs (``rPh``)."""
    parts: list[str] = []
    for child in element:
        local = tag_name(child.tag)
        if local == "t":
            parts.append(child.text or "")
        elif local == "r":
            parts.extend(grand.text or "" for grand in child if tag_name(grand.tag) == "t")
    return "".join(parts)
