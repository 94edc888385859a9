"""The two task backends the tests run on (see the `_tasks_run_when_queued` fixture)."""

# Queued work runs at once, in the thread that queued it: the same task a worker runs.
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# The queue in the database, as in production, for tests of workers and of the queue.
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_queued_checks() -> None:
    """What a worker does with the console's queued Verify checks: run each once."""
    from django_tasks_db.models import DBTaskResult

    from certificates.tasks import verify_application

    for result in DBTaskResult.objects.ready():
        verify_application.call(*result.args_kwargs["args"])
        result.delete()
