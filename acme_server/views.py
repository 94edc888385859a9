"""The ACME server's endpoints (RFC 8555, RFC 9773): a thin door onto the ACME services.

Every view answers JSON, or a problem document (application/problem+json) with the RFC
8555 error type; every answer carries a fresh Replay-Nonce and the directory's Link.
"""

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import josepy as jose
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from acme_server import selectors
from acme_server.models import AcmeAccount, AcmeAuthorization, AcmeChallenge, AcmeOrder
from acme_server.protocol import (
    AcmeProblem,
    SignedRequest,
    malformed,
    new_nonce,
    read_inner_jws,
    read_signed_request,
)
from acme_server.services import accounts, orders, revocation
from acme_server.states import OrderStatus
from certificates.models import Brand

PEM_CHAIN = "application/pem-certificate-chain"


def acme_view(view: Callable) -> Callable:
    """Resolve the brand, map problems to problem documents, add the nonce and Link."""

    @csrf_exempt
    @login_not_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, brand: str | None = None, **kwargs: Any):
        found = selectors.acme_brand(brand)
        try:
            if found is None:
                raise AcmeProblem("malformed", "There is no ACME directory here.", status=404)
            response = view(request, found, *args, **kwargs)
        except AcmeProblem as problem:
            response = JsonResponse(
                problem.as_json(), status=problem.status, content_type="application/problem+json"
            )
            for name, value in problem.headers.items():
                response[name] = value
        if found is not None:
            response["Replay-Nonce"] = new_nonce()
            index = request.build_absolute_uri(_url("directory", found))
            links = [response["Link"]] if response.has_header("Link") else []
            response["Link"] = ", ".join([*links, f'<{index}>;rel="index"'])
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


def _url(name: str, brand: Brand, **kwargs: str) -> str:
    return reverse(f"acme:{name}", kwargs={"brand": brand.slug, **kwargs})


def _absolute(request: HttpRequest, name: str, brand: Brand, **kwargs: str) -> str:
    return request.build_absolute_uri(_url(name, brand, **kwargs))


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _signed(request: HttpRequest, brand: Brand, key: str = "kid") -> SignedRequest:
    if request.method != "POST":
        raise AcmeProblem("malformed", "Use POST (or POST-as-GET) here.", status=405)
    signed = read_signed_request(request, brand_slug=brand.slug, key=key)
    return signed


# --- Directory and nonces --------------------------------------------------------------------


def _get_or_head(request: HttpRequest) -> None:
    if request.method not in ("GET", "HEAD"):
        raise AcmeProblem("malformed", "Use GET here.", status=405)


@acme_view
def directory(request: HttpRequest, brand: Brand) -> HttpResponse:
    _get_or_head(request)
    return JsonResponse(
        {
            "newNonce": _absolute(request, "new_nonce", brand),
            "newAccount": _absolute(request, "new_account", brand),
            "newOrder": _absolute(request, "new_order", brand),
            "revokeCert": _absolute(request, "revoke_cert", brand),
            "keyChange": _absolute(request, "key_change", brand),
            "renewalInfo": _absolute(request, "renewal_info_base", brand),
            "meta": {
                "externalAccountRequired": True,
                "website": settings.CONSOLE_BASE_URL,
            },
        }
    )


@acme_view
def new_nonce_view(request: HttpRequest, brand: Brand) -> HttpResponse:
    # RFC 8555 7.2: 200 to HEAD, 204 to GET; the decorator adds the nonce.
    _get_or_head(request)
    return HttpResponse(status=200 if request.method == "HEAD" else 204)


# --- Accounts --------------------------------------------------------------------------------


def _account_json(request: HttpRequest, account: AcmeAccount) -> dict:
    return {
        "status": account.status,
        "contact": account.contact,
        "orders": _absolute(request, "account_orders", account.brand, account_id=account.public_id),
    }


def _account_response(request: HttpRequest, account: AcmeAccount, status: int = 200):
    response = JsonResponse(_account_json(request, account), status=status)
    response["Location"] = _absolute(
        request, "account", account.brand, account_id=account.public_id
    )
    return response


