"""PostgreSQL connections come from a bounded pool per process, however many threads ask.

Without it, every request thread kept a connection of its own open (CONN_MAX_AGE),
and a burst of requests exhausted the server's connections.
"""

import os
import subprocess
import sys
import threading
import time

import psycopg
import pytest
from django.conf import settings
from django.db import close_old_connections, connection, connections
from django.test import Client
from django.urls import reverse

from tests.factories import make_certificates, make_user
from tests.test_settings import ROOT, start_with

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the pool is PostgreSQL's"
)

# More requests at once than the pool has connections.
THREADS = 10
REQUESTS_EACH = 3


def print_database(**environment: str) -> subprocess.CompletedProcess:
    """settings.DATABASES["default"] as a fresh process reads it from `environment`."""
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.DATABASES)"],
        cwd=ROOT,
        env={**os.environ, **environment, "DJANGO_SETTINGS_MODULE": "console.settings"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result


class ConnectionWatcher:
    """Counts, every few milliseconds, the server's connections named as the console's.

    It asks on a connection of its own, outside the pool and named otherwise, so
    it does not count itself.
    """

    def __init__(self) -> None:
        params = connection.settings_dict
        self.connection = psycopg.connect(
            dbname=params["NAME"],
            user=params["USER"],
            password=params["PASSWORD"],
            host=params["HOST"],
            port=params["PORT"],
            application_name="pool-test-watcher",
            autocommit=True,
        )
        self.most = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.watch)

    def count(self) -> int:
        return self.connection.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [settings.DATABASE_APPLICATION_NAME],
        ).fetchone()[0]

    def watch(self) -> None:
        while not self.stop.is_set():
            self.most = max(self.most, self.count())
            time.sleep(0.005)

    def __enter__(self) -> "ConnectionWatcher":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        self.most = max(self.most, self.count())
        self.connection.close()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_hold_at_most_the_pool_size_of_connections():
    bound = settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
    assert bound < THREADS
    customer = make_user("alice")
    make_certificates(customer, 30)
    clients = []
    for _ in range(THREADS):
        client = Client()
        client.force_login(customer)
        clients.append(client)
    # The main thread's connection goes back to the pool too, as at the end of a request.
    connection.close()
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []

    def browse(client: Client) -> None:
        try:
            barrier.wait()
            for _ in range(REQUESTS_EACH):
                statuses.append(client.get(reverse("certificates:overview")).status_code)
                # What the request_finished signal does after a real request (the test
                # client holds it back): the connection goes back to the pool.
                close_old_connections()
        finally:
            connections.close_all()

    with ConnectionWatcher() as watcher:
        threads = [threading.Thread(target=browse, args=(client,)) for client in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert statuses == [200] * (THREADS * REQUESTS_EACH)
    # The requests did run side by side, and the server never held more than the bound.
    assert 1 < watcher.most <= bound


def test_postgresql_uses_a_bounded_pool_with_health_checks():
    result = print_database(
        DATABASE_URL="postgres://certs@db.example.com:5432/certs",
        DATABASE_POOL_MIN_SIZE="2",
        DATABASE_POOL_MAX_SIZE="6",
        DATABASE_POOL_TIMEOUT="3",
    )
    assert "'pool': {'min_size': 2, 'max_size': 6, 'timeout': 3.0}" in result.stdout
    assert "'CONN_MAX_AGE': 0" in result.stdout
    assert "'CONN_HEALTH_CHECKS': True" in result.stdout
    assert "'application_name': 'ssl-certificates-console'" in result.stdout


def test_the_pool_defaults_to_at_most_four_connections_per_process():
    result = print_database(DATABASE_URL="postgres://certs@db.example.com:5432/certs")
    assert "'pool': {'min_size': 1, 'max_size': 4, 'timeout': 10.0}" in result.stdout


def test_sqlite_keeps_its_persistent_connection_and_has_no_pool():
    result = print_database(DATABASE_URL="sqlite:///certs.sqlite3", DATABASE_CONN_MAX_AGE="30")
    assert "'CONN_MAX_AGE': 30" in result.stdout
    assert "pool" not in result.stdout


@pytest.mark.parametrize(
    ("environment", "reason"),
    [
        ({"DATABASE_POOL_MAX_SIZE": "0"}, "DATABASE_POOL_MAX_SIZE: Must be greater than or equal"),
        ({"DATABASE_POOL_MIN_SIZE": "-1"}, "DATABASE_POOL_MIN_SIZE: Must be greater than or equal"),
        ({"DATABASE_POOL_TIMEOUT": "0"}, "DATABASE_POOL_TIMEOUT: Must be greater than 0"),
        (
            {"DATABASE_POOL_MIN_SIZE": "5", "DATABASE_POOL_MAX_SIZE": "4"},
            "DATABASE_POOL_MIN_SIZE must not be larger than DATABASE_POOL_MAX_SIZE",
        ),
    ],
)
def test_a_bad_pool_size_stops_start_up_naming_it(environment, reason):
    result = start_with(**environment)
    assert result.returncode != 0
    assert reason in result.stderr.strip().splitlines()[-1]
