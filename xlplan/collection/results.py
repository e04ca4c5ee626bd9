"""What collection reports: the outcome of each file, of a run, and of ``validate``."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from xlplan.findings import Finding, Language, findings_json, one_line
from xlplan.followup.feedback import FeedbackResult
from xlplan.plan.model import Answer
from xlplan.plan.values import Mark, Value
from xlplan.result import Reported, say

Outcome = Literal["accepted", "invalid", "review", "unreadable", "unidentified", "duplicate", "superseded"]
OUTCOMES: tuple[Outcome, ...] = (
    "accepted", "invalid", "review", "unreadable", "unidentified", "duplicate", "superseded",
)  # fmt: skip

_OUTCOME_JA = {
    "accepted": "受理",
    "invalid": "要修正",
    "review": "要確認（提出元の証明なし）",
    "unreadable": "読み取り不可",
    "unidentified": "提出元不明",
    "duplicate": "重複（受信済み）",
    "superseded": "不採用（後の回答を確認済み）",
}


@dataclass(frozen=True)
class FileOutcome:
    """What became of one received file."""

    receipt_id: int
    name: str  # the name it arrived under
    archived: Path
    sha256: str
    outcome: Outcome
    department: str | None = None
    answers: int = 0
    findings: tuple[Finding, ...] = ()

    @property
    def errors(self) -> int:
        """Findings of severity error."""
        return sum(1 for finding in self.findings if finding.is_error)

    @property
    def warnings(self) -> int:
        """Findings of severity warning."""
        return len(self.findings) - self.errors

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """JSON data for ``xlplan collect --json``."""
        return {
            "receipt": self.receipt_id,
            "file": self.name,
            "archived": str(self.archived),
            "sha256": self.sha256,
            "outcome": self.outcome,
            "department": self.department,
            "answers": self.answers,
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": findings_json(self.findings, language),
        }


@dataclass(frozen=True)
class TakenMail:
    """One mail taken from the office's mailbox into ``inbox/``.

    ``file`` is its place in ``inbox/`` (forward slashes), the name the collection's lines and
    findings give it; ``resumed`` is True when an earlier, interrupted run had recorded it.
    """

    uid: int
    file: str
    size: int
    sender: str | None = None
    subject: str | None = None
    resumed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON data for the ``imap`` part of ``xlplan collect --imap --json``."""
        return {"uid": self.uid, "file": self.file, "size": self.size, "sender": self.sender,
                "subject": self.subject, "resumed": self.resumed}  # fmt: skip


