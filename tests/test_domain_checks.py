"""DV checks against a real DNS server and a real HTTP server, both on loopback."""

from __future__ import annotations

import contextlib
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from certificates import domain_checks
from certificates.domain_checks import (
    VALIDATION_FILE_PATH,
    CheckResult,
    Resolver,
    check_dns_txt,
    check_domain,
    check_domains,
    check_http_file,
    dns_record_name,
    is_public_address,
    new_token,
    validation_file_path,
)

TOKEN = "9f2c4e1ab37d48c6a0e5f1d2c3b4a596"
DOMAIN = "shop.example.com"
# The loopback test servers are not public: the file check may contact them only when told to.
LOOPBACK = ("127.0.0.0/8", "::1/128")


@pytest.fixture
def resolver(dns_server) -> Resolver:
    return Resolver(nameservers=(dns_server.host,), port=dns_server.port, timeout=2.0)


@pytest.fixture
def site(dns_server, http_server):
    """``shop.example.com`` pointing at the loopback HTTP server."""
    dns_server.set_a(DOMAIN, "127.0.0.1")
    return http_server


def check_file(domain, resolver, http_server, **kwargs) -> CheckResult:
    kwargs.setdefault("allowed_networks", LOOPBACK)
    return check_http_file(domain, TOKEN, resolver=resolver, port=http_server.port, **kwargs)


REDIRECT_NOT_FOLLOWED = (
    "redirected to a URL the file check does not follow: "
    f"only {VALIDATION_FILE_PATH} over http or https, on port 80 or 443"
)


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


def test_file_wrong_token_is_reported_without_quoting_the_file(site, resolver):
    site.serve(VALIDATION_FILE_PATH, body="xyz\n" + TOKEN)

    result = check_file(DOMAIN, resolver, site)

    assert not result.ok
    assert result.detail == (
        f"{file_url(site)} does not hold the token: its first line is something else"
    )


def test_file_empty(site, resolver):
    site.serve(VALIDATION_FILE_PATH, body="\n\n")

    result = check_file(DOMAIN, resolver, site)

    assert not result.ok
    assert result.detail == f"{file_url(site)} is empty instead of holding the token"


def test_file_not_found(site, resolver):
    result = check_file(DOMAIN, resolver, site)

    assert not result.ok
    assert result.detail == f"{file_url(site)} answered 404"


def test_file_redirect_to_another_path_is_not_followed(site, resolver):
    target = f"http://shop.example.com:{site.port}/.well-known/pki-validation/elsewhere.txt"
    site.serve(VALIDATION_FILE_PATH, status=301, headers={"Location": target})
    site.serve("/.well-known/pki-validation/elsewhere.txt", body=TOKEN)

    result = check_file(DOMAIN, resolver, site)

    assert not result.ok
    assert result.detail == f"{file_url(site)} {REDIRECT_NOT_FOLLOWED}"
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

    result = check_http_file(
        DOMAIN, TOKEN, resolver=resolver, port=closed_port, allowed_networks=LOOPBACK
    )

    assert not result.ok
    assert result.detail == (
        f"http://{DOMAIN}:{closed_port}{VALIDATION_FILE_PATH} (127.0.0.1) "
        "could not be reached: connection refused"
    )


def test_file_uses_aaaa_when_there_is_no_a_record(dns_server, resolver, closed_port):
    dns_server.set_aaaa(DOMAIN, "::1")

    result = check_http_file(
        DOMAIN, TOKEN, resolver=resolver, port=closed_port, timeout=1, allowed_networks=LOOPBACK
    )

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
    options = {
        "resolver": resolver,
        "http_port": site.port,
        "http_timeout": 2.0,
        "allowed_networks": LOOPBACK,
    }

    dns_result = check_domain("dns", DOMAIN, TOKEN, **options)
    file_result = check_domain("file", DOMAIN, TOKEN, **options)

    assert dns_result.ok and "TXT record" in dns_result.detail
    assert file_result.ok and "fileauth.txt" in file_result.detail
    with pytest.raises(ValueError, match="Unknown validation method"):
        check_domain("email", DOMAIN, TOKEN, **options)


# --- address policy of the file check --------------------------------------------------------

