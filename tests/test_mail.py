"""Mail: templates, SMTP settings, and delivery to a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import email
import re
import socket
import urllib.parse
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from hypothesis import example, given, settings
from hypothesis import strategies as st

from xlplan.distribution.run import distribute
from xlplan.errors import ConfigurationError
from xlplan.examples import Example, load_example
from xlplan.mail import build_message, draft_bytes, fill_template, write_eml
from xlplan.plan.model import Department, MailTemplate, Plan, SmtpSettings
from xlplan.smtp import PASSWORD_ENV, send_messages, smtp_password, smtp_settings
from xlplan.workspace.folder import Workspace, init_workspace

NOW = dt.datetime(2021, 4, 15, 9, 0).astimezone()


def _with_extra(plan: Plan, **extra: str) -> Plan:
    return dataclasses.replace(plan, settings=dataclasses.replace(plan.settings, extra=dict(extra)))


# ----------------------------------------------------------------------------------------
# Messages and drafts
# ----------------------------------------------------------------------------------------


def test_fill_template_keeps_unknown_names_and_stray_braces() -> None:
    values = {"担当課": "文化課"}
    assert fill_template("{担当課} 様 {不明} {", values) == "文化課 様 {不明} {"


def test_message_from_the_request_template(tmp_path: Path, example: Example) -> None:
    plan = example.plan
    attachment = tmp_path / "第2次小城市男女共同参画プラン_令和2年度実績照会_文化課.xlsx"
    attachment.write_bytes(b"PK\x03\x04 not really a workbook")
    message = build_message(plan, plan.department("文化課"), "依頼", attachment, {"担当者": "山田"}, now=NOW)
    draft = tmp_path / "draft.eml"
    write_eml(message, draft)
    with pytest.raises(FileExistsError):
        write_eml(message, draft)  # drafts are never overwritten
    raw = draft.read_bytes()
    # CRLF line ends; the Japanese file name in RFC 2231 form (here split into continuations).
    assert b"\r\n" in raw and b"filename*0*=utf-8''%E7%AC%AC2" in raw
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert (
        parsed["Subject"]
        == "【5月31日（月）締切】第2次小城市男女共同参画プラン 令和2年度実績の照会（文化課）"
    )
    assert str(parsed["To"]) == "文化課 <bunka@ogi.example>"
    assert str(parsed["From"]) == "企画政策課 <kikaku@ogi.example>"
    assert parsed["Message-ID"].endswith("@ogi.example>")
    body = parsed.get_body(("plain",))
    assert body is not None
    text = body.get_content().replace("\r\n", "\n")  # text/plain travels in canonical CRLF form
    assert text.startswith("文化課 山田 様\n")
    assert "企画政策課 男女共同参画担当です。" in text and "5月31日（月）までに" in text
    (part,) = parsed.iter_attachments()
    assert part.get_filename() == attachment.name
    assert part.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert part.get_content() == attachment.read_bytes()


def test_message_needs_a_template_and_an_office_address(example: Example) -> None:
    plan = example.plan
    bare = dataclasses.replace(plan, settings=dataclasses.replace(plan.settings, mail={}, office_email=None))
    with pytest.raises(ConfigurationError) as caught:
        build_message(bare, plan.department("文化課"), "依頼")
    assert [f.params["key"] for f in caught.value.findings] == [
        "依頼メール件名",
        "依頼メール本文",
        "連絡先メール",
    ]
    with pytest.raises(ValueError):
        build_message(plan, dataclasses.replace(plan.department("文化課"), email=None), "依頼")


# ----------------------------------------------------------------------------------------
# SMTP settings
# ----------------------------------------------------------------------------------------


def test_smtp_settings_from_the_master(example: Example) -> None:
    plan = example.plan
    assert smtp_settings(_with_extra(plan, SMTPサーバー="smtp.example.lg.jp")) == SmtpSettings(
        "smtp.example.lg.jp", 587, "starttls"
    )
    settings = smtp_settings(
        _with_extra(plan, SMTPサーバー="mail", SMTP暗号化="SSL", SMTPユーザー="kikaku", SMTPポート="10465")
    )
    assert (settings.port, settings.security, settings.user) == (10465, "ssl", "kikaku")
    assert smtp_settings(_with_extra(plan, SMTPサーバー="relay", SMTP暗号化="なし")).port == 25


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({}, "smtp-not-configured"),
        ({"SMTPサーバー": "mail", "SMTPポート": "八〇"}, "smtp-bad-setting"),
        ({"SMTPサーバー": "mail", "SMTPポート": "70000"}, "smtp-bad-setting"),
        ({"SMTPサーバー": "mail", "SMTP暗号化": "TLS1.3"}, "smtp-bad-setting"),
    ],
)
def test_bad_smtp_settings_are_configuration_errors(
    example: Example, extra: dict[str, str], code: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        smtp_settings(_with_extra(example.plan, **extra))
    assert [f.code for f in caught.value.findings] == [code]


def test_password_comes_from_the_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert smtp_password(SmtpSettings("mail", 25, "none")) is None  # no user: no login
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    assert smtp_password(SmtpSettings("mail", 587, user="kikaku")) == "s3cret"
    monkeypatch.delenv(PASSWORD_ENV)
    monkeypatch.setitem(__import__("sys").modules, "keyring", None)  # no keyring installed
    with pytest.raises(ConfigurationError) as caught:
        smtp_password(SmtpSettings("mail", 587, user="kikaku"))
    assert caught.value.findings[0].code == "smtp-no-password"


# ----------------------------------------------------------------------------------------
# Delivery to a real SMTP server
# ----------------------------------------------------------------------------------------


class _Mailbox:
    """An aiosmtpd handler that stores messages and refuses chosen recipients a set number of times."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: dict[str, int] = {}

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.refuse.get(address, 0) > 0:
            self.refuse[address] -= 1
            return "550 5.1.1 mailbox temporarily unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Mailbox, int]]:
    mailbox = _Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def _smtp_workspace(tmp_path: Path, example: Example, port: int) -> Workspace:
    # The SMTP settings go through the master's 設定 sheet, as staff would enter them.
    plan = _with_extra(example.plan, SMTPサーバー="127.0.0.1", SMTPポート=str(port), SMTP暗号化="なし")
    return init_workspace(tmp_path / "ws", plan)


