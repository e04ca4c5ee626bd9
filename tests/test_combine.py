"""The rule that combines the shares of a joint entry (xlplan.plan.combine)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlplan.examples import Example, load_seed
from xlplan.plan.combine import Combined, Share, Summed, combine, combine_values, join_narratives
from xlplan.plan.values import BLANK, Mark, Value

DONE, X, DASH = Value(mark=Mark.DONE), Value(mark=Mark.NOT_DONE), Value(mark=Mark.NOT_APPLICABLE)


def people(number: int | str) -> Value:
    return Value(Decimal(number), "人")


def test_seed_project_1_is_rebuilt_exactly(example: Example) -> None:
    # The departments' shares of project 1 (90人 and 69人, each with its own narrative)
    # must give back the seed's printed row: 159人 and the narrative with 【課名】 headings.
    entry = example.plan.project(1).entries[0]
    shares = [Share(a.department, a.value, a.narrative) for a in example.answers if a.project_no == 1]
    seed = load_seed()["goals"][0]["directions"][0]["programs"][0]["projects"][0]["departments"][0]
    combined = combine(entry.members, shares)
    assert combined == Combined(people(159), seed["narrative"])
    assert combined.value.display() == seed["current"] == "159人"


def test_numbers_with_one_unit_are_summed_and_marks_dropped() -> None:
    assert combine_values([people(90), people(69)]) == Summed(people(159))
    assert combine_values([people(90), DASH, BLANK]) == Summed(people(90))
    assert combine_values([Value(Decimal("1.5"), "件"), Value(Decimal(2), "件")]) == Summed(
        Value(Decimal("3.5"), "件")
    )


def test_numbers_in_different_units_are_not_added() -> None:
    summed = combine_values([people(1), Value(Decimal(2), "件")])
    assert summed.value == BLANK and summed.unit_conflict == ("人", "件")


@pytest.mark.parametrize("unit", ["%", "割", "倍"])
def test_rates_are_never_added_up(unit: str) -> None:
    rate = lambda number: Value(Decimal(number), unit)  # noqa: E731
    assert combine_values([rate(60), rate(70)]) == Summed(BLANK, rates=(f"60{unit}", f"70{unit}"))
    assert combine_values([rate(60), rate("60.0"), DASH]) == Summed(rate(60))  # one rate, given twice
    assert combine_values([rate("41.2"), BLANK]) == Summed(rate("41.2"))


def test_marks_rule() -> None:
    assert combine_values([DASH, DONE, X])[0] == DONE
    assert combine_values([DASH, X])[0] == X
    assert combine_values([DASH, DASH])[0] == DASH
    assert combine_values([BLANK, BLANK])[0] == BLANK
    assert combine_values([])[0] == BLANK


def test_single_narrative_is_kept_as_it_is_and_several_get_headings() -> None:
    assert join_narratives([("企画政策課", "・研修会を開催"), ("社会福祉課", None)]) == "・研修会を開催"
    assert join_narratives([("企画政策課", "  "), ("社会福祉課", "実施")]) == "実施"
    assert join_narratives([("A課", "一\n二"), ("B課", "三")]) == "【A課】 一\n二\n【B課】 三"
    assert join_narratives([("A課", None)]) is None


def test_member_order_not_arrival_order_and_later_share_wins() -> None:
    shares = [Share("B課", people(2), "b"), Share("A課", people(1), "a-old"), Share("A課", people(5), "a")]
    combined = combine(("A課", "B課"), shares)
    assert combined.narrative == "【A課】 a\n【B課】 b"
    assert combined.value == people(7)


def test_missing_members_are_reported_and_strangers_ignored() -> None:
    combined = combine(("A課", "B課", "C課"), [Share("B課", people(3), None), Share("Z課", people(100), "z")])
    assert combined == Combined(people(3), None, missing=("A課", "C課"))


whole = st.integers(min_value=0, max_value=10**9).map(people)
mark = st.sampled_from([DONE, X, DASH, BLANK])


@given(st.lists(whole, min_size=1, max_size=6))
def test_sum_of_shares_whatever_their_order(values: list[Value]) -> None:
    total = sum((value.number or 0 for value in values), Decimal(0))
    assert combine_values(values) == Summed(people(total))
    assert combine_values(reversed(values)) == combine_values(values)


@given(st.lists(whole, max_size=4), st.lists(mark, max_size=4))
def test_a_number_outranks_marks(numbers: list[Value], marks: list[Value]) -> None:
    value = combine_values([*marks, *numbers]).value
    if numbers:
        assert value.number is not None
    elif any(m == DONE for m in marks):
        assert value == DONE
    elif any(m == X for m in marks):
        assert value == X


@given(
    st.lists(st.tuples(st.sampled_from(["A課", "B課", "C課"]), st.text(max_size=20) | st.none()), max_size=5)
)
def test_narratives_lose_no_text(parts: list[tuple[str, str | None]]) -> None:
    joined = join_narratives(parts) or ""
    for _department, text in parts:
        if text and text.strip():
            assert text in joined


_values = st.one_of(
    st.just(BLANK),
    st.sampled_from([DONE, X, DASH, Value(mark=Mark.DONE, unit="人")]),
    st.builds(
        Value,
        st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(lambda d: d.is_finite()),
        st.sampled_from([None, "人", "%"]),
    ),
)


@given(
    st.lists(
        st.builds(Share, st.sampled_from(["A課", "B課"]), _values, st.one_of(st.none(), st.text(max_size=5))),
        max_size=4,
    )
)
def test_a_single_department_entry_follows_the_general_rule(shares: list[Share]) -> None:
    # combine() takes a shortcut for one member; it must agree with the rule applied in full.
    present = [share for share in shares if share.department == "A課"][-1:]
    summed = combine_values(share.value for share in present)
    narrative = join_narratives([(share.department, share.narrative) for share in present])
    expected = Combined(summed.value, narrative, () if present else ("A課",), summed.unit_conflict)
    combined = combine(("A課",), shares)
    assert combined == expected
    assert str(combined.value.number) == str(expected.value.number)
