import base64
import logging
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp

from certificates.pki.ca import Authority, create_issuing_ca, local_ca_names, random_serial_number
from certificates.pki.parsing import certificates_to_pem
from certificates.pki.revocation import (
    DEFAULT_OCSP_VALIDITY,
    REVOCATION_REASONS,
    RevokedEntry,
    SerialState,
    StoredAnswerKey,
    build_crl,
    ocsp_request_from_get_path,
    presign_ocsp_response,
    respond_to_ocsp,
    stored_answer_key,
)
from tests.pki_material import CA_BASE_URL, CA_SLUG

NOW = datetime(2026, 5, 4, 12, 30, 15, tzinfo=UTC)
REVOKED_AT = datetime(2026, 5, 1, 8, 0, 0, tzinfo=UTC)
FLAGS = {
    1: x509.ReasonFlags.key_compromise,
    3: x509.ReasonFlags.affiliation_changed,
    4: x509.ReasonFlags.superseded,
    5: x509.ReasonFlags.cessation_of_operation,
}


@pytest.fixture(scope="module")
def good_leaf(issue_leaf) -> x509.Certificate:
    return issue_leaf(domains=["good.example.com"])


@pytest.fixture(scope="module")
def revoked_leaf(issue_leaf) -> x509.Certificate:
    return issue_leaf(domains=["revoked.example.com"])


@pytest.fixture(scope="module")
def states(good_leaf, revoked_leaf) -> dict[int, SerialState]:
    return {
        good_leaf.serial_number: SerialState.good(),
        revoked_leaf.serial_number: SerialState.revoked(REVOKED_AT, reason=1),
    }


@pytest.fixture(scope="module")
def lookup(states):
    return lambda serial: states.get(serial, SerialState.unknown())


def ocsp_request(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    algorithm: hashes.HashAlgorithm | None = None,
    nonce: bytes | None = None,
) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm or hashes.SHA1())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def openssl_time(moment: datetime) -> str:
    """A time as openssl prints it: "May  1 08:00:00 2026 GMT"."""
    return f"{moment:%b} {moment.day:2d} {moment:%H:%M:%S %Y} GMT"


# --- revoked entries and states ---------------------------------------------------------


def test_the_offered_reasons_are_the_rfc_5280_codes_of_the_revoke_page():
    assert REVOCATION_REASONS == {
        0: "Unspecified",
        1: "Key compromise",
        3: "Affiliation changed",
        4: "Superseded",
        5: "Cessation of operation",
    }


@pytest.mark.parametrize(
    ("serial", "revoked_at", "reason"),
    [
        (0, REVOKED_AT, 1),
        (-3, REVOKED_AT, 1),
        (5, REVOKED_AT, 2),  # cACompromise: not for subscriber certificates
        (5, REVOKED_AT, 6),  # certificateHold: not allowed by the Baseline Requirements
        (5, datetime(2026, 5, 1), 1),
    ],
)
def test_revoked_entry_refuses_impossible_values(serial, revoked_at, reason):
    with pytest.raises(ValueError):
        RevokedEntry(serial=serial, revoked_at=revoked_at, reason=reason)


def test_certificate_state_needs_a_time_exactly_when_revoked():
    with pytest.raises(ValueError):
        SerialState.revoked(datetime(2026, 5, 1), reason=1)
    with pytest.raises(ValueError):
        SerialState.revoked(REVOKED_AT, reason=7)
    with pytest.raises(ValueError):
        SerialState(SerialState.good().status, revoked_at=REVOKED_AT)


# --- CRL --------------------------------------------------------------------------------


