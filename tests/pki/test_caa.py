"""Reading CAA issue values and judging a record set (RFC 8659 4, RFC 8657)."""

import pytest

from certificates.pki.caa import CAARecord, parse_issue_value, refusal

OURS = "local-ca.ssl-console.invalid"


@pytest.mark.parametrize(
    ("value", "issuer", "parameters"),
    [
        ("letsencrypt.org", "letsencrypt.org", {}),
        (" Example.NET. ", "example.net", {}),
        (";", "", {}),
        (
            "ca.example; accounturi=https://a/1 ; validationmethods=dns-01",
            "ca.example",
            {"accounturi": "https://a/1", "validationmethods": "dns-01"},
        ),
    ],
)
def test_issue_values_are_read_with_their_parameters(value, issuer, parameters):
    parsed = parse_issue_value(value)
    assert parsed is not None
    assert (parsed.issuer, parsed.parameters) == (issuer, parameters)


@pytest.mark.parametrize("value", ["not a domain!", "ca.example; novalue", "ca.example; =x"])
def test_malformed_issue_values_authorize_nothing(value):
    assert parse_issue_value(value) is None
    records = [CAARecord(0, "issue", value)]
    assert refusal(records, domain="example.com", owner="example.com", identities=["ca.example"])


def test_an_empty_issuer_forbids_every_ca():
    records = [CAARecord(0, "issue", ";")]
    assert refusal(records, domain="example.com", owner="example.com", identities=[OURS])


def test_only_iodef_records_leave_issuance_unrestricted():
    records = [CAARecord(0, "iodef", "mailto:security@example.com")]
    assert refusal(records, domain="example.com", owner="example.com", identities=[OURS]) is None
