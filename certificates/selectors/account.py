"""A customer's own settings, as the profile page and new certificates read them."""

from certificates.models import CustomerSettings


def expiry_warnings_default(*, customer) -> bool:
    """Whether the customer's new certificates start with expiry warnings on (the default)."""
    chosen = (
        CustomerSettings.objects.filter(customer=customer)
        .values_list("expiry_warnings_default", flat=True)
        .first()
    )
    return True if chosen is None else chosen


def profile_language(*, customer) -> str:
    """The language the customer chose ("en", "zh-hans"), or "" for the browser's."""
    chosen = (
        CustomerSettings.objects.filter(customer=customer)
        .values_list("language", flat=True)
        .first()
    )
    return chosen or ""
