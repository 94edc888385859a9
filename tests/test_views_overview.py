import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates.lifecycle import CertificateStatus as Status
from tests.factories import make_brand, make_certificate, make_certificates

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("certificates:overview")
HTMX = {"HTTP_HX_REQUEST": "true"}


def listed_ids(response) -> list[int]:
    return [certificate.pk for certificate in response.context["page"].object_list]


def test_home_redirects_to_the_overview(customer_client):
    response = customer_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == OVERVIEW


def test_overview_needs_a_signed_in_customer(client):
    response = client.get(OVERVIEW)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={OVERVIEW}"


def test_sign_in_page_is_public_and_styled(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Sign in" in response.content
    assert b"bootstrap.min.css" in response.content


def test_sign_in_leads_to_the_overview(client, customer):
    response = client.post(reverse("login"), {"username": "alice", "password": "pw"})
    assert response.status_code == 302
    assert response["Location"] == OVERVIEW


def test_overview_shows_the_six_counters_linking_to_their_tabs(customer_client, customer):
    make_certificate(customer, status=Status.ISSUED, days_left=90)
    make_certificate(customer, status=Status.ISSUED, days_left=-1)
    make_certificate(customer, status=Status.CHECK_FAIL, days_left=None)

    response = customer_client.get(OVERVIEW)

    html = response.content.decode()
    counters = {tab.label: count for tab, count in response.context["counters"]}
    assert counters == {
        "Total": 3,
        "Issued": 1,
        "Pending Application": 0,
        "Will Expire": 0,
        "Check Fail": 1,
        "Expired": 1,
    }
    for key in ("issued", "pending_application", "will_expire", "check_fail", "expired"):
        assert f'href="{OVERVIEW}?status={key}"' in html
    assert "Installation &amp; Download" in html  # the flow strip


def test_tab_selects_the_status(customer_client, customer):
    failed = make_certificate(customer, status=Status.CHECK_FAIL, days_left=None)
    make_certificate(customer, status=Status.ISSUED)

    response = customer_client.get(OVERVIEW, {"status": "check_fail"})

    assert listed_ids(response) == [failed.pk]


def test_search_and_brand_filter_from_the_query_string(customer_client, customer):
    geotrust = make_brand("GeoTrust")
    wanted = make_certificate(customer, brand=geotrust, domain="shop.example.com")
    make_certificate(customer, brand=geotrust, domain="blog.example.com")
    make_certificate(customer, brand=make_brand("DigiCert"), domain="shop.example.net")

    response = customer_client.get(OVERVIEW, {"brand": "geotrust", "q": "shop"})

    assert listed_ids(response) == [wanted.pk]


def test_unknown_filter_values_are_ignored_not_an_error(customer_client, customer):
    make_certificates(customer, 2)
    response = customer_client.get(OVERVIEW, {"status": "nope", "brand": "nobody", "q": "x" * 300})
    assert response.status_code == 200
    assert len(listed_ids(response)) == 2


def test_the_filter_fields_show_the_filters_of_the_list(customer_client, customer):
    make_brand("GeoTrust")
    response = customer_client.get(
        OVERVIEW, {"status": "check_fail", "brand": "geotrust", "q": "  shop "}
    )
    html = response.content.decode()
    assert '<option value="check_fail" selected>Check Fail</option>' in html
    assert '<option value="geotrust" selected>GeoTrust</option>' in html
    assert 'name="q" value="shop"' in html


def test_ignored_filter_values_show_as_all_and_no_error(customer_client, customer):
    make_brand("GeoTrust")
    response = customer_client.get(OVERVIEW, {"status": "nope", "brand": "nobody", "q": "x" * 300})
    html = response.content.decode()
    assert '<option value="" selected>All Status (0)</option>' in html
    assert '<option value="" selected>All Brands</option>' in html
    assert '<input type="search" name="q" class="form-control"' in html  # no value
    assert "aria-invalid" not in html


@pytest.mark.parametrize(
    ("page", "expected_number"),
    [("1", 1), ("3", 3), ("4", 3), ("0", 3), ("-1", 3), ("abc", 1), ("", 1)],
)
def test_pagination_edges(customer_client, customer, settings, page, expected_number):
    settings.CERTIFICATES_PAGE_SIZE = 10
    make_certificates(customer, 25)

    response = customer_client.get(OVERVIEW, {"page": page})

    assert response.status_code == 200
    assert response.context["page"].number == expected_number
    expected_rows = 5 if expected_number == 3 else 10
    assert len(listed_ids(response)) == expected_rows


def test_empty_list_says_so(customer_client):
    response = customer_client.get(OVERVIEW, {"q": "nothing-like-this"})
    assert response.status_code == 200
    assert b"No certificates match." in response.content


def test_pages_keep_the_filters_in_their_links(customer_client, customer, settings):
    settings.CERTIFICATES_PAGE_SIZE = 10
    make_certificates(customer, 15, status=Status.ISSUED)

    html = customer_client.get(OVERVIEW, {"status": "issued"}).content.decode()

    assert 'href="?status=issued&amp;page=2"' in html


def test_htmx_request_gets_only_the_list_fragment(customer_client, customer):
    make_certificate(customer, domain="fragment.example.com")

    response = customer_client.get(OVERVIEW, {"status": "issued"}, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="certificate-list"')
    assert "fragment.example.com" in html
    assert "<html" not in html
    assert "counter-value" not in html
    assert "HX-Request" in response["Vary"]


def test_same_url_without_htmx_renders_the_whole_page(customer_client, customer):
    make_certificate(customer, domain="fragment.example.com")

    response = customer_client.get(OVERVIEW, {"status": "issued"})

    html = response.content.decode()
    assert html.startswith("<!doctype html>")
    assert 'id="certificate-list"' in html
    assert "counter-value" in html
    assert "fragment.example.com" in html


def test_history_restore_request_gets_the_whole_page(customer_client):
    response = customer_client.get(OVERVIEW, **HTMX, HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert response.content.decode().startswith("<!doctype html>")


def test_a_customer_sees_none_of_another_customers_certificates(client, customer, other_customer):
    make_certificate(customer, name="alice-secret", domain="secret.alice.example.com")
    client.force_login(other_customer)

    response = client.get(OVERVIEW, {"q": "alice"})
    everything = client.get(OVERVIEW)

    assert listed_ids(response) == []
    assert b"secret.alice.example.com" not in everything.content
    assert dict((tab.label, n) for tab, n in everything.context["counters"])["Total"] == 0


def overview_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(OVERVIEW, params)
    assert response.status_code == 200
    return len(queries)


def test_overview_query_count_does_not_grow_with_the_certificates(customer_client, customer):
    make_certificates(customer, 10, brand=make_brand("GeoTrust"))
    with_ten = overview_queries(customer_client)
    with_ten_searched = overview_queries(customer_client, q="example", status="issued")

    make_certificates(customer, 990, brand=make_brand("GlobalSign"))
    with_thousand = overview_queries(customer_client)
    with_thousand_searched = overview_queries(customer_client, q="example", status="issued")

    assert with_ten == with_thousand
    assert with_ten_searched == with_thousand_searched


def test_a_tab_without_search_reuses_its_counter_as_the_page_count(customer_client, customer):
    make_certificates(customer, 3, status=Status.ISSUED)
    make_certificate(customer, status=Status.CHECK_FAIL, days_left=None)

    plain = overview_queries(customer_client, status="issued")
    searched = overview_queries(customer_client, status="issued", q="example")

    # The searched list needs its own COUNT; the plain tab takes the counter's.
    assert searched == plain + 1
    response = customer_client.get(OVERVIEW, {"status": "issued"})
    assert response.context["page"].paginator.count == 3


def test_pending_rows_show_their_product_order_and_purchase_date(customer_client, customer):
    from tests.test_apply import pending

    first, second = pending(customer), pending(customer, "OV")
    html = customer_client.get(OVERVIEW).content.decode()
    for certificate in (first, second):
        assert f"Order #{certificate.order_id}" in html
        assert str(certificate.order.product) in html
    assert "No domain yet" not in html


def test_the_status_filter_reads_all_status_with_the_count(customer_client, customer):
    make_certificates(customer, 3)
    html = customer_client.get(OVERVIEW, {"status": "issued"}).content.decode()
    assert '<option value="">All Status (3)</option>' in html


def test_the_flow_strip_branches_into_dv_and_ov_ev(customer_client):
    html = customer_client.get(OVERVIEW).content.decode()
    branch = html.split('class="flow-branch"', 1)[1].split("</ul>", 1)[0]
    assert "<li>Domain Validation (DV)</li>" in branch
    assert "<li>Organization Validation (OV &amp; EV)</li>" in branch