def _statuses(workspace: Workspace) -> list[tuple[str, int, str]]:
    with workspace.ledger() as connection:
        rows = connection.execute("SELECT department, version, status FROM dispatches ORDER BY id").fetchall()
    connection.close()
    return [(row["department"], row["version"], row["status"]) for row in rows]


PASSWORD = "計画-Kikaku-2021"  # a password with Japanese in it, as the IMAP tests use


@pytest.fixture(params=[(), ("PLAIN",)], ids=["PLAIN and LOGIN", "LOGIN only"])
def smtp_with_login(request: pytest.FixtureRequest) -> Iterator[tuple[_Mailbox, int]]:
    """A server that takes mail only after AUTH as kikaku with PASSWORD (UTF-8); else it says 535.
    Also as a server that offers LOGIN only, as Exchange often does."""
    from aiosmtpd.smtp import AuthResult

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        # handled=False: the server answers a failure itself (535), as a real one does
        return AuthResult(
            success=data.login == b"kikaku" and data.password == PASSWORD.encode(), handled=False
        )

    mailbox = _Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, authenticator=check,
                            auth_require_tls=False, auth_required=True,
                            auth_exclude_mechanism=list(request.param))  # fmt: skip
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # loopback, no certificate here
@pytest.mark.parametrize(("password", "sent"), [(PASSWORD, True), ("違う", False), ("wrong", False)])
def test_a_password_with_japanese_in_it_logs_in_and_a_wrong_one_names_the_settings(
    tmp_path: Path,
    example: Example,
    smtp_with_login: tuple[_Mailbox, int],
    monkeypatch: pytest.MonkeyPatch,
    password: str,
    sent: bool,
) -> None:
    mailbox, port = smtp_with_login
    plan = _with_extra(example.plan, SMTPサーバー="127.0.0.1", SMTPポート=str(port), SMTP暗号化="なし",
                       SMTPユーザー="kikaku")  # fmt: skip
    workspace = init_workspace(tmp_path / "ws", plan)
    monkeypatch.setenv("XLPLAN_SMTP_PASSWORD", password)
    result = distribute(workspace, send=True, only=["文化課"], now=NOW)
    (item,) = result.departments
    if sent:
        assert item.status == "sent" and len(mailbox.messages) == 1
        return
    assert item.status == "failed" and not mailbox.messages
    (failure,) = result.findings
    assert failure.code == "smtp-send-failed" and "SMTPユーザー" in failure.message("ja")


