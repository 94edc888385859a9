"""Certificate details, delete and expiry warnings: scoped to the owner, rules enforced."""

import json
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from certificates.lifecycle import CertificateStatus as Status
from certificates.models import AuditEvent, Certificate
from tests.factories import make_certificate
from tests.issuance import issue_real_certificate
from tests.test_apply import ORGANIZATION, apply, pending

pytestmark = pytest.mark.django_db


def detail_url(certificate) -> str:
    return reverse("certificates:detail", args=[certificate.pk])


def delete_url(certificate) -> str:
    return reverse("certificates:delete", args=[certificate.pk])


def is_deleted(certificate) -> bool:
    return Certificate.objects.get(pk=certificate.pk).deleted_at is not None


@pytest.fixture
def uploaded(customer, ec_leaf, intermediate_ca, customer_client):
    customer_client.post(
        reverse("certificates:upload"),
        {
            "name": "shop",
            "certificate": ec_leaf.cert_pem + intermediate_ca.cert_pem,
            "key": ec_leaf.key_pem,
        },
    )
    return Certificate.objects.get(name="shop")


def test_details_show_what_the_certificate_says(customer_client, uploaded, ec_leaf):
    response = customer_client.get(detail_url(uploaded))

    html = response.content.decode()
    assert response.status_code == 200
    for text in (
        "shop",
        "Uploaded",
        "Issued",
        "ec.example.com",
        "CN=ec.example.com",
        "CN=Example Intermediate CA",
        uploaded.serial,
        uploaded.fingerprint_sha256,
        "ECC P-256",
        "uploaded certificates do not support downloading",
    ):
        assert text in html, text
    sha1 = response.context["details"].fingerprint_sha1
    assert len(sha1.split(":")) == 20
    assert [entry.subject for entry in response.context["details"].chain] == [
        "O=Example Trust,CN=Example Intermediate CA"
    ]
    assert "PRIVATE KEY" not in html


def test_details_of_a_console_certificate_without_pem_yet(customer_client, customer):
    pending = make_certificate(customer, status=Status.PENDING_APPLICATION, days_left=None)
    response = customer_client.get(detail_url(pending))
    assert response.status_code == 200
    assert response.context["details"] is None


def test_another_customers_certificate_is_a_404(client, other_customer, customer):
    theirs = make_certificate(customer, source="uploaded")
    client.force_login(other_customer)

    assert client.get(detail_url(theirs)).status_code == 404
    assert client.get(delete_url(theirs)).status_code == 404
    assert client.post(delete_url(theirs)).status_code == 404
    assert client.post(reverse("certificates:expiry_warnings", args=[theirs.pk])).status_code == 404
    assert not is_deleted(theirs)
    assert Certificate.objects.get(pk=theirs.pk).expiry_warnings_enabled


def test_deleted_certificate_is_a_404(customer_client, customer):
    gone = make_certificate(customer, status=Status.EXPIRED, days_left=-5)
    customer_client.post(delete_url(gone))
    assert customer_client.get(detail_url(gone)).status_code == 404


@pytest.mark.parametrize(
    ("fields", "deletable"),
    [
        ({"source": "uploaded", "status": Status.ISSUED}, True),
        ({"source": "uploaded", "status": Status.EXPIRED, "days_left": -3}, True),
        ({"status": Status.EXPIRED, "days_left": -3}, True),
        ({"status": Status.ISSUED, "days_left": -1}, True),  # ran out, batch job not run yet
        ({"status": Status.REVOKED}, True),
        ({"status": Status.ISSUED}, False),
        ({"status": Status.REVOKING}, False),
        ({"status": Status.PENDING_APPLICATION, "days_left": None}, False),
        ({"status": Status.VALIDATING, "days_left": None}, False),
        ({"status": Status.CHECK_FAIL, "days_left": None}, False),
    ],
)
def test_delete_rules(customer_client, customer, fields, deletable):
    certificate = make_certificate(customer, **fields)

    response = customer_client.post(delete_url(certificate))

    assert is_deleted(certificate) is deletable
    if deletable:
        assert response.status_code == 302
        event = AuditEvent.objects.get(action="certificate.delete")
        assert (event.actor, event.object_id) == (customer, str(certificate.pk))
    else:
        assert response.status_code == 200
        assert response.context["refusal"]
        assert not AuditEvent.objects.exists()


