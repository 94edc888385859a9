"""Amounts of money as customers and operators read them: one format everywhere.

The currency is CONSOLE_CURRENCY (an ISO 4217 code); the number is written the way the
active language's locale writes it (babel's CLDR data), e.g. "$2,990.00" in English.
"""

from decimal import Decimal

from babel.numbers import format_currency
from django.conf import settings
from django.utils import translation


def format_money(amount: Decimal | int | float | None) -> str:
    """The amount with its currency, or an em dash when there is none."""
    if amount is None:
        return "—"
    locale = translation.to_locale(translation.get_language() or settings.LANGUAGE_CODE)
    return format_currency(Decimal(amount), settings.CONSOLE_CURRENCY, locale=locale)
