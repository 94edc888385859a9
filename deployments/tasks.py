"""The deployment worker's task, on the Tasks API (queued by deployments.services)."""

from django_tasks import task

from deployments.services import run_step


@task()
def run_deployment_step(step_id: int) -> str | None:
    """Deploy one certificate to one target and check the server presents it."""
    return run_step(step_id=step_id)
