"""The API's operations: thin doors onto the services and selectors the console uses.

Each operation parses its input (through the console's own forms, so the checks
and messages are the same), calls one service or selector and answers. Every
object is looked up within the token owner's account: another customer's is 404.
"""

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from ninja import Header, Query, Router, Status

from api import schemas
from api.auth import READ, WRITE
from api.pagination import next_link, paginate
from api.problems import PROBLEM_TYPES, Problem, form_errors, invalid, type_uri
from certificates import audit, selectors, services
from certificates.errors import ActionNotAllowed
from certificates.forms import ApplicationForm, PurchaseForm, UploadCertificateForm
from certificates.lifecycle import CertificateStatus
from certificates.models import Application, Certificate, Order, RevocationRequest
from certificates.pki.bundles import SERVER_TYPES
from certificates.services.applications import NOT_WAITING_FOR_APPLICATION

router = Router()

READ_ERRORS = {401: Problem, 404: Problem, 422: Problem, 429: Problem}
WRITE_ERRORS = {**READ_ERRORS, 400: Problem, 403: Problem, 409: Problem}


@contextmanager
def acting(request: HttpRequest) -> Iterator[None]:
    """The audit events written meanwhile name the token the owner acted through."""
    with audit.actor_details(api_token=request.auth.label):
        yield


def owner(request: HttpRequest):
    return request.auth.owner


def owned_certificate(request: HttpRequest, pk: int) -> Certificate:
    return get_object_or_404(
        Certificate.objects.owned_by(owner(request)).select_related("brand"), pk=pk
    )


class PageQuery(schemas.Schema):
    cursor: str = ""
    limit: int = 20


def one_page(
    request: HttpRequest, response: HttpResponse, rows, query: PageQuery, out: Callable
) -> dict:
    """A page of `rows` as `out` shows each, with the next page in the Link header."""
    page = paginate(rows, cursor=query.cursor, limit=query.limit)
    link = next_link(request, page)
    if link:
        response["Link"] = link
    return {"items": [out(row) for row in page.items], "next_cursor": page.next_cursor}


# --- Representations --------------------------------------------------------------------


def certificate_out(certificate: Certificate) -> dict:
    return {
        "id": certificate.pk,
        "name": certificate.name,
        "status": certificate.display_status,
        "status_label": certificate.get_display_status_display(),
        "source": certificate.source,
        "brand": certificate.brand.slug if certificate.brand else None,
        "validation_type": certificate.validation_type,
        "domain_scope": certificate.domain_scope,
        "domain_count": certificate.domain_count,
        "common_name": certificate.common_name,
        "domains": certificate.domain_list,
        "organization": certificate.organization,
        "issuer": certificate.issuer,
        "serial": certificate.serial,
        "fingerprint_sha256": certificate.fingerprint_sha256,
        "key_algorithm": certificate.key_algorithm,
        "not_before": certificate.not_before,
        "not_after": certificate.not_after,
        "days_left": certificate.days_left,
        "created_at": certificate.created_at,
        "can_apply": certificate.can_apply,
        "can_download": certificate.can_download,
        "can_revoke": certificate.can_revoke,
        "can_delete": certificate.delete_refusal is None,
        "can_reissue": certificate.can_reissue,
        "expiry_warnings_enabled": certificate.expiry_warnings_enabled,
    }


def validation_out(certificate: Certificate, application: Application | None) -> dict | None:
    if application is None or application.submitted_at is None:
        return None
    return {
        "status": certificate.display_status,
        "method": application.validation_method,
        "token": application.validation_token,
        "submitted_at": application.submitted_at,
        "last_checked_at": application.last_checked_at,
        "rejection_reason": application.rejection_reason,
        "checking": application.is_checking,
        "refusal": application.check_refusal,
        "rows": [row.__dict__ for row in selectors.validation_rows(application)],
    }


