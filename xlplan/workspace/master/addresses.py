"""Mail addresses as the master holds them: typed by staff, often in full-width characters."""

from __future__ import annotations

import unicodedata
from email.headerregistry import Address


def mail_address(text: str) -> str | None:
    """A mail address as typed in the master, in the form mail needs it; None when it is not one.

    Full-width letters and ＠, as a Japanese input method types them, are made half-width
    (NFKC); what is left must be one plain ASCII address: a full-width or misspelt address
    would otherwise fail only when a mail is built, in the middle of a run.
    """
    candidate = unicodedata.normalize("NFKC", text).strip()
    if not candidate.isascii():
        return None
    try:
        parsed = Address(addr_spec=candidate)
    except Exception:  # the parser raises several kinds (HeaderParseError, ValueError, IndexError for "a@")
        return None
    return parsed.addr_spec if parsed.username and parsed.domain else None
