"""Revocation requests: the CA's queue, completed or rejected by operators."""

from django.contrib import admin
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from certificates import selectors, services
from certificates.admin.shared import (
    CertificateColumns,
    DecisionAdmin,
    OverdueFilter,
    admin_link,
    domains_summary,
    fieldset_fields,
    serial_display,
)
from certificates.lifecycle import RevocationStatus
from certificates.models import RevocationRequest
from certificates.money import format_money


@admin.register(RevocationRequest)
class RevocationRequestAdmin(CertificateColumns, DecisionAdmin):
    """The CA's revocation queue: those with the CA first, the earliest due (overdue) first."""

    certificate_path = "certificate__"
    list_display = [
        "certificate_display",
        "customer",
        "validation_type",
        "status",
        "reason",
        "issued_on",
        "due",
        "refund",
    ]
    list_display_links = ["certificate_display"]
    list_filter = [
        "status",
        OverdueFilter,
        "reason",
        "certificate__validation_type",
        "certificate__brand",
        "due_date",
        "created_at",
    ]
    search_fields = [
        "certificate__domains",
        "certificate__name",
        "certificate__serial",
        "certificate__fingerprint_sha256",
        "certificate__owner__username",
        "certificate__owner__email",
    ]
    date_hierarchy = "created_at"
    actions = ["complete", "reject"]
    reject_question = _(
        "Reject these revocation requests? Each certificate is issued again and its customer "
        "sees the reason."
    )
    fieldsets = [
        (
            "Request",
            {
                "fields": [
                    "certificate_link",
                    "serial",
                    "customer",
                    "requested_by",
                    "reason",
                    "status",
                    "created_at",
                    "confirmation_email",
                    "confirmation_sent_at",
                    "confirmed_at",
                ]
            },
        ),
        (
            "The CA",
            {
                "fields": [
                    "submitted_to_ca_at",
                    "due",
                    "processed_by",
                    "completed_at",
                    "rejection_reason",
                ]
            },
        ),
        ("Refund", {"fields": ["issued_on", "refund"]}),
    ]
    readonly_fields = fieldset_fields(fieldsets)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "certificate__owner", "certificate__order", "requested_by", "processed_by"
            )
            .defer(*(f"certificate__{name}" for name in selectors.CERTIFICATE_BULK_FIELDS))
            .annotate(first_issued_at=selectors.first_issued_at("certificate"))
        )

    def get_ordering(self, request):
        queue = Case(
            When(status=RevocationStatus.PENDING, then=Value(0)),
            When(status=RevocationStatus.AWAITING_CONFIRMATION, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
        return [queue.asc(), F("due_date").asc(nulls_last=True), "-created_at"]

    def is_open(self, revocation: RevocationRequest) -> bool:
        return revocation.status == RevocationStatus.PENDING

    def describe_for_reject(self, revocation: RevocationRequest) -> str:
        certificate = revocation.certificate
        return f"{certificate} ({certificate.owner}), {revocation.get_status_display()}"

    @admin.display(description=_("certificate"), ordering="certificate__common_name")
    def certificate_display(self, revocation: RevocationRequest) -> str:
        return domains_summary(revocation.certificate.domains) or str(revocation.certificate)

    @admin.display(description=_("certificate"))
    def certificate_link(self, revocation: RevocationRequest) -> str:
        return admin_link(revocation.certificate)

    @admin.display(ordering="certificate__serial")
    def serial(self, revocation: RevocationRequest) -> str:
        return serial_display(revocation.certificate.serial)

    @admin.display(description=_("issued"), ordering="first_issued_at")
    def issued_on(self, revocation: RevocationRequest):
        issued = revocation.first_issued_at
        return timezone.localdate(issued) if issued else "-"

    @admin.display(description=_("due date"), ordering="due_date")
    def due(self, revocation: RevocationRequest):
        if revocation.due_date is None:
            return "-"
        if revocation.is_overdue:
            return format_html(
                '<span class="overdue" title="Past its due date">{} (overdue)</span>',
                formats.localize(revocation.due_date),
            )
        return revocation.due_date

    @admin.display(description=_("refund"))
    def refund(self, revocation: RevocationRequest) -> str:
        """What completing it means for the refund (certificates/refunds.py's rules)."""
        if revocation.status == RevocationStatus.COMPLETED:
            if revocation.refund_amount:
                return gettext("Refunded %(amount)s") % {
                    "amount": format_money(revocation.refund_amount)
                }
            return pgettext("refund", "None")
        if revocation.status in (RevocationStatus.REJECTED, RevocationStatus.CANCELLED):
            return gettext("None (not revoked)")
        refund = selectors.refund_on(
            certificate=revocation.certificate,
            completed_on=timezone.localdate(),
            first_issued_at=revocation.first_issued_at,
        )
        if refund.deadline is None:
            return gettext("None (no order)")
        if refund.amount:
            return gettext("Full refund %(amount)s if completed by %(deadline)s") % {
                "amount": format_money(refund.amount),
                "deadline": refund.deadline,
            }
        return gettext("None: the refund deadline was %(deadline)s") % {"deadline": refund.deadline}

    @admin.action(
        description=_("Complete: revoke the certificate (and refund if due)"),
        permissions=["change"],
    )
    def complete(self, request, queryset) -> None:
        def complete(revocation: RevocationRequest) -> str:
            done = services.complete_revocation(revocation=revocation, actor=request.user)
            if done.refund_amount:
                return gettext("completed, refund %(amount)s") % {
                    "amount": format_money(done.refund_amount)
                }
            return gettext("completed, no refund (past the refund deadline)")

        self.decide_each(request, self.selected_rows(request, queryset), complete, verb="completed")

    @admin.action(
        description=_("Reject with a reason (the certificate stays issued)"), permissions=["change"]
    )
    def reject(self, request, queryset):
        def reject(revocation: RevocationRequest, reason: str) -> str:
            done = services.reject_revocation(
                revocation=revocation, reason=reason, actor=request.user
            )
            return gettext("rejected, the certificate is %(status)s again") % {
                "status": done.certificate.get_status_display()
            }

        return self.reject_with_reason(request, self.selected_rows(request, queryset), reject)
