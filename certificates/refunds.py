"""The dates of a revocation: business days, the refund deadline and the last day to apply.

Plain date arithmetic with no Django import: callers pass the windows and holidays from
the settings, and the dates in the console's time zone, so every rule can be tested at
any date.

The rules: a revocation completed within `refund_days` calendar days of issuance (by
issue date + refund_days) is refunded in full, otherwise not at all. The CA has
`ca_business_days` business days (weekdays that are not holidays) from receiving a
request, so a customer who wants the refund must apply by the last day that leaves it
that many business days before the refund deadline.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

NO_REFUND = Decimal("0.00")


class RefundOutlook(StrEnum):
    """What a revocation requested on a given day means for the refund."""

    # Applied by `apply_by`: the CA's whole time still ends by the deadline.
    EXPECTED = "expected"
    # Past `apply_by` but not the deadline: refunded if the CA completes it by then.
    POSSIBLE = "possible"
    # Past the deadline: nothing completed from now on is refunded.
    ENDED = "ended"


def is_business_day(day: date, holidays: Collection[date] = ()) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_business_days(start: date, days: int, holidays: Collection[date] = ()) -> date:
    """The day `days` business days after `start`, which itself does not count.

    From a Friday or a Saturday, one business day later is the Monday.
    """
    if days < 0:
        raise ValueError("days must not be negative.")
    day = start
    while days:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            days -= 1
    return day


def last_start_for(deadline: date, days: int, holidays: Collection[date] = ()) -> date:
    """The last day from which `days` business days still end on or before `deadline`.

    It can be a weekend day: a request that arrives on a Sunday has the whole week.
    """
    day = deadline
    while add_business_days(day, days, holidays) > deadline:
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class RefundTerms:
    """What a revocation means for the refund of one certificate."""

    issued_on: date
    # Completed on or before this day: a full refund.
    refund_deadline: date
    # The last day to apply that still leaves the CA its business days before the deadline.
    apply_by: date
    # The business days the CA may take from a request to the revocation.
    ca_business_days: int

    @property
    def refund_days(self) -> int:
        """The calendar days after issuance within which a completed revocation is refunded."""
        return (self.refund_deadline - self.issued_on).days

    def outlook(self, today: date) -> RefundOutlook:
        """The revoke page's answer for a request made today.

        It asks `refunds`, as completing a revocation (and the admin's preview) does, so
        the page never says "no refund" on a day that completing would still refund.
        """
        if not self.refunds(today):
            return RefundOutlook.ENDED
        if today <= self.apply_by:
            return RefundOutlook.EXPECTED
        return RefundOutlook.POSSIBLE

    def refunds(self, completed_on: date) -> bool:
        """The one rule: a revocation completed on or before the deadline is refunded."""
        return completed_on <= self.refund_deadline


def refund_terms(
    issued_on: date,
    *,
    refund_days: int,
    ca_business_days: int,
    holidays: Collection[date] = (),
) -> RefundTerms:
    deadline = issued_on + timedelta(days=refund_days)
    return RefundTerms(
        issued_on=issued_on,
        refund_deadline=deadline,
        apply_by=last_start_for(deadline, ca_business_days, holidays),
        ca_business_days=ca_business_days,
    )


def certificate_price(order_amount: Decimal, quantity: int) -> Decimal:
    """One certificate's share of its order, in whole cents, rounded down.

    Rounding down keeps the refunds of all of an order's certificates within what was paid.
    """
    if quantity < 1:
        raise ValueError("An order has at least one certificate.")
    return (Decimal(order_amount) / quantity).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def refund_amount(terms: RefundTerms, *, price: Decimal, completed_on: date) -> Decimal:
    """The full price when the revocation completed by the deadline, else nothing."""
    return price if terms.refunds(completed_on) else NO_REFUND
