"""Identify a returned workbook: which department, plan, year and round it answers, and where its rows are.

A returned file is identified by its signed manifest (:mod:`xlplan.form.manifest`),
never by its name: departments rename files, forward them, and return last
year's. :func:`identify` works on a :class:`~xlplan.collection.snapshot.Snapshot` only
(the plain records safe reading produced) and decides:

- **whose** return it is: the manifest's department, when its signature verifies
  under the workspace key and it names this plan, fiscal year, round, workspace
  and template version; anything else is an error. A file without a manifest
  (its content pasted into a new workbook) is matched by the departments and
  project numbers in it where they name exactly one department, with a warning;
  otherwise it is ``unidentified-file``.
- **which rows** it may answer: only rows the department is in charge of
  according to the plan (:meth:`Plan.assignments`), whatever the manifest lists,
  so department A's file can never change department B's rows.
- **where** each row is: rows are found by the row id in the 行ID column, not by
  position, so inserted and reordered rows are read correctly and reported; a
  missing row is an error. Columns are found by their header text, falling back
  to the issued positions.

Nothing here judges the answers themselves; that is :mod:`xlplan.collection.check`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from xlplan.collection.index import PlanIndex, plan_index
from xlplan.collection.snapshot import CellValue, SheetRead, Snapshot
from xlplan.findings import Finding, Phrase
from xlplan.form import layout, manifest
from xlplan.form.layout import Column
from xlplan.form.manifest import Manifest, ManifestRow
from xlplan.plan.fiscal_year import FiscalYear, FiscalYearError
from xlplan.plan.model import Plan
from xlplan.plan.text import strip_unsafe
from xlplan.xlsx.cells import a1

ROW_ID_PATTERN = re.compile(r"^P\d{3,}-\d+-\d+$")
"""A row id as :func:`xlplan.form.layout.row_id` writes it (the schema's pattern)."""

HEADER_SEARCH_ROWS = 30
"""How far down the header row is looked for (content pasted into a new workbook may start anywhere)."""


@dataclass(frozen=True)
class Identity:
    """What a returned file was identified as.

    Attributes:
        department: the registry name of the answering department, or None when unidentified.
        manifest: the manifest read from the file (verified or not), None when it had none.
        rows: the rows the department is expected to return — the manifest's rows it is in
            charge of (or, without a manifest, its rows in the plan) — in issued order.
        found: row id → the sheet row (1-based) where that row was found; rows missing or
            ambiguous (duplicated) are absent.
        columns: the sheet's columns in issued order (keys, headers, which are input cells).
        positions: column key → the sheet column (1-based) it was read from.
        sheet: the name of the sheet the rows were read from.
        findings: what identification found (errors make the whole return invalid).
        verified: the department is proven: the manifest's signature verifies under the
            workspace key and the rows are that department's. Without proof (no manifest, a
            manifest that does not verify) ``department`` is only what the content suggests,
            and the return waits for the plan office's decision.
    """

    department: str | None
    manifest: Manifest | None
    rows: tuple[ManifestRow, ...] = ()
    found: Mapping[str, int] = field(default_factory=dict)
    columns: tuple[Column, ...] = ()
    positions: Mapping[str, int] = field(default_factory=dict)
    sheet: str | None = None
    findings: tuple[Finding, ...] = ()
    verified: bool = False
    # Some rows were sent under names the plan has changed since (a rename or merge typed into 担当課):
    # the workbook went out before the reorganisation and holds only the department's share of then.
    moved: bool = False

    @property
    def ok(self) -> bool:
        """True when identification found no error."""
        return not any(finding.is_error for finding in self.findings)


def _beyond_the_form(
    sheet: SheetRead, positions: Mapping[str, int], header_row: int | None, file: str
) -> list[Finding]:
    """A warning for what was typed outside the form's columns (after unprotecting the sheet): right of
    its last column, or in a column the department inserted. It is not read, and the department should
    know, not find its note gone."""
    known = set(positions.values())
    if not known or header_row is None:
        return []
    last = max(
        known
    )  # right of the form on any row (a note beside the title); an inserted column below its header
    beyond = sorted(key for key, value in sheet.values.items() if key[1] not in known
                    and (key[1] > last or key[0] >= header_row) and value not in (None, ""))  # fmt: skip
    if not beyond:
        return []
    text = strip_unsafe(str(sheet.values[beyond[0]]))
    cells = "、".join(a1(*key) for key in beyond[:5]) + ("…" if len(beyond) > 5 else "")
    return [Finding("cells-outside-form", {"cells": cells, "text": text[:40] + ("…" if len(text) > 40 else "")},
                    file=file, sheet=sheet.name, cell=a1(*beyond[0]))]  # fmt: skip


def identify(plan: Plan, snapshot: Snapshot, *, key: bytes, workspace_id: str, file: str) -> Identity:
    """Identify ``snapshot`` (a returned file) against ``plan``.

    Args:
        plan: the plan of the current round (the master).
        snapshot: the file as safe reading reduced it.
        key: the workspace's HMAC key (:meth:`Workspace.signing_key`).
        workspace_id: the workspace's public id (:func:`xlplan.form.manifest.workspace_id`).
        file: the file's name as it is reported in findings.

    Returns:
        An :class:`Identity`. It never raises on what a department sent: every problem is a
        finding in it (codes ``manifest-*``, ``unidentified-file``, ``row-*``, ``rows-moved``,
        ``columns-changed``, ``response-sheet-missing``, ``return-matched-by-content``).
    """
    findings: list[Finding] = []
    sheet = snapshot.response
    if sheet is None:
        findings.append(Finding("response-sheet-missing", {"expected": layout.RESPONSE_SHEET}, file=file))
        return Identity(None, None, findings=tuple(findings))

    issued: Manifest | None = None
    if snapshot.manifest_chunks is not None:
        try:
            issued = manifest.loads(snapshot.manifest_chunks)
        except manifest.ManifestError as exc:
            findings.append(
                Finding(
                    "manifest-unreadable",
                    {"manifest_sheet": layout.MANIFEST_SHEET, "detail": str(exc)[:200]},
                    file=file,
                    sheet=layout.MANIFEST_SHEET,
                )
            )

    index = plan_index(plan)
    template = index.columns
    columns = _issued_columns(issued.columns, template) if issued is not None else template
    header_row, positions, changed = _locate_columns(sheet, columns)
    if changed and (issued is not None or header_row is not None):
        findings.append(Finding("columns-changed", {"headers": changed}, file=file, sheet=sheet.name))
    ids = _row_ids(sheet, positions[layout.ROW_ID], header_row)
    findings += _beyond_the_form(sheet, positions, header_row, file)

    if issued is None:
        return _by_content(index, sheet, file, columns, positions, header_row, ids, findings)
    chunks = snapshot.manifest_chunks or ()
    if not (manifest.verify_text(chunks, key) or manifest.verify(issued, key)):
        # A manifest that does not verify proves nothing, not even whose file it is: the
        # department it names is never trusted (no 差し戻し票 goes there); the rows may
        # still suggest one, and the plan office decides.
        findings.append(Finding("manifest-bad-signature", {}, file=file, sheet=layout.MANIFEST_SHEET))
        template_columns = template
        positions = _locate_columns(sheet, template_columns)[1]
        ids = _row_ids(sheet, positions[layout.ROW_ID], header_row)
        return _by_content(index, sheet, file, template_columns, positions, header_row, ids, findings)

    checked = _check_manifest(plan, issued, key=key, workspace_id=workspace_id, file=file)
    if any(finding.code == "manifest-other-year" for finding in checked):
        # Another year's workbook has that year's headings (前年度の値（令和元年度）…): the year is the
        # one thing to say, not that its columns changed.
        findings = [finding for finding in findings if finding.code != "columns-changed"]
    findings += checked
    # A department renamed since the workbook was sent (its old name in 担当課's 旧名称) is itself.
    department = index.canonical.get(issued.department) or plan.canonical_department(issued.department)
    if department is None:
        findings.append(Finding("manifest-unknown-department", {"department": issued.department}, file=file))
        return Identity(None, issued, columns=columns, positions=positions, sheet=sheet.name,
                        findings=tuple(findings))  # fmt: skip

    by_content = _department_by_content(index, sheet, positions, header_row, ids)
    if by_content is not None and by_content != department:
        # Another department's manifest pasted in (or this manifest over another's rows): reading
        # either side's rows would let one department answer for another.
        findings.append(
            Finding("manifest-other-department", {"department": department, "found": by_content}, file=file)
        )
        # Neither side is proven: the file is shown to the office, and no department is written to.
        return Identity(None, issued, columns=columns, positions=positions, sheet=sheet.name,
                        findings=tuple(findings))  # fmt: skip

    shares = index.shares(department)
    renamed = issued.department not in index.canonical  # sent under a name the department had then
    kept: list[ManifestRow] = []
    any_moved = False
    for row in issued.rows:
        share = (row.project_no, row.entry, row.department)
        moved = False
        if share not in shares:
            # Sent before a reorganisation was typed into 担当課 (this department or a co-department
            # renamed): the row as the plan names it now. A rare path, taken only for such rows.
            now = plan.current_entry(row.project_no, row.entry, row.department)
            if now is not None and now[1] == department:
                share, moved = (row.project_no, *now), True
        if share in shares and ROW_ID_PATTERN.match(row.row_id):
            kept.append(row if not moved else replace(row, entry=share[1], department=share[2]))
            any_moved = any_moved or moved
            continue
        where = ids.get(row.row_id, [])
        # The manifest is the office's, signed: a row it lists but the plan no longer gives this department
        # was moved after the workbooks went out. The office's change, so a warning to the office, never
        # a 差し戻し telling the department to fill in only its own rows.
        findings.append(
            Finding(
                "row-reassigned",
                row_params(row, layout.ROW_ID) | {"answering": department},
                file=file,
                sheet=sheet.name,
                cell=a1(where[0], positions[layout.ROW_ID]) if where else None,
            )
        )
    if renamed and len(kept) < len(shares):
        # Sent before a merge: the department answers more rows now, which this file cannot hold; taken
        # as its return it would replace the department's answers to them. It gets a 差し戻し票 instead.
        findings.append(Finding("manifest-rows-outdated", {"department": department, "sent_as": issued.department,
                                                           "missing": len(shares) - len(kept)}, file=file))  # fmt: skip
    listed = {row.row_id for row in issued.rows}
    found, more = _place_rows(kept, ids, listed, index, department, sheet, positions, header_row, file)
    return Identity(department, issued, tuple(kept), found, columns, positions, sheet.name,
                    tuple(findings + more), verified=True, moved=any_moved)  # fmt: skip


# ----------------------------------------------------------------------------------------
# the manifest
# ----------------------------------------------------------------------------------------


def _check_manifest(
    plan: Plan, issued: Manifest, *, key: bytes, workspace_id: str, file: str
) -> list[Finding]:
    """Workspace, plan, year, round and template version of a manifest whose signature verified."""
    settings = plan.settings
    findings: list[Finding] = []

    def add(code: str, params: dict[str, object]) -> None:
        findings.append(Finding(code, params, file=file, sheet=layout.MANIFEST_SHEET))

    if issued.workspace_id and issued.workspace_id != workspace_id:
        add("manifest-other-workspace", {"found": issued.workspace_id})
    if issued.plan != settings.plan_name:
        add("manifest-other-plan", {"found": issued.plan, "expected": settings.plan_name})
    if issued.fiscal_year != settings.current_year.western:
        add(
            "manifest-other-year",
            {"found": _wareki(issued.fiscal_year), "expected": settings.current_year.wareki},
        )
    if issued.round != settings.round:
        add("manifest-other-round", {"found": issued.round, "expected": settings.round})
    if issued.template_version != layout.TEMPLATE_VERSION:
        add(
            "manifest-template-version",
            {"found": issued.template_version, "expected": layout.TEMPLATE_VERSION},
        )
    return findings


def _wareki(year: int) -> str:
    try:
        return FiscalYear(year).wareki
    except FiscalYearError:
        return f"{year}年度"


def _issued_columns(keys: Sequence[str], template: Sequence[Column]) -> tuple[Column, ...]:
    """The columns as issued (the manifest's keys), with today's headers where the key is known."""
    known = {column.key: column for column in template}
    inputs = {layout.CURRENT_VALUE, layout.CURRENT_NARRATIVE}

    def unknown(key: str) -> Column:
        # An earlier year's column issued before 表示する過去の年度数 was changed: its header is known.
        year = key.removeprefix(layout.EARLIER_VALUE)
        if key.startswith(layout.EARLIER_VALUE) and year.isdigit():
            return Column(key, layout.earlier_value_header(_wareki(int(year))), 11)
        return Column(key, key, 0, input=key in inputs)

    return tuple(known.get(key) or unknown(key) for key in keys)


# ----------------------------------------------------------------------------------------
# columns and rows in the sheet
# ----------------------------------------------------------------------------------------


def _text(value: CellValue) -> str:
    return value.strip() if isinstance(value, str) else ""


def _locate_columns(
    sheet: SheetRead, columns: Sequence[Column]
) -> tuple[int | None, dict[str, int], list[str | Phrase]]:
    """(header row, column key → sheet column, headers not found where expected).

    The header row is the first row (of the top :data:`HEADER_SEARCH_ROWS`) holding the
    行ID header. Each column is found by its header text there; a header that is not
    found is read at its issued position and reported.
    """
    row_id_header = next((column.header for column in columns if column.key == layout.ROW_ID), "行ID")
    header_row: int | None = None
    top = sorted(item for item in sheet.values.items() if item[0][0] <= HEADER_SEARCH_ROWS)
    for (r, _c), value in top:
        if _text(value) == row_id_header:
            header_row = r
            break
    headers: dict[str, int] = {}
    if header_row is not None:  # within the top rows, by the search above
        for (r, c), value in top:
            if r == header_row and isinstance(value, str):
                headers.setdefault(value.strip(), c)
    positions: dict[str, int] = {}
    changed: list[str | Phrase] = []
    for index, column in enumerate(columns, start=1):
        at = headers.get(column.header)
        if at is None:
            changed.append(column.header)
            at = index
        positions[column.key] = at
    if header_row is not None and header_row != layout.HEADER_ROW:
        changed.insert(0, Phrase("header-row-moved", {"row": header_row}))
    return header_row, positions, changed


def _row_ids(sheet: SheetRead, column: int, header_row: int | None) -> dict[str, list[int]]:
    """Row id → the sheet rows holding it, below the header row."""
    first = (header_row or layout.HEADER_ROW) + 1
    ids: dict[str, list[int]] = {}
    for (r, _c), value in sorted(item for item in sheet.values.items() if item[0][1] == column):
        if r >= first:
            text = _text(value)
            if ROW_ID_PATTERN.match(text):
                ids.setdefault(text, []).append(r)
    return ids


def _department_by_content(
    index: PlanIndex,
    sheet: SheetRead,
    positions: Mapping[str, int],
    header_row: int | None,
    ids: Mapping[str, list[int]],
) -> str | None:
    """The one department whose rows the sheet holds, by row id or by (project number, 回答する課).

    None when the rows name no department or several.
    """
    departments: set[str] = set()
    matched_rows: set[int] = set()
    for row_id, rows in ids.items():
        owner = index.owner(row_id)
        if owner is not None:
            departments.add(owner.department)
            matched_rows.update(rows)
    # Rows whose id was lost (pasted without the 行ID column): the project number and the member.
    first = (header_row or layout.HEADER_ROW) + 1
    project_col, member_col = positions.get(layout.PROJECT_NO), positions.get(layout.DEPARTMENT)
    if project_col is not None and member_col is not None:
        last = max((r for r, _c in sheet.values), default=0)
        for r in range(first, last + 1):
            if r in matched_rows:
                continue
            number = _whole(sheet.value(r, project_col))
            member = _text(sheet.value(r, member_col))
            if number is not None and member:
                departments |= index.departments_of_share(number, member)
    if len(departments) != 1:
        return None
    return next(iter(departments))


def _filled(value: CellValue) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _whole(value: CellValue) -> int | None:
    """A project number as read (``12.0``, ``12``, ``"12"``), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip())
    return None


def _by_content(
    index: PlanIndex,
    sheet: SheetRead,
    file: str,
    columns: tuple[Column, ...],
    positions: dict[str, int],
    header_row: int | None,
    ids: dict[str, list[int]],
    findings: list[Finding],
) -> Identity:
    """Identify a file without a (readable) manifest by the rows it holds."""
    department = _department_by_content(index, sheet, positions, header_row, ids)
    if department is None:
        findings.append(Finding("unidentified-file", {}, file=file))
        return Identity(None, None, columns=columns, positions=positions, sheet=sheet.name,
                        findings=tuple(findings))  # fmt: skip
    findings.append(Finding("return-matched-by-content", {"department": department}, file=file))
    # The rows the plan gives the department, as distribution would have issued them.
    rows = tuple(
        ManifestRow(
            row_id=item.row_id,
            row=layout.FIRST_DATA_ROW + position,
            project_no=item.project_no,
            entry=item.entry,
            department=item.department,
            prefill_sha256=manifest.prefill_hash(layout.prefilled(columns, item.cells)),
        )
        for position, item in enumerate(index.response_rows(department))
    )
    if ids:
        # Pasted content rarely keeps the rows where they were issued: do not report moves.
        found, more = _place_rows(rows, ids, set(), index, department, sheet, positions, header_row, file,
                                  report_moves=False)  # fmt: skip
    else:
        # Matched by project number and member only: the rows have no ids to be found by.
        found = _found_by_share(rows, sheet, positions, header_row)
        more = _missing(rows, found, file, sheet.name)
    return Identity(department, None, rows, found, columns, positions, sheet.name, tuple(findings + more))


def _found_by_share(
    rows: Sequence[ManifestRow], sheet: SheetRead, positions: Mapping[str, int], header_row: int | None
) -> dict[str, int]:
    """Row id → sheet row, matched by (project number, 回答する課) where exactly one sheet row has it."""
    first = (header_row or layout.HEADER_ROW) + 1
    last = max((r for r, _c in sheet.values), default=0)
    at: dict[tuple[int, str], list[int]] = {}
    for r in range(first, last + 1):
        number = _whole(sheet.value(r, positions[layout.PROJECT_NO]))
        member = _text(sheet.value(r, positions[layout.DEPARTMENT]))
        if number is not None and member:
            at.setdefault((number, member), []).append(r)
    wanted: dict[tuple[int, str], list[str]] = {}
    for row in rows:
        wanted.setdefault((row.project_no, row.department), []).append(row.row_id)
    found: dict[str, int] = {}
    for share, row_ids in wanted.items():
        places = at.get(share, [])
        if len(row_ids) == 1 and len(places) == 1:
            found[row_ids[0]] = places[0]
    return found


def row_params(row: ManifestRow, column: str) -> dict[str, Any]:
    """The params that place a finding on a row's cell (feedback reads row_id and column) and name the row."""
    return {
        "row_id": row.row_id,
        "column": column,
        "project_no": row.project_no,
        "entry": row.entry,
        "department": row.department,  # the member as printed, as feedback matches shares
        "member": row.department,
    }


def _missing(rows: Sequence[ManifestRow], found: Mapping[str, int], file: str, sheet: str) -> list[Finding]:
    return [
        Finding("row-missing", row_params(row, layout.ROW_ID), file=file, sheet=sheet)
        for row in rows
        if row.row_id not in found
    ]


def _place_rows(
    rows: Sequence[ManifestRow],
    ids: Mapping[str, list[int]],
    listed: set[str],
    index: PlanIndex,
    department: str,
    sheet: SheetRead,
    positions: Mapping[str, int],
    header_row: int | None,
    file: str,
    *,
    report_moves: bool = True,
) -> tuple[dict[str, int], list[Finding]]:
    """Find each expected row by its id; report missing, duplicated, moved, foreign and extra rows.

    ``listed`` are the row ids the manifest lists (kept or not): those already had their finding.
    """
    id_col = positions[layout.ROW_ID]
    findings: list[Finding] = []
    found: dict[str, int] = {}
    moved: list[tuple[ManifestRow, int]] = []
    for row in rows:
        places = ids.get(row.row_id, [])
        if not places:
            findings.append(
                Finding("row-missing", row_params(row, layout.ROW_ID), file=file, sheet=sheet.name)
            )
        elif len(places) > 1:
            cells = "、".join(a1(r, id_col) for r in places)
            findings.append(
                Finding(
                    "row-duplicate",
                    row_params(row, layout.ROW_ID) | {"count": len(places), "cells": cells},
                    file=file,
                    sheet=sheet.name,
                    cell=a1(places[0], id_col),
                )
            )
        else:
            found[row.row_id] = places[0]
            if places[0] != row.row:
                moved.append((row, places[0]))
    if moved and report_moves:
        first_moved, at = moved[0]
        findings.append(
            Finding(
                "rows-moved",
                {
                    "count": len(moved),
                    "project_no": first_moved.project_no,
                    "issued": first_moved.row,
                    "found": at,
                },
                file=file,
                sheet=sheet.name,
            )
        )
    # Rows in the sheet that were not expected: another department's rows are an error (they are
    # never read); anything else typed into the table is a warning that it was not read.
    expected = {row.row_id for row in rows}
    accounted: set[int] = set()
    for row_id, places in ids.items():
        accounted.update(places)
        if row_id in expected or row_id in listed:
            continue
        known = index.owner(row_id)
        if known is not None:
            params: dict[str, object] = {
                "row_id": row_id,
                "column": layout.ROW_ID,
                "project_no": known.project_no,
                "entry": known.entry,
                "department": known.member,
                "member": known.member,
                "answering": department,
            }
            findings.append(
                Finding("row-not-assigned", params, file=file, sheet=sheet.name, cell=a1(places[0], id_col))
            )
        else:
            for r in places:
                findings.append(
                    Finding("row-extra", {"row": r}, file=file, sheet=sheet.name, cell=a1(r, id_col))
                )
    first = (header_row or layout.HEADER_ROW) + 1
    extra_rows = sorted(
        {r for (r, _c), value in sheet.values.items() if r >= first and r not in accounted and _filled(value)}
    )
    for r in extra_rows:
        findings.append(Finding("row-extra", {"row": r}, file=file, sheet=sheet.name, cell=a1(r, id_col)))
    return found, findings
