from django import template

from certificates.money import format_money

register = template.Library()


@register.filter
def money(amount) -> str:
    """{{ order.amount|money }}: the amount with its currency, as certificates.money writes it."""
    return format_money(amount)
