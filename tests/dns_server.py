"""A real DNS server on loopback for tests, answering from records the test sets.

Use the ``dns_server`` fixture (registered in ``tests/conftest.py``)::

    def test_something(dns_server):
        dns_server.set_txt("_dnsauth.shop.example.com", token)
        dns_server.set_a("shop.example.com", "127.0.0.1")
        host, port = dns_server.address  # point the resolver under test here

Unknown names get NXDOMAIN; a known name without records of the asked type gets an empty
NOERROR answer (dnspython's NoAnswer). ``dns_server.answering = False`` drops every query,
so the client times out; ``fail(name)`` answers SERVFAIL for one name. ``set_caa`` serves CAA
records. Records can be changed at any time, also while a query runs.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from tests.loopback_server import LoopbackServer

TTL = 60


@dataclass(frozen=True)
class Query:
    """A query the server received, for tests that care what was asked."""

    name: str
    rdtype: str


class LoopbackDNSServer(LoopbackServer):
    """A UDP DNS server on 127.0.0.1 with an ephemeral port, served from a background thread."""

    def __init__(self) -> None:
        self._records: dict[tuple[dns.name.Name, str], list[str]] = {}
        self._failing: set[dns.name.Name] = set()
        self._lock = threading.Lock()
        self.answering = True
        self.queries: list[Query] = []
        super().__init__(_UDPServer, _Handler, thread_name="loopback-dns")

    # --- records ---

    def set_txt(self, name: str, *values: str) -> None:
        """One TXT record per value (replacing the name's TXT records); no value removes them."""
        self.set_record(name, "TXT", *(_txt_rdata(value) for value in values))

    def set_a(self, name: str, *addresses: str) -> None:
        self.set_record(name, "A", *addresses)

    def set_aaaa(self, name: str, *addresses: str) -> None:
        self.set_record(name, "AAAA", *addresses)

    def set_caa(self, name: str, *records: str) -> None:
        """CAA records as zone-file text, e.g. ``'0 issue "letsencrypt.org"'``."""
        self.set_record(name, "CAA", *records)

    def fail(self, name: str) -> None:
        """Answer every query for `name` with SERVFAIL, as a broken authoritative server does."""
        with self._lock:
            self._failing.add(dns.name.from_text(name))

    def set_record(self, name: str, rdtype: str, *rdatas: str) -> None:
        """Set a name's records of a type from zone-file text, e.g. ``'"part one" "part two"'``."""
        rdtype = rdtype.upper()
        # Parse now so a typo fails in the test, not silently inside the server thread.
        if rdatas:
            dns.rrset.from_text(name, TTL, "IN", rdtype, *rdatas)
        with self._lock:
            key = (dns.name.from_text(name), rdtype)
            if rdatas:
                self._records[key] = list(rdatas)
            else:
                self._records.pop(key, None)

    def remove(self, name: str) -> None:
        """Forget every record of a name: it gets NXDOMAIN again."""
        owner = dns.name.from_text(name)
        with self._lock:
            for key in [key for key in self._records if key[0] == owner]:
                del self._records[key]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._failing.clear()
        self.answering = True

    # --- answering, called from the server thread ---

    def answer(self, wire: bytes) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if not self.answering or not query.question:
            return None
        question = query.question[0]
        rdtype = dns.rdatatype.to_text(question.rdtype)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        with self._lock:
            self.queries.append(Query(question.name.to_text(omit_final_dot=True), rdtype))
            name_exists = any(owner == question.name for owner, _ in self._records)
            rdatas = list(self._records.get((question.name, rdtype), ()))
            failing = question.name in self._failing
        if failing:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif not name_exists:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif rdatas and question.rdclass == dns.rdataclass.IN:
            response.answer.append(dns.rrset.from_text(question.name, TTL, "IN", rdtype, *rdatas))
        return response.to_wire()


class _UDPServer(socketserver.ThreadingUDPServer):
    daemon_threads = True
    owner: LoopbackDNSServer


class _Handler(socketserver.BaseRequestHandler):
    server: _UDPServer

    def handle(self) -> None:
        wire, sock = self.request
        reply = self.server.owner.answer(wire)
        if reply is not None:
            sock.sendto(reply, self.client_address)


def _txt_rdata(value: str) -> str:
    """Zone-file text for one TXT record, split into the 255-byte strings DNS allows."""
    data = value.encode()
    chunks = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
    return " ".join(_quoted(chunk) for chunk in chunks)


def _quoted(chunk: bytes) -> str:
    parts = []
    for byte in chunk:
        char = chr(byte)
        if char in '"\\':
            parts.append("\\" + char)
        elif 32 <= byte < 127:
            parts.append(char)
        else:
            parts.append(f"\\{byte:03d}")  # zone-file escape: a decimal byte value
    return '"' + "".join(parts) + '"'


@pytest.fixture
def dns_server() -> Iterator[LoopbackDNSServer]:
    with LoopbackDNSServer() as server:
        yield server


_shared: list[LoopbackDNSServer] = []


@pytest.fixture(scope="session")
def shared_dns_server() -> Iterator[LoopbackDNSServer]:
    """One server for the whole run, which every test's resolver settings point at (see
    tests/conftest.py): issuance looks CAA up for every name, and no test may reach the
    real DNS. Its records are cleared after each test."""
    with LoopbackDNSServer() as server:
        _shared.append(server)
        yield server
        _shared.remove(server)


def shared_server() -> LoopbackDNSServer:
    """The shared server, for helpers that publish records without a fixture of their own."""
    return _shared[-1]
