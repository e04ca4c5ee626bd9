"""What safe reading hands to checking: a returned workbook as plain, bounded data.

A returned file is untrusted. :mod:`xlplan.collection.read` opens it in a worker
process, under limits, and reduces it to a :class:`Snapshot`: the sheet names,
the manifest text, and the cells of the answer sheet within the bounds the
manifest declares. Everything after that (:mod:`xlplan.collection.identify`,
:mod:`xlplan.collection.check`) works on these records only and never touches the file,
so a check cannot be crashed or slowed by what a department sent.

The records pickle, so they cross the process boundary as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from xlplan.findings import Finding

CellValue = str | int | float | bool | dt.datetime | dt.date | dt.time | dt.timedelta | None
"""A cached cell value as a reader gives it (numbers as int or float, text as str)."""


@dataclass(frozen=True)
class CellRead:
    """One non-empty cell: its cached value and, where the cell holds a formula, its text."""

    value: CellValue
    formula: str | None = None  # without the leading "=", as stored in the file


@dataclass(frozen=True)
class SheetRead:
    """The cells of one sheet that were read, keyed by 1-based (row, column).

    ``values`` holds every non-empty cell's cached value (None for a formula whose result
    was never saved); ``formulas`` the formula texts, for the cells that hold one;
    ``formats`` the number format of each numeric cell whose format is not General (a value
    is read as it was displayed: 0.412 formatted ``0.0%`` is 41.2%).
    ``max_row`` and ``max_column`` are the sheet's extent as the file declares it;
    ``truncated`` is True when cells beyond the reading bounds were left unread
    (a finding says so; the rows a department was sent are always inside the bounds).
    Two plain dictionaries rather than an object per cell: a sheet has a thousand cells,
    and a collection thousands of sheets.
    """

    name: str
    values: Mapping[tuple[int, int], CellValue]
    max_row: int
    max_column: int
    truncated: bool = False
    formulas: Mapping[tuple[int, int], str] = field(default_factory=dict)
    formats: Mapping[tuple[int, int], str] = field(
        default_factory=dict
    )  # numeric cells' formats, not General

    @classmethod
    def from_cells(
        cls, name: str, cells: Mapping[tuple[int, int], CellRead], max_row: int, max_column: int
    ) -> SheetRead:
        """A sheet from :class:`CellRead` records (how tests describe a sheet)."""
        values = {key: cell.value for key, cell in cells.items()}
        formulas = {key: cell.formula for key, cell in cells.items() if cell.formula is not None}
        return cls(name, values, max_row, max_column, formulas=formulas)

    @property
    def cells(self) -> dict[tuple[int, int], CellRead]:
        """Every cell read, value and formula together (made on each call: for reports and tests)."""
        keys = {*self.values, *self.formulas}
        return {key: CellRead(self.values.get(key), self.formulas.get(key)) for key in sorted(keys)}

    def value(self, row: int, column: int) -> CellValue:
        """The cached value at (row, column), None when empty or unread."""
        return self.values.get((row, column))

    def formula(self, row: int, column: int) -> str | None:
        """The formula text at (row, column) (without ``=``), None when the cell holds none."""
        return self.formulas.get((row, column))

    def holds(self, row: int, column: int) -> bool:
        """True when the cell was read with a value or a formula."""
        return (row, column) in self.values or (row, column) in self.formulas


@dataclass(frozen=True)
class Snapshot:
    """A returned workbook reduced to what checking needs.

    Attributes:
        kind: the format found by content (``xlsx`` or ``xlsm``; anything else is refused before).
        sheet_names: every sheet, in workbook order (hidden ones included).
        manifest_chunks: column A of the manifest sheet, None when that sheet is missing.
        response: the answer sheet (``回答``); where there is none — content pasted
            into a new workbook — the first worksheet, so it can be matched by content.
        external_links: targets of external-link parts of the package (linked workbooks, DDE).
        has_vba: the package holds a VBA project (a macro-enabled return).
        findings: what reading itself noticed (bounds exceeded, formulas without cached values).
    """

    kind: Literal["xlsx", "xlsm"]
    sheet_names: tuple[str, ...]
    manifest_chunks: tuple[str, ...] | None
    response: SheetRead | None
    external_links: tuple[str, ...] = ()
    has_vba: bool = False
    findings: tuple[Finding, ...] = field(default_factory=tuple)
