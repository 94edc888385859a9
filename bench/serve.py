"""The stack's own speed: gunicorn on a loopback port, driven by a small bounded load generator.

gunicorn runs as in production (DEBUG off, whitenoise serving collected static
files, one sync worker per core) on the scratch database. The generator keeps
a fixed number of requests in flight for a fixed time per page, each on a new
connection (gunicorn's sync workers close every one), and records each
request's latency; nothing leaves 127.0.0.1. The sign-in page, which reads no
table, is the baseline the console's own pages are held against.
"""

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from bench.data import certificate_rows, customer_mix, insert_certificates, make_users
from bench.report import Row, step, verdict
from bench.revocation import Revocations, ocsp_requests
from certificates.lifecycle import CertificateStatus, create_certificates
from certificates.models import Certificate
from certificates.pki.parsing import certificate_to_pem, describe_certificate
from certificates.services.issuance import fields_read_from

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# Far from the overview benchmark's numbers, so every domain stays unique.
NUMBERS_FROM = 50_000_000


@dataclass(frozen=True)
class Target:
    name: str
    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Load:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: int) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, -(-p * len(ordered) // 100) - 1)] if ordered else 0.0


def build(*, certificates: int, brands: list[int], revocations: Revocations, now: datetime) -> dict:
    """A customer with `certificates` certificates, one of them really signed by the CA."""
    [owner] = make_users("serve", 1)
    numbers = range(NUMBERS_FROM, NUMBERS_FROM + certificates - 1)
    insert_certificates(
        certificate_rows(
            owners=[owner],
            brands=brands,
            numbers=numbers,
            status_and_end=customer_mix(now=now, seed=18),
            now=now,
        )
    )
    leaf = revocations.good_leaf
    issuer = revocations.issuer
    [real] = create_certificates(
        [
            Certificate(
                owner_id=owner,
                brand_id=issuer.brand_id,
                authority=issuer,
                status=CertificateStatus.ISSUED,
                validation_type="DV",
                domain_scope="single",
                certificate_pem=certificate_to_pem(leaf),
                chain_pem=issuer.certificate_pem,
                **fields_read_from(describe_certificate(leaf)),
            )
        ]
    )
    return {"owner": owner, "certificate": real.pk, "size": certificates}


def session_cookie(user_id: int) -> str:
    client = Client()
    client.force_login(get_user_model().objects.get(pk=user_id))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def server_environment(database_url: str) -> dict[str, str]:
    """Production settings on loopback: DEBUG off, plain http, the bench's keys and database."""
    return dict(
        os.environ,
        DATABASE_URL=database_url,
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS=HOST,
        LOG_LEVEL="WARNING",
    )


def start_gunicorn(database_url: str, workers: int, log: Path) -> tuple[subprocess.Popen, int]:
    env = server_environment(database_url)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    port = free_port()
    with open(log, "w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "console.wsgi", "--bind", f"{HOST}:{port}"]
            + ["--workers", str(workers), "--log-level", "warning"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped: {log.read_text()}")
        try:
            if request(port, Target("probe", "GET", "/healthz"))[0] == 200:
                return process, port
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("gunicorn did not answer within 30 s")


def request(port: int, target: Target) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request(
            target.method, target.path, body=target.body or None, headers=dict(target.headers)
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def drive(port: int, target: Target, *, concurrency: int, seconds: float) -> Load:
    """Keep `concurrency` requests in flight for `seconds`; every answer but a 200 is an error."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def run() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                status, _ = request(port, target)
            except OSError:
                status = 0
            took = time.perf_counter() - started
            with lock:
                latencies.append(took)
                errors += status != 200

    started = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Load(len(latencies), errors, time.perf_counter() - started, latencies)


def measure(
    world: dict, revocations: Revocations, *, database_url: str, seconds: float
) -> list[Row]:
    workers = os.cpu_count() or 1
    concurrency = 2 * workers
    cookie = (("Cookie", session_cookie(world["owner"])),)
    ocsp_body = ocsp_requests(revocations)[0]
    targets = [
        Target("sign-in page", "GET", "/accounts/login/"),
        Target(
            f"overview, signed in ({world['size']:,} certificates)",
            "GET",
            "/certificates/",
            headers=cookie,
        ),
        Target(
            "certificate details", "GET", f"/certificates/{world['certificate']}/", headers=cookie
        ),
        Target("static file (console.css)", "GET", "/static/css/console.css"),
        Target(
            "OCSP (good serial, answer signed ahead)",
            "POST",
            f"/pki/{revocations.issuer.slug}/ocsp",
            ocsp_body,
            (("Content-Type", "application/ocsp-request"),),
        ),
    ]
    loads = {}
    with tempfile.TemporaryDirectory(prefix="console-serve-") as directory:
        log = Path(directory) / "gunicorn.log"
        with step(f"start gunicorn ({workers} workers)"):
            process, port = start_gunicorn(database_url, workers, log)
        try:
            for target in targets:
                status, body = request(port, target)
                if status != 200:
                    raise RuntimeError(f"{target.name}: HTTP {status}: {body[:300]!r}")
                with step(f"serve: {target.name}, {concurrency} at once for {seconds:g}s"):
                    loads[target.name] = drive(
                        port, target, concurrency=concurrency, seconds=seconds
                    )
        finally:
            process.terminate()
            process.wait(timeout=30)
    rows = []
    for target in targets:
        load = loads[target.name]
        rows.append(
            Row(
                "serve",
                f"{target.name}: requests/s, p50 / p99",
                f"{load.per_second:.0f}/s, {load.percentile(50) * 1000:.1f} / "
                f"{load.percentile(99) * 1000:.1f} ms"
                + (f", {load.errors} errors" if load.errors else ""),
            )
        )
    baseline = loads[targets[0].name].per_second
    for target in targets[1:3]:
        share = loads[target.name].per_second / baseline
        rows.append(
            Row(
                "serve",
                f"{target.name} / sign-in page, requests/s",
                f"{share:.0%}",
                ">= 50%",
                verdict(share >= 0.5),
            )
        )
    static = loads[targets[3].name].per_second
    share = loads[targets[4].name].per_second / static
    rows.append(
        Row(
            "serve",
            "OCSP / static file, requests/s",
            f"{share:.0%}",
            ">= 50%",
            verdict(share >= 0.5),
        )
    )
    return rows
