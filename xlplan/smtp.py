"""SMTP: delivering the messages :mod:`xlplan.mail` makes, each outcome reported, never one sent twice.

:func:`send_messages` delivers a batch over one connection and calls back before and after each
message, so that the caller records "being sent" and the outcome around it. The settings come from
the master's 設定 sheet (:func:`smtp_settings`, keys in :mod:`xlplan.mail`); the password from the
environment variable ``XLPLAN_SMTP_PASSWORD`` or the system keyring (service ``xlplan-smtp``).
"""

from __future__ import annotations

import base64
import datetime as dt
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from xlplan import credentials
from xlplan.errors import ConfigurationError
from xlplan.findings import Finding
from xlplan.plan.model import Plan, SmtpSettings, parse_smtp

PASSWORD_ENV = "XLPLAN_SMTP_PASSWORD"
KEYRING_SERVICE = "xlplan-smtp"


def smtp_settings(plan: Plan) -> SmtpSettings:
    """The SMTP settings of the master's 設定 sheet (:func:`xlplan.plan.model.parse_smtp`).

    Raises:
        ConfigurationError: no SMTPサーバー, or a bad port or encryption value (the master
            reader reports those already; a plan built in code may still have them).
    """
    smtp, findings = parse_smtp(plan.settings.extra)
    if findings:
        raise ConfigurationError(findings)
    if smtp is None:
        raise ConfigurationError([Finding("smtp-not-configured", sheet="設定")])
    return smtp


def smtp_password(smtp: SmtpSettings) -> str | None:
    """The SMTP password: ``XLPLAN_SMTP_PASSWORD``, else the keyring; None without a user.

    Raises:
        ConfigurationError: a user is set and neither source has a password.
    """
    if smtp.user is None:
        return None
    found = credentials.password(PASSWORD_ENV, KEYRING_SERVICE, smtp.user)
    if found:
        return found
    raise ConfigurationError([Finding("smtp-no-password", {"user": smtp.user})])


@dataclass(frozen=True)
class SendOutcome:
    """What happened to one message: ``error`` is None when the server accepted it.

    ``uncertain`` is True when the connection broke while the message was being handed
    over: the server may or may not have taken it. Such a message is never sent again by
    itself (the office decides), so that nobody receives a request twice.
    """

    message_id: str
    to: str
    error: str | None = None
    sent_at: str | None = None
    uncertain: bool = False
    unreachable: bool = (
        False  # the server could not be reached, or stopped answering: not this message's fault
    )

    @property
    def ok(self) -> bool:
        """True when the server accepted the message."""
        return self.error is None

    def problem(self, department: str, kind: str, to: str | None, file: str | None = None) -> Finding | None:
        """What the sender reports of this outcome: ``send-outcome-unknown``, ``smtp-send-failed`` (to
        ``to``, about ``file``), or None when the server took the message. ``kind``: request, reminder, feedback."""
        if self.uncertain:
            return Finding("send-outcome-unknown", {"department": department, "kind": kind})
        if not self.ok:
            return Finding(
                "smtp-send-failed", {"department": department, "to": to, "reason": self.error}, file=file
            )
        return None


RUN_BUDGET = 300.0
"""Seconds one run may spend sending: a stalled server costs this much per run, not per message."""


