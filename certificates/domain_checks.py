"""Domain validation (DV) checks: is the customer's token published in DNS or on the web site?

The console asks the customer to publish a random token either as the DNS TXT record
``_dnsauth.<domain>`` or as the file ``/.well-known/pki-validation/fileauth.txt`` on the
domain's web server, then calls these checks when the customer presses "Verify".

This module does not import Django: the service that calls it passes the settings (the
resolver's nameservers, ports, timeouts and the networks the file check may contact anyway)
in as arguments, so the checks can be tested against real servers on loopback. A check never
raises for a network or DNS problem; it returns a failed ``CheckResult`` whose ``detail``
tells the customer what went wrong. The file check connects only to public addresses and
never quotes what a web server sent: the customer's domain could point at a service inside
the CA's network, and the check must not become a way to read it.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import enum
import http.client
import ipaddress
import re
import secrets
import ssl
import time
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import dns.exception
import dns.inet
import dns.name
import dns.rdata
import dns.resolver

from certificates.pki.csr import normalize_domain
from certificates.pki.errors import InvalidDomainError
from certificates.pki.i18n import N_, Message

DNS_RECORD_PREFIX = "_dnsauth"
VALIDATION_FILE_PATH = "/.well-known/pki-validation/fileauth.txt"
# ACME's challenges (RFC 8555 8.3 and 8.4) use their own record name and path.
ACME_DNS_RECORD_PREFIX = "_acme-challenge"
ACME_CHALLENGE_PATH = "/.well-known/acme-challenge/"


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

    DNS = "dns", N_("DNS TXT record"), N_("DNS TXT record")
    FILE = "file", N_("File"), N_("File on the web server")


# How much of an unexpected value a failure message quotes back to the customer.
_QUOTE_LIMIT = 40


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check; ``detail`` is shown to the customer as is.

    Made with a Message, `detail` is it in the language active then and `message` keeps
    it, so that a page can show it later in its reader's language."""

    domain: str
    ok: bool
    detail: str
    message: Message | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.detail, Message):
            object.__setattr__(self, "message", self.detail)
            object.__setattr__(self, "detail", str(self.detail))


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


def dns_record_name(domain: str, prefix: str = DNS_RECORD_PREFIX) -> str:
    """The TXT record name for a domain; a wildcard is validated on its base domain."""
    return f"{prefix}.{_base_domain(domain)}"


def validation_file_path() -> str:
    """The path, on the domain's web server, of the file that must hold the token."""
    return VALIDATION_FILE_PATH


def validation_file_url(domain: str, port: int = 80, path: str = VALIDATION_FILE_PATH) -> str:
    """The URL the file check fetches, as shown to the customer."""
    return f"http://{_host_header(_ascii_domain(domain), port)}{path}"


def check_domain(
    method: str,
    domain: str,
    token: str,
    *,
    resolver: Resolver,
    http_port: int = 80,
    http_timeout: float = 5.0,
    allowed_networks: Iterable[str] = (),
) -> CheckResult:
    """Run the check for a validation method: ``"dns"`` or ``"file"``."""
    if method == ValidationMethod.DNS:
        return check_dns_txt(domain, token, resolver=resolver)
    if method == ValidationMethod.FILE:
        return check_http_file(
            domain,
            token,
            resolver=resolver,
            port=http_port,
            timeout=http_timeout,
            allowed_networks=allowed_networks,
        )
    expected = " or ".join(ValidationMethod)
    raise ValueError(f"Unknown validation method {method!r}; expected {expected}")


# At most this many names of one request are checked at the same time.
MAX_PARALLEL_CHECKS = 16
# How long past the timeout the caller waits for the checks' own timeouts to fire.
_DEADLINE_GRACE = 0.5
# A check with less time left than this could not finish: it is not started.
_MIN_CHECK_TIME = 0.1


