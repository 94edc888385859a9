import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.pki import crafted

pytestmark = pytest.mark.django_db

CONVERT = reverse("convert")


def convert(client, data: bytes, password: str = ""):
    return client.post(CONVERT, {"file": SimpleUploadedFile("in.bin", data), "password": password})


def test_converter_turns_pkcs12_into_pem_with_an_upload_button(
    customer_client, ec_leaf, intermediate_ca
):
    pfx = pkcs12.serialize_key_and_certificates(
        b"shop",
        ec_leaf.key,
        ec_leaf.cert,
        [intermediate_ca.cert],
        serialization.BestAvailableEncryption(b"pw"),
    )

    response = convert(customer_client, pfx, "pw")

    converted = response.context["converted"]
    assert converted.certificates_pem == ec_leaf.cert_pem + intermediate_ca.cert_pem
    assert converted.private_key_pem == ec_leaf.key_pem
    html = response.content.decode()
    assert 'hx-post="/certificates/upload/"' in html
    assert "BEGIN CERTIFICATE" in html


def test_converter_says_when_the_pkcs12_password_is_wrong(customer_client, ec_leaf):
    pfx = pkcs12.serialize_key_and_certificates(
        b"shop", ec_leaf.key, ec_leaf.cert, None, serialization.BestAvailableEncryption(b"pw")
    )
    response = convert(customer_client, pfx, "nope")
    assert response.status_code == 200
    assert response.context["converted"] is None
    assert "Wrong password" in response.context["form"].errors["password"][0]


@pytest.mark.parametrize("form", ["der", "p7b_der", "p7b_pem"])
def test_converter_reads_der_and_pkcs7(customer_client, ec_leaf, intermediate_ca, form):
    data = {
        "der": ec_leaf.cert.public_bytes(serialization.Encoding.DER),
        "p7b_der": pkcs7.serialize_certificates(
            [ec_leaf.cert, intermediate_ca.cert], serialization.Encoding.DER
        ),
        "p7b_pem": pkcs7.serialize_certificates(
            [ec_leaf.cert, intermediate_ca.cert], serialization.Encoding.PEM
        ),
    }[form]
    converted = convert(customer_client, data).context["converted"]
    assert ec_leaf.cert_pem in converted.certificates_pem


def test_converter_refuses_garbage_on_the_file_field(customer_client):
    response = convert(customer_client, b"\x00\x01garbage")
    assert response.status_code == 200
    assert response.context["form"].errors["file"]


def test_upload_dialog_opens_prefilled_from_the_converter(customer_client, ec_leaf):
    response = customer_client.post(
        reverse("certificates:upload"),
        {"prefill": "1", "certificate": ec_leaf.cert_pem, "key": ec_leaf.key_pem},
        HTTP_HX_REQUEST="true",
    )
    form = response.context["form"]
    assert not form.is_bound
    assert form.initial["certificate"] == ec_leaf.cert_pem
    assert "BEGIN CERTIFICATE" in response.content.decode()


def _pfx(issued) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"shop", issued.key, issued.cert, None, serialization.BestAvailableEncryption(b"pw")
    )


def test_converter_refuses_a_pkcs12_file_asking_for_too_many_iterations(customer_client, ec_leaf):
    bomb = crafted.with_mac_iterations(_pfx(ec_leaf), crafted.HUGE)

    start = time.perf_counter()
    response = convert(customer_client, bomb, "pw")

    assert time.perf_counter() - start < 1
    assert response.status_code == 200
    assert response.context["converted"] is None
    [error] = response.context["form"].errors["file"]
    assert "2,147,483,647 iterations of password hashing" in error


def test_converter_bound_is_the_pkcs12_max_iterations_setting(customer_client, ec_leaf, settings):
    settings.PKCS12_MAX_ITERATIONS = 1000
    response = convert(customer_client, _pfx(ec_leaf), "pw")
    assert "at most 1,000." in response.context["form"].errors["file"][0]
