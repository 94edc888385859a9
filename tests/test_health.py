"""/healthz and /readyz: what load balancers ask, without sign-in and without details."""

import pytest
from django.db import OperationalError
from django.db.migrations.recorder import MigrationRecorder

pytestmark = pytest.mark.django_db


def plain(response, status: int, body: bytes) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == body
    # Neither cached by a proxy nor a session made for every probe.
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies


def test_healthz_says_ok_to_anyone(client):
    plain(client.get("/healthz"), 200, b"ok")


def test_readyz_says_ready_when_the_database_is_migrated(client):
    plain(client.get("/readyz"), 200, b"ready")


def test_readyz_is_503_while_a_migration_is_not_applied(client):
    MigrationRecorder.Migration.objects.filter(app="certificates").order_by("-id").first().delete()
    plain(client.get("/readyz"), 503, b"not ready")


def test_readyz_is_503_without_details_when_the_database_fails(client, monkeypatch):
    def database_down(self):
        raise OperationalError("could not connect to server at db.internal:5432")

    monkeypatch.setattr(MigrationRecorder, "applied_migrations", database_down)
    plain(client.get("/readyz"), 503, b"not ready")


@pytest.mark.parametrize("url", ["/healthz", "/readyz"])
def test_the_probes_take_get_and_head_only(client, url):
    assert client.head(url).status_code == 200
    assert client.post(url).status_code == 405
    assert client.put(url).status_code == 405
