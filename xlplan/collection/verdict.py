"""The verdict on one read file: whose return it is, what is wrong with it, what it answers.

:class:`Checker` holds what every verdict needs — the plan, its look-up indexes, the
workspace's key, the compiled schema — built once, before collection forks its
reading workers, so that each worker shares them and decides on its files itself.
"""

from __future__ import annotations

from xlplan.collection.check import CheckResult, check_return
from xlplan.collection.identify import identify
from xlplan.collection.index import plan_index
from xlplan.collection.read import ReadFailed
from xlplan.collection.results import Checked, Outcome
from xlplan.collection.snapshot import Snapshot
from xlplan.findings import has_errors
from xlplan.form import schema
from xlplan.form.manifest import workspace_id
from xlplan.plan.model import Plan


class Checker:
    """Identify and check read files against ``plan`` under the workspace ``key`` (pure: nothing written)."""

    def __init__(self, plan: Plan, key: bytes) -> None:
        self.plan = plan
        self.key = key
        self.workspace_id = workspace_id(key)

    def prepare(self) -> Checker:
        """Build the plan's indexes and compile the schema now; returns the checker."""
        plan_index(self.plan)
        schema.prepare()
        return self

    def __call__(self, snapshot: Snapshot | ReadFailed, file: str) -> Checked:
        """The verdict on one file as reading left it (``file``: the name it arrived under)."""
        if isinstance(snapshot, ReadFailed):
            return Checked("unreadable", None, (), tuple(snapshot.findings))
        plan = self.plan
        identity = identify(plan, snapshot, key=self.key, workspace_id=self.workspace_id, file=file)
        findings = [*snapshot.findings, *identity.findings]
        if identity.department is None:
            return Checked("unidentified", None, (), tuple(findings))
        result: CheckResult = check_return(plan, snapshot, identity, file=file)
        findings.extend(result.findings)
        # Nothing proves whose a file without a verified manifest is: it is never accepted, nor sent
        # back, by itself; the plan office decides (xlplan review).
        outcome: Outcome = (
            "review" if not identity.verified else "invalid" if has_errors(findings) else "accepted"
        )
        issued = identity.manifest.department if identity.manifest is not None else None
        sent_as = issued if issued not in (None, identity.department) else None
        return Checked(
            outcome, identity.department, tuple(result.answers), tuple(findings), identity.moved, sent_as
        )


def check_snapshot(plan: Plan, snapshot: Snapshot | ReadFailed, *, key: bytes, file: str) -> Checked:
    """Identify and check one read file (pure: no ledger, no files written)."""
    return Checker(plan, key)(snapshot, file)