def check_domains(
    method: str,
    domains: Sequence[str],
    token: str,
    *,
    resolver: Resolver,
    http_port: int = 80,
    http_timeout: float = 5.0,
    allowed_networks: Iterable[str] = (),
    max_workers: int = MAX_PARALLEL_CHECKS,
) -> list[CheckResult]:
    """Check every domain at once, in the order given, within one overall deadline.

    However many names there are, the answer comes within the method's timeout (plus a
    moment): checks run in parallel, one started late gets only the time left, and a name not
    answered by the deadline is reported as timed out.
    """
    if method not in tuple(ValidationMethod):
        expected = " or ".join(ValidationMethod)
        raise ValueError(f"Unknown validation method {method!r}; expected {expected}")
    if not domains:
        return []
    allowed_networks = tuple(allowed_networks)
    # A file check's timeout covers its DNS lookups too.
    budget = http_timeout if method == ValidationMethod.FILE else resolver.timeout
    deadline = time.monotonic() + budget

    def check(domain: str) -> CheckResult:
        remaining = deadline - time.monotonic()
        if remaining < min(_MIN_CHECK_TIME, budget / 2):
            return _not_answered(domain, budget)
        return check_domain(
            method,
            domain,
            token,
            resolver=dataclasses.replace(resolver, timeout=min(resolver.timeout, remaining)),
            http_port=http_port,
            http_timeout=min(http_timeout, remaining),
            allowed_networks=allowed_networks,
        )

    executor = concurrent.futures.ThreadPoolExecutor(
        max_workers=max(1, min(max_workers, len(domains))), thread_name_prefix="domain-check"
    )
    try:
        futures = [executor.submit(check, domain) for domain in domains]
        concurrent.futures.wait(futures, timeout=budget + _DEADLINE_GRACE)
    finally:
        # Don't wait for stragglers: each stops at its own timeout, bounded by the deadline.
        executor.shutdown(wait=False, cancel_futures=True)
    return [
        future.result()
        if future.done() and not future.cancelled()
        else _not_answered(domain, budget)
        for domain, future in zip(domains, futures, strict=True)
    ]


def _not_answered(domain: str, budget: float) -> CheckResult:
    return _failed(
        domain,
        Message(
            N_("The check of %(domain)s did not finish within %(budget)s"),
            domain=domain,
            budget=_seconds(budget),
        ),
    )


# --- DNS TXT record --------------------------------------------------------------------------


def check_dns_txt(
    domain: str, token: str, *, resolver: Resolver, prefix: str = DNS_RECORD_PREFIX
) -> CheckResult:
    """Pass when any TXT record at ``_dnsauth.<domain>`` (or ``<prefix>.<domain>``) holds
    exactly the token.

    A record's strings are joined (long values are split into 255-byte strings), and
    surrounding whitespace and quotes are ignored, as customers often paste them.
    """
    if not _base_domain(domain):
        return _failed(domain, Message(N_("No domain was given")))
    name = dns_record_name(domain, prefix)
    try:
        answer = resolver.build().resolve(dns.name.from_text(name), "TXT")
    except dns.resolver.NXDOMAIN:
        return _failed(
            domain,
            Message(N_("No TXT record %(name)s was found (the name does not exist)"), name=name),
        )
    except dns.resolver.NoAnswer:
        return _failed(
            domain, Message(N_("The name %(name)s exists but has no TXT record"), name=name)
        )
    except dns.exception.DNSException as error:
        return _failed(domain, _dns_error_detail(error, name, resolver))

    expected = _clean(token)
    values = [_txt_value(rdata) for rdata in answer]
    if expected in values:
        return CheckResult(
            domain=domain, ok=True, detail=Message(N_("Found the TXT record %(name)s"), name=name)
        )
    found = " and ".join(_quote(value) for value in values[:3])
    if len(values) > 3:
        found += f" and {len(values) - 3} more"
    return _failed(
        domain,
        Message(
            N_("The TXT record %(name)s holds %(found)s, not the token"), name=name, found=found
        ),
    )


def _txt_value(rdata: dns.rdata.Rdata) -> str:
    return _clean(b"".join(rdata.strings).decode("utf-8", errors="replace"))


