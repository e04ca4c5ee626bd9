"""Embedded example plans.

``ogi`` is the 第2次小城市男女共同参画プラン as transcribed cell by cell in
``ogi/seed_plan.json`` (the 令和2年度 事業実績一覧). The plan, its 現状値 and
its 令和元年度 values go into the master; its 令和2年度 values and narratives are
kept as the departments' answers that ``xlplan demo`` returns.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

from xlplan.errors import ConfigurationError
from xlplan.findings import Finding
from xlplan.plan.fiscal_year import parse_fiscal_year
from xlplan.plan.model import (
    Answer,
    Department,
    Entry,
    HistoryRecord,
    MailTemplate,
    Node,
    Plan,
    Project,
    Settings,
)
from xlplan.plan.values import Mark, Value, parse_value, unit_of

EXAMPLES = ("ogi",)

# The registry of the example: name, mail local part, other spellings found in the plan.
# 人権・同和对策室 (U+5BF9) is how project 2's cell prints 人権・同和対策室; the seed keeps it verbatim.
_OGI_DEPARTMENTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("企画政策課", "kikaku", ()),
    ("人権・同和対策室", "jinken", ("人権・同和对策室",)),
    ("文化課", "bunka", ()),
    ("総務課", "somu", ()),
    ("保育幼稚園課", "hoiku", ()),
    ("学校教育課", "gakko", ()),
    ("生涯学習課", "shogai", ()),
    ("健康増進課", "kenko", ()),
    ("社会福祉課", "fukushi", ()),
    ("高齢障がい支援課", "korei", ()),
    ("防災対策課", "bosai", ()),
    ("教育総務課", "kyoikusomu", ()),
    ("農業委員会", "nogyo", ()),
    ("市民課", "shimin", ()),
    ("定住推進課", "teiju", ()),
)
# A 担当課 cell that is not itself a department name, and the department that answers for it.
_OGI_ANSWERING: dict[str, tuple[str, ...]] = {"企画政策課 (関係各課)": ("企画政策課",)}

MAIL_REQUEST = MailTemplate(
    subject="【{締切}締切】{計画名} {年度}実績の照会（{担当課}）",
    body=(
        "{担当課} {担当者} 様\n\n"
        "いつもお世話になっております。{照会元}です。\n"
        "{計画名}の{年度}の事業実績について照会します。\n\n"
        "添付のExcelファイルの黄色のセルに、{年度}の実績値と取り組み状況を記入し、\n"
        "{締切}までに、ファイル名を変えずにこのメールへの返信で送付してください。\n"
        "記入方法はファイルの「記入方法」シートにあります。\n\n"
        "ご不明な点は{照会元}までお問い合わせください。\n"
    ),
)
MAIL_REMINDER = MailTemplate(
    subject="【再送・{締切}締切】{計画名} {年度}実績の照会（{担当課}）",
    body=(
        "{担当課} {担当者} 様\n\n"
        "{照会元}です。{計画名}の{年度}実績の照会について、まだ回答をいただいていません。\n"
        "お手数ですが、先日お送りしたファイルに記入のうえ、至急ご回答ください。\n"
        "すでに送付済みの場合は、行き違いですのでご容赦ください。\n"
    ),
)
MAIL_RETURN = MailTemplate(
    subject="【修正のお願い】{計画名} {年度}実績の照会（{担当課}）",
    body=(
        "{担当課} {担当者} 様\n\n"
        "{照会元}です。ご回答ありがとうございました。\n"
        "内容を確認したところ、修正が必要な箇所がありました。\n"
        "添付の差し戻し票で、色の付いたセルとコメントを確認のうえ、修正して再度送付してください。\n"
    ),
)


@dataclass(frozen=True)
class Example:
    """An example plan and the answers its departments give in the current year."""

    plan: Plan
    answers: tuple[Answer, ...]


def load_seed(name: str = "ogi") -> dict[str, Any]:
    """The raw transcription of an example (``seed_plan.json``)."""
    _check_name(name)
    text = resources.files("xlplan.examples").joinpath(name, "seed_plan.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def load_example(name: str = "ogi") -> Example:
    """Build the example's plan and answers from its transcription.

    Raises:
        ConfigurationError: no example of that name.
    """
    seed = load_seed(name)
    years = seed["fiscal_years"]
    baseline_year = parse_fiscal_year(years["baseline"])
    previous_year = parse_fiscal_year(years["previous"])
    current_year = parse_fiscal_year(years["current"])
    settings = Settings(
        plan_name="第2次小城市男女共同参画プラン",
        title=seed["title"],
        levels=("基本目標", "施策の方向", "基本事業", "事業"),
        baseline_year=baseline_year,
        previous_year=previous_year,
        current_year=current_year,
        document_label=seed["document_label"],
        slogan=seed["slogan"],
        baseline_label=baseline_year.short,  # the seed's header prints 27年度, without 平成
        deadline=dt.date(current_year.western + 1, 5, 31),
        round=1,
        office="企画政策課",
        office_contact="男女共同参画担当",
        office_email="kikaku@ogi.example",
        municipality_code="412104",  # 佐賀県小城市
        mail={"依頼": MAIL_REQUEST, "督促": MAIL_REMINDER, "差し戻し": MAIL_RETURN},
    )
    nodes: list[Node] = []
    projects: list[Project] = []
    history: list[HistoryRecord] = []
    answers: list[Answer] = []
    for goal in seed["goals"]:
        goal_key = (goal["number"],)
        nodes.append(Node(goal_key, goal["title"], goal["subtitle"]))
        for direction in goal["directions"]:
            direction_key = (*goal_key, direction["number"])
            nodes.append(Node(direction_key, direction["title"]))
            for program in direction["programs"]:
                program_key = (*direction_key, program["number"])
                nodes.append(Node(program_key, program["title"]))
                for item in program["projects"]:
                    project = _project(item, program_key)
                    projects.append(project)
                    for entry, raw in zip(project.entries, item["departments"], strict=True):
                        if raw["previous"] is not None:
                            history.append(
                                HistoryRecord(
                                    project.no,
                                    entry.name,
                                    previous_year,
                                    _value(raw["previous"], project.unit),
                                )
                            )
                        answers.extend(_shares(project, entry, raw))
    departments = tuple(
        Department(name, aliases, email=f"{local}@ogi.example", contact=f"{name}担当者")
        for name, local, aliases in _OGI_DEPARTMENTS
    )
    plan = Plan(settings, tuple(nodes), tuple(projects), departments, tuple(history))
    return Example(plan, tuple(answers))


def _check_name(name: str) -> None:
    if name not in EXAMPLES:
        raise ConfigurationError(
            [Finding("unknown-example", {"name": name, "available": ", ".join(EXAMPLES)})]
        )


def _project(item: dict[str, Any], node: tuple[str, ...]) -> Project:
    # The seed prints units inside the values (172人); the project's unit is the one they share.
    unit = None
    if item["indicator"]:
        printed = [item["baseline"]] + [d[k] for d in item["departments"] for k in ("previous", "current")]
        units = {unit_of(text) for text in printed if text} - {None}
        unit = units.pop() if len(units) == 1 else None
    entries = tuple(
        Entry(raw["name"], tuple(raw.get("joint") or _OGI_ANSWERING.get(raw["name"], (raw["name"],))))
        for raw in item["departments"]
    )
    return Project(
        no=item["no"],
        node=node,
        description=item["description"],
        indicator=item["indicator"],
        unit=unit,
        baseline=_value(item["baseline"], unit),
        entries=entries,
    )


def _value(text: str | None, unit: str | None) -> Value:
    parsed = parse_value(text, unit, unit_known=True)
    if not parsed.ok or parsed.value is None:
        raise ValueError(f"example value does not parse: {text!r}")
    return parsed.value


_SHARE_TOTAL = re.compile(r"計\s*([\d,]+)\s*")


def _shares(project: Project, entry: Entry, raw: dict[str, Any]) -> list[Answer]:
    """Split a seed row into the answers its departments give.

    Where the narrative labels each department's part (project 1: 【企画政策課】 計 90 人 …
    【生涯学習課】 計 69 人 …) each department answers its part and the number after 計.
    Otherwise the first department answers for the whole entry and the others answer
    — (0 for a number), so the combined row equals the seed's either way.
    """
    value = _value(raw["current"], project.unit)
    narrative: str | None = raw["narrative"]
    if not entry.joint:
        return [Answer(project.no, entry.name, entry.members[0], value, narrative)]
    parts = _labelled_parts(narrative or "", entry.members)
    if parts is not None:
        answers = []
        for member in entry.members:
            part = parts[member]
            total = _SHARE_TOTAL.search(part)
            share = Value(Decimal(total.group(1).replace(",", "")), project.unit) if total else value
            answers.append(Answer(project.no, entry.name, member, share, part))
        return answers
    rest = Value(Decimal(0), project.unit) if value.number is not None else Value(mark=Mark.NOT_APPLICABLE)
    return [Answer(project.no, entry.name, entry.members[0], value, narrative)] + [
        Answer(project.no, entry.name, member, rest, None) for member in entry.members[1:]
    ]


def _labelled_parts(narrative: str, members: tuple[str, ...]) -> dict[str, str] | None:
    """``{member: text}`` when the narrative has a 【member】 heading for every member, in order."""
    positions = [narrative.find(f"【{member}】") for member in members]
    if any(position < 0 for position in positions) or positions != sorted(positions) or positions[0] != 0:
        return None
    parts = {}
    bounds = [*positions, len(narrative)]
    for index, member in enumerate(members):
        heading = f"【{member}】"
        text = narrative[bounds[index] + len(heading) : bounds[index + 1]]
        # The heading is followed by one space; the part ends at the line break before the next heading.
        parts[member] = text.removeprefix(" ").removesuffix("\n")
    return parts
