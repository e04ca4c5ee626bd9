"""Check an identified return: the JSON Schema of a department return, then the semantic rules.

:func:`check_return` takes what :func:`xlplan.collection.identify.identify` found (whose
return it is, where its rows are) and the cells safe reading produced, and
returns the department's :class:`~xlplan.plan.model.Answer` records with the
findings. It never touches the file and never raises on what a department sent.

The order of the work, and why:

1. **Formulas** in the yellow cells are looked at first, because they decide
   what the cell's value is. The cached value (what Excel last computed) is used
   and the formula is reported as a warning; a formula with no cached value is an
   error; a formula that reaches outside the workbook (external references, DDE,
   ``WEBSERVICE``, ``HYPERLINK``, ``CALL``, ``REGISTER``, ``FILTERXML`` …) is an
   error whatever its value. External-link parts of the package are errors too.
2. **The schema** (:mod:`xlplan.form.schema`, versioned by its
   ``$id``) is applied to the return as plain JSON — one record
   per row read. It carries the structural limits (types, the row id pattern,
   the narrative's length limit); each schema error becomes a finding on the
   cell it concerns, and that cell is then left out of the semantic checks so
   one problem is reported once.
3. **Semantic rules** per row: the value is required and must fit the row's
   input rule (:func:`xlplan.form.layout.input_rule`: whole numbers for counts, 0–100
   for %, ≥ 0, marks only where there is no indicator), its unit must be the
   indicator's (``159件`` where 人 is expected is an error, never converted);
   variant marks (``〇``) and full-width digits are read with a warning; the
   prefilled grey cells must hash to what the manifest recorded; a blank
   narrative, a narrative copied from last year, and a large change against last
   year with no narrative are warnings.

Answers: every row that was found in the sheet gets an Answer, also when it has
findings, because the 差し戻し票 (:mod:`xlplan.followup.feedback`) writes the answers back
so nothing is typed twice. A value that could not be read is a blank Value in
its Answer, and the typed text is the finding's ``params["value"]`` (feedback
writes it back into the cell). Only a result with ``ok`` (no errors at all) may
be accepted. Text stays text: a narrative such as ``=1+1`` typed as text is
kept as it is; the writers (:func:`xlplan.xlsx.cells.set_text`) make sure it never
becomes a formula.

Every cell-level finding has ``file``, ``sheet``, ``cell`` (A1 where it was
found) and params ``row_id``, ``column`` (a :mod:`xlplan.form.layout` column key),
``project_no``, ``entry`` and ``department`` (the member as printed), which is
how feedback places it even when rows were moved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from xlplan.collection.cells import displayed, formula_hazard, narrative_text, prints_text, shows_literal
from xlplan.collection.identify import Identity, row_params
from xlplan.collection.index import PlanIndex, plan_index
from xlplan.collection.schema_findings import Place, schema_findings
from xlplan.collection.snapshot import CellValue, SheetRead, Snapshot
from xlplan.findings import Finding, Phrase
from xlplan.form import layout, manifest
from xlplan.form.layout import Column, InputRule
from xlplan.form.schema import schema_problems
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.model import Answer, HistoryRecord, Plan, Project
from xlplan.plan.text import strip_unsafe, unsafe_characters
from xlplan.plan.trend import breaks_trend, is_huge_change, is_large_change, same_text
from xlplan.plan.values import BLANK, Normalisation, Value, ValueErrorCode, format_number, parse_value
from xlplan.xlsx.cells import a1

EXCEL_CELL_MAX = 32_767
"""Characters an Excel cell holds: an Answer's narrative is cut there so feedback can write it back."""