def _clean(value: str) -> str:
    return value.strip().strip("\"'").strip()


# --- File over HTTP --------------------------------------------------------------------------

# The Baseline Requirements (3.2.2.4.18) let the file method follow redirects made with these
# statuses, to http or https URLs on the authorized ports. This check also insists on the same
# path, so a redirect can't make some other page of the site count as the file.
_REDIRECT_STATUSES = frozenset({301, 302, 307, 308})
_AUTHORIZED_PORTS = {"http": 80, "https": 443}
_MAX_REDIRECTS = 5
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
# IANA special-purpose blocks, not globally reachable, that Python before 3.13 calls global.
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(network)
    for network in ("192.0.0.0/24", "3fff::/20", "5f00::/16", "64:ff9b:1::/48")
)
_HOST_NAME = re.compile(r"[a-z0-9_.-]+")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def is_public_address(address: str | IPAddress) -> bool:
    """Whether an address is public unicast, the only kind the file check connects to.

    Loopback, private, link-local, shared (CGNAT), multicast, reserved, documentation and
    unspecified addresses are not; nor an IPv6 address that leads to such an IPv4 address
    (IPv4-mapped ``::ffff:0:0/96``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``).
    """
    ip = ipaddress.ip_address(address)
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        # The packets end up at the IPv4 address: judge that one.
        return is_public_address(embedded)
    if ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback:
        return False
    if any(ip in network for network in _NOT_GLOBAL):
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return False
    # is_global leaves out private, shared (100.64.0.0/10), documentation, unspecified...
    return ip.is_global


def _parse_networks(networks: Iterable[str | IPNetwork]) -> tuple[IPNetwork, ...]:
    """Networks from CIDR text such as ``127.0.0.0/8``; ``ValueError`` for one that is not."""
    return tuple(ipaddress.ip_network(network, strict=False) for network in networks)


def _may_connect(address: str | IPAddress, allowed_networks: Iterable[IPNetwork] = ()) -> bool:
    """Public addresses, and any in the networks the operator allowed (for test servers)."""
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in allowed_networks) or is_public_address(ip)


def connectable_address(
    host: str, *, resolver: Resolver, allowed_networks: Iterable[str | IPNetwork] = ()
) -> tuple[str | None, str]:
    """The address to connect to for ``host`` under the checks' address policy, or None and why.

    The host's first IPv4 address, else its first IPv6 one, and only if it is public or in
    ``allowed_networks``: the policy of the file check, for every other outgoing connection
    a customer names (deployment webhooks, the check of a deployed certificate).
    """
    address, problem = _resolve_address(host, resolver)
    if address is None:
        return None, problem
    if not _may_connect(address, _parse_networks(allowed_networks)):
        return None, (
            f"{host} resolves to an address that is not public; "
            "the console connects only to public addresses"
        )
    return address, ""


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64_PREFIX:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return ip.sixtofour


@dataclass(frozen=True)
class _Target:
    """Where one request of the file check goes: the first URL, or a redirect's."""

    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> str:
        return _host_header(self.host, self.port, default_port=_AUTHORIZED_PORTS[self.scheme])


