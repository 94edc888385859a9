"""The brands' local certificate authorities, view only."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from certificates.admin.shared import ReadOnlyAdmin
from certificates.models import CertificateAuthority
from certificates.pki.parsing import describe_certificate, load_certificates


@admin.register(CertificateAuthority)
class CertificateAuthorityAdmin(ReadOnlyAdmin):
    """The brands' local CAs, view only; their keys stay out of the admin."""

    list_display = ["__str__", "slug", "subject", "valid_until", "crl_number", "crl_refresh_at"]
    list_filter = ["brand", "role"]
    search_fields = ["slug", "brand__name"]
    exclude = ["private_key_encrypted", "crl_der"]
    fields = [
        "brand",
        "role",
        "slug",
        "subject",
        "fingerprint",
        "valid_from",
        "valid_until",
        "certificate_pem_display",
        "crl_number",
        "crl_refresh_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("brand")
            .defer("private_key_encrypted", "crl_der")
        )

    def info(self, authority: CertificateAuthority):
        if not hasattr(authority, "_info"):
            authority._info = describe_certificate(load_certificates(authority.certificate_pem)[0])
        return authority._info

    @admin.display
    def subject(self, authority: CertificateAuthority) -> str:
        return self.info(authority).subject

    @admin.display(description=_("SHA-256 fingerprint"))
    def fingerprint(self, authority: CertificateAuthority) -> str:
        return self.info(authority).fingerprint_sha256

    @admin.display(description=_("valid from"))
    def valid_from(self, authority: CertificateAuthority):
        return self.info(authority).not_before

    @admin.display(description=_("valid until"))
    def valid_until(self, authority: CertificateAuthority):
        return self.info(authority).not_after

    @admin.display(description=_("certificate (PEM)"))
    def certificate_pem_display(self, authority: CertificateAuthority) -> str:
        return format_html('<pre class="pem">{}</pre>', authority.certificate_pem)
