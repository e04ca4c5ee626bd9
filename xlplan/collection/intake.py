"""Intake: every new file in ``inbox/`` archived untouched, with a ledger receipt, before anything reads it.

Departments drop returned workbooks into the shared ``inbox/`` folder, or the plan
office saves the mails they sent there as ``.eml`` files. :func:`take_in` walks
the folder (recursively, in a stable sorted order) and for each new file:

1. reads its bytes once, between two ``stat`` calls: a file that changes while it is
   read (still being copied), that cannot be opened (on Windows, a file another
   program holds), or that Excel or LibreOffice has open (their lock file ``~$name``
   / ``.~lock.name#`` lies beside it) is *busy*: a ``file-busy`` warning, nothing
   recorded, and the next run tries again;
2. stores the bytes in ``archive/`` under their SHA-256 (``archive/ab/abcdef….xlsx``,
   the original suffix kept), write-once: an archived copy is never rewritten;
3. records a ``receipts`` row (status ``archived``, or ``duplicate`` with
   ``duplicate_of`` when the same bytes came before, under any name or by any way);
4. for an ``.eml``: the mail itself is archived (status ``mail``) and each attached
   workbook-like file (``.xlsx``, ``.xlsm``, ``.xls``, ``.xlsb``, ``.ods``, ``.csv`` or
   a spreadsheet content type) goes through steps 2–3 with source ``eml``; other
   attachments are ignored.

Originals in ``inbox/`` are never modified, moved or deleted. A file already taken in
(same path and same content as recorded in ``inbox_files``) is not taken again and
not reported again. Excel lock files (``~$…``), ``.tmp`` files, ``Thumbs.db``,
``desktop.ini`` and dotfiles are ignored. Every other file — an ``.xls``, a CSV, a
file with no suffix — is archived too, so that reading can report what it is.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import os
import re
import sqlite3
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlplan.collection.eml import WORKBOOK_SUFFIXES, decoded_name, mail_parts
from xlplan.findings import Finding, Phrase, os_params
from xlplan.workspace import ledger
from xlplan.workspace.folder import Workspace

__all__ = ["WORKBOOK_SUFFIXES", "Intake", "IntakeResult", "Receipt", "take_in"]

_IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini", "ehthumbs.db"})
_IGNORED_SUFFIXES = frozenset({".tmp", ".crdownload", ".part"})
MAX_FILE_BYTES = 20 * 1024 * 1024
"""Largest file taken from inbox/ (the reading limit of a workbook): a larger one is never read into memory."""
MAX_MAIL_BYTES = 40 * 1024 * 1024
"""Largest saved mail (.eml): a 20 MB workbook attached grows by a third in base64."""
LOCK_FILE_MAX_AGE = 12 * 3600
"""Seconds an Excel/LibreOffice lock file counts: an older one was left behind by a crash."""


@dataclass(frozen=True)
class Receipt:
    """One file received and archived.

    Attributes:
        id: the ``receipts`` row.
        sha256: of the bytes as received.
        original_name: the path in ``inbox/`` (forward slashes), or an attachment's file name.
        archived_path: the write-once copy in ``archive/`` (for a duplicate, the first copy).
        source: ``inbox`` (a file in the folder) or ``eml`` (attached to a saved mail).
        duplicate_of: the receipt that first brought the same bytes, if any.
        duplicate_name: that receipt's original name.
        container: for an attachment, the ``.eml`` it came in (its inbox path).
        findings: what intake noticed about this file (``duplicate-file``).
        sender: who the transport says sent it: the From address of the mail it came in.
    """

    id: int
    sha256: str
    original_name: str
    archived_path: Path
    source: str
    duplicate_of: int | None = None
    duplicate_name: str | None = None
    container: str | None = None
    findings: tuple[Finding, ...] = ()
    sender: str | None = None


@dataclass(frozen=True)
class IntakeResult:
    """What one :func:`take_in` took.

    ``receipts`` are the files to read and check (workbooks and any other file, duplicates
    included, marked), in inbox order; ``mails`` the ``.eml`` files archived, whose
    attachments are among ``receipts``; ``findings`` what concerns no single receipt
    (``file-busy``, ``archive-write-failed``, ``eml-no-workbook``).
    """

    receipts: tuple[Receipt, ...] = ()
    mails: tuple[Receipt, ...] = ()
    findings: tuple[Finding, ...] = field(default_factory=tuple)


class _Busy(Exception):
    """The file cannot be taken now; ``params`` (``reason``, ``why``) go into the finding."""

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__(str(params["reason"]))
        self.params = params


BATCH = 8
"""Files archived per ledger transaction: one commit per file would cost more than the file's checks."""


