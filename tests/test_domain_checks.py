"""DV checks against a real DNS server and a real HTTP server, both on loopback."""

from __future__ import annotations

import time

import pytest

from certificates.domain_checks import (
    VALIDATION_FILE_PATH,
    CheckResult,
    Resolver,
    check_dns_txt,
    check_domain,
    check_http_file,
    dns_record_name,
    new_token,
    validation_file_path,
)

TOKEN = "9f2c4e1ab37d48c6a0e5f1d2c3b4a596"
DOMAIN = "shop.example.com"


@pytest.fixture
def resolver(dns_server) -> Resolver:
    return Resolver(nameservers=(dns_server.host,), port=dns_server.port, timeout=2.0)


@pytest.fixture
def site(dns_server, http_server):
    """``shop.example.com`` pointing at the loopback HTTP server."""
    dns_server.set_a(DOMAIN, "127.0.0.1")
    return http_server


def check_file(domain, resolver, http_server, **kwargs) -> CheckResult:
    return check_http_file(domain, TOKEN, resolver=resolver, port=http_server.port, **kwargs)


def file_url(http_server) -> str:
    return f"http://{DOMAIN}:{http_server.port}{VALIDATION_FILE_PATH}"


# --- names and tokens ------------------------------------------------------------------------


def test_record_name_and_file_path():
    assert dns_record_name("shop.example.com") == "_dnsauth.shop.example.com"
    assert dns_record_name("*.example.com") == "_dnsauth.example.com"
    assert dns_record_name("Shop.Example.COM.") == "_dnsauth.shop.example.com"
    # The name the certificate holds (IDNA 2008): faß.de is not fass.de.
    assert dns_record_name("Faß.de") == "_dnsauth.xn--fa-hia.de"
    assert (
        validation_file_path() == VALIDATION_FILE_PATH == "/.well-known/pki-validation/fileauth.txt"
    )


def test_new_tokens_are_random_and_fit_in_a_txt_record():
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert 20 <= len(token) <= 64
        assert token.isascii() and token.isalnum()


def test_resolver_accepts_a_list_from_settings_and_refuses_names():
    assert Resolver(nameservers=["127.0.0.1"]).nameservers == ("127.0.0.1",)
    with pytest.raises(ValueError, match="not an IP address"):
        Resolver(nameservers=("dns.example.net",))


# --- DNS TXT record --------------------------------------------------------------------------


def test_dns_success(dns_server, resolver):
    dns_server.set_txt("_dnsauth.shop.example.com", TOKEN)

    result = check_dns_txt(DOMAIN, TOKEN, resolver=resolver)

    assert result == CheckResult(DOMAIN, True, "Found the TXT record _dnsauth.shop.example.com")
    assert ("_dnsauth.shop.example.com", "TXT") in {(q.name, q.rdtype) for q in dns_server.queries}


def test_dns_success_among_other_txt_records_and_with_pasted_quotes(dns_server, resolver):
    dns_server.set_txt("_dnsauth.shop.example.com", "v=spf1 -all", f' "{TOKEN}" ')

    assert check_dns_txt(DOMAIN, TOKEN, resolver=resolver).ok


def test_dns_multi_string_record_is_joined(dns_server, resolver):
    dns_server.set_record("_dnsauth.shop.example.com", "TXT", f'"{TOKEN[:10]}" "{TOKEN[10:]}"')

    assert check_dns_txt(DOMAIN, TOKEN, resolver=resolver).ok


def test_dns_wrong_token_says_what_was_found(dns_server, resolver):
    dns_server.set_txt("_dnsauth.shop.example.com", "abc123")

    result = check_dns_txt(DOMAIN, TOKEN, resolver=resolver)

    assert not result.ok
    assert result.detail == 'The TXT record _dnsauth.shop.example.com holds "abc123", not the token'


def test_dns_long_wrong_value_is_shortened(dns_server, resolver):
    dns_server.set_txt("_dnsauth.shop.example.com", "x" * 300)

    result = check_dns_txt(DOMAIN, TOKEN, resolver=resolver)

    assert not result.ok
    assert '"' + "x" * 40 + '…"' in result.detail