def test_starttls_set_for_a_server_without_it_names_the_setting(
    tmp_path: Path, example: Example, smtp_server: tuple[_Mailbox, int]
) -> None:
    _, port = smtp_server  # a relay with no STARTTLS, the setting left at its default
    plan = _with_extra(example.plan, SMTPサーバー="127.0.0.1", SMTPポート=str(port))
    workspace = init_workspace(tmp_path / "ws", plan)
    result = distribute(workspace, send=True, only=["文化課"], now=NOW)
    (failure,) = result.findings
    assert failure.code == "smtp-send-failed" and "SMTP暗号化" in failure.message("ja")


def test_send_delivers_all_15_and_retries_a_refused_one(
    tmp_path: Path, example: Example, smtp_server: tuple[_Mailbox, int]
) -> None:
    mailbox, port = smtp_server
    workspace = _smtp_workspace(tmp_path, example, port)
    mailbox.refuse["bunka@ogi.example"] = 1  # the first attempt to 文化課 is refused

    first = distribute(workspace, send=True, now=NOW)
    statuses = {item.department: item.status for item in first.departments}
    assert statuses.pop("文化課") == "failed"
    assert set(statuses.values()) == {"sent"} and len(statuses) == 14
    (failure,) = first.findings
    assert failure.code == "smtp-send-failed" and failure.is_error and "550" in failure.params["reason"]
    assert len(mailbox.messages) == 14

    second = distribute(workspace, send=True, now=NOW)
    bunka = next(item for item in second.departments if item.department == "文化課")
    first_bunka = next(item for item in first.departments if item.department == "文化課")
    # The retry sends the same draft (same version and Message-ID), not a new workbook.
    assert (bunka.status, bunka.version, bunka.message_id) == ("sent", 1, first_bunka.message_id)
    assert [f.code for f in second.findings] == ["distribute-already-sent"] * 14
    assert len(mailbox.messages) == 15

    received = {str(message["To"].addresses[0].addr_spec): message for message in mailbox.messages}
    assert set(received) == {department.email for department in example.plan.departments}
    for item in first.departments:
        assert item.workbook is not None
        department = example.plan.department(item.department)
        (part,) = received[str(department.email)].iter_attachments()
        assert part.get_filename() == item.workbook.name
        assert part.get_content() == item.workbook.read_bytes()

    ledger = _statuses(workspace)
    assert ledger.count(("文化課", 1, "failed")) == 1 and ledger.count(("文化課", 1, "sent")) == 1
    assert sum(status == "sent" for _d, _v, status in ledger) == 15

    resent = distribute(workspace, send=True, resend=True, only=["文化課"], now=NOW)
    assert [(item.status, item.version) for item in resent.departments] == [("sent", 2)]
    assert len(mailbox.messages) == 16


def _set_address(workspace: Workspace, department: str, address: str) -> None:
    """Staff correct a department's address on the 担当課 sheet."""
    import openpyxl

    book = openpyxl.load_workbook(workspace.master_path)
    sheet = book["担当課"]
    header = [cell.value for cell in sheet[1]]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == department)
    sheet.cell(row, header.index("メールアドレス") + 1).value = address
    book.save(workspace.master_path)


def test_a_draft_sent_again_goes_to_the_address_the_master_has_now(
    tmp_path: Path, example: Example, smtp_server: tuple[_Mailbox, int]
) -> None:
    mailbox, port = smtp_server
    workspace = _smtp_workspace(tmp_path, example, port)
    mailbox.refuse["bunka@ogi.example"] = 99  # a mistyped address: refused every time
    first = distribute(workspace, send=True, only=["文化課"], now=NOW)
    assert [item.status for item in first.departments] == ["failed"] and not mailbox.messages
    _set_address(workspace, "文化課", "bunka-ka@ogi.example")
    second = distribute(workspace, send=True, only=["文化課"], now=NOW)
    assert [(item.status, item.message_id) for item in second.departments] == [
        ("sent", first.departments[0].message_id)
    ]
    (message,) = mailbox.messages
    assert [a.addr_spec for a in message["To"].addresses] == ["bunka-ka@ogi.example"]