def test_crl_lists_every_entry_with_its_date_and_reason(local_issuing):
    entries = [
        RevokedEntry(serial=0x1001, revoked_at=REVOKED_AT, reason=1),
        RevokedEntry(serial=0x1002, revoked_at=REVOKED_AT + timedelta(hours=1), reason=0),
        RevokedEntry(serial=0x1003, revoked_at=REVOKED_AT + timedelta(hours=2), reason=3),
        RevokedEntry(serial=0x1004, revoked_at=REVOKED_AT + timedelta(hours=3), reason=4),
        RevokedEntry(serial=0x1005, revoked_at=REVOKED_AT + timedelta(hours=4), reason=5),
    ]
    der = build_crl(
        local_issuing,
        entries,
        crl_number=42,
        this_update=NOW,
        next_update=NOW + timedelta(days=1),
    )
    crl = x509.load_der_x509_crl(der)

    assert crl.issuer == local_issuing.subject
    assert crl.last_update_utc == NOW
    assert crl.next_update_utc == NOW + timedelta(days=1)
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 42
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = local_issuing.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert aki.key_identifier == ski.value.digest
    assert isinstance(crl.signature_hash_algorithm, hashes.SHA256)
    assert crl.is_signature_valid(local_issuing.certificate.public_key())

    listed = {revoked.serial_number: revoked for revoked in crl}
    assert set(listed) == {entry.serial for entry in entries}
    for entry in entries:
        revoked = listed[entry.serial]
        assert revoked.revocation_date_utc == entry.revoked_at
        reasons = [
            e.value.reason for e in revoked.extensions if isinstance(e.value, x509.CRLReason)
        ]
        # RFC 5280 5.3.1: "unspecified" is said by leaving the reason out.
        assert reasons == ([] if entry.reason == 0 else [FLAGS[entry.reason]])


def test_crl_is_signed_by_its_issuer_only(local_issuing, local_root):
    crl = x509.load_der_x509_crl(
        build_crl(
            local_issuing, [], crl_number=1, this_update=NOW, next_update=NOW + timedelta(days=1)
        )
    )
    assert crl.is_signature_valid(local_issuing.certificate.public_key())
    assert not crl.is_signature_valid(local_root.certificate.public_key())


def test_the_root_publishes_an_empty_crl_of_its_own(local_root):
    crl = x509.load_der_x509_crl(
        build_crl(
            local_root, [], crl_number=1, this_update=NOW, next_update=NOW + timedelta(days=30)
        )
    )
    assert len(crl) == 0
    assert crl.issuer == local_root.subject
    assert isinstance(crl.signature_hash_algorithm, hashes.SHA384)
    assert crl.is_signature_valid(local_root.certificate.public_key())


def test_crl_times_are_utc_whole_seconds(local_issuing):
    local = timezone(timedelta(hours=-5))
    entry = RevokedEntry(serial=7, revoked_at=REVOKED_AT.astimezone(local), reason=4)
    crl = x509.load_der_x509_crl(
        build_crl(
            local_issuing,
            [entry],
            crl_number=2,
            this_update=(NOW + timedelta(microseconds=999)).astimezone(local),
            next_update=NOW + timedelta(hours=6),
        )
    )
    assert crl.last_update_utc == NOW
    assert crl.get_revoked_certificate_by_serial_number(7).revocation_date_utc == REVOKED_AT


def test_a_large_crl_lists_every_serial(local_issuing):
    serials = [random_serial_number() for _ in range(5000)]
    entries = (RevokedEntry(serial=serial, revoked_at=REVOKED_AT, reason=5) for serial in serials)
    crl = x509.load_der_x509_crl(
        build_crl(
            local_issuing,
            entries,
            crl_number=3,
            this_update=NOW,
            next_update=NOW + timedelta(days=1),
        )
    )
    assert {revoked.serial_number for revoked in crl} == set(serials)


@pytest.mark.parametrize(
    ("crl_number", "this_update", "next_update", "entries"),
    [
        (1, NOW, NOW, []),
        (1, NOW, NOW - timedelta(hours=1), []),
        (-1, NOW, NOW + timedelta(days=1), []),
        (2**159, NOW, NOW + timedelta(days=1), []),
        (1, datetime(2026, 5, 4), NOW + timedelta(days=1), []),
        (1, NOW, NOW + timedelta(days=1), [RevokedEntry(9, REVOKED_AT), RevokedEntry(9, NOW)]),
    ],
)
def test_build_crl_refuses_impossible_input(
    local_issuing, crl_number, this_update, next_update, entries
):
    with pytest.raises(ValueError):
        build_crl(
            local_issuing,
            entries,
            crl_number=crl_number,
            this_update=this_update,
            next_update=next_update,
        )


# --- OCSP: answers ----------------------------------------------------------------------