def take_in(workspace: Workspace, connection: sqlite3.Connection, *, round_id: int | None) -> IntakeResult:
    """Archive and record every new file in ``workspace.inbox``.

    Args:
        workspace: the workspace (``inbox/`` is read, ``archive/`` written).
        connection: the ledger (schema 2 or later: ``inbox_files``, ``receipts.container_id``).
        round_id: the round being collected, recorded on each receipt (None: not known).

    Returns:
        The receipts and findings of this run; files taken in before are not in it.
    """
    intake = Intake(workspace, connection, round_id=round_id)
    receipts = tuple(intake)
    return IntakeResult(receipts, tuple(intake.mails), tuple(intake.findings))


class Intake:
    """One intake as a stream: iterating archives the inbox's new files and yields their receipts.

    Receipts come in inbox order, a batch at a time, each batch committed to the ledger
    before its receipts are yielded, so that a caller may read and check the first files
    while later ones are still being archived. ``mails`` and ``findings`` fill up as the
    iteration goes (see :class:`IntakeResult`).
    """

    def __init__(self, workspace: Workspace, connection: sqlite3.Connection, *, round_id: int | None) -> None:
        self.workspace = workspace
        self.connection = connection
        self.round_id = round_id
        self.mails: list[Receipt] = []
        self.findings: list[Finding] = []

    def __iter__(self) -> Iterator[Receipt]:
        inbox = self.workspace.inbox
        if not inbox.is_dir():
            return
        candidates = _candidates(inbox, self.findings)
        while True:
            batch: list[Receipt] = []
            seen = 0
            with self.connection:
                for path, name in itertools.islice(candidates, BATCH):
                    seen += 1
                    batch += self._take(path, name)
            yield from batch
            if seen < BATCH:
                return

    def _take(self, path: Path, name: str) -> list[Receipt]:
        """Archive one inbox file (and a mail's attachments); the receipts to read. The caller commits."""
        workspace, connection, round_id = self.workspace, self.connection, self.round_id
        is_mail = path.suffix.lower() == ".eml"
        try:
            data, size, mtime_ns = _read_settled(path, MAX_MAIL_BYTES if is_mail else MAX_FILE_BYTES)
        except _Busy as busy:
            self.findings.append(Finding("file-busy", {"name": name, **busy.params}, file=name))
            return []
        except _Refused as refused:
            self.findings.append(Finding(refused.code, {"name": name, **refused.params}, file=name))
            return []
        sha256 = hashlib.sha256(data).hexdigest()
        raw_name = _raw_name(workspace.inbox, path)
        if _already_taken(connection, name, raw_name, sha256):
            return []
        sender, attachments, unreadable, wrapped = mail_parts(data) if is_mail else (None, [], 0, [])
        # "Forward as attachment" of the office's own mail brings back the workbook as it was sent:
        # not the department's answer (a 差し戻し票 saying every value is missing would be drafted).
        originals = [
            item for item in attachments if item.forwarded and ledger.was_sent(connection, item.sha256)
        ]
        attachments = [item for item in attachments if item not in originals]
        # Everything is in the archive before a row refers to it; a failure records nothing,
        # so the next run tries the file again.
        try:
            stored = _store(workspace, connection, data, sha256, name)
            stored_attachments = [
                (item.name, _store(workspace, connection, item.content, item.sha256, item.name))
                for item in attachments
            ]
        except OSError as exc:
            self.findings.append(_archive_failed(workspace, name, exc))
            return []
        receipts: list[Receipt] = []
        receipt = _record(connection, stored, sha256, name, "inbox", round_id, mail=is_mail, sender=sender)
        if not is_mail:
            receipts.append(receipt)
        else:
            self.mails.append(receipt)
            if receipt.duplicate_of is None:  # a mail received again brings nothing new
                for item, (_, kept) in zip(attachments, stored_attachments, strict=True):
                    receipts.append(
                        _record(
                            connection,
                            kept,
                            item.sha256,
                            item.name,
                            "eml",
                            round_id,
                            container=receipt,
                            sender=sender,
                        )
                    )
                if unreadable:
                    self.findings.append(
                        Finding("eml-attachment-unreadable", {"name": name, "count": unreadable}, file=name)
                    )
                elif originals:
                    files = "、".join(item.name for item in originals)
                    self.findings.append(Finding("eml-forwarded-original", {"name": name, "files": files,
                                                                            "answered": len(attachments)}, file=name))  # fmt: skip
                elif not attachments and wrapped:  # attached, but in what cannot be opened here
                    for kind, part in wrapped:
                        self.findings.append(
                            Finding(f"eml-wrapped-{kind}", {"name": name, "part": part}, file=name)
                        )
                elif not attachments:
                    self.findings.append(Finding("eml-no-workbook", {"name": name}, file=name))
        ledger.insert_inbox_file(connection, name, raw_name, size, mtime_ns, sha256, receipt.id)
        return receipts