def test_a_refused_feedback_mail_is_sent_by_the_next_collection_that_sends(
    tmp_path: Path, example: Example, smtp_server: tuple[_Mailbox, int]
) -> None:
    import xlplan
    from xlplan.demo.respond import fill_response
    from xlplan.plan.values import Value

    mailbox, port = smtp_server
    workspace = _smtp_workspace(tmp_path, example, port)
    (sent,) = distribute(workspace, only=["文化課"], now=NOW).departments
    assert sent.workbook is not None
    plan = workspace.load_plan()
    answers = [a for a in example.answers if plan.canonical_department(a.department) == "文化課"]
    wrong = [dataclasses.replace(answers[0], value=Value()), *answers[1:]]  # a value left blank
    fill_response(sent.workbook, wrong, workspace.inbox / sent.workbook.name)
    mailbox.refuse["bunka@ogi.example"] = 1  # the server refuses the first try
    first = xlplan.collect(workspace, send=True)
    assert [f.code for f in first.findings if f.code.startswith("smtp")] == ["smtp-send-failed"]
    assert not mailbox.messages
    second = xlplan.collect(workspace, send=True)  # nothing new arrived: the 差し戻し goes now
    assert [f.code for f in second.findings] == ["feedback-resent"], second.findings
    (message,) = mailbox.messages
    assert [part.get_filename() for part in message.iter_attachments()] == [
        "差し戻し票_第2次小城市男女共同参画プラン_令和2年度実績照会_文化課.xlsx"
    ]
    assert [a.addr_spec for a in message["To"].addresses] == ["bunka@ogi.example"]
    third = xlplan.collect(workspace, send=True)
    assert "feedback-resent" not in [f.code for f in third.findings] and len(mailbox.messages) == 1
    kinds = [(d, s) for d, _v, s in _statuses(workspace)]
    assert kinds.count(("文化課", "sent")) == 1  # the 差し戻し's row, sent once; the request was a draft


def test_a_request_whose_send_failed_is_shown_as_not_sent(
    tmp_path: Path, example: Example, smtp_server: tuple[_Mailbox, int]
) -> None:
    import xlplan

    mailbox, port = smtp_server
    workspace = _smtp_workspace(tmp_path, example, port)
    mailbox.refuse["bunka@ogi.example"] = 99
    distribute(workspace, send=True, only=["文化課", "市民課"], now=NOW)
    shown = {item.department: (item.state, item.dispatch) for item in xlplan.status(workspace).departments}
    assert shown["文化課"] == ("not_sent", "failed")  # the draft never reached the department
    assert shown["市民課"][1] == "sent"
    from xlplan.followup.status import cells

    (bunka,) = [item for item in xlplan.status(workspace).departments if item.department == "文化課"]
    assert cells(bunka)[:2] == ["文化課", "未送付"] and cells(bunka)[4] == "送信失敗"  # 回答状況.xlsx's row


def test_a_resend_drafted_for_review_is_the_one_sent(
    tmp_path: Path, example: Example, smtp_server: tuple[_Mailbox, int]
) -> None:
    mailbox, port = smtp_server
    workspace = _smtp_workspace(tmp_path, example, port)
    distribute(workspace, send=True, only=["文化課"], now=NOW)  # version 1 went out
    (reviewed,) = distribute(workspace, resend=True, only=["文化課"], now=NOW).departments  # v2, a draft
    assert (reviewed.status, reviewed.version) == ("drafted", 2)
    (sent,) = distribute(workspace, send=True, only=["文化課"], now=NOW).departments
    assert (sent.status, sent.version, sent.message_id) == ("sent", 2, reviewed.message_id)
    assert [str(m["Message-ID"]) for m in mailbox.messages][-1] == reviewed.message_id
    (again,) = distribute(workspace, send=True, only=["文化課"], now=NOW).departments
    assert again.status == "already-sent" and len(mailbox.messages) == 2


def test_drafts_made_first_are_the_ones_sent(
    tmp_path: Path, example: Example, smtp_server: tuple[_Mailbox, int]
) -> None:
    mailbox, port = smtp_server
    workspace = _smtp_workspace(tmp_path, example, port)
    drafted = distribute(workspace, only=["文化課"], now=NOW)
    sent = distribute(workspace, send=True, only=["文化課"], now=NOW)
    assert sent.departments[0].message_id == drafted.departments[0].message_id
    assert str(mailbox.messages[0]["Message-ID"]) == drafted.departments[0].message_id
    assert _statuses(workspace) == [("文化課", 1, "drafted"), ("文化課", 1, "sent")]