MESSAGE_VALUE_MAX = 100
"""Characters of a typed value quoted in a message (the whole text stays in the cell)."""


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one returned file.

    Attributes:
        department: registry name of the answering department (None when unidentified).
        answers: one Answer per row found in the sheet, in issued order (see the module docstring).
        findings: the check's own findings. The snapshot's and the identity's are not repeated
            here (the caller reports them beside these, as :mod:`xlplan.collection.run` does), but they
            count for ``ok``.
        document: the return as the JSON document the schema describes (None when unidentified).
        upstream_ok: no error among the snapshot's and the identity's findings.
    """

    department: str | None
    answers: tuple[Answer, ...]
    findings: tuple[Finding, ...]
    document: Mapping[str, Any] | None = field(default=None, compare=False)
    upstream_ok: bool = True

    @property
    def ok(self) -> bool:
        """True when reading, identification and the check found no error: the return may be accepted."""
        return self.upstream_ok and not any(finding.is_error for finding in self.findings)


# ----------------------------------------------------------------------------------------
# the check
# ----------------------------------------------------------------------------------------


def check_return(plan: Plan, snapshot: Snapshot, identity: Identity, *, file: str) -> CheckResult:
    """Check the return ``snapshot`` identified as ``identity`` against ``plan``.

    Args:
        plan: the plan of the current round (gives indicators, units and last year's values).
        snapshot: the file as safe reading reduced it.
        identity: what :func:`xlplan.collection.identify.identify` made of it.
        file: the file's name as reported in findings.

    Returns:
        A :class:`CheckResult` with the check's own findings; ``ok`` is False when any finding
        of reading, identification or checking is an error.
    """
    upstream_ok = identity.ok and not any(finding.is_error for finding in snapshot.findings)
    findings: list[Finding] = []
    if snapshot.external_links:
        targets = "、".join(snapshot.external_links[:5]) + ("…" if len(snapshot.external_links) > 5 else "")
        findings.append(Finding("external-link", {"targets": targets}, file=file))
    sheet = snapshot.response
    if identity.department is None or sheet is None:
        return CheckResult(identity.department, (), tuple(findings), upstream_ok=upstream_ok)

    places = [Place(row, identity.found[row.row_id]) for row in identity.rows if row.row_id in identity.found]
    # The grey (prefilled) columns and where they are: the same for every row of the file.
    # Every grey column of the manifest, in order (the prefill hash covers them all); None where the
    # column was not found in the sheet, whose cells then read as empty.
    grey = [
        (column.key, identity.positions.get(column.key)) for column in identity.columns if not column.input
    ]
    reads = [_read_row(place, sheet, identity, file, grey) for place in places]
    for read in reads:
        findings += read.findings

    settings = plan.settings
    issued = identity.manifest
    document: dict[str, Any] = {
        "plan": issued.plan if issued else settings.plan_name,
        "fiscal_year": issued.fiscal_year if issued else settings.current_year.western,
        "round": issued.round if issued else settings.round,
        "department": identity.department,
        "template_version": issued.template_version if issued else layout.TEMPLATE_VERSION,
        "rows": [
            {
                "row_id": place.row.row_id,
                "project_no": place.row.project_no,
                "entry": place.row.entry,
                "department": place.row.department,
                "value": _json_value(read.value),
                "narrative": read.narrative,
            }
            for place, read in zip(places, reads, strict=True)
        ],
    }
    schema_found, covered = schema_findings(schema_problems(document), places, identity, file)
    findings += schema_found

    index = plan_index(plan)
    projects = index.projects
    answers: list[Answer] = []
    for place, read in zip(places, reads, strict=True):
        row = place.row
        project = projects.get(row.project_no)
        if project is None:  # the manifest names a project the plan no longer has: identify reported it
            continue
        value = BLANK
        if (row.row_id, layout.CURRENT_VALUE) not in covered and not read.value_reported:
            value, value_findings = _check_value(project, read, place, identity, file)
            findings += value_findings
        narrative = read.narrative
        unsafe = unsafe_characters(narrative) if narrative else []
        if narrative and unsafe:
            # Removed here, once, so that no output (xlsx, PDF, CSV, JSON, mail, a terminal) receives them.
            narrative = strip_unsafe(narrative)
            cell = _cell(identity, place, layout.CURRENT_NARRATIVE)
            params = row_params(row, layout.CURRENT_NARRATIVE) | {"characters": unsafe}
            findings.append(
                Finding("text-unsafe-removed", params, file=file, sheet=identity.sheet, cell=cell)
            )
        if (row.row_id, layout.CURRENT_NARRATIVE) not in covered:
            findings += _check_narrative(plan, index, project, read, value, place, identity, file)
        findings += _check_prefilled(read, place, index, identity, file)
        if narrative is not None and len(narrative) > EXCEL_CELL_MAX:
            narrative = narrative[:EXCEL_CELL_MAX]
        answers.append(Answer(row.project_no, row.entry, row.department, value, narrative))
    return CheckResult(identity.department, tuple(answers), tuple(findings), document, upstream_ok)


class _RowRead(NamedTuple):
    """The cells of one row as read, after formulas were looked at."""

    value: CellValue  # the 今年度 value cell's (cached) value
    narrative: str | None  # the narrative as text, None when empty
    prefilled: list[CellValue]  # the value of each grey cell, in the order of the manifest's columns
    findings: tuple[Finding, ...]
    value_reported: bool = False  # a formula finding already says what is wrong with the value
    value_format: str | None = None  # the value cell's number format, where it is not General


@dataclass(frozen=True)
class _At:
    """Where findings about one cell go; calling it makes a finding there.

    The cell's A1 name is made only for a finding: most cells of most returns have none.
    """

    file: str
    sheet: str | None
    row: int
    column: int

    @classmethod
    def of(cls, identity: Identity, place: Place, key: str, file: str) -> _At:
        """The cell of column ``key`` in the row at ``place`` (where :func:`_cell` names it)."""
        return cls(file, identity.sheet, place.sheet_row, _column(identity, key))

    def __call__(self, code: str, params: Mapping[str, Any]) -> Finding:
        return Finding(code, params, file=self.file, sheet=self.sheet, cell=a1(self.row, self.column))


def _column(identity: Identity, key: str) -> int:
    return identity.positions.get(key, 1)


def _cell(identity: Identity, place: Place, key: str) -> str:
    return a1(place.sheet_row, _column(identity, key))


def _shown(value: CellValue, code: str | None = None) -> str:
    """A cell value as quoted in a message, shortened; a date as its format showed it (4月1日)."""
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.time)) and code:
        text = narrative_text(value, code) or ""
    elif isinstance(value, (int, float, bool)):
        text = layout.canonical_cell(value) or ""
    else:
        text = strip_unsafe(str(value))
    return text if len(text) <= MESSAGE_VALUE_MAX else text[:MESSAGE_VALUE_MAX] + "…"


def _read_row(
    place: Place, sheet: SheetRead, identity: Identity, file: str, grey: Sequence[tuple[str, int | None]]
) -> _RowRead:
    """Read a row's cells; report formulas in the yellow cells."""
    findings: list[Finding] = []
    values: dict[str, CellValue] = {}
    value_reported = False
    for key in (layout.CURRENT_VALUE, layout.CURRENT_NARRATIVE):
        where = (place.sheet_row, identity.positions.get(key, 0))
        value = values[key] = sheet.values.get(where)
        text = sheet.formulas.get(where)
        if text is None:
            continue
        at = _At.of(identity, place, key, file)
        formula = text if len(text) <= 200 else text[:200] + "…"
        header = next((column.header for column in identity.columns if column.key == key), key)
        params = row_params(place.row, key) | {"header": header, "formula": formula}
        hazard = formula_hazard(text)
        if hazard is not None:
            findings.append(at("formula-dangerous", params | {"reason": hazard}))
            value_reported = value_reported or key == layout.CURRENT_VALUE
        elif value is None or value == "":
            findings.append(at("formula-no-value", params))
            value_reported = value_reported or key == layout.CURRENT_VALUE
        else:
            findings.append(at("formula-in-input", params | {"value": _shown(value)}))
    cells, row = sheet.values, place.sheet_row
    prefilled = [cells.get((row, column)) if column is not None else None for _, column in grey]
    value_format = sheet.formats.get((place.sheet_row, identity.positions.get(layout.CURRENT_VALUE, 0)))
    narrative_format = sheet.formats.get(
        (place.sheet_row, identity.positions.get(layout.CURRENT_NARRATIVE, 0))
    )
    return _RowRead(values[layout.CURRENT_VALUE], narrative_text(values[layout.CURRENT_NARRATIVE], narrative_format), prefilled,
                    tuple(findings), value_reported, value_format)  # fmt: skip


def _json_value(value: CellValue) -> Any:
    """A value cell as JSON data for the schema: numbers and text as they are, dates as ISO text."""
    if value == "":
        return None
    if isinstance(value, (dt.date, dt.time, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return value


def _check_value(
    project: Project, read: _RowRead, place: Place, identity: Identity, file: str
) -> tuple[Value, list[Finding]]:
    """The row's Value (blank when unreadable) and the findings on the 今年度 value cell."""
    rule = layout.input_rule(project.indicator, project.unit)
    raw = read.value
    shown = displayed(raw, read.value_format)

    def at(code: str, extra: Mapping[str, Any] | None = None) -> Finding:
        # What a finding on the cell says; made only for a finding (most rows have none).
        # As displayed; else typed text, shortened; else the cell's value (which _shown shortens).
        quoted = shown if shown is not None else _shown(raw, read.value_format)
        base = row_params(place.row, layout.CURRENT_VALUE) | {
            "unit": rule.unit or "",
            "value": strip_unsafe(quoted),
        }
        return _At.of(identity, place, layout.CURRENT_VALUE, file)(code, base | dict(extra or {}))

    percent_typed = False
    if shown is not None:
        # Read as it was displayed: "41.2%" typed into a cell is stored as 0.412 formatted as a
        # percentage; "159" in a cell someone formatted 0"件" shows 159件.
        # The distributed % rows print "%" as quoted text (General"%"): a number typed there is
        # what it shows; a real percentage format means the % sign was typed with the number.
        percent_typed = shown.endswith("%") and not shows_literal(read.value_format)
        raw = shown
    parsed = parse_value(raw, rule.unit, unit_known=True)
    if parsed.error is not None or parsed.value is None:
        # A number the cell's format shows with other text (¥69, 159件) was typed in the wrong unit too.
        texted = shown is not None and prints_text(read.value_format)
        if (parsed.error is ValueErrorCode.UNIT_MISMATCH or texted) and rule.kind != "mark":
            return BLANK, [at("value-unit-mismatch")]
        if parsed.error is ValueErrorCode.UNEXPECTED_UNIT and rule.kind != "mark":
            return BLANK, [at("value-unexpected-unit", {"typed_unit": parsed.typed_unit})]
        code = "value-not-a-mark" if rule.kind == "mark" else "value-not-a-number"
        return BLANK, [at(code)]
    value = parsed.value
    if value.is_blank:
        return BLANK, [at("value-missing")]
    findings: list[Finding] = []
    if value.number is not None:
        problem = _out_of_rule(value.number, rule)
        if problem is not None:
            code, extra = problem
            return BLANK, [at(code, extra)]
    if percent_typed:
        seen = displayed(read.value, read.value_format, printed=True)  # 41% where 41.2% was typed under 0%
        findings.append(at("value-percent-sign", {"read": value.display(), "shown": seen or value.display()}))
    if Normalisation.MARK_VARIANT in parsed.normalisations and value.mark is not None:
        findings.append(at("value-mark-variant", {"mark": value.mark.value}))
    what: list[Phrase] = []
    if Normalisation.WIDTH in parsed.normalisations:
        what.append(Phrase("normalised-width"))
    if Normalisation.TRIMMED in parsed.normalisations:
        what.append(Phrase("normalised-trimmed"))
    if isinstance(read.value, str) and value.number is not None and rule.kind == "whole":
        # Only counts are number cells; ratios and decimals are distributed as text cells, which
        # keep what was typed ("41.2%" or "41.2"), so text is what they are meant to hold.
        what.append(Phrase("normalised-number-as-text"))
    if what:
        findings.append(at("value-normalised", {"read": _read_as(value), "what": what}))
    return value, findings


def _read_as(value: Value) -> Phrase:
    """What a normalised value was read as, number and unit apart, so that "1,957人" typed as
    text is reported as the number 1,957 in 人, not as itself."""
    if value.number is None:
        return Phrase("read-mark", {"mark": value.display()})
    number = format_number(value.number)
    if value.unit:
        return Phrase("read-number", {"number": number, "unit": value.unit})
    return Phrase("read-number-unitless", {"number": number})


def _out_of_rule(number: Decimal, rule: InputRule) -> tuple[str, dict[str, Any]] | None:
    """(code, extra params) when ``number`` breaks the row's input rule, else None."""
    if rule.kind == "mark":
        return "value-not-a-mark", {}
    if (
        len(number.normalize().as_tuple().digits) > 15
    ):  # Excel keeps 15: the outputs would each round it otherwise
        return "value-too-precise", {}
    if rule.kind == "whole" and number != number.to_integral_value():
        return "value-not-whole", {}
    low = rule.minimum if rule.minimum is not None else 0
    if number < low or (rule.maximum is not None and number > rule.maximum):
        if rule.maximum is not None:
            return "value-out-of-range", {
                "range": Phrase("range-between", {"low": low, "high": rule.maximum})
            }
        return "value-out-of-range", {"range": Phrase("range-at-least", {"low": low})}
    return None


def _check_narrative(
    plan: Plan,
    index: PlanIndex,
    project: Project,
    read: _RowRead,
    value: Value,
    place: Place,
    identity: Identity,
    file: str,
) -> list[Finding]:
    """Blank narrative, a narrative copied from last year or any earlier year, a large change or a
    break in the trend left unexplained."""
    row = place.row

    def at(code: str, extra: Mapping[str, Any] | None = None) -> Finding:  # made only for a finding
        params = row_params(row, layout.CURRENT_NARRATIVE) | dict(extra or {})
        return _At.of(identity, place, layout.CURRENT_NARRATIVE, file)(code, params)

    findings: list[Finding] = []
    settings = plan.settings
    entry = index.entry_of(row.row_id, row.entry)

    def past(year: FiscalYear) -> HistoryRecord | None:
        found = index.history_for(row.project_no, row.entry, year, row.department)
        if found is None and entry is not None and not entry.joint:
            # A single department's entry: the entry's own record is this department's.
            found = index.history_for(row.project_no, row.entry, year, None)
        return found

    record = past(settings.previous_year)
    narrative = read.narrative
    blank = narrative is None or not narrative.strip()
    if blank:
        findings.append(at("narrative-missing"))
    elif record is not None and record.narrative and same_text(narrative or "", record.narrative):
        findings.append(at("narrative-unchanged"))
    else:
        for year in reversed(index.history_years):  # the latest copy is the likeliest source
            if year >= settings.previous_year:
                continue
            earlier = past(year)
            if earlier is not None and earlier.narrative and same_text(narrative or "", earlier.narrative):
                findings.append(at("narrative-copied", {"year": year.wareki}))
                break
    if blank and record is not None and is_large_change(record.value, value):
        extra = {"value": value.display(), "previous": record.value.display()}
        findings.append(at("value-large-change", extra))
    elif record is not None and is_huge_change(record.value, value):
        findings.append(
            at("value-huge-change", {"value": value.display(), "previous": record.value.display()})
        )
    if blank and value.number is not None and not any(f.code == "value-large-change" for f in findings):
        series = [(settings.baseline_year, project.baseline)]
        series += [
            (year, found.value)
            for year in index.history_years
            if settings.baseline_year < year < settings.current_year and (found := past(year)) is not None
        ]
        if breaks_trend([v for _, v in series], value):
            shown = "、".join(f"{year.wareki} {v.display()}" for year, v in series if v.number is not None)
            findings.append(at("value-breaks-trend", {"value": value.display(), "series": shown}))
    return findings


def _check_prefilled(
    read: _RowRead, place: Place, index: PlanIndex, identity: Identity, file: str
) -> list[Finding]:
    """Compare the grey cells with the manifest's hash; name the changed cells where the plan still knows them.

    Where the hash differs, the row as distribution would write it from today's plan is
    made, and when it hashes to what was sent, each changed cell gets its own finding.
    """
    row = place.row
    columns: Sequence[Column] = identity.columns
    # As layout.prefilled() makes them from a row's cells: text is its own canonical form.
    canonical = [
        (value or None) if type(value) is str else layout.canonical_cell(value) for value in read.prefilled
    ]
    if manifest.prefill_hash(canonical) == row.prefill_sha256:
        return []
    grey_keys = [column.key for column in columns if not column.input]
    read_cells = dict(zip(grey_keys, canonical, strict=True))
    headers = {column.key: column.header for column in columns}
    owner = index.owner(row.row_id)
    expected = (
        index.response_row(owner) if owner is not None and owner.department == identity.department else None
    )
    if expected is not None:
        sent = layout.prefilled(columns, expected.cells)
        if manifest.prefill_hash(sent) == row.prefill_sha256:
            # Today's plan gives what was sent: name each changed cell.
            findings = []
            grey = [column for column in columns if not column.input]
            for column, was in zip(grey, sent, strict=True):
                if read_cells.get(column.key) != was:
                    params = row_params(row, column.key) | {
                        "header": headers.get(column.key, column.key),
                        "expected": _shorten(was) if was is not None else Phrase("blank-cell"),
                    }
                    findings.append(
                        Finding(
                            "prefilled-changed",
                            params,
                            file=file,
                            sheet=identity.sheet,
                            cell=_cell(identity, place, column.key),
                        )
                    )
            if findings:
                return findings
    return [
        Finding(
            "prefilled-row-changed",
            row_params(row, layout.ROW_ID),
            file=file,
            sheet=identity.sheet,
            cell=_cell(identity, place, layout.ROW_ID),
        )
    ]


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
