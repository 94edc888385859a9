"""The compromised-key list, read by operators: written only by revocations and reports."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from certificates.admin.shared import ReadOnlyAdmin, admin_link
from certificates.models import CompromisedKey


@admin.register(CompromisedKey)
class CompromisedKeyAdmin(ReadOnlyAdmin):
    """Keys no certificate is signed for again; by the hash of their SubjectPublicKeyInfo."""

    list_display = ["public_key_sha256", "source", "listed_at", "certificate_link"]
    list_filter = ["source", "listed_at"]
    search_fields = ["public_key_sha256__exact"]
    date_hierarchy = "listed_at"
    actions = None
    fields = ["public_key_sha256", "source", "listed_at", "certificate_link"]
    readonly_fields = fields

    def get_queryset(self, request):
        # Only the certificate's name for the link: never its PEM or key columns.
        return (
            super()
            .get_queryset(request)
            .select_related("certificate")
            .only(
                "public_key_sha256",
                "source",
                "listed_at",
                "certificate__id",
                "certificate__name",
                "certificate__common_name",
            )
        )

    @admin.display(description=_("certificate"), ordering="certificate__common_name")
    def certificate_link(self, listed: CompromisedKey) -> str:
        return admin_link(listed.certificate)
