"""Keyset pages of the overview's list: every certificate once, ties included."""

from datetime import timedelta

import pytest
from django.utils import timezone

from certificates.models import Certificate
from certificates.selectors import Cursor, certificate_list, keyset_page
from tests.factories import make_certificates

pytestmark = pytest.mark.django_db


def walk(entries, *, size: int) -> list[int]:
    seen, page = [], keyset_page(entries, size=size)
    while True:
        seen += [entry.pk for entry in page.object_list]
        if page.older is None:
            return seen
        page = keyset_page(entries, size=size, after=page.older)


def test_certificates_made_in_the_same_instant_are_each_shown_once(customer):
    instant = timezone.now() - timedelta(days=1)
    made = make_certificates(customer, 7, created_at=instant)
    make_certificates(customer, 5)  # later ones
    entries = certificate_list(owner=customer)

    seen = walk(entries, size=3)

    assert len(seen) == len(set(seen)) == 12
    assert seen == list(entries.values_list("pk", flat=True))
    assert set(seen[-7:]) == {certificate.pk for certificate in made}


def test_walking_back_from_the_last_page_meets_the_same_pages(customer):
    make_certificates(customer, 10, created_at=timezone.now() - timedelta(hours=1))
    entries = certificate_list(owner=customer)
    order = list(entries.values_list("pk", flat=True))

    page = keyset_page(entries, size=4, last=True)
    backwards = [entry.pk for entry in page.object_list]
    while page.newer is not None:
        page = keyset_page(entries, size=4, before=page.newer)
        backwards = [entry.pk for entry in page.object_list] + [
            pk for pk in backwards if pk not in {entry.pk for entry in page.object_list}
        ]

    assert backwards == order


def test_a_cursor_reads_back_exactly(customer):
    [certificate] = make_certificates(customer, 1)
    certificate = Certificate.objects.get(pk=certificate.pk)
    cursor = Cursor.of(certificate)

    assert Cursor.parse(str(cursor)) == cursor


@pytest.mark.parametrize(
    "text", [None, "", "x-1", "1-x", "-1", "1-", "1.5-2", "9" * 19 + "-1", "1-" + "9" * 19]
)
def test_anything_else_is_not_a_cursor(text):
    assert Cursor.parse(text) is None
