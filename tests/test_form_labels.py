"""Every form field on every console page has a label a screen reader announces.

The console's pages, not the Django admin's: its split date/time widgets and
editable list cells are Django's own markup.
"""

from html.parser import HTMLParser

import pytest

from tests.test_apply import pending
from tests.url_walk import World, endpoints

pytestmark = pytest.mark.django_db

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Fields(HTMLParser):
    """The page's fields and what labels them: <label for>, a wrapping <label>, or ARIA."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[dict] = []
        self.label_targets: set[str] = set()
        self.open_labels = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        names = dict(attrs)
        if tag == "label":
            self.open_labels += 1
            if names.get("for"):
                self.label_targets.add(names["for"])
        elif tag in {"input", "select", "textarea"}:
            if tag == "input" and names.get("type", "text") in UNLABELLED_TYPES:
                return
            self.fields.append({**names, "tag": tag, "wrapped": self.open_labels > 0})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_labels = max(0, self.open_labels - 1)

    def unlabelled(self) -> list[str]:
        return [
            f"<{field['tag']} name={field.get('name')!r} id={field.get('id')!r}>"
            for field in self.fields
            if not (
                field["wrapped"]
                or field.get("id") in self.label_targets
                or field.get("aria-label")
                or field.get("aria-labelledby")
            )
        ]


def unlabelled(html: str) -> list[str]:
    parser = Fields()
    parser.feed(html)
    return parser.unlabelled()


def test_the_check_finds_a_field_without_a_label():
    assert unlabelled('<input name="q"><label for="a">A</label><input id="a">') == [
        "<input name='q' id=None>"
    ]
    assert not unlabelled('<label>Q <input name="q"></label><input aria-label="x">')


def test_every_field_of_every_page_has_a_label(settings):
    settings.CONSOLE_BASE_URL = "http://testserver"
    world = World()
    customer = world.client_for("customer")
    urls = [
        world.url(endpoint) for endpoint in endpoints() if not endpoint.route.startswith("admin/")
    ]
    # The forms that show only in some states: apply (DV and OV), the prefilled upload.
    for validation_type in ("DV", "OV", "EV"):
        urls.append(f"/certificates/{pending(world.customer, validation_type).pk}/apply/")
    problems = []
    pages = 0
    for client in (customer, world.client_for("")):
        for url in urls:
            response = client.get(url)
            if response.status_code != 200 or "text/html" not in response["Content-Type"]:
                continue
            pages += 1
            problems += [(url, field) for field in unlabelled(response.content.decode())]
    # Forms after a failed POST: the errors are shown beside the same labelled fields.
    for url, data in (
        ("/certificates/upload/", {"name": "bad name!"}),
        ("/tools/convert/", {}),
        (f"/certificates/{world.certificate.pk}/revoke/", {}),
    ):
        response = customer.post(url, data)
        problems += [(url, field) for field in unlabelled(response.content.decode())]
    assert pages > 10
    assert not problems
