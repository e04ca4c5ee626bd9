"""The functions behind the master workbook's buttons, called through xlwings ``RunPython``.

Each button's VBA runs ``import xlplan.excel; xlplan.excel.<function>()``. The function takes the
workbook that called it (``xw.Book.caller()``), saves it, runs the same library function as the
command line on the workspace around it (the workbook's folder), writes a short result to the
状況 sheet of the open workbook and shows a Japanese message box. Whatever goes wrong reaches the
user as a Japanese message box, never a Python traceback: findings' messages for an
:class:`~xlplan.errors.XlplanError`; otherwise a short message and the path of
``.xlplan/excel.log``, where the traceback is written.

This is the only module that imports xlwings, and only inside :func:`_caller`, so that
``import xlplan.excel`` works on a server without xlwings. Everything else goes through
:func:`run` with any object that looks like an xlwings ``Book`` (see :class:`Book`), which is how
the tests drive the buttons without Excel.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from xlplan.buttons.report import STATUS_SHEET, alert_text, outcome_text, quoted, status_lines, status_rows
from xlplan.catalogue import ROLLOVER_FORCEABLE
from xlplan.errors import ConfigurationError, OutputError, XlplanError
from xlplan.findings import Finding, Language
from xlplan.result import Reported, Result
from xlplan.workspace.folder import Workspace

if TYPE_CHECKING:
    from xlplan.followup.status import StatusReport
    from xlplan.plan.model import Plan

__all__ = [
    "ACTIONS",
    "LOG_FILE",
    "STATUS_SHEET",
    "Book",
    "collect",
    "consolidate",
    "distribute",
    "remind",
    "review",
    "rollover",
    "run",
    "status",
]

LOG_FILE = Path(".xlplan") / "excel.log"
"""Where unexpected errors' tracebacks go, relative to the workspace."""


class Book(Protocol):
    """What :func:`run` uses of an xlwings ``Book``: ``fullname``, ``save()``, ``sheets``, ``app.alert``."""

    @property
    def fullname(self) -> str:
        """The workbook's full path."""

    @property
    def sheets(self) -> Any:
        """Iterable of sheets with ``.name``, ``.range("A1").value = rows``, ``.used_range.value`` and
        ``.clear_contents()``; ``sheets["名前"]``; ``sheets.add(name, after=sheet)``."""

    @property
    def app(self) -> Any:
        """Has ``alert(prompt, title=..., mode="info" | "critical")``."""

    def save(self) -> None:
        """Save the workbook where it is."""


def _distribute(workspace: Workspace, book: Book) -> Result:
    import xlplan

    return xlplan.distribute(workspace)


def _collect(workspace: Workspace, book: Book) -> Result:
    import xlplan

    return xlplan.collect(workspace)


def _consolidate(workspace: Workspace, book: Book) -> Result:
    import xlplan

    # The office wants all three outputs; without LibreOffice or Excel the PDF is a warning only.
    return xlplan.consolidate(workspace, pdf=True, csv=True)


def _remind(workspace: Workspace, book: Book) -> Result:
    import xlplan

    return xlplan.remind(workspace)


@dataclass(frozen=True)
class _StatusButton(Reported):
    """回答状況 as the button shows it: one line per department, and where the workbook was saved.

    The terminal's aligned table does not survive a message box's proportional font.
    """

    report: StatusReport
    workbook: Path

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.report.findings

    def lines(self, language: Language = "ja") -> list[str]:
        return [*status_lines(self.report), f"回答状況を保存しました: {self.workbook}"]

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        return {**self.report.to_dict(language), "workbook": str(self.workbook)}


def _status(workspace: Workspace, book: Book) -> Result:
    import xlplan
    from xlplan.followup import save_status

    report = xlplan.status(workspace)
    return _StatusButton(report, save_status(workspace, report))


REVIEW_SHEET = "確認待ち"
"""The sheet where the office marks each return waiting for review as 受理 or 却下."""
_REVIEW_HEADER = [
    "受付番号",
    "ファイル",
    "内容から見た課",
    "差出人",
    "エラー",
    "警告",
    "判定（受理／却下）",
    "受理する課",
    "理由",
]
_REVIEW_FIRST = 4  # rows above the data: the title, how to use it, a blank line, the header


