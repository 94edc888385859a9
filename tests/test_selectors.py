import pytest

from certificates.lifecycle import CertificateStatus as Status
from certificates.selectors import certificate_counters, certificate_list
from tests.factories import make_brand, make_certificate, make_certificates

pytestmark = pytest.mark.django_db


def make_known_mix(owner):
    make_certificate(owner, status=Status.ISSUED, days_left=100)
    make_certificate(owner, status=Status.ISSUED, days_left=60)
    make_certificate(owner, status=Status.ISSUED, days_left=10)  # will expire
    make_certificate(owner, status=Status.ISSUED, days_left=-2)  # ran out, batch job not run
    make_certificate(owner, status=Status.EXPIRED, days_left=-40)
    make_certificate(owner, status=Status.PENDING_APPLICATION, days_left=None)
    make_certificate(owner, status=Status.PENDING_APPLICATION, days_left=None)
    make_certificate(owner, status=Status.CHECK_FAIL, days_left=None)
    make_certificate(owner, status=Status.VALIDATING, days_left=None)
    make_certificate(owner, status=Status.REVOKED, days_left=50)


def test_counters_on_a_known_mix(customer):
    make_known_mix(customer)

    assert certificate_counters(owner=customer) == {
        "total": 10,
        "issued": 3,
        "pending_application": 2,
        "will_expire": 1,
        "check_fail": 1,
        "expired": 2,
    }


def test_counters_take_three_queries_at_any_size(customer, django_assert_num_queries):
    make_known_mix(customer)
    with django_assert_num_queries(3):
        certificate_counters(owner=customer)
    make_certificates(customer, 200, status=Status.ISSUED, days_left=5)
    with django_assert_num_queries(3):
        assert certificate_counters(owner=customer)["will_expire"] == 201


def test_certificate_past_its_end_date_lists_as_expired_not_issued(customer):
    ran_out = make_certificate(customer, status=Status.ISSUED, days_left=-1)
    live = make_certificate(customer, status=Status.ISSUED, days_left=5)

    assert list(certificate_list(owner=customer, status="issued")) == [live]
    assert list(certificate_list(owner=customer, status="expired")) == [ran_out]
    assert ran_out.display_status == Status.EXPIRED
    assert live.display_status == Status.ISSUED


def test_deleted_certificates_are_neither_counted_nor_listed(customer):
    from django.utils import timezone

    make_certificate(customer, deleted_at=timezone.now())
    kept = make_certificate(customer)

    assert certificate_counters(owner=customer)["total"] == 1
    assert list(certificate_list(owner=customer)) == [kept]


def test_a_customer_sees_none_of_another_customers_certificates(customer, other_customer):
    make_known_mix(customer)
    make_certificate(customer, name="alice-shop", domain="shop.alice.example.com")

    assert set(certificate_counters(owner=other_customer).values()) == {0}
    assert not certificate_list(owner=other_customer).exists()
    assert not certificate_list(owner=other_customer, search="alice").exists()


def test_search_matches_certificate_name(customer):
    named = make_certificate(customer, name="Payments-Gateway", domain="pay.example.com")
    make_certificate(customer, name="blog", domain="blog.example.com")

    assert list(certificate_list(owner=customer, search="payments")) == [named]


def test_search_matches_any_san_domain(customer):
    certificate = make_certificate(
        customer, domain="example.org", domains="example.org\nwww.example.org\napi.shop.example.org"
    )
    make_certificate(customer, domain="other.net")

    assert list(certificate_list(owner=customer, search="API.shop")) == [certificate]


def test_brand_filter(customer):
    geotrust = make_brand("GeoTrust")
    theirs = make_certificate(customer, brand=geotrust)
    make_certificate(customer, brand=make_brand("DigiCert"))

    assert list(certificate_list(owner=customer, brand=geotrust)) == [theirs]


def test_will_expire_tab_holds_issued_certificates_ending_within_the_window(customer, settings):
    settings.CERTIFICATES_WILL_EXPIRE_DAYS = 30
    soon = make_certificate(customer, days_left=29)
    make_certificate(customer, days_left=31)
    make_certificate(customer, days_left=-1)
    make_certificate(customer, status=Status.REVOKING, days_left=3)

    assert list(certificate_list(owner=customer, status="will_expire")) == [soon]


def test_unknown_status_lists_everything(customer):
    make_known_mix(customer)
    assert certificate_list(owner=customer, status="bogus").count() == 10