def test_unreachable_server_fails_every_message_without_raising(tmp_path: Path, example: Example) -> None:
    workspace = _smtp_workspace(tmp_path, example, _free_port())  # nothing listens there
    result = distribute(workspace, send=True, only=["文化課", "市民課"], now=NOW)
    assert [item.status for item in result.departments] == ["failed", "failed"]
    assert [f.code for f in result.findings] == ["smtp-send-failed"] * 2
    # Said so that staff can act on it: which settings to check, the system's words kept after.
    assert "メールサーバーが接続を受け付けません" in result.findings[0].message()
    assert "ConnectionRefusedError" in result.findings[0].params["reason"]
    assert all(item.workbook is not None and item.workbook.exists() for item in result.departments)


def test_send_messages_reports_each_outcome(smtp_server: tuple[_Mailbox, int], example: Example) -> None:
    mailbox, port = smtp_server
    plan = example.plan
    mailbox.refuse["somu@ogi.example"] = 5
    messages = [
        build_message(plan, plan.department(name), "依頼", now=NOW) for name in ("文化課", "総務課", "市民課")
    ]
    outcomes = send_messages(SmtpSettings("127.0.0.1", port, "none", timeout=10), messages)
    assert [outcome.ok for outcome in outcomes] == [True, False, True]
    assert outcomes[1].error is not None and "550" in outcomes[1].error
    assert len(mailbox.messages) == 2


def test_a_message_the_email_package_cannot_write_fails_alone(
    smtp_server: tuple[_Mailbox, int], example: Example
) -> None:
    """A draft edited by hand (or made elsewhere) whose To holds an encoded line break: refolding it
    raises before anything reaches the server; that message fails, the next one is sent."""
    mailbox, port = smtp_server
    smuggled = "=?utf-8?b?" + base64.b64encode(b"a\r\nb").decode() + "?= " + "y" * 80
    raw = f"From: kikaku@ogi.example\r\nTo: {smuggled} <bunka@ogi.example>\r\nSubject: s\r\n\r\nbody\r\n"
    broken = email.message_from_bytes(raw.encode(), policy=policy.SMTP)
    assert isinstance(broken, EmailMessage)
    good = build_message(example.plan, example.plan.department("市民課"), "依頼", now=NOW)
    outcomes = send_messages(SmtpSettings("127.0.0.1", port, "none", timeout=10), [broken, good])
    assert [outcome.ok for outcome in outcomes] == [False, True]
    assert outcomes[0].error is not None and "ValueError" in outcomes[0].error
    assert len(mailbox.messages) == 1


class _Stalled:
    """An SMTP server that answers everything but then never acknowledges a message's data."""

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        import asyncio

        await asyncio.sleep(120)
        return "250 OK"


