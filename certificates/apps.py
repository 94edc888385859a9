from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("SSL certificates")

    def ready(self) -> None:
        # The pure core's messages are English templates; read them in the active language.
        from django.utils.translation import gettext

        from certificates.pki import i18n

        i18n.set_translator(gettext)
