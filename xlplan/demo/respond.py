"""Respond: fill in a department workbook as a department would, for the demo and for tests.

A department opens the workbook in Excel, types into the yellow cells and saves.
:func:`fill_response` does the same with openpyxl (load, set the input cells,
save), so the result has been through a second writer, as a real return has.
Rows are found through the workbook's own manifest, never by position.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import openpyxl

from xlplan.form import layout, manifest
from xlplan.form.rows import typed_value
from xlplan.plan.model import Answer
from xlplan.xlsx.cells import set_text


def fill_response(sent: Path, answers: Sequence[Answer], out: Path) -> None:
    """Write ``answers`` into the yellow cells of the workbook ``sent`` and save it as ``out``.

    Each answer goes to the row the manifest lists for its (project, entry,
    department-as-printed). A number is typed as a number when it has the row's
    unit (the cell's format shows the unit) and as text such as ``159件``
    otherwise; marks are typed as text; a blank value leaves the cell empty.

    Raises:
        KeyError: an answer matches no row of the workbook.
        manifest.ManifestError: the workbook has no readable manifest.
    """
    workbook = openpyxl.load_workbook(sent)
    try:
        hidden = workbook[layout.MANIFEST_SHEET]
        chunks = [str(row[0]) for row in hidden.iter_rows(min_col=1, max_col=1, values_only=True) if row[0]]
        issued = manifest.loads(chunks)
        column = {key: index + 1 for index, key in enumerate(issued.columns)}
        rows = {(row.project_no, row.entry, row.department): row.row for row in issued.rows}
        sheet = workbook[layout.RESPONSE_SHEET]
        for answer in answers:
            row = rows[(answer.project_no, answer.entry, answer.department)]
            unit = sheet.cell(row=row, column=column[layout.UNIT]).value
            unit = str(unit) if unit else None
            value_cell = sheet.cell(row=row, column=column[layout.CURRENT_VALUE])
            typed = typed_value(answer.value, unit)
            if isinstance(typed, str):
                set_text(value_cell, typed)
            else:
                value_cell.value = typed
            set_text(sheet.cell(row=row, column=column[layout.CURRENT_NARRATIVE]), answer.narrative)
        workbook.save(out)
    finally:
        workbook.close()
