"""The languages a customer can choose in their profile, and the words of that choice.

Kept apart from console.language (the middleware and the switch) so that forms can import
it without the services."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

# Blank: whatever the browser asks for (the language cookie, else Accept-Language).
BROWSER_LANGUAGE = ""
LANGUAGE_LABEL = _("Language")
LANGUAGE_HELP = _("The console and the emails sent to you use this language.")


def profile_choices() -> list[tuple[str, str]]:
    """The profile's choices: the browser's, then each language named in itself."""
    return [(BROWSER_LANGUAGE, _("The browser's language")), *settings.LANGUAGES]