def send_messages(
    smtp: SmtpSettings,
    messages: Sequence[EmailMessage],
    password: str | None = None,
    *,
    before: Callable[[int], None] | None = None,
    after: Callable[[int, SendOutcome], None] | None = None,
    budget: float = RUN_BUDGET,
) -> list[SendOutcome]:
    """Deliver ``messages`` over one SMTP connection; one outcome per message, in order.

    ``before(index)`` is called just before a message is handed to the server and
    ``after(index, outcome)`` just after, so that the caller records "being sent" and
    "sent" around each message (a run killed in between leaves a record saying the outcome
    is unknown, never a message silently sent twice).

    A refused recipient or a rejected message fails that message only; a connection found
    dropped before a message is re-opened once; a connection that breaks while a message is
    handed over makes that message's outcome ``uncertain``; a server that cannot be reached
    or refuses the login fails every remaining message with the reason. All of it within
    ``budget`` seconds: every wait on the server is bounded by what is left of it, and the
    messages not tried in time fail (the next run sends them). Nothing is raised for
    delivery problems: the caller records the outcomes.
    """
    deadline = time.monotonic() + budget
    outcomes: list[SendOutcome] = []
    connection: smtplib.SMTP | None = None

    def remaining() -> float:
        return deadline - time.monotonic()

    try:
        for index, message in enumerate(messages):
            if remaining() <= 1:
                reason = f"時間切れ（{budget:.0f} 秒）: 次回の送信で送ります"
                for offset, waiting in enumerate(messages[index:]):
                    outcomes.append(_outcome(waiting, reason, unreachable=True))
                    if after is not None:
                        after(index + offset, outcomes[-1])
                break
            if connection is not None and not _alive(connection, remaining()):
                connection = None  # dropped while idle: reconnect before anything of this message is sent
            if connection is None:
                try:
                    connection = _connect(smtp, password, timeout=min(smtp.timeout, remaining()))
                except (smtplib.SMTPException, OSError) as exc:
                    # Cannot connect or log in: every remaining message would fail the same way.
                    failure = _reason(exc)
                    unsent = [_outcome(item, failure, unreachable=True) for item in messages[index:]]
                    for offset, item_outcome in enumerate(unsent):
                        if after is not None:
                            after(index + offset, item_outcome)
                    return outcomes + unsent
            if before is not None:
                before(index)
            _bound(connection, min(smtp.timeout, remaining()))
            try:
                connection.send_message(message)
                outcome = _outcome(message, None)
            except (smtplib.SMTPServerDisconnected, TimeoutError, ConnectionError) as exc:
                # Broken while the message was handed over: it may have been taken. Not retried.
                connection = None
                outcome = _outcome(message, _reason(exc), uncertain=True)
            except (smtplib.SMTPException, OSError) as exc:
                # smtplib resets the transaction after a refusal, so the session stays usable.
                outcome = _outcome(message, _reason(exc))
            except ValueError as exc:
                # The email package refused to write the message (a header it cannot fold): nothing
                # was handed to the server, as smtplib writes the message before it starts the transaction.
                outcome = _outcome(message, _reason(exc))
            outcomes.append(outcome)
            if after is not None:
                after(index, outcome)
    finally:
        if connection is not None:
            try:
                _bound(connection, max(1.0, min(5.0, remaining())))
                connection.quit()
            except (smtplib.SMTPException, OSError):
                connection.close()
    return outcomes


def _alive(connection: smtplib.SMTP, seconds: float) -> bool:
    """True when the server still answers (NOOP): a session it dropped is found before a message starts."""
    try:
        _bound(connection, max(1.0, min(10.0, seconds)))
        return connection.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def _bound(connection: smtplib.SMTP, seconds: float) -> None:
    """Bound every wait on the server's socket to ``seconds``."""
    if connection.sock is not None:
        connection.sock.settimeout(max(0.5, seconds))


def _outcome(
    message: EmailMessage, error: str | None, *, uncertain: bool = False, unreachable: bool = False
) -> SendOutcome:
    sent_at = None if error else dt.datetime.now().astimezone().isoformat(timespec="seconds")
    return SendOutcome(
        _header_value(message, "Message-ID"), _header_value(message, "To"), error, sent_at, uncertain,
        unreachable or uncertain,
    )  # fmt: skip


def _header_value(message: EmailMessage, name: str) -> str:
    """A header's value, or its text as stored where the email package cannot parse it (the outcome
    of a message that could not be sent is still recorded)."""
    try:
        return str(message[name])
    except ValueError:
        return next((str(value) for key, value in message.raw_items() if key.lower() == name.lower()), "")


