"""差し戻し mails the mail server refused, sent again by the next collection that sends.

A 差し戻し票 whose mail failed (a refused address, a server that was down) is still owed to its
department: its draft is kept, and the next ``collect --send`` (or the 回収 button of a workbook
that sends) sends that draft again — addressed as the master says then, so an address staff
corrected is used — unless the department has sent a return since. A send whose outcome is
unknown is never sent again by itself (it may have arrived): the office decides.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection
from pathlib import Path

from xlplan.findings import Finding
from xlplan.mail import load_draft, recipient
from xlplan.plan.model import Plan
from xlplan.smtp import send_messages, smtp_password, smtp_settings
from xlplan.workspace import ledger


def resend_failed_feedback(
    plan: Plan,
    connection: sqlite3.Connection,
    round_id: int,
    *,
    skip: Collection[str] = (),
    unreachable: Callable[[str | None], None] | None = None,
) -> list[Finding]:
    """Send again the round's failed 差し戻し drafts (not those of the departments in ``skip``, which
    get a new 差し戻し in this run); returns what became of each. ``unreachable`` is told the reason
    when the mail server could not be reached, so that the run does not try it again for each new one.

    Raises:
        ConfigurationError: the SMTP settings are missing or wrong (only when there is one to send).
    """
    rows = [row for row in ledger.failed_feedback(connection, round_id) if row["department"] not in skip]
    registry = {department.name: department for department in plan.departments}
    ready = [row for row in rows if registry.get(row["department"]) and registry[row["department"]].email
             and Path(row["mail_path"]).is_file()]  # fmt: skip
    if not ready:
        return []
    smtp = smtp_settings(plan)
    messages = [
        load_draft(Path(row["mail_path"]), to=recipient(registry[row["department"]])) for row in ready
    ]
    outcomes = send_messages(
        smtp,
        messages,
        smtp_password(smtp),
        before=lambda index: ledger.mark_sending(connection, int(ready[index]["id"])),
        after=lambda index, outcome: ledger.mark_dispatch(
            connection, int(ready[index]["id"]), outcome.sent_at, outcome.error, uncertain=outcome.uncertain
        ),
    )
    down = next((outcome for outcome in outcomes if outcome.unreachable), None)
    if down is not None and unreachable is not None:
        unreachable(down.error)
    found = []
    for row, outcome in zip(ready, outcomes, strict=True):
        department = registry[row["department"]]
        problem = outcome.problem(department.name, "feedback", department.email)
        if problem is not None:
            found.append(problem)
        else:
            found.append(Finding("feedback-resent", {"department": department.name, "to": department.email,
                                                     "path": str(row["file_path"] or "")}))  # fmt: skip
    return found