@dataclass(frozen=True)
class FetchResult(Reported):
    """What one look into the office's mailbox (:func:`xlplan.collection.imap.fetch`) took.

    ``mails`` are the mails saved into ``inbox/`` and marked on the server in this run;
    ``findings`` why the mailbox could not be read, or a mail was left (too large, time up).
    """

    server: str
    folder: str
    mails: tuple[TakenMail, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def taken(self) -> int:
        """How many mails were taken."""
        return len(self.mails)

    def lines(self, language: Language = "ja") -> list[str]:
        """A line with the count, then one per mail."""
        lines = [say(language, f"メール（{self.server}、{self.folder}）: {self.taken} 通を受信",
                     f"Mail ({self.server}, {self.folder}): {self.taken} taken")]  # fmt: skip
        for mail in self.mails:
            subject = mail.subject or say(language, "（件名なし）", "(no subject)")
            lines.append(f"  {subject} — {mail.sender or '?'} → inbox/{mail.file}")
        return lines

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """The JSON document: ``server``, ``folder``, ``taken`` (a count), ``mails``, ``findings``."""
        return {"server": self.server, "folder": self.folder, "taken": self.taken,
                "mails": [mail.to_dict() for mail in self.mails],
                "findings": findings_json(self.findings, language)}  # fmt: skip


@dataclass(frozen=True)
class CollectResult(Reported):
    """The outcome of one :func:`collect` run.

    ``run_findings`` are those tied to no single file (intake, mail); ``findings`` is every
    finding of the run: the mailbox's, the files', the run's own and the feedback's.
    ``imap`` is what was taken from the office's mailbox first (``collect(imap=True)``), else None.
    """

    files: tuple[FileOutcome, ...]
    feedback: tuple[FeedbackResult, ...] = ()
    run_findings: tuple[Finding, ...] = field(default_factory=tuple)
    imap: FetchResult | None = None

    @property
    def findings(self) -> list[Finding]:
        """Every finding of the run: the mailbox's, the files' and the run's own."""
        return [*self._imap_findings, *(f for item in self.files for f in item.findings), *self.run_findings,
                *(f for item in self.feedback for f in item.findings)]  # fmt: skip

    @property
    def _imap_findings(self) -> tuple[Finding, ...]:
        return self.imap.findings if self.imap is not None else ()

    def count(self, outcome: Outcome) -> int:
        """How many files ended with ``outcome``."""
        return sum(1 for item in self.files if item.outcome == outcome)

    def lines(self, language: Language = "ja") -> list[str]:
        """Lines for the terminal and the 状況 sheet: the counts, then one line per file and per 差し戻し票."""
        review = self.count("review")
        superseded = self.count("superseded")
        lines = self.imap.lines(language) if self.imap is not None else []
        lines += [
            say(
                language,
                f"受信 {len(self.files)} 件: 受理 {self.count('accepted')}・要修正 {self.count('invalid')}・"
                + (f"要確認 {review}・" if review else "")
                + f"読み取り不可 {self.count('unreadable')}・提出元不明 {self.count('unidentified')}・"
                f"重複 {self.count('duplicate')}" + (f"・不採用 {superseded}" if superseded else ""),
                f"Received {len(self.files)}: accepted {self.count('accepted')}, invalid {self.count('invalid')}, "
                + (f"awaiting review {review}, " if review else "")
                + f"unreadable {self.count('unreadable')}, unidentified {self.count('unidentified')}, "
                f"duplicate {self.count('duplicate')}" + (f", superseded {superseded}" if superseded else ""),
            )
        ]
        if review:
            lines.append(
                say(
                    language,
                    "  提出元を証明できない回答があります。内容を確認して受理するか却下してください（「確認待ち」ボタン、"
                    "コマンドでは xlplan review）",
                    "  Some returns cannot be proven to come from their department: review them (the 確認待ち button, "
                    "or xlplan review)",
                )
            )
        for item in self.files:
            who = item.department or "—"
            lines.append(
                say(
                    language,
                    f"  {_OUTCOME_JA[item.outcome]}: {one_line(item.name)}（{who}、エラー {item.errors}・警告 {item.warnings}）",
                    f"  {item.outcome}: {one_line(item.name)} ({who}, {item.errors} errors, {item.warnings} warnings)",
                )
            )
        lines += [f"  {line}" for result in self.feedback for line in result.lines(language)]
        return lines

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """One JSON document for ``xlplan collect --json`` (``findings``: those tied to no file).

        ``imap`` is the mailbox's part (``server``, ``folder``, ``taken``, ``mails``) with ``--imap``,
        else null; its findings are among ``findings``.
        """
        imap = None
        if self.imap is not None:
            imap = {key: value for key, value in self.imap.to_dict(language).items() if key != "findings"}
        return {
            "files": [item.to_dict(language) for item in self.files],
            "counts": {key: self.count(key) for key in OUTCOMES},
            "feedback": [result.to_dict(language) for result in self.feedback],
            "findings": findings_json([*self._imap_findings, *self.run_findings], language),
            "imap": imap,
        }


@dataclass(frozen=True)
class Checked:
    """The verdict on one file read, identified and checked.

    ``department`` is proven for ``accepted`` and ``invalid`` (a verified manifest); for
    ``review`` it is only what the rows suggest, for the plan office to decide on.
    """

    outcome: Outcome
    department: str | None
    answers: tuple[Answer, ...]
    findings: tuple[Finding, ...]
    # Sent before a reorganisation (see Identity.moved): it answers only the department's share of then.
    moved: bool = False
    sent_as: str | None = None  # the name the workbook was sent under, where the department has another now

    @property
    def verified(self) -> bool:
        """True when the department is proven (a 差し戻し票 may go to it)."""
        return self.department is not None and self.outcome in ("accepted", "invalid")

    def __reduce__(self) -> tuple[Any, ...]:
        # A verdict crosses from a reading worker by pickle. Its answers as plain tuples pickle in a
        # sixth of the time of the records (a Decimal and an Enum each), on both sides of the pipe.
        return (
            _unpack_checked,
            (self.outcome, self.department, _pack(self.answers), self.findings, self.moved, self.sent_as),
        )


_Packed = tuple[int, str, str, str | None, str | None, str | None, str | None]


def _pack(answers: tuple[Answer, ...]) -> tuple[_Packed, ...]:
    return tuple(
        (a.project_no, a.entry, a.department, None if a.value.number is None else str(a.value.number),
         a.value.unit, None if a.value.mark is None else a.value.mark.value, a.narrative)
        for a in answers
    )  # fmt: skip


def _unpack_checked(
    outcome: Outcome, department: str | None, answers: tuple[_Packed, ...], findings: tuple[Finding, ...],
    moved: bool = False,
    sent_as: str | None = None,
) -> Checked:  # fmt: skip
    return Checked(
        outcome,
        department,
        tuple(
            Answer(no, entry, member, Value(None if number is None else Decimal(number), unit,
                                            None if mark is None else Mark(mark)), narrative)
            for no, entry, member, number, unit, mark, narrative in answers
        ),
        findings,
        moved,
        sent_as,
    )  # fmt: skip


@dataclass(frozen=True)
class Validation:
    """The check of one file by ``xlplan validate``."""

    path: Path
    checked: Checked

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """JSON data for ``xlplan validate --json``."""
        return {
            "file": str(self.path),
            "outcome": "valid" if self.checked.outcome == "accepted" else self.checked.outcome,
            "department": self.checked.department,
            "answers": len(self.checked.answers),
            "findings": findings_json(self.checked.findings, language),
        }


@dataclass(frozen=True)
class ValidationResult(Reported):
    """What :func:`validate` found, file by file, in the order the files were given."""

    files: tuple[Validation, ...]

    @property
    def findings(self) -> list[Finding]:
        """Every finding, file by file."""
        return [finding for item in self.files for finding in item.checked.findings]

    def lines(self, language: Language = "ja") -> list[str]:
        """One line per file: 問題なし, 要修正, or what else collection would make of it (読み取り不可 …)."""
        return [
            f"{item.path}: " + (say(language, "問題なし", "valid") if item.checked.outcome == "accepted"
                                else say(language, _OUTCOME_JA[item.checked.outcome], item.checked.outcome))
            for item in self.files
        ]  # fmt: skip

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """The JSON document of ``xlplan validate --json``."""
        return {"files": [item.to_dict(language) for item in self.files]}