def _connect(smtp: SmtpSettings, password: str | None, *, timeout: float) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=smtp.cafile) if smtp.security != "none" else None
    connection: smtplib.SMTP
    timeout = max(0.5, timeout)
    if smtp.security == "ssl":
        connection = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=context)
    else:
        connection = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
    try:
        connection.ehlo()
        if smtp.security == "starttls":
            connection.starttls(context=context)
            connection.ehlo()
        if smtp.user is not None:
            _login(connection, smtp.user, password or "")
    except BaseException:
        connection.close()
        raise
    return connection


def _login(connection: smtplib.SMTP, user: str, password: str) -> None:
    """Log in; a user or password that is not ASCII (計画-Kikaku-2021) by AUTH PLAIN in UTF-8.

    smtplib encodes credentials as ASCII and raises UnicodeEncodeError for anything else, though
    PLAIN carries UTF-8 (RFC 4616) and the IMAP side already logs in with such a password.
    """
    if f"{user}{password}".isascii():
        connection.login(user, password)
        return
    if not connection.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    offered = connection.esmtp_features.get("auth", "").upper().split()

    def utf8(text: str) -> str:
        return base64.b64encode(text.encode()).decode("ascii")

    if "PLAIN" in offered:
        code, reply = connection.docmd("AUTH", f"PLAIN {utf8(f'{chr(0)}{user}{chr(0)}{password}')}")
    elif "LOGIN" in offered:  # Exchange and others offer LOGIN only: user, then password, each asked for
        code, reply = connection.docmd("AUTH", "LOGIN")
        for answer in (user, password):
            if code != 334:
                break
            code, reply = connection.docmd(utf8(answer))
    else:  # CRAM-MD5 and the like take no UTF-8: said as a setting, not as a wrong password
        raise smtplib.SMTPNotSupportedError(
            "No suitable AUTH mechanism for a non-ASCII password: " + " ".join(offered)
        )
    if code not in (235, 503):  # 503: already authenticated
        raise smtplib.SMTPAuthenticationError(code, reply)


def _reason(exc: BaseException) -> str:
    """A short reason for the ledger and the finding: the server's reply where there is one."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = [f"{code} {_text(text)}" for code, text in exc.recipients.values()]
        return "宛先を拒否されました: " + "; ".join(replies)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return (
            "メールサーバーにログインできません。設定シートの SMTPユーザー と、そのパスワード（保存した資格情報、"
            f"または XLPLAN_SMTP_PASSWORD）を確かめてください（{exc.smtp_code} {_text(exc.smtp_error)}）"
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # Settings that do not fit the server: staff must change them; retrying as it is fails again.
        if "STARTTLS" in str(exc):
            return ("メールサーバーが暗号化（STARTTLS）に対応していません。設定シートの SMTP暗号化 と SMTPポート を"
                    f"確かめてください（{exc}）")  # fmt: skip
        if "mechanism" in str(exc):
            return ("メールサーバーが、ASCII 以外の文字を含むパスワードでのログイン方式（PLAIN・LOGIN）に対応していません。"
                    f"パスワードを半角英数字にするか、サーバーの管理者に確かめてください（{exc}）")  # fmt: skip
        if "AUTH" in str(exc):
            return ("メールサーバーがログイン（SMTP AUTH）に対応していません。ログインの要らないサーバーなら、設定シートの"
                    f" SMTPユーザー を空にしてください（{exc}）")  # fmt: skip
    for kind, text in _REASONS:  # what staff can act on, with the system's words after it
        if isinstance(exc, kind):
            return f"{text}（{type(exc).__name__}: {exc}）"
    return f"{type(exc).__name__}: {exc}"


_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (
        ConnectionRefusedError,
        "メールサーバーが接続を受け付けません。設定シートの SMTPサーバー と SMTPポート を確かめてください",
    ),
    (socket.gaierror, "メールサーバーの名前が見つかりません。設定シートの SMTPサーバー を確かめてください"),
    (TimeoutError, "メールサーバーが時間内に応答しません"),
    (
        ssl.SSLError,
        "メールサーバーとの暗号化（TLS）に失敗しました。SMTP暗号化 と SMTP証明書 の設定を確かめてください",
    ),
    (OSError, "メールサーバーと通信できません"),
)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