# ----------------------------------------------------------------------------------------
# The inbox
# ----------------------------------------------------------------------------------------


def _candidates(inbox: Path, findings: list[Finding]) -> Iterator[tuple[Path, str]]:
    """(path, inbox-relative name) of every regular file not ignored, sorted by name (numbers by value).

    Nothing is followed or opened here: a symbolic link (to the signing key, to any file on
    the server) is reported and never read, nor are FIFOs, sockets and devices, which would
    block or never end; folders are walked without following links. A name that is not
    valid UTF-8 (a Shift_JIS name from a zip made on Windows) is shown as Shift_JIS where it
    decodes so, else with its undecodable bytes escaped.
    """
    found: list[tuple[str, Path]] = []
    pending = [inbox]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            name = display_name(Path(folder).relative_to(inbox).as_posix() or ".")
            findings.append(Finding("file-busy", {"name": name, **os_params(exc)}, file=name))
            continue
        for entry in entries:
            relative = Path(entry.path).relative_to(inbox).as_posix()
            name = display_name(relative)
            try:
                if entry.is_symlink():
                    findings.append(Finding("inbox-link", {"name": name}, file=name))
                elif entry.is_dir(follow_symlinks=False):
                    # Dot folders (.git, .Trash) are not where departments drop files.
                    if not entry.name.startswith("."):
                        pending.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    if not ignored_name(entry.name):
                        found.append((name, Path(entry.path)))
                elif not ignored_name(entry.name):
                    findings.append(Finding("inbox-not-a-file", {"name": name}, file=name))
            except OSError as exc:  # gone between the listing and the look
                findings.append(Finding("file-busy", {"name": name, **os_params(exc)}, file=name))
    for name, path in sorted(found, key=lambda item: (_natural(item[0]), item[0], os.fsencode(item[1]))):
        yield path, name


def _natural(name: str) -> list[list[str | int] | int]:
    """A sort key that orders the numbers in a name by value: ``9.xlsx`` before ``10.xlsx``.

    The order of intake is the order of arrival (the later of two returns of a department
    wins): saved mails are named by their IMAP UID (``…-9.eml`` came before ``…-10.eml``),
    and staff number resent files as Explorer lists them, which also compares numbers by value.
    """
    # A copy a browser or Explorer made beside the first one comes after it, whatever its name sorts
    # as: "回答 (2).xlsx" (a second download) after "回答.xlsx", "回答 - コピー.xlsx" after it too.
    copy = _COPY.fullmatch(name)
    number = 0
    if copy is not None and (copy.group("copy") or copy.group("number")):
        name, number = copy.group("stem") + (copy.group("suffix") or ""), int(copy.group("number") or 1)
    pieces = _DIGITS.split(name)
    return [[int(piece) if index % 2 else piece for index, piece in enumerate(pieces)], number]


_DIGITS = re.compile(r"(\d+)", re.ASCII)
_COPY = re.compile(
    r"(?P<stem>.+?)(?P<copy> - コピー| - Copy)?(?: ?[(（](?P<number>\d{1,3})[)）])?(?P<suffix>\.[^.]+)?",
    re.ASCII,
)


def display_name(name: str) -> str:
    """A file name as text that can be stored, printed and sent: undecodable bytes made readable.

    On Linux a name that is not UTF-8 arrives with its bytes as surrogate escapes; such a
    name is decoded as Shift_JIS (CP932) where that works, as when a zip made on Windows
    is extracted on the server, else each undecodable byte is written as ``\\xNN``.
    """
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = os.fsencode(name)
    return decoded_name(raw) or raw.decode("utf-8", errors="backslashreplace")


