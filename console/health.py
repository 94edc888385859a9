"""Probes for load balancers and orchestrators: plain text, no sign-in, no details.

/healthz says the process answers; /readyz that it can serve: the database
answers and every migration this code has is applied (a host deployed ahead of
its migrations stays out of rotation). Neither says why not: the logs do.
"""

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


def plain(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@login_not_required
@require_safe
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return plain("ok")


@login_not_required
@require_safe
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    try:
        pending = unapplied_migrations()
    except DatabaseError as error:
        logger.warning("Not ready: the database does not answer: %s", error)
        return plain("not ready", status=503)
    if pending:
        logger.warning("Not ready: %d migrations are not applied.", pending)
        return plain("not ready", status=503)
    return plain("ready")


def unapplied_migrations() -> int:
    """How many of this code's migrations the database lacks (a query, so it tests the database)."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
