"""The scratch database the benchmarks run in: made before Django starts, dropped after.

Django reads DATABASE_URL once, when the settings load, so the scratch
database is created and the variable pointed at it before django.setup().
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import dj_database_url


@contextmanager
def scratch_database(*, keep: bool = False) -> Iterator[str]:
    """Point DATABASE_URL at a new, empty database for the duration; yield its URL."""
    original = os.environ.get("DATABASE_URL", "")
    if original and not original.startswith("sqlite"):
        manager = _postgresql_scratch(original, keep=keep)
    else:
        manager = _sqlite_scratch(keep=keep)
    with manager as url:
        os.environ["DATABASE_URL"] = url
        try:
            yield url
        finally:
            if original:
                os.environ["DATABASE_URL"] = original
            else:
                del os.environ["DATABASE_URL"]


@contextmanager
def _sqlite_scratch(*, keep: bool) -> Iterator[str]:
    directory = tempfile.mkdtemp(prefix="console-bench-")
    try:
        yield f"sqlite:///{directory}/bench.sqlite3"
    finally:
        if keep:
            print(f"Kept the scratch database in {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def _postgresql_scratch(url: str, *, keep: bool) -> Iterator[str]:
    import psycopg  # only needed, and only installed for sure, with PostgreSQL

    settings = dj_database_url.parse(url)
    name = f"{settings['NAME']}_bench"
    parts = urlsplit(url)
    scratch_url = urlunsplit(parts._replace(path=f"/{name}"))

    def admin(sql: str) -> None:
        # Any other database on the server will do to create or drop this one.
        connection = psycopg.connect(
            host=settings["HOST"] or None,
            port=settings["PORT"] or None,
            user=settings["USER"] or None,
            password=settings["PASSWORD"] or None,
            dbname=settings["NAME"],
            autocommit=True,
        )
        with connection:
            connection.execute(sql)

    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    try:
        yield scratch_url
    finally:
        if keep:
            print(f"Kept the scratch database {name}")
        else:
            from django.db import connections

            connections.close_all()
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