@acme_view
def new_account(request: HttpRequest, brand: Brand) -> HttpResponse:
    signed = _signed(request, brand, key="jwk")
    account, created = accounts.register_account(
        brand=brand, jwk=signed.jwk, payload=signed.json(), url=signed.url
    )
    if not account.is_valid:
        raise AcmeProblem("unauthorized", "This account is deactivated.", status=401)
    return _account_response(request, account, status=201 if created else 200)


def _own_account(signed: SignedRequest, account_id: str) -> AcmeAccount:
    account = signed.account
    if account is None or account.public_id != account_id:
        raise AcmeProblem("unauthorized", "This is not the signing key's account.", status=401)
    return account


@acme_view
def account(request: HttpRequest, brand: Brand, account_id: str) -> HttpResponse:
    signed = _signed(request, brand)
    own = _own_account(signed, account_id)
    if not signed.is_post_as_get:
        own = accounts.update_account(account=own, payload=signed.json())
    return _account_response(request, own)


@acme_view
def account_orders(request: HttpRequest, brand: Brand, account_id: str) -> HttpResponse:
    signed = _signed(request, brand)
    own = _own_account(signed, account_id)
    ids = selectors.orders_of(own).values_list("public_id", flat=True)[:1000]
    return JsonResponse(
        {"orders": [_absolute(request, "order", brand, order_id=order_id) for order_id in ids]}
    )


@acme_view
def key_change(request: HttpRequest, brand: Brand) -> HttpResponse:
    signed = _signed(request, brand)
    payload, new_key = read_inner_jws(signed.json(), url=signed.url)
    try:
        inner = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise malformed("The inner JWS payload is not JSON.") from None
    if not isinstance(inner, dict):
        raise malformed("The inner JWS payload is not a JSON object.")
    kid = _absolute(request, "account", brand, account_id=signed.account.public_id)
    changed = accounts.change_key(account=signed.account, new_key=new_key, inner=inner, kid=kid)
    return _account_response(request, changed)


# --- Orders, authorizations, challenges -------------------------------------------------------


def _order_json(request: HttpRequest, order: AcmeOrder, brand: Brand) -> dict:
    data: dict[str, Any] = {
        "status": order.status,
        "expires": _time(order.expires_at),
        "identifiers": [{"type": "dns", "value": name} for name in order.identifiers],
        "authorizations": [
            _absolute(request, "authorization", brand, authz_id=public_id)
            for public_id in order.authorizations.values_list("public_id", flat=True)
        ],
        "finalize": _absolute(request, "finalize", brand, order_id=order.public_id),
    }
    if order.status == OrderStatus.VALID and order.certificate_id:
        data["certificate"] = _absolute(request, "certificate", brand, order_id=order.public_id)
    if order.error:
        data["error"] = order.error
    return data


def _order_response(request: HttpRequest, order: AcmeOrder, brand: Brand, status: int = 200):
    response = JsonResponse(_order_json(request, order, brand), status=status)
    response["Location"] = _absolute(request, "order", brand, order_id=order.public_id)
    return response


@acme_view
def new_order(request: HttpRequest, brand: Brand) -> HttpResponse:
    signed = _signed(request, brand)
    order = orders.create_order(account=signed.account, payload=signed.json())
    return _order_response(request, order, brand, status=201)


def _found(value: Any, what: str) -> Any:
    if value is None:
        raise AcmeProblem("malformed", f"No such {what} of this account.", status=404)
    return value


@acme_view
def order(request: HttpRequest, brand: Brand, order_id: str) -> HttpResponse:
    signed = _signed(request, brand)
    found = _found(selectors.order_of(signed.account, order_id), "order")
    return _order_response(request, found, brand)


@acme_view
def finalize(request: HttpRequest, brand: Brand, order_id: str) -> HttpResponse:
    signed = _signed(request, brand)
    found = _found(selectors.order_of(signed.account, order_id), "order")
    csr = signed.json().get("csr")
    if not isinstance(csr, str) or len(csr) > 20000:
        raise malformed("finalize needs the CSR, base64url-encoded DER, as csr.")
    try:
        csr_der = jose.b64decode(csr)
    except Exception:
        raise AcmeProblem("badCSR", "The csr is not base64url.") from None
    account_uri = request.build_absolute_uri(
        _url("account", brand, account_id=found.account.public_id)
    )
    found = orders.finalize_order(order=found, csr_der=csr_der, account_uri=account_uri)
    return _order_response(request, found, brand)


