"""Delete: remove a certificate from its owner's console; the audit log keeps the fact."""

from django.db import transaction
from django.utils import timezone

from certificates import counters
from certificates.audit import record_event
from certificates.errors import ActionNotAllowed
from certificates.models import Certificate


def delete_certificate(*, certificate: Certificate, actor) -> None:
    """Remove a certificate from its owner's console; the audit log keeps the fact."""
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.delete_refusal:
            raise ActionNotAllowed(locked.delete_refusal)
        counted_as = counters.key_of(locked)
        locked.deleted_at = timezone.now()
        locked.save(update_fields=["deleted_at", "updated_at"])
        counters.record_moves([(counted_as, None)])
        record_event(
            actor=actor,
            action="certificate.delete",
            target=locked,
            details={
                "domains": locked.domain_list,
                "fingerprint_sha256": locked.fingerprint_sha256,
            },
        )
