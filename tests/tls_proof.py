"""Independent proof that an issued certificate works: pkilint's CA/Browser Forum lint and a
real TLS handshake on loopback.

Neither check shares code with the console: pkilint decodes the DER with its own ASN.1
definitions, and the handshake is OpenSSL's, through Python's ``ssl``.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from pkilint import finding_filter, loader
from pkilint.cabf import serverauth
from pkilint.cabf.serverauth.serverauth_constants import CertificateType
from pkilint.pkix import certificate as pkix_certificate
from pkilint.validation import ValidationFindingSeverity

__all__ = ["CertificateType", "Finding", "TLSServer", "handshake", "lint_serverauth"]

# What the server sends once the handshake is done, so the client knows it got that far.
GREETING = b"hello over TLS\n"


# --- pkilint ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    severity: ValidationFindingSeverity
    code: str
    message: str
    validator: str
    path: str

    @property
    def is_error(self) -> bool:
        # FATAL is the more severe of the two: the linter could not even finish.
        return self.severity <= ValidationFindingSeverity.ERROR

    def __str__(self) -> str:
        message = f": {self.message}" if self.message else ""
        return f"{self.severity.name} {self.code}{message} ({self.validator} @ {self.path})"


def lint_serverauth(certificate_der: bytes, certificate_type: CertificateType) -> list[Finding]:
    """pkilint's TLS Baseline Requirements lint of one certificate, as `lint_cabf_serverauth_cert
    lint -t <type>` runs it: the same validators and the same default finding filters."""
    document = loader.RFC5280CertificateDocumentLoader().load_der_document(
        certificate_der, "certificate"
    )
    validator = pkix_certificate.create_pkix_certificate_validator_container(
        serverauth.create_decoding_validators(),
        serverauth.create_validators(certificate_type),
    )
    results, _ = finding_filter.filter_results(
        serverauth.create_serverauth_finding_filters(certificate_type),
        validator.validate(document.root),
    )
    return [
        Finding(
            severity=description.finding.severity,
            code=description.finding.code,
            message=description.message or "",
            validator=str(result.validator),
            path=result.node.path,
        )
        for result in results
        for description in result.finding_descriptions
    ]


# --- TLS ----------------------------------------------------------------------------------


class TLSServer:
    """A TLS server on 127.0.0.1 (ephemeral port) that greets each client and hangs up.

    It serves the certificate chain and key files exactly as Nginx would be given them.
    """

    def __init__(self, certificate_chain_file: Path, key_file: Path) -> None:
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(certificate_chain_file, key_file)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="loopback-tls", daemon=True)

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def __enter__(self) -> TLSServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        # Wake the blocking accept() so the thread sees the flag.
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            connection, _ = self._listener.accept()
            with connection:
                if self._stopping.is_set():
                    return
                connection.settimeout(5)
                # A client that rejects the certificate aborts the handshake: that is the
                # client's test to assert, not a server failure.
                with (
                    contextlib.suppress(ssl.SSLError, OSError),
                    self._context.wrap_socket(connection, server_side=True) as tls,
                ):
                    tls.sendall(GREETING)


@dataclass(frozen=True)
class Handshake:
    version: str
    greeting: bytes
    peer_names: list[str]


def handshake(port: int, *, root_file: Path, server_hostname: str) -> Handshake:
    """Connect as a client that trusts only `root_file` and checks the hostname.

    Raises ssl.SSLCertVerificationError when the chain or the name doesn't verify.
    """
    context = ssl.create_default_context(cafile=str(root_file))
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    # Python 3.13 turns strict X.509 checking on by default; hold 3.11 to the same standard.
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as connection,
        context.wrap_socket(connection, server_hostname=server_hostname) as tls,
    ):
        peer = tls.getpeercert()
        return Handshake(
            version=tls.version() or "",
            greeting=_read_all(tls),
            peer_names=[value for kind, value in peer.get("subjectAltName", ()) if kind == "DNS"],
        )


def _read_all(tls: ssl.SSLSocket) -> bytes:
    chunks = []
    while chunk := tls.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks)
