"""The customer's own account: name, email, and what their new certificates start with."""

from django.contrib.auth import get_user_model
from django.db import transaction

from certificates.audit import record_event
from certificates.models import CustomerSettings

PROFILE_FIELDS = ("first_name", "last_name", "email")


def update_profile(
    *,
    customer,
    first_name: str,
    last_name: str,
    email: str,
    expiry_warnings_default: bool,
    language: str | None = None,
) -> list[str]:
    """Save the profile; returns the names of the fields that changed (audited, if any).

    The email is where expiry warnings and revocation confirmations for this customer go.
    `language` ("en", "zh-hans", or "" for the browser's) is the console's and the emails'
    language; None leaves it as it is.
    """
    wanted = {"first_name": first_name, "last_name": last_name, "email": email}
    with transaction.atomic():
        # The customer's row, locked: two saves at once apply one after the other.
        user = get_user_model().objects.select_for_update().get(pk=customer.pk)
        changed = [name for name in PROFILE_FIELDS if getattr(user, name) != wanted[name]]
        for name in changed:
            setattr(user, name, wanted[name])
            setattr(customer, name, wanted[name])
        if changed:
            user.save(update_fields=changed)
        chosen, _ = CustomerSettings.objects.get_or_create(customer=user)
        if chosen.expiry_warnings_default != expiry_warnings_default:
            chosen.expiry_warnings_default = expiry_warnings_default
            chosen.save(update_fields=["expiry_warnings_default", "updated_at"])
            changed.append("expiry_warnings_default")
        if language is not None and chosen.language != language:
            chosen.language = language
            chosen.save(update_fields=["language", "updated_at"])
            changed.append("language")
        if changed:
            record_event(
                actor=customer, action="account.profile", target=user, details={"changed": changed}
            )
    return changed


def set_language(*, customer, language: str) -> bool:
    """Keep the language the customer chose with the top bar's switch ("en", "zh-hans", or
    "" for the browser's); returns whether it changed (audited if so)."""
    with transaction.atomic():
        chosen, _ = CustomerSettings.objects.select_for_update().get_or_create(customer=customer)
        if chosen.language == language:
            return False
        chosen.language = language
        chosen.save(update_fields=["language", "updated_at"])
        record_event(
            actor=customer,
            action="account.profile",
            target=customer,
            details={"changed": ["language"]},
        )
    return True
