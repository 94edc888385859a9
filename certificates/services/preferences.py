"""A certificate's own settings: whether its owner is warned before it expires."""

from django.db import transaction
from django.utils.translation import gettext as _

from certificates.audit import record_event
from certificates.errors import ActionNotAllowed
from certificates.models import Certificate


def set_expiry_warnings(*, certificate: Certificate, enabled: bool, actor) -> None:
    """Turn the expiry warnings of an issued certificate on or off."""
    if not certificate.can_set_expiry_warnings:
        raise ActionNotAllowed(
            _("Expiry warnings can only be set for an issued certificate that has not expired.")
        )
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        certificate.expiry_warnings_enabled = enabled
        if locked.expiry_warnings_enabled == enabled:
            return  # already so: nothing changes, nothing to audit
        locked.expiry_warnings_enabled = enabled
        locked.save(update_fields=["expiry_warnings_enabled", "updated_at"])
        record_event(
            actor=actor,
            action="certificate.expiry_warnings",
            target=certificate,
            details={"enabled": enabled},
        )
