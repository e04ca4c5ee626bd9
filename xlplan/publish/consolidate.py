"""Consolidate and publish: the 事業実績一覧 as .xlsx, and on request PDF, CSV and JSON.

:func:`consolidate` is the library entry point: it takes the plan and the
accepted answers as plain records, so it runs the same from the command line,
from the master workbook's button, and from tests. The steps:

1. :func:`xlplan.publish.table.build_table` pairs plan and answers (joint entries
   combined by :mod:`xlplan.plan.combine`);
2. :mod:`xlplan.publish.writer` writes the workbook, styled from the template
   (:mod:`xlplan.publish.template`), to a temporary file beside the target;
3. the temporary file is read back with python-calamine and compared with what
   was written, then audited (:mod:`xlplan.xlsx.audit`) for formulas, external links
   and macros; only then does it replace the target (:mod:`xlplan.xlsx.atomic`) —
   under a versioned name if the target is open in Excel;
4. the CSV and JSON (:mod:`xlplan.publish.opendata`), the accessible HTML page
   (:mod:`xlplan.publish.html`) and the tagged PDF (:mod:`xlplan.xlsx.pdf`) follow the same way.

A lock file in the output folder keeps two consolidations (a cron job and a
click on the button) from interleaving their writes.
"""

from __future__ import annotations

import contextlib
import csv as csv_module
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filelock

from xlplan.errors import BusyError, ConfigurationError, OutputError, PdfFailed, PdfUnavailable
from xlplan.findings import Finding, Language, findings_json, os_params
from xlplan.plan.blank import unfinished
from xlplan.plan.model import Answer, Plan
from xlplan.publish.digest import FOLDER as DIGEST_FOLDER
from xlplan.publish.digest import write_digests
from xlplan.publish.html import write_html
from xlplan.publish.opendata import platform_dependent_findings, records, write_csv, write_json
from xlplan.publish.parallel import read_back_checksum, write_table
from xlplan.publish.table import ProjectBlock, Table, build_table
from xlplan.publish.template import TEMPLATE_NAME, load_report_style
from xlplan.publish.writer import cell_text, sheet_names
from xlplan.result import Reported, say
from xlplan.workspace.folder import Workspace
from xlplan.xlsx.atomic import replace_into, temporary_beside
from xlplan.xlsx.audit import audit_package
from xlplan.xlsx.cells import file_name
from xlplan.xlsx.pdf import export_pdf
from xlplan.xlsx.text import (
    MAX_ROW_HEIGHT,
    ROW_PADDING_PT,
    line_spacing,
    number_fits,
    units_per_line,
    wrapped_lines,
)

LOCK_NAME = ".xlplan-consolidate.lock"
LOCK_TIMEOUT = 60.0
"""Seconds to wait for another consolidation to finish before giving up."""

__all__ = [
    "ConsolidationResult",
    "consolidate",
    "consolidate_plan",
    "output_stem",
    "workspace_template",
]


@dataclass(frozen=True)
class ConsolidationResult(Reported):
    """Where the outputs went and what was found on the way.

    ``xlsx`` is where the workbook was actually written: the settings' name, or a
    versioned name when that file was open (then ``findings`` says so). ``pdf``,
    ``csv``, ``json`` and ``html`` are None when not asked for or not possible.
    """

    xlsx: Path
    pdf: Path | None
    csv: Path | None
    json: Path | None
    rows: int
    findings: tuple[Finding, ...]
    html: Path | None = None
    digests: tuple[Path, ...] = ()  # 還元: each department's workbook (reports/還元/<年度>/)

    def lines(self, language: Language = "ja") -> list[str]:
        """Lines for the terminal or the master workbook's 状況 sheet: where each output went."""
        lines = [
            say(
                language,
                f"集約表（{self.rows} 行）: {self.xlsx}",
                f"Consolidated table ({self.rows} rows): {self.xlsx}",
            )
        ]
        lines += [
            f"{label}: {path}"
            for label, path in (
                ("PDF", self.pdf),
                ("CSV", self.csv),
                ("JSON", self.json),
                ("HTML", self.html),
            )
            if path
        ]
        if self.digests:
            folder = self.digests[0].parent
            lines.append(say(language, f"還元のブック {len(self.digests)} 課分とメールの下書き: {folder}",
                             f"Digests for {len(self.digests)} departments, with mail drafts: {folder}"))  # fmt: skip
        return lines

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """The result as JSON data."""
        return {
            "xlsx": str(self.xlsx),
            "pdf": str(self.pdf) if self.pdf else None,
            "csv": str(self.csv) if self.csv else None,
            "json": str(self.json) if self.json else None,
            "html": str(self.html) if self.html else None,
            "digests": [str(path) for path in self.digests],
            "rows": self.rows,
            "findings": findings_json(self.findings, language),
        }