def test_dns_missing_record(resolver):
    result = check_dns_txt(DOMAIN, TOKEN, resolver=resolver)

    assert not result.ok
    assert result.detail == (
        "No TXT record _dnsauth.shop.example.com was found (the name does not exist)"
    )


def test_dns_name_without_txt_record(dns_server, resolver):
    dns_server.set_a("_dnsauth.shop.example.com", "192.0.2.1")

    result = check_dns_txt(DOMAIN, TOKEN, resolver=resolver)

    assert not result.ok
    assert result.detail == "The name _dnsauth.shop.example.com exists but has no TXT record"


def test_dns_record_published_after_a_failed_check_is_found(dns_server, resolver):
    assert not check_dns_txt(DOMAIN, TOKEN, resolver=resolver).ok

    dns_server.set_txt("_dnsauth.shop.example.com", TOKEN)

    assert check_dns_txt(DOMAIN, TOKEN, resolver=resolver).ok


def test_dns_timeout(dns_server):
    dns_server.set_txt("_dnsauth.shop.example.com", TOKEN)
    dns_server.answering = False
    resolver = Resolver(nameservers=(dns_server.host,), port=dns_server.port, timeout=0.5)

    started = time.monotonic()
    result = check_dns_txt(DOMAIN, TOKEN, resolver=resolver)

    assert time.monotonic() - started < 2
    assert not result.ok
    assert result.detail == "The DNS query for _dnsauth.shop.example.com timed out after 0.5 s"


def test_dns_server_not_listening(closed_port):
    # Nothing answers on that port: a failed result after the timeout, not an exception.
    resolver = Resolver(nameservers=("127.0.0.1",), port=closed_port, timeout=0.5)

    result = check_dns_txt(DOMAIN, TOKEN, resolver=resolver)

    assert not result.ok
    assert result.detail == "The DNS query for _dnsauth.shop.example.com timed out after 0.5 s"


@pytest.mark.parametrize("check", [check_dns_txt, check_http_file])
def test_no_domain_given(check, resolver):
    result = check(" ", TOKEN, resolver=resolver)

    assert result == CheckResult(" ", False, "No domain was given")


def test_dns_wildcard_is_checked_on_the_base_domain(dns_server, resolver):
    dns_server.set_txt("_dnsauth.example.com", TOKEN)

    result = check_dns_txt("*.example.com", TOKEN, resolver=resolver)

    assert result == CheckResult("*.example.com", True, "Found the TXT record _dnsauth.example.com")


# --- File over HTTP --------------------------------------------------------------------------


def test_file_success(site, resolver):
    site.serve(VALIDATION_FILE_PATH, body=TOKEN + "\n")

    result = check_file(DOMAIN, resolver, site)

    assert result == CheckResult(DOMAIN, True, f"Found the token at {file_url(site)}")
    # The server was asked for the customer's domain, not for the address it resolved to.
    assert site.requests[-1].host == f"{DOMAIN}:{site.port}"


def test_file_first_non_empty_line_is_the_token(site, resolver):
    site.serve(VALIDATION_FILE_PATH, body=f"\r\n  {TOKEN}  \r\nsomething else\r\n")

    assert check_file(DOMAIN, resolver, site).ok


def test_file_wrong_token_says_what_was_found(site, resolver):
    site.serve(VALIDATION_FILE_PATH, body="xyz\n" + TOKEN)

    result = check_file(DOMAIN, resolver, site)

    assert not result.ok
    assert result.detail == f'{file_url(site)} holds "xyz" instead of the token'


def test_file_empty(site, resolver):
    site.serve(VALIDATION_FILE_PATH, body="\n\n")

    result = check_file(DOMAIN, resolver, site)

    assert not result.ok
    assert result.detail == f"{file_url(site)} is empty instead of holding the token"


def test_file_not_found(site, resolver):
    result = check_file(DOMAIN, resolver, site)

    assert not result.ok
    assert result.detail == f"{file_url(site)} answered 404"