def test_ocsp_answers_good_signed_by_the_issuing_ca(local_issuing, good_leaf, lookup):
    request = ocsp_request(good_leaf, local_issuing.certificate)
    response = ocsp.load_der_ocsp_response(
        respond_to_ocsp(request, issuer=local_issuing, lookup=lookup, now=NOW)
    )
    parsed_request = ocsp.load_der_ocsp_request(request)

    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == good_leaf.serial_number
    assert response.issuer_name_hash == parsed_request.issuer_name_hash
    assert response.issuer_key_hash == parsed_request.issuer_key_hash
    assert isinstance(response.hash_algorithm, hashes.SHA1)
    assert response.this_update_utc == NOW
    assert response.next_update_utc == NOW + DEFAULT_OCSP_VALIDITY
    assert response.revocation_time_utc is None
    assert response.revocation_reason is None
    assert len(response.extensions) == 0
    assert response.certificates == []

    # Responder ID by key hash: the SHA-1 of the issuing CA's key, which is also its SKI.
    ski = local_issuing.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert response.responder_key_hash == ski.value.digest
    assert response.responder_name is None
    local_issuing.certificate.public_key().verify(
        response.signature,
        response.tbs_response_bytes,
        ec.ECDSA(response.signature_hash_algorithm),
    )


@pytest.mark.parametrize("reason", [0, 1, 3, 4, 5])
def test_ocsp_answers_revoked_with_time_and_reason(local_issuing, revoked_leaf, reason):
    request = ocsp_request(revoked_leaf, local_issuing.certificate)
    state = SerialState.revoked(REVOKED_AT + timedelta(microseconds=500), reason=reason)
    response = ocsp.load_der_ocsp_response(
        respond_to_ocsp(request, issuer=local_issuing, lookup=lambda serial: state, now=NOW)
    )
    assert response.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_time_utc == REVOKED_AT
    assert response.revocation_reason == (None if reason == 0 else FLAGS[reason])


def test_ocsp_answers_unknown_for_a_serial_the_ca_never_issued(issue_leaf, local_issuing, lookup):
    stranger = issue_leaf(domains=["stranger.example.com"])
    request = ocsp_request(stranger, local_issuing.certificate)
    response = ocsp.load_der_ocsp_response(
        respond_to_ocsp(request, issuer=local_issuing, lookup=lookup, now=NOW)
    )
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status == ocsp.OCSPCertStatus.UNKNOWN


def test_ocsp_uses_the_given_next_update(local_issuing, good_leaf, lookup):
    request = ocsp_request(good_leaf, local_issuing.certificate)
    later = NOW + timedelta(days=3)
    response = ocsp.load_der_ocsp_response(
        respond_to_ocsp(request, issuer=local_issuing, lookup=lookup, now=NOW, next_update=later)
    )
    assert response.next_update_utc == later


def test_ocsp_times_are_the_callers_to_get_right(local_issuing, good_leaf, lookup):
    request = ocsp_request(good_leaf, local_issuing.certificate)
    with pytest.raises(ValueError):
        respond_to_ocsp(request, issuer=local_issuing, lookup=lookup, now=datetime(2026, 5, 4))
    with pytest.raises(ValueError):
        respond_to_ocsp(request, issuer=local_issuing, lookup=lookup, now=NOW, next_update=NOW)


@pytest.mark.parametrize(
    "algorithm", [hashes.SHA1(), hashes.SHA256(), hashes.SHA384(), hashes.SHA512()]
)
def test_ocsp_answers_in_the_hash_of_the_request(local_issuing, revoked_leaf, lookup, algorithm):
    request = ocsp_request(revoked_leaf, local_issuing.certificate, algorithm=algorithm)
    response = ocsp.load_der_ocsp_response(
        respond_to_ocsp(request, issuer=local_issuing, lookup=lookup, now=NOW)
    )
    assert response.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert response.hash_algorithm.name == algorithm.name
    assert response.issuer_key_hash == ocsp.load_der_ocsp_request(request).issuer_key_hash


def test_an_rsa_ca_answers_too(intermediate_ca, rsa_leaf):
    # The local CAs use ECC keys; an RSA CA hashes its key differently (RFC 6960 4.1.1).
    issuer = Authority(certificate=intermediate_ca.cert, private_key=intermediate_ca.key)
    request = ocsp_request(rsa_leaf.cert, intermediate_ca.cert, algorithm=hashes.SHA256())
    response = ocsp.load_der_ocsp_response(
        respond_to_ocsp(request, issuer=issuer, lookup=lambda serial: SerialState.good(), now=NOW)
    )
    assert response.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert isinstance(response.signature_hash_algorithm, hashes.SHA256)


