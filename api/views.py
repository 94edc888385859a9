"""The console's "API tokens" page: create a token (shown once), list and revoke them."""

from datetime import UTC, datetime, time

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from api import tokens
from api.forms import ApiTokenForm
from api.models import ApiToken
from console.shown_once import ShownOnce, ShownValue, render_page


@require_http_methods(["GET", "POST"])
def tokens_page(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        day = form.cleaned_data["expires_at"]
        try:
            token, secret = tokens.create_api_token(
                owner=request.user,
                label=form.cleaned_data["label"],
                scope=form.cleaned_data["scope"],
                expires_at=datetime.combine(day, time.min, tzinfo=UTC) if day else None,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            form = ApiTokenForm()
    context = {
        "form": form,
        "secret": secret,
        "api_tokens": ApiToken.objects.filter(owner=request.user),
    }
    shown = ShownOnce(_("Your new token"), (ShownValue("token", _("New API token"), secret),))
    return render_page(request, "api/tokens.html", context, shown=shown if secret else None)


@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.filter(owner=request.user), pk=pk)
    try:
        tokens.revoke_api_token(token=token, actor=request.user)
    except ValidationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The token %(label)s was revoked: it works no more.") % {"label": token.label},
        )
    return redirect("api_tokens")
