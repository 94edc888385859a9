"""Domain validation (DV) checks: is the customer's token published in DNS or on the web site?

The console asks the customer to publish a random token either as the DNS TXT record
``_dnsauth.<domain>`` or as the file ``/.well-known/pki-validation/fileauth.txt`` on the
domain's web server, then calls these checks when the customer presses "Verify".

This module does not import Django: the service that calls it passes the settings (the
resolver's nameservers, ports and timeouts) in as arguments, so the checks can be tested
against real servers on loopback. A check never raises for a network or DNS problem; it
returns a failed ``CheckResult`` whose ``detail`` tells the customer what was found instead.
"""

from __future__ import annotations

import enum
import http.client
import secrets
import time
from dataclasses import dataclass

import dns.exception
import dns.inet
import dns.name
import dns.rdata
import dns.resolver

from certificates.pki.csr import normalize_domain
from certificates.pki.errors import InvalidDomainError

DNS_RECORD_PREFIX = "_dnsauth"
VALIDATION_FILE_PATH = "/.well-known/pki-validation/fileauth.txt"


class ValidationMethod(enum.StrEnum):
    """How a customer proves control of a domain: the value an application stores, its
    short name (the certificate's details) and the words the apply form offers it with.
    The Django model's choices are made from this table.
    """

    label: str
    offer: str

    def __new__(cls, value: str, label: str, offer: str) -> ValidationMethod:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.offer = offer
        return member

    DNS = "dns", "DNS TXT record", "DNS TXT record"
    FILE = "file", "File", "File on the web server"


# How much of an unexpected value a failure message quotes back to the customer.
_QUOTE_LIMIT = 40


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check; ``detail`` is shown to the customer as is."""

    domain: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Resolver:
    """Which DNS servers the checks ask, and how long they wait for an answer.

    With no nameservers the system's resolver configuration (``/etc/resolv.conf``) is used
    and ``port`` is ignored. ``timeout`` bounds the whole lookup, retries included.
    """

    nameservers: tuple[str, ...] = ()
    port: int = 53
    timeout: float = 3.0

    def __post_init__(self) -> None:
        # Settings usually hold a list; keep the dataclass hashable and immutable.
        object.__setattr__(self, "nameservers", tuple(self.nameservers))
        # A wrong setting is the operator's mistake: fail loudly, not as a customer message.
        for nameserver in self.nameservers:
            if not dns.inet.is_address(nameserver):
                raise ValueError(f"DNS nameserver {nameserver!r} is not an IP address")
        if self.timeout <= 0:
            raise ValueError("The DNS timeout must be positive")

    def build(self) -> dns.resolver.Resolver:
        """A fresh dnspython resolver (no cache, so a record published a second ago counts)."""
        resolver = dns.resolver.Resolver(configure=not self.nameservers)
        if self.nameservers:
            resolver.port = self.port
            resolver.nameservers = list(self.nameservers)
        resolver.timeout = self.timeout
        resolver.lifetime = self.timeout
        return resolver


def new_token() -> str:
    """A random validation token: 128 bits as 32 hex digits, safe in a TXT record and a file."""
    return secrets.token_hex(16)


def dns_record_name(domain: str) -> str:
    """The TXT record name for a domain; a wildcard is validated on its base domain."""
    return f"{DNS_RECORD_PREFIX}.{_base_domain(domain)}"


def validation_file_path() -> str:
    """The path, on the domain's web server, of the file that must hold the token."""
    return VALIDATION_FILE_PATH


def validation_file_url(domain: str, port: int = 80) -> str:
    """The URL the file check fetches, as shown to the customer."""
    return f"http://{_host_header(_ascii_domain(domain), port)}{VALIDATION_FILE_PATH}"


def check_domain(
    method: str,
    domain: str,
    token: str,
    *,
    resolver: Resolver,
    http_port: int = 80,
    http_timeout: float = 5.0,
) -> CheckResult:
    """Run the check for a validation method: ``"dns"`` or ``"file"``."""
    if method == ValidationMethod.DNS:
        return check_dns_txt(domain, token, resolver=resolver)
    if method == ValidationMethod.FILE:
        return check_http_file(
            domain, token, resolver=resolver, port=http_port, timeout=http_timeout
        )
    expected = " or ".join(ValidationMethod)
    raise ValueError(f"Unknown validation method {method!r}; expected {expected}")


# --- DNS TXT record --------------------------------------------------------------------------