def test_a_stalled_server_costs_one_budget_per_run_not_minutes_per_message(example: Example) -> None:
    import time

    from aiosmtpd.controller import Controller

    port = _free_port()
    controller = Controller(_Stalled(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        plan = example.plan
        messages = [
            build_message(plan, plan.department(name), "依頼", now=NOW)
            for name in ("文化課", "総務課", "市民課")
        ]
        started = time.monotonic()
        outcomes = send_messages(SmtpSettings("127.0.0.1", port, "none", timeout=60), messages, budget=3)
        elapsed = time.monotonic() - started
    finally:
        controller.stop()
    assert elapsed < 10, elapsed  # the 60-second timeout would have cost minutes
    first, *rest = outcomes
    # The first message was handed over when the server stalled: it may have arrived, so it is
    # never resent by itself; the others were not tried in time and go with the next run.
    assert first.uncertain and not first.ok
    assert rest and all(not outcome.ok and not outcome.uncertain for outcome in rest)


# ----------------------------------------------------------------------------------------
# Drafts put together without the email package's generator (distribution's)
# ----------------------------------------------------------------------------------------

_EXAMPLE_PLAN = load_example("ogi").plan
_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00\r\n")
    | st.sampled_from([*'文化課企画政策 "\\,;:<>()[]@.=?%_-', "😀", "髙", "①", "\t", "\r", "\n", "\x1b"]),
    max_size=120,
)
_ADDRESS = st.emails() | st.sampled_from(["bunka@ogi.example", "ユーザー@ogi.example", "a.b+c@x.example"])


def _read(message: email.message.Message) -> dict[str, Any]:
    """What a mail program shows of a message."""
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    (part,) = message.iter_attachments()
    return {
        "headers": {key: str(message[key]) for key in ("Subject", "From", "To", "Date")},
        "to": [(a.display_name, a.addr_spec) for a in message["To"].addresses],
        "from": [(a.display_name, a.addr_spec) for a in message["From"].addresses],
        "body": body.get_content(),
        "name": part.get_filename(),
        "type": part.get_content_type(),
        "content": part.get_content(),
        "defects": [type(d).__name__ for p in message.walk() for d in p.defects],
    }


@settings(max_examples=300, deadline=None)
# Found by this test in CI: a blank file name made the draft fall back on the email package, which wrote
# an RFC 2047 word of 76 characters here, and a filename parameter without a value.
@example(office="", name="00000¡¡¡¡¡¡¡¡¡¡¡𐀀𐀀𐀀𐀀", contact="", address="bunka@ogi.example",
         subject="00000¡¡¡¡¡¡¡¡¡¡𐀀𐀀𐀀𐀀", body="", file_name=" ", content=b"")  # fmt: skip
# Found in CI: the email package's own To header for this name is one its parser cannot read back.
@example(office="", name=". ¡", contact="", address="bunka@ogi.example", subject="", body="", file_name=".xlsx",
         content=b"")  # fmt: skip
@given(
    office=_TEXT,
    name=_TEXT.filter(bool),
    contact=_TEXT,
    address=_ADDRESS,
    subject=_TEXT,
    body=_TEXT,
    file_name=_TEXT.map(lambda text: text + ".xlsx") | _TEXT.filter(bool),
    content=st.binary(max_size=300),
)
def test_a_draft_reads_back_as_the_message_email_makes(
    office: str,
    name: str,
    contact: str,
    address: str,
    subject: str,
    body: str,
    file_name: str,
    content: bytes,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Whatever the master holds, the draft distribution writes reads back as the message the email
    package makes of the same fields, and the fast form keeps to the line limits of RFC 5322, 2047
    and 2231 (:func:`_assert_well_formed`)."""
    settings_ = dataclasses.replace(
        _EXAMPLE_PLAN.settings,
        office=office,
        mail={"依頼": MailTemplate("{担当課} " + subject, "{担当課} {担当者} 様\n" + body)},
    )
    department = Department(name, contact=contact or None, email=address)
    plan = Plan(settings_, (), (), (department,))
    attachment = tmp_path_factory.getbasetemp() / "attachment.bin"
    attachment.write_bytes(content)
    try:
        expected = build_message(plan, department, "依頼", attachment, now=NOW, attachment_name=file_name)
    except ValueError as refused:
        # The email package refuses this text (a non-ASCII address): so does the draft.
        with pytest.raises(type(refused)):
            draft_bytes(plan, department, "依頼", content, file_name, now=NOW)
        return
    draft = draft_bytes(plan, department, "依頼", content, file_name, now=NOW)
    fast, slow = _read(email.message_from_bytes(draft.data, policy=policy.default)), _read(expected)
    try:
        written = _read(
            email.message_from_bytes(expected.as_bytes(policy=policy.SMTP), policy=policy.default)
        )
    except AttributeError:
        # CPython's parser cannot read what its own generator writes for a name such as ". ¡"
        # (To: . =?utf-8?q?=C2=A1?= …: AttributeError in _header_value_parser); the draft, which encodes
        # the whole name as one word, reads back: it is compared with the message object alone.
        written = slow
    # Where the draft falls back on the email package, it is what that package writes. Names are
    # compared without their spaces: Python's address parser puts one between the RFC 2047 words of
    # a folded name, wherever either writer folded it (mail programs join them, as the RFC says).
    assert _unfolded(fast) in (_unfolded(slow), _unfolded(written))
    if address.isascii():  # control characters are taken out first: only such an address falls back
        _assert_well_formed(draft.data)  # the fast form's own (a fallback is the email package's)
    assert email.message_from_bytes(draft.data, policy=policy.default)["Message-ID"] == draft.message_id


def _unfolded(read: dict[str, Any]) -> dict[str, Any]:
    def bare(text: str) -> str:
        return "".join(text.split())

    headers = dict(read["headers"], To=bare(read["headers"]["To"]), From=bare(read["headers"]["From"]))
    names = {key: [(bare(name), address) for name, address in read[key]] for key in ("to", "from")}
    return {**read, "headers": headers, **names}


_ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_SECTION = re.compile(rb"filename\*(\d+)\*?=(?:utf-8'')?([^;\r\n]*)")


def _assert_well_formed(raw: bytes) -> None:
    """Lines within RFC 5322's 998 characters, RFC 2047 words within 75, and every RFC 2231 section of
    the file name within 78 and decodable by itself (clients decode them one by one)."""
    head = (
        raw.split(b"\r\n\r\n", 1)[0]
        + b"\r\n"
        + raw.split(b"Content-Disposition", 1)[-1].split(b"\r\n\r\n", 1)[0]
    )
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert all(len(word) <= 75 for word in _ENCODED_WORD.findall(head))
    for line in head.split(b"\r\n"):
        found = _SECTION.search(line)
        if found:
            assert len(line) <= 78, line
            urllib.parse.unquote(found.group(2).decode("ascii"), errors="strict")


def test_a_long_japanese_file_name_and_names_stay_within_the_line_limits(example: Example) -> None:
    plan = example.plan
    department = dataclasses.replace(
        plan.department("文化課"), name="市民生活部市民協働推進課地域コミュニティ推進係"
    )
    name = "令和3年度_市民生活部市民協働推進課_総合計画進捗状況調査票（2）.xlsx"
    draft = draft_bytes(plan, department, "依頼", b"PK", name, now=NOW)
    _assert_well_formed(draft.data)
    assert draft.data.count(b"filename*") >= 3  # split into sections of whole characters
    message = email.message_from_bytes(draft.data, policy=policy.default)
    assert [part.get_filename() for part in message.iter_attachments()] == [name]
    # Python's address parser puts a space between the RFC 2047 words of a folded name (mail programs
    # join them, as the RFC says); what matters is that sending writes the header as it was drafted.
    assert message["To"].addresses[0].display_name.replace(" ", "") == department.name
    to_lines = draft.data.split(b"\r\nDate:")[0].split(b"To: ")[1]
    assert b"To: " + to_lines in email.message_from_bytes(draft.data, policy=policy.SMTP).as_bytes()


@pytest.mark.parametrize("control", ["", "\x1b"], ids=["fast", "fallback"])
@pytest.mark.parametrize("where", ["subject", "department"])
def test_an_encoded_line_break_typed_into_the_master_adds_no_header(
    example: Example, tmp_path: Path, where: str, control: str
) -> None:
    """``=?utf-8?b?…?=`` decoding to a line break and a Bcc: must stay text, in the draft and in the
    message sent from it (the email package decodes such words when it refolds a header)."""
    smuggled = "=?utf-8?b?" + base64.b64encode(b"x\r\nBcc: evil@attacker.example\r\n").decode() + "?="
    plan = example.plan
    department = plan.department("文化課")
    settings = plan.settings
    if where == "subject":
        template = MailTemplate(smuggled + control, settings.mail["依頼"].body)
        settings = dataclasses.replace(settings, mail={**settings.mail, "依頼": template})
    else:
        department = dataclasses.replace(department, name=smuggled + control)
    plan = dataclasses.replace(plan, settings=settings)
    draft = draft_bytes(plan, department, "依頼", b"PK", "回答.xlsx", now=NOW)
    built = build_message(plan, department, "依頼", now=NOW).as_bytes(policy=policy.SMTP)
    for raw in (draft.data, built):
        message = email.message_from_bytes(raw, policy=policy.SMTP)
        assert "Bcc" not in message
        # As smtplib writes it to the server: refolded by the email package.
        again = message.as_bytes(policy=policy.SMTP)
        assert b"\r\nBcc:" not in again and "Bcc" not in email.message_from_bytes(again, policy=policy.SMTP)


def test_a_line_break_typed_in_a_name_becomes_a_space(example: Example, tmp_path: Path) -> None:
    """A department name typed with Alt+Enter: one line in every header, the attachment intact."""
    plan = example.plan
    department = dataclasses.replace(plan.department("文化課"), name="文化課\n（分室）")
    attachment = tmp_path / "回答.xlsx"
    attachment.write_bytes(b"PK\x03\x04")
    built = build_message(plan, department, "依頼", attachment).as_bytes(policy=policy.SMTP)
    for raw in (draft_bytes(plan, department, "依頼", b"PK\x03\x04", "回答.xlsx", now=NOW).data, built):
        message = email.message_from_bytes(raw, policy=policy.default)
        assert message["To"].addresses[0].display_name == "文化課 （分室）"
        assert [part.get_content() for part in message.iter_attachments()] == [b"PK\x03\x04"]
        assert not [part.defects for part in message.walk() if part.defects]
