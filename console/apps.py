from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The project itself, as an app: its sign-in hook for the customer's language."""

    name = "console"
    verbose_name = "Console"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from console.language import remember_at_sign_in

        user_logged_in.connect(remember_at_sign_in, dispatch_uid="console.language")