def check_dns_txt(domain: str, token: str, *, resolver: Resolver) -> CheckResult:
    """Pass when any TXT record at ``_dnsauth.<domain>`` holds exactly the token.

    A record's strings are joined (long values are split into 255-byte strings), and
    surrounding whitespace and quotes are ignored, as customers often paste them.
    """
    if not _base_domain(domain):
        return _failed(domain, "No domain was given")
    name = dns_record_name(domain)
    try:
        answer = resolver.build().resolve(dns.name.from_text(name), "TXT")
    except dns.resolver.NXDOMAIN:
        return _failed(domain, f"No TXT record {name} was found (the name does not exist)")
    except dns.resolver.NoAnswer:
        return _failed(domain, f"The name {name} exists but has no TXT record")
    except dns.exception.DNSException as error:
        return _failed(domain, _dns_error_detail(error, name, resolver))

    expected = _clean(token)
    values = [_txt_value(rdata) for rdata in answer]
    if expected in values:
        return CheckResult(domain=domain, ok=True, detail=f"Found the TXT record {name}")
    found = " and ".join(_quote(value) for value in values[:3])
    if len(values) > 3:
        found += f" and {len(values) - 3} more"
    return _failed(domain, f"The TXT record {name} holds {found}, not the token")


def _txt_value(rdata: dns.rdata.Rdata) -> str:
    return _clean(b"".join(rdata.strings).decode("utf-8", errors="replace"))


def _clean(value: str) -> str:
    return value.strip().strip("\"'").strip()


# --- File over HTTP --------------------------------------------------------------------------


def check_http_file(
    domain: str,
    token: str,
    *,
    resolver: Resolver,
    port: int = 80,
    timeout: float = 5.0,
    max_bytes: int = 4096,
) -> CheckResult:
    """Pass when ``http://<domain>/.well-known/pki-validation/fileauth.txt`` holds the token.

    The domain is resolved with the same resolver as the DNS check (A first, then AAAA), so
    the operator's nameservers decide where it points. The rule for the body: its first
    non-empty line, without surrounding whitespace, must equal the token (anything after that
    line is ignored). Redirects are not followed, the response must be 2xx, at most
    ``max_bytes`` long, and complete within ``timeout`` seconds.
    """
    if domain.strip().startswith("*."):
        # CA/Browser Forum baseline requirements: file-based validation can't prove control
        # of every name under a wildcard.
        return _failed(
            domain,
            f"A wildcard domain ({domain}) can't be validated with a file; "
            f"publish the DNS TXT record {dns_record_name(domain)} instead",
        )
    host = _ascii_domain(domain)
    if not host:
        return _failed(domain, "No domain was given")
    url = validation_file_url(host, port)
    address, problem = _resolve_address(host, resolver)
    if address is None:
        return _failed(domain, problem)

    deadline = time.monotonic() + timeout
    connection = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        connection.request(
            "GET",
            VALIDATION_FILE_PATH,
            headers={"Host": _host_header(host, port), "User-Agent": "domain-validation-check"},
        )
        _set_remaining_timeout(connection, deadline)
        response = connection.getresponse()
        return _judge_response(domain, token, url, response, connection, deadline, max_bytes)
    except ConnectionRefusedError:
        return _failed(domain, f"{url} ({address}) could not be reached: connection refused")
    except (TimeoutError, _DeadlinePassed):
        return _failed(domain, f"{url} timed out after {_seconds(timeout)}")
    except http.client.RemoteDisconnected:
        return _failed(domain, f"{url} closed the connection without answering")
    except http.client.HTTPException as error:
        return _failed(domain, f"{url} sent an invalid HTTP response ({type(error).__name__})")
    except OSError as error:
        reason = (error.strerror or str(error) or type(error).__name__).lower()
        return _failed(domain, f"{url} ({address}) could not be reached: {reason}")
    finally:
        connection.close()


def _resolve_address(host: str, resolver: Resolver) -> tuple[str | None, str]:
    """The first IPv4 address of the host, else its first IPv6 one, else why there is none."""
    dns_resolver = resolver.build()
    for rdtype in ("A", "AAAA"):
        try:
            answer = dns_resolver.resolve(dns.name.from_text(host), rdtype)
        except dns.resolver.NXDOMAIN:
            return None, f"The domain {host} does not resolve (the name does not exist)"
        except dns.resolver.NoAnswer:
            continue
        except dns.exception.DNSException as error:
            return None, _dns_error_detail(error, host, resolver)
        return answer[0].address, ""
    return None, f"The domain {host} has no A or AAAA record"


