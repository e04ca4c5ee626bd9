"""Mails saved as ``.eml`` in ``inbox/``: their sender and the workbooks attached to them.

Intake archives a mail as it came and takes each workbook-like attachment in as a return
of its own; what each attachment really is, reading tells later.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from email import policy
from email.parser import BytesParser
from email.utils import parseaddr

__all__ = ["WORKBOOK_SUFFIXES", "mail_parts"]

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


def mail_parts(data: bytes) -> tuple[str | None, list[tuple[str, bytes, str]], int]:
    """The mail's sender (its From address), its workbook-like attachments (file name, bytes, SHA-256),
    nested forwarded mails included, and how many parts the parser could not take apart."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
        parts = [part for part in message.walk() if not part.is_multipart()]
    except Exception:  # a mail the parser cannot take apart has, for intake, no attachment
        return None, [], 0
    sender: str | None = None
    with contextlib.suppress(Exception):  # a From header the parser refuses is no sender
        address = parseaddr(str(message.get("From", "")))[1].strip().lower()
        sender = address or None
    found: list[tuple[str, bytes, str]] = []
    unreadable = 0
    for part in parts:
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
        found.append((name, payload, hashlib.sha256(payload).hexdigest()))
    return sender, found, unreadable
