"""The webhook transport: a signed JSON POST to the customer's URL. No Django import.

The request carries `X-Timestamp` (Unix seconds) and `X-Signature-256: sha256=<hex>`, the
HMAC-SHA256 with the target's secret of the bytes `<timestamp>.<body>`: the timestamp is
signed with the body, so a receiver that checks the signature and refuses a timestamp
more than five minutes away from its clock refuses replays too. A 2xx answer is success;
redirects are not followed. The caller resolves the host under the address policy and
passes the address to connect to; HTTPS is validated against the URL's host name.
"""

import hashlib
import hmac
import http.client
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

SIGNATURE_HEADER = "X-Signature-256"
TIMESTAMP_HEADER = "X-Timestamp"
EVENT = "certificate.deployed"
USER_AGENT = "SSL-Certificates-Console-Deploy/1"


class WebhookFailure(Exception):
    """The webhook did not take the certificate; str() is the reason in plain words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Signature-256 value: "sha256=" and the hex HMAC-SHA256 of "<timestamp>.<body>"."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Url:
    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> "Url":
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise WebhookFailure("the webhook URL is not an http or https URL")
        port = parts.port or (443 if scheme == "https" else 80)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return cls(scheme, parts.hostname, port, path)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address already vetted, validating the certificate for the URL's host."""

    def __init__(self, address: str, port: int, *, server_name: str, timeout: float):
        context = ssl.create_default_context()
        super().__init__(address, port, timeout=timeout, context=context)
        self._context = context
        self._server_name = server_name

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._server_name)


def post(
    *,
    url: str,
    address: str,
    body: bytes,
    secret: str,
    timeout: float,
    max_response: int,
    delivery: str = "",
    now: float | None = None,
) -> int:
    """POST `body` (JSON) to `url` at `address`; the status of a 2xx answer, else
    WebhookFailure. The whole exchange ends within `timeout` seconds."""
    target = Url.parse(url)
    timestamp = int(time.time() if now is None else now)
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }
    if delivery:
        headers["X-Delivery"] = delivery
    deadline = time.monotonic() + timeout
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(
            address, target.port, server_name=target.host, timeout=timeout
        )
    else:
        connection = http.client.HTTPConnection(address, target.port, timeout=timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        _read_limited(response, connection, deadline, max_response)
    except ConnectionRefusedError:
        raise WebhookFailure("connection refused") from None
    except TimeoutError:
        raise WebhookFailure(f"timed out after {timeout:g} s") from None
    except ssl.SSLCertVerificationError as error:
        raise WebhookFailure(
            f"the webhook's TLS certificate is not valid ({error.verify_message})"
        ) from None
    except ssl.SSLError:
        raise WebhookFailure("TLS handshake with the webhook failed") from None
    except http.client.HTTPException:
        raise WebhookFailure("the webhook's answer is not HTTP") from None
    except OSError as error:
        raise WebhookFailure(f"could not connect: {error.strerror or error}") from None
    finally:
        connection.close()
    status = response.status
    if 200 <= status < 300:
        return status
    if 300 <= status < 400:
        raise WebhookFailure(f"HTTP {status} from the webhook (redirects are not followed)")
    raise WebhookFailure(f"HTTP {status} from the webhook")


def _read_limited(response, connection, deadline: float, limit: int) -> bytes:
    # One deadline for the whole answer: a socket timeout alone restarts with every byte.
    chunks: list[bytes] = []
    received = 0
    while received < limit:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        if connection.sock is not None:
            connection.sock.settimeout(remaining)
        chunk = response.read1(limit - received)
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
    return b"".join(chunks)
