"""Mails saved as ``.eml`` in ``inbox/``: their sender and the workbooks attached to them.

Intake archives a mail as it came and takes each workbook-like attachment in as a return
of its own; what each attachment really is, reading tells later.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterator
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import parseaddr
from typing import NamedTuple

__all__ = ["WORKBOOK_SUFFIXES", "Attachment", "MailParts", "mail_parts"]

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv", ".xltx", ".xltm"})
"""Attachments of a mail taken in by their name. Reading then tells what each really is."""

_SPREADSHEET_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel.sheet.macroenabled.12",
        "application/vnd.ms-excel",
        "application/vnd.ms-excel.sheet.binary.macroenabled.12",
        "application/vnd.oasis.opendocument.spreadsheet",
        "text/csv",
    }
)


class Attachment(NamedTuple):
    """A workbook-like attachment of a mail."""

    name: str
    content: bytes
    sha256: str
    forwarded: (
        bool  # inside a mail attached to this one (Outlook's and Thunderbird's "forward as attachment")
    )


def _leaves(part: Message, forwarded: bool = False) -> Iterator[tuple[Message, bool]]:
    """The mail's parts that are not containers, each with whether it sits inside an attached mail."""
    if not part.is_multipart():
        yield part, forwarded
        return
    inside = forwarded or part.get_content_type() == "message/rfc822"
    payload = part.get_payload()
    for child in payload if isinstance(payload, list) else [payload]:
        if isinstance(child, Message):
            yield from _leaves(child, inside)


_WRAPPERS: tuple[tuple[str, frozenset[str], frozenset[str]], ...] = (
    # (kind, content types, file suffixes): what holds a workbook that intake cannot take out
    ("tnef", frozenset({"application/ms-tnef", "application/vnd.ms-tnef"}), frozenset({".dat"})),
    ("smime", frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime"}), frozenset({".p7m"})),
    ("zip", frozenset({"application/zip", "application/x-zip-compressed"}), frozenset({".zip"})),
)


def _wrapper(content_type: str, filename: str | None) -> str | None:
    """What a part that is not a workbook holds the workbook in (winmail.dat, smime.p7m, a ZIP)."""
    suffix = os.path.splitext(filename or "")[1].lower()
    for kind, types, suffixes in _WRAPPERS:
        if content_type in types or (
            suffix in suffixes and (kind != "tnef" or "winmail" in (filename or "").lower())
        ):
            return kind
    return None


_RAW_NAME = re.compile(rb'(?:file)?name="([^"]+)"|(?:file)?name=([^;\s]+)', re.IGNORECASE)


def _raw_filename(part: Message) -> str | None:
    """A file name some mail programs write as raw Shift_JIS bytes in the header (no RFC 2047 or 2231
    encoding): the parser keeps such bytes only as escapes. Read as CP932, as Windows wrote it."""
    for key, value in part.raw_items():
        if key.lower() not in ("content-disposition", "content-type") or not isinstance(value, str):
            continue
        try:
            match = _RAW_NAME.search(value.encode("ascii", "surrogateescape"))
        except UnicodeEncodeError:  # real characters, not escaped bytes: the parser read it already
            continue
        if match is None:
            continue
        decoded = decoded_name(match.group(1) or match.group(2))
        if decoded is not None:
            return decoded
    return None


def decoded_name(raw: bytes) -> str | None:
    """A file name's bytes as text: UTF-8, else Shift_JIS (CP932) as Windows writes it; None when neither
    gives a name anyone wrote (CP932 maps a few unassigned bytes to private-use characters)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        decoded = raw.decode("cp932")
    except UnicodeDecodeError:
        return None
    return None if any(unicodedata.category(char) in ("Co", "Cc") for char in decoded) else decoded


class MailParts(NamedTuple):
    """What intake takes from a mail."""

    sender: str | None  # its From address
    attachments: list[Attachment]
    unreadable: int  # parts the parser could not take apart
    wrapped: list[tuple[str, str]]  # (tnef, smime or zip; the part's name): a workbook intake cannot reach


def mail_parts(data: bytes) -> MailParts:
    """The mail's sender, its workbook-like attachments (nested forwarded mails included), how many
    parts the parser could not take apart, and the parts that wrap what cannot be read here."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
        parts = list(_leaves(message))
    except Exception:  # a mail the parser cannot take apart has, for intake, no attachment
        return MailParts(None, [], 0, [])
    sender: str | None = None
    with contextlib.suppress(Exception):  # a From header the parser refuses is no sender
        address = parseaddr(str(message.get("From", "")))[1].strip().lower()
        sender = address or None
    found: list[Attachment] = []
    wrapped: list[tuple[str, str]] = []
    unreadable = 0
    for part, forwarded in parts:
        # The parser raises on some malformed headers only when they are read (an RFC 2231
        # file name of a single quote: IndexError): such a part is counted and reported, and
        # the mail's other parts, and the files after it, are still taken.
        try:
            filename = part.get_filename()
            content_type = part.get_content_type().lower()
            suffix = os.path.splitext(filename or "")[1].lower()
            if suffix not in WORKBOOK_SUFFIXES and content_type not in _SPREADSHEET_TYPES:
                kind = _wrapper(content_type, filename)
                if kind is not None:
                    wrapped.append((kind, filename or content_type))
                continue
            payload = part.get_payload(decode=True)
        except Exception:
            unreadable += 1
            continue
        if not isinstance(payload, bytes):
            continue
        if filename and "\ufffd" in filename:  # raw 8-bit bytes in the header, not RFC 2047/2231
            filename = _raw_filename(part) or filename
        name = filename or f"attachment{len(found) + 1}.xlsx"
        found.append(Attachment(name, payload, hashlib.sha256(payload).hexdigest(), forwarded))
    return MailParts(sender, found, unreadable, wrapped)