def check_http_file(
    domain: str,
    token: str,
    *,
    resolver: Resolver,
    port: int = 80,
    timeout: float = 5.0,
    max_bytes: int = 4096,
    allowed_networks: Iterable[str | IPNetwork] = (),
    path: str = VALIDATION_FILE_PATH,
) -> CheckResult:
    """Pass when ``http://<domain>/.well-known/pki-validation/fileauth.txt`` holds the token.

    ACME's http-01 passes another ``path`` (``/.well-known/acme-challenge/<token>``) and the
    key authorization as the token: then the whole body, less surrounding whitespace, must
    be it (RFC 8555 8.3), under the same address policy, redirect rules and deadline.

    The domain is resolved with the same resolver as the DNS check (A first, then AAAA), so
    the operator's nameservers decide where it points. The check connects only to that
    address, and only if it is public or in ``allowed_networks``. The rule for the body: its
    first non-empty line, without surrounding whitespace, must equal the token (anything after
    that line is ignored). The response must be 2xx and at most ``max_bytes`` long. Redirects
    are followed only as the Baseline Requirements allow, to the same path over http or https
    on port 80 or 443 (or ``port``), each new address checked again. ``timeout`` bounds the
    whole check, lookups and redirects included. The result never quotes the response.
    """
    if domain.strip().startswith("*."):
        # CA/Browser Forum baseline requirements: file-based validation can't prove control
        # of every name under a wildcard.
        return _failed(
            domain,
            Message(
                N_(
                    "A wildcard domain (%(domain)s) can't be validated with a file; publish the "
                    "DNS TXT "
                    "record %(domain2)s instead"
                ),
                domain=domain,
                domain2=dns_record_name(domain),
            ),
        )
    host = _ascii_domain(domain)
    if not host:
        return _failed(domain, Message(N_("No domain was given")))
    fetch = _FileFetch(
        domain=domain,
        token=token,
        url=validation_file_url(host, port, path),
        path=path,
        resolver=resolver,
        port=port,
        timeout=timeout,
        deadline=time.monotonic() + timeout,
        max_bytes=max_bytes,
        allowed_networks=_parse_networks(allowed_networks),
    )
    target = _Target("http", host, port)
    for redirects in range(_MAX_REDIRECTS + 1):
        outcome = fetch.request(target, redirects)
        if isinstance(outcome, CheckResult):
            return outcome
        target = outcome
    return _failed(
        domain,
        Message(
            N_("%(url)s redirected more than %(maximum)s times"),
            url=fetch.url,
            maximum=_MAX_REDIRECTS,
        ),
    )


