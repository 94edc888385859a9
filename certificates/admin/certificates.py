"""Certificates, read-only for everyone, with their serials, revocations and expiry warnings."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from certificates import selectors
from certificates.admin.shared import (
    CertificateColumns,
    CertificateStatusFilter,
    DeletedFilter,
    ReadOnlyAdmin,
    ReadOnlyInline,
    admin_link,
    fieldset_fields,
    serial_display,
)
from certificates.models import (
    Application,
    Certificate,
    ExpiryNotice,
    IssuedSerial,
    RevocationRequest,
)


class IssuedSerialInline(ReadOnlyInline):
    model = IssuedSerial
    fields = ["serial", "authority", "not_before", "not_after"]
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = _("serials the CA signed for this certificate")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("authority__brand")


class RevocationInline(ReadOnlyInline):
    model = RevocationRequest
    fk_name = "certificate"
    fields = ["status", "reason", "created_at", "due_date", "completed_at", "refund_amount"]
    readonly_fields = fields


class ExpiryNoticeInline(ReadOnlyInline):
    model = ExpiryNotice
    fields = ["threshold_days", "claimed_at", "sent_at"]
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = _("expiry warnings")


@admin.register(Certificate)
class CertificateAdmin(CertificateColumns, ReadOnlyAdmin):
    """Every certificate, read-only for everyone: statuses change only through the lifecycle."""

    certificate_path = ""
    domains_ordering = "common_name"
    list_display = [
        "__str__",
        "domains_display",
        "customer",
        "brand",
        "validation_type",
        "source",
        "status_display",
        "not_after",
        "serial_column",
    ]
    list_filter = [
        CertificateStatusFilter,
        "brand",
        "validation_type",
        "domain_scope",
        "source",
        DeletedFilter,
        "not_after",
        "created_at",
    ]
    search_fields = [
        "name",
        "common_name",
        "domains",
        "owner__username",
        "owner__email",
        "serial",
        "fingerprint_sha256",
        "issued_serials__serial",
    ]
    date_hierarchy = "created_at"
    show_full_result_count = False
    view_on_site = False
    inlines = [IssuedSerialInline, RevocationInline, ExpiryNoticeInline]
    exclude = selectors.CERTIFICATE_BULK_FIELDS
    fieldsets = [
        (
            "Certificate",
            {
                "fields": [
                    "name",
                    "common_name",
                    "domain_list",
                    "status_display",
                    "status_changed_at",
                    "source",
                    "customer",
                    "order_link",
                    "application_link",
                    "brand",
                    "validation_type",
                    "domain_scope",
                    "domain_count",
                    "organization",
                ]
            },
        ),
        (
            _("As signed"),
            {
                "fields": [
                    "issuer",
                    "authority",
                    "serial",
                    "fingerprint_sha256",
                    "key_algorithm",
                    "not_before",
                    "not_after",
                    "subscription_ends_at",
                ]
            },
        ),
        ("Console", {"fields": ["created_at", "expiry_warnings_enabled", "deleted_at"]}),
    ]
    readonly_fields = fieldset_fields(fieldsets)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("owner", "brand", "authority__brand")
            .defer(*selectors.CERTIFICATE_BULK_FIELDS)
        )

    @admin.display(description=_("serial"), ordering="serial")
    def serial_column(self, certificate: Certificate) -> str:
        return serial_display(certificate.serial)

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, certificate: Certificate) -> str:
        return certificate.get_display_status_display()

    @admin.display(description=_("order"))
    def order_link(self, certificate: Certificate) -> str:
        return admin_link(certificate.order) if certificate.order_id else "-"

    @admin.display(description=_("application"))
    def application_link(self, certificate: Certificate) -> str:
        application = Application.objects.filter(certificate=certificate).first()
        return admin_link(application, "Application") if application else "-"
