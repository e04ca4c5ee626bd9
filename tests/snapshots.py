"""A test-only reader: a real .xlsx reduced to a :class:`~xlplan.collection.snapshot.Snapshot`.

Until :mod:`xlplan.collection.read` exists, the check tests read returned workbooks
with this: python-calamine for the cached values (the reader collection uses),
the sheet's XML for the formula text of cells that hold one. No limits, no worker
process: the files are ones the tests wrote themselves.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from defusedxml import ElementTree
from python_calamine import CalamineWorkbook

from xlplan.collection.snapshot import CellRead, SheetRead, Snapshot
from xlplan.form import layout
from xlplan.xlsx.cells import from_a1


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
        response = SheetRead.from_cells(response_name, cells, max_row, max_column)
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


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _formulas(path: Path, sheet: str) -> dict[tuple[int, int], str]:
    """(row, column) → formula text of every ``<f>`` cell of ``sheet``, read from the sheet's XML.

    Not through openpyxl: it takes any text starting with "=" for a formula, which is
    exactly what a department's text must never become.
    """
    with zipfile.ZipFile(path) as archive:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_PACKAGE_REL}Relationship")}
        rel_id = next(
            item.get(f"{_REL}id") for item in workbook.iter(f"{_MAIN}sheet") if item.get("name") == sheet
        )
        target = targets[rel_id]
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        root = ElementTree.fromstring(archive.read(part))
    found: dict[tuple[int, int], str] = {}
    for cell in root.iter(f"{_MAIN}c"):
        formula = cell.find(f"{_MAIN}f")
        if formula is not None:
            row, column = from_a1(cell.get("r", ""))
            found[(row, column)] = formula.text or ""
    return found
