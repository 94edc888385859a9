"""A certificate's own settings: whether its owner is warned before it expires."""

from django.db import transaction

from certificates.audit import record_event
from certificates.errors import ActionNotAllowed
from certificates.models import Certificate


def set_expiry_warnings(*, certificate: Certificate, enabled: bool, actor) -> None:
    """Turn the expiry warnings of an issued certificate on or off."""
    if not certificate.can_set_expiry_warnings:
        raise ActionNotAllowed(
            "Expiry warnings can only be set for an issued certificate that has not expired."
        )
    with transaction.atomic():
        certificate.expiry_warnings_enabled = enabled
        certificate.save(update_fields=["expiry_warnings_enabled", "updated_at"])
        record_event(
            actor=actor,
            action="certificate.expiry_warnings",
            target=certificate,
            details={"enabled": enabled},
        )
