"""The plan office's mailbox over IMAP: where the departments' returns sent by mail are read from.

:mod:`xlplan.mail` sends (SMTP); this module reads. :class:`Mailbox` opens one folder of
the office's mailbox (IMAPS, or STARTTLS, with Python's :mod:`imaplib`), lists the mails
not yet taken, tells their sizes before any body is read, downloads one whole message at
a time and marks it as taken. It never deletes, moves or expunges a mail: the mailbox
stays the office's record of what arrived.

A mail is marked with the keyword ``$xlplan-taken`` and the workspace's own
``$xlplan-taken-<id>`` where the folder accepts custom keywords (its PERMANENTFLAGS hold
``\\*``), else with ``\\Seen``. A workspace lists the mails without its own keyword: two plans
of one office that read the same mailbox each take every mail (each keeps what is its own). Reading uses
``BODY.PEEK[]`` (the whole message, RFC822), which leaves ``\\Seen`` alone: a mail shows as
read only where the keyword cannot be stored.

Settings come from the master's 設定 sheet (:func:`xlplan.plan.model.parse_imap`, kept in
``Settings.extra``). The password is never stored in the master: it comes from the
environment variable ``XLPLAN_IMAP_PASSWORD`` or, when the optional ``keyring`` package is
installed, from the system keyring (service ``xlplan-imap``, the IMAP user as the user name).

==================  =====================================================
設定の項目            値
==================  =====================================================
IMAPサーバー          host name or address (required to take mail)
IMAPポート            port; default 993 (SSL), 143 (STARTTLS, なし)
IMAP暗号化            SSL (default), STARTTLS, なし
IMAPユーザー          login user (required with a server)
IMAPフォルダ          the folder returns arrive in; default INBOX
IMAP証明書            optional CA file (.pem) for a server with an internal CA
==================  =====================================================

Every failure is a :class:`MailboxError` carrying one finding (``imap-unreachable``,
``imap-tls-failed``, ``imap-login-failed``, ``imap-no-folder``, ``imap-failed``).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import imaplib
import re
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from types import TracebackType

from xlplan import credentials
from xlplan.errors import ConfigurationError
from xlplan.findings import Finding, Phrase
from xlplan.plan.model import ImapSettings, Plan, parse_imap

PASSWORD_ENV = "XLPLAN_IMAP_PASSWORD"
KEYRING_SERVICE = "xlplan-imap"
TAKEN_KEYWORD = "$xlplan-taken"
"""The keyword a mail taken is marked with (where the server keeps custom keywords)."""

_FETCH_CHUNK = 500
"""UIDs per FETCH of sizes: one command line stays short whatever the folder holds."""


# ----------------------------------------------------------------------------------------
# Settings and password
# ----------------------------------------------------------------------------------------


def imap_settings(plan: Plan) -> ImapSettings:
    """The IMAP settings of the master's 設定 sheet (:func:`xlplan.plan.model.parse_imap`).

    Raises:
        ConfigurationError: no IMAPサーバー (``imap-not-configured``), or a bad port,
            encryption or missing user (the master reader reports those already; a plan
            built in code may still have them).
    """
    imap, findings = parse_imap(plan.settings.extra)
    if findings:
        raise ConfigurationError(findings)
    if imap is None:
        raise ConfigurationError([Finding("imap-not-configured", sheet="設定")])
    return imap


def imap_password(imap: ImapSettings) -> str:
    """The IMAP password: ``XLPLAN_IMAP_PASSWORD``, else the keyring.

    Raises:
        ConfigurationError: neither source has a password (``imap-no-password``).
    """
    found = credentials.password(PASSWORD_ENV, KEYRING_SERVICE, imap.user)
    if found:
        return found
    raise ConfigurationError([Finding("imap-no-password", {"user": imap.user})])


# ----------------------------------------------------------------------------------------
# The mailbox
# ----------------------------------------------------------------------------------------


class MailboxError(Exception):
    """The mailbox could not be used; ``finding`` says why, in the office's words."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.code)
        self.finding = finding


