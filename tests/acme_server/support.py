"""What the ACME tests share: a worker thread on the task queue, certbot, credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from django.db import connection, connections
from django_tasks_db.management.commands.db_worker import Worker

from acme_server.services import accounts
from tests.factories import make_brand, make_product
from tests.queues import DATABASE_QUEUE

CERTBOT = str(Path(sys.executable).with_name("certbot"))
# Certbot's own network timeout is 45 s; the whole run gets this long at most.
CERTBOT_TIMEOUT = 180


class WorkerThread:
    """One db_worker, as `manage.py db_worker` runs it, on a thread of the test process."""

    def __init__(self, worker_id: str = "test-worker") -> None:
        self.worker = Worker(
            queue_names=["default"],
            interval=0.05,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        self.thread = threading.Thread(target=self._run, name=worker_id, daemon=True)

    def _run(self) -> None:
        try:
            self.worker.run()
        finally:
            connections.close_all()

    def start(self) -> WorkerThread:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.worker.running = False
        self.thread.join(timeout=30)


@pytest.fixture
def acme_worker(transactional_db, settings) -> Iterator[WorkerThread | None]:
    """A real db_worker beside live_server on PostgreSQL. SQLite's shared in-memory test
    database cannot take a worker's exclusive polling transactions beside the server's
    writes (it fails at once instead of waiting), so there the task runs when it is queued,
    through the Tasks API's immediate backend: the same task, in the request's thread."""
    if connection.vendor == "sqlite":
        yield None
        return
    settings.TASKS = DATABASE_QUEUE
    worker = WorkerThread().start()
    yield worker
    worker.stop()


@pytest.fixture
def acme_brand(db, settings):
    brand = make_brand("DigiCert")
    make_product(brand)
    settings.ACME_DEFAULT_BRAND = brand.slug
    # Certificates name their CRL and OCSP URLs under this: a public name, as pkilint wants.
    settings.PKI_BASE_URL = "http://pki.example.com"
    return brand


@dataclass
class Credential:
    kid: str
    hmac: str


def make_credential(owner, label: str = "laptop") -> Credential:
    credential, hmac_key = accounts.create_credential(owner=owner, label=label)
    return Credential(kid=credential.kid, hmac=hmac_key)


@dataclass
class Certbot:
    """certbot with its own directories, talking to `server`."""

    root: Path
    server: str

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        command = [
            CERTBOT,
            *args,
            "--non-interactive",
            "--server",
            self.server,
            "--config-dir",
            str(self.root / "config"),
            "--work-dir",
            str(self.root / "work"),
            "--logs-dir",
            str(self.root / "logs"),
        ]
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=CERTBOT_TIMEOUT,
            env={**os.environ, **(env or {})},
            check=False,
        )

    def live(self, name: str, file: str = "fullchain.pem") -> Path:
        return self.root / "config" / "live" / name / file


def explain(result: subprocess.CompletedProcess, certbot: Certbot) -> str:
    """certbot's output and the end of its log, for a failed assertion."""
    log = certbot.root / "logs" / "letsencrypt.log"
    tail = log.read_text()[-6000:] if log.exists() else ""
    return f"{result.stdout}\n{result.stderr}\n{tail}"


def dumps(value: object) -> str:
    return json.dumps(value)


def assert_passes_the_issuance_checks(live_dir: Path, certificate) -> None:
    """What tests/test_issuance_proof.py checks of console certificates: openssl verify up
    to the brand's root, and no pkilint error for a DV certificate."""
    from cryptography.hazmat.primitives import serialization

    from certificates.authority import root_of
    from tests.tls_proof import CertificateType, lint_serverauth

    root = live_dir / "test-root.pem"
    root.write_text(root_of(certificate.authority).certificate_pem)
    result = subprocess.run(
        ["openssl", "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", str(root)]
        + ["-untrusted", str(live_dir / "chain.pem"), str(live_dir / "cert.pem")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    leaf = x509.load_pem_x509_certificate((live_dir / "cert.pem").read_bytes())
    findings = lint_serverauth(
        leaf.public_bytes(serialization.Encoding.DER), CertificateType.DV_FINAL_CERTIFICATE
    )
    assert [str(finding) for finding in findings if finding.is_error] == [], findings
