"""Targets, 達成率 and grades by the city's own rule (評価基準), as plain records and pure functions.

Cities grade the progress of a plan's indicators in incompatible ways, so the rule is data: the
master's 評価基準 sheet (read by :mod:`xlplan.workspace.master`) becomes a :class:`GradingRule`, and
:func:`achievement` applies it to one project's value of one year. Nothing here reads or writes files.

The rule has four parts:

* the formula (``算式``): 差分 — 達成率 = (実績 − 現状値) / (目標 − 現状値) × 100, which measures the way
  travelled from the baseline to the target and works for increasing and decreasing indicators
  alike — or 比率 — 達成率 = 実績 / 目標 × 100 (目標 / 実績 for a decreasing indicator). An indicator
  to be kept (方向 維持, or a target equal to its baseline) is always graded by 実績 / 目標;
* pro-rating (``按分``): the target of a year before the target year is the straight line from the
  baseline (現状値年度) to the target (目標年度), so a five-year plan is not graded D in its first year;
* the grades (区分): labels with the least 達成率 each needs, highest first; a grade without a
  least 達成率 takes every 達成率 below the ones above it;
* a no-change band (``変化なしの幅``): a value within ± that many percent of the baseline gets the
  band's label (変化なし), as when a survey's margin of error makes small moves meaningless —
  unless the target is reached, which the grades decide.

A value that cannot be graded (blank, a mark, a zero denominator) gets the rule's ``評価できない区分``
(``−``) with the reason why.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.values import Value, format_number

INCREASE = "増加"
DECREASE = "減少"
KEEP = "維持"
DIRECTIONS = (INCREASE, DECREASE, KEEP)
"""The 方向 of an indicator, as the 計画 sheet's 方向 column takes them."""

DIFFERENCE = "差分"
RATIO = "比率"
METHODS = (DIFFERENCE, RATIO)
"""The 算式 of a rule: 差分 (the way from the baseline to the target) or 比率 (value / target)."""

HUNDRED = Decimal(100)
_TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Grade:
    """A grade (区分) of a rule: its label and the least 達成率 (percent) it needs.

    ``minimum`` None: every 達成率 below the grades above it (the rule's last grade).
    """

    label: str
    minimum: Decimal | None
    description: str | None = None


DEFAULT_GRADES = (
    Grade("A", Decimal(100), "目標を達成"),
    Grade("B", Decimal(80), "おおむね達成"),
    Grade("C", Decimal(50), "一定の進捗"),
    Grade("D", None, "進捗が遅れている"),
)


@dataclass(frozen=True)
class GradingRule:
    """A city's rule for grading its indicators (the master's 評価基準 sheet)."""

    method: str = DIFFERENCE  # DIFFERENCE or RATIO
    prorate: bool = False  # the target of each year on the straight line toward the target year
    grades: tuple[Grade, ...] = DEFAULT_GRADES  # highest first
    band: Decimal | None = None  # ± percent of the baseline that means 変化なし; None: no band
    band_label: str = "変化なし"
    ungraded: str = "−"  # the label of a value that cannot be graded


DEFAULT_RULE = GradingRule()
"""The rule of a new master: A ≥ 100%, B ≥ 80%, C ≥ 50%, D otherwise, by 差分, not pro-rated."""


@dataclass(frozen=True)
class Achievement:
    """How far one value got toward its target, by a rule.

    ``rate`` is the 達成率 in percent rounded to 0.1 (None when it cannot be computed); ``grade``
    the label; ``reason`` one line of Japanese saying why (``目標 50% に対し 41.2%（達成率 82.4%）: B（80% 以上）``);
    ``target`` the target the value was measured against (pro-rated where the rule says so).
    """

    rate: Decimal | None
    grade: str
    reason: str
    target: Value

    @property
    def rate_text(self) -> str:
        """The 達成率 as the table's cell shows it (``#,##0.0"%"``: 82.4%, 1,300.0%); blank without one."""
        return "" if self.rate is None else f"{self.rate:,.1f}%"


def direction_of(baseline: Value, target: Value) -> str | None:
    """The default 方向: 増加 for a target above the baseline, 減少 below, 維持 equal; None unless both are numbers."""
    if baseline.number is None or target.number is None:
        return None
    if target.number > baseline.number:
        return INCREASE
    return DECREASE if target.number < baseline.number else KEEP


def target_for(
    rule: GradingRule,
    baseline: Value,
    target: Value,
    target_year: FiscalYear | None,
    year: FiscalYear,
    baseline_year: FiscalYear,
) -> Value:
    """The target of ``year``: the plan's target, or where the rule pro-rates and ``year`` is before the
    target year, the point of the straight line from the baseline (``baseline_year``) to the target."""
    if (
        not rule.prorate
        or target_year is None
        or target.number is None
        or baseline.number is None
        or year >= target_year
        or target_year <= baseline_year
    ):
        return target
    elapsed = Decimal(max(year.western - baseline_year.western, 0))
    span = Decimal(target_year.western - baseline_year.western)
    point = baseline.number + (target.number - baseline.number) * elapsed / span
    exponent = min(_exponent(baseline.number), _exponent(target.number), -1)
    return Value(point.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP), target.unit)


