"""Mail: RFC 5322 messages from the master's templates, ``.eml`` drafts, and SMTP delivery.

Distribution (依頼), reminders (督促) and feedback (差し戻し) all use this module:
:func:`build_message` fills a template of ``Settings.mail`` and attaches a file,
:func:`write_eml` saves the draft that Outlook and Thunderbird open, and
:func:`load_draft` reads one back to be sent; :mod:`xlplan.smtp` delivers them.

SMTP settings come from the master's 設定 sheet (keys below, kept in
``Settings.extra``). The password is never stored in the master: it comes from
the environment variable ``XLPLAN_SMTP_PASSWORD`` or, when the optional
``keyring`` package is installed, from the system keyring (service
``xlplan-smtp``, the SMTP user as the user name).

==================  =====================================================
設定の項目            値
==================  =====================================================
SMTPサーバー          host name or address (required to send)
SMTPポート            port; default 587 (STARTTLS), 465 (SSL), 25 (なし)
SMTP暗号化            STARTTLS (default), SSL, なし
SMTPユーザー          login user; empty for a relay without authentication
SMTP証明書            optional CA file (.pem) for a server with an internal CA
==================  =====================================================
"""

from __future__ import annotations

import base64
import datetime as dt
import mimetypes
import random
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from urllib.parse import quote

from xlplan.errors import ConfigurationError
from xlplan.findings import Finding
from xlplan.plan.dates import month_day, wareki_date
from xlplan.plan.model import Department, MailTemplate, Plan, Settings
from xlplan.xlsx.atomic import place_new

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
_PLACEHOLDER = re.compile(r"\{([^{}\s]+)\}")


# ----------------------------------------------------------------------------------------
# Building messages
# ----------------------------------------------------------------------------------------


def placeholders(plan: Plan, department: Department) -> dict[str, str]:
    """The values of the template placeholders for ``department``.

    ``{担当課}`` the department, ``{担当者}`` its contact (or ご担当者), ``{締切}``
    ``5月31日（月）``, ``{締切日}`` ``令和3年5月31日（月）``, ``{年度}`` ``令和2年度``,
    ``{計画名}``, ``{照会元}`` the office and its contact, ``{回}`` the round.
    """
    settings = plan.settings
    deadline = settings.deadline
    return {
        "担当課": department.name,
        "担当者": department.contact or "ご担当者",
        "締切": month_day(deadline) if deadline else "",
        "締切日": wareki_date(deadline) if deadline else "",
        "年度": settings.current_year.wareki,
        "計画名": settings.plan_name,
        "照会元": " ".join(part for part in (settings.office, settings.office_contact) if part),
        "回": str(settings.round),
    }


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """Replace ``{name}`` by its value; unknown names and stray braces are left as typed.

    Staff edit the templates in Excel, so a ``{`` typed by hand must not break a run
    the way ``str.format`` would.
    """
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)


def require_mail_settings(settings: Settings, template_key: str) -> MailTemplate:
    """The mail template ``template_key``, after checking the master has it and the office's address.

    Raises:
        ConfigurationError: the template's subject/body or 連絡先メール is missing (all named at once).
    """
    template = settings.mail.get(template_key)
    missing = []
    if template is None:
        missing += [f"{template_key}メール件名", f"{template_key}メール本文"]
    if not settings.office_email:
        missing.append("連絡先メール")
    # A placeholder the template uses with nothing behind it leaves a hole in every mail
    # (「いつもお世話になっております。です。」, 「【締切】」).
    used = f"{template.subject}{template.body}" if template is not None else ""
    if not (settings.office or settings.office_contact) and "{照会元}" in used:
        missing.append("担当部署")
    if settings.deadline is None and ("{締切}" in used or "{締切日}" in used):
        missing.append("締切")
    if missing or template is None:
        raise ConfigurationError(
            [Finding("master-missing-setting", {"key": key}, sheet="設定") for key in missing]
        )
    return template


def build_message(
    plan: Plan,
    department: Department,
    template_key: str,
    attachment: Path | None = None,
    extra_placeholders: Mapping[str, str] | None = None,
    *,
    attachment_name: str | None = None,
    now: dt.datetime | None = None,
) -> EmailMessage:
    """A message to ``department`` from the plan office, from the template ``template_key``.

    Args:
        plan: the plan; its settings give the templates, the sender and the placeholders.
        department: the addressee; ``department.email`` must be set (check it first and
            report ``distribute-no-email`` or the like when it is not).
        template_key: the key of ``Settings.mail``: 依頼, 督促 or 差し戻し.
        attachment: a file to attach (the department workbook), or None.
        extra_placeholders: more ``{name}`` values, or overrides of :func:`placeholders`.
        attachment_name: the file name shown to the addressee (default: the file's name).
            A Japanese name is encoded per RFC 2231.
        now: the Date header (default: now).

    Raises:
        ConfigurationError: the template or the office's mail address (連絡先メール) is missing.
        ValueError: the department has no mail address.
    """
    fields = _fields(plan, department, template_key, extra_placeholders, now)
    name = attachment_name or (attachment.name if attachment is not None else "")
    return _message(fields, attachment.read_bytes() if attachment is not None else None, _file_name(name))


