"""The validation task on the database queue: each challenge is checked once, however
many times it is answered and however many workers take from the queue. PostgreSQL only,
where answers and workers really run at the same time."""

import threading
import time

import pytest
from django.db import connection, connections
from django_tasks_db.models import DBTaskResult

from acme_server import challenges
from acme_server.models import AcmeAccount, AcmeChallenge, AcmeOrder
from acme_server.protocol import AcmeProblem
from acme_server.services import orders
from acme_server.states import ChallengeStatus, OrderStatus
from tests.acme_server.support import WorkerThread, acme_brand
from tests.queues import DATABASE_QUEUE

__all__ = ["acme_brand"]

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="races need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

N = 6


@pytest.fixture(autouse=True)
def _database_queue(settings):
    settings.TASKS = DATABASE_QUEUE


def test_two_workers_validate_a_challenge_answered_many_times_once(
    customer, acme_brand, dns_server, settings
):
    settings.DV_NAMESERVERS = ["127.0.0.1"]
    settings.DV_DNS_PORT = dns_server.port
    account = AcmeAccount.objects.create(
        owner=customer, brand=acme_brand, jwk=_jwk(), thumbprint="t"
    )
    order = orders.create_order(
        account=account, payload={"identifiers": [{"type": "dns", "value": "shop.example.com"}]}
    )
    challenge = AcmeChallenge.objects.get(authorization__order=order, type="dns-01")
    dns_server.set_txt("_acme-challenge.shop.example.com", challenges.dns_txt_value(challenge))
    barrier = threading.Barrier(N)

    def answer() -> None:
        try:
            barrier.wait()
            orders.answer_challenge(challenge=AcmeChallenge.objects.get(pk=challenge.pk))
        finally:
            connections.close_all()

    answers = [threading.Thread(target=answer) for _ in range(N)]
    for thread in answers:
        thread.start()
    for thread in answers:
        thread.join()
    workers = [WorkerThread(f"worker-{n}").start() for n in range(2)]
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            challenge.refresh_from_db()
            if challenge.status != ChallengeStatus.PROCESSING:
                break
            time.sleep(0.05)
    finally:
        for worker in workers:
            worker.stop()

    assert challenge.status == ChallengeStatus.VALID
    order.refresh_from_db()
    assert order.status == OrderStatus.READY
    assert DBTaskResult.objects.count() == 1
    asked = [q for q in dns_server.queries if q.name.startswith("_acme-challenge.shop")]
    assert len(asked) == 1


def _jwk() -> dict:
    import josepy as jose
    from cryptography.hazmat.primitives.asymmetric import ec

    return jose.JWKEC(key=ec.generate_private_key(ec.SECP256R1())).public_key().to_partial_json()


def test_parallel_new_orders_never_pass_the_pending_authorization_limit_together(
    customer, acme_brand, settings
):
    settings.ACME_MAX_PENDING_AUTHORIZATIONS = 2
    account = AcmeAccount.objects.create(
        owner=customer, brand=acme_brand, jwk=_jwk(), thumbprint="p"
    )
    barrier = threading.Barrier(N)
    outcomes: list[str] = []

    def new_order(n: int) -> None:
        payload = {"identifiers": [{"type": "dns", "value": f"n{n}.example.com"}]}
        try:
            barrier.wait()
            orders.create_order(account=account, payload=payload)
            outcomes.append("made")
        except AcmeProblem as problem:
            outcomes.append(problem.typ)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=new_order, args=(n,)) for n in range(N)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["made"] * 2 + ["rateLimited"] * (N - 2)
    assert AcmeOrder.objects.filter(account=account).count() == 2
