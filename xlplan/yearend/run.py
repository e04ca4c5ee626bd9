"""``xlplan rollover``: close the fiscal year and open the next one, safely and only once.

1. **Refuse what would lose or skip something** (unless ``force``): returns still waiting in
   ``inbox/``, archived but never checked, or awaiting the office's decision; a year with no
   accepted answer. Never, even with ``force``: closing a year that a rollover opened and in
   which nothing was sent or received (running it twice would skip a year).
2. **Build the next year's plan** (:func:`xlplan.yearend.close.close_year`).
3. **Record the intent, then act**: the ledger row (``writing``, with where the old master is
   kept) is written before the master is touched; the old master is copied to
   ``.xlplan/backup/``; the new one replaces it in one step (an ``.xlsm`` keeps its VBA and
   buttons, :func:`xlplan.buttons.build.rewrite_master`); the row is marked ``done`` and the
   new year's first round opened. A run that finds a ``writing`` row whose master already
   shows the new year only finishes it; one whose master still shows the old year starts over.

The collection lock is held throughout, so no collection runs while the year changes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlplan.buttons.build import refuse_if_open, rewrite_master
from xlplan.collection.intake import waiting_in_inbox
from xlplan.errors import ConfigurationError, OutputError
from xlplan.findings import Finding, Language, findings_json, not_writable
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.model import Plan
from xlplan.result import Reported, say
from xlplan.workspace import ledger
from xlplan.workspace.folder import Workspace
from xlplan.workspace.lock import run_lock
from xlplan.yearend.close import Closing, close_year

BACKUP_FOLDER = "backup"


@dataclass(frozen=True)
class RolloverResult(Reported):
    """What closing the year did."""

    closed: FiscalYear
    opened: FiscalYear
    records: int  # history records added
    silent: tuple[str, ...]  # departments that answered nothing in the closed year
    backup: Path | None
    master: Path
    title: tuple[str, str] | None = None
    resumed: bool = False  # an interrupted rollover was finished, not a new one made
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def lines(self, language: Language = "ja") -> list[str]:
        """What happened, for the terminal and the master's 状況 sheet."""
        if self.resumed:
            lines = [say(language, f"中断していた次年度への切り替えを完了しました: {self.opened.wareki}",
                         f"Finished the interrupted rollover: now {self.opened.western}")]  # fmt: skip
        else:
            lines = [
                say(language, f"{self.closed.wareki}を締めて{self.opened.wareki}に切り替えました。",
                    f"Closed fiscal year {self.closed.western} and opened {self.opened.western}."),
                say(language, f"履歴に {self.records} 件を追加しました（{self.closed.wareki}の実績）。",
                    f"{self.records} history records added ({self.closed.western})."),
            ]  # fmt: skip
            if self.silent:
                names = "、".join(self.silent)
                lines.append(say(language, f"回答のなかった課（履歴に「未回答」と記録）: {names}",
                                 f"No answer from (recorded as 未回答): {names}"))  # fmt: skip
            if self.title:
                lines.append(say(language, f"表題: {self.title[0]} → {self.title[1]}",
                                 f"Title: {self.title[0]} -> {self.title[1]}"))  # fmt: skip
        lines.append(say(language, f"計画マスタ: {self.master}", f"Master: {self.master}"))
        if self.backup is not None:
            lines.append(
                say(language, f"切り替え前の計画マスタ: {self.backup}", f"Master before: {self.backup}")
            )
        lines.append(say(language, "締切・照会元・メールの文面を確認してから、新しい年度の配布をしてください。",
                         "Check the deadline, office and mail texts before distributing for the new year."))  # fmt: skip
        return lines

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """JSON data for ``xlplan rollover --json``."""
        return {
            "ok": self.ok,
            "closed": {"wareki": self.closed.wareki, "western": self.closed.western},
            "opened": {"wareki": self.opened.wareki, "western": self.opened.western},
            "records": self.records,
            "silent": list(self.silent),
            "master": str(self.master),
            "backup": str(self.backup) if self.backup else None,
            "title": list(self.title) if self.title else None,
            "resumed": self.resumed,
            "findings": findings_json(self.findings, language),
            "lines": self.lines(language),
        }


def rollover(
    workspace: Workspace,
    *,
    force: bool = False,
    now: dt.datetime | None = None,
    write: Callable[[Plan], Path] | None = None,
) -> RolloverResult:
    """Close the master's current fiscal year and open the next (``xlplan rollover``).

    Args:
        workspace: the workspace.
        force: close the year although returns wait to be checked or none was accepted.
        now: the time stamp of the backup's name (default: now).
        write: how the next year's plan replaces the master (default: the file is replaced in one
            step, :func:`xlplan.buttons.build.rewrite_master`). The 次年度へ button passes one that
            writes into the workbook open in Excel, which Windows does not let anyone replace.

    Raises:
        ConfigurationError: what stops the rollover (named, in Japanese); nothing is written.
        BusyError: a collection is running.
        OutputError: the master or its backup cannot be written (the master is left as it was).
    """
    plan = workspace.load_plan()
    if write is None:  # the file is replaced: not under someone who has it open in Excel
        refuse_if_open(workspace.master_path)
    with run_lock(workspace), contextlib.closing(workspace.ledger()) as connection:
        return _rollover(workspace, plan, connection, force=force, now=now or dt.datetime.now(),
                         write=write or (lambda new: rewrite_master(workspace, new)))  # fmt: skip