@dataclass(frozen=True)
class Draft:
    """A mail as the bytes of its ``.eml`` (CRLF line ends), and its Message-ID."""

    data: bytes
    message_id: str


def draft_bytes(
    plan: Plan,
    department: Department,
    template_key: str,
    attachment: bytes,
    attachment_name: str,
    *,
    now: dt.datetime | None = None,
) -> Draft:
    """The mail :func:`build_message` makes, with ``attachment``'s bytes, as the bytes of a draft.

    Distribution drafts a mail per department, and the email package's header objects and
    generator cost more than the department's workbook (``benchmarks/bench_distribute.py``).
    The message has a fixed shape — a text part and one attachment — so it is put together
    here, every encoding still the standard library's: RFC 2047 words by :mod:`email.header`,
    ASCII addresses by :func:`email.utils.formataddr`, the file name in RFC 2231 sections of
    whole characters by :func:`urllib.parse.quote`, base64 by :mod:`base64`. Header text is made
    one line without control characters first, for both (:func:`_header_text`); what this shape
    does not cover (a lone surrogate, a non-ASCII address, no file name) is made by
    :func:`build_message` instead. The tests parse both back and compare them.

    Raises:
        ConfigurationError, ValueError: as :func:`build_message`.
    """
    fields = _fields(plan, department, template_key, None, now)
    attachment_name = _file_name(attachment_name)
    if not _plain_fields(fields, attachment_name):
        message = _message(fields, attachment, attachment_name)
        return Draft(message.as_bytes(policy=policy.SMTP), fields.message_id)
    boundary = f"==============={random.randrange(sys.maxsize):019d}=="
    maintype, subtype = _attachment_type(attachment_name)
    lines = [
        _header("Subject", fields.subject),
        _address("From", fields.sender),
        _address("To", fields.to),
        "Date: " + fields.date,
        "Message-ID: " + fields.message_id,
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        "",
        f"--{boundary}",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: base64",
        "",
        # As email's raw-data manager writes text: each line ended by CRLF, then base64.
        _base64(b"".join(line + b"\r\n" for line in fields.body.encode("utf-8").splitlines())),
        f"--{boundary}",
        f"Content-Type: {maintype}/{subtype}",
        "Content-Transfer-Encoding: base64",
        "Content-Disposition: attachment;" + _filename_parameter(attachment_name),
        "",
        _base64(attachment),
        f"--{boundary}--",
        "",
    ]
    return Draft("\r\n".join(lines).encode("ascii"), fields.message_id)


@dataclass(frozen=True)
class _Fields:
    """What a message says, before it is put into MIME form."""

    subject: str
    sender: tuple[str, str]  # (display name, address)
    to: tuple[str, str]
    date: str
    message_id: str
    body: str


def _fields(
    plan: Plan,
    department: Department,
    template_key: str,
    extra_placeholders: Mapping[str, str] | None,
    now: dt.datetime | None,
) -> _Fields:
    settings = plan.settings
    template = require_mail_settings(settings, template_key)
    assert settings.office_email is not None  # narrowed by require_mail_settings
    if not department.email:
        raise ValueError(f"department has no mail address: {department.name}")
    values = {**placeholders(plan, department), **(extra_placeholders or {})}
    return _Fields(
        # Subjects are one line; a template edited in Excel may carry a line break.
        subject=_header_text(fill_template(template.subject, values)),
        sender=(_header_text(settings.office or ""), settings.office_email),
        to=recipient(department),
        date=format_datetime((now or dt.datetime.now()).astimezone()),
        message_id=make_msgid(domain=_domain(settings.office_email)),
        body=fill_template(template.body, values),
    )


_ENCODED_WORD_OPENER = "=?"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _header_text(text: str) -> str:
    """Text for a header, typed in the master: one line (a cell may hold Alt+Enter line breaks), no
    control character, no encoded word (:func:`_inert`).

    The email package encodes a name with a line break as an RFC 2047 word, and decodes it back
    into a raw line break when it refolds the header: the rest of the name would become a header.
    """
    return _inert(_CONTROL.sub("", " ".join(text.split())))


ATTACHMENT_NAME = "添付ファイル"
"""The attachment's name where none is left once made header text: a blank name (as the email package
writes it, a ``filename`` parameter without a value) is a malformed header."""


def _file_name(name: str) -> str:
    return _header_text(name) or ATTACHMENT_NAME


def _inert(text: str) -> str:
    """Header text with no RFC 2047 encoded word in it: ``=?`` gets a zero-width space.

    Typed into the master, ``=?utf-8?b?…?=`` would be decoded by the email package when it
    refolds the header, and an encoded line break would start a header of its own (a Bcc:
    — CVE-2024-6923, not fixed in every Python 3.11 this runs on). No name or subject has
    a reason to hold one.
    """
    return text.replace(_ENCODED_WORD_OPENER, "=\u200b?") if _ENCODED_WORD_OPENER in text else text