def achievement(
    rule: GradingRule,
    baseline: Value,
    target: Value | None,
    value: Value,
    year: FiscalYear,
    baseline_year: FiscalYear,
    target_year: FiscalYear | None = None,
    direction: str | None = None,
) -> Achievement | None:
    """The 達成率 and grade of ``value`` (a project's value of ``year``) by ``rule``; None without a target.

    ``direction`` is the project's 方向 (None: from the sign of target − baseline). The outcomes:

    * a number: its 達成率 and the first grade whose least 達成率 it reaches (or the band's label
      when the value is within the no-change band and the target is not reached);
    * blank, a mark, a target that is not a number, or a zero denominator: no 達成率, the rule's
      ``ungraded`` label and the reason.
    """
    if target is None:
        return None
    goal = target_for(rule, baseline, target, target_year, year, baseline_year)
    prefix = f"{year.wareki}の目標 {goal.display()}（按分）" if goal != target else f"目標 {target.display()}"
    if value.number is None:
        why = "実績値がありません" if value.is_blank else f"実績値が記号（{value.display()}）です"
        return Achievement(None, rule.ungraded, f"{why}: {rule.ungraded}（評価できない）", goal)
    if goal.number is None or (baseline.number is None and rule.method == DIFFERENCE):
        return Achievement(
            None, rule.ungraded, f"目標か現状値が数値ではありません: {rule.ungraded}（評価できない）", goal
        )
    way = direction or direction_of(baseline, goal) or INCREASE
    # Under 比率 the baseline is not used (and may be a mark); 0 stands in for it.
    rate = _rate(rule.method, way, baseline.number or Decimal(0), goal.number, value.number)
    shown = f"{prefix} に対し {value.display()}"
    if rate is None:
        # A zero where the ratio divides (a 減少 indicator brought to 0, a target of 0): no 達成率, but a
        # goal reached is a goal reached — the top grade, not "ungraded".
        met = value.number >= goal.number if way == INCREASE else value.number <= goal.number
        if met and (way != KEEP or value.number == goal.number) and rule.grades:
            top_label = rule.grades[0].label
            return Achievement(
                None,
                top_label,
                f"{shown}（目標を達成。達成率は 0 で割るため計算できない）: {top_label}",
                goal,
            )
        return Achievement(None, rule.ungraded, f"{shown}（達成率を計算できない）: {rule.ungraded}", goal)
    rate = rate.quantize(_TENTH, rounding=ROUND_HALF_UP)
    rate = rate.copy_abs() if rate.is_zero() else rate  # never "-0.0%": a 減少 still at its baseline is 0
    shown += f"（達成率 {_percent(rate)}%）"
    top = rule.grades[0].minimum if rule.grades else None
    reached = top is not None and rate >= top
    if rule.band is not None and way != KEEP and baseline.number is not None and not reached:
        allowed = abs(baseline.number) * rule.band / HUNDRED
        if abs(value.number - baseline.number) <= allowed:
            band = f"現状値 {baseline.display()} から ±{_percent(rule.band)}% 以内"
            return Achievement(rate, rule.band_label, f"{shown}、{band}: {rule.band_label}", goal)
    above: Decimal | None = None
    for grade in rule.grades:
        if grade.minimum is None:
            limit = f"{_percent(above)}% 未満" if above is not None else "すべて"
            return Achievement(rate, grade.label, f"{shown}: {grade.label}（{limit}）", goal)
        if rate >= grade.minimum:
            return Achievement(
                rate, grade.label, f"{shown}: {grade.label}（{_percent(grade.minimum)}% 以上）", goal
            )
        above = grade.minimum
    limit = f"{_percent(above)}% 未満" if above is not None else "区分なし"
    return Achievement(rate, rule.ungraded, f"{shown}: {rule.ungraded}（{limit}）", goal)


def _rate(method: str, way: str, baseline: Decimal, goal: Decimal, value: Decimal) -> Decimal | None:
    """達成率 in percent, unrounded; None where its denominator is zero."""
    try:
        if way == KEEP or (method == DIFFERENCE and goal == baseline):
            return value / goal * HUNDRED if goal else None
        if method == DIFFERENCE:
            return (value - baseline) / (goal - baseline) * HUNDRED
        if way == DECREASE:  # less is better: the target over the value
            return goal / value * HUNDRED if value else None
        return value / goal * HUNDRED if goal else None
    except (InvalidOperation, ZeroDivisionError):
        return None


def _exponent(number: Decimal) -> int:
    exponent = number.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def _percent(number: Decimal) -> str:
    """``82`` for 82.0, ``82.4`` for 82.4: the 達成率 as the reason prints it."""
    return format_number(number.normalize() if number == number.to_integral_value() else number)
