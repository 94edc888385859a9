"""The ACME server's protocol rules that certbot does not exercise, through Django's test
client with requests signed by josepy, as any ACME client signs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import josepy as jose
import pytest
from acme import jws as acme_jws
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from acme_server.models import AcmeAccount, AcmeOrder
from acme_server.services import accounts
from acme_server.states import OrderStatus, advance
from certificates.issuance_policy import reuse_days
from certificates.models import Certificate, CompromisedKey
from tests.acme_server.support import acme_brand
from tests.admin_support import page_text

__all__ = ["acme_brand"]

pytestmark = pytest.mark.django_db

BASE = "http://testserver/acme/digicert/"


def new_key() -> jose.JWKEC:
    return jose.JWKEC(key=ec.generate_private_key(ec.SECP256R1()))


class AcmeClient:
    """Signs requests like an ACME client; `kid` once it has an account."""

    def __init__(self, client: Client, key: jose.JWK | None = None) -> None:
        self.client = client
        self.key = key or new_key()
        self.kid: str | None = None

    def nonce(self) -> str:
        return self.client.head("/acme/digicert/new-nonce")["Replay-Nonce"]

    def signed(
        self,
        url: str,
        payload: dict | None,
        *,
        nonce: str | None = None,
        key: jose.JWK | None = None,
        kid: str | None = None,
        sign_url: str | None = None,
    ):
        body = b"" if payload is None else json.dumps(payload).encode()
        key = key or self.key
        kid = kid if kid is not None else self.kid
        extra = {"kid": kid} if kid else {}
        jws = acme_jws.JWS.sign(
            body,
            key=key,
            alg=jose.ES256,
            nonce=jose.b64decode(nonce or self.nonce()),
            url=sign_url or url,
            **extra,
        )
        return jws.json_dumps()

    def post(self, url: str, payload: dict | None = None, **options):
        return self.client.post(
            url.removeprefix("http://testserver"),
            self.signed(url, payload, **options),
            content_type="application/jose+json",
        )

    def register(self, owner) -> None:
        credential, hmac_key = accounts.create_credential(owner=owner)
        from acme.messages import ExternalAccountBinding

        eab = ExternalAccountBinding.from_data(
            account_public_key=self.key.public_key(),
            kid=credential.kid,
            hmac_key=hmac_key,
            directory={"newAccount": BASE + "new-account"},
        )
        response = self.post(BASE + "new-account", {"externalAccountBinding": eab})
        assert response.status_code == 201, response.content
        self.kid = response["Location"]

    def new_order(self, *names: str):
        identifiers = [{"type": "dns", "value": name} for name in names]
        return self.post(BASE + "new-order", {"identifiers": identifiers})


@pytest.fixture
def acme(client, customer, acme_brand) -> AcmeClient:
    acme_client = AcmeClient(client)
    acme_client.register(customer)
    return acme_client


def problem(response) -> str:
    assert response["Content-Type"] == "application/problem+json"
    return response.json()["type"].removeprefix("urn:ietf:params:acme:error:")


def test_the_directory_requires_external_account_binding(client, acme_brand):
    directory = client.get("/acme/directory").json()

    assert directory["meta"]["externalAccountRequired"] is True
    assert directory["newAccount"] == BASE + "new-account"


def test_a_nonce_is_used_once(acme):
    nonce = acme.nonce()
    assert (
        acme.post(
            BASE + "new-order",
            {"identifiers": [{"type": "dns", "value": "a.example.com"}]},
            nonce=nonce,
        ).status_code
        == 201
    )

    replayed = acme.post(
        BASE + "new-order",
        {"identifiers": [{"type": "dns", "value": "a.example.com"}]},
        nonce=nonce,
    )

    assert replayed.status_code == 400
    assert problem(replayed) == "badNonce"
    assert replayed.has_header("Replay-Nonce")  # so the client can retry at once
    assert AcmeOrder.objects.count() == 1


def test_a_request_signed_for_another_url_is_refused(acme):
    response = acme.post(BASE + "new-order", {"identifiers": []}, sign_url=BASE + "new-account")

    assert response.status_code == 401
    assert problem(response) == "unauthorized"


def test_a_request_naming_an_account_but_signed_by_another_key_is_refused(acme):
    response = acme.post(
        BASE + "new-order",
        {"identifiers": [{"type": "dns", "value": "b.example.com"}]},
        key=new_key(),
    )

    assert problem(response) == "malformed"
    assert not AcmeOrder.objects.exists()


def test_another_customers_order_is_not_found(acme, client, other_customer):
    order_url = acme.new_order("a.example.com")["Location"]
    other = AcmeClient(client)
    other.register(other_customer)

    response = other.post(order_url)

    assert response.status_code == 404


def test_an_account_cannot_be_registered_without_binding_or_with_a_revoked_credential(
    client, customer, acme_brand
):
    acme_client = AcmeClient(client)
    response = acme_client.post(BASE + "new-account", {"contact": ["mailto:li@example.com"]})
    assert problem(response) == "externalAccountRequired"

    credential, hmac_key = accounts.create_credential(owner=customer)
    accounts.revoke_credential(credential=credential, actor=customer)
    from acme.messages import ExternalAccountBinding

    eab = ExternalAccountBinding.from_data(
        account_public_key=acme_client.key.public_key(),
        kid=credential.kid,
        hmac_key=hmac_key,
        directory={"newAccount": BASE + "new-account"},
    )
    response = acme_client.post(BASE + "new-account", {"externalAccountBinding": eab})
    assert response.status_code == 401
    assert not customer.acme_accounts.exists()


def test_only_return_existing_finds_the_account_without_a_binding(acme):
    again = AcmeClient(acme.client, key=acme.key)

    response = again.post(BASE + "new-account", {"onlyReturnExisting": True})

    assert response.status_code == 200
    assert response["Location"] == acme.kid


def test_a_deactivated_account_can_do_nothing_more(acme):
    assert acme.post(acme.kid, {"status": "deactivated"}).json()["status"] == "deactivated"

    response = acme.new_order("a.example.com")

    assert response.status_code == 401
    assert problem(response) == "unauthorized"


def test_an_order_for_a_name_the_ca_does_not_issue_for_is_rejected(acme):
    response = acme.new_order("printer.local")

    assert problem(response) == "rejectedIdentifier"
    assert response.json()["subproblems"][0]["identifier"]["value"] == "printer.local"
    assert not AcmeOrder.objects.exists()


def test_a_wildcard_can_only_be_proved_by_dns_01(acme):
    order = acme.new_order("*.shop.example.com").json()
    authorization = acme.post(order["authorizations"][0]).json()

    assert authorization["wildcard"] is True
    assert authorization["identifier"]["value"] == "shop.example.com"
    assert [challenge["type"] for challenge in authorization["challenges"]] == ["dns-01"]


def csr_for(*names: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .sign(key, hashes.SHA256())
    )
    return jose.b64encode(request.public_bytes(serialization.Encoding.DER)).decode()


def ready_order(acme, *names: str) -> dict:
    response = acme.new_order(*names)
    make_ready(AcmeOrder.objects.get(public_id=response["Location"].rsplit("/", 1)[-1]))
    return response.json()


def make_ready(order: AcmeOrder) -> None:
    """As workers leave an order whose challenges passed (the gate reads when each name was
    proven)."""
    for authorization in order.authorizations.all():
        challenge = authorization.challenges.filter(type="dns-01").get()
        advance(challenge, "processing")
        advance(challenge, "valid", changes={"validated_at": timezone.now()})
        advance(authorization, "valid")
    advance(order, OrderStatus.READY)


def test_finalize_refuses_a_csr_for_other_names(acme):
    order = ready_order(acme, "shop.example.com")

    response = acme.post(
        order["finalize"], {"csr": csr_for("shop.example.com", "evil.example.com")}
    )

    assert problem(response) == "badCSR"
    assert "evil.example.com" in response.json()["detail"]
    assert not Certificate.objects.exists()


def test_finalize_before_the_order_is_ready_is_refused(acme):
    order = acme.new_order("shop.example.com").json()

    response = acme.post(order["finalize"], {"csr": csr_for("shop.example.com")})

    assert response.status_code == 403
    assert problem(response) == "orderNotReady"


def test_finalize_issues_the_customers_acme_certificate_once(acme, customer):
    order = ready_order(acme, "shop.example.com")

    first = acme.post(order["finalize"], {"csr": csr_for("shop.example.com")})
    second = acme.post(order["finalize"], {"csr": csr_for("shop.example.com")})

    assert first.json()["status"] == "valid"
    assert problem(second) == "orderNotReady"
    certificate = Certificate.objects.get(owner=customer)
    chain = acme.post(first.json()["certificate"])
    assert chain["Content-Type"] == "application/pem-certificate-chain"
    assert certificate.certificate_pem.strip() in chain.content.decode()


def test_new_orders_beyond_the_hourly_limit_are_rate_limited(acme, settings):
    settings.ACME_ORDERS_PER_HOUR = 2
    for _ in range(2):
        assert acme.new_order("shop.example.com").status_code == 201

    response = acme.new_order("shop.example.com")

    assert response.status_code == 429
    assert problem(response) == "rateLimited"
    assert 0 < int(response["Retry-After"]) <= 3600


BODIES = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.dictionaries(
        st.sampled_from(["protected", "payload", "signature", "header"]),
        st.one_of(st.text(max_size=50), st.integers(), st.none(), st.lists(st.text(max_size=5))),
    ).map(lambda value: json.dumps(value).encode()),
)
ENDPOINTS = [
    "new-account",
    "new-order",
    "key-change",
    "revoke-cert",
    "acct/x",
    "order/x",
    "order/x/finalize",
    "authz/x",
    "chall/x",
    "cert/x",
]


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=BODIES, endpoint=st.sampled_from(ENDPOINTS))
def test_malformed_bodies_get_a_problem_document_never_a_server_error(
    client, acme_brand, body, endpoint
):
    response = client.post(f"/acme/digicert/{endpoint}", body, content_type="application/jose+json")

    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/problem+json"


@hypothesis_settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.one_of(
        st.dictionaries(
            st.sampled_from(
                [
                    "identifiers",
                    "csr",
                    "status",
                    "contact",
                    "replaces",
                    "notBefore",
                    "onlyReturnExisting",
                    "externalAccountBinding",
                ]
            ),
            st.recursive(
                st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
                lambda children: (
                    st.lists(children, max_size=3)
                    | st.dictionaries(
                        st.sampled_from(["type", "value", "protected"]), children, max_size=3
                    )
                ),
                max_leaves=8,
            ),
        ),
        st.lists(st.integers(), max_size=3),
    )
)
def test_malformed_payloads_of_signed_requests_never_cause_a_server_error(acme, payload):
    for url in (BASE + "new-order", acme.kid, BASE + "new-account"):
        response = acme.post(url, payload)

        assert response.status_code < 500, response.content


def issued_through_acme(acme, name: str = "shop.example.com"):
    """A certificate the account got by finalizing, with the key of its CSR."""
    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
        .sign(key, hashes.SHA256())
    )
    order = ready_order(acme, name)
    csr = jose.b64encode(request.public_bytes(serialization.Encoding.DER)).decode()
    finalized = acme.post(order["finalize"], {"csr": csr}).json()
    pem = acme.post(finalized["certificate"]).content
    return x509.load_pem_x509_certificates(pem)[0], key


def der_b64(certificate: x509.Certificate) -> str:
    return jose.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def test_the_certificates_own_key_revokes_it_for_key_compromise(acme, client):
    leaf, key = issued_through_acme(acme)
    stranger = AcmeClient(client, key=jose.JWKEC(key=key))

    response = stranger.post(BASE + "revoke-cert", {"certificate": der_b64(leaf), "reason": 4})

    assert response.status_code == 200, response.content
    certificate = Certificate.objects.get(serial=format(leaf.serial_number, "X"))
    assert certificate.status == "revoked"
    assert certificate.revocation_requests.get().reason == 1  # key compromise, whatever asked
    listed = CompromisedKey.objects.get(public_key_sha256=certificate.public_key_sha256)
    assert listed.source == CompromisedKey.Source.ACME


def test_another_customers_account_cannot_revoke(acme, client, other_customer):
    leaf, _ = issued_through_acme(acme)
    other = AcmeClient(client)
    other.register(other_customer)

    response = other.post(BASE + "revoke-cert", {"certificate": der_b64(leaf)})

    assert response.status_code == 403
    assert problem(response) == "unauthorized"
    assert Certificate.objects.get().status == "issued"


def test_revoking_twice_answers_already_revoked(acme):
    leaf, _ = issued_through_acme(acme)
    assert acme.post(BASE + "revoke-cert", {"certificate": der_b64(leaf)}).status_code == 200

    response = acme.post(BASE + "revoke-cert", {"certificate": der_b64(leaf)})

    assert problem(response) == "alreadyRevoked"


def test_renewal_info_suggests_the_last_third_and_at_once_when_revoked(acme, client):
    from acme.client import _renewal_info_path_component

    leaf, _ = issued_through_acme(acme)
    url = "/acme/digicert/renewal-info/" + _renewal_info_path_component(leaf)
    window = client.get(url).json()["suggestedWindow"]
    life = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    start = datetime.fromisoformat(window["start"])
    assert abs(start - (leaf.not_valid_after_utc - life / 3)) < timedelta(seconds=2)
    assert client.get(url)["Retry-After"].isdigit()

    acme.post(BASE + "revoke-cert", {"certificate": der_b64(leaf)})

    end = datetime.fromisoformat(client.get(url).json()["suggestedWindow"]["end"])
    assert end < datetime.now(UTC)


def test_a_new_order_replaces_a_certificate_once(acme):
    from acme.client import _renewal_info_path_component

    leaf, _ = issued_through_acme(acme)
    replaces = _renewal_info_path_component(leaf)
    identifiers = [{"type": "dns", "value": "shop.example.com"}]

    response = acme.post(BASE + "new-order", {"identifiers": identifiers, "replaces": replaces})

    assert response.status_code == 201
    order = AcmeOrder.objects.get(public_id=response["Location"].rsplit("/", 1)[-1])
    assert order.replaces.serial == format(leaf.serial_number, "X")
    make_ready(order)
    acme.post(response.json()["finalize"], {"csr": csr_for("shop.example.com")})
    again = acme.post(BASE + "new-order", {"identifiers": identifiers, "replaces": replaces})
    assert problem(again) == "alreadyReplaced"


def test_the_details_pages_show_the_acme_account_and_which_replaces_which(
    acme, customer_client, django_assert_max_num_queries
):
    from acme.client import _renewal_info_path_component

    leaf, _ = issued_through_acme(acme)
    old = Certificate.objects.get(serial=format(leaf.serial_number, "X"))
    identifiers = [{"type": "dns", "value": "shop.example.com"}]
    replacing = {"identifiers": identifiers, "replaces": _renewal_info_path_component(leaf)}
    order = acme.post(BASE + "new-order", replacing).json()
    acme.post(order["finalize"], {"csr": csr_for("shop.example.com")})
    new = Certificate.objects.exclude(pk=old.pk).get()
    account = AcmeAccount.objects.get()

    old_page = page_text(customer_client.get(old.get_absolute_url()))
    with django_assert_max_num_queries(12):
        new_page = page_text(customer_client.get(new.get_absolute_url()))

    for page in (old_page, new_page):
        assert f"ACME account {account.public_id} {account.thumbprint}" in page
    assert f"Superseded by {new}" in old_page and "Replaces" not in old_page
    assert f"Replaces {old}" in new_page and "Superseded by" not in new_page


def key_change_body(acme, new_key, *, account=None, old_key=None) -> dict:
    inner = {
        "account": account or acme.kid,
        "oldKey": (old_key or acme.key).public_key().to_partial_json(),
    }
    signed = acme_jws.JWS.sign(
        json.dumps(inner).encode(), key=new_key, alg=jose.ES256, nonce=None, url=BASE + "key-change"
    )
    return signed.to_partial_json()


def test_key_change_moves_the_account_to_the_new_key(acme):
    replacement = new_key()
    response = acme.post(BASE + "key-change", key_change_body(acme, replacement))

    assert response.status_code == 200, response.content
    assert acme.new_order("a.example.com").status_code != 201  # the old key is no longer it
    acme.key = replacement
    assert acme.new_order("a.example.com").status_code == 201


def test_key_change_to_another_accounts_key_or_naming_another_account_is_refused(
    acme, client, other_customer
):
    other = AcmeClient(client)
    other.register(other_customer)

    taken = acme.post(BASE + "key-change", key_change_body(acme, other.key))
    wrong_account = acme.post(
        BASE + "key-change", key_change_body(acme, new_key(), account=other.kid)
    )
    wrong_old_key = acme.post(
        BASE + "key-change", key_change_body(acme, new_key(), old_key=new_key())
    )

    assert taken.status_code == 409
    assert problem(wrong_account) == "malformed"
    assert problem(wrong_old_key) == "malformed"
    assert acme.new_order("a.example.com").status_code == 201


def stalled_challenge(acme, dns_server, settings, *, attempts: int = 1):
    """A dns-01 challenge a worker took and never finished (it died), its record published."""
    from datetime import timedelta as td

    from django.utils import timezone

    from acme_server import challenges
    from acme_server.models import AcmeChallenge

    settings.DV_NAMESERVERS = ["127.0.0.1"]
    settings.DV_DNS_PORT = dns_server.port
    order = acme.new_order("shop.example.com").json()
    challenge = AcmeChallenge.objects.get(
        authorization__public_id=order["authorizations"][0].rsplit("/", 1)[-1], type="dns-01"
    )
    advance(challenge, "processing", changes={"attempts": attempts})
    AcmeChallenge.objects.filter(pk=challenge.pk).update(
        status_changed_at=timezone.now() - td(minutes=10)
    )
    dns_server.set_txt("_acme-challenge.shop.example.com", challenges.dns_txt_value(challenge))
    return order, challenge


def test_a_challenge_left_by_a_dead_worker_is_validated_at_the_next_poll(
    acme, dns_server, settings, django_capture_on_commit_callbacks
):
    order, challenge = stalled_challenge(acme, dns_server, settings)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        acme.post(order["authorizations"][0])

    assert len(callbacks) == 1
    challenge.refresh_from_db()
    assert challenge.status == "valid"
    assert challenge.attempts == 2


def test_a_challenge_that_never_finishes_fails_with_a_reason(acme, dns_server, settings):
    order, challenge = stalled_challenge(acme, dns_server, settings, attempts=3)

    authorization = acme.post(order["authorizations"][0])
    again = acme.post(order["authorizations"][0]).json()

    assert authorization.status_code == 200
    challenge.refresh_from_db()
    assert challenge.status == "invalid"
    assert again["status"] == "invalid"


def test_names_that_keep_failing_validation_are_rate_limited(acme, settings):
    from acme_server.models import AcmeChallenge

    settings.ACME_FAILED_VALIDATIONS_PER_HOUR = 2
    for _ in range(2):
        acme.new_order("shop.example.com")
    for challenge in AcmeChallenge.objects.filter(type="dns-01"):
        advance(challenge, "invalid")

    response = acme.new_order("shop.example.com")

    assert response.status_code == 429
    assert problem(response) == "rateLimited"
    assert "shop.example.com" in response.json()["detail"]
    assert acme.new_order("other.example.com").status_code == 201


def test_an_expired_order_cannot_be_finalized(acme):
    order = ready_order(acme, "shop.example.com")
    AcmeOrder.objects.update(expires_at=datetime.now(UTC) - timedelta(minutes=1))

    response = acme.post(order["finalize"], {"csr": csr_for("shop.example.com")})

    assert problem(response) == "orderNotReady"
    assert AcmeOrder.objects.get().status == OrderStatus.INVALID
    assert not Certificate.objects.exists()


def prove(acme, name: str, challenge_type: str = "dns-01", *, validated_at=None) -> AcmeOrder:
    """An order of `acme`'s for `name` whose `challenge_type` challenge passed."""
    response = acme.new_order(name)
    order = AcmeOrder.objects.get(public_id=response["Location"].rsplit("/", 1)[-1])
    authorization = order.authorizations.get()
    challenge = authorization.challenges.get(type=challenge_type)
    advance(challenge, "processing")
    advance(challenge, "valid", changes={"validated_at": validated_at or timezone.now()})
    advance(authorization, "valid")
    advance(order, OrderStatus.READY)
    return order


