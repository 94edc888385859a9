"""CAA at issuance (RFC 8659, RFC 8657) against a real DNS server on loopback."""

import pytest

from certificates.caa_checks import check_caa
from certificates.domain_checks import Resolver

OURS = "local-ca.ssl-console.invalid"


@pytest.fixture
def resolver(dns_server) -> Resolver:
    return Resolver(nameservers=(dns_server.host,), port=dns_server.port, timeout=1.0)


def caa(domains, resolver, **parameters) -> list[str]:
    return check_caa(domains, resolver=resolver, identities=[OURS], **parameters)


def test_no_caa_records_anywhere_allow_issuance(dns_server, resolver):
    dns_server.set_a("shop.example.com", "192.0.2.1")
    assert caa(["shop.example.com", "*.example.com"], resolver) == []


def test_a_record_naming_this_ca_allows_issuance(dns_server, resolver):
    dns_server.set_caa("example.com", '0 issue "letsencrypt.org"', f'0 issue "{OURS}"')
    assert caa(["shop.example.com"], resolver) == []


def test_a_record_naming_another_ca_forbids_and_is_named(dns_server, resolver):
    dns_server.set_caa("shop.example.com", '0 issue "letsencrypt.org"')

    [reason] = caa(["shop.example.com"], resolver)

    assert "The CAA records at shop.example.com" in reason
    assert '0 issue "letsencrypt.org"' in reason
    assert f'shop.example.com CAA 0 issue "{OURS}"' in reason


def test_the_record_on_a_parent_decides_for_every_name_below(dns_server, resolver):
    dns_server.set_caa("example.com", '0 issue "letsencrypt.org"')
    dns_server.set_a("a.b.example.com", "192.0.2.1")

    [reason] = caa(["a.b.example.com"], resolver)

    assert "The CAA records at example.com" in reason
    assert "for a.b.example.com" in reason


def test_the_closest_name_with_records_wins_over_its_parents(dns_server, resolver):
    dns_server.set_caa("example.com", '0 issue "letsencrypt.org"')
    dns_server.set_caa("shop.example.com", f'0 issue "{OURS}"')
    assert caa(["shop.example.com"], resolver) == []


def test_issuewild_decides_for_a_wildcard_and_issue_for_plain_names(dns_server, resolver):
    dns_server.set_caa("example.com", f'0 issue "{OURS}"', '0 issuewild ";"')

    assert caa(["example.com"], resolver) == []
    [reason] = caa(["*.example.com"], resolver)
    assert '0 issuewild ";"' in reason
    assert "wildcard certificate for *.example.com" in reason


def test_a_wildcard_falls_back_to_issue_without_issuewild(dns_server, resolver):
    dns_server.set_caa("example.com", '0 issue "letsencrypt.org"')
    [reason] = caa(["*.example.com"], resolver)
    assert '0 issue "letsencrypt.org"' in reason


def test_an_unknown_critical_tag_forbids_even_with_our_issue_record(dns_server, resolver):
    dns_server.set_caa("example.com", f'0 issue "{OURS}"', '128 tbs "unknown"')

    [reason] = caa(["example.com"], resolver)

    assert '128 tbs "unknown"' in reason
    assert "critical flag" in reason


def test_an_unknown_tag_without_the_critical_flag_is_ignored(dns_server, resolver):
    dns_server.set_caa("example.com", f'0 issue "{OURS}"', '0 tbs "unknown"')
    assert caa(["example.com"], resolver) == []


def test_servfail_forbids_with_a_retry_message(dns_server, resolver):
    dns_server.fail("shop.example.com")

    [reason] = caa(["shop.example.com"], resolver)

    assert "shop.example.com" in reason
    assert "SERVFAIL" in reason
    assert "Try again" in reason


def test_servfail_on_a_parent_forbids_too(dns_server, resolver):
    dns_server.set_a("shop.example.com", "192.0.2.1")
    dns_server.fail("example.com")
    [reason] = caa(["shop.example.com"], resolver)
    assert "example.com" in reason and "Try again" in reason


def test_a_timeout_forbids_with_a_retry_message(dns_server, resolver):
    dns_server.answering = False
    [reason] = caa(["shop.example.com"], resolver)
    assert "timed out" in reason and "Try again" in reason


def test_accounturi_must_match_the_acme_account(dns_server, resolver):
    account = "https://ca.example/acme/acct/42"
    dns_server.set_caa("example.com", f'0 issue "{OURS}; accounturi={account}"')

    assert caa(["example.com"], resolver, account_uri=account) == []
    assert caa(["example.com"], resolver, account_uri="https://ca.example/acme/acct/7") != []
    # The console has no ACME account: such a record does not authorize it.
    assert caa(["example.com"], resolver) != []


def test_validationmethods_must_include_the_method_used(dns_server, resolver):
    dns_server.set_caa("example.com", f'0 issue "{OURS}; validationmethods=dns-01,ca-dns"')

    assert caa(["example.com"], resolver, validation_method="dns-01") == []
    assert caa(["example.com"], resolver, validation_method="ca-dns") == []
    [reason] = caa(["example.com"], resolver, validation_method="http-01")
    assert "validationmethods=dns-01,ca-dns" in reason


def test_each_name_is_judged_on_its_own(dns_server, resolver):
    dns_server.set_caa("shop.example.com", f'0 issue "{OURS}"')
    dns_server.set_caa("example.org", '0 issue "letsencrypt.org"')

    reasons = caa(["shop.example.com", "www.example.org"], resolver)

    assert len(reasons) == 1
    assert "for www.example.org" in reasons[0]


def test_a_parent_is_asked_once_for_all_the_names_under_it(dns_server, resolver):
    dns_server.set_a("a.example.com", "192.0.2.1")
    dns_server.set_a("b.example.com", "192.0.2.1")
    caa(["a.example.com", "b.example.com"], resolver)
    asked = [query.name for query in dns_server.queries if query.rdtype == "CAA"]
    assert asked.count("example.com") == 1
    assert asked.count("com") == 1