@dataclass(frozen=True)
class _FileFetch:
    """One file check: what it looks for, and the limits every request of it shares."""

    domain: str
    token: str
    url: str
    path: str
    resolver: Resolver
    port: int
    timeout: float
    deadline: float
    max_bytes: int
    allowed_networks: tuple[IPNetwork, ...]

    def request(self, target: _Target, redirects: int) -> CheckResult | _Target:
        """Ask ``target`` for the file: the result, or where a redirect allowed to go leads."""
        where = self.url if not redirects else f"{self.url} (after {_count(redirects, 'redirect')})"
        address = None
        connection = None
        try:
            address, problem = _resolve_address(target.host, self._resolver_in_time())
            if address is None:
                if redirects:
                    return self._failed(
                        Message(
                            N_("%(url)s redirected to a host that does not resolve"), url=self.url
                        )
                    )
                return self._failed(problem)
            if not _may_connect(address, self.allowed_networks):
                if redirects:
                    return self._failed(
                        Message(
                            N_(
                                "%(url)s redirected to a host whose address is not public; the "
                                "file "
                                "check connects only to public addresses"
                            ),
                            url=self.url,
                        )
                    )
                return self._failed(
                    Message(
                        N_(
                            "%(host)s resolves to an address that is not public; the file check "
                            "connects only to public addresses"
                        ),
                        host=target.host,
                    )
                )
            # Connect to the address just checked, never to the name: resolving it again
            # could give another answer (DNS rebinding).
            connection = _connection(target, address, self._remaining())
            connection.request(
                "GET",
                self.path,
                headers={"Host": target.host_header, "User-Agent": "domain-validation-check"},
            )
            _set_remaining_timeout(connection, self.deadline)
            response = connection.getresponse()
            return self._judge(where, target, response, connection)
        except ConnectionRefusedError:
            return self._failed(
                Message(
                    N_("%(where)s (%(address)s) could not be reached: connection refused"),
                    where=where,
                    address=address,
                )
            )
        except (TimeoutError, _DeadlinePassed):
            return self._failed(
                Message(
                    N_("%(where)s timed out after %(timeout)s"),
                    where=where,
                    timeout=_seconds(self.timeout),
                )
            )
        except http.client.RemoteDisconnected:
            return self._failed(
                Message(N_("%(where)s closed the connection without answering"), where=where)
            )
        except http.client.HTTPException as error:
            return self._failed(
                Message(
                    N_("%(where)s sent an invalid HTTP response (%(error)s)"),
                    where=where,
                    error=type(error).__name__,
                )
            )
        except ssl.SSLError:
            return self._failed(
                Message(
                    N_("%(where)s (%(address)s) failed the TLS handshake"),
                    where=where,
                    address=address,
                )
            )
        except OSError as error:
            reason = (error.strerror or str(error) or type(error).__name__).lower()
            return self._failed(
                Message(
                    N_("%(where)s (%(address)s) could not be reached: %(reason)s"),
                    where=where,
                    address=address,
                    reason=reason,
                )
            )
        finally:
            if connection is not None:
                connection.close()

    def _judge(
        self,
        where: str,
        target: _Target,
        response: http.client.HTTPResponse,
        connection: http.client.HTTPConnection,
    ) -> CheckResult | _Target:
        # Only the status and sizes are reported: the body and headers come from a server
        # the customer chose, and quoting them would hand its content to the customer.
        status = response.status
        if status in _REDIRECT_STATUSES:
            location = response.getheader("Location")
            new_target = (
                _redirect_target(target, location, self.port, self.path) if location else None
            )
            if new_target is None:
                return self._failed(
                    Message(
                        N_(
                            "%(where)s redirected to a URL the file check does not follow: only "
                            "%(path)s over http or https, on port 80 or 443"
                        ),
                        where=where,
                        path=self.path,
                    )
                )
            return new_target
        if 300 <= status < 400:
            return self._failed(
                Message(
                    N_("%(where)s answered %(status)s, a redirect that is not followed"),
                    where=where,
                    status=status,
                )
            )
        if not 200 <= status < 300:
            return self._failed(
                Message(N_("%(where)s answered %(status)s"), where=where, status=status)
            )

        too_large = Message(
            N_("%(where)s is larger than %(max_bytes)s"),
            where=where,
            max_bytes=_size(self.max_bytes),
        )
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            return self._failed(too_large)
        body = _read_limited(response, connection, self.deadline, self.max_bytes + 1)
        if len(body) > self.max_bytes:
            return self._failed(too_large)

        text = body.decode("utf-8", errors="replace")
        # The file method reads the first line; ACME's http-01 the whole body.
        first_line = (
            _first_non_empty_line(text) if self.path == VALIDATION_FILE_PATH else text.strip()
        )
        if first_line == self.token.strip():
            return CheckResult(
                domain=self.domain,
                ok=True,
                detail=Message(N_("Found the token at %(where)s"), where=where),
            )
        if not first_line:
            return self._failed(
                Message(N_("%(where)s is empty instead of holding the token"), where=where)
            )
        return self._failed(
            Message(
                N_("%(where)s does not hold the token: its first line is something else"),
                where=where,
            )
        )

    def _remaining(self) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise _DeadlinePassed
        return remaining

    def _resolver_in_time(self) -> Resolver:
        return dataclasses.replace(
            self.resolver, timeout=min(self.resolver.timeout, self._remaining())
        )

    def _failed(self, detail: str) -> CheckResult:
        return _failed(self.domain, detail)


def _redirect_target(
    current: _Target, location: str, http_port: int, path: str = VALIDATION_FILE_PATH
) -> _Target | None:
    """Where a redirect leads, if the file check may follow it; None if it may not."""
    base = f"{current.scheme}://{current.host_header}{path}"
    try:
        parts = urllib.parse.urlsplit(urllib.parse.urljoin(base, location.strip()))
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _AUTHORIZED_PORTS or parts.path != path or parts.query:
        return None
    port = port or _AUTHORIZED_PORTS[scheme]
    # The configured port stands in for 80 where the operator moved it (the tests do).
    if port not in {_AUTHORIZED_PORTS[scheme], http_port if scheme == "http" else None}:
        return None
    host = _ascii_domain(parts.hostname or "")
    if parts.username is not None or not (_is_ip_address(host) or _HOST_NAME.fullmatch(host)):
        return None
    return _Target(scheme, host, port)


