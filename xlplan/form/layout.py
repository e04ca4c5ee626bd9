"""The layout of a department workbook: what distribution writes and collection reads.

Both sides use this module so the sheet names, header texts and column keys
cannot drift apart. Collection finds columns by their header text in
:data:`HEADER_ROW` (so an inserted column does not shift the reading) and
rows by the row id in the first column (so inserted or reordered rows are
recognised), and it trusts the manifest, not the sheet, for what was sent.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

RESPONSE_SHEET = "回答"
GUIDE_SHEET = "記入方法"
MANIFEST_SHEET = "_xlplan"
"""Very hidden sheet holding the signed manifest as JSON text in column A (32,767 characters a cell)."""

TEMPLATE_VERSION = "1"
"""Bumped whenever the layout changes in a way a reader must know."""

TITLE_ROW = 1
INFO_ROW = 2
HEADER_ROW = 4
FIRST_DATA_ROW = 5

NARRATIVE_MAX = 2000
"""Longest narrative accepted (characters). The seed's longest is about 700."""


@dataclass(frozen=True)
class Column:
    """One column of the 回答 sheet. ``key`` is stable; ``header`` is what people see."""

    key: str
    header: str
    width: float
    input: bool = False  # yellow and unlocked; everything else is locked and grey


# Keys of the fixed columns. Hierarchy columns are ``level1`` … ``levelN`` (N = depth - 1).
ROW_ID = "row_id"
PROJECT_NO = "project_no"
DESCRIPTION = "description"
INDICATOR = "indicator"
UNIT = "unit"
ENTRY = "entry"
DEPARTMENT = "department"
BASELINE = "baseline"
PREVIOUS_VALUE = "previous_value"
PREVIOUS_NARRATIVE = "previous_narrative"
CURRENT_VALUE = "current_value"
CURRENT_NARRATIVE = "current_narrative"
EARLIER_VALUE = "earlier_value_"
"""Prefix of the keys of the years shown before the previous year (``earlier_value_2018``)."""


def earlier_value_key(western: int) -> str:
    """The column key of an earlier year's value: stable, since the year is in it."""
    return f"{EARLIER_VALUE}{western}"


def earlier_value_header(wareki: str) -> str:
    """What the column of an earlier year's value says (``平成30年度の値``)."""
    return f"{wareki}の値"


def response_columns(
    levels: Sequence[str],
    baseline: str,
    previous: str,
    current: str,
    earlier: Sequence[tuple[int, str]] = (),
) -> list[Column]:
    """The 回答 sheet's columns for a plan with these level names and year labels.

    Args:
        levels: level names from the top to the projects' level (基本目標 … 事業).
        baseline, previous, current: year labels shown in the headers (平成27年度 …).
        earlier: (western year, label) of the years shown between the baseline and the
            previous year, oldest first (表示する過去の年度数).
    """
    columns = [Column(ROW_ID, "行ID", 9)]
    columns += [Column(f"level{depth + 1}", name, 14) for depth, name in enumerate(levels[:-1])]
    leaf = levels[-1]
    columns += [
        Column(PROJECT_NO, f"{leaf}番号", 7),
        Column(DESCRIPTION, f"{leaf}の内容", 40),
        Column(INDICATOR, "数値目標", 24),
        Column(UNIT, "単位", 6),
        Column(ENTRY, "担当課", 16),
        Column(DEPARTMENT, "回答する課", 14),
        Column(BASELINE, f"現状値（{baseline}）", 11),
        *(Column(earlier_value_key(year), earlier_value_header(label), 11) for year, label in earlier),
        Column(PREVIOUS_VALUE, f"前年度の値（{previous}）", 11),
        Column(PREVIOUS_NARRATIVE, f"前年度の実績内容（{previous}）", 36),
        Column(CURRENT_VALUE, f"今年度の値（{current}）", 12, input=True),
        Column(CURRENT_NARRATIVE, f"今年度の実績内容（{current}）", 50, input=True),
    ]
    return columns


def row_id(project_no: int, entry_index: int, member_index: int) -> str:
    """A row's stable id: project, entry (1-based) and member (1-based) — ``P001-1-2``."""
    return f"P{project_no:03d}-{entry_index}-{member_index}"


# ----------------------------------------------------------------------------------------
# What a 今年度 value cell accepts, and how prefilled cells are hashed. Distribution writes
# both into the workbook (data validation, manifest); collection checks against the same.
# ----------------------------------------------------------------------------------------

PERCENT_UNITS = frozenset({"%", "％"})
COUNT_UNITS = frozenset(
    {"人", "名", "回", "件", "冊", "校", "園", "団体", "か所", "箇所", "ヶ所", "カ所", "世帯", "組", "社",
     "店", "施設", "事業所", "部", "枚", "本", "戸", "台", "講座", "教室", "チーム", "人日"}
)  # fmt: skip
"""Units counted in whole numbers. Any other unit (km, t, 円, 時間) accepts decimals."""

MARKS = ("○", "×", "—")
"""The marks a 今年度 value cell accepts, in drop-down order."""


@dataclass(frozen=True)
class InputRule:
    """What the 今年度 value cell of a row accepts.

    ``kind`` is ``mark`` (a row without 数値目標: ○ × — only), ``whole`` (a count:
    a whole number ≥ 0, or a mark) or ``decimal`` (a number between ``minimum``
    and ``maximum``, or a mark). Marks are accepted on indicator rows too, because
    the seed answers × where an event did not take place.
    """

    kind: str
    unit: str | None = None
    minimum: int | None = None
    maximum: int | None = None


@functools.lru_cache(maxsize=1024)  # checked for every row of every return; a plan has few distinct pairs
def input_rule(indicator: str | None, unit: str | None) -> InputRule:
    """The rule for a row whose project has this 数値目標 and unit (rules are immutable, and shared)."""
    if not indicator:
        return InputRule("mark")
    if unit in PERCENT_UNITS:
        return InputRule("decimal", unit, 0, 100)
    if unit in COUNT_UNITS:
        return InputRule("whole", unit, 0)
    # A unitless indicator may be a count or a ratio (合計特殊出生率 1.45): accept decimals.
    return InputRule("decimal", unit, 0)


_EXACT = 2.0**53
"""Below this, a whole float's shortest repr is its integer digits (larger ones are rounded by repr)."""


def canonical_cell(value: object) -> str | None:
    """A cell value as text, the same whichever reader read it: the input of a prefill hash.

    Readers disagree on numbers (openpyxl gives ``172``, python-calamine ``172.0``),
    so numbers are written in their shortest plain decimal form (``172``, ``1.6``);
    empty text is None; other text is kept as it is.
    """
    if type(value) is str:  # the commonest case first: this runs for every grey cell of every return
        return value or None
    if value is None:
        return None
    if type(value) is float and value.is_integer() and -_EXACT < value < _EXACT:
        return str(int(value))  # a whole number as a reader gives it (172.0): the Decimal way's result
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            return str(value)  # NaN or infinity: a hostile file's cell, never a plan's; int() would raise
        if number == number.to_integral_value():
            return str(int(number))
        return format(number.normalize(), "f")
    return str(value)


def prefilled(columns: Sequence[Column], cells: Mapping[str, object]) -> list[str | None]:
    """The canonical values of a row's locked cells, in column order (input columns left out).

    ``manifest.prefill_hash(prefilled(columns, cells))`` is the row's ``prefill_sha256``.
    """
    # Text, the commonest grey cell, is its own canonical form: no call for it (every row of every return).
    return [
        (value or None) if type(value := cells.get(column.key)) is str else canonical_cell(value)
        for column in columns
        if not column.input
    ]
