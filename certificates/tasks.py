"""Background work of the console, on Django's Tasks API (as the ACME server's).

`manage.py db_worker` runs it; `make run` starts one worker beside the web server. The
batch jobs' scheduler (cron, a timer) queues the periodic ones with .enqueue().
"""

from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_tasks import task

from certificates.services import run_verification


@task()
def verify_application(certificate_id: int, actor_id: int | None) -> None:
    """Verify, as the customer pressed it: check every domain, issue a DV certificate."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    run_verification(certificate_id=certificate_id, actor=actor)


@task()
def refresh_ocsp_answers() -> str:
    """The refresh_ocsp_answers command, as a task: its one-line summary is the result."""
    output = StringIO()
    call_command("refresh_ocsp_answers", stdout=output)
    return output.getvalue().strip()


@task()
def publish_crl_shards() -> str:
    """The publish_crl_shards command, as a task: its one-line summary is the result."""
    output = StringIO()
    call_command("publish_crl_shards", stdout=output)
    return output.getvalue().strip()