def ignored_name(name: str) -> bool:
    """True for a name intake passes over on purpose: a temporary or partial download, an owner or
    lock file, a system file (the server renames an upload so named, so that it is not lost)."""
    lowered = name.lower()
    return (
        name.startswith((".", "~$"))  # dotfiles, LibreOffice .~lock.*#, Excel owner files
        or lowered in _IGNORED_NAMES
        or os.path.splitext(lowered)[1] in _IGNORED_SUFFIXES
    )


class _Refused(Exception):
    """The file is not taken in, for good: ``finding`` says why (it stays in inbox/ untouched)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


_OPEN_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
)


def _read_settled(path: Path, limit: int) -> tuple[bytes, int, int]:
    """The file's bytes, size and mtime, if it is a regular file not being written or held open.

    Opened without following a link and without blocking (a FIFO put in place of the file
    after the listing neither blocks nor is read); a file larger than ``limit`` bytes is
    refused before it is read (:class:`_Refused`); a file in use is :class:`_Busy`.
    """
    lock = _lock_file(path)
    if lock is not None:
        raise _Busy({"reason": f"lock file {lock}", "why": Phrase("busy-open", {"lock": lock})})
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except PermissionError as exc:  # on Windows: another program holds the file
        raise _Busy(os_params(exc)) from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # became a link since it was listed
            raise _Refused("inbox-link") from exc
        raise _Busy(os_params(exc)) from exc
    with os.fdopen(descriptor, "rb") as handle:
        before = os.fstat(handle.fileno())
        if not stat.S_ISREG(before.st_mode):
            raise _Refused("inbox-not-a-file")
        if before.st_size > limit:
            raise _Refused("inbox-too-large", size=_mb(before.st_size), limit=_mb(limit))
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise _Busy(os_params(exc)) from exc
    try:
        after = path.stat()
    except OSError as exc:
        raise _Busy(os_params(exc)) from exc
    if len(data) > limit:
        raise _Refused("inbox-too-large", size=_mb(len(data)), limit=_mb(limit))
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(
        data
    ) != after.st_size:
        raise _Busy({"reason": "changed while read", "why": Phrase("busy-changed")})
    return data, after.st_size, after.st_mtime_ns


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


def _lock_file(path: Path) -> str | None:
    """The name of a fresh Excel (``~$name``) or LibreOffice (``.~lock.name#``) lock file beside ``path``."""
    name = path.name
    for lock in (f"~${name}", f"~${name[2:]}" if len(name) > 2 else None, f".~lock.{name}#"):
        if lock is None:
            continue
        with contextlib.suppress(OSError):
            if time.time() - (path.parent / lock).stat().st_mtime < LOCK_FILE_MAX_AGE:
                return lock
    return None


def waiting_in_inbox(workspace: Workspace, connection: sqlite3.Connection) -> list[str]:
    """Names of the files in ``inbox/`` that no collection has taken in yet (what the next one would read)."""
    waiting: list[str] = []
    if not workspace.inbox.exists():
        return waiting
    for path, name in _candidates(workspace.inbox, []):
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            waiting.append(name)  # unreadable now: still not taken in
            continue
        if not _already_taken(connection, name, _raw_name(workspace.inbox, path), digest):
            waiting.append(name)
    return waiting


def _already_taken(connection: sqlite3.Connection, name: str, raw_name: bytes, sha256: str) -> bool:
    """True when the latest record of this inbox path has the same content."""
    return ledger.latest_inbox_sha256(connection, name, raw_name) == sha256


def _raw_name(inbox: Path, path: Path) -> bytes:
    """The path's bytes below ``inbox/``: what tells apart two names that display alike."""
    return os.fsencode(path.relative_to(inbox).as_posix())


# ----------------------------------------------------------------------------------------
# Archive and receipts
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stored:
    """Where bytes are archived, and the receipt that first brought them (if any)."""

    archived: Path
    relative: str  # as the ledger records it: relative to the workspace, forward slashes
    first: tuple[int, str] | None  # (receipt id, original name)


def _store(
    workspace: Workspace, connection: sqlite3.Connection, data: bytes, sha256: str, name: str
) -> _Stored:
    """Make sure ``data`` is in the archive; the same bytes received before keep their first copy."""
    first = ledger.first_receipt(connection, sha256)
    if first is None:
        archived = _archive(workspace, data, sha256, _suffix(name))
        return _Stored(archived, archived.relative_to(workspace.root).as_posix(), None)
    archived = workspace.root / first.archived_path
    if not _holds(archived, sha256):  # the first copy went missing or was damaged: store it again
        archived = _archive(workspace, data, sha256, Path(first.archived_path).suffix)
    return _Stored(archived, archived.relative_to(workspace.root).as_posix(), (first.id, first.original_name))


def _record(
    connection: sqlite3.Connection,
    stored: _Stored,
    sha256: str,
    name: str,
    source: str,
    round_id: int | None,
    *,
    mail: bool = False,
    container: Receipt | None = None,
    sender: str | None = None,
) -> Receipt:
    """Insert the receipt row (the caller holds the transaction)."""
    first = stored.first
    if first is None:  # the same bytes may have arrived earlier in this very run
        earlier = ledger.first_receipt(connection, sha256)
        first = (earlier.id, earlier.original_name) if earlier is not None else None
    status = "duplicate" if first is not None else ("mail" if mail else "archived")
    receipt_id = ledger.insert_receipt(
        connection,
        ledger.ReceiptRecord(sha256, name, source, stored.relative, round_id, status,
                             first[0] if first else None, container.id if container else None, sender),
    )  # fmt: skip
    findings: tuple[Finding, ...] = ()
    if first is not None:
        replaced = ledger.receipt(connection, first[0])
        # The same bytes as a return that a later one replaced: sent again to go back to it, perhaps;
        # the file is not taken twice, so the office is told what stands and how to go back.
        code = (
            "duplicate-of-replaced"
            if replaced is not None and replaced["status"] == "superseded"
            else "duplicate-file"
        )
        findings = (Finding(code, {"name": name, "first": first[1]}, file=name),)
    return Receipt(
        receipt_id,
        sha256,
        name,
        stored.archived,
        source,
        duplicate_of=first[0] if first else None,
        duplicate_name=first[1] if first else None,
        container=container.original_name if container else None,
        findings=findings,
        sender=sender,
    )


def _suffix(name: str) -> str:
    """The original suffix, lower-cased, if it is a plain one (``.xlsx``); else none."""
    suffix = os.path.splitext(name)[1].lower()
    return suffix if 2 <= len(suffix) <= 8 and suffix[1:].isalnum() and suffix[1:].isascii() else ""


_FOLDERS_MADE: set[Path] = set()


def _archive(workspace: Workspace, data: bytes, sha256: str, suffix: str) -> Path:
    """Store ``data`` as ``archive/ab/abcdef….suffix``, write-once; returns the path.

    An existing copy with the right content is left as it is. The copy is written to
    a temporary file in the same folder, flushed to disk, then renamed into place, so
    the archive never holds a partial file; it is made read-only.
    """
    target = workspace.archive / sha256[:2] / f"{sha256}{suffix}"
    if _holds(target, sha256):
        return target
    if target.parent not in _FOLDERS_MADE:  # 256 folders, made once each; mkdir is a costly call on shares
        target.parent.mkdir(parents=True, exist_ok=True)
        _FOLDERS_MADE.add(target.parent)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if target.is_file():  # a damaged copy: make it replaceable (Windows refuses read-only targets)
            os.chmod(target, 0o644)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):
        os.chmod(target, 0o444)
    return target


def _holds(path: Path, sha256: str) -> bool:
    """True when ``path`` exists with content of this hash."""
    try:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest() == sha256
    except OSError:
        return False


def _archive_failed(workspace: Workspace, name: str, exc: OSError) -> Finding:
    return Finding(
        "archive-write-failed", {"name": name, "path": str(workspace.archive), **os_params(exc)}, file=name
    )


def unchecked(workspace: Workspace, connection: sqlite3.Connection) -> list[Receipt]:
    """Receipts an earlier run archived and recorded but stopped before checking (a crash, a kill).

    Collection checks these first, so that a file once taken in is always checked.
    """
    return [
        Receipt(
            int(row["id"]),
            str(row["sha256"]),
            str(row["original_name"]),
            workspace.root / str(row["archived_path"]),
            str(row["source"]),
            container=row["container_name"],
            sender=row["sender"],
        )
        for row in ledger.unchecked_receipts(connection)
    ]
