"""A workspace is a folder: the master workbook, the ledger, and the folders of a cycle.

====================  ==========================================================
``master.xlsx``       the plan (``master.xlsm`` once the buttons are built)
``ledger.sqlite``     what was sent, received, checked and accepted
``outbox/``           department workbooks and mail drafts, per round
``inbox/``            the drop folder for returned files
``archive/``          every returned file, untouched, by SHA-256
``feedback/``         差し戻し票 for departments whose return has problems
``reports/``          the consolidated table, status, CSV
``.xlplan/``          the signing key of the manifests (never leaves the workspace)
====================  ==========================================================
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from xlplan.errors import ConfigurationError
from xlplan.findings import Finding, not_writable
from xlplan.plan.model import Answer, Plan, Settings
from xlplan.workspace.ledger import accepted_answers, current_round, open_ledger, sync_departments
from xlplan.workspace.master import read_master, write_master

MASTER_NAMES = ("master.xlsm", "master.xlsx")
FOLDERS = ("outbox", "inbox", "archive", "feedback", "reports")


@dataclass(frozen=True)
class Workspace:
    """Paths of one workspace. Creating the object touches nothing on disk; ``root`` may be given as text."""

    root: Path

    def __post_init__(self) -> None:
        if not isinstance(self.root, Path):
            object.__setattr__(self, "root", Path(self.root))

    @property
    def name(self) -> str:
        """The folder's name, as the server and the buttons address the workspace: never empty, also
        for ``-w .`` (the current folder) or ``-w ..``."""
        return Path(os.path.abspath(self.root)).name

    @property
    def master_path(self) -> Path:
        """The master workbook: ``master.xlsm`` when the buttons were built, else ``master.xlsx``."""
        for name in MASTER_NAMES:
            if (self.root / name).exists():
                return self.root / name
        return self.root / MASTER_NAMES[1]

    @property
    def ledger_path(self) -> Path:
        """The SQLite ledger."""
        return self.root / "ledger.sqlite"

    @property
    def outbox(self) -> Path:
        """Where department workbooks and mail drafts are written."""
        return self.root / "outbox"

    def round_folder(self, settings: Settings) -> Path:
        """``outbox/2020-R1``: where the current fiscal year's round of requests and reminders goes."""
        return self.outbox / f"{settings.current_year.western}-R{settings.round}"

    @property
    def inbox(self) -> Path:
        """The drop folder for returned files."""
        return self.root / "inbox"

    @property
    def archive(self) -> Path:
        """Write-once store of every received file."""
        return self.root / "archive"

    @property
    def feedback(self) -> Path:
        """差し戻し票 and their mail drafts."""
        return self.root / "feedback"

    @property
    def reports(self) -> Path:
        """Consolidated table, status workbook, CSV and JSON."""
        return self.root / "reports"

    @property
    def key_path(self) -> Path:
        """The HMAC key that signs manifests. It never leaves the workspace."""
        return self.root / ".xlplan" / "manifest.key"

    def signing_key(self) -> bytes:
        """The workspace's manifest key, created on first use (readable by the owner only).

        Raises:
            ConfigurationError: the folder holds a master or a ledger but not the key — a copy of
                the master, or of a workspace without its hidden ``.xlplan`` folder. A new key
                there would sign workbooks no real workspace knows and fail every genuine return.
        """
        if not self.key_path.exists():
            self._refuse_incomplete()
            self.key_path.parent.mkdir(parents=True, exist_ok=True)
            key = secrets.token_bytes(32)
            descriptor = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(key)
        return self.key_path.read_bytes()

    def _refuse_incomplete(self) -> None:
        if self.is_workspace() or self.ledger_path.exists():
            raise ConfigurationError([Finding("workspace-incomplete", {"path": str(self.root.absolute()),
                                                                      "key": str(self.key_path.absolute())})])  # fmt: skip

    def is_workspace(self) -> bool:
        """True when the folder holds a master workbook."""
        return any((self.root / name).exists() for name in MASTER_NAMES)

    def load_plan(self) -> Plan:
        """Read the master workbook.

        Raises:
            ConfigurationError: not a workspace, or the master has problems.
        """
        if not self.is_workspace():
            # The full path: "." says nothing to someone who ran a button or a scheduled task.
            raise ConfigurationError([Finding("workspace-not-found", {"path": str(self.root.absolute())})])
        if not self.key_path.exists():  # a master copied out of its workspace: its ledger is not here
            self._refuse_incomplete()
        return read_master(self.master_path)

    def ledger(self, *, readonly: bool = False) -> sqlite3.Connection:
        """Open the ledger (created if missing; with ``readonly``, as it is, writing nothing).

        Raises:
            OutputError: the ledger cannot be opened (read-only folder, full disk, damaged file).
        """
        return open_ledger(self.ledger_path, readonly=readonly)

    def accepted_answers(self, plan: Plan | None = None) -> list[Answer]:
        """The answers of every department's accepted return in the current round, in plan order.

        ``plan`` is the master's plan (read when not given). This is what consolidation prints.
        """
        plan = plan or self.load_plan()
        with contextlib.closing(self.ledger()) as connection:
            return accepted_answers(connection, plan)


def init_workspace(root: Path, plan: Plan) -> Workspace:
    """Make a new workspace at ``root`` holding ``plan``.

    Raises:
        ConfigurationError: ``root`` already holds a workspace, or cannot be written.
    """
    workspace = Workspace(root)
    if workspace.is_workspace():
        raise ConfigurationError([Finding("workspace-exists", {"path": str(root)})])
    try:
        root.mkdir(parents=True, exist_ok=True)
        for folder in FOLDERS:
            (root / folder).mkdir(exist_ok=True)
    except OSError as exc:
        raise ConfigurationError([not_writable(root, exc)]) from exc
    workspace.signing_key()  # before the master: a folder with a master and no key is a copy
    write_master(plan, root / MASTER_NAMES[1])
    with workspace.ledger() as connection:
        current_round(connection, plan.settings)
        sync_departments(connection, [(d.name, d.email, d.contact) for d in plan.departments])
    connection.close()
    return workspace