@dataclass(frozen=True)
class Heading:
    """Who sent a mail and its subject, as its header says (for the office's lines and findings)."""

    sender: str | None
    subject: str | None


class Mailbox:
    """One folder of the office's mailbox, open and selected for the ``with`` block.

    Opening connects (bounded by ``imap.timeout`` seconds, as is every later wait on the
    server), logs in and selects the folder read-write; each step that fails raises a
    :class:`MailboxError` and leaves the mailbox as it was.
    """

    def __init__(self, imap: ImapSettings, password: str, workspace: str | None = None) -> None:
        self.imap = imap
        self._password = password
        # The keyword this workspace lists by ($xlplan-taken-<its id>); TAKEN_KEYWORD is every workspace's.
        self.own = f"{TAKEN_KEYWORD}-{workspace}" if workspace else TAKEN_KEYWORD
        self._connection: imaplib.IMAP4 | None = None
        self.uidvalidity = 0
        self.keyword = False  # True: marked with TAKEN_KEYWORD; False: with \Seen

    def __enter__(self) -> Mailbox:
        self.open()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.logout()

    def open(self) -> None:
        """Connect, log in and select the folder.

        Raises:
            MailboxError: ``imap-unreachable``, ``imap-tls-failed``, ``imap-login-failed``,
                ``imap-no-folder`` or ``imap-failed``.
        """
        self._connection = self._connect()
        try:
            self._login()
            self._select()
        except BaseException:
            self.logout()
            raise

    def _connect(self) -> imaplib.IMAP4:
        imap = self.imap
        where = {"host": imap.host, "port": imap.port}
        context = None
        if imap.security != "none":
            try:
                context = ssl.create_default_context(cafile=imap.cafile)
            except (OSError, ValueError) as exc:  # the CA file is missing, unreadable or not a certificate
                raise MailboxError(
                    Finding(
                        "imap-tls-failed", {**where, "reason": Phrase("tls-cafile", {"path": imap.cafile})}
                    )
                ) from exc
        connection: imaplib.IMAP4 | None = None
        try:
            if imap.security == "ssl":
                connection = imaplib.IMAP4_SSL(
                    imap.host, imap.port, ssl_context=context, timeout=imap.timeout
                )
            else:
                connection = imaplib.IMAP4(imap.host, imap.port, timeout=imap.timeout)
            if imap.security == "starttls":
                if "STARTTLS" not in connection.capabilities:
                    raise MailboxError(
                        Finding("imap-tls-failed", {**where, "reason": Phrase("tls-no-starttls")})
                    )
                try:
                    connection.starttls(ssl_context=context)
                except imaplib.IMAP4.abort:
                    raise
                except imaplib.IMAP4.error as exc:  # the server refused STARTTLS
                    reply = Phrase("server-said", {"reply": _text(exc)})
                    raise MailboxError(Finding("imap-tls-failed", {**where, "reason": reply})) from exc
        except MailboxError:
            _drop(connection)
            raise
        except ssl.SSLCertVerificationError as exc:
            _drop(connection)
            detail = exc.verify_message or str(exc)
            raise MailboxError(
                Finding("imap-tls-failed", {**where, "reason": Phrase("tls-certificate", {"detail": detail})})
            ) from exc
        except ssl.SSLError as exc:
            _drop(connection)
            reason = Phrase("tls-error", {"detail": exc.reason or type(exc).__name__})
            raise MailboxError(Finding("imap-tls-failed", {**where, "reason": reason})) from exc
        except (OSError, imaplib.IMAP4.error) as exc:
            _drop(connection)
            raise MailboxError(Finding("imap-unreachable", {**where, "reason": self._why(exc)})) from exc
        return connection

    def _login(self) -> None:
        imap = self.imap
        connection, user, password = self._live, imap.user, self._password
        try:
            if password.isascii():
                connection.login(user, password)
            else:  # LOGIN takes ASCII only (imaplib refuses more); AUTHENTICATE PLAIN carries UTF-8 (RFC 4616)
                connection.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode())
        except imaplib.IMAP4.abort as exc:
            raise MailboxError(self._failed(exc)) from exc
        except imaplib.IMAP4.error as exc:  # NO to LOGIN or AUTHENTICATE: the server's reply says why
            reply = Phrase("server-said", {"reply": _text(exc)})
            raise MailboxError(
                Finding(
                    "imap-login-failed", {"host": imap.host, "user": imap.user, "reason": reply}, sheet="設定"
                )
            ) from exc
        except OSError as exc:
            raise MailboxError(self._failed(exc)) from exc

    def _select(self) -> None:
        folder = self.imap.folder
        connection = self._live
        try:
            status, data = connection.select(quote_folder(folder))
            if status != "OK":
                reply = Phrase("server-said", {"reply": _text(data)})
                raise MailboxError(
                    Finding("imap-no-folder", {"folder": folder, "reason": reply}, sheet="設定")
                )
            validity = connection.response("UIDVALIDITY")[1]
            flags = connection.response("PERMANENTFLAGS")[1]
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(self._failed(exc)) from exc
        if not validity or validity[0] is None:
            raise MailboxError(
                Finding("imap-failed", {"reason": Phrase("server-said", {"reply": "no UIDVALIDITY"})})
            )
        self.uidvalidity = int(validity[0])
        # RFC 3501: \* in PERMANENTFLAGS means new keywords may be stored; without it, \Seen is the mark.
        permanent = _text(flags[0]).split() if flags and flags[0] is not None else []
        self.keyword = any(flag.strip("()") in ("\\*", TAKEN_KEYWORD) for flag in permanent)

    @property
    def _live(self) -> imaplib.IMAP4:
        if self._connection is None:
            raise MailboxError(Finding("imap-failed", {"reason": Phrase("net-closed")}))
        return self._connection

    def untaken(self, since: dt.date | None = None) -> list[int]:
        """UIDs of the folder's mails not marked as taken and not deleted, ascending.

        Where only ``\\Seen`` can mark a mail, every mail is listed (one a person has read is
        not therefore taken): the ledger tells which were taken. ``since`` leaves out mails
        that arrived before that day.
        """
        criteria = ["UNDELETED"]
        if self.keyword:
            criteria += ["UNKEYWORD", self.own]
        if since is not None:
            criteria += ["SINCE", since.strftime("%d-%b-%Y")]  # IMAP's date: 01-Apr-2021 (English months)
        data = self._uid("SEARCH", *criteria)
        return sorted({int(token) for line in data if isinstance(line, bytes) for token in line.split()})

    def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        """RFC822.SIZE of each mail, by UID, asked before any body is read; a mail expunged meanwhile is absent."""
        found: dict[int, int] = {}
        for start in range(0, len(uids), _FETCH_CHUNK):
            chunk = ",".join(str(uid) for uid in uids[start : start + _FETCH_CHUNK])
            for item in self._uid("FETCH", chunk, "(RFC822.SIZE)"):
                line = item[0] if isinstance(item, tuple) else item
                uid, size = _item(line, b"UID"), _item(line, b"RFC822.SIZE")
                if uid is not None and size is not None:
                    found[uid] = size
        return found

    def heading(self, uid: int) -> Heading:
        """The From address and the subject of a mail, from its header alone."""
        for item in self._uid("FETCH", str(uid), "(BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])"):
            if isinstance(item, tuple) and isinstance(item[1], bytes):
                return heading_of(item[1])
        return Heading(None, None)

    def message(self, uid: int) -> bytes | None:
        """The whole message (its RFC822 bytes), or None when it is no longer in the folder.

        Check its size with :meth:`sizes` first: the message is read into memory.
        """
        for item in self._uid("FETCH", str(uid), "(BODY.PEEK[])"):
            # Only this mail's body: another session's changes may come as unsolicited FETCH lines.
            if isinstance(item, tuple) and b"BODY[]" in item[0] and _item(item[0], b"UID") == uid:
                return item[1]
        return None

    def mark(self, uid: int) -> None:
        """Mark a mail as taken (:data:`TAKEN_KEYWORD` and the workspace's own, or ``\\Seen``). Marking
        twice changes nothing."""
        flag = " ".join(dict.fromkeys((TAKEN_KEYWORD, self.own))) if self.keyword else "\\Seen"
        self._uid("STORE", str(uid), "+FLAGS.SILENT", f"({flag})")

    def logout(self) -> None:
        """End the session. Never CLOSE: that would expunge mails someone marked deleted."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            connection.logout()
        _drop(connection)

    def _uid(self, command: str, *args: str) -> list[bytes | tuple[bytes, bytes] | None]:
        """A UID command; its data. Any failure, or an answer other than OK, is ``imap-failed``."""
        try:
            status, data = self._live.uid(command, *args)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(self._failed(exc)) from exc
        if status != "OK":
            raise MailboxError(
                Finding("imap-failed", {"reason": Phrase("server-said", {"reply": _text(data)})})
            )
        return list(data)

    def _failed(self, exc: BaseException) -> Finding:
        return Finding("imap-failed", {"reason": self._why(exc)})

    def _why(self, exc: BaseException) -> Phrase:
        """The reason of a network failure, as a phrase of the catalogue (the detail kept as data)."""
        if isinstance(exc, TimeoutError):
            return Phrase("net-timeout", {"seconds": f"{self.imap.timeout:.0f}"})
        if isinstance(exc, ConnectionRefusedError):
            return Phrase("net-refused")
        if isinstance(exc, socket.gaierror):
            return Phrase("net-unknown-host")
        if isinstance(exc, (ConnectionResetError, EOFError, imaplib.IMAP4.abort)):
            return Phrase("net-closed")
        if isinstance(exc, imaplib.IMAP4.error):
            return Phrase("server-said", {"reply": _text(exc)})
        return Phrase("net-error", {"detail": f"{type(exc).__name__}: {exc}"})


def _drop(connection: imaplib.IMAP4 | None) -> None:
    """Close the socket of a session that is over or never started."""
    if connection is not None:
        with contextlib.suppress(OSError):
            connection.shutdown()


def _item(line: bytes | None, name: bytes) -> int | None:
    """The number after ``name`` in a FETCH response line (``1 (UID 5 RFC822.SIZE 40)``)."""
    if not isinstance(line, bytes):
        return None
    match = re.search(rb"\b" + re.escape(name) + rb" (\d+)", line)
    return int(match.group(1)) if match else None


def _text(value: object) -> str:
    """A server's reply (bytes, or a list of them, or an exception) as one line of text."""
    if isinstance(value, BaseException):
        value = value.args[0] if value.args else str(value)
    if isinstance(value, (list, tuple)):
        return " ".join(_text(part) for part in value if part is not None)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def heading_of(data: bytes) -> Heading:
    """The From address (lower-cased, as intake records it) and the subject of a message's bytes."""
    try:
        header = BytesHeaderParser(policy=policy.default).parsebytes(data)
        sender = parseaddr(str(header.get("From", "")))[1].strip().lower() or None
        subject = " ".join(str(header.get("Subject", "")).split()) or None
    except Exception:  # a header the parser refuses names nobody
        return Heading(None, None)
    return Heading(sender, subject)


def quote_folder(name: str) -> str:
    """A folder name as an IMAP command takes it: modified UTF-7 (RFC 3501 5.1.3), quoted.

    Japanese folder names (回答) are stored by servers in modified UTF-7; imaplib sends what
    it is given.
    """
    encoded: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            encoded.append("&" + raw.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            encoded.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    text = "".join(encoded)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
