"""A plan that is not the example: みらい市's, of another shape, for tests that must not lean on the seed.

Three levels (政策 › 施策 › 取組, the projects being the 取組), rows in % 件 人 回 and
rows of marks only, a joint entry whose previous-year values are kept per department
(内訳の課) only, a project answered by two departments on separate rows, and five
departments, one of them a 室 with a variant spelling in the plan's cells.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.model import Department, Entry, HistoryRecord, MailTemplate, Node, Plan, Project, Settings
from xlplan.plan.values import Mark, Value

PREVIOUS = FiscalYear(2025)

BOSAI, SHOBO, FUKUSHI, GAKUSHU, KOMINKAN = "防災課", "消防本部", "福祉課", "生涯学習課", "公民館"


def mirai_plan() -> Plan:
    """第2次みらい市総合計画, year 令和8年度: the plan the LibreOffice end-to-end tests fill."""
    settings = Settings(
        plan_name="第2次みらい市総合計画",
        title="第2次みらい市総合計画 取組実績一覧（令和8年度）",
        levels=("政策", "施策", "取組"),
        baseline_year=FiscalYear(2022),
        previous_year=PREVIOUS,
        current_year=FiscalYear(2026),
        document_label="資料1",
        deadline=dt.date(2027, 5, 31),
        office="企画課",
        office_contact="計画係 内線 210",
        office_email="kikaku@mirai.example",
        municipality_code="139998",  # a made-up city's code (its check digit is right): open data carries it
        mail={
            "依頼": MailTemplate(
                "{年度}取組実績の照会", "{担当課} 様\n別添のブックに記入して返送してください。\n"
            ),
            "督促": MailTemplate("【再送】{年度}取組実績の照会", "{担当課} 様\n締切を過ぎています。\n"),
            "差し戻し": MailTemplate(
                "【修正依頼】{年度}取組実績", "{担当課} 様\n別添の差し戻し票を修正してください。\n"
            ),
        },
    )
    nodes = (
        Node(("1",), "安全で安心なまち"),
        Node(("1", "1-1"), "地域の防災力を高める"),
        Node(("1", "1-2"), "災害時の暮らしを守る"),
        Node(("2",), "学び合い支え合うまち"),
        Node(("2", "2-1"), "生涯学習の機会をつくる"),
        Node(("2", "2-2"), "相談と支援を届ける"),
    )
    projects = (
        Project(1, ("1", "1-1"), "自主防災組織の結成を支援する。", "自主防災組織の結成率", "%",
                Value(Decimal("62.5"), "%"), (Entry(BOSAI, (BOSAI,)),)),
        Project(2, ("1", "1-1"), "地域と合同の防災訓練を実施する。", "合同防災訓練の実施回数", "回",
                Value(Decimal(12), "回"), (Entry(f"{BOSAI} {SHOBO}", (BOSAI, SHOBO)),)),
        Project(3, ("1", "1-2"), "避難所の運営に女性の視点を取り入れる。", None, None,
                Value(mark=Mark.NOT_APPLICABLE), (Entry(BOSAI, (BOSAI,)), Entry(FUKUSHI, (FUKUSHI,)))),
        Project(4, ("2", "2-1"), "公民館講座を開催する。", "講座の受講者数", "人",
                Value(Decimal(1200), "人"), (Entry(GAKUSHU, (GAKUSHU,)), Entry(KOMINKAN, (KOMINKAN,)))),
        Project(5, ("2", "2-2"), "暮らしの相談窓口を運営する。", "相談件数", "件",
                Value(Decimal(310), "件"), (Entry(FUKUSHI, (FUKUSHI,)),)),
        Project(6, ("2", "2-2"), "審議会への女性の登用を進める。", "審議会委員に占める女性の割合", "%",
                Value(Decimal("28.4"), "%"), (Entry(FUKUSHI, (FUKUSHI,)),)),
        Project(7, ("2", "2-1"), "子ども向けの体験学習を実施する。", None, None,
                Value(mark=Mark.DONE), (Entry(KOMINKAN, (KOMINKAN,)),)),
    )  # fmt: skip
    departments = (
        Department(BOSAI, email="bosai@mirai.example", contact="佐藤"),
        Department(SHOBO, email="shobo@mirai.example"),
        Department(FUKUSHI, email="fukushi@mirai.example"),
        Department(GAKUSHU, email="gakushu@mirai.example"),
        Department(KOMINKAN, ("中央公民舘",), email="kominkan@mirai.example"),
    )
    history = (
        HistoryRecord(1, BOSAI, PREVIOUS, Value(Decimal("70.1"), "%"), "72団体が結成した。"),
        # the joint entry's previous year is kept per department only: 8回 + 6回
        HistoryRecord(2, f"{BOSAI} {SHOBO}", PREVIOUS, Value(Decimal(8), "回"), "地区訓練 8 回", BOSAI),
        HistoryRecord(2, f"{BOSAI} {SHOBO}", PREVIOUS, Value(Decimal(6), "回"), "消防団と 6 回", SHOBO),
        HistoryRecord(3, BOSAI, PREVIOUS, Value(mark=Mark.DONE), "運営マニュアルを改訂した。"),
        HistoryRecord(3, FUKUSHI, PREVIOUS, Value(mark=Mark.NOT_DONE)),
        HistoryRecord(4, GAKUSHU, PREVIOUS, Value(Decimal(1350), "人"), "講座 40 回"),
        HistoryRecord(4, KOMINKAN, PREVIOUS, Value(Decimal(412), "人"), "地区館で 12 講座"),
        HistoryRecord(5, FUKUSHI, PREVIOUS, Value(Decimal(1957), "件"), "電話相談を含む。"),
        HistoryRecord(6, FUKUSHI, PREVIOUS, Value(Decimal("30.2"), "%")),
        HistoryRecord(7, KOMINKAN, PREVIOUS, Value(mark=Mark.DONE), "夏休みに 5 回"),
    )
    return Plan(settings, nodes, projects, departments, history)
