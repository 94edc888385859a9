"""The revocation dates: business days, the refund deadline and the last day to apply."""

from datetime import date
from decimal import Decimal

import pytest

from certificates.refunds import (
    NO_REFUND,
    RefundOutlook,
    add_business_days,
    certificate_price,
    last_start_for,
    refund_amount,
    refund_terms,
)


def d(text: str) -> date:
    return date.fromisoformat(text)


def terms(issued_on: str, holidays=()):
    return refund_terms(d(issued_on), refund_days=30, ca_business_days=5, holidays=holidays)


@pytest.mark.parametrize(
    ("start", "days", "holidays", "expected"),
    [
        ("2026-05-27", 1, (), "2026-05-28"),  # Wednesday -> Thursday
        ("2026-05-29", 1, (), "2026-06-01"),  # Friday, month end -> Monday
        ("2026-05-29", 5, (), "2026-06-05"),  # Friday -> next Friday
        ("2026-05-30", 5, (), "2026-06-05"),  # Saturday -> next Friday
        ("2026-05-31", 5, (), "2026-06-05"),  # Sunday -> next Friday
        ("2026-05-29", 5, ("2026-06-01",), "2026-06-08"),  # a holiday Monday adds a day
        ("2026-12-24", 5, ("2026-12-25", "2027-01-01"), "2027-01-04"),  # over the year end
        ("2028-02-25", 3, (), "2028-03-01"),  # Friday, over 29 February
        ("2026-05-29", 0, (), "2026-05-29"),
    ],
)
def test_business_days_skip_weekends_and_holidays(start, days, holidays, expected):
    assert add_business_days(d(start), days, {d(h) for h in holidays}) == d(expected)


def test_business_days_refuse_a_negative_count():
    with pytest.raises(ValueError):
        add_business_days(d("2026-05-29"), -1)


def test_the_last_start_can_be_a_weekend_day():
    # Five business days from Sunday 22 February end on Friday 27; from Monday 23 they
    # end on Monday 2 March, past a Sunday 1 March deadline.
    assert last_start_for(d("2026-03-01"), 5) == d("2026-02-22")


def test_refund_terms_over_a_month_end_and_a_weekend():
    # Issued Friday 30 January 2026: 30 days later is Sunday 1 March.
    result = terms("2026-01-30")
    assert result.issued_on == d("2026-01-30")
    assert result.refund_deadline == d("2026-03-01")
    assert result.apply_by == d("2026-02-22")


def test_refund_terms_over_29_february():
    # Issued Monday 31 January 2028, a leap year: 30 days later is Wednesday 1 March.
    result = terms("2028-01-31")
    assert result.refund_deadline == d("2028-03-01")
    # Wednesday 23 February + 5 business days: 24, 25, 28, 29 February, 1 March.
    assert result.apply_by == d("2028-02-23")


def test_refund_terms_with_a_holiday_on_the_deadline():
    # Issued Wednesday 1 April 2026; the deadline Friday 1 May is a holiday.
    assert terms("2026-04-01").apply_by == d("2026-04-26")  # Sunday
    with_holiday = terms("2026-04-01", holidays={d("2026-05-01")})
    assert with_holiday.refund_deadline == d("2026-05-01")
    # Thursday 23 April + 5 business days: 24, 27, 28, 29, 30 April.
    assert with_holiday.apply_by == d("2026-04-23")


def test_refund_terms_over_christmas():
    # Issued Monday 30 November 2026; deadline Wednesday 30 December.
    assert terms("2026-11-30").apply_by == d("2026-12-23")
    holidays = {d("2026-12-25"), d("2026-12-28")}
    # Monday 21 December + 5 business days: 22, 23, 24, 29, 30 December.
    assert terms("2026-11-30", holidays).apply_by == d("2026-12-21")


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2026-02-20", RefundOutlook.EXPECTED),
        ("2026-02-22", RefundOutlook.EXPECTED),  # Sunday, the last day to apply
        ("2026-02-23", RefundOutlook.POSSIBLE),  # the day after: only if the CA is quick
        ("2026-02-28", RefundOutlook.POSSIBLE),  # the day before the deadline
        ("2026-03-01", RefundOutlook.POSSIBLE),  # the deadline itself (a Sunday)
        ("2026-03-02", RefundOutlook.ENDED),  # the day after the deadline
        ("2026-06-01", RefundOutlook.ENDED),
    ],
)
def test_the_outlook_of_a_request_made_on_each_day(today, expected):
    assert terms("2026-01-30").outlook(d(today)) is expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2026-04-22", RefundOutlook.EXPECTED),
        ("2026-04-23", RefundOutlook.EXPECTED),  # the holiday on the deadline moved it here
        ("2026-04-24", RefundOutlook.POSSIBLE),
        ("2026-05-01", RefundOutlook.POSSIBLE),  # the deadline, a holiday, still counts
        ("2026-05-02", RefundOutlook.ENDED),
    ],
)
def test_the_outlook_around_a_holiday_on_the_deadline(today, expected):
    assert terms("2026-04-01", holidays={d("2026-05-01")}).outlook(d(today)) is expected


@pytest.mark.parametrize("today", ["2026-02-20", "2026-02-23", "2026-03-01", "2026-03-02"])
def test_the_outlook_says_ended_exactly_when_completing_that_day_refunds_nothing(today):
    # One rule for the revoke page and for completing (which the admin previews).
    result = terms("2026-01-30")
    ended = result.outlook(d(today)) is RefundOutlook.ENDED
    assert ended is (refund_amount(result, price=Decimal(10), completed_on=d(today)) == NO_REFUND)


def test_the_terms_say_the_windows_they_were_made_with():
    # Over 29 February 2028 as over a 30-day month: the days are the setting's, not a month.
    for issued_on in ("2026-01-30", "2028-01-31", "2026-11-30"):
        result = terms(issued_on, {d("2026-12-25")})
        assert (result.refund_days, result.ca_business_days) == (30, 5)


@pytest.mark.parametrize(
    ("completed_on", "expected"),
    [
        ("2026-01-30", Decimal("150.00")),
        ("2026-03-01", Decimal("150.00")),  # the 30th day still counts
        ("2026-03-02", NO_REFUND),
    ],
)
def test_the_refund_is_full_when_completed_by_the_deadline_else_none(completed_on, expected):
    amount = refund_amount(
        terms("2026-01-30"), price=Decimal("150.00"), completed_on=d(completed_on)
    )
    assert amount == expected


def test_a_certificate_costs_its_share_of_the_order_never_more():
    assert certificate_price(Decimal("300.00"), 1) == Decimal("300.00")
    assert certificate_price(Decimal("100.00"), 3) == Decimal("33.33")
    with pytest.raises(ValueError):
        certificate_price(Decimal("100.00"), 0)
