"""The console's ACME page: the customer's credentials and accounts, and how to set up
clients. Thin views onto acme_server.services and acme_server.selectors."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
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
        title = f'New credential "{credential.label}"' if credential.label else "New credential"
        shown = ShownOnce(
            title,
            (
                ShownValue("kid", "Key identifier (kid)", credential.kid),
                ShownValue("hmac", "HMAC key", hmac_key),
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
        messages.success(request, f"The credential {credential} was revoked.")
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
        messages.success(request, "The ACME account was deactivated.")
    return redirect("acme_credentials")


@require_POST
def account_expiry_warnings(request: HttpRequest, pk: int) -> HttpResponse:
    account = selectors.accounts_of(request.user).filter(pk=pk).first()
    if account is None:
        raise Http404
    enabled = request.POST.get("enabled") == "on"
    accounts.set_expiry_warnings(account=account, enabled=enabled, actor=request.user)
    state = "on" if enabled else "off"
    messages.success(request, f"Expiry warnings for the certificates of {account} are {state}.")
    return redirect("acme_credentials")