def _message(fields: _Fields, attachment: bytes | None, name: str) -> EmailMessage:
    """The message as the email package makes it (``name``, the attachment's, already header text)."""
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = fields.subject
    message["From"] = formataddr(fields.sender)
    message["To"] = formataddr(fields.to)
    message["Date"] = fields.date
    message["Message-ID"] = fields.message_id
    # base64 keeps Japanese text intact through relays that are not 8-bit clean.
    message.set_content(fields.body, charset="utf-8", cte="base64")
    if attachment is not None:
        maintype, subtype = _attachment_type(name)
        message.add_attachment(attachment, maintype=maintype, subtype=subtype, filename=name)
    return message


def _attachment_type(name: str) -> tuple[str, str]:
    if name.lower().endswith(".xlsx"):
        return XLSX_TYPE
    guessed = mimetypes.guess_type(name)[0]
    if not guessed:
        return XLSX_TYPE
    maintype, _, subtype = guessed.partition("/")
    return maintype, subtype


# Header text has no control characters by now (_header_text); a lone surrogate (a name read from an
# odd file system) cannot be encoded, and the email package's error is the one to raise.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.@-]+")


def _plain_fields(fields: _Fields, name: str) -> bool:
    texts = (fields.subject, fields.sender[0], fields.to[0], name, fields.body)
    addresses = (fields.sender[1], fields.to[1])
    return (
        bool(name)
        and not any(_SURROGATE.search(text) for text in texts)
        and all(_PLAIN_ADDRESS.fullmatch(address) for address in addresses)
    )


_WORDS_LINE = 74
"""Line length asked of email.header for RFC 2047 words: its own default lets a word reach 76, one more
than the RFC's 75."""


def _header(name: str, text: str) -> str:
    if text.isascii() and len(name) + 2 + len(text) <= 78:
        return f"{name}: {text}"
    return f"{name}: " + Header(text, "utf-8", header_name=name).encode(
        linesep="\r\n", maxlinelen=_WORDS_LINE
    )


def _address(header: str, address: tuple[str, str]) -> str:
    """``To: 名前 <address>``: an ASCII name quoted where needed, another in RFC 2047 words of at most
    75 characters, folded (formataddr's charset form makes one word of any length)."""
    name, mailbox = address
    if not name or name.isascii():
        return f"{header}: " + formataddr(address)
    words = Header(name, "utf-8", header_name=header).encode(linesep="\r\n", maxlinelen=_WORDS_LINE)
    return f"{header}: {words} <{mailbox}>"


def _base64(data: bytes) -> str:
    """``data`` in base64 lines of 76 characters, CRLF between them (the last one without)."""
    return base64.encodebytes(data).decode("ascii").rstrip("\n").replace("\n", "\r\n")


_SECTION = 56
"""Characters of percent-encoded name per RFC 2231 section: ``filename*0*=utf-8''`` and the rest fit in 78."""


def _filename_parameter(name: str) -> str:
    """``filename``: quoted where it is short printable ASCII, else RFC 2231 sections of whole characters
    (a section never ends inside a character's UTF-8 bytes, so each decodes by itself), at most 78 a line."""
    if all(" " <= char <= "~" and char not in '"\\' for char in name) and len(name) <= 64:
        return f'\r\n filename="{name}"'
    sections = [""]
    for char in name:
        encoded = quote(char, safe="")
        if sections[-1] and len(sections[-1]) + len(encoded) > _SECTION:
            sections.append("")
        sections[-1] += encoded
    if len(sections) == 1:
        return f"\r\n filename*=utf-8''{sections[0]}"
    sections[0] = "utf-8''" + sections[0]
    return "\r\n " + ";\r\n ".join(f"filename*{index}*={section}" for index, section in enumerate(sections))


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "xlplan.invalid"


def write_eml(message: EmailMessage, path: Path) -> None:
    """Save ``message`` as an ``.eml`` file (CRLF line ends, as Outlook and Thunderbird expect).

    Raises:
        FileExistsError: ``path`` exists (drafts are never overwritten).
        OSError: the file cannot be written.
    """
    place_new(
        message.as_bytes(policy=policy.SMTP), path
    )  # whole or not at all: a full disk leaves no half draft


def recipient(department: Department) -> tuple[str, str]:
    """(name, address) of the To header of a message to ``department``, as the master says now."""
    return _header_text(department.name), department.email or ""


def load_draft(path: Path, to: tuple[str, str] | None = None) -> EmailMessage:
    """A draft :func:`write_eml` saved, to be sent now: dated the time of sending and, with ``to``
    (name, address), addressed as the master says today (staff may have corrected the address)."""
    message = BytesParser(policy=policy.SMTP).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)  # policy.SMTP parses into EmailMessage
    del message["Date"]
    message["Date"] = format_datetime(dt.datetime.now().astimezone())
    if to is not None:
        del message["To"]
        message["To"] = formataddr(to)
    return message