def _connection(target: _Target, address: str, timeout: float) -> http.client.HTTPConnection:
    if target.scheme == "https":
        return _PinnedHTTPSConnection(
            address, target.port, server_name=target.host, timeout=timeout
        )
    return http.client.HTTPConnection(address, target.port, timeout=timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to an address already checked, with the domain as the server name (SNI)."""

    def __init__(self, address: str, port: int, *, server_name: str, timeout: float) -> None:
        tls = ssl.create_default_context()
        # The file proves control of the site, not of a certificate: a site asking for its
        # first certificate may not have a valid one yet (ACME's http-01 doesn't verify either).
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
        super().__init__(address, port, timeout=timeout, context=tls)
        self._tls = tls
        self._server_name = None if _is_ip_address(server_name) else server_name

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._tls.wrap_socket(self.sock, server_hostname=self._server_name)


def _resolve_address(host: str, resolver: Resolver) -> tuple[str | None, str]:
    """The first IPv4 address of the host, else its first IPv6 one, else why there is none."""
    if _is_ip_address(host):
        return host, ""
    dns_resolver = resolver.build()
    for rdtype in ("A", "AAAA"):
        try:
            answer = dns_resolver.resolve(dns.name.from_text(host), rdtype)
        except dns.resolver.NXDOMAIN:
            return None, Message(
                N_("The domain %(host)s does not resolve (the name does not exist)"), host=host
            )
        except dns.resolver.NoAnswer:
            continue
        except dns.exception.DNSException as error:
            return None, _dns_error_detail(error, host, resolver)
        return answer[0].address, ""
    return None, Message(N_("The domain %(host)s has no A or AAAA record"), host=host)


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


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


def _host_header(host: str, port: int, default_port: int = 80) -> str:
    if ":" in host:
        host = f"[{host}]"
    return host if port == default_port else f"{host}:{port}"


def _dns_error_detail(error: dns.exception.DNSException, name: str, resolver: Resolver) -> str:
    if isinstance(error, dns.exception.Timeout):
        return Message(
            N_("The DNS query for %(name)s timed out after %(timeout)s"),
            name=name,
            timeout=_seconds(resolver.timeout),
        )
    if isinstance(error, dns.resolver.NoNameservers):
        return Message(
            N_("No DNS server could answer the query for %(name)s (they failed or refused it)"),
            name=name,
        )
    if isinstance(error, dns.resolver.NoResolverConfiguration):
        return Message(N_("No DNS server is configured to check the domain"))
    if isinstance(error, dns.name.NameTooLong | dns.name.LabelTooLong | dns.name.EmptyLabel):
        return Message(N_("%(name)s is not a valid domain name"), name=name)
    return Message(
        N_("The DNS query for %(name)s failed (%(error)s)"), name=name, error=type(error).__name__
    )


def _failed(domain: str, detail: str) -> CheckResult:
    return CheckResult(domain=domain, ok=False, detail=detail)


def _quote(value: str) -> str:
    return f'"{_printable(value, limit=_QUOTE_LIMIT)}"'


def _printable(value: str, *, limit: int) -> str:
    # What we show back comes from a stranger's DNS zone: keep it short and printable.
    printable = "".join(char if char.isprintable() else "?" for char in value)
    if len(printable) > limit:
        printable = printable[:limit] + "…"
    return printable


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _seconds(value: float) -> str:
    # A check started late gets the time left, e.g. 0.3719 s: a tenth is precise enough.
    return f"{round(value, 1):g} s"


def _size(max_bytes: int) -> str:
    if max_bytes >= 1024 and max_bytes % 1024 == 0:
        return f"{max_bytes // 1024} KB"
    return f"{max_bytes} bytes"
