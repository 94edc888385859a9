"""The console's two languages on the Django side (English and Simplified Chinese).

`lazy_format` fills a lazily translated template when it is shown, so text made at import
time (a form's help text with a number in it) is still read in the request's language.
`language_of` is a customer's own language, the one their emails are written in.
`stored_message` and `check_detail` keep a domain check's finding (made by a worker, in
no reader's language) as its template and parameters, and show it in the reader's.
"""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext

from certificates.pki.i18n import Message


def _format(template: Any, params: Mapping[str, Any]) -> str:
    return str(template) % params


lazy_format = lazy(_format, str)


def language_of(user) -> str:
    """The language a customer reads the console and emails in: their profile's choice,
    else the console's default language."""
    from certificates.selectors import profile_language

    chosen = profile_language(customer=user) if user is not None else ""
    return chosen or settings.LANGUAGE_CODE


def stored_message(message: Message | None) -> dict[str, Any]:
    """What to store beside a finding's text so that it can be shown in any language."""
    if message is None:
        return {}
    params = {name: str(value) for name, value in message.params.items()}
    return {"message": {"template": message.template, "params": params}}


def check_detail(result: dict[str, Any]) -> str:
    """A stored check result's finding in the active language."""
    stored = result.get("message")
    if stored:
        text = gettext(stored["template"])
        return text % stored["params"] if stored["params"] else text
    detail = result.get("detail", "")
    return gettext(detail) if detail else ""
