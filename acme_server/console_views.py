"""The console's ACME page: the customer's credentials and accounts, and how to set up
clients. Thin views onto acme_server.services and acme_server.selectors."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from acme_server import selectors
from acme_server.forms import CredentialForm
from acme_server.services import accounts
from certificates.errors import ActionNotAllowed
from console.shown_once import ShownOnce, ShownValue, render_page


@require_http_methods(["GET", "POST"])
def credentials(request: HttpRequest) -> HttpResponse:
    form = CredentialForm(request.POST or None)
    shown = None
    if request.method == "POST" and form.is_valid():
        credential, hmac_key = accounts.create_credential(
            owner=request.user, label=form.cleaned_data["label"], expires_at=form.expires_at
        )
        if credential.label:
            title = _('New credential "%(label)s"') % {"label": credential.label}
        else:
            title = _("New credential")
        shown = ShownOnce(
            title,
            (
                ShownValue("kid", _("Key identifier (kid)"), credential.kid),
                ShownValue("hmac", _("HMAC key"), hmac_key),
            ),
        )
        form = CredentialForm()
    context = {
        "form": form,
        "credentials": selectors.credentials_of(request.user),
        "accounts": selectors.accounts_of(request.user),
        "directory_url": selectors.directory_url(),
    }
    return render_page(request, "acme_server/credentials.html", context, shown=shown)


@require_POST
def revoke_credential(request: HttpRequest, pk: int) -> HttpResponse:
    credential = selectors.credentials_of(request.user).filter(pk=pk).first()
    if credential is None:
        raise Http404
    try:
        accounts.revoke_credential(credential=credential, actor=request.user)
    except ActionNotAllowed as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("The credential %(credential)s was revoked.") % {"credential": credential}
        )
    return redirect("acme_credentials")


@require_POST
def deactivate_account(request: HttpRequest, pk: int) -> HttpResponse:
    account = selectors.accounts_of(request.user).filter(pk=pk).first()
    if account is None:
        raise Http404
    try:
        accounts.deactivate_account(account=account, actor=request.user)
    except ActionNotAllowed as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The ACME account was deactivated."))
    return redirect("acme_credentials")


@require_POST
def account_expiry_warnings(request: HttpRequest, pk: int) -> HttpResponse:
    account = selectors.accounts_of(request.user).filter(pk=pk).first()
    if account is None:
        raise Http404
    enabled = request.POST.get("enabled") == "on"
    accounts.set_expiry_warnings(account=account, enabled=enabled, actor=request.user)
    if enabled:
        message = _("Expiry warnings for the certificates of %(account)s are on.")
    else:
        message = _("Expiry warnings for the certificates of %(account)s are off.")
    messages.success(request, message % {"account": account})
    return redirect("acme_credentials")