def output_stem(plan: Plan) -> str:
    """The outputs' file name without suffix: the settings' title (``…事業実績一覧（R2）``)."""
    return file_name(plan.settings.title or "事業実績一覧")


def workspace_template(workspace: Workspace) -> Path | None:
    """The office's restyled template in the workspace (``templates/事業実績一覧テンプレート.xlsx``), if any."""
    candidate = workspace.root / "templates" / TEMPLATE_NAME
    return candidate if candidate.exists() else None


def consolidate_plan(
    plan: Plan,
    answers: Iterable[Answer],
    out_dir: Path,
    *,
    pdf: bool = False,
    csv: bool = False,
    html: bool = False,
    template: Path | None = None,
    lock_timeout: float = LOCK_TIMEOUT,
    digests: Path | None = None,
    lock: Path | None = None,
) -> ConsolidationResult:
    """Build the consolidated table and write it to ``out_dir``.

    Args:
        plan: the plan from the master workbook.
        answers: the accepted answers of the current year (one per department and row).
        out_dir: where to write (a workspace's ``reports/``); created if missing.
        pdf: also print the table to PDF (LibreOffice, or Excel on Windows). Where
            neither is installed the result has a ``pdf-unavailable`` warning and no PDF.
        csv: also write the open-data CSV (UTF-8 with BOM) and the same as JSON.
        html: also write the table as one accessible HTML page (``lang="ja"``, captions,
            header scopes, inline CSS, no script) for the city's website.
        template: a restyled template; None for the packaged one.
        lock_timeout: seconds to wait for another consolidation of ``out_dir``.
        lock: the lock file that keeps two consolidations apart (default: ``out_dir``'s
            :data:`LOCK_NAME`; a workspace keeps its own in ``.xlplan/``, out of the folder staff open).
        digests: where to write each department's 還元 workbook and mail draft (None: not written).

    Returns:
        The :class:`ConsolidationResult`. Warnings about the data (a department that
        has not answered, shares in different units) are in its findings.

    Raises:
        ConfigurationError: the template cannot be used.
        OutputError: ``out_dir`` cannot be written, or the written workbook failed its read-back
            or audit (then the previous table is left as it was).
        BusyError: another consolidation holds the lock (exit 4: try again when it has finished).
    """
    style = load_report_style(template)
    answers = list(answers)
    table = build_table(plan, answers)
    findings: list[Finding] = [
        *table.findings,
        *_clipped_narratives(table, style),
        *_hashed_values(table, style),
    ]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_error(out_dir, exc) from exc
    stem = output_stem(plan)
    lock_path = lock if lock is not None else out_dir / LOCK_NAME
    held = filelock.FileLock(str(lock_path), timeout=lock_timeout)
    try:
        held.acquire()
    except filelock.Timeout as exc:
        raise BusyError([Finding("consolidate-busy", {"lock": str(lock_path)})]) from exc  # exit 4: try again
    try:
        xlsx = _publish(out_dir / f"{stem}.xlsx", findings, lambda path: _write_workbook(table, style, path))
        csv_path = json_path = pdf_path = None
        if csv:
            rows = records(table)  # made once for the CSV, the JSON and the check of their characters
            csv_path = _publish(out_dir / f"{stem}.csv", findings, lambda path: _write_csv(table, rows, path))
            findings.extend(platform_dependent_findings(table, rows))
            if (
                not plan.settings.municipality_code
            ):  # the column that lets a prefecture stack its cities' files
                findings.append(
                    Finding("opendata-no-municipality-code", {"path": str(csv_path)}, sheet="設定")
                )
            json_path = _publish(
                out_dir / f"{stem}.json", findings, lambda path: _write_json(table, rows, path)
            )
        html_path = None
        if html:
            html_path = _publish(out_dir / f"{stem}.html", findings, lambda path: write_html(table, path))
        if pdf:
            try:
                pdf_path = export_pdf(xlsx, out_dir / f"{stem}.pdf")
            except (PdfUnavailable, PdfFailed) as exc:
                findings.extend(exc.findings)
            else:
                _note_versioned(out_dir / f"{stem}.pdf", pdf_path, findings)
        written: list[Path] = []
        if digests is not None:
            try:
                answered = {
                    plan.canonical_department(answer.department) or answer.department for answer in answers
                }
                made, noted = write_digests(table, digests, answered=answered)
            except OSError as exc:
                raise _write_error(digests, exc) from exc
            findings.extend(noted)
            written = [digest.workbook for digest in made]
    finally:
        held.release()
    # An output of an earlier run that this one did not make (the button makes no HTML page, a PDF
    # that failed) is not this table: said, so that nobody publishes it as if it were.
    outputs = {path for path in (xlsx, pdf_path, csv_path, json_path, html_path) if path is not None}
    for suffix in (".pdf", ".csv", ".json", ".html"):
        earlier = out_dir / f"{stem}{suffix}"
        if earlier.is_file() and earlier not in outputs:
            findings.append(Finding("consolidate-stale-output", {"path": str(earlier)}))
    return ConsolidationResult(
        xlsx, pdf_path, csv_path, json_path, table.entry_rows, tuple(findings), html=html_path,
        digests=tuple(written),
    )  # fmt: skip


