"""ACME end to end: new order to certificate, with a worker validating dns-01 against a
loopback DNS server, as a client sees it through the ACME endpoints."""

import json
import statistics
import threading
import time

import josepy as jose
from acme import jws as acme_jws
from acme.messages import ExternalAccountBinding
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client, override_settings
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from acme_server import challenges
from acme_server.models import AcmeChallenge
from acme_server.services import accounts
from bench.report import Row, ms, p95, verdict

# A worker polls the queue this often when it is empty (db_worker's --interval).
WORKER_INTERVAL = 0.1
ORDERS_PER_SECOND_TARGET = 1.0
QUEUE_WAIT_TARGET = 1.0


class _Signer:
    def __init__(self, client: Client, base: str) -> None:
        self.client = client
        self.base = base
        self.key = jose.JWKEC(key=ec.generate_private_key(ec.SECP256R1()))
        self.kid: str | None = None
        self.nonce = client.head(base + "new-nonce")["Replay-Nonce"]

    def post(self, url: str, payload: dict | None = None):
        body = b"" if payload is None else json.dumps(payload).encode()
        extra = {"kid": self.kid} if self.kid else {}
        signed = acme_jws.JWS.sign(
            body, key=self.key, alg=jose.ES256, nonce=jose.b64decode(self.nonce), url=url, **extra
        )
        response = self.client.post(
            url.removeprefix("http://testserver"),
            signed.json_dumps(),
            content_type="application/jose+json",
        )
        self.nonce = response["Replay-Nonce"]
        if response.status_code >= 400:
            raise RuntimeError(f"{url}: {response.content[:300]!r}")
        return response


def _csr(name: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
        .sign(key, hashes.SHA256())
    )
    return jose.b64encode(request.public_bytes(serialization.Encoding.DER)).decode()


def _order(signer: _Signer, dns_server, name: str) -> None:
    base = "http://testserver" + signer.base
    order = signer.post(base + "new-order", {"identifiers": [{"type": "dns", "value": name}]})
    order_url = order["Location"]
    authorization = signer.post(order.json()["authorizations"][0]).json()
    offered = next(c for c in authorization["challenges"] if c["type"] == "dns-01")
    challenge = AcmeChallenge.objects.get(token=offered["token"])
    dns_server.set_txt(f"_acme-challenge.{name}", challenges.dns_txt_value(challenge))
    signer.post(offered["url"], {})
    deadline = time.monotonic() + 30
    while signer.post(order_url).json()["status"] == "pending":
        if time.monotonic() > deadline:
            raise RuntimeError(f"the challenge of {name} was not validated within 30 s")
        time.sleep(0.02)
    finalized = signer.post(order.json()["finalize"], {"csr": _csr(name)}).json()
    signer.post(finalized["certificate"])


def measure(*, orders: int) -> list[Row]:
    from tests.dns_server import LoopbackDNSServer

    customer, _ = get_user_model().objects.get_or_create(username="acme-bench")
    credential, hmac_key = accounts.create_credential(owner=customer, label="bench")
    worker = Worker(
        queue_names=["default"],
        interval=WORKER_INTERVAL,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="bench",
        excluded_queue_names=[],
    )

    def work() -> None:
        try:
            worker.run()
        finally:
            connections.close_all()

    with (
        LoopbackDNSServer() as dns_server,
        override_settings(
            ACME_DEFAULT_BRAND="digicert",
            ACME_ORDERS_PER_HOUR=orders + 1,
            DV_NAMESERVERS=["127.0.0.1"],
            DV_DNS_PORT=dns_server.port,
            PKI_BASE_URL="http://pki.example.com",
            TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}},
        ),
    ):
        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        try:
            signer = _Signer(Client(), "/acme/digicert/")
            eab = ExternalAccountBinding.from_data(
                account_public_key=signer.key.public_key(),
                kid=credential.kid,
                hmac_key=hmac_key,
                directory={"newAccount": "http://testserver/acme/digicert/new-account"},
            )
            signer.kid = signer.post(
                "http://testserver/acme/digicert/new-account", {"externalAccountBinding": eab}
            )["Location"]
            started = time.perf_counter()
            for n in range(orders):
                _order(signer, dns_server, f"host{n}.bench.example.com")
            elapsed = time.perf_counter() - started
        finally:
            worker.running = False
            thread.join(timeout=30)
    # The scratch database holds only this run's tasks.
    waits = [
        (result.started_at - result.enqueued_at).total_seconds()
        for result in DBTaskResult.objects.filter(started_at__isnull=False)
    ]
    rate = orders / elapsed
    wait = p95(waits)
    return [
        Row(
            "acme",
            f"orders end to end (new order to certificate, dns-01), {orders} in a row",
            f"{rate:.1f}/s",
            f">= {ORDERS_PER_SECOND_TARGET:g}/s",
            verdict(rate >= ORDERS_PER_SECOND_TARGET),
        ),
        Row(
            "acme",
            f"challenge wait in the queue, p95 (median {ms(statistics.median(waits))})",
            ms(wait),
            f"<= {ms(QUEUE_WAIT_TARGET)}",
            verdict(wait <= QUEUE_WAIT_TARGET),
        ),
    ]
