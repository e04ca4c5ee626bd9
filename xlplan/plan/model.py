"""The plan as immutable records: hierarchy, projects, department entries, history, settings.

Nothing here reads or writes files; :mod:`xlplan.workspace.master` maps these records to
and from the master workbook. The depth of the hierarchy and the names of its
levels come from the plan (``levels``); nothing assumes four levels.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from xlplan.findings import Finding, Phrase
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.grading import DEFAULT_RULE, GradingRule
from xlplan.plan.values import Value

NodeKey = tuple[str, ...]
"""A node's path of numbers from the top level, e.g. ``("Ⅰ", "(1)", "①")``."""


@dataclass(frozen=True)
class Node:
    """A heading of the hierarchy above the projects (基本目標, 施策の方向, 基本事業 …)."""

    key: NodeKey
    title: str
    subtitle: str | None = None

    @property
    def level(self) -> int:
        """0 for the top level."""
        return len(self.key) - 1

    @property
    def number(self) -> str:
        """The node's own number (``①``)."""
        return self.key[-1]


@dataclass(frozen=True)
class Entry:
    """A 担当課 cell of a project: one department, or several reported jointly in one row.

    ``name`` is the cell's text as printed (``企画政策課 生涯学習課``); ``members``
    are the department names as printed, one per department that answers a share.
    Separate reporting is simply several entries on the same project.
    """

    name: str
    members: tuple[str, ...]

    @property
    def joint(self) -> bool:
        """True when several departments answer in one row."""
        return len(self.members) > 1


@dataclass(frozen=True)
class Project:
    """A 事業: the leaf of the hierarchy, the unit that departments report on."""

    no: int
    node: NodeKey
    description: str
    indicator: str | None
    unit: str | None
    baseline: Value
    entries: tuple[Entry, ...]
    # 数値目標's target (計画 sheet 目標値 / 目標年度 / 方向). None where the plan sets none; the
    # direction (増加, 減少, 維持) defaults to the sign of target − baseline when a target is set.
    target: Value | None = None
    target_year: FiscalYear | None = None
    direction: str | None = None

    def entry(self, name: str) -> Entry:
        """The entry named ``name``.

        Raises:
            KeyError: the project has no such entry.
        """
        for entry in self.entries:
            if entry.name == name:
                return entry
        raise KeyError(name)


@dataclass(frozen=True)
class Department:
    """A department of the registry.

    ``aliases`` are spellings found in plan cells (人権・同和对策室), printed as they are;
    ``former`` are the names the department had before a reorganisation, which history and
    old plan cells may still use and which are printed as the department is named now. A
    former name listed under two departments was split between them.
    """

    name: str
    aliases: tuple[str, ...] = ()
    email: str | None = None
    contact: str | None = None
    phone: str | None = None
    former: tuple[str, ...] = ()  # names before a reorganisation (機構改革): renamed from, merged from


@dataclass(frozen=True)
class HistoryRecord:
    """A value and narrative of one fiscal year, for an entry or for one member's share of it.

    ``department`` is None for the entry as a whole (the consolidated value) and a
    member name for a department's own share of a joint entry.
    """

    project_no: int
    entry: str
    fiscal_year: FiscalYear
    value: Value
    narrative: str | None = None
    department: str | None = None
    note: str | None = None  # 備考: 未回答 for a department that never answered, and the like


@dataclass(frozen=True)
class MailTemplate:
    """Subject and body with placeholders such as ``{担当課}``, ``{締切}``, ``{年度}``."""

    subject: str
    body: str


K_SMTP_HOST = "SMTPサーバー"
K_SMTP_PORT = "SMTPポート"
K_SMTP_SECURITY = "SMTP暗号化"
K_SMTP_USER = "SMTPユーザー"
K_SMTP_CAFILE = "SMTP証明書"
SMTP_KEYS = (K_SMTP_HOST, K_SMTP_PORT, K_SMTP_SECURITY, K_SMTP_USER, K_SMTP_CAFILE)
"""The 設定 keys of mail delivery (kept as typed in ``Settings.extra``, read by :func:`parse_smtp`)."""