def _judge_response(
    domain: str,
    token: str,
    url: str,
    response: http.client.HTTPResponse,
    connection: http.client.HTTPConnection,
    deadline: float,
    max_bytes: int,
) -> CheckResult:
    status = response.status
    if 300 <= status < 400:
        location = response.getheader("Location")
        if location:
            target = _printable(location, limit=200)
            return _failed(domain, f"{url} redirected to {target}; redirects are not followed")
        return _failed(domain, f"{url} answered {status} (a redirect); redirects are not followed")
    if not 200 <= status < 300:
        return _failed(domain, f"{url} answered {status}")

    too_large = f"{url} is larger than {_size(max_bytes)}"
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        return _failed(domain, too_large)
    body = _read_limited(response, connection, deadline, max_bytes + 1)
    if len(body) > max_bytes:
        return _failed(domain, too_large)

    first_line = _first_non_empty_line(body.decode("utf-8", errors="replace"))
    if first_line == token.strip():
        return CheckResult(domain=domain, ok=True, detail=f"Found the token at {url}")
    if not first_line:
        return _failed(domain, f"{url} is empty instead of holding the token")
    return _failed(domain, f"{url} holds {_quote(first_line)} instead of the token")


class _DeadlinePassed(Exception):
    """The server kept the connection busy past the check's timeout."""


def _read_limited(
    response: http.client.HTTPResponse,
    connection: http.client.HTTPConnection,
    deadline: float,
    limit: int,
) -> bytes:
    # Read in pieces against one deadline: a socket timeout alone restarts with every
    # byte, so a server trickling data could hold the check far longer than the timeout.
    chunks: list[bytes] = []
    received = 0
    while received < limit:
        _set_remaining_timeout(connection, deadline)
        chunk = response.read1(limit - received)
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
    return b"".join(chunks)


def _set_remaining_timeout(connection: http.client.HTTPConnection, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _DeadlinePassed
    if connection.sock is not None:
        connection.sock.settimeout(remaining)


def _first_non_empty_line(text: str) -> str:
    for line in text.lstrip("\ufeff").splitlines():
        if line.strip():
            return line.strip()
    return ""


# --- Shared helpers --------------------------------------------------------------------------


def _base_domain(domain: str) -> str:
    domain = _ascii_domain(domain)
    return domain[2:] if domain.startswith("*.") else domain


def _ascii_domain(domain: str) -> str:
    """Lower-case, no final dot, and internationalized names in their ASCII (xn--) form.

    The conversion certificates name domains by (IDNA 2008 with UTS 46), so a check
    asks about exactly the name the certificate would hold.
    """
    try:
        return normalize_domain(domain, allow_wildcard=True)
    except InvalidDomainError:
        # Left as is: the query then fails and the customer is told the name is invalid.
        return domain.strip().rstrip(".").lower()


def _host_header(host: str, port: int) -> str:
    if ":" in host:
        host = f"[{host}]"
    return host if port == 80 else f"{host}:{port}"


def _dns_error_detail(error: dns.exception.DNSException, name: str, resolver: Resolver) -> str:
    if isinstance(error, dns.exception.Timeout):
        return f"The DNS query for {name} timed out after {_seconds(resolver.timeout)}"
    if isinstance(error, dns.resolver.NoNameservers):
        return f"No DNS server could answer the query for {name} (they failed or refused it)"
    if isinstance(error, dns.resolver.NoResolverConfiguration):
        return "No DNS server is configured to check the domain"
    if isinstance(error, dns.name.NameTooLong | dns.name.LabelTooLong | dns.name.EmptyLabel):
        return f"{name} is not a valid domain name"
    return f"The DNS query for {name} failed ({type(error).__name__})"


def _failed(domain: str, detail: str) -> CheckResult:
    return CheckResult(domain=domain, ok=False, detail=detail)


def _quote(value: str) -> str:
    return f'"{_printable(value, limit=_QUOTE_LIMIT)}"'


def _printable(value: str, *, limit: int) -> str:
    # What we show back comes from a stranger's server: keep it short and printable.
    printable = "".join(char if char.isprintable() else "?" for char in value)
    if len(printable) > limit:
        printable = printable[:limit] + "…"
    return printable


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _size(max_bytes: int) -> str:
    if max_bytes >= 1024 and max_bytes % 1024 == 0:
        return f"{max_bytes // 1024} KB"
    return f"{max_bytes} bytes"