def revocation_out(revocation: RevocationRequest) -> dict:
    return {
        "id": revocation.pk,
        "status": revocation.status,
        "reason": revocation.reason,
        "confirmation_email": revocation.confirmation_email,
        "due_date": revocation.due_date,
        "completed_at": revocation.completed_at,
        "rejection_reason": revocation.rejection_reason,
        "refund_amount": revocation.refund_amount,
    }


def details_out(certificate: Certificate) -> dict:
    # From a revocation request on, only what identifies the certificate, as on the page.
    details = selectors.certificate_details(certificate) if certificate.shows_full_details else None
    application = Application.objects.filter(certificate=certificate).first()
    revocation = certificate.revocation_requests.first()
    return {
        **certificate_out(certificate),
        "subject": details.subject if details else None,
        "fingerprint_sha1": details.fingerprint_sha1 if details else None,
        "chain": [entry.__dict__ for entry in details.chain] if details else [],
        "validation": validation_out(certificate, application),
        "revocation": revocation_out(revocation) if revocation else None,
    }


def order_out(order: Order) -> dict:
    certificates = list(order.certificates.all())
    return {
        "id": order.pk,
        "product": str(order.product),
        "brand": order.product.brand.slug,
        "validation_type": order.product.validation_type,
        "domain_scope": order.product.domain_scope,
        "quantity": order.quantity,
        "years": order.years,
        "domain_count": order.domain_count,
        "unit_price": order.unit_price,
        "amount": order.amount,
        "paid_at": order.paid_at,
        "refund_amount": order.refund_amount,
        "refunded_at": order.refunded_at,
        "certificates": [certificate.pk for certificate in certificates],
        "refunds": [
            {
                "certificate": certificate.pk,
                "revocation": revocation.pk,
                "amount": revocation.refund_amount,
                "completed_at": revocation.completed_at,
            }
            for certificate in certificates
            for revocation in getattr(certificate, "completed_revocations", [])
        ],
    }


def event_out(event) -> dict:
    return {
        "id": event.pk,
        "created_at": event.created_at,
        "actor": event.actor_name,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "details": event.details,
    }


# --- Certificates -----------------------------------------------------------------------


@router.get(
    "/counters", response={200: schemas.Counters, **READ_ERRORS}, auth=READ, tags=["certificates"]
)
def counters(request: HttpRequest):
    """The overview's counters: Total, Issued, Pending Application, Will Expire, ..."""
    counts = selectors.certificate_counters(owner=owner(request))
    return {
        "total": counts["total"],
        "issued": counts[CertificateStatus.ISSUED],
        "pending_application": counts[CertificateStatus.PENDING_APPLICATION],
        "will_expire": counts[selectors.WILL_EXPIRE],
        "check_fail": counts[CertificateStatus.CHECK_FAIL],
        "expired": counts[CertificateStatus.EXPIRED],
    }


class CertificateFilters(PageQuery):
    status: str = ""
    brand: str = ""
    q: str = ""


@router.get(
    "/certificates",
    response={200: schemas.CertificatePage, **READ_ERRORS},
    auth=READ,
    tags=["certificates"],
)
def list_certificates(
    request: HttpRequest, response: HttpResponse, filters: Query[CertificateFilters]
):
    """The certificates, newest first, filtered as the overview filters them.

    `status` is a status or `will_expire`; `brand` a brand's slug; `q` matches the name or
    any domain. The next page is at the `Link` header's URL (or pass `next_cursor`).
    """
    errors = {}
    known = {tab.key for tab in selectors.STATUS_FILTERS}
    if filters.status and filters.status not in known:
        errors["status"] = gettext("Use one of: %(values)s.") % {"values": ", ".join(sorted(known))}
    brand = None
    if filters.brand:
        brand = next((b for b in selectors.brands() if b.slug == filters.brand), None)
        if brand is None:
            errors["brand"] = gettext("There is no brand with this slug.")
    if len(filters.q) > 255:
        errors["q"] = gettext("Search for at most 255 characters.")
    if errors:
        raise ValidationError(errors)
    certificates = selectors.certificate_list(
        owner=owner(request), status=filters.status, brand=brand, search=filters.q.strip()
    )
    return one_page(request, response, certificates, filters, certificate_out)