_SECURITY = {"starttls": "starttls", "tls": "starttls", "ssl": "ssl", "smtps": "ssl", "imaps": "ssl", "なし": "none", "none": "none"}  # fmt: skip
_DEFAULT_PORT = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to deliver mail. ``security`` is ``starttls``, ``ssl`` or ``none``."""

    host: str
    port: int
    security: str = "starttls"
    user: str | None = None
    cafile: str | None = None
    timeout: float = 60.0


def parse_smtp(extra: Mapping[str, str]) -> tuple[SmtpSettings | None, tuple[Finding, ...]]:
    """The SMTP settings among the 設定 rows ``extra``: None when no SMTPサーバー is set.

    A bad port (not 1–65535) or an unknown encryption is a finding (``smtp-bad-setting``
    on the 設定 sheet): the master reader reports it when the master is read, so a typo
    never waits for the first mail to be sent.
    """
    host = (extra.get(K_SMTP_HOST) or "").strip()
    security, port, findings = _transport(extra, K_SMTP_SECURITY, K_SMTP_PORT, "smtp-bad-setting", "starttls")
    if findings or not host:
        return None, findings
    assert security is not None
    user = (extra.get(K_SMTP_USER) or "").strip() or None
    cafile = (extra.get(K_SMTP_CAFILE) or "").strip() or None
    return SmtpSettings(host, port or _DEFAULT_PORT[security], security, user, cafile), ()


def _transport(
    extra: Mapping[str, str], security_key: str, port_key: str, code: str, default: str
) -> tuple[str | None, int | None, tuple[Finding, ...]]:
    """(encryption, port or None for the default, findings) of a mail server's 設定 rows.

    The encryption is typed as staff write it (``SSL``, ``STARTTLS``, ``なし``; empty: ``default``);
    the port may be typed in full-width digits. Each bad value is a finding ``code`` naming its key.
    """
    raw_security = (extra.get(security_key) or "").strip()
    raw_port = (extra.get(port_key) or "").strip()
    findings: list[Finding] = []
    security = _SECURITY.get(raw_security.lower()) if raw_security else default
    if security is None:
        findings.append(
            Finding(
                code,
                {"key": security_key, "value": raw_security, "expected": Phrase("expected-security")},
                sheet="設定",
            )
        )
    port = None
    if raw_port:
        normal = unicodedata.normalize("NFKC", raw_port)
        port = int(normal) if normal.isascii() and normal.isdecimal() else None
        if port is None or not 0 < port < 65536:
            findings.append(
                Finding(
                    code,
                    {"key": port_key, "value": raw_port, "expected": Phrase("expected-port")},
                    sheet="設定",
                )
            )
    return security, port, tuple(findings)


K_IMAP_HOST = "IMAPサーバー"
K_IMAP_PORT = "IMAPポート"
K_IMAP_SECURITY = "IMAP暗号化"
K_IMAP_USER = "IMAPユーザー"
K_IMAP_FOLDER = "IMAPフォルダ"
K_IMAP_CAFILE = "IMAP証明書"
IMAP_KEYS = (K_IMAP_HOST, K_IMAP_PORT, K_IMAP_SECURITY, K_IMAP_USER, K_IMAP_FOLDER, K_IMAP_CAFILE)
"""The 設定 keys of the office's mailbox, where returns arrive by mail (read by :func:`parse_imap`)."""

_IMAP_DEFAULT_PORT = {"ssl": 993, "starttls": 143, "none": 143}


@dataclass(frozen=True)
class ImapSettings:
    """The plan office's mailbox: where and how to read it. ``security`` is ``ssl``, ``starttls`` or ``none``."""

    host: str
    port: int
    user: str
    security: str = "ssl"
    folder: str = "INBOX"
    cafile: str | None = None
    timeout: float = 60.0  # seconds any one wait on the server may last

    @property
    def account(self) -> str:
        """``user@host:port``: which mailbox, as the ledger records it (a folder's UIDs are per server)."""
        return f"{self.user}@{self.host}:{self.port}"


def parse_imap(extra: Mapping[str, str]) -> tuple[ImapSettings | None, tuple[Finding, ...]]:
    """The IMAP settings among the 設定 rows ``extra``: None when no IMAPサーバー is set.

    Read as :func:`parse_smtp` reads SMTP's: a bad port or encryption is ``imap-bad-setting``,
    a server without a user ``master-missing-setting`` (IMAP always logs in), both on the 設定
    sheet and reported when the master is read. Encryption defaults to SSL (IMAPS, port 993);
    STARTTLS and なし use port 143. The folder defaults to INBOX.
    """
    host = (extra.get(K_IMAP_HOST) or "").strip()
    security, port, found = _transport(extra, K_IMAP_SECURITY, K_IMAP_PORT, "imap-bad-setting", "ssl")
    findings = list(found)
    user = (extra.get(K_IMAP_USER) or "").strip()
    if host and not user:
        findings.append(Finding("master-missing-setting", {"key": K_IMAP_USER}, sheet="設定"))
    if findings or not host:
        return None, tuple(findings)
    assert security is not None
    folder = (extra.get(K_IMAP_FOLDER) or "").strip() or "INBOX"
    cafile = (extra.get(K_IMAP_CAFILE) or "").strip() or None
    return ImapSettings(host, port or _IMAP_DEFAULT_PORT[security], user, security, folder, cafile), ()