NOT_PUBLIC = (
    f"{DOMAIN} resolves to an address that is not public; "
    "the file check connects only to public addresses"
)

REFUSED_ADDRESSES = {
    "loopback": "127.0.0.1",
    "loopback-other": "127.8.9.10",
    "loopback-v6": "::1",
    "private-10": "10.0.0.1",
    "private-172": "172.16.5.4",
    "private-192": "192.168.1.1",
    "unique-local-v6": "fd12:3456::1",
    "link-local-metadata": "169.254.169.254",
    "link-local-v6": "fe80::1",
    "site-local-v6": "fec0::1",
    "cgnat": "100.64.0.1",
    "multicast": "224.0.0.1",
    "multicast-v6": "ff02::1",
    "multicast-global-v6": "ff0e::1",
    "reserved": "240.0.0.1",
    "broadcast": "255.255.255.255",
    "benchmarking": "198.18.0.1",
    "documentation-1": "192.0.2.1",
    "documentation-2": "198.51.100.7",
    "documentation-3": "203.0.113.9",
    "documentation-v6": "2001:db8::1",
    "documentation-v6-new": "3fff::1",
    "srv6-sid": "5f00::1",
    "discard-only-v6": "100::1",
    "unspecified": "0.0.0.0",
    "this-network": "0.1.2.3",
    "unspecified-v6": "::",
    "ietf-protocol": "192.0.0.8",
    "teredo": "2001::1",
}

# IPv6 forms that lead to a refused IPv4 address: refused too, even with loopback allowed.
REFUSED_EMBEDDED = {
    "mapped-loopback": "::ffff:127.0.0.1",
    "mapped-private": "::ffff:10.0.0.1",
    "mapped-metadata": "::ffff:169.254.169.254",
    "nat64-loopback": "64:ff9b::7f00:1",
    "nat64-private": "64:ff9b::a00:1",
    "nat64-metadata": "64:ff9b::a9fe:a9fe",
    "nat64-local-use": "64:ff9b:1::a00:1",
    "6to4-loopback": "2002:7f00:1::1",
    "ipv4-compatible": "::7f00:1",
}


def point_domain_at(dns_server, address: str) -> None:
    if ipaddress.ip_address(address).version == 4:
        dns_server.set_a(DOMAIN, address)
    else:
        dns_server.set_aaaa(DOMAIN, address)


@pytest.mark.parametrize("address", REFUSED_ADDRESSES.values(), ids=REFUSED_ADDRESSES.keys())
def test_file_check_refuses_addresses_that_are_not_public(
    dns_server, resolver, http_server, address
):
    point_domain_at(dns_server, address)
    http_server.serve(VALIDATION_FILE_PATH, body=TOKEN)

    result = check_file(DOMAIN, resolver, http_server, timeout=0.5, allowed_networks=())

    assert result == CheckResult(DOMAIN, False, NOT_PUBLIC)
    assert http_server.requests == []


@pytest.mark.parametrize("address", REFUSED_EMBEDDED.values(), ids=REFUSED_EMBEDDED.keys())
def test_file_check_refuses_ipv6_forms_of_refused_ipv4_addresses(
    dns_server, resolver, http_server, address
):
    point_domain_at(dns_server, address)
    http_server.serve(VALIDATION_FILE_PATH, body=TOKEN)

    # Allowing 127.0.0.0/8 allows those addresses, not every way of spelling them.
    result = check_file(DOMAIN, resolver, http_server, timeout=0.5, allowed_networks=LOOPBACK)

    assert result == CheckResult(DOMAIN, False, NOT_PUBLIC)
    assert http_server.requests == []


