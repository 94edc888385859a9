"""The admin index's "Queues": what waits for an operator, each a link to its list."""

from dataclasses import dataclass

from django import template
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from certificates.lifecycle import CertificateStatus, RevocationStatus
from certificates.models import Application, RevocationRequest, ValidationType

register = template.Library()


@dataclass(frozen=True)
class Queue:
    label: str
    count: int
    url: str
    urgent: bool = False


@register.inclusion_tag("admin/certificates/queues.html", takes_context=True)
def operator_queues(context) -> dict:
    user = context["request"].user
    queues = []
    if user.has_perm("certificates.view_application"):
        waiting = Application.objects.filter(
            certificate__status=CertificateStatus.VALIDATING,
            certificate__validation_type__in=[ValidationType.OV, ValidationType.EV],
        ).count()
        # The applications list opens on this queue.
        url = reverse("admin:certificates_application_changelist")
        queues.append(Queue("Applications waiting for review", waiting, url))
    if user.has_perm("certificates.view_revocationrequest"):
        with_ca = RevocationRequest.objects.filter(status=RevocationStatus.PENDING).aggregate(
            total=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=timezone.localdate()))
        )
        url = reverse("admin:certificates_revocationrequest_changelist")
        queues.append(
            Queue("Revocations with the CA", with_ca["total"], f"{url}?status__exact=pending")
        )
        queues.append(
            Queue(
                "Revocations overdue",
                with_ca["overdue"],
                f"{url}?overdue=yes",
                urgent=bool(with_ca["overdue"]),
            )
        )
    if user.has_perm("certificates.view_order"):
        url = reverse("admin:certificates_order_changelist")
        pending = (
            RevocationRequest.objects.filter(status=RevocationStatus.PENDING)
            .values("certificate__order")
            .distinct()
            .count()
        )
        queues.append(
            Queue("Orders with a revocation with the CA", pending, f"{url}?refund=with_ca")
        )
    return {"queues": queues}
