"""The TLS check after a deployment and the webhook's bounds, without Django."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from deployments import webhook
from deployments.verification import Endpoint, VerificationFailed, check_presented, fingerprint
from tests.deployments.fixtures import (
    deploy_settings,
    issued,
    receiver,
    tls_server,
    webhook_target,
)

# The fixtures this module uses, imported from tests/deployments/fixtures.py.
__all__ = ["deploy_settings", "issued", "receiver", "tls_server", "webhook_target"]


def endpoint(port: int) -> Endpoint:
    return Endpoint("127.0.0.1", port, "shop.example.com", f"shop.example.com:{port}")


class SilentServer:
    """Accepts connections and then says nothing, or nonsense."""

    def __init__(self, answer: bytes = b"") -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.answer = answer
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            if self.answer:
                connection.sendall(self.answer)
                connection.close()
            else:
                self.held.append(connection)

    def close(self) -> None:
        self.socket.close()
        for connection in self.held:
            connection.close()


def test_the_presented_certificate_passes(tls_server, rsa_leaf):
    expected = fingerprint(rsa_leaf.cert.public_bytes(Encoding.DER))
    check_presented(
        endpoint(tls_server.port), expected_fingerprint=expected, attempts=1, interval=0, timeout=1
    )


def test_another_certificate_fails_after_every_attempt(tls_server):
    sleeps = []
    with pytest.raises(VerificationFailed, match=r"presents a different certificate \(SHA-256 "):
        check_presented(
            endpoint(tls_server.port),
            expected_fingerprint="AB:CD",
            attempts=3,
            interval=0.5,
            timeout=1,
            sleep=sleeps.append,
        )
    assert sleeps == [0.5, 0.5]


def test_a_closed_port_is_connection_refused(closed_port):
    with pytest.raises(VerificationFailed) as failure:
        check_presented(
            endpoint(closed_port), expected_fingerprint="AB", attempts=1, interval=0, timeout=1
        )
    assert failure.value.reason == f"connection refused on shop.example.com:{closed_port}"


def test_a_server_that_speaks_no_tls_fails_the_handshake():
    server = SilentServer(answer=b"HTTP/1.1 400 Bad Request\r\n\r\n")
    try:
        with pytest.raises(VerificationFailed, match="TLS handshake failed with"):
            check_presented(
                endpoint(server.port), expected_fingerprint="AB", attempts=1, interval=0, timeout=1
            )
    finally:
        server.close()


def test_a_silent_server_times_out():
    server = SilentServer()
    try:
        with pytest.raises(VerificationFailed, match="timed out after 0.3 s"):
            check_presented(
                endpoint(server.port),
                expected_fingerprint="AB",
                attempts=1,
                interval=0,
                timeout=0.3,
            )
    finally:
        server.close()


def test_a_slow_webhook_times_out_within_the_bound():
    class Slow(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(20):  # trickles: each byte within the socket timeout
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(webhook.WebhookFailure, match="timed out after 0.5 s"):
            webhook.post(
                url=f"http://hooks.example.com:{server.server_address[1]}/",
                address="127.0.0.1",
                body=b"{}",
                secret="s" * 20,
                timeout=0.5,
                max_response=1_000_000,
            )
    finally:
        server.shutdown()
        server.server_close()
    assert time.monotonic() - started < 1.5


def test_the_signature_is_the_hmac_of_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(b"secret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert webhook.signature("secret", 1700000000, b"{}") == f"sha256={expected}"


def test_an_https_webhook_with_an_untrusted_certificate_is_refused(tls_server):
    with pytest.raises(webhook.WebhookFailure, match="the webhook's TLS certificate is not valid"):
        webhook.post(
            url=f"https://www.example.com:{tls_server.port}/hook",
            address="127.0.0.1",
            body=b"{}",
            secret="s" * 20,
            timeout=1,
            max_response=1000,
        )
