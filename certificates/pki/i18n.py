"""The core's messages in the customer's language, without Django.

A customer-facing message is an English template marked with ``N_`` (a no-op that
makemessages collects with ``--keyword=N_``) and its named parameters. The template is
translated when the message is read, by the translator the Django side installs at
start-up (``certificates.apps``: Django's gettext); until then, and in the core's own
tests, messages are English.
"""

from collections.abc import Callable, Mapping
from typing import Any


def N_(message: str) -> str:  # noqa: N802 - the usual name of the marker
    """Mark a message for translation; it is translated when shown, not here."""
    return message


def _english(message: str) -> str:
    return message


_translator: Callable[[str], str] = _english


def set_translator(translator: Callable[[str], str]) -> None:
    """Translate the core's messages with `translator` from now on (Django's gettext)."""
    global _translator
    _translator = translator


def render(template: str, params: Mapping[str, Any]) -> str:
    """The template in the active language, its placeholders filled in (a Message among
    them in the active language too)."""
    text = _translator(template)
    if not params:
        return text
    return text % {name: str(value) for name, value in params.items()}


class Message:
    """A message read later, in the language active then: a template and its parameters."""

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params = params

    def __str__(self) -> str:
        return render(self.template, self.params)

    def __repr__(self) -> str:
        return f"Message({self.template!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Message):
            return (self.template, self.params) == (other.template, other.params)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.template)