def test_file_redirect_is_not_followed(site, resolver):
    target = "https://shop.example.com/.well-known/pki-validation/fileauth.txt"
    site.serve(VALIDATION_FILE_PATH, status=301, headers={"Location": target})
    site.serve("/.well-known/pki-validation/elsewhere.txt", body=TOKEN)

    result = check_file(DOMAIN, resolver, site)

    assert not result.ok
    assert result.detail == f"{file_url(site)} redirected to {target}; redirects are not followed"
    assert [request.path for request in site.requests] == [VALIDATION_FILE_PATH]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_file_too_large(site, resolver, chunked):
    headers = {"Transfer-Encoding": "chunked"} if chunked else None
    site.serve(VALIDATION_FILE_PATH, body=TOKEN + "\n" + "x" * 5000, headers=headers)

    result = check_file(DOMAIN, resolver, site)

    assert not result.ok
    assert result.detail == f"{file_url(site)} is larger than 4 KB"


def test_file_at_the_size_limit_passes(site, resolver):
    body = TOKEN + "\n" + "x" * (4096 - len(TOKEN) - 1)
    site.serve(VALIDATION_FILE_PATH, body=body, headers={"Transfer-Encoding": "chunked"})

    assert check_file(DOMAIN, resolver, site).ok


def test_file_timeout(site, resolver):
    site.serve(VALIDATION_FILE_PATH, body=TOKEN, delay=5)

    started = time.monotonic()
    result = check_file(DOMAIN, resolver, site, timeout=0.5)

    assert time.monotonic() - started < 2
    assert not result.ok
    assert result.detail == f"{file_url(site)} timed out after 0.5 s"


def test_file_connection_refused(dns_server, resolver, closed_port):
    dns_server.set_a(DOMAIN, "127.0.0.1")

    result = check_http_file(DOMAIN, TOKEN, resolver=resolver, port=closed_port)

    assert not result.ok
    assert result.detail == (
        f"http://{DOMAIN}:{closed_port}{VALIDATION_FILE_PATH} (127.0.0.1) "
        "could not be reached: connection refused"
    )


def test_file_uses_aaaa_when_there_is_no_a_record(dns_server, resolver, closed_port):
    dns_server.set_aaaa(DOMAIN, "::1")

    result = check_http_file(DOMAIN, TOKEN, resolver=resolver, port=closed_port, timeout=1)

    # Nothing listens on [::1] either (or IPv6 is off): what matters is where it went.
    assert not result.ok
    assert "(::1) could not be reached" in result.detail


def test_file_domain_that_does_not_resolve(resolver, http_server):
    result = check_file("nowhere.example.com", resolver, http_server)

    assert not result.ok
    assert (
        result.detail == "The domain nowhere.example.com does not resolve (the name does not exist)"
    )
    assert http_server.requests == []


def test_file_domain_without_addresses(dns_server, resolver, http_server):
    dns_server.set_txt(DOMAIN, "not an address")

    result = check_file(DOMAIN, resolver, http_server)

    assert not result.ok
    assert result.detail == f"The domain {DOMAIN} has no A or AAAA record"


def test_file_dns_timeout(dns_server, http_server):
    dns_server.answering = False
    resolver = Resolver(nameservers=(dns_server.host,), port=dns_server.port, timeout=0.5)

    result = check_file(DOMAIN, resolver, http_server)

    assert not result.ok
    assert result.detail == f"The DNS query for {DOMAIN} timed out after 0.5 s"


def test_file_wildcard_is_refused(site, resolver):
    site.serve(VALIDATION_FILE_PATH, body=TOKEN)

    result = check_file("*.example.com", resolver, site)

    assert not result.ok
    assert "wildcard" in result.detail.lower()
    assert "DNS TXT record _dnsauth.example.com" in result.detail
    assert site.requests == []


# --- dispatch --------------------------------------------------------------------------------


def test_check_domain_dispatches_on_the_method(dns_server, site, resolver):
    dns_server.set_txt("_dnsauth.shop.example.com", TOKEN)
    site.serve(VALIDATION_FILE_PATH, body=TOKEN)
    options = {"resolver": resolver, "http_port": site.port, "http_timeout": 2.0}

    dns_result = check_domain("dns", DOMAIN, TOKEN, **options)
    file_result = check_domain("file", DOMAIN, TOKEN, **options)

    assert dns_result.ok and "TXT record" in dns_result.detail
    assert file_result.ok and "fileauth.txt" in file_result.detail
    with pytest.raises(ValueError, match="Unknown validation method"):
        check_domain("email", DOMAIN, TOKEN, **options)