def _rollover(
    workspace: Workspace,
    plan: Plan,
    connection: Any,
    *,
    force: bool,
    now: dt.datetime,
    write: Callable[[Plan], Path],
) -> RolloverResult:
    year = plan.settings.current_year
    pending = ledger.pending_rollover(connection)
    if (
        pending is not None
        and int(pending["to_year"]) == year.western
        and not ledger.rolled_into_since(connection, year.western, int(pending["id"]))
        and _closed_into_history(plan, int(pending["from_year"]), int(pending["records"]))
    ):
        # The master was replaced and the run stopped before saying so: finish, do not close again.
        ledger.finish_rollover(connection, int(pending["id"]))
        ledger.current_round(connection, plan.settings)
        backup = workspace.root / pending["backup_path"] if pending["backup_path"] else None
        return RolloverResult(FiscalYear(int(pending["from_year"])), year, int(pending["records"]), (),
                              backup, workspace.master_path, resumed=True)  # fmt: skip
    _refusals(workspace, plan, connection, force=force)
    # A rollover that stopped before its master was replaced is closed anew: the old row must not be
    # taken, a year later, for one whose master is in place.
    ledger.abandon_rollovers(connection)
    answers = ledger.accepted_answers(connection, plan)
    closing: Closing = close_year(plan, answers)
    backup = _backup(workspace, year, now)
    rollover_id = ledger.begin_rollover(
        connection,
        year.western,
        year.next().western,
        str(backup.relative_to(workspace.root)),
        len(closing.added),
        force,
    )
    master = write(closing.plan)
    ledger.finish_rollover(connection, rollover_id)
    ledger.current_round(connection, closing.plan.settings)
    ledger.sync_departments(connection, [(d.name, d.email, d.contact) for d in closing.plan.departments])
    # The published files are named by the title: one that does not name the year would give the next
    # year's table last year's name, and consolidating it would replace last year's published files.
    unchanged = () if closing.title else (Finding("rollover-title-unchanged", {"title": plan.settings.title},
                                                  sheet="設定"),)  # fmt: skip
    return RolloverResult(
        year,
        year.next(),
        len(closing.added),
        closing.silent,
        backup,
        master,
        closing.title,
        findings=unchanged,
    )


def _closed_into_history(plan: Plan, from_year: int, records: int) -> bool:
    """Whether the master holds the closed year's records (it is the one the stopped rollover wrote)."""
    return records == 0 or any(r.fiscal_year.western == from_year for r in plan.recorded_history)


def _refusals(workspace: Workspace, plan: Plan, connection: Any, *, force: bool) -> None:
    year = plan.settings.current_year
    opened = ledger.rolled_into(connection, year.western)
    if opened is not None and ledger.year_activity(connection, year.western) == 0:
        raise ConfigurationError([Finding("rollover-year-untouched", {"year": year.wareki})])
    if force:
        return
    findings: list[Finding] = []
    waiting = waiting_in_inbox(workspace, connection)
    unchecked = [str(row["original_name"]) for row in ledger.unchecked_receipts(connection)]
    review = [str(row["original_name"]) for row in ledger.awaiting_review(connection)]
    if waiting or unchecked:
        files = [*waiting, *unchecked]
        findings.append(Finding("rollover-unchecked", {"count": len(files), "files": "、".join(files[:10])}))
    if review:
        findings.append(Finding("rollover-review", {"count": len(review), "files": "、".join(review[:10])}))
    # A 差し戻し票 a stopped collection did not make yet: the next year's master could no longer make it.
    owed = [str(row["original_name"]) for row in ledger.owed_feedback(connection, None)]
    if owed:
        findings.append(
            Finding("rollover-feedback-owed", {"count": len(owed), "files": "、".join(owed[:10])})
        )
    if not findings and not ledger.accepted_answers(connection, plan):
        findings.append(Finding("rollover-no-answers", {"year": year.wareki}))
    if findings:
        raise ConfigurationError(findings)


def _backup(workspace: Workspace, year: FiscalYear, now: dt.datetime) -> Path:
    """Copy the master as it is to ``.xlplan/backup/`` (its name says which year it closed, and when)."""
    source = workspace.master_path
    folder = workspace.key_path.parent / BACKUP_FOLDER
    target = folder / f"{source.stem}_{year.wareki}締め前_{now:%Y%m%d-%H%M%S}{source.suffix}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    except OSError as exc:
        raise OutputError([not_writable(target, exc)]) from exc
    return target
