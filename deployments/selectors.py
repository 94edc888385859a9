"""The Deployment pages' reads, each within the customer's own rows."""

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from certificates.models import Certificate
from deployments.models import DeploymentJob, DeploymentStep, Target

RECENT_JOBS = 20
PENDING = [DeploymentStep.Status.QUEUED, DeploymentStep.Status.RUNNING]


def targets(owner) -> QuerySet[Target]:
    return Target.objects.filter(owner=owner)


def target(owner, pk: int) -> Target:
    """One of `owner`'s targets; another customer's is a 404."""
    return get_object_or_404(targets(owner), pk=pk)


def recent_jobs(owner, limit: int = RECENT_JOBS) -> list[DeploymentJob]:
    """The latest jobs, each with its steps counted per outcome."""
    return list(
        DeploymentJob.objects.filter(owner=owner).annotate(
            step_count=Count("steps"),
            pending_count=Count("steps", filter=Q(steps__status__in=PENDING)),
            failed_count=Count("steps", filter=Q(steps__status=DeploymentStep.Status.FAILED)),
            succeeded_count=Count("steps", filter=Q(steps__status=DeploymentStep.Status.SUCCEEDED)),
        )[:limit]
    )


def job(owner, pk: int) -> DeploymentJob:
    return get_object_or_404(DeploymentJob.objects.filter(owner=owner), pk=pk)


def job_steps(job: DeploymentJob) -> list[DeploymentStep]:
    return list(job.steps.select_related("certificate", "target"))


def step(owner, pk: int) -> DeploymentStep:
    return get_object_or_404(DeploymentStep.objects.filter(job__owner=owner), pk=pk)


def certificates(owner, ids: list[int]) -> list[Certificate]:
    """`owner`'s certificates of these ids; a 404 when any is not theirs (or deleted)."""
    unique = set(ids)
    found = list(Certificate.objects.owned_by(owner).filter(pk__in=unique))
    if not unique or len(found) != len(unique):
        from django.http import Http404

        raise Http404("No such certificate.")
    return found


def certificate(owner, pk: int) -> Certificate:
    return get_object_or_404(Certificate.objects.owned_by(owner), pk=pk)