def _review(workspace: Workspace, book: Book) -> Result:
    """確認待ち: apply the 受理 / 却下 marked on the 確認待ち sheet, then list what still waits there."""
    from xlplan.errors import BusyError, ConfigurationError
    from xlplan.followup.review import decide, review

    findings: list[Finding] = []
    decided: list[str] = []
    # What the office typed (判定, 受理する課, 理由) for each receipt not decided by this click: written
    # back beside its row, so that a refused mark, or one left when a collection held the workspace,
    # is neither lost nor typed again.
    typed: dict[int, list[Any]] = {}
    names = [sheet.name for sheet in book.sheets]
    if REVIEW_SHEET in names:
        rows = book.sheets[REVIEW_SHEET].used_range.value or []
        busy = False  # a collection holds the workspace: the marks left wait for the next click
        for row in rows[_REVIEW_FIRST:]:
            cells = list(row) + [None] * (len(_REVIEW_HEADER) - len(row))
            if busy:
                with contextlib.suppress(TypeError, ValueError):
                    typed.setdefault(int(float(cells[0])), cells[6:9])
                continue
            mark = str(cells[6] or "").strip()
            if not mark or cells[0] in (None, ""):
                continue
            try:
                receipt = int(float(cells[0]))
                typed[receipt] = cells[6:9]
                decision = {"受理": "accept", "却下": "reject"}[mark]
            except (ValueError, KeyError):
                findings.append(
                    Finding("review-bad-mark", {"value": mark, "receipt": str(cells[0])}, sheet=REVIEW_SHEET)
                )
                continue
            try:
                decide(workspace, receipt, decision, department=str(cells[7]).strip() if cells[7] else None,  # type: ignore[arg-type]
                       note=str(cells[8]) if cells[8] else None)  # fmt: skip
                decided.append(f"受付番号 {receipt}: {mark}")
                del typed[receipt]
            except ConfigurationError as exc:
                findings.extend(exc.findings)
            except BusyError as exc:  # waited for a collection all along: this mark stays typed too
                findings.extend(exc.findings)
                busy = True
    pending = review(workspace)
    table: list[list[Any]] = [["提出元を証明できない回答（確認待ち）"],
             ["内容と差出人を確かめ、「判定」に 受理 か 却下 を入力して、もう一度「確認待ち」ボタンを押してください。"
              "受理する課を空欄にすると、内容から見た課として受理します。"],
             [], _REVIEW_HEADER]  # fmt: skip
    table += [
        [
            item.receipt,
            item.file,
            item.department or "",
            item.sender or "",
            item.errors,
            item.warnings,
            *[value if value is not None else "" for value in typed.get(item.receipt, ["", "", ""])],
        ]
        for item in pending.pending
    ]
    width = len(_REVIEW_HEADER)
    table = [[quoted(value) for value in row] + [""] * (width - len(row)) for row in table]
    if REVIEW_SHEET in names:
        sheet = book.sheets[REVIEW_SHEET]
        sheet.clear_contents()
    else:
        sheet = book.sheets.add(REVIEW_SHEET, after=book.sheets[0])
    sheet.range("A1").value = table
    return _Lines([*decided, *pending.lines("ja")], tuple([*findings, *pending.findings]))


@dataclass(frozen=True)
class _Lines(Reported):
    """A button's lines and findings."""

    text: list[str]
    findings: tuple[Finding, ...] = ()

    def lines(self, language: Language = "ja") -> list[str]:
        return list(self.text)

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        return {"lines": self.text, "findings": [f.to_dict(language) for f in self.findings]}


@dataclass(frozen=True)
class _Cancelled(Reported):
    """The 次年度へ button, answered with キャンセル."""

    findings: tuple[Finding, ...] = ()

    def lines(self, language: Language = "ja") -> list[str]:
        return ["次年度への切り替えを中止しました。何も変更していません。"]

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        return {"lines": self.lines(language), "findings": []}


