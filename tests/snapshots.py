"""A test-only reader: a real .xlsx reduced to a :class:`~xlplan.snapshot.Snapshot`.

Until :mod:`xlplan.safe_read` exists, the check tests read returned workbooks
with this: python-calamine for the cached values (the reader collection uses),
openpyxl for the formula text of cells that hold one. No limits, no worker
process: the files are ones the tests wrote themselves.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import openpyxl
from python_calamine import CalamineWorkbook

from xlplan import layout
from xlplan.snapshot import CellRead, SheetRead, Snapshot


def snapshot_of(path: Path) -> Snapshot:
    """Read ``path`` as safe reading would hand it to checking (values, formulas, manifest, links)."""
    workbook = CalamineWorkbook.from_path(str(path))
    names = tuple(workbook.sheet_names)
    chunks: tuple[str, ...] | None = None
    if layout.MANIFEST_SHEET in names:
        rows = workbook.get_sheet_by_name(layout.MANIFEST_SHEET).to_python(skip_empty_area=False)
        chunks = tuple(str(row[0]) for row in rows if row and row[0] not in ("", None))
    worksheets = [name for name in names if name != layout.MANIFEST_SHEET]
    response_name = layout.RESPONSE_SHEET if layout.RESPONSE_SHEET in names else (worksheets or [None])[0]
    response = None
    if response_name is not None:
        values: list[list[Any]] = workbook.get_sheet_by_name(response_name).to_python(skip_empty_area=False)
        formulas = _formulas(path, response_name)
        cells: dict[tuple[int, int], CellRead] = {}
        for r, row in enumerate(values, start=1):
            for c, value in enumerate(row, start=1):
                formula = formulas.get((r, c))
                if value == "" and formula is None:
                    continue
                cells[(r, c)] = CellRead(None if value == "" else value, formula)
        for (r, c), formula in formulas.items():  # a formula whose result was never saved
            cells.setdefault((r, c), CellRead(None, formula))
        max_row = max((r for r, _c in cells), default=0)
        max_column = max((c for _r, c in cells), default=0)
        response = SheetRead(response_name, cells, max_row, max_column)
    with zipfile.ZipFile(path) as archive:
        entries = archive.namelist()
    links = tuple(name for name in entries if name.startswith("xl/externalLinks/") and name.endswith(".xml"))
    kind = "xlsm" if "xl/vbaProject.bin" in entries else "xlsx"
    return Snapshot(
        kind=kind,
        sheet_names=names,
        manifest_chunks=chunks,
        response=response,
        external_links=links,
        has_vba="xl/vbaProject.bin" in entries,
    )


def _formulas(path: Path, sheet: str) -> dict[tuple[int, int], str]:
    workbook = openpyxl.load_workbook(path, data_only=False)
    try:
        found: dict[tuple[int, int], str] = {}
        for row in workbook[sheet].iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    value = cell.value
                    text = value.text if hasattr(value, "text") else str(value)  # ArrayFormula
                    found[(cell.row, cell.column)] = str(text).removeprefix("=")
        return found
    finally:
        workbook.close()
