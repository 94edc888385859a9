"""Secrets the console shows only once: ACME credentials' HMAC keys and API tokens.

A page that has just made one renders it through `templates/includes/shown_once.html`
(each value with a Copy button) and is sent with headers that keep every cache from
storing it; the secret itself is kept only hashed or encrypted, so no later page has it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers


@dataclass(frozen=True)
class ShownValue:
    key: str  # names its field on the page: id "shown-<key>"
    label: str
    value: str


@dataclass(frozen=True)
class ShownOnce:
    title: str
    values: tuple[ShownValue, ...]


def render_page(
    request: HttpRequest,
    template: str,
    context: Mapping[str, Any],
    *,
    shown: ShownOnce | None,
) -> HttpResponse:
    """Render `template`, with the values shown once (if any) and then never cached."""
    response = render(request, template, {**context, "shown": shown})
    if shown is not None:
        add_never_cache_headers(response)
    return response
