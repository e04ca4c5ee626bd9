"""The ledger's schema: its tables, opening a ledger, and upgrading an older one.

The ledger is the memory of a cycle across runs and machines (a staff PC and a
server may share the workspace folder). Rows are only added or marked, never
deleted, so the history of a round can always be reconstructed. The schema is
versioned in ``schema_version``; :func:`open_ledger` creates or upgrades it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import sqlite3
from collections.abc import Iterator
from pathlib import Path, PureWindowsPath
from typing import Any, ClassVar

from xlplan.errors import OutputError
from xlplan.findings import Finding, sqlite_params

SCHEMA_VERSION = 7
"""1: the first schema. 2: ``receipts.container_id`` (the mail a file was attached to) and ``inbox_files``.
3: ``receipts.sender`` (who the transport says sent it), ``decisions`` (the office's accept / reject of
a return that came without proof), indexes for the look-ups every file makes. 4: ``rollovers`` (closing a
fiscal year: written before the master is replaced, marked done after, so a crash in between is finished
by the next run and a year is never closed twice). 5: ``imap_messages`` (each mail taken from the office's
IMAP mailbox, recorded before it is downloaded and before it is marked, so that each is taken once).
6: ``feedback_owed`` (a 差し戻し owed to a department, written with the verdict, so that a run stopped
before writing it leaves it to the next run). 7: ``receipts.read_attempts`` (a reading that timed out or
crashed, perhaps only because the machine was busy, is tried again by the next runs, a few times) and
``inbox_files.raw_name`` (the name's bytes: two names that display alike are two files)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER NOT NULL,
    applied_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rounds (
    id           INTEGER PRIMARY KEY,
    fiscal_year  INTEGER NOT NULL,          -- western year the fiscal year starts in
    number       INTEGER NOT NULL,          -- 1 for the first request of the year
    opened_at    TEXT NOT NULL,
    deadline     TEXT,
    UNIQUE (fiscal_year, number)
);
CREATE TABLE IF NOT EXISTS departments (
    name     TEXT PRIMARY KEY,
    email    TEXT,
    contact  TEXT
);
CREATE TABLE IF NOT EXISTS dispatches (
    id           INTEGER PRIMARY KEY,
    round_id     INTEGER NOT NULL REFERENCES rounds(id),
    department   TEXT NOT NULL,
    kind         TEXT NOT NULL DEFAULT 'request',   -- request, reminder, feedback
    version      INTEGER NOT NULL DEFAULT 1,        -- distributing again writes version 2, …
    file_path    TEXT,
    sha256       TEXT,
    mail_path    TEXT,
    message_id   TEXT,
    status       TEXT NOT NULL,                     -- writing, drafted, skipped, sending, sent, failed,
                                                    -- unknown, superseded
    error        TEXT,
    created_at   TEXT NOT NULL,
    sent_at      TEXT
);
CREATE TABLE IF NOT EXISTS receipts (
    id             INTEGER PRIMARY KEY,
    sha256         TEXT NOT NULL,
    original_name  TEXT NOT NULL,
    source         TEXT NOT NULL,                   -- inbox, eml, imap, validate
    archived_path  TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    round_id       INTEGER REFERENCES rounds(id),
    department     TEXT,
    status         TEXT NOT NULL,                   -- archived, duplicate, mail, invalid, review, accepted,
                                                    -- superseded, rejected
    duplicate_of   INTEGER REFERENCES receipts(id),
    container_id   INTEGER REFERENCES receipts(id), -- the .eml a file was attached to (schema 2)
    sender         TEXT,                            -- the mail's From address, the upload's client (schema 3)
    read_attempts  INTEGER NOT NULL DEFAULT 0       -- readings that timed out or crashed (schema 7)
);
CREATE INDEX IF NOT EXISTS receipts_sha ON receipts(sha256);
CREATE TABLE IF NOT EXISTS inbox_files (              -- schema 2: what intake has already taken from inbox/
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL,                   -- relative to inbox/, with forward slashes, as displayed
    raw_name    BLOB,                            -- the same as the file system's bytes (schema 7)
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    receipt_id  INTEGER REFERENCES receipts(id),
    seen_at     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_files_path ON inbox_files(path);
CREATE TABLE IF NOT EXISTS findings (
    id          INTEGER PRIMARY KEY,
    receipt_id  INTEGER REFERENCES receipts(id),
    code        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    sheet       TEXT,
    cell        TEXT,
    message     TEXT NOT NULL,
    params      TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS acceptances (
    id             INTEGER PRIMARY KEY,
    round_id       INTEGER NOT NULL REFERENCES rounds(id),
    department     TEXT NOT NULL,
    receipt_id     INTEGER NOT NULL REFERENCES receipts(id),
    accepted_at    TEXT NOT NULL,
    superseded_by  INTEGER REFERENCES acceptances(id)
);
CREATE TABLE IF NOT EXISTS decisions (             -- schema 3: the plan office's decision on a return
    id           INTEGER PRIMARY KEY,               -- that arrived without a valid signature
    receipt_id   INTEGER NOT NULL REFERENCES receipts(id),
    decision     TEXT NOT NULL,                     -- accept, reject
    department   TEXT,                              -- the department it is accepted for
    decided_by   TEXT NOT NULL,
    decided_at   TEXT NOT NULL,
    note         TEXT
);
CREATE TABLE IF NOT EXISTS rollovers (             -- schema 4: closing a fiscal year (xlplan rollover)
    id           INTEGER PRIMARY KEY,
    from_year    INTEGER NOT NULL,                  -- western year of the fiscal year closed
    to_year      INTEGER NOT NULL,
    state        TEXT NOT NULL,                     -- writing, done, abandoned (never replaced)
    backup_path  TEXT,                              -- the master as it was, relative to the workspace
    records      INTEGER NOT NULL DEFAULT 0,        -- history records added
    forced       INTEGER NOT NULL DEFAULT 0,
    started_at   TEXT NOT NULL,
    finished_at  TEXT
);
CREATE TABLE IF NOT EXISTS imap_messages (         -- schema 5: mails taken from the office's IMAP mailbox
    id           INTEGER PRIMARY KEY,
    account      TEXT NOT NULL,                     -- user@host:port
    mailbox      TEXT NOT NULL,                     -- the folder (IMAPフォルダ), as typed
    uidvalidity  INTEGER NOT NULL,                  -- the folder's UIDVALIDITY: its UIDs mean this mail only with it
    uid          INTEGER NOT NULL,
    size         INTEGER NOT NULL,                  -- RFC822.SIZE, as the server announced it
    inbox_path   TEXT NOT NULL UNIQUE,              -- where the .eml is saved, relative to inbox/
    state        TEXT NOT NULL,                     -- taking, saved, marked; gone (deleted on the server
                                                    -- before it was downloaded), refused (over the size limit)
    recorded_at  TEXT NOT NULL,
    saved_at     TEXT,
    marked_at    TEXT,
    UNIQUE (account, mailbox, uidvalidity, uid)
);
CREATE TABLE IF NOT EXISTS feedback_owed (         -- schema 6: a 差し戻し owed for a department's latest return
    receipt_id   INTEGER PRIMARY KEY REFERENCES receipts(id),
    round_id     INTEGER NOT NULL REFERENCES rounds(id),
    department   TEXT NOT NULL,
    state        TEXT NOT NULL,                     -- due, done, superseded
    dispatch_id  INTEGER REFERENCES dispatches(id), -- the 差し戻し票 begun for it
    owed_at      TEXT NOT NULL,
    settled_at   TEXT
);
CREATE TABLE IF NOT EXISTS answers (
    id            INTEGER PRIMARY KEY,
    receipt_id    INTEGER NOT NULL REFERENCES receipts(id),
    project_no    INTEGER NOT NULL,
    entry         TEXT NOT NULL,
    department    TEXT NOT NULL,                   -- the member as printed in the plan
    value         TEXT,                            -- display form: 159人, ○, or NULL for blank
    narrative     TEXT
);
"""


def now() -> str:
    """The current time as ISO 8601 with the local offset, for ledger rows."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def open_ledger(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (creating if needed) the ledger at ``path`` and make sure its schema is current.

    The connection uses WAL journaling where the file system allows it, so a
    reader (``xlplan status``) does not block a running collection. With ``readonly``
    nothing is created, upgraded or written (``status`` on a read-only workspace).

    Raises:
        OutputError: the ledger cannot be opened, created or upgraded (a read-only folder,
            a full disk, a damaged file): the finding names the file and the reason.
    """
    with guarded(path):
        if readonly:
            return _open_readonly(path)
        connection = sqlite3.connect(path, timeout=30, factory=LedgerConnection)
        connection.root = path.parent.absolute()
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA foreign_keys = ON")
        # Network shares may refuse WAL; the default journal still works there.
        with contextlib.suppress(sqlite3.OperationalError):
            connection.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL never corrupts the file and loses no committed transaction when xlplan
        # crashes; a power cut may lose the last ones, whose files are still in inbox/ for the next run.
        # FULL would sync the log at every commit (collection commits every few files); the one commit
        # that must survive a power cut, a message being sent, is made FULL (:func:`durable`).
        connection.execute("PRAGMA synchronous = NORMAL")
        with connection:
            connection.executescript(_SCHEMA)
            row = connection.execute("SELECT MAX(version) AS v FROM schema_version").fetchone()
            if row["v"] is None or row["v"] < SCHEMA_VERSION:
                _migrate(connection)
                connection.execute("INSERT INTO schema_version VALUES (?, ?)", (SCHEMA_VERSION, now()))
        return connection


# ----------------------------------------------------------------------------------------
# file paths: kept relative to the workspace, read as paths under it as it is now
# ----------------------------------------------------------------------------------------

PATH_COLUMNS = frozenset({"file_path", "mail_path"})
"""The dispatches' columns that name files in the workspace (a workbook, a mail draft)."""
_WORKSPACE_FOLDERS = ("outbox", "inbox", "archive", "feedback", "reports")


class LedgerConnection(sqlite3.Connection):
    """A connection to a workspace's ledger that knows the workspace's folder (``root``)."""

    root: Path | None = None


class LedgerRow(sqlite3.Row):
    """A ledger row whose file paths read as paths under the workspace where it is now.

    They are stored relative to the workspace (:func:`stored_path`), so that a workspace that was
    moved, restored from a copy or opened under another drive letter still finds its files, and a
    stopped run resumed there never writes into the old place."""

    root: ClassVar[Path | None] = None

    def __getitem__(self, key: Any) -> Any:
        value = super().__getitem__(key)
        if isinstance(key, str) and key in PATH_COLUMNS and value and self.root is not None:
            return str(located(self.root, value))
        return value


@functools.lru_cache(maxsize=16)
def _rows_under(root: Path | None) -> type[LedgerRow]:
    return type("LedgerRow", (LedgerRow,), {"root": root})


def with_paths(cursor: sqlite3.Cursor) -> sqlite3.Cursor:
    """``cursor`` with rows whose file paths read as paths under the workspace as it is now.

    Only the queries of dispatches ask for it: every other row stays a C-speed :class:`sqlite3.Row`
    (consolidation reads 120,000 answer rows)."""
    cursor.row_factory = _rows_under(getattr(cursor.connection, "root", None))
    return cursor


def located(root: Path, stored: str) -> Path:
    """A stored path as a path under ``root``.

    Earlier versions stored the path as the run named it: absolute (then the workspace may have
    moved since) or relative to the folder the command ran in (``ws/outbox/…``). Such a path is
    taken from its workspace folder on (``outbox/…``, ``feedback/…``) and found under ``root``.
    """
    path = Path(stored)
    if path.is_absolute() and path.is_relative_to(root):
        return path
    # A path a Windows PC stored (C:\…\outbox\…, ws\outbox\…) read on the server: split as Windows does.
    parts = PureWindowsPath(stored).parts if "\\" in stored and not path.is_absolute() else path.parts
    for position in range(len(parts) - 2, -1, -1):
        if parts[position] in _WORKSPACE_FOLDERS:
            return root.joinpath(*parts[position:])
    return path if path.is_absolute() else root / path


def stored_path(connection: sqlite3.Connection, path: str | Path | None) -> str | None:
    """``path`` as the ledger keeps it: relative to the workspace (with /) when it is inside it."""
    if path is None or path == "":
        return None
    root = getattr(connection, "root", None)
    candidate = Path(path).absolute()  # a workspace named relative to where the command runs
    if root is not None and candidate.is_relative_to(root):
        return candidate.relative_to(root).as_posix()
    return str(candidate)


def sqlite_memory_ledger() -> sqlite3.Connection:
    """An empty ledger in memory: what a workspace that has no ledger yet has recorded (nothing)."""
    connection = sqlite3.connect(":memory:")
    connection.row_factory = sqlite3.Row
    connection.executescript(_SCHEMA + _INDEXES)
    return connection


def _open_readonly(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise sqlite3.OperationalError("the ledger does not exist yet")
    uri = path.resolve().as_uri()
    try:
        connection = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30, factory=LedgerConnection)
        connection.execute("SELECT COUNT(*) FROM schema_version").fetchone()
    except sqlite3.OperationalError:
        # A WAL ledger in a folder nobody may write to: read it as it stands on disk.
        connection = sqlite3.connect(f"{uri}?immutable=1", uri=True, factory=LedgerConnection)
    connection.root = path.parent.absolute()
    connection.row_factory = sqlite3.Row
    return connection


@contextlib.contextmanager
def durable(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One transaction synced to disk at its commit, even in WAL mode: the record that a message is
    being handed to the mail server, which a power cut must not undo (the next run would send it again)."""
    connection.execute("PRAGMA synchronous = FULL")
    try:
        with connection:
            yield connection
    finally:
        connection.execute("PRAGMA synchronous = NORMAL")


@contextlib.contextmanager
def guarded(path: Path) -> Iterator[None]:
    """Turn a failure of the ledger (disk full, read-only, damaged) into an :class:`OutputError` naming it."""
    try:
        yield
    except sqlite3.Error as exc:
        raise OutputError([Finding("ledger-unavailable", {"path": str(path), **sqlite_params(exc)})]) from exc


_INDEXES = """
CREATE INDEX IF NOT EXISTS receipts_status ON receipts(status);
CREATE INDEX IF NOT EXISTS receipts_round_department ON receipts(round_id, department);
CREATE INDEX IF NOT EXISTS acceptances_round_department ON acceptances(round_id, department);
CREATE INDEX IF NOT EXISTS dispatches_round_department ON dispatches(round_id, department, kind);
CREATE INDEX IF NOT EXISTS answers_receipt ON answers(receipt_id);
CREATE INDEX IF NOT EXISTS inbox_files_raw_name ON inbox_files(raw_name);
CREATE INDEX IF NOT EXISTS feedback_owed_round_department ON feedback_owed(round_id, department, state);
"""


def _migrate(connection: sqlite3.Connection) -> None:
    """Bring an older ledger up to :data:`SCHEMA_VERSION`. Additive only: nothing is dropped or rewritten.

    New tables come from ``_SCHEMA`` (``CREATE TABLE IF NOT EXISTS``); new columns of
    existing tables are added here.
    """
    columns = {row["name"] for row in connection.execute("PRAGMA table_info(receipts)")}
    if "container_id" not in columns:  # schema 1 → 2
        connection.execute("ALTER TABLE receipts ADD COLUMN container_id INTEGER REFERENCES receipts(id)")
    if "sender" not in columns:  # schema 2 → 3
        connection.execute("ALTER TABLE receipts ADD COLUMN sender TEXT")
    if "read_attempts" not in columns:  # schema 6 → 7
        connection.execute("ALTER TABLE receipts ADD COLUMN read_attempts INTEGER NOT NULL DEFAULT 0")
    inbox_columns = {row["name"] for row in connection.execute("PRAGMA table_info(inbox_files)")}
    if "raw_name" not in inbox_columns:  # schema 6 → 7
        connection.execute("ALTER TABLE inbox_files ADD COLUMN raw_name BLOB")
    connection.executescript(_INDEXES)


def schema_version(connection: sqlite3.Connection) -> int:
    """The schema version recorded in the ledger."""
    row = connection.execute("SELECT MAX(version) AS v FROM schema_version").fetchone()
    return int(row["v"])