@router.post(
    "/certificates",
    response={201: schemas.CertificateDetails, **WRITE_ERRORS},
    auth=WRITE,
    tags=["certificates"],
)
def upload_certificate(request: HttpRequest, payload: schemas.UploadIn):
    """Upload a certificate got elsewhere: the upload dialog's checks and messages."""
    form = UploadCertificateForm(payload.dict(), owner=owner(request))
    if not form.is_valid():
        return invalid(form_errors(form))
    with acting(request):
        certificate = services.upload_certificate(
            owner=owner(request), name=form.cleaned_data["name"], bundle=form.bundle
        )
    return Status(201, details_out(certificate))


@router.get(
    "/certificates/{int:certificate_id}",
    response={200: schemas.CertificateDetails, **READ_ERRORS},
    auth=READ,
    tags=["certificates"],
)
def certificate_details(request: HttpRequest, certificate_id: int):
    """A certificate's details: never its private key."""
    return details_out(owned_certificate(request, certificate_id))


@router.delete(
    "/certificates/{int:certificate_id}",
    response={204: None, **WRITE_ERRORS},
    auth=WRITE,
    tags=["certificates"],
)
def delete_certificate(request: HttpRequest, certificate_id: int):
    """Delete: uploaded, expired or revoked certificates; an issued one must be revoked first."""
    certificate = owned_certificate(request, certificate_id)
    with acting(request):
        services.delete_certificate(certificate=certificate, actor=owner(request))
    return Status(204, None)


@router.put(
    "/certificates/{int:certificate_id}/application",
    response={200: schemas.CertificateDetails, **WRITE_ERRORS},
    auth=WRITE,
    tags=["applications"],
)
def apply(request: HttpRequest, certificate_id: int, payload: schemas.ApplicationIn):
    """The request information: a draft (`submit: false`) or submitted for validation."""
    certificate = owned_certificate(request, certificate_id)
    if not certificate.can_apply:
        raise ActionNotAllowed(gettext(NOT_WAITING_FOR_APPLICATION))
    application = Application.objects.filter(certificate=certificate).first() or Application(
        certificate=certificate
    )
    data = {**payload.dict(exclude={"submit"}), "domains": "\n".join(payload.domains)}
    form = ApplicationForm(
        data, instance=application, certificate=certificate, submit=payload.submit
    )
    if not form.is_valid():
        return invalid(form_errors(form))
    with acting(request):
        services.save_application(
            certificate=certificate,
            application=form.save(commit=False),
            submit=payload.submit,
            actor=owner(request),
        )
    return details_out(owned_certificate(request, certificate_id))


@router.post(
    "/certificates/{int:certificate_id}/application/withdraw",
    response={200: schemas.CertificateDetails, **WRITE_ERRORS},
    auth=WRITE,
    tags=["applications"],
)
def withdraw(request: HttpRequest, certificate_id: int):
    """Take a submitted application back: the certificate waits for a new one."""
    certificate = owned_certificate(request, certificate_id)
    with acting(request):
        services.withdraw_application(certificate=certificate, actor=owner(request))
    return details_out(certificate)


@router.post(
    "/certificates/{int:certificate_id}/validation",
    response={202: schemas.Validation, **WRITE_ERRORS},
    auth=WRITE,
    tags=["applications"],
)
def verify(request: HttpRequest, certificate_id: int):
    """Queue the DV check (the console's "Verify"); all names found issues the certificate.

    A worker checks in the background: poll the validation until `checking` is false."""
    certificate = owned_certificate(request, certificate_id)
    with acting(request):
        services.request_verification(certificate=certificate, actor=owner(request))
    certificate.refresh_from_db()
    return Status(
        202, validation_out(certificate, Application.objects.get(certificate=certificate))
    )