@pytest.mark.parametrize(
    "address",
    ["1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "::ffff:1.1.1.1", "64:ff9b::101:101"],
)
def test_public_unicast_addresses_and_their_ipv6_forms_are_public(address):
    assert is_public_address(address)


@pytest.mark.parametrize("address", [*REFUSED_ADDRESSES.values(), *REFUSED_EMBEDDED.values()])
def test_refused_addresses_are_not_public(address):
    assert not is_public_address(address)


def test_allowed_networks_let_the_loopback_test_server_through(site, resolver):
    site.serve(VALIDATION_FILE_PATH, body=TOKEN)

    refused = check_file(DOMAIN, resolver, site, allowed_networks=())
    allowed = check_file(DOMAIN, resolver, site, allowed_networks=["127.0.0.0/8"])
    elsewhere = check_file(DOMAIN, resolver, site, allowed_networks=["10.0.0.0/8", "::1/128"])

    assert refused.detail == NOT_PUBLIC
    assert allowed.ok
    assert elsewhere.detail == NOT_PUBLIC
    assert len(site.requests) == 1


def test_the_checked_address_is_the_one_connected_to(dns_server, site, resolver):
    site.serve(VALIDATION_FILE_PATH, body=TOKEN)
    dns_server.set_a(DOMAIN, "127.0.0.1")

    assert check_file(DOMAIN, resolver, site).ok

    # One lookup per check, before connecting: no second answer (DNS rebinding) is asked for.
    lookups = [query for query in dns_server.queries if query.name == DOMAIN]
    assert lookups == [lookups[0]] and lookups[0].rdtype == "A"


# --- what the customer is told ---------------------------------------------------------------

SECRET = "s3cr3t-from-an-internal-service"


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (200, {}, f"{SECRET}\n{TOKEN}"),
        (200, {}, SECRET * 200),
        (500, {"X-Debug": SECRET}, f"Traceback: {SECRET}"),
        (302, {"Location": f"http://{SECRET}.example.com/token"}, ""),
        (301, {"Location": f"{VALIDATION_FILE_PATH}?{SECRET}"}, ""),
        (303, {"Location": f"http://{SECRET}/"}, SECRET),
    ],
    ids=["wrong-file", "too-large", "error-page", "redirect-away", "redirect-query", "see-other"],
)
def test_file_check_never_shows_what_the_server_sent(site, resolver, status, headers, body):
    site.serve(VALIDATION_FILE_PATH, body=body, status=status, headers=headers)

    result = check_file(DOMAIN, resolver, site)

    assert not result.ok
    assert SECRET not in result.detail
    assert "s3cr3t" not in result.detail
    assert result.detail.startswith(file_url(site))


def test_file_check_names_the_status_of_an_error(site, resolver):
    site.serve(VALIDATION_FILE_PATH, body=SECRET, status=403)

    assert check_file(DOMAIN, resolver, site).detail == f"{file_url(site)} answered 403"


# --- redirects -------------------------------------------------------------------------------


