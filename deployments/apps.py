from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeploymentsConfig(AppConfig):
    name = "deployments"
    verbose_name = _("Deployments")

    def ready(self) -> None:
        from certificates.key_rotation import register_encrypted_column
        from deployments import receivers  # noqa: F401
        from deployments.models import Target

        # The targets' credentials are re-encrypted by rotate_keys with the private keys.
        register_encrypted_column(Target, "webhook_secret_encrypted")
        register_encrypted_column(Target, "ssh_private_key_encrypted")