@pytest.mark.parametrize("size", [1, 16, 32, 128])
def test_ocsp_echoes_the_nonce(local_issuing, good_leaf, lookup, size):
    nonce = bytes(range(size))
    request = ocsp_request(good_leaf, local_issuing.certificate, nonce=nonce)
    response = ocsp.load_der_ocsp_response(
        respond_to_ocsp(request, issuer=local_issuing, lookup=lookup, now=NOW)
    )
    echoed = response.extensions.get_extension_for_class(x509.OCSPNonce)
    assert echoed.value.nonce == nonce
    assert not echoed.critical


@pytest.mark.parametrize("size", [0, 129])
def test_ocsp_refuses_a_nonce_of_impossible_length(local_issuing, good_leaf, lookup, size):
    request = ocsp_request(good_leaf, local_issuing.certificate, nonce=b"n" * size)
    response = ocsp.load_der_ocsp_response(
        respond_to_ocsp(request, issuer=local_issuing, lookup=lookup, now=NOW)
    )
    assert response.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


# --- OCSP: requests it must not answer --------------------------------------------------


@pytest.mark.parametrize(
    "request_der",
    [b"", b"garbage", b"\x30\x03\x02\x01\x01", b"\x30\x82\xff\xff", bytes(range(256))],
)
def test_ocsp_answers_malformed_input_with_an_error_status(local_issuing, request_der):
    calls = []
    der = respond_to_ocsp(request_der, issuer=local_issuing, lookup=calls.append, now=NOW)
    response = ocsp.load_der_ocsp_response(der)
    assert response.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    assert calls == []


