"""Mails saved as ``.eml`` in ``inbox/``: their sender and the workbooks attached to them.

Intake archives a mail as it came and takes each workbook-like attachment in as a return
of its own; what each attachment really is, reading tells later.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import parseaddr
from typing import NamedTuple

__all__ = ["WORKBOOK_SUFFIXES", "Attachment", "mail_parts"]

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


def mail_parts(data: bytes) -> tuple[str | None, list[Attachment], int]:
    """The mail's sender (its From address), its workbook-like attachments, nested forwarded mails
    included, and how many parts the parser could not take apart."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
        parts = list(_leaves(message))
    except Exception:  # a mail the parser cannot take apart has, for intake, no attachment
        return None, [], 0
    sender: str | None = None
    with contextlib.suppress(Exception):  # a From header the parser refuses is no sender
        address = parseaddr(str(message.get("From", "")))[1].strip().lower()
        sender = address or None
    found: list[Attachment] = []
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
                continue
            payload = part.get_payload(decode=True)
        except Exception:
            unreadable += 1
            continue
        if not isinstance(payload, bytes):
            continue
        name = filename or f"attachment{len(found) + 1}.xlsx"
        found.append(Attachment(name, payload, hashlib.sha256(payload).hexdigest(), forwarded))
    return sender, found, unreadable
