"""Helpers for the admin tests: posting actions and reading what the operator sees."""

import html
import re

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse


def changelist_url(model: str) -> str:
    return reverse(f"admin:certificates_{model}_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:certificates_{obj._meta.model_name}_change", args=[obj.pk])


def post_action(client, model: str, action: str, rows, *, query: str = "", **data):
    """Tick `rows` in the list and run `action` on them, as the changelist form does."""
    return client.post(
        changelist_url(model) + query,
        {"action": action, ACTION_CHECKBOX_NAME: [row.pk for row in rows], "index": 0, **data},
        follow=True,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def page_text(response) -> str:
    """The text a reader sees: no scripts or tags, entities decoded, whitespace collapsed."""
    content = re.sub(r"<script.*?</script>", " ", response.content.decode(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content)).split())


def result_ids(response) -> list[int]:
    return [row.pk for row in response.context["cl"].result_list]
