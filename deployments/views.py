"""The Deployment pages: targets (add, edit, delete), Deploy, a job's live progress."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certificates.errors import ActionNotAllowed
from console.shown_once import ShownOnce, ShownValue
from console.shown_once import render_page as render_shown_once
from deployments import selectors, services
from deployments.forms import DeployForm, TargetForm
from deployments.models import Target

STEPS_FRAGMENT = "steps"


@require_GET
def deployments_page(request: HttpRequest) -> HttpResponse:
    context = {
        "targets": selectors.targets(request.user),
        "jobs": selectors.recent_jobs(request.user),
    }
    return render(request, "deployments/index.html", context)


@sensitive_post_parameters("webhook_secret", "ssh_private_key")
@require_http_methods(["GET", "POST"])
def add_target(request: HttpRequest) -> HttpResponse:
    return _target_form(request, None)


@sensitive_post_parameters("webhook_secret", "ssh_private_key")
@require_http_methods(["GET", "POST"])
def edit_target(request: HttpRequest, pk: int) -> HttpResponse:
    return _target_form(request, selectors.target(request.user, pk))


def _target_form(request: HttpRequest, target: Target | None) -> HttpResponse:
    form = TargetForm(request.POST or None, instance=target, owner=request.user)
    shown = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_target(
                owner=request.user, target=target, cleaned=form.cleaned_data, actor=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            shown = _shown(saved)
            if shown is None:
                messages.success(
                    request, _("The target %(name)s was saved.") % {"name": saved.target}
                )
                return redirect("deployments:index")
            target = saved.target
            form = TargetForm(instance=target, owner=request.user)
    context = {"form": form, "target": target}
    return render_shown_once(request, "deployments/target.html", context, shown=shown)


def _shown(saved: services.SavedTarget) -> ShownOnce | None:
    if saved.generated_secret:
        return ShownOnce(
            _("The webhook's signing secret"),
            (ShownValue("secret", _("Signing secret"), saved.generated_secret),),
        )
    if saved.public_key:
        return ShownOnce(
            _("The console's SSH key for this target"),
            (ShownValue("public-key", _("Public key for authorized_keys"), saved.public_key),),
        )
    return None


@require_POST
def delete_target(request: HttpRequest, pk: int) -> HttpResponse:
    target = selectors.target(request.user, pk)
    try:
        services.delete_target(target=target, actor=request.user)
    except ActionNotAllowed as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The target %(name)s was deleted.") % {"name": target})
    return redirect("deployments:index")


@require_POST
def forget_host_key(request: HttpRequest, pk: int) -> HttpResponse:
    target = selectors.target(request.user, pk)
    services.forget_host_key(target=target, actor=request.user)
    messages.success(
        request, _("The host key was forgotten: the next deployment pins the key it finds.")
    )
    return redirect(target)


@require_GET
def kubernetes_manifest(request: HttpRequest, pk: int, certificate_pk: int) -> HttpResponse:
    target = selectors.target(request.user, pk)
    certificate = selectors.certificate(request.user, certificate_pk)
    try:
        manifest = services.secret_manifest(
            target=target, certificate=certificate, actor=request.user
        )
    except ActionNotAllowed as error:
        messages.error(request, error.message)
        return redirect(certificate)
    response = HttpResponse(manifest, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{target.kubernetes_secret_name}-{certificate.pk}.yaml"'
    )
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def deploy(request: HttpRequest) -> HttpResponse:
    """Choose targets for certificates (the details page's and the overview's Deploy), or
    certificates for a target: one job, however often the form is sent."""
    source = request.POST if request.method == "POST" else request.GET
    chosen = _ids(source.getlist("certificates"))
    if not chosen:
        messages.info(request, _("Choose the certificates to deploy, then press Deploy."))
        return redirect("certificates:overview")
    certificates = selectors.certificates(request.user, chosen)
    chosen_targets = [selectors.target(request.user, pk) for pk in _ids(source.getlist("targets"))]
    form = DeployForm(
        request.POST if request.method == "POST" else None,
        owner=request.user,
        initial={"certificates": certificates, "targets": chosen_targets},
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = services.deploy(
                owner=request.user,
                certificates=form.cleaned_data["certificates"],
                targets=form.cleaned_data["targets"],
                actor=request.user,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except ActionNotAllowed as error:
            form.add_error(None, error)
        else:
            if not job.repeated:
                messages.success(request, _("The deployment started."))
            return redirect(job)
    targets = selectors.targets(request.user)
    context = {
        "form": form,
        "certificates": certificates,
        "deployable_targets": [t for t in targets if t.is_deployable],
        "kubernetes_targets": [t for t in targets if t.kind == Target.Kind.KUBERNETES],
        "rows": [(c, services.deploy_refusal(c)) for c in certificates],
    }
    return render(request, "deployments/deploy.html", context)


def _ids(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        try:
            ids.append(int(value))
        except ValueError:
            continue
    return ids


@require_GET
def job(request: HttpRequest, pk: int) -> HttpResponse:
    """A job's steps; the page polls its steps fragment while any is queued or running."""
    deployment_job = selectors.job(request.user, pk)
    steps = selectors.job_steps(deployment_job)
    context = {
        "job": deployment_job,
        "steps": steps,
        "pending": any(step.is_pending for step in steps),
    }
    # The page's own polling asks for its steps; any other HTMX request gets the page.
    partial = (
        request.htmx
        and not request.htmx.history_restore_request
        and request.htmx.target == STEPS_FRAGMENT
    )
    name = f"deployments/job.html#{STEPS_FRAGMENT}" if partial else "deployments/job.html"
    response = render(request, name, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@require_POST
def retry_step(request: HttpRequest, pk: int) -> HttpResponse:
    step = selectors.step(request.user, pk)
    try:
        services.retry_step(step=step, actor=request.user)
    except ActionNotAllowed as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The step was queued again."))
    return redirect(step.job)