def consolidate(
    workspace: Workspace, *, pdf: bool = False, csv: bool = False, html: bool = False
) -> ConsolidationResult:
    """Consolidate a workspace: its master, the accepted answers in its ledger, its template, into ``reports/``."""
    plan = workspace.load_plan()
    if unfinished(plan):  # a blank master (just made by init): nothing to send or publish yet
        raise ConfigurationError(unfinished(plan))
    answers = workspace.accepted_answers(plan)
    workspace.key_path.parent.mkdir(parents=True, exist_ok=True)  # .xlplan/, where the lock is kept
    return consolidate_plan(
        plan,
        answers,
        workspace.reports,
        pdf=pdf,
        csv=csv,
        html=html,
        template=workspace_template(workspace),
        # 還元: what became of each department's report goes back to it, every time the table is made.
        digests=workspace.reports / DIGEST_FOLDER / plan.settings.current_year.wareki,
        lock=workspace.key_path.parent / "consolidate.lock",
    )


def _clipped_narratives(table: Table, style: Any) -> list[Finding]:
    """A warning for each narrative too long for its row: Excel's rows stop at 409 points, so the
    printed table and its PDF show only the lines that fit (the CSV and HTML hold all of it)."""
    size = style.font_size("narrative")
    line = size * line_spacing(str(style.formats["narrative"].get("font_name", "")))
    per_line = units_per_line(style.widths["narrative"], size)
    fits = int((MAX_ROW_HEIGHT - ROW_PADDING_PT) // line)
    found = []
    for section in table.sections:
        for block in (item for item in section.items if isinstance(item, ProjectBlock)):
            for row in block.rows:
                text = row.narrative
                # At most two units a character: most narratives fit for certain, without measuring.
                if not text or text.count("\n") + 2 + 2 * len(text) // per_line <= fits:
                    continue
                lines = wrapped_lines(cell_text(text), per_line)
                if lines > fits:
                    params = {"no": block.project.no, "entry": row.entry.name, "shown": fits, "lines": lines}
                    found.append(Finding("consolidate-text-clipped", params))
    return found


def _hashed_values(table: Table, style: Any) -> list[Finding]:
    """A warning for each number too wide for its column: Excel and the PDF show it as ### (a pasted
    33.3333333333333%, keeping every decimal typed) — this year's, the previous years', the 現状値 and
    the 達成率 (printed in the columns of this year's value)."""
    found = []
    # By value: a table of 120,000 rows holds few distinct values (its benchmark, most cities' tables).
    too_wide: dict[tuple[str, Any], str | None] = {}

    def wide(role: str, value: Any) -> str | None:
        key = (role, value)
        if key not in too_wide:
            text = value if isinstance(value, str) else value.display()
            too_wide[key] = None if number_fits(text, style.widths[role], style.font_size(role)) else text
        return too_wide[key]

    for section in table.sections:
        for block in (item for item in section.items if isinstance(item, ProjectBlock)):
            project = block.project
            for number, row in enumerate(block.rows):
                checked: list[tuple[str, Any]] = [
                    ("previous", value) for value in (*row.earlier, row.previous)
                ]
                checked.append(("current", row.current))
                if number == 0:
                    checked.append(("baseline", project.baseline))
                if row.achievement is not None and row.achievement.rate is not None:
                    checked.append(("current", row.achievement.rate_text))
                for role, value in checked:
                    if not isinstance(value, str) and value.number is None:
                        continue
                    text = wide(role, value)
                    if text is not None:
                        found.append(Finding("consolidate-value-too-wide",
                                             {"no": project.no, "entry": row.entry.name, "value": text}))  # fmt: skip
    return found


# -- writing one output safely ------------------------------------------------------------


def _publish(target: Path, findings: list[Finding], write: Callable[[Path], None]) -> Path:
    """Write with ``write`` to a temporary file beside ``target`` (which verifies it), then move it in."""
    temporary = temporary_beside(target)
    try:
        write(temporary)
        placed = replace_into(temporary, target)
    except OutputError:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise _write_error(target, exc) from exc
    _note_versioned(target, placed, findings)
    return placed


def _note_versioned(target: Path, placed: Path, findings: list[Finding]) -> None:
    if placed != target:
        findings.append(Finding("consolidate-target-open", {"path": str(target), "written": str(placed)}))


def _write_error(path: Path, exc: OSError) -> OutputError:
    return OutputError([Finding("consolidate-write-failed", {"path": str(path), **os_params(exc)})])


def _write_workbook(table: Table, style: Any, path: Path) -> None:
    written = write_table(table, style, path)
    try:
        read = read_back_checksum(path, sheet_names(table))
    except Exception as exc:  # any failure of the second reader means the file cannot be trusted
        raise _verify_error(path, f"{type(exc).__name__}: {exc}") from exc
    if read != written:
        raise _verify_error(path, "checksum")
    problems = audit_package(path)
    if problems:
        raise OutputError(
            [Finding("consolidate-audit-failed", {"path": str(path), "parts": "; ".join(problems)})]
        )


def _write_csv(table: Table, rows: Sequence[dict[str, Any]], path: Path) -> None:
    write_csv(table, path, rows)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        read = sum(1 for _ in csv_module.reader(handle))
    if read != table.entry_rows + 1:
        raise _verify_error(path, f"{read - 1} rows read, {table.entry_rows} written")


def _write_json(table: Table, rows: Sequence[dict[str, Any]], path: Path) -> None:
    write_json(table, path, rows)
    document = json.loads(path.read_text(encoding="utf-8"))
    if len(document["rows"]) != table.entry_rows:
        raise _verify_error(path, "row count")


def _verify_error(path: Path, reason: str) -> OutputError:
    return OutputError([Finding("consolidate-verify-failed", {"path": str(path), "reason": reason})])