@dataclass(frozen=True)
class Settings:
    """The 設定 sheet: titles, fiscal years, deadline, the office, mail templates."""

    plan_name: str
    title: str
    levels: tuple[str, ...]
    baseline_year: FiscalYear
    previous_year: FiscalYear
    current_year: FiscalYear
    document_label: str | None = None
    slogan: str | None = None
    baseline_label: str | None = None  # how the header prints the baseline year, e.g. 27年度
    deadline: dt.date | None = None
    round: int = 1
    # 表示する過去の年度数: the years of 実績値 shown before this year (1: the previous year)
    past_years: int = 1
    municipality_code: str | None = (
        None  # 団体コード: 全国地方公共団体コード, six digits, check digit verified
    )
    office: str | None = None  # the plan office (企画政策課)
    office_contact: str | None = None
    office_email: str | None = None
    mail: dict[str, MailTemplate] = field(default_factory=dict)  # key: 依頼, 督促, 差し戻し
    extra: dict[str, str] = field(default_factory=dict)  # settings this version does not know, kept

    @property
    def smtp(self) -> SmtpSettings | None:
        """The SMTP settings, None when no SMTPサーバー is set (or the settings are bad: see :func:`parse_smtp`)."""
        return parse_smtp(self.extra)[0]

    @property
    def imap(self) -> ImapSettings | None:
        """The IMAP settings, None when no IMAPサーバー is set (or the settings are bad: see :func:`parse_imap`)."""
        return parse_imap(self.extra)[0]

    @property
    def earlier_years(self) -> tuple[FiscalYear, ...]:
        """The years shown before the previous year (oldest first), as many as 表示する過去の年度数 asks
        for beyond the previous year and none as early as the baseline, which has its own column."""
        years = (self.previous_year.western - back for back in range(self.past_years - 1, 0, -1))
        return tuple(FiscalYear(year) for year in years if year > self.baseline_year.western)

    def year_label(self, year: FiscalYear) -> str:
        """The header label of a year: the baseline's override (``27年度``) or its 和暦."""
        if year == self.baseline_year and self.baseline_label:
            return self.baseline_label
        return year.wareki