def test_a_name_proved_within_the_reuse_period_is_authorized_again_without_a_challenge(acme):
    proved = prove(acme, "shop.example.com")
    proof = proved.authorizations.get().challenges.get(status="valid")

    order = acme.new_order("shop.example.com").json()
    authorization = acme.post(order["authorizations"][0]).json()

    assert order["status"] == "ready"
    assert authorization["status"] == "valid"
    [challenge] = authorization["challenges"]
    assert (challenge["type"], challenge["status"]) == ("dns-01", "valid")
    assert challenge["validated"].startswith(proof.validated_at.strftime("%Y-%m-%dT%H:%M:%S"))
    # The issuance gate takes the proof it carries.
    finalized = acme.post(order["finalize"], {"csr": csr_for("shop.example.com")})
    assert finalized.json()["status"] == "valid"


def test_a_wildcard_reuses_only_a_dns_01_proof(acme):
    prove(acme, "shop.example.com", "http-01")
    assert acme.new_order("*.shop.example.com").json()["status"] == "pending"

    prove(acme, "*.shop.example.com", "dns-01")
    assert acme.new_order("*.shop.example.com").json()["status"] == "ready"


def test_proofs_of_another_customer_or_out_of_date_or_deactivated_are_not_reused(
    acme, client, other_customer
):
    other = AcmeClient(client)
    other.register(other_customer)
    prove(other, "theirs.example.com")
    days = reuse_days(timezone.now().date())
    prove(acme, "old.example.com", validated_at=timezone.now() - timedelta(days=days, minutes=1))
    dropped = prove(acme, "dropped.example.com").authorizations.get()
    advance(dropped, "deactivated")

    for name in ("theirs.example.com", "old.example.com", "dropped.example.com"):
        order = acme.new_order(name).json()
        assert order["status"] == "pending", name
        assert acme.post(order["authorizations"][0]).json()["status"] == "pending", name


def test_pending_authorizations_beyond_the_limit_are_rate_limited_and_nothing_is_made(
    acme, settings
):
    settings.ACME_MAX_PENDING_AUTHORIZATIONS = 3
    assert acme.new_order("a.example.com", "b.example.com").status_code == 201
    prove(acme, "proved.example.com")  # pending while made, valid since
    orders = AcmeOrder.objects.count()

    response = acme.new_order("c.example.com", "d.example.com")

    assert response.status_code == 429
    assert problem(response) == "rateLimited"
    assert "pending authorizations" in response.json()["detail"]
    lifetime = settings.ACME_ORDER_LIFETIME_HOURS * 3600
    assert 0 < int(response["Retry-After"]) <= lifetime
    assert AcmeOrder.objects.count() == orders
    # One more fits, and a name already proved needs no pending authorization at all.
    assert acme.new_order("c.example.com").status_code == 201
    assert acme.new_order("proved.example.com").json()["status"] == "ready"
