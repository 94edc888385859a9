"""The admin index's "Queues": what waits for an operator, each a link to its list.

The counts use the selectors the lists' filters use, so each is the length of its list."""

from dataclasses import dataclass

from django import template
from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext

from certificates import selectors
from certificates.models import Application, Order, RevocationRequest

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
        waiting = Application.objects.filter(selectors.application_waiting_for_review()).count()
        # The applications list opens on this queue.
        url = reverse("admin:certificates_application_changelist")
        queues.append(Queue(gettext("Applications waiting for review"), waiting, url))
    if user.has_perm("certificates.view_revocationrequest"):
        with_ca = RevocationRequest.objects.filter(selectors.revocation_with_the_ca()).aggregate(
            total=Count("pk"), overdue=Count("pk", filter=selectors.revocation_overdue())
        )
        url = reverse("admin:certificates_revocationrequest_changelist")
        queues.append(
            Queue(
                gettext("Revocations with the CA"), with_ca["total"], f"{url}?status__exact=pending"
            )
        )
        queues.append(
            Queue(
                gettext("Revocations overdue"),
                with_ca["overdue"],
                f"{url}?overdue=yes",
                urgent=bool(with_ca["overdue"]),
            )
        )
    if user.has_perm("certificates.view_order"):
        url = reverse("admin:certificates_order_changelist")
        pending = Order.objects.filter(selectors.order_with_a_revocation_with_the_ca()).count()
        queues.append(
            Queue(gettext("Orders with a revocation with the CA"), pending, f"{url}?refund=with_ca")
        )
    return {"queues": queues}
