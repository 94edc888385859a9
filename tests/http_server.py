"""A real HTTP server on loopback for tests, serving the responses the test sets per path.

Use the ``http_server`` fixture (registered in ``tests/conftest.py``)::

    def test_something(http_server):
        http_server.serve("/.well-known/pki-validation/fileauth.txt", body=token)
        http_server.serve("/moved", status=301, headers={"Location": "http://elsewhere/"})
        http_server.serve("/slow", body="late", delay=2)
        http_server.serve("/big", body="x" * 10_000, headers={"Transfer-Encoding": "chunked"})
        port = http_server.port

Paths not set answer 404. With ``Transfer-Encoding: chunked`` in ``headers`` the body is sent
in chunks without a Content-Length. ``http_server.requests`` records what was asked (path and Host
header). The ``closed_port`` fixture gives a loopback port nothing listens on.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.loopback_server import LoopbackServer


@dataclass(frozen=True)
class Response:
    body: bytes = b""
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0


@dataclass(frozen=True)
class Request:
    path: str
    host: str | None


class LoopbackHTTPServer(LoopbackServer):
    """An HTTP/1.1 server on 127.0.0.1 with an ephemeral port, served from a background thread."""

    def __init__(self) -> None:
        self._responses: dict[str, Response] = {}
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        # Set at shutdown so delayed responses stop waiting and teardown stays quick.
        self.stopping = threading.Event()
        super().__init__(_HTTPServer, _Handler, thread_name="loopback-http")

    def stop(self) -> None:
        self.stopping.set()
        super().stop()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    # --- responses ---

    def serve(
        self,
        path: str,
        body: str | bytes = b"",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        delay: float = 0,
    ) -> None:
        """Answer GETs of ``path`` (query string ignored); ``delay`` seconds before answering."""
        if isinstance(body, str):
            body = body.encode()
        with self._lock:
            self._responses[path] = Response(body, status, dict(headers or {}), delay)

    def forget(self, path: str) -> None:
        with self._lock:
            self._responses.pop(path, None)

    def response_for(self, path: str, host: str | None) -> Response:
        path = path.split("?", 1)[0]
        with self._lock:
            self.requests.append(Request(path, host))
            return self._responses.get(path, Response(b"Not Found", 404))


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackHTTPServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        owner = self.server.owner
        response = owner.response_for(self.path, self.headers.get("Host"))
        if response.delay and owner.stopping.wait(response.delay):
            return
        headers = {"Content-Type": "text/plain; charset=utf-8", "Connection": "close"}
        headers.update(response.headers)
        chunked = headers.get("Transfer-Encoding", "").lower() == "chunked"
        if not chunked:
            headers["Content-Length"] = str(len(response.body))
        self.send_response(response.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if chunked:
            self._write_chunked(response.body)
        else:
            self.wfile.write(response.body)

    def _write_chunked(self, body: bytes, size: int = 1024) -> None:
        # No Content-Length: the client only learns the size by reading.
        for start in range(0, len(body), size):
            chunk = body[start : start + size]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean


def unused_port() -> int:
    """A loopback TCP port that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def http_server() -> Iterator[LoopbackHTTPServer]:
    with LoopbackHTTPServer() as server:
        yield server


@pytest.fixture
def closed_port() -> int:
    return unused_port()