def _challenge_json(request: HttpRequest, challenge: AcmeChallenge, brand: Brand) -> dict:
    data: dict[str, Any] = {
        "type": challenge.type,
        "url": _absolute(request, "challenge", brand, challenge_id=challenge.public_id),
        "status": challenge.status,
        "token": challenge.token,
    }
    if challenge.validated_at:
        data["validated"] = _time(challenge.validated_at)
    if challenge.error:
        data["error"] = challenge.error
    return data


@acme_view
def authorization(request: HttpRequest, brand: Brand, authz_id: str) -> HttpResponse:
    signed = _signed(request, brand)
    found: AcmeAuthorization = _found(
        selectors.authorization_of(signed.account, authz_id), "authorization"
    )
    if not signed.is_post_as_get:
        if signed.json().get("status") != "deactivated":
            raise malformed('An authorization can only be updated to "deactivated".')
        found = orders.deactivate_authorization(authorization=found)
    for offered in found.challenges.all():
        # Clients poll the authorization: a challenge left by a dead worker resumes here.
        orders.resume_stalled(challenge=offered)
    data: dict[str, Any] = {
        "identifier": {"type": "dns", "value": found.domain},
        "status": found.status,
        "expires": _time(found.expires_at),
        "challenges": [
            _challenge_json(request, challenge, brand) for challenge in found.challenges.all()
        ],
    }
    if found.wildcard:
        data["wildcard"] = True
    return JsonResponse(data)


@acme_view
def challenge(request: HttpRequest, brand: Brand, challenge_id: str) -> HttpResponse:
    signed = _signed(request, brand)
    found: AcmeChallenge = _found(selectors.challenge_of(signed.account, challenge_id), "challenge")
    if not signed.is_post_as_get:
        signed.json()  # RFC 8555 7.5.1: the body is an empty object
        found = orders.answer_challenge(challenge=found)
    orders.resume_stalled(challenge=found)
    response = JsonResponse(_challenge_json(request, found, brand))
    up = _absolute(request, "authorization", brand, authz_id=found.authorization.public_id)
    response["Link"] = f'<{up}>;rel="up"'
    return response


@acme_view
def certificate(request: HttpRequest, brand: Brand, order_id: str) -> HttpResponse:
    signed = _signed(request, brand)
    found = _found(selectors.order_of(signed.account, order_id), "order")
    issued = found.certificate
    if found.status != OrderStatus.VALID or issued is None:
        raise AcmeProblem("malformed", "This order has no certificate.", status=404)
    chain = issued.certificate_pem.strip() + "\n" + issued.chain_pem.strip() + "\n"
    return HttpResponse(chain, content_type=PEM_CHAIN)


@acme_view
def revoke_cert(request: HttpRequest, brand: Brand) -> HttpResponse:
    signed = _signed(request, brand, key="either")
    payload = signed.json()
    encoded, reason = payload.get("certificate"), payload.get("reason")
    if not isinstance(encoded, str) or len(encoded) > 20000:
        raise malformed("revokeCert needs the certificate, base64url-encoded DER.")
    try:
        certificate_der = jose.b64decode(encoded)
    except Exception:
        raise malformed("The certificate is not base64url.") from None
    key_der = signed.jwk.public_key().key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    revocation.revoke_certificate(
        certificate_der=certificate_der,
        reason=reason if reason is None or type(reason) is int else -1,
        account=signed.account,
        key_der=key_der,
    )
    return HttpResponse(status=200)


@acme_view
def renewal_info(request: HttpRequest, brand: Brand, cert_id: str = "") -> HttpResponse:
    if request.method != "GET":
        raise AcmeProblem("malformed", "Use GET for renewal information.", status=405)
    certificate = selectors.certificate_for_renewal_id(cert_id)
    if certificate is None or certificate.not_after is None:
        raise AcmeProblem("malformed", "No certificate of this CA has that identifier.", status=404)
    start, end = selectors.renewal_window(certificate)
    response = JsonResponse({"suggestedWindow": {"start": _time(start), "end": _time(end)}})
    response["Retry-After"] = str(selectors.RENEWAL_INFO_RETRY_SECONDS)
    return response
