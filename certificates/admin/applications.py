"""Applications: the review queue of OV/EV applications, approved or rejected by operators."""

from django.contrib import admin
from django.db.models import F
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from certificates import selectors, services
from certificates.admin.shared import (
    CertificateColumns,
    DecisionAdmin,
    ReviewQueueFilter,
    admin_link,
    fieldset_fields,
)
from certificates.models import Application
from certificates.pki import csr
from certificates.pki.errors import PKIError
from certificates.translation import check_detail


@admin.register(Application)
class ApplicationAdmin(CertificateColumns, DecisionAdmin):
    """Applications, opening on the queue of OV/EV ones waiting for review, oldest first."""

    certificate_path = "certificate__"
    list_display = [
        "domains_display",
        "customer",
        "validation_type",
        "organization",
        "checks",
        "status",
        "submitted_at",
    ]
    list_display_links = ["domains_display"]
    list_filter = [
        ReviewQueueFilter,
        "certificate__status",
        "certificate__validation_type",
        "certificate__brand",
        "csr_source",
        "validation_method",
        "submitted_at",
        "reviewed_at",
    ]
    search_fields = [
        "domains",
        "organization_name",
        "contact_name",
        "contact_email",
        "certificate__name",
        "certificate__owner__username",
        "certificate__owner__email",
        "certificate__serial",
        "certificate__fingerprint_sha256",
    ]
    date_hierarchy = "submitted_at"
    ordering = [F("submitted_at").asc(nulls_last=True), "pk"]
    show_full_result_count = False
    actions = ["approve", "reject"]
    reject_question = _(
        'Reject these applications? Each certificate goes to "Check Fail" and its customer '
        "sees the reason."
    )

    fieldsets = [
        (
            _("Certificate"),
            {
                "fields": [
                    "certificate_link",
                    "customer",
                    "validation_type",
                    "brand",
                    "status",
                    "submitted_at",
                ]
            },
        ),
        (
            _("Domains and validation"),
            {
                "fields": [
                    "domain_list",
                    "validation_method",
                    "validation_token",
                    "checks",
                    "last_checked_at",
                ]
            },
        ),
        (_("Contact"), {"fields": ["contact_name", "contact_email", "contact_phone"]}),
        (
            _("Organization"),
            {
                "fields": [
                    "organization_name",
                    "organization_country",
                    "organization_state",
                    "organization_city",
                    "organization_address",
                    "business_category",
                    "jurisdiction_country",
                    "registration_number",
                ]
            },
        ),
        (
            _("Certificate signing request"),
            {
                "fields": [
                    "csr_source",
                    "key_type",
                    "csr_subject",
                    "csr_domains",
                    "csr_key",
                    "csr_signature",
                    "csr_text",
                ]
            },
        ),
        (_("Review"), {"fields": ["reviewed_by", "reviewed_at", "rejection_reason"]}),
    ]
    readonly_fields = fieldset_fields(fieldsets)

    def changelist_view(self, request, extra_context=None):
        in_queue = ReviewQueueFilter.parameter_name not in request.GET
        if in_queue:
            title = gettext("Applications waiting for review, oldest first")
        else:
            title = gettext("Applications")
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("certificate__owner", "certificate__brand", "reviewed_by")
            .defer(*(f"certificate__{name}" for name in selectors.CERTIFICATE_BULK_FIELDS))
        )

    def is_open(self, application: Application) -> bool:
        return selectors.is_waiting_for_review(application.certificate)

    def describe(self, application: Application) -> str:
        return f"{application.certificate} (#{application.certificate_id})"

    def describe_for_reject(self, application: Application) -> str:
        certificate = application.certificate
        return (
            f"{certificate} (#{certificate.pk}, {certificate.owner}), "
            f"{certificate.get_status_display()}"
        )

    @admin.display(description=_("brand"))
    def brand(self, application: Application) -> str:
        return str(application.certificate.brand or "-")

    @admin.display(ordering="certificate__status")
    def status(self, application: Application) -> str:
        return application.certificate.get_status_display()

    @admin.display(ordering="organization_name")
    def organization(self, application: Application) -> str:
        name = application.organization_name
        if not name:
            return "-"
        city, country = application.organization_city, application.organization_country
        place = ", ".join(part for part in (city, country) if part)
        return f"{name} ({place})" if place else name

    @admin.display(description=_("domain checks"))
    def checks(self, application: Application) -> str:
        """The last check's result for each domain, DV, OV and EV alike: Approve waits for all."""
        results = application.check_results or {}
        if not application.domain_list:
            return "-"
        return format_html(
            '<ul class="checks">{}</ul>',
            format_html_join(
                "",
                '<li class="{}">{} {}: {}</li>',
                (_check_row(domain, results.get(domain)) for domain in application.domain_list),
            ),
        )

    @admin.display(description=_("certificate"))
    def certificate_link(self, application: Application) -> str:
        text = gettext("Certificate #%(id)s") % {"id": application.certificate_id}
        return admin_link(application.certificate, text)

    def csr_info(self, application: Application) -> csr.CSRInfo | str:
        """The CSR as read (once per page), or why it can't be read."""
        if not hasattr(application, "_csr_info"):
            if not application.csr_pem:
                application._csr_info = gettext("No CSR yet.")
            else:
                try:
                    application._csr_info = csr.describe_csr(application.csr_pem)
                except PKIError as error:
                    application._csr_info = gettext("The CSR can't be read: %(error)s") % {
                        "error": error.message
                    }
        return application._csr_info

    @admin.display(description=_("subject"))
    def csr_subject(self, application: Application) -> str:
        info = self.csr_info(application)
        return info if isinstance(info, str) else info.subject

    @admin.display(description=_("names"))
    def csr_domains(self, application: Application) -> str:
        info = self.csr_info(application)
        if isinstance(info, str):
            return "-"
        return format_html_join("", '<div class="domain">{}</div>', ((d,) for d in info.domains))

    @admin.display(description=_("key"))
    def csr_key(self, application: Application) -> str:
        info = self.csr_info(application)
        return "-" if isinstance(info, str) else info.key_description

    @admin.display(description=_("signature"))
    def csr_signature(self, application: Application) -> str:
        info = self.csr_info(application)
        if isinstance(info, str):
            return "-"
        if info.signature_valid:
            return gettext("%(algorithm)s, valid") % {"algorithm": info.signature_algorithm}
        return gettext("%(algorithm)s, NOT valid") % {"algorithm": info.signature_algorithm}

    @admin.display(description=_("CSR (PEM)"))
    def csr_text(self, application: Application) -> str:
        # The request re-encoded from what was parsed, never the stored text as is.
        info = self.csr_info(application)
        return "-" if isinstance(info, str) else format_html('<pre class="pem">{}</pre>', info.pem)

    @admin.action(description=_("Approve: issue the certificate"), permissions=["change"])
    def approve(self, request, queryset) -> None:
        def approve(application: Application) -> str:
            certificate = services.approve_application(
                certificate=application.certificate, actor=request.user
            )
            return gettext("approved, issued with serial %(serial)s") % {
                "serial": certificate.serial
            }

        self.decide_each(request, self.selected_rows(request, queryset), approve, verb="approved")

    @admin.action(description=_("Reject with a reason (Check Fail)"), permissions=["change"])
    def reject(self, request, queryset):
        def reject(application: Application, reason: str) -> str:
            services.reject_application(
                certificate=application.certificate, reason=reason, actor=request.user
            )
            return gettext("rejected (Check Fail), the customer sees the reason")

        return self.reject_with_reason(request, self.selected_rows(request, queryset), reject)


def _check_row(domain: str, result: dict | None) -> tuple[str, str, str, str]:
    if result is None:
        return (
            "check-failed",
            gettext("not checked yet"),
            domain,
            gettext("the customer has not pressed Verify"),
        )
    if result.get("ok"):
        return ("check-ok", gettext("found"), domain, check_detail(result))
    return ("check-failed", gettext("not found"), domain, check_detail(result))