def _as_text(rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """Rows for a range of the open workbook, each text cell kept text.

    Excel reads text given to a cell as if it were typed: "(1)" would become -1 and "1.6%" 0.016.
    A leading apostrophe keeps it text, as when typed (it is not part of the value).
    """
    return [[f"'{value}" if isinstance(value, str) else value for value in row] for row in rows]


def _rollover(workspace: Workspace, book: Book) -> Result:
    """次年度へ: close the year; the new master is written into this open workbook, which Excel then saves."""
    import xlplan
    from xlplan.buttons.build import OPS_SHEET, explanation_lines
    from xlplan.workspace.master import master_tables, read_master
    from xlplan.workspace.master.kept import MOVED_SHEET, moved_rows, office_columns_of, with_office_columns

    plan = workspace.load_plan()
    year = plan.settings.current_year
    answer = book.app.alert(
        f"{year.wareki}を締めて{year.next().wareki}に切り替えます。受理した回答を履歴に入れ、年度を1年進めます。"
        "切り替え前の計画マスタは .xlplan/backup に保存します。よろしいですか？",
        title="xlplan 次年度へ",
        buttons="ok_cancel",
        mode="info",
    )
    if answer == "cancel":
        return _Cancelled()

    def write(new: Plan) -> Path:
        # Windows does not let a workbook open in Excel be replaced: the sheets are rewritten in place,
        # with the columns the office added to them (所管部, 内線 …) back on the right of each row.
        present = {sheet.name for sheet in book.sheets}
        before = {name: book.sheets[name].used_range.options(ndim=2).value
                  for name in ("計画", "担当課", "履歴") if name in present}  # fmt: skip
        kept = office_columns_of(before, new)
        moved: list[list[Any]] = []
        for name, rows in master_tables(new).items():
            rows, left = with_office_columns(name, rows, kept, new)
            moved += left
            sheet = book.sheets[name]
            sheet.clear_contents()
            sheet.range("A1").value = _as_text(rows)
        if moved:  # the office's cells no row takes now: on a sheet of their own, not lost
            if MOVED_SHEET in present:
                target = book.sheets[MOVED_SHEET]
                existing = target.used_range.options(ndim=2).value or []
            else:
                target, existing = book.sheets.add(MOVED_SHEET, after=book.sheets[-1]), []
            target.range("A1").value = _as_text(moved_rows(existing, moved))
        if OPS_SHEET in [sheet.name for sheet in book.sheets]:  # its text names the year: the new one's
            book.sheets[OPS_SHEET].range("A1").value = _as_text([line] for line in explanation_lines(new))
        book.save()
        path = Path(book.fullname)
        saved = read_master(path)  # what Excel saved must be the plan written, or the office is told
        if (saved.nodes, saved.projects, saved.settings.current_year) != (
            new.nodes,
            new.projects,
            new.settings.current_year,
        ):
            raise OutputError([Finding("rollover-master-altered", {"path": str(path)})])
        return path

    try:
        return xlplan.rollover(workspace, write=write)
    except ConfigurationError as refused:
        # What --force overrides on the command line, the office decides here with a second question.
        if not refused.findings or any(
            finding.code not in ROLLOVER_FORCEABLE for finding in refused.findings
        ):
            raise
        reasons = "\n".join(f"・{finding.message()}" for finding in refused.findings)
        again = book.app.alert(
            f"{reasons}\n\nそれでも{year.wareki}を締めて{year.next().wareki}に切り替えますか？"
            f"（検証していない回答・確認待ちの回答は{year.wareki}の実績に入りません）",
            title="xlplan 次年度へ",
            buttons="ok_cancel",
            mode="critical",
        )
        if again == "cancel":
            return _Cancelled()
        return xlplan.rollover(workspace, force=True, write=write)


ACTIONS: dict[str, tuple[str, Callable[[Workspace, Book], Result]]] = {
    "distribute": ("配布", _distribute),
    "collect": ("回収・検証", _collect),
    "consolidate": ("集約", _consolidate),
    "remind": ("督促", _remind),
    "status": ("回答状況", _status),
    "review": ("確認待ち", _review),
    "rollover": ("次年度へ", _rollover),
}
"""Button function name -> (Japanese label, what it runs). Keys match :data:`xlplan.buttons.build.BUTTONS`."""


def distribute() -> None:
    """配布: department workbooks and mail drafts (``xlplan distribute``)."""
    run("distribute", _caller())


def collect() -> None:
    """回収・検証: take in, archive and check the inbox (``xlplan collect``)."""
    run("collect", _caller())


def consolidate() -> None:
    """集約: the consolidated table with PDF and CSV (``xlplan consolidate --pdf --csv``)."""
    run("consolidate", _caller())


def remind() -> None:
    """督促: reminder drafts for overdue departments (``xlplan remind``)."""
    run("remind", _caller())


def review() -> None:
    """確認待ち: the office's 受理 / 却下 of returns without proof of their department (``xlplan review``)."""
    run("review", _caller())


def status() -> None:
    """回答状況: each department's state, also saved as ``reports/回答状況.xlsx`` (``xlplan status``)."""
    run("status", _caller())


def rollover() -> None:
    """次年度へ: close the fiscal year and open the next (``xlplan rollover``), after a confirmation."""
    run("rollover", _caller())


def _caller() -> Book:
    import xlwings as xw  # only here: a server never needs xlwings

    book: Book = xw.Book.caller()
    return book


def run(action: str, book: Book) -> None:
    """Run button ``action`` for the open workbook ``book``; report in 状況 and a message box. Never raises."""
    label, function = ACTIONS[action]
    started, clock = dt.datetime.now(), time.monotonic()
    root = Path(book.fullname).parent
    lines: list[str] = []
    findings: list[Finding] = []
    failed = saved = False
    try:
        # Saved first: the library reads the master from disk, so the staff's edits must be there.
        book.save()
        saved = True
        result = function(Workspace(root), book)
        lines, findings = result.lines("ja"), list(result.findings)
    except XlplanError as exc:
        failed, findings = True, list(exc.findings)
    except Exception as exc:  # the button must never show a traceback; the log keeps it
        failed = True
        first = (
            f"予期しないエラーが起きました（{type(exc).__name__}）。"
            if saved
            else "このブックを保存できませんでした。読み取り専用で開いていないか、ほかの人が開いていないかを確かめてください。"
        )
        lines = [first, f"詳細の記録: {_log(root, label)}"]
    seconds = time.monotonic() - clock
    outcome = outcome_text(label, failed, findings)
    rows = status_rows(label, outcome, started, seconds, str(root), lines, findings)
    try:
        _write_status(book, rows)
        book.save()  # keeps the result in the file, like a log the next person can read
    except Exception:
        lines.append(f"状況シートに書けませんでした（記録: {_log(root, label)}）")
    book.app.alert(
        alert_text(outcome, seconds, lines, findings),
        title=f"xlplan {label}",
        mode="critical" if failed else "info",
    )


def _write_status(book: Book, rows: list[list[Any]]) -> None:
    """Replace the 状況 sheet's content with ``rows``; the sheet is added after the first if missing."""
    names = [sheet.name for sheet in book.sheets]
    if STATUS_SHEET in names:
        sheet = book.sheets[STATUS_SHEET]
        sheet.clear_contents()
    else:
        sheet = book.sheets.add(STATUS_SHEET, after=book.sheets[0])
    sheet.range("A1").value = rows


def _log(root: Path, label: str) -> Path:
    """Append the current exception's traceback to the workspace's log; returns the log's path."""
    path = root / LOG_FILE
    entry = f"--- {dt.datetime.now():%Y-%m-%d %H:%M:%S} {label}\n{traceback.format_exc()}\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(entry)
    except OSError:
        # The workspace itself may be the problem (read-only share): fall back to the temp folder.
        import tempfile

        path = Path(tempfile.gettempdir()) / "xlplan-excel.log"
        try:
            with path.open("a", encoding="utf-8") as handle:
                handle.write(entry)
        except OSError:
            pass  # nowhere to write: the message box still names where the log would be
    return path