def test_issued_certificate_delete_says_revoke_first(customer_client, customer):
    live = make_certificate(customer, status=Status.ISSUED)
    response = customer_client.get(delete_url(live), HTTP_HX_REQUEST="true")
    assert "revoke it first" in response.content.decode()
    assert "<form" not in response.content.decode()


def test_delete_dialog_asks_before_deleting(customer_client, customer):
    uploaded = make_certificate(customer, source="uploaded", name="old-one")
    response = customer_client.get(delete_url(uploaded), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="modal-content">')
    assert "Delete <strong>old-one</strong>" in html
    assert not is_deleted(uploaded)


def test_delete_from_the_overview_refreshes_it_in_place(customer_client, customer):
    uploaded = make_certificate(customer, source="uploaded")
    response = customer_client.post(
        delete_url(uploaded),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/certificates/?page=2",
    )
    assert response.status_code == 204
    triggers = json.loads(response["HX-Trigger"])
    assert set(triggers) == {"certificatesChanged", "closeDialog", "showMessage"}
    # The list has no page to reload: the message comes with the answer.
    assert triggers["showMessage"] == {
        "level": "success",
        "message": f"Certificate {uploaded} was deleted.",
    }
    assert is_deleted(uploaded)


def test_delete_from_the_details_page_goes_back_to_the_overview(customer_client, customer):
    uploaded = make_certificate(customer, source="uploaded")
    response = customer_client.post(
        delete_url(uploaded),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{detail_url(uploaded)}",
    )
    assert response["HX-Redirect"] == reverse("certificates:overview")


def test_deleted_name_can_be_used_again(customer_client, customer, ec_leaf):
    make_certificate(customer, source="uploaded", name="shop", deleted_at="2026-01-01T00:00Z")
    response = customer_client.post(
        reverse("certificates:upload"),
        {"name": "shop", "certificate": ec_leaf.cert_pem, "key": ec_leaf.key_pem},
    )
    assert response.status_code == 302


def test_expiry_warnings_can_be_turned_off_and_on(customer_client, customer):
    certificate = make_certificate(customer)
    url = reverse("certificates:expiry_warnings", args=[certificate.pk])

    customer_client.post(url, {})
    assert Certificate.objects.get(pk=certificate.pk).expiry_warnings_enabled is False
    customer_client.post(url, {"enabled": "on"})
    assert Certificate.objects.get(pk=certificate.pk).expiry_warnings_enabled is True
    assert AuditEvent.objects.filter(action="certificate.expiry_warnings").count() == 2


@pytest.mark.parametrize(
    ("validation_type", "fields", "shown", "not_shown"),
    [
        ("DV", {"validation_method": "dns"}, "Add this DNS TXT record", "Publish a file"),
        ("DV", {"validation_method": "file"}, "Publish a file", "Add this DNS TXT record"),
        # OV/EV prove control of every name too, then an operator checks the organization.
        ("OV", ORGANIZATION, "Add this DNS TXT record", "Publish a file"),
    ],
)
def test_while_validating_the_details_say_what_the_validation_needs(
    customer_client, customer, validation_type, fields, shown, not_shown
):
    certificate = pending(customer, validation_type)
    apply(customer_client, certificate, **fields)

    html = customer_client.get(detail_url(certificate)).content.decode()

    heading = (
        "Domain validation" if validation_type == "DV" else "Domain and organization validation"
    )
    assert f'id="validation-heading">{heading}<' in html
    assert shown in html
    assert not_shown not in html
    assert ("an operator checks the organization" in html) == (validation_type != "DV")


@pytest.mark.parametrize(
    ("status", "link"),
    [(Status.PENDING_APPLICATION, "Apply"), (Status.CHECK_FAIL, "Edit and resubmit")],
)
def test_a_failed_check_is_offered_to_edit_and_resubmit(customer_client, customer, status, link):
    certificate = make_certificate(customer, status=status, days_left=None)
    apply_url = reverse("certificates:apply", args=[certificate.pk])

    html = customer_client.get(detail_url(certificate)).content.decode()

    assert f'href="{apply_url}">{link}</a>' in html


def test_details_read_the_certificate_with_its_order_product_and_brand_in_one_query(
    customer_client, customer, django_assert_num_queries
):
    from tests.issuance import issue_real_certificate

    certificate = issue_real_certificate(customer, "OV", domain="queries.example.com")
    url = reverse("certificates:detail", args=[certificate.pk])
    customer_client.get(url)  # the session's first read may write it

    # The session, the user, the certificate with its relations (its ACME order too), its
    # revocation request, and the certificates ordered to replace it.
    with django_assert_num_queries(5):
        response = customer_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "queries.example.com" in html
    assert certificate.brand.name in html


def test_a_revoked_certificate_shows_no_days_left(customer, customer_client):
    revoked = make_certificate(customer, status=Status.REVOKED, days_left=198)
    html = customer_client.get(detail_url(revoked)).content.decode()
    assert "days left" not in html
    listing = customer_client.get(reverse("certificates:overview")).content.decode()
    assert "days left" not in listing
    issued = make_certificate(customer, status=Status.ISSUED, days_left=198)
    assert "198 days left" in customer_client.get(detail_url(issued)).content.decode()


def test_without_the_key_tomcat_and_iis_are_shown_disabled_with_the_reason(
    customer, customer_client
):
    certificate = issue_real_certificate(customer, "DV")
    Certificate.objects.filter(pk=certificate.pk).update(private_key_encrypted="")
    html = customer_client.get(detail_url(certificate)).content.decode()
    for label in ("Tomcat", "IIS"):
        assert f'disabled aria-describedby="download-refusal">{label}' in html
    assert reverse("certificates:download", args=[certificate.pk, "tomcat"]) not in html
    assert reverse("certificates:download", args=[certificate.pk, "nginx"]) in html
    assert "requested with your own CSR" in html


def test_with_the_key_every_server_type_downloads(customer, customer_client):
    certificate = issue_real_certificate(customer, "DV")
    html = customer_client.get(detail_url(certificate)).content.decode()
    assert "disabled" not in html.split('id="download-heading"', 1)[1].split("</section>", 1)[0]
    assert reverse("certificates:download", args=[certificate.pk, "iis"]) in html


def test_the_delete_dialog_names_a_nameless_certificate_once(customer, customer_client):
    expired = make_certificate(customer, status=Status.EXPIRED, days_left=-3, domain="eval.example")
    html = customer_client.get(delete_url(expired)).content.decode()
    assert "Delete <strong>eval.example</strong>?" in html


def test_the_revoke_it_first_refusal_offers_revoke(customer, customer_client):
    certificate = issue_real_certificate(customer, "DV")
    html = customer_client.get(delete_url(certificate)).content.decode()
    assert "revoke it first" in html
    assert f'href="{reverse("certificates:revoke", args=[certificate.pk])}">Revoke</a>' in html


def test_withdraw_and_reissue_ask_before_they_act(customer, customer_client):
    validating = make_certificate(customer, status=Status.VALIDATING, days_left=None)
    html = customer_client.get(detail_url(validating)).content.decode()
    assert 'data-confirm="Withdraw this application?' in html


def test_a_pending_certificate_says_what_to_do_next_instead_of_dashes(customer, customer_client):
    certificate = pending(customer)
    html = customer_client.get(detail_url(certificate)).content.decode()
    assert "What to do next" in html
    assert f'href="{reverse("certificates:apply", args=[certificate.pk])}"' in html
    assert "Serial number" not in html and "SHA-256 fingerprint" not in html


def test_every_page_names_its_favicon(customer_client):
    html = customer_client.get(reverse("certificates:overview")).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    assert "<svg" in Path(finders.find("favicon.svg")).read_text()