@dataclass(frozen=True)
class Plan:
    """A whole plan: what the master workbook holds."""

    settings: Settings
    nodes: tuple[Node, ...]
    projects: tuple[Project, ...]
    departments: tuple[Department, ...]
    history: tuple[HistoryRecord, ...] = ()
    # The 履歴 sheet's records as the master holds them, where reorganisations made ``history``
    # differ (entries under former names, merged records); None when they are the same.
    source_history: tuple[HistoryRecord, ...] | None = None
    grading: GradingRule = DEFAULT_RULE  # 評価基準: how 達成率 and grades are computed where targets are set

    @property
    def has_targets(self) -> bool:
        """True when any project has a 目標値 (the consolidated table then shows 達成率 and 評価)."""
        return any(project.target is not None for project in self.projects)

    @property
    def recorded_history(self) -> tuple[HistoryRecord, ...]:
        """The history as the master's 履歴 sheet holds it (what writing the master writes back)."""
        return self.history if self.source_history is None else self.source_history

    @property
    def levels(self) -> tuple[str, ...]:
        """Level names from the top to the projects' level (基本目標 … 事業)."""
        return self.settings.levels

    def node(self, key: NodeKey) -> Node:
        """The node with this key.

        Raises:
            KeyError: no such node.
        """
        for node in self.nodes:
            if node.key == key:
                return node
        raise KeyError(key)

    def ancestors(self, project: Project) -> list[Node]:
        """The project's headings from the top level down."""
        return [self.node(project.node[: depth + 1]) for depth in range(len(project.node))]

    def project(self, no: int) -> Project:
        """The project numbered ``no``.

        Raises:
            KeyError: no such project.
        """
        for project in self.projects:
            if project.no == no:
                return project
        raise KeyError(no)

    def canonical_department(self, name: str) -> str | None:
        """The registry name for a department as printed in a plan cell, or None if unknown."""
        for department in self.departments:
            if name == department.name or name in department.aliases:
                return department.name
        successors = [department.name for department in self.departments if name in department.former]
        return successors[0] if len(successors) == 1 else None  # a split former name is no one

    def current_entry(self, project_no: int, entry: str, department: str) -> tuple[str, str] | None:
        """(entry, department) as the plan names them now, for a row named ``entry`` answered by
        ``department`` when it was distributed; None when the plan has no such row any more.

        A department renamed since (担当課's 旧名称) renames the entries it is part of: its own
        and its co-departments' rows of 企画政策課 社会福祉課 are now those of 企画政策課 福祉課.
        """
        now = self.canonical_department(department)
        if now is None:
            return None
        try:
            project = self.project(project_no)
        except KeyError:
            return None
        ours = [e for e in project.entries if now in {self.canonical_department(m) for m in e.members}]
        named = [e for e in ours if e.name == entry]
        found = named or ours
        return (found[0].name, now) if len(found) == 1 else None

    def department(self, name: str) -> Department:
        """The registry record for ``name`` or one of its aliases.

        Raises:
            KeyError: not registered.
        """
        canonical = self.canonical_department(name)
        for department in self.departments:
            if department.name == canonical:
                return department
        raise KeyError(name)

    def assignments(self, department: str) -> Iterator[tuple[Project, Entry, str]]:
        """Every (project, entry, member-as-printed) that ``department`` answers, in plan order."""
        canonical = self.canonical_department(department)
        for project in self.projects:
            for entry in project.entries:
                for member in entry.members:
                    if self.canonical_department(member) == canonical:
                        yield project, entry, member

    def history_for(
        self, project_no: int, entry: str, year: FiscalYear, department: str | None = None
    ) -> HistoryRecord | None:
        """The history record of an entry (or one member's share) in ``year``, if any."""
        for record in self.history:
            if (
                record.project_no == project_no
                and record.entry == entry
                and record.fiscal_year == year
                and record.department == department
            ):
                return record
        return None

    def to_dict(self) -> dict[str, Any]:
        """The whole plan as plain JSON data (``xlplan plan show --json``)."""
        settings = self.settings
        years: dict[tuple[int, str], dict[str, Any]] = {}
        for record in self.history:
            key = (record.project_no, record.entry)
            bucket = years.setdefault(key, {})
            item: dict[str, Any] = {"value": record.value.to_json(), "narrative": record.narrative}
            if record.note:
                item["note"] = record.note
            if record.department is None:
                bucket.setdefault(record.fiscal_year.wareki, {}).update(item)
            else:
                shares = bucket.setdefault(record.fiscal_year.wareki, {}).setdefault("shares", {})
                shares[record.department] = item
        per_level: dict[str, int] = {name: 0 for name in settings.levels}
        for node in self.nodes:
            per_level[settings.levels[node.level]] += 1
        per_level[settings.levels[-1]] = len(self.projects)
        return {
            "plan_name": settings.plan_name,
            "title": settings.title,
            "document_label": settings.document_label,
            "slogan": settings.slogan,
            "levels": list(settings.levels),
            "fiscal_years": {
                "baseline": _year_json(settings.baseline_year),
                "previous": _year_json(settings.previous_year),
                "current": _year_json(settings.current_year),
            },
            "counts": {
                "per_level": per_level,
                "projects": len(self.projects),
                "entries": sum(len(project.entries) for project in self.projects),
                "named_departments": sum(
                    len(entry.members) for project in self.projects for entry in project.entries
                ),
                "departments": len(self.departments),
            },
            "nodes": [
                {
                    "level": settings.levels[node.level],
                    "path": list(node.key),
                    "number": node.number,
                    "title": node.title,
                    "subtitle": node.subtitle,
                }
                for node in self.nodes
            ],
            "projects": [
                {
                    "no": project.no,
                    "path": list(project.node),
                    "description": project.description,
                    "indicator": project.indicator,
                    "unit": project.unit,
                    "baseline": project.baseline.to_json(),
                    **_target_json(project),
                    "entries": [
                        {
                            "name": entry.name,
                            "members": list(entry.members),
                            "departments": [self.canonical_department(m) for m in entry.members],
                            "joint": entry.joint,
                            "values": years.get((project.no, entry.name), {}),
                        }
                        for entry in project.entries
                    ],
                }
                for project in self.projects
            ],
            "departments": [
                {
                    "name": department.name,
                    "aliases": list(department.aliases),
                    **({"former": list(department.former)} if department.former else {}),
                    "email": department.email,
                    "contact": department.contact,
                }
                for department in self.departments
            ],
        }


def _target_json(project: Project) -> dict[str, Any]:
    """A project's target fields for JSON, only those that are set (plans without targets print as before)."""
    fields: dict[str, Any] = {}
    if project.target is not None:
        fields["target"] = project.target.to_json()
    if project.target_year is not None:
        fields["target_year"] = _year_json(project.target_year)
    if project.direction is not None:
        fields["direction"] = project.direction
    return fields


def _year_json(year: FiscalYear) -> dict[str, Any]:
    return {"wareki": year.wareki, "western": year.western}


@dataclass(frozen=True)
class Answer:
    """A department's answer for one row it was sent: its share of an entry in the current year.

    This is what collection produces from a returned workbook and what
    consolidation combines into the table. ``department`` is the member name as
    printed in the plan (for a single-department entry, the entry's name).
    """

    project_no: int
    entry: str
    department: str
    value: Value
    narrative: str | None = None
