"""Background work of the ACME server, on Django's Tasks API (the django-tasks backport).

The database backend (django-tasks-db) keeps the queue in the console's database, so
workers on several hosts share it; `manage.py db_worker` runs one.
"""

from django.conf import settings
from django_tasks import task

from acme_server import challenges
from acme_server.models import AcmeChallenge
from acme_server.services.orders import record_validation
from acme_server.states import ChallengeStatus


@task()
def validate_challenge(challenge_id: int) -> str:
    """Check one challenge over the network and record the verdict.

    A challenge no longer processing (validated by a worker before, or its order gone) is
    left alone; the network check runs outside any transaction.
    """
    challenge = (
        AcmeChallenge.objects.select_related("authorization__order__account")
        .filter(pk=challenge_id)
        .first()
    )
    if challenge is None or challenge.status != ChallengeStatus.PROCESSING:
        return "skipped"
    result = challenges.check(
        challenge,
        nameservers=tuple(settings.DV_NAMESERVERS),
        dns_port=settings.DV_DNS_PORT,
        http_port=settings.DV_HTTP_PORT,
        timeout=settings.DV_CHECK_TIMEOUT,
        allowed_networks=tuple(settings.DV_ALLOWED_NETWORKS),
    )
    error = None if result.ok else challenges.error_for(challenge, result.detail)
    record_validation(challenge=challenge, ok=result.ok, error=error)
    return "valid" if result.ok else "invalid"
