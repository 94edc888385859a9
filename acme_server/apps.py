from django.apps import AppConfig


class AcmeServerConfig(AppConfig):
    name = "acme_server"
    verbose_name = "ACME server"
