"""The master workbook's format: its sheets, the 設定 keys and their explanations, the columns."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl.styles import Alignment, Font, PatternFill

SHEET_GUIDE = "説明"
SHEET_SETTINGS = "設定"
SHEET_PLAN = "計画"
SHEET_DEPARTMENTS = "担当課"
SHEET_HISTORY = "履歴"
REQUIRED_SHEETS = (SHEET_SETTINGS, SHEET_PLAN, SHEET_DEPARTMENTS, SHEET_HISTORY)
SHEET_GRADING = "評価基準"  # optional: a master without it grades by the default rule

# 計画 sheet columns of a project's target (optional: masters without them read as before).
C_TARGET = "目標値"
C_TARGET_YEAR = "目標年度"
C_DIRECTION = "方向"
TARGET_COLUMNS = (C_TARGET, C_TARGET_YEAR, C_DIRECTION)

# 評価基準 sheet: 項目・値・説明 rows, then the 区分 table under a row whose A cell is 区分.
G_METHOD = "算式"
G_PRORATE = "按分"
G_BAND = "変化なしの幅"
G_BAND_LABEL = "変化なしの区分"
G_UNGRADED = "評価できない区分"
G_TABLE = "区分"
G_MINIMUM = "下限"
GRADING_ITEMS = (G_METHOD, G_PRORATE, G_BAND, G_BAND_LABEL, G_UNGRADED)
YES, NO = "する", "しない"
GRADING_HELP: dict[str, str] = {
    G_METHOD: "達成率の計算のしかた。差分: (実績値 − 現状値) ÷ (目標値 − 現状値) × 100。"
    "比率: 実績値 ÷ 目標値 × 100（方向が減少の指標は 目標値 ÷ 実績値）。方向が維持の指標はどちらでも 実績値 ÷ 目標値。",
    G_PRORATE: "する: 目標年度より前の年度は、現状値から目標値までを年数で按分した値を その年度の目標とします。しない: 毎年度 目標値と比べます。",
    G_BAND: "現状値から ± この % 以内の実績値を「変化なし」とします（例: 10）。空欄なら使いません。目標に達したときは区分が優先します。",
    G_BAND_LABEL: "変化なしの幅に入ったときの評価（例: 変化なし、B）。",
    G_UNGRADED: "実績値がない・記号（○ × —）などで評価できないときの表示（例: −）。",
}
GRADING_TABLE_HELP = (
    "区分の表: 上から高い順に、区分の名称と下限（達成率が何 % 以上か）。下限が空欄の区分は、それより上の"
    "どの区分にも入らないときの区分です（最後の行）。"
)

# Settings keys. The Japanese key is what staff see and type; the model field is on the right.
K_PLAN_NAME = "計画名"
K_TITLE = "表題"
K_LABEL = "資料番号"
K_SLOGAN = "スローガン"
K_LEVEL = "階層"  # 階層1, 階層2, …
K_BASELINE = "現状値年度"
K_BASELINE_LABEL = "現状値年度の表示"
K_PREVIOUS = "前年度"
K_CURRENT = "今年度"
K_ROUND = "回"
K_PAST_YEARS = "表示する過去の年度数"
K_MUNICIPALITY_CODE = "団体コード"
PAST_YEARS_MAX = 10


def parse_past_years(raw: object) -> int | None:
    """表示する過去の年度数 as typed (``3``, ``３``, 3.0; blank is 1), or None when it is not 1 … 10."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return 1
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    try:
        number = int(unicodedata.normalize("NFKC", str(raw)).strip())
    except ValueError:
        return None
    return number if 1 <= number <= PAST_YEARS_MAX else None


K_DEADLINE = "締切"
K_OFFICE = "担当部署"
K_OFFICE_CONTACT = "担当者"
K_OFFICE_EMAIL = "連絡先メール"
MAIL_KINDS = ("依頼", "督促", "差し戻し")

SETTING_HELP: dict[str, str] = {
    K_PLAN_NAME: "計画の名称。ファイル名やメールに使います。",
    K_TITLE: "集約表（事業実績一覧）の表題。",
    K_LABEL: "集約表の右上に表示する資料番号（例: 資料 1-3）。",
    K_SLOGAN: "集約表の見出し行に表示するスローガン。",
    K_BASELINE: "現状値の年度（例: 平成27年度）。",
    K_BASELINE_LABEL: "集約表の見出しでの現状値年度の表示（例: 27年度）。空欄なら和暦で表示。",
    K_PREVIOUS: "前年度（例: 令和元年度）。",
    K_CURRENT: "今年度 = 今回照会する年度（例: 令和2年度）。",
    K_ROUND: "今年度の照会の回（通常は 1）。",
    K_MUNICIPALITY_CODE: "全国地方公共団体コード（6桁、最後は検査数字。例: 小城市 412104）。オープンデータの CSV の先頭の列に入ります。",
    K_PAST_YEARS: "回答票と集約表に並べる過去の実績値の年度数（前年度を含む）。1 なら前年度だけ、"
    "3 なら前年度とその前の 2 年度。現状値の列は別にあります。",
    K_DEADLINE: "担当課からの回答の締切日（例: 2021/5/31）。",
    K_OFFICE: "照会元の部署名（問い合わせ先）。",
    K_OFFICE_CONTACT: "照会元の担当者名。",
    K_OFFICE_EMAIL: "回答の送付先メールアドレス。",
}

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_FONT = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


@dataclass(frozen=True)
class PlanColumns:
    """The 計画 sheet's column names, which depend on the level names."""

    levels: tuple[str, ...]

    def node_columns(self, depth: int) -> tuple[str, str, str]:
        """Number, title and subtitle columns of the non-leaf level ``depth``."""
        name = self.levels[depth]
        return name, f"{name}名", f"{name}副題"

    @property
    def leaf(self) -> str:
        """The projects' level name (事業)."""
        return self.levels[-1]

    @property
    def number(self) -> str:
        """The project number column (事業番号)."""
        return f"{self.leaf}番号"

    @property
    def description(self) -> str:
        """The description column (事業の内容)."""
        return f"{self.leaf}の内容"

    def all(self) -> list[str]:
        """Every column in order."""
        columns: list[str] = []
        for depth in range(len(self.levels) - 1):
            columns.extend(self.node_columns(depth))
        columns += [self.number, self.description, "数値目標", "単位", "現状値", "担当課", "回答する課"]
        columns += TARGET_COLUMNS  # last, so that masters made before targets keep their cells
        return columns


def history_columns(levels: Sequence[str]) -> list[str]:
    """The 履歴 sheet's columns."""
    return [f"{levels[-1]}番号", "担当課", "内訳の課", "年度", "値", "実績内容", "備考"]


DEPARTMENT_COLUMNS = ["担当課", "別名", "メールアドレス", "担当者", "電話", "旧名称"]
LIST_SPLIT = re.compile(r"[、,，\n]+")
