"""Reading values and fiscal years as people type them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlplan.plan.fiscal_year import FiscalYear, FiscalYearError, parse_fiscal_year
from xlplan.plan.values import Mark, Normalisation, Value, ValueErrorCode, format_number, parse_value

# --- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "unit", "number", "notes"),
    [
        ("1,957人", "人", "1957", ()),
        ("１９５７人", "人", "1957", (Normalisation.WIDTH,)),
        ("1957 人", "人", "1957", (Normalisation.TRIMMED,)),
        ("　159人　", "人", "159", (Normalisation.TRIMMED,)),
        ("159", "人", "159", (Normalisation.UNIT_ADDED,)),
        ("1.6%", "%", "1.6", ()),
        ("１．６％", "%", "1.6", (Normalisation.WIDTH,)),
        ("8", None, "8", ()),
    ],
)
def test_numbers_as_typed(
    typed: str, unit: str | None, number: str, notes: tuple[Normalisation, ...]
) -> None:
    parsed = parse_value(typed, unit, unit_known=True)
    assert parsed.ok
    assert parsed.value == Value(number=Decimal(number), unit=unit)
    assert parsed.normalisations == notes


@pytest.mark.parametrize(
    ("typed", "mark", "variant"),
    [
        ("○", Mark.DONE, False),
        ("〇", Mark.DONE, True),
        ("◯", Mark.DONE, True),
        ("×", Mark.NOT_DONE, False),
        ("✕", Mark.NOT_DONE, True),
        ("—", Mark.NOT_APPLICABLE, False),
        ("－", Mark.NOT_APPLICABLE, True),
        ("―", Mark.NOT_APPLICABLE, True),
        ("-", Mark.NOT_APPLICABLE, True),
        (" ○ ", Mark.DONE, False),
    ],
)
def test_marks_as_typed(typed: str, mark: Mark, variant: bool) -> None:
    parsed = parse_value(typed, "人", unit_known=True)
    assert parsed.value == Value(mark=mark)
    assert (Normalisation.MARK_VARIANT in parsed.normalisations) is variant


def test_unit_contradicting_indicator_is_an_error_not_a_fix() -> None:
    parsed = parse_value("159件", "人", unit_known=True)
    assert parsed.error is ValueErrorCode.UNIT_MISMATCH
    assert parsed.value is None
    assert parsed.typed_unit == "件"


def test_unit_where_indicator_has_none_is_an_error() -> None:
    assert parse_value("8件", None, unit_known=True).error is ValueErrorCode.UNEXPECTED_UNIT


def test_free_reading_keeps_the_typed_unit() -> None:
    assert parse_value("172人").value == Value(number=Decimal(172), unit="人")


@pytest.mark.parametrize("typed", [None, "", "   ", "　"])
def test_blanks(typed: str | None) -> None:
    parsed = parse_value(typed, "人", unit_known=True)
    assert parsed.ok and parsed.value is not None and parsed.value.is_blank


@pytest.mark.parametrize("typed", ["たくさん", "159人くらい?", "1.2.3", "○×", True])
def test_not_a_value(typed: object) -> None:
    assert parse_value(typed, "人", unit_known=True).error is ValueErrorCode.NOT_A_VALUE


def test_excel_numbers() -> None:
    assert parse_value(159.0, "人").value == Value(number=Decimal(159), unit="人")
    assert parse_value(1.6, "%").value == Value(number=Decimal("1.6"), unit="%")
    assert parse_value(float("nan")).error is ValueErrorCode.NOT_FINITE
    # A formula's result as Excel shows it (15 significant digits), not as the float's last bits.
    assert parse_value(0.1 + 0.2).value == Value(number=Decimal("0.3"))
    assert parse_value(100 / 3).value == Value(number=Decimal("33.3333333333333"))


def test_display_matches_the_seed() -> None:
    assert Value(number=Decimal(1957), unit="人").display() == "1,957人"
    assert Value(number=Decimal("1.6"), unit="%").display() == "1.6%"
    assert Value(number=Decimal(8)).display() == "8"
    assert Value(mark=Mark.NOT_APPLICABLE).display() == "—"


@given(st.integers(min_value=0, max_value=10**9), st.sampled_from(["人", "%", "回", "冊", "件", "校"]))
def test_display_then_parse_round_trips(number: int, unit: str) -> None:
    value = Value(number=Decimal(number), unit=unit)
    assert parse_value(value.display(), unit, unit_known=True).value == value


@given(st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False))
def test_decimals_round_trip(number: Decimal) -> None:
    value = Value(number=number, unit="%")
    parsed = parse_value(value.display(), "%", unit_known=True)
    assert parsed.value is not None and parsed.value.number == number


@given(st.integers(min_value=0, max_value=10**7))
def test_full_width_digits_read_like_half_width(number: int) -> None:
    wide = f"{number}人".translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    parsed = parse_value(wide, "人", unit_known=True)
    assert parsed.value == Value(number=Decimal(number), unit="人")


@given(st.text(max_size=30))
def test_any_text_gives_a_value_or_a_reason(text: str) -> None:
    # Whatever a department types, reading never raises: it gives a value or an error code.
    parsed = parse_value(text, "人", unit_known=True)
    assert (parsed.value is not None) != (parsed.error is not None)


def test_format_number_keeps_typed_decimals() -> None:
    assert format_number(Decimal("2.50")) == "2.50"
    assert format_number(Decimal("12345")) == "12,345"
    assert format_number(Decimal("0.0000005")) == "0.0000005"  # never 5E-7
    assert format_number(Decimal("1234.000001")) == "1,234.000001"
    assert parse_value("0.0000005%", "%", unit_known=True).value.display() == "0.0000005%"  # type: ignore[union-attr]


# --- fiscal years ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "western"),
    [
        ("平成27年度", 2015),
        ("令和元年度", 2019),
        ("平成31年度", 2019),
        ("令和2年度", 2020),
        ("令和２年度", 2020),
        ("R2", 2020),
        ("H27", 2015),
        ("2020", 2020),
        ("2020年度", 2020),
        ("FY2020", 2020),
        (2020, 2020),
    ],
)
def test_fiscal_years_parse(typed: object, western: int) -> None:
    assert parse_fiscal_year(typed) == FiscalYear(western)


def test_fiscal_year_labels() -> None:
    assert FiscalYear(2015).wareki == "平成27年度"
    assert FiscalYear(2019).wareki == "令和元年度"
    assert FiscalYear(2020).wareki == "令和2年度"
    assert FiscalYear(2015).short == "27年度"
    assert FiscalYear(2020).letter == "R2"
    assert FiscalYear(2018).wareki == "平成30年度"


def test_short_form_needs_an_era() -> None:
    with pytest.raises(FiscalYearError):
        parse_fiscal_year("27年度")
    assert parse_fiscal_year("27年度", era_hint="平成") == FiscalYear(2015)


@pytest.mark.parametrize("typed", ["平成35年度", "令和0年度", "来年度", "", "R", 1800, True])
def test_fiscal_years_rejected(typed: object) -> None:
    with pytest.raises(FiscalYearError):
        parse_fiscal_year(typed)


@given(st.integers(min_value=1927, max_value=2100))
def test_wareki_round_trips(western: int) -> None:
    year = FiscalYear(western)
    assert parse_fiscal_year(year.wareki) == year
    assert parse_fiscal_year(year.letter) == year


@pytest.mark.parametrize("raw", [1e30, 1e308, -1e28, 123456789012345678901234567890.0])
def test_huge_numbers_from_a_cell_are_read_not_raised(raw: float) -> None:
    parsed = parse_value(raw, "人")
    assert parsed.ok and parsed.value is not None
    assert parsed.value.number == Decimal(format(raw, ".15g"))  # as Excel keeps it: 15 significant digits
