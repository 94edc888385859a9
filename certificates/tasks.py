"""Background work of the console, on Django's Tasks API (the django-tasks backport).

Scheduled by whatever runs the batch jobs (cron, a timer) with .enqueue(); the database
backend keeps the queue, and `manage.py db_worker` runs it.
"""

from io import StringIO

from django.core.management import call_command
from django_tasks import task


@task()
def refresh_ocsp_answers() -> str:
    """The refresh_ocsp_answers command, as a task: its one-line summary is the result."""
    output = StringIO()
    call_command("refresh_ocsp_answers", stdout=output)
    return output.getvalue().strip()