@router.get(
    "/certificates/{int:certificate_id}/validation",
    response={200: schemas.Validation, **READ_ERRORS},
    auth=READ,
    tags=["applications"],
)
def validation(request: HttpRequest, certificate_id: int):
    """What to publish for each domain, and what the last check found."""
    certificate = owned_certificate(request, certificate_id)
    found = validation_out(certificate, Application.objects.filter(certificate=certificate).first())
    if found is None:
        raise Http404(gettext("This certificate has no submitted application."))
    return found


@router.get(
    "/certificates/{int:certificate_id}/bundles/{server_type}",
    response={200: bytes, **WRITE_ERRORS},
    auth=READ,
    tags=["certificates"],
    openapi_extra={
        "responses": {200: {"description": "The zip", "content": {"application/zip": {}}}}
    },
)
def download(request: HttpRequest, certificate_id: int, server_type: str):
    """The zip for one server type: nginx, apache, tomcat, iis or other. Audited."""
    certificate = owned_certificate(request, certificate_id)
    if server_type not in SERVER_TYPES:
        raise Http404(gettext("No such server type: use nginx, apache, tomcat, iis or other."))
    with acting(request):
        bundle = services.download_bundle(
            certificate=certificate, server_type=server_type, actor=owner(request)
        )
    response = HttpResponse(bundle.content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{bundle.filename}"'
    # The zip may hold a private key: no cache may keep a copy.
    response["Cache-Control"] = "no-store"
    return response


@router.post(
    "/certificates/{int:certificate_id}/reissue",
    response={200: schemas.CertificateDetails, **WRITE_ERRORS},
    auth=WRITE,
    tags=["certificates"],
)
def reissue(request: HttpRequest, certificate_id: int, payload: schemas.ReissueIn):
    """Issue it again for the same domains and key, for what is left of the purchase."""
    certificate = owned_certificate(request, certificate_id)
    with acting(request):
        services.reissue_certificate(
            certificate=certificate, actor=owner(request), replaces_serial=payload.serial
        )
    return details_out(certificate)


@router.put(
    "/certificates/{int:certificate_id}/expiry-warnings",
    response={200: schemas.CertificateDetails, **WRITE_ERRORS},
    auth=WRITE,
    tags=["certificates"],
)
def expiry_warnings(request: HttpRequest, certificate_id: int, payload: schemas.ExpiryWarningsIn):
    """Turn the emails before this certificate expires on or off."""
    certificate = owned_certificate(request, certificate_id)
    with acting(request):
        services.set_expiry_warnings(
            certificate=certificate, enabled=payload.enabled, actor=owner(request)
        )
    return details_out(certificate)


@router.post(
    "/certificates/{int:certificate_id}/revocation",
    response={201: schemas.Revocation, **WRITE_ERRORS},
    auth=WRITE,
    tags=["revocation"],
)
def revoke(request: HttpRequest, certificate_id: int, payload: schemas.RevocationIn):
    """Ask for a revocation. DV goes to the CA; OV/EV first waits for the emailed link."""
    certificate = owned_certificate(request, certificate_id)
    with acting(request):
        revocation = services.request_revocation(
            certificate=certificate, reason=payload.reason, actor=owner(request)
        )
    return Status(201, revocation_out(revocation))


@router.delete(
    "/certificates/{int:certificate_id}/revocation",
    response={204: None, **WRITE_ERRORS},
    auth=WRITE,
    tags=["revocation"],
)
def cancel_revocation(request: HttpRequest, certificate_id: int):
    """Take back a request still awaiting its email confirmation."""
    certificate = owned_certificate(request, certificate_id)
    with acting(request):
        services.cancel_revocation(certificate=certificate, actor=owner(request))
    return Status(204, None)


@router.get(
    "/certificates/{int:certificate_id}/events",
    response={200: schemas.EventPage, **READ_ERRORS},
    auth=READ,
    tags=["audit"],
)
def certificate_events(
    request: HttpRequest, response: HttpResponse, certificate_id: int, page: Query[PageQuery]
):
    """One certificate's audit events, newest first."""
    certificate = owned_certificate(request, certificate_id)
    events = selectors.certificate_events(owner=owner(request), certificate=certificate)
    return one_page(request, response, events, page, event_out)


@router.get("/events", response={200: schemas.EventPage, **READ_ERRORS}, auth=READ, tags=["audit"])
def events(request: HttpRequest, response: HttpResponse, page: Query[PageQuery]):
    """The audit events of all your certificates (deleted ones too), newest first."""
    rows = selectors.certificate_events(owner=owner(request))
    return one_page(request, response, rows, page, event_out)


# --- Products and orders ----------------------------------------------------------------


@router.get(
    "/products", response={200: list[schemas.Product], **READ_ERRORS}, auth=READ, tags=["orders"]
)
def products(request: HttpRequest):
    """What is on sale, with its price per year and per extra domain."""
    return [
        {
            "id": product.pk,
            "brand": brand.slug,
            "brand_name": brand.name,
            "validation_type": product.validation_type,
            "domain_scope": product.domain_scope,
            "price_per_year": product.price_per_year,
            "price_per_extra_domain": product.price_per_extra_domain,
        }
        for brand in selectors.brands_on_sale()
        for product in selectors.products_on_sale(brand).values()
    ]


def idempotency_uuid(key: str) -> uuid.UUID:
    """Any client's key as the UUID an order keeps: a UUID as it is, other text hashed."""
    try:
        return uuid.UUID(key)
    except ValueError:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"api-idempotency-key:{key}")


