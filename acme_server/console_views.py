"""The console's ACME page: the customer's credentials and accounts, and how to set up
clients. Thin views onto acme_server.services and acme_server.selectors."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from acme_server import selectors
from acme_server.forms import CredentialForm
from acme_server.services import accounts
from certificates.errors import ActionNotAllowed


@require_http_methods(["GET", "POST"])
def credentials(request: HttpRequest) -> HttpResponse:
    form = CredentialForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        credential, hmac_key = accounts.create_credential(
            owner=request.user, label=form.cleaned_data["label"], expires_at=form.expires_at
        )
        created = {"kid": credential.kid, "hmac": hmac_key, "label": credential.label}
        form = CredentialForm()
    response = render(
        request,
        "acme_server/credentials.html",
        {
            "form": form,
            "created": created,
            "credentials": selectors.credentials_of(request.user),
            "accounts": selectors.accounts_of(request.user),
            "directory_url": selectors.directory_url(),
        },
    )
    if created:
        # The HMAC key is on this page only: never cached, never shown again.
        add_never_cache_headers(response)
    return response


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
