"""The check after a deployment: does the server now present the deployed certificate?

No Django import: the caller resolves the "verify at" host under the address policy and
passes the address, the SNI name and the timings. TLS is spoken without validating trust:
the certificate presented is compared by its SHA-256 fingerprint with the one deployed.
"""

import hashlib
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass


class VerificationFailed(Exception):
    """The server does not (yet) present the deployed certificate; str() is the reason."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def fingerprint(der: bytes) -> str:
    """The SHA-256 fingerprint as the console shows it: upper-case hex pairs with colons."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def short_fingerprint(value: str) -> str:
    return value.lower()[:11] + "..."


@dataclass(frozen=True)
class Endpoint:
    address: str  # an IP literal the address policy allowed
    port: int
    server_name: str  # the SNI name; an IP address sends none
    shown_as: str  # host:port as the customer wrote it, for the reasons


def presented_certificate(endpoint: Endpoint, *, timeout: float) -> bytes:
    """The DER of the leaf certificate the endpoint presents for its SNI name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    server_name = None if _is_ip(endpoint.server_name) else endpoint.server_name or None
    try:
        with (
            socket.create_connection((endpoint.address, endpoint.port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=server_name) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except ConnectionRefusedError:
        raise VerificationFailed(f"connection refused on {endpoint.shown_as}") from None
    except TimeoutError:
        raise VerificationFailed(
            f"timed out after {timeout:g} s connecting to {endpoint.shown_as}"
        ) from None
    except ssl.SSLError:
        raise VerificationFailed(f"TLS handshake failed with {endpoint.shown_as}") from None
    except OSError as error:
        raise VerificationFailed(
            f"could not connect to {endpoint.shown_as}: {error.strerror or error}"
        ) from None
    if not der:
        raise VerificationFailed(f"{endpoint.shown_as} presented no certificate")
    return der


def check_presented(
    endpoint: Endpoint,
    *,
    expected_fingerprint: str,
    attempts: int,
    interval: float,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Ask up to `attempts` times, `interval` seconds apart (a reload may take a moment);
    raise VerificationFailed with the last reason when the certificate never shows."""
    expected = expected_fingerprint.upper()
    reason = ""
    for attempt in range(attempts):
        if attempt:
            sleep(interval)
        try:
            presented = fingerprint(presented_certificate(endpoint, timeout=timeout))
        except VerificationFailed as failure:
            reason = failure.reason
            continue
        if presented == expected:
            return
        reason = (
            f"the server presents a different certificate (SHA-256 {short_fingerprint(presented)})"
        )
    raise VerificationFailed(reason)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