@router.post(
    "/orders",
    response={200: schemas.Order, 201: schemas.Order, **WRITE_ERRORS},
    auth=WRITE,
    tags=["orders"],
)
def purchase(
    request: HttpRequest,
    payload: schemas.PurchaseIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):
    """Buy certificates (the payment is simulated); each waits for its application.

    With an `Idempotency-Key` header, a repeat of the same purchase pays nothing and
    answers the order already made (200 instead of 201).
    """
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
        raise ValidationError({"Idempotency-Key": gettext("Send a key of 1 to 255 characters.")})
    form = PurchaseForm(payload.dict(), brands=list(selectors.brands_on_sale()))
    if not form.is_valid():
        return invalid(form_errors(form))
    options = {
        **form.purchase_options(),
        "idempotency_key": idempotency_uuid(idempotency_key) if idempotency_key else None,
    }
    with acting(request):
        paid = services.purchase(customer=owner(request), **options)
    order = selectors.customer_orders(customer=owner(request)).get(pk=paid.pk)
    return Status(200 if paid.repeated else 201, order_out(order))


@router.get("/orders", response={200: schemas.OrderPage, **READ_ERRORS}, auth=READ, tags=["orders"])
def orders(request: HttpRequest, response: HttpResponse, page: Query[PageQuery]):
    """Your orders, newest first, with their certificates and refunds."""
    rows = selectors.customer_orders(customer=owner(request))
    return one_page(request, response, rows, page, order_out)


@router.get(
    "/orders/{int:order_id}",
    response={200: schemas.Order, **READ_ERRORS},
    auth=READ,
    tags=["orders"],
)
def order(request: HttpRequest, order_id: int):
    return order_out(
        get_object_or_404(selectors.customer_orders(customer=owner(request)), pk=order_id)
    )


# --- Problem types ----------------------------------------------------------------------


@router.get(
    "/problems/{slug}",
    response={200: schemas.ProblemTypeOut, 404: Problem},
    auth=None,
    tags=["problems"],
)
def problem_type(request: HttpRequest, slug: str):
    """What a problem document's `type` means. Public: it describes, it reveals nothing."""
    kind = PROBLEM_TYPES.get(slug)
    if kind is None:
        raise Http404(gettext("No such problem type."))
    return {
        "type": type_uri(slug),
        "status": kind.status,
        "title": str(kind.title),
        "description": str(kind.description),
    }