class _HostAwareHandler(BaseHTTPRequestHandler):
    """Serves the token to www.shop.example.com and redirects every other host there."""

    server: _HostAwareServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.hosts.append(self.headers.get("Host", ""))
        if self.headers.get("Host", "").startswith(f"www.{DOMAIN}"):
            self._answer(200, TOKEN.encode())
        else:
            self._answer(301, b"", Location=self.server.redirect_to)

    def _answer(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _HostAwareServer(ThreadingHTTPServer):
    redirect_to = ""
    hosts: list[str]


@contextlib.contextmanager
def host_aware_server(tls: ssl.SSLContext | None = None) -> Iterator[_HostAwareServer]:
    """A web server on loopback whose answer depends on the Host asked for."""
    server = _HostAwareServer(("127.0.0.1", 0), _HostAwareHandler)
    server.hosts = []
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def redirecting_site(dns_server) -> Iterator[int]:
    """shop.example.com redirects to the same path on www.shop.example.com; yields the port."""
    dns_server.set_a(DOMAIN, "127.0.0.1")
    dns_server.set_a(f"www.{DOMAIN}", "127.0.0.1")
    with host_aware_server() as server:
        port = server.server_address[1]
        server.redirect_to = f"http://www.{DOMAIN}:{port}{VALIDATION_FILE_PATH}"
        yield port


def test_redirect_to_the_same_path_on_another_host_is_followed(redirecting_site, resolver):
    result = check_http_file(
        DOMAIN, TOKEN, resolver=resolver, port=redirecting_site, allowed_networks=LOOPBACK
    )

    assert result.ok
    assert result.detail == (
        f"Found the token at http://{DOMAIN}:{redirecting_site}{VALIDATION_FILE_PATH} "
        "(after 1 redirect)"
    )


def test_redirect_to_https_is_followed_to_the_checked_address_with_the_domain_as_sni(
    dns_server, resolver, self_signed_leaf, tmp_path, monkeypatch
):
    # A site asking for its first certificate may serve any: this one is for another name.
    (tmp_path / "cert.pem").write_text(self_signed_leaf.cert_pem)
    (tmp_path / "key.pem").write_text(self_signed_leaf.key_pem)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server_names = []
    tls.sni_callback = lambda sock, name, context: server_names.append(name)
    dns_server.set_a(DOMAIN, "127.0.0.1")
    dns_server.set_a(f"www.{DOMAIN}", "127.0.0.1")

    with host_aware_server() as site, host_aware_server(tls) as secure:
        secure_port = secure.server_address[1]
        # Port 443 can't be bound here: the https port stands in.
        monkeypatch.setitem(domain_checks._AUTHORIZED_PORTS, "https", secure_port)
        site.redirect_to = f"https://www.{DOMAIN}{VALIDATION_FILE_PATH}"
        port = site.server_address[1]
        result = check_http_file(
            DOMAIN, TOKEN, resolver=resolver, port=port, allowed_networks=LOOPBACK
        )

    assert result.ok, result.detail
    assert server_names == [f"www.{DOMAIN}"]
    assert secure.hosts == [f"www.{DOMAIN}"]


@pytest.mark.parametrize(
    "location",
    [
        "/.well-known/pki-validation/other.txt",
        "/.well-known/pki-validation/",
        "/fileauth.txt",
        f"{VALIDATION_FILE_PATH}?token=1",
        f"http://{DOMAIN}:8080{VALIDATION_FILE_PATH}",
        f"https://{DOMAIN}:8443{VALIDATION_FILE_PATH}",
        f"https://{DOMAIN}:80{VALIDATION_FILE_PATH}",
        f"ftp://{DOMAIN}{VALIDATION_FILE_PATH}",
        f"file://{VALIDATION_FILE_PATH}",
        f"gopher://{DOMAIN}:70/_{VALIDATION_FILE_PATH}",
        f"http://user:password@{DOMAIN}{VALIDATION_FILE_PATH}",
        f"http://bad host{VALIDATION_FILE_PATH}",
        f"http://{DOMAIN}:99999{VALIDATION_FILE_PATH}",
    ],
)
def test_redirects_the_baseline_requirements_do_not_allow_are_not_followed(
    site, resolver, location
):
    site.serve(VALIDATION_FILE_PATH, status=302, headers={"Location": location})

    result = check_file(DOMAIN, resolver, site)

    assert result == CheckResult(DOMAIN, False, f"{file_url(site)} {REDIRECT_NOT_FOLLOWED}")
    assert len(site.requests) == 1


@pytest.mark.parametrize("status", [300, 303, 304, 305])
def test_redirect_statuses_the_baseline_requirements_do_not_list_are_not_followed(
    site, resolver, status
):
    site.serve(VALIDATION_FILE_PATH, status=status, headers={"Location": VALIDATION_FILE_PATH})

    result = check_file(DOMAIN, resolver, site)

    assert result.detail == f"{file_url(site)} answered {status}, a redirect that is not followed"
    assert len(site.requests) == 1


@pytest.mark.parametrize(
    "target",
    [
        "internal.example.com",  # resolves to 10.0.0.1
        "metadata.example.com",  # resolves to 169.254.169.254
        "mapped.example.com",  # resolves to ::ffff:127.0.0.1
        "169.254.169.254",
        "[::ffff:127.0.0.1]",
        "[64:ff9b::a9fe:a9fe]",
    ],
)
def test_redirect_to_an_address_that_is_not_public_is_refused(dns_server, site, resolver, target):
    dns_server.set_a("internal.example.com", "10.0.0.1")
    dns_server.set_a("metadata.example.com", "169.254.169.254")
    dns_server.set_aaaa("mapped.example.com", "::ffff:127.0.0.1")
    location = f"http://{target}:{site.port}{VALIDATION_FILE_PATH}"
    site.serve(VALIDATION_FILE_PATH, status=301, headers={"Location": location})

    # Loopback is allowed, so the first request reaches the test server; the redirect
    # is checked again and refused before anything connects to its address.
    result = check_file(DOMAIN, resolver, site, timeout=0.5)

    assert result == CheckResult(
        DOMAIN,
        False,
        f"{file_url(site)} redirected to a host whose address is not public; "
        "the file check connects only to public addresses",
    )
    assert len(site.requests) == 1


def test_redirect_to_a_host_that_does_not_resolve(site, resolver):
    location = f"http://gone.example.com:{site.port}{VALIDATION_FILE_PATH}"
    site.serve(VALIDATION_FILE_PATH, status=307, headers={"Location": location})

    result = check_file(DOMAIN, resolver, site)

    assert result.detail == f"{file_url(site)} redirected to a host that does not resolve"


def test_redirects_are_followed_a_bounded_number_of_times(site, resolver):
    site.serve(VALIDATION_FILE_PATH, status=308, headers={"Location": VALIDATION_FILE_PATH})

    result = check_file(DOMAIN, resolver, site)

    assert result.detail == f"{file_url(site)} redirected more than 5 times"
    assert len(site.requests) == 6


def test_one_timeout_bounds_the_check_and_its_redirects(site, resolver):
    # Every hop answers after 0.3 s: five of them would take 1.5 s, the check gets 0.5 s.
    site.serve(
        VALIDATION_FILE_PATH, status=302, headers={"Location": VALIDATION_FILE_PATH}, delay=0.3
    )

    started = time.monotonic()
    result = check_file(DOMAIN, resolver, site, timeout=0.5)

    assert time.monotonic() - started < 1.2
    assert result.detail == f"{file_url(site)} (after 1 redirect) timed out after 0.5 s"


# --- many names at once ----------------------------------------------------------------------

NAMES = [f"n{number}.example.com" for number in range(10)]


def test_many_slow_names_are_checked_in_about_one_timeout(dns_server, http_server, resolver):
    for name in NAMES:
        dns_server.set_a(name, "127.0.0.1")
    # Each answer takes most of the timeout: one after the other, they would take 8 s.
    http_server.serve(VALIDATION_FILE_PATH, body=TOKEN, delay=0.8)

    started = time.monotonic()
    results = check_domains(
        "file",
        NAMES,
        TOKEN,
        resolver=resolver,
        http_port=http_server.port,
        http_timeout=1.5,
        allowed_networks=LOOPBACK,
    )

    assert time.monotonic() - started < 3 * 1.5
    assert [result.domain for result in results] == NAMES
    assert all(result.ok for result in results), results
    assert len(http_server.requests) == len(NAMES)


def test_many_unanswered_dns_queries_take_one_timeout(dns_server):
    dns_server.answering = False
    resolver = Resolver(nameservers=(dns_server.host,), port=dns_server.port, timeout=0.5)

    started = time.monotonic()
    results = check_domains("dns", NAMES, TOKEN, resolver=resolver, http_timeout=0.5)

    assert time.monotonic() - started < 3 * 0.5
    assert [result.domain for result in results] == NAMES
    assert all("timed out after 0.5 s" in result.detail for result in results)


def test_a_name_not_checked_by_the_deadline_is_reported_as_timed_out(site, resolver):
    site.serve(VALIDATION_FILE_PATH, body=TOKEN, delay=5)

    started = time.monotonic()
    # One worker: the second check can only start when the first has used up the time.
    first, second = check_domains(
        "file",
        [DOMAIN, DOMAIN],
        TOKEN,
        resolver=resolver,
        http_port=site.port,
        http_timeout=0.5,
        allowed_networks=LOOPBACK,
        max_workers=1,
    )

    assert time.monotonic() - started < 1.5
    assert first.detail == f"{file_url(site)} timed out after 0.5 s"
    assert second == CheckResult(
        DOMAIN, False, f"The check of {DOMAIN} did not finish within 0.5 s"
    )


def test_checking_no_names_and_an_unknown_method(resolver):
    assert check_domains("dns", [], TOKEN, resolver=resolver) == []
    with pytest.raises(ValueError, match="Unknown validation method"):
        check_domains("email", [DOMAIN], TOKEN, resolver=resolver)
