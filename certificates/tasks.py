"""Background work of the console, on Django's Tasks API (as the ACME server's).

`manage.py db_worker` runs it; `make run` starts one worker beside the web server.
"""

from django.contrib.auth import get_user_model
from django_tasks import task

from certificates.services import run_verification


@task()
def verify_application(certificate_id: int, actor_id: int | None) -> None:
    """Verify, as the customer pressed it: check every domain, issue a DV certificate."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    run_verification(certificate_id=certificate_id, actor=actor)