def test_ocsp_answers_a_truncated_request_with_an_error_status(local_issuing, good_leaf, lookup):
    request = ocsp_request(good_leaf, local_issuing.certificate)
    for cut in (1, len(request) // 2, len(request) - 1):
        response = ocsp.load_der_ocsp_response(
            respond_to_ocsp(request[:cut], issuer=local_issuing, lookup=lookup, now=NOW)
        )
        assert response.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_ocsp_answers_a_certificate_instead_of_a_request_with_an_error_status(
    local_issuing, good_leaf, lookup
):
    der = good_leaf.public_bytes(serialization.Encoding.DER)
    response = ocsp.load_der_ocsp_response(
        respond_to_ocsp(der, issuer=local_issuing, lookup=lookup, now=NOW)
    )
    assert response.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_ocsp_refuses_to_answer_for_another_issuer(local_issuing, intermediate_ca, ec_leaf):
    calls = []
    request = ocsp_request(ec_leaf.cert, intermediate_ca.cert)
    response = ocsp.load_der_ocsp_response(
        respond_to_ocsp(request, issuer=local_issuing, lookup=calls.append, now=NOW)
    )
    assert response.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED
    assert calls == []


def test_ocsp_refuses_an_issuer_with_our_name_but_another_key(
    local_root, local_issuing, ca_now, good_leaf, lookup
):
    names = local_ca_names("DigiCert")
    impostor = create_issuing_ca(
        local_root,
        common_name=names.issuing_common_name,
        organization=names.organization,
        now=ca_now,
        base_url=CA_BASE_URL,
        slug=CA_SLUG,
        country="US",
    )
    assert impostor.subject == local_issuing.subject
    request = ocsp_request(good_leaf, impostor.certificate)
    assert (
        ocsp.load_der_ocsp_request(request).issuer_name_hash
        == (
            ocsp.load_der_ocsp_request(ocsp_request(good_leaf, local_issuing.certificate))
        ).issuer_name_hash
    )
    response = ocsp.load_der_ocsp_response(
        respond_to_ocsp(request, issuer=local_issuing, lookup=lookup, now=NOW)
    )
    assert response.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_the_issuing_ca_does_not_answer_for_the_root(local_root, local_issuing, lookup):
    request = ocsp_request(local_issuing.certificate, local_root.certificate)
    response = ocsp.load_der_ocsp_response(
        respond_to_ocsp(request, issuer=local_issuing, lookup=lookup, now=NOW)
    )
    assert response.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_ocsp_answers_internal_error_when_the_lookup_fails(local_issuing, good_leaf, caplog):
    def broken_lookup(serial: int) -> SerialState:
        raise RuntimeError("database is down")

    request = ocsp_request(good_leaf, local_issuing.certificate)
    with caplog.at_level(logging.ERROR, logger="certificates.pki.revocation"):
        der = respond_to_ocsp(request, issuer=local_issuing, lookup=broken_lookup, now=NOW)
    response = ocsp.load_der_ocsp_response(der)
    assert response.response_status == ocsp.OCSPResponseStatus.INTERNAL_ERROR
    assert "database is down" in caplog.text


# --- OCSP over GET (RFC 6960 appendix A.1) ----------------------------------------------


def _request_with_plus_and_slash(good_leaf, issuer) -> bytes:
    # A nonce that puts both "+" and "/" in the base64, the characters URLs mangle.
    for counter in range(10_000):
        request = ocsp_request(good_leaf, issuer, nonce=counter.to_bytes(16, "big"))
        text = base64.b64encode(request).decode()
        if "+" in text and "/" in text:
            return request
    raise AssertionError("no request with + and / in its base64")


def test_get_path_decodes_the_url_encoded_base64(local_issuing, good_leaf):
    request = _request_with_plus_and_slash(good_leaf, local_issuing.certificate)
    encoded = base64.b64encode(request).decode()
    assert ocsp_request_from_get_path(quote(encoded, safe="")) == request


def test_get_path_tolerates_what_clients_really_send(local_issuing, good_leaf):
    request = _request_with_plus_and_slash(good_leaf, local_issuing.certificate)
    encoded = base64.b64encode(request).decode()
    # Unencoded "+" and "/", no padding, the URL-safe alphabet, "+" turned into a space.
    assert ocsp_request_from_get_path(encoded) == request
    assert ocsp_request_from_get_path(encoded.rstrip("=")) == request
    assert ocsp_request_from_get_path(base64.urlsafe_b64encode(request).decode()) == request
    assert ocsp_request_from_get_path(encoded.replace("+", " ")) == request


@pytest.mark.parametrize("path", ["", "!!!", "%ZZ", "abc$def", "a"])
def test_get_path_with_no_base64_gives_a_malformed_answer(local_issuing, lookup, path):
    request = ocsp_request_from_get_path(path)
    response = ocsp.load_der_ocsp_response(
        respond_to_ocsp(request, issuer=local_issuing, lookup=lookup, now=NOW)
    )
    assert response.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_get_and_post_give_the_same_answer(local_issuing, revoked_leaf, lookup):
    request = ocsp_request(revoked_leaf, local_issuing.certificate)
    path = quote(base64.b64encode(request).decode(), safe="")
    via_get = ocsp.load_der_ocsp_response(
        respond_to_ocsp(
            ocsp_request_from_get_path(path), issuer=local_issuing, lookup=lookup, now=NOW
        )
    )
    assert via_get.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert via_get.serial_number == revoked_leaf.serial_number


# --- answers signed ahead ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["good", "revoked", "unknown"])
def test_a_presigned_answer_is_the_live_answer_to_a_sha1_request_without_nonce(
    local_issuing, good_leaf, revoked_leaf, issue_leaf, lookup, name
):
    leaf = {"good": good_leaf, "revoked": revoked_leaf, "unknown": issue_leaf()}[name]
    live = respond_to_ocsp(
        ocsp_request(leaf, local_issuing.certificate), issuer=local_issuing, lookup=lookup, now=NOW
    )
    presigned = presign_ocsp_response(
        local_issuing, serial=leaf.serial_number, state=lookup(leaf.serial_number), now=NOW
    )

    # ECDSA signatures differ each time; everything they sign is the same.
    live_answer = ocsp.load_der_ocsp_response(live)
    stored_answer = ocsp.load_der_ocsp_response(presigned.der)
    assert stored_answer.tbs_response_bytes == live_answer.tbs_response_bytes
    assert stored_answer.signature_algorithm_oid == live_answer.signature_algorithm_oid
    assert presigned.this_update == NOW.replace(microsecond=0)
    assert presigned.next_update == NOW.replace(microsecond=0) + DEFAULT_OCSP_VALIDITY
    request = ocsp.load_der_ocsp_request(ocsp_request(leaf, local_issuing.certificate))
    assert presigned.issuer_name_hash == request.issuer_name_hash
    assert presigned.issuer_key_hash == request.issuer_key_hash


def test_a_presigned_answer_refuses_impossible_times_and_serials(local_issuing):
    good = SerialState.good()
    with pytest.raises(ValueError):
        presign_ocsp_response(local_issuing, serial=5, state=good, now=datetime(2026, 5, 4))
    with pytest.raises(ValueError):
        presign_ocsp_response(local_issuing, serial=5, state=good, now=NOW, next_update=NOW)
    with pytest.raises(ValueError):
        presign_ocsp_response(local_issuing, serial=0, state=good, now=NOW)


def test_a_sha1_request_without_nonce_can_be_served_from_a_stored_answer(local_issuing, good_leaf):
    body = ocsp_request(good_leaf, local_issuing.certificate)
    request = ocsp.load_der_ocsp_request(body)
    assert stored_answer_key(body) == StoredAnswerKey(
        serial=good_leaf.serial_number,
        issuer_name_hash=request.issuer_name_hash,
        issuer_key_hash=request.issuer_key_hash,
    )


def test_requests_a_stored_answer_cannot_serve_are_answered_live(local_issuing, good_leaf):
    issuer = local_issuing.certificate
    for body in [
        ocsp_request(good_leaf, issuer, nonce=b"0123456789abcdef"),  # the nonce is echoed
        ocsp_request(good_leaf, issuer, algorithm=hashes.SHA256()),  # answered in SHA-256
        ocsp_request(good_leaf, issuer, nonce=b""),  # malformed: an empty nonce
        ocsp_request(good_leaf, issuer)[:-3],  # truncated
        b"",
        b"not a request",
    ]:
        assert stored_answer_key(body) is None


# --- independent proof: openssl ---------------------------------------------------------


@pytest.fixture
def pki_files(openssl, local_root, local_issuing, good_leaf, revoked_leaf):
    openssl.write("root.pem", local_root.certificate_pem)
    openssl.write("issuing.pem", local_issuing.certificate_pem)
    openssl.write("good.pem", certificates_to_pem([good_leaf]))
    openssl.write("revoked.pem", certificates_to_pem([revoked_leaf]))
    return openssl


def test_openssl_reads_the_crl_and_checks_its_signature(pki_files, local_issuing, revoked_leaf):
    now = datetime.now(UTC)
    entries = [
        RevokedEntry(serial=revoked_leaf.serial_number, revoked_at=REVOKED_AT, reason=1),
        RevokedEntry(serial=0x0ABC, revoked_at=REVOKED_AT, reason=0),
        RevokedEntry(serial=0x0DEF, revoked_at=REVOKED_AT, reason=5),
    ]
    pki_files.write(
        "crl.der",
        build_crl(
            local_issuing,
            entries,
            crl_number=9,
            this_update=now,
            next_update=now + timedelta(days=1),
        ),
    )
    text = pki_files.ok("crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text")
    assert f"Serial Number: {revoked_leaf.serial_number:040X}" in text
    assert "Serial Number: 0ABC" in text
    assert "Serial Number: 0DEF" in text
    assert text.count("X509v3 CRL Reason Code") == 2
    assert "Key Compromise" in text
    assert "Cessation Of Operation" in text
    assert f"Revocation Date: {openssl_time(REVOKED_AT)}" in text
    assert "X509v3 CRL Number: \n                9" in text

    chain = (pki_files.directory / "issuing.pem").read_text() + (
        pki_files.directory / "root.pem"
    ).read_text()
    pki_files.write("chain.pem", chain)
    verdict = pki_files.ok(
        "crl", "-inform", "DER", "-in", "crl.der", "-noout", "-CAfile", "chain.pem"
    )
    assert "verify OK" in verdict


def test_openssl_verify_with_crls_refuses_the_revoked_certificate_only(
    pki_files, local_root, local_issuing, revoked_leaf
):
    now = datetime.now(UTC)
    entry = RevokedEntry(serial=revoked_leaf.serial_number, revoked_at=REVOKED_AT, reason=1)
    issuing_crl = build_crl(
        local_issuing, [entry], crl_number=1, this_update=now, next_update=now + timedelta(days=1)
    )
    root_crl = build_crl(
        local_root, [], crl_number=1, this_update=now, next_update=now + timedelta(days=30)
    )
    pki_files.write("issuing-crl.der", issuing_crl)
    pki_files.write("root-crl.der", root_crl)
    for name in ("issuing-crl", "root-crl"):
        pki_files.ok("crl", "-inform", "DER", "-in", f"{name}.der", "-out", f"{name}.pem")
    pki_files.write(
        "crls.pem",
        (pki_files.directory / "issuing-crl.pem").read_text()
        + (pki_files.directory / "root-crl.pem").read_text(),
    )
    verify = (
        "verify",
        "-crl_check_all",
        *("-CRLfile", "crls.pem", "-CAfile", "root.pem", "-untrusted", "issuing.pem"),
    )

    assert pki_files.ok(*verify, "good.pem").strip() == "good.pem: OK"
    refused = pki_files.run(*verify, "revoked.pem")
    assert refused.returncode != 0
    assert "certificate revoked" in refused.stdout


def _respond_to_file(openssl, name: str, issuer, lookup) -> None:
    request = (openssl.directory / f"{name}.req").read_bytes()
    now = datetime.now(UTC)
    openssl.write(f"{name}.resp", respond_to_ocsp(request, issuer=issuer, lookup=lookup, now=now))


def test_openssl_ocsp_accepts_good_and_revoked_answers(pki_files, local_issuing, lookup):
    for name in ("good", "revoked"):
        pki_files.ok(
            "ocsp", "-issuer", "issuing.pem", "-cert", f"{name}.pem", "-reqout", f"{name}.req"
        )
        _respond_to_file(pki_files, name, local_issuing, lookup)

    good = pki_files.ok(
        "ocsp",
        *("-respin", "good.resp", "-issuer", "issuing.pem", "-cert", "good.pem"),
        *("-VAfile", "issuing.pem", "-no_nonce", "-resp_text"),
    )
    assert "Response verify OK" in good
    assert "good.pem: good" in good
    assert "Responder Id: " in good

    revoked = pki_files.ok(
        "ocsp",
        *("-respin", "revoked.resp", "-issuer", "issuing.pem", "-cert", "revoked.pem"),
        *("-VAfile", "issuing.pem", "-no_nonce"),
    )
    assert "Response verify OK" in revoked
    assert "revoked.pem: revoked" in revoked
    assert "Reason: keyCompromise" in revoked
    assert f"Revocation Time: {openssl_time(REVOKED_AT)}" in revoked


def test_openssl_ocsp_trusts_the_answer_through_the_root_and_checks_the_nonce(
    pki_files, local_issuing, lookup
):
    # openssl puts a nonce in its requests by default.
    pki_files.ok("ocsp", "-issuer", "issuing.pem", "-cert", "revoked.pem", "-reqout", "r.req")
    _respond_to_file(pki_files, "r", local_issuing, lookup)
    # Trusting only the root: the answer is signed by the certificate's own issuer, which
    # RFC 6960 4.2.2.2 authorizes without a delegated responder certificate.
    output = pki_files.ok(
        "ocsp",
        *("-reqin", "r.req", "-respin", "r.resp"),
        *("-CAfile", "root.pem", "-verify_other", "issuing.pem", "-resp_text"),
    )
    assert "Response verify OK" in output
    assert "Cert Status: revoked" in output
    assert "Revocation Reason: keyCompromise (0x1)" in output
    assert "OCSP Nonce" in output
    assert "Nonce Verify error" not in output
    assert "WARNING" not in output


def test_openssl_ocsp_with_a_sha256_cert_id(pki_files, local_issuing, lookup):
    pki_files.ok(
        "ocsp", "-sha256", "-issuer", "issuing.pem", "-cert", "good.pem", "-reqout", "s.req"
    )
    _respond_to_file(pki_files, "s", local_issuing, lookup)
    output = pki_files.ok(
        "ocsp",
        *("-respin", "s.resp", "-sha256", "-issuer", "issuing.pem", "-cert", "good.pem"),
        *("-VAfile", "issuing.pem", "-no_nonce", "-resp_text"),
    )
    assert "Hash Algorithm: sha256" in output
    assert "good.pem: good" in output


def test_openssl_sees_the_error_statuses(pki_files, local_root, local_issuing, lookup):
    # Two certificates in one request: the lightweight profile allows one.
    pki_files.ok(
        "ocsp",
        *("-issuer", "issuing.pem", "-cert", "good.pem", "-cert", "revoked.pem"),
        *("-reqout", "two.req"),
    )
    _respond_to_file(pki_files, "two", local_issuing, lookup)
    pki_files.write("junk.req", b"this is not an OCSP request")
    _respond_to_file(pki_files, "junk", local_issuing, lookup)
    # The issuing CA's own status is the root's business, not the issuing CA's.
    pki_files.ok("ocsp", "-issuer", "root.pem", "-cert", "issuing.pem", "-reqout", "ca.req")
    _respond_to_file(pki_files, "ca", local_issuing, lookup)

    for name, status in [
        ("two", "malformedrequest (1)"),
        ("junk", "malformedrequest (1)"),
        ("ca", "unauthorized (6)"),
    ]:
        output = pki_files.run("ocsp", "-respin", f"{name}.resp", "-resp_text").stdout
        assert f"Responder Error: {status}" in output


def test_openssl_ocsp_accepts_presigned_good_and_revoked_answers(
    pki_files, local_issuing, good_leaf, revoked_leaf, lookup
):
    for name, leaf in (("good", good_leaf), ("revoked", revoked_leaf)):
        pki_files.ok(
            "ocsp",
            *("-issuer", "issuing.pem", "-cert", f"{name}.pem", "-no_nonce"),
            *("-reqout", f"{name}.req"),
        )
        request = (pki_files.directory / f"{name}.req").read_bytes()
        key = stored_answer_key(request)
        assert key is not None and key.serial == leaf.serial_number
        answer = presign_ocsp_response(
            local_issuing, serial=key.serial, state=lookup(key.serial), now=datetime.now(UTC)
        )
        pki_files.write(f"{name}.resp", answer.der)

    good = pki_files.ok(
        "ocsp",
        *("-respin", "good.resp", "-issuer", "issuing.pem", "-cert", "good.pem", "-no_nonce"),
        *("-CAfile", "root.pem", "-verify_other", "issuing.pem", "-resp_text"),
    )
    assert "Response verify OK" in good
    assert "good.pem: good" in good
    assert "WARNING" not in good

    revoked = pki_files.ok(
        "ocsp",
        *("-respin", "revoked.resp", "-issuer", "issuing.pem", "-cert", "revoked.pem"),
        *("-VAfile", "issuing.pem", "-no_nonce"),
    )
    assert "Response verify OK" in revoked
    assert "revoked.pem: revoked" in revoked
    assert "Reason: keyCompromise" in revoked
    assert f"Revocation Time: {openssl_time(REVOKED_AT)}" in revoked


# --- independent proof: pkilint's RFC 6960 lint ---------------------------------------------


def pkilint_ocsp_findings(der: bytes) -> list[str]:
    """Every finding (any severity) of pkilint's RFC 6960 OCSP response lint."""
    from pkilint import loader, pkix
    from pkilint.pkix import extension, name
    from pkilint.pkix import ocsp as pkilint_ocsp

    validator = pkilint_ocsp.create_pkix_ocsp_response_validator_container(
        [
            pkilint_ocsp.create_response_decoder(),
            pkix.create_attribute_decoder(name.ATTRIBUTE_TYPE_MAPPINGS),
            pkix.create_extension_decoder(extension.EXTENSION_MAPPINGS),
        ],
        [],
    )
    document = loader.RFC6960OCSPResponseDocumentLoader().load_der_document(der, "answer")
    results = validator.validate(document.root)
    assert results  # the lint really ran over the response's parts
    return [
        f"{description.finding.severity}: {description.finding.code} {description.message or ''}"
        for result in results
        for description in result.finding_descriptions
    ]


def test_pkilint_finds_nothing_in_presigned_good_revoked_and_unknown_answers(
    local_issuing, good_leaf, revoked_leaf, lookup
):
    for serial in (good_leaf.serial_number, revoked_leaf.serial_number, 12345):
        answer = presign_ocsp_response(local_issuing, serial=serial, state=lookup(serial), now=NOW)
        assert pkilint_ocsp_findings(answer.der) == []


def test_pkilint_finds_nothing_in_a_live_answer_with_a_nonce(local_issuing, revoked_leaf, lookup):
    request = ocsp_request(revoked_leaf, local_issuing.certificate, nonce=b"0123456789abcdef")
    answer = respond_to_ocsp(request, issuer=local_issuing, lookup=lookup, now=NOW)
    assert pkilint_ocsp_findings(answer) == []
