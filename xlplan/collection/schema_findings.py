"""Where a department's return breaks the return's JSON Schema, as findings on its cells.

The schema (:mod:`xlplan.form.schema`) names a path in the return's document (``rows[3].value``);
this module puts each problem back on the row and column of the sheet it came from, with the
reason as a catalogue phrase, and says which cells it covered (they are not checked again).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from xlplan.collection.identify import Identity, row_params
from xlplan.findings import Finding, Phrase
from xlplan.form import layout
from xlplan.form.manifest import ManifestRow
from xlplan.form.schema import SchemaProblem
from xlplan.xlsx.cells import a1


def _reason(problem: SchemaProblem) -> Phrase:
    """The reason for a schema problem, by the keyword that failed, as a catalogue phrase."""
    keyword, limit = problem.keyword, problem.limit
    if keyword == "type":
        allowed = limit if isinstance(limit, list) else [limit]
        return Phrase("reason-type", {"allowed": [Phrase(f"json-{name}") for name in allowed]})
    if keyword == "maxLength":
        return Phrase("reason-max-length", {"limit": limit})
    if keyword == "minLength":
        return Phrase("reason-min-length")
    if keyword == "pattern":
        return Phrase("reason-pattern", {"pattern": limit})
    if keyword in ("minimum", "exclusiveMinimum"):
        return Phrase("reason-minimum", {"limit": limit})
    if keyword in ("maximum", "exclusiveMaximum"):
        return Phrase("reason-maximum", {"limit": limit})
    if keyword == "required":
        return Phrase("reason-required")
    if keyword == "additionalProperties":
        return Phrase("reason-additional")
    return Phrase("reason-other", {"keyword": keyword})


_FIELD_COLUMNS = {
    "row_id": layout.ROW_ID,
    "project_no": layout.PROJECT_NO,
    "entry": layout.ENTRY,
    "department": layout.DEPARTMENT,
    "value": layout.CURRENT_VALUE,
    "narrative": layout.CURRENT_NARRATIVE,
}


class Place(NamedTuple):
    """Where a row of the document was read (a tuple, as :class:`~xlplan.collection.check` rows: one per row of every return)."""

    row: ManifestRow
    sheet_row: int


def schema_findings(
    problems: Sequence[SchemaProblem],
    places: Sequence[Place],
    identity: Identity,
    file: str,
) -> tuple[list[Finding], set[tuple[str, str]]]:
    """Findings for schema problems, and the (row id, column key) cells they cover."""
    headers = {column.key: column.header for column in identity.columns}
    findings: list[Finding] = []
    covered: set[tuple[str, str]] = set()
    for problem in problems:
        reason = _reason(problem)
        path = problem.path
        if len(path) >= 3 and path[0] == "rows" and isinstance(path[1], int) and path[1] < len(places):
            place = places[path[1]]
            key = _FIELD_COLUMNS.get(str(path[2]), layout.ROW_ID)
            covered.add((place.row.row_id, key))
            cell = a1(place.sheet_row, identity.positions.get(key, 1))
            params = row_params(place.row, key)
            if key == layout.CURRENT_NARRATIVE and problem.keyword == "maxLength":
                params |= {"length": len(str(problem.instance)), "limit": problem.limit}
                findings.append(
                    Finding("narrative-too-long", params, file=file, sheet=identity.sheet, cell=cell)
                )
                continue
            where = Phrase("at-project", {"project_no": place.row.project_no})
            params |= {"header": headers.get(key, key), "reason": reason, "where": where}
            if key == layout.CURRENT_VALUE and isinstance(problem.instance, str):
                params["value"] = problem.instance  # feedback writes the typed text back
            findings.append(
                Finding("return-schema-invalid", params, file=file, sheet=identity.sheet, cell=cell)
            )
        else:
            name: str | Phrase = ".".join(str(part) for part in path) or Phrase("whole-document")
            params = {"header": name, "reason": reason, "where": Phrase("at-document")}
            findings.append(Finding("return-schema-invalid", params, file=file))
    return findings, covered
