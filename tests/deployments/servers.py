"""Loopback servers for the deployment journeys: TLS servers that present a certificate
(the "verify at" address: one the test sets, one read from files at each handshake), and a
webhook receiver that checks the console's signature and timestamp and, on success, makes
the TLS server present the certificate it received."""

import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# The receiver's rule: a timestamp further than this from its clock is a replay.
TOLERANCE = 300


class TLSServer:
    """Presents one certificate on a loopback port; `present` swaps it for another."""

    def __init__(self, directory: Path, chain_pem: str, key_pem: str) -> None:
        self.directory = directory
        self._context = self._context_for(chain_pem, key_pem)
        self._listen()

    def _listen(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(8)
        self._socket.settimeout(0.2)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._socket.getsockname()[1]

    def _context_for(self, chain_pem: str, key_pem: str) -> ssl.SSLContext:
        stamp = time.monotonic_ns()
        chain, key = self.directory / f"chain-{stamp}.pem", self.directory / f"key-{stamp}.pem"
        chain.write_text(chain_pem)
        key.write_text(key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain, key)
        return context

    def present(self, chain_pem: str, key_pem: str) -> None:
        self._context = self._context_for(chain_pem, key_pem)

    def _handshake_context(self) -> ssl.SSLContext | None:
        return self._context

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connection.settimeout(2)
            context = self._handshake_context()
            if context is None:
                connection.close()
                continue
            try:
                with context.wrap_socket(connection, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass
            finally:
                connection.close()

    def stop(self) -> None:
        self._stopped.set()
        self._socket.close()
        self._thread.join(timeout=2)


class FilesTLSServer(TLSServer):
    """Presents the chain and key files as they are at each handshake: a server whose
    reload command (run over SSH) copied them to where it reads them. While they are
    missing or do not load, it ends each connection without a handshake."""

    def __init__(self, chain_file: Path, key_file: Path) -> None:
        self.chain_file, self.key_file = chain_file, key_file
        self._listen()

    def _handshake_context(self) -> ssl.SSLContext | None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(self.chain_file, self.key_file)
        except (OSError, ssl.SSLError):
            return None
        return context


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    verdict: str


@dataclass
class WebhookReceiver:
    """Checks X-Signature-256 over "<timestamp>.<body>" and X-Timestamp, as the README's
    receiver does; then (unless `stale`) has the TLS server present what it received."""

    secret: str
    tls: TLSServer
    status: int = 200
    stale: bool = False
    deliveries: list[Delivery] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                verdict = receiver.judge(self.headers, body)
                receiver.deliveries.append(Delivery(dict(self.headers), body, verdict))
                if verdict != "ok":
                    self.send_response(401)
                    self.end_headers()
                    return
                if receiver.status == 200 and not receiver.stale:
                    payload = json.loads(body)
                    receiver.tls.present(
                        payload["certificate"] + payload["chain"], payload["private_key"]
                    )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/certificates"

    def judge(self, headers, body: bytes) -> str:
        timestamp = headers.get("X-Timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE:
            return "stale timestamp"
        expected = hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(headers.get("X-Signature-256", ""), f"sha256={expected}"):
            return "bad signature"
        return "ok"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
