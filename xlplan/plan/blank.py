"""A plan with no projects yet, for a city starting its own: levels, years, settings and mail texts.

``xlplan init DIR`` writes it as the master; the plan office then fills the 計画 and 担当課
sheets (or starts from a table it already has: ``xlplan init DIR --from``). The year it
reports on is guessed from today: results of a fiscal year are asked for from the spring
after it, so a master made between October and the next September reports on the fiscal year
that began in the April before.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
from collections.abc import Sequence

from xlplan.findings import Finding
from xlplan.plan.fiscal_year import FiscalYear, FiscalYearError, parse_fiscal_year
from xlplan.plan.model import MailTemplate, Plan, Settings

DEFAULT_LEVELS = ("基本目標", "施策の方向", "基本事業", "事業")
PLACEHOLDER_NAME = "（計画名を入力してください）"
INDICATOR_PLACEHOLDER = "（数値目標を入力してください）"
"""The 数値目標 `init --from` writes for a project with values in a unit but no indicator named."""

DEFAULT_MAIL = {
    "依頼": MailTemplate(
        "【{締切}締切】{計画名} {年度}実績の照会（{担当課}）",
        "{担当課} {担当者} 様\n\nいつもお世話になっております。{照会元}です。\n"
        "{計画名}の{年度}の事業実績について照会します。\n\n"
        "添付のExcelファイルの黄色のセルに、{年度}の実績値と取り組み状況を記入し、\n"
        "{締切}までに、ファイル名を変えずにこのメールへの返信で送付してください。\n"
        "記入方法はファイルの「記入方法」シートにあります。\n\n"
        "ご不明な点は{照会元}までお問い合わせください。\n",
    ),
    "督促": MailTemplate(
        "【再送・{締切}締切】{計画名} {年度}実績の照会（{担当課}）",
        "{担当課} {担当者} 様\n\n{照会元}です。{計画名}の{年度}実績の照会について、まだ回答をいただいていません。\n"
        "お手数ですが、先日お送りしたファイルに記入のうえ、至急ご回答ください。\n"
        "すでに送付済みの場合は、行き違いですのでご容赦ください。\n",
    ),
    "差し戻し": MailTemplate(
        "【修正のお願い】{計画名} {年度}実績の照会（{担当課}）",
        "{担当課} {担当者} 様\n\n{照会元}です。ご回答ありがとうございました。\n"
        "内容を確認したところ、修正が必要な箇所がありました。\n"
        "添付の差し戻し票で、色の付いたセルとコメントを確認のうえ、修正して再度送付してください。\n",
    ),
}
"""The mail texts a new master starts with; the office edits them on the 設定 sheet."""


def reporting_year(today: dt.date) -> FiscalYear:
    """The fiscal year a plan office made a master on ``today`` asks about (see the module's docstring)."""
    month = today.month - 6
    year = today.year + (month - 1) // 12
    shifted = dt.date(year, (month - 1) % 12 + 1, 1)
    return FiscalYear(shifted.year if shifted.month >= 4 else shifted.year - 1)


def default_title(plan_name: str, levels: Sequence[str], year: FiscalYear) -> str:
    """The consolidated table's title for a new plan: 〇〇計画 事業実績一覧（R8）."""
    return f"{plan_name} {levels[-1]}実績一覧（{year.letter}）"


def blank_plan(
    levels: Sequence[str] = DEFAULT_LEVELS, *, name: str | None = None, today: dt.date | None = None
) -> Plan:
    """A plan with these level names (top first, the projects' level last) and nothing in it yet.

    Raises:
        ValueError: no level names, a blank one, or the same name twice.
    """
    cleaned = tuple(level.strip() for level in levels)
    if not cleaned or any(not level for level in cleaned) or len(set(cleaned)) != len(cleaned):
        raise ValueError("levels")
    current = reporting_year(today or dt.date.today())
    plan_name = (name or "").strip() or PLACEHOLDER_NAME
    settings = Settings(
        plan_name=plan_name,
        title=default_title(plan_name, cleaned, current),
        levels=cleaned,
        baseline_year=current.previous(),  # the office sets the year of the plan's 現状値
        previous_year=current.previous(),
        current_year=current,
        deadline=dt.date(current.western + 1, 5, 31),
        round=1,
        mail=dict(DEFAULT_MAIL),
    )
    return Plan(settings, (), (), ())


# ----------------------------------------------------------------------------------------
# the next year's texts
# ----------------------------------------------------------------------------------------


_DIGIT = "0-9０-９"
_YEAR_WORD = re.compile(
    rf"(?P<era>(?:令和|平成)\s*(?:元|[{_DIGIT}]{{1,2}})\s*年度)"
    rf"|(?P<western>(?<![{_DIGIT}])[{_DIGIT}]{{4}}\s*年度)"
    # R2, Ｒ２, R02, H30 standing alone: not inside a word or a number (R2D2, AR2, R201)
    rf"|(?P<letter>(?<![A-Za-zＡ-Ｚａ-ｚ{_DIGIT}])[RHＲＨ][{_DIGIT}]{{1,2}}(?![A-Za-zＡ-Ｚａ-ｚ{_DIGIT}]))"
)
_BETWEEN_RANGE = re.compile(r"\s*(?:[～〜~\-－‐ー–—]|から)\s*")
_PERIOD_START = re.compile(rf"\s*(?:[～〜~\-－‐ー–—]\s*[{_DIGIT}元]|から\s*[{_DIGIT}元])")
_WIDE = str.maketrans("0123456789RH", "０１２３４５６７８９ＲＨ")


def advance_text(text: str, year: FiscalYear) -> str:
    """``text`` with the fiscal year ``year`` written as the year after it, in every form it takes.

    A title says which year it is about (事業実績一覧（R2）, 令和2年度 進捗状況, 2020年度): each
    mention of ``year`` — 和暦, 西暦 or letter form, in full-width digits as an IME types them
    (令和２年度), zero-padded (R02), or as 平成31年度 for 令和元年度 — becomes the next year in the
    same form and width. A year that starts or ends a period (令和2年度～令和6年度, the plan's
    years) is the period's, not the report's, and is kept; so is anything else.
    """
    words = list(_YEAR_WORD.finditer(text))
    in_period: set[int] = set()
    for index, (word, following) in enumerate(itertools.pairwise(words)):
        if _BETWEEN_RANGE.fullmatch(text, word.end(), following.start()):
            in_period |= {index, index + 1}
    for index, word in enumerate(words):
        # 令和2年度～6年度, 令和2年度から5年間: a year that starts a period however its end is written
        if _PERIOD_START.match(text, word.end()):
            in_period.add(index)
    pieces: list[str] = []
    position = 0
    for index, word in enumerate(words):
        replacement = None if index in in_period else _next_word(word, year)
        if replacement is not None:
            pieces += [text[position : word.start()], replacement]
            position = word.end()
    return "".join(pieces) + text[position:]


def _next_word(word: re.Match[str], year: FiscalYear) -> str | None:
    """The year after ``year`` in the form and width of ``word``; None when ``word`` is another year."""
    found = word.group(0)
    try:
        if parse_fiscal_year(found) != year:
            return None
    except FiscalYearError:
        return None
    after = year.next()
    if word.group("era"):
        written = after.wareki
    elif word.group("western"):
        written = f"{after.western}年度"
    else:
        number = str(after.era_year)
        if unicodedata.normalize("NFKC", found)[1] == "0":  # R02 → R03
            number = number.zfill(2)
        written = after.letter[0] + number
    wide = any("０" <= char <= "９" or char in "ＲＨ" for char in found)
    return written.translate(_WIDE) if wide else written


def unfinished(plan: Plan) -> list[Finding]:
    """What a master made by ``init`` still lacks before anything goes out or is published: its
    projects, and a name of its own (the placeholder would name every file, mail and table)."""
    if not plan.projects:
        return [Finding("plan-no-projects")]
    if plan.settings.plan_name == PLACEHOLDER_NAME:
        return [Finding("master-missing-setting", {"key": "計画名"}, sheet="設定", cell="B2")]
    unnamed = [str(project.no) for project in plan.projects if project.indicator == INDICATOR_PLACEHOLDER]
    if unnamed:
        return [Finding("plan-indicator-placeholder", {"projects": "、".join(unnamed[:20])}, sheet="計画")]
    return []
