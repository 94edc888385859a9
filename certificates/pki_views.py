"""The CA's public side: CA certificates, CRLs and the OCSP responder, with no sign-in.

TLS clients fetch these with no session and no CSRF token, at the URLs the issued
certificates name (certificates.pki.ca). What they serve is signed, so plain HTTP is fine.
"""

import logging

from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from certificates import selectors, services
from certificates.models import CertificateAuthority
from certificates.pki.parsing import load_certificates
from certificates.pki.revocation import (
    internal_error_response,
    ocsp_request_from_get_path,
    stored_answer_key,
)

logger = logging.getLogger(__name__)

Role = CertificateAuthority.Role

CRL_TYPE = "application/pkix-crl"
CERTIFICATE_TYPE = "application/pkix-cert"
OCSP_RESPONSE_TYPE = "application/ocsp-response"

# Built once, here, so that answering a failure cannot fail in turn.
OCSP_INTERNAL_ERROR = internal_error_response()

# A one-certificate OCSP request is about 100 bytes; anything near this is not one.
MAX_OCSP_REQUEST = 8 * 1024

# How long an HTTP cache may keep a CRL or a GET OCSP answer: short, so that a
# revocation reaches clients soon even through caches.
CACHE_SECONDS = 300


def authority_or_404(slug: str, role: str, *, with_crl: bool = False) -> CertificateAuthority:
    authorities = CertificateAuthority.objects.all()
    if not with_crl:
        # Not the published CRL (megabytes), nor the columns stored after it, which
        # SQLite would read through it to reach.
        authorities = authorities.only("slug", "role", "certificate_pem", "private_key_encrypted")
    return get_object_or_404(authorities, slug=slug, role=role)


def der_response(content: bytes, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


def certificate_der(row: CertificateAuthority) -> bytes:
    return load_certificates(row.certificate_pem)[0].public_bytes(Encoding.DER)


@login_not_required
@require_safe
def crl(request: HttpRequest, slug: str) -> HttpResponse:
    issuer = authority_or_404(slug, Role.ISSUING, with_crl=True)
    return der_response(services.current_crl(issuer=issuer), CRL_TYPE)


@login_not_required
@require_safe
def crl_shard(request: HttpRequest, slug: str, shard: int) -> HttpResponse:
    """One shard of the issuing CA's partitioned CRL, the one a certificate names."""
    if shard >= settings.CRL_SHARDS:
        raise Http404("No such CRL shard.")
    issuer = authority_or_404(slug, Role.ISSUING)
    return der_response(services.current_crl_shard(issuer=issuer, shard=shard), CRL_TYPE)


@login_not_required
@require_safe
def root_crl(request: HttpRequest, slug: str) -> HttpResponse:
    root = authority_or_404(slug, Role.ROOT, with_crl=True)
    return der_response(services.current_crl(issuer=root), CRL_TYPE)


@login_not_required
@require_safe
def ca_certificate(request: HttpRequest, slug: str) -> HttpResponse:
    return der_response(certificate_der(authority_or_404(slug, Role.ISSUING)), CERTIFICATE_TYPE)


@login_not_required
@require_safe
def root_certificate(request: HttpRequest, slug: str) -> HttpResponse:
    return der_response(certificate_der(authority_or_404(slug, Role.ROOT)), CERTIFICATE_TYPE)


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def ocsp(request: HttpRequest, slug: str, encoded: str = "") -> HttpResponse:
    """RFC 6960: a DER request in the POST body, or base64 in the GET URL.

    Anything that is not one readable request gets the OCSP malformedRequest status
    (an empty request decodes to nothing, which is exactly that), and a failure of
    the responder itself (the database, the CA's key) the internalError status:
    OCSP clients read DER, never an HTML error page. An unknown CA stays a 404.
    """
    try:
        return ocsp_answer(request, slug, encoded)
    except Http404:
        raise
    except Exception:
        logger.exception("The OCSP responder of CA %r failed; answered internalError.", slug)
        response = HttpResponse(OCSP_INTERNAL_ERROR, content_type=OCSP_RESPONSE_TYPE)
        # Not kept by caches: the next request may well be answered.
        response["Cache-Control"] = "no-store"
        return response


def ocsp_answer(request: HttpRequest, slug: str, encoded: str) -> HttpResponse:
    if request.method == "POST":
        # Read at most one byte past the limit, so an oversized body is never held whole.
        body = request.read(MAX_OCSP_REQUEST + 1)
        request_der = body if len(body) <= MAX_OCSP_REQUEST else b""
    else:
        too_long = len(encoded) > 2 * MAX_OCSP_REQUEST
        request_der = b"" if too_long else ocsp_request_from_get_path(encoded)
    # Most requests (SHA-1, no nonce) are answered by the answer signed ahead: one query,
    # no key to decrypt, nothing to sign. Anything else is answered live, as always.
    key = stored_answer_key(request_der)
    answer = None
    if key is not None:
        answer = selectors.stored_ocsp_answer(ca_slug=slug, key=key, now=timezone.now())
    if answer is None:
        issuer = authority_or_404(slug, Role.ISSUING)
        answer = services.answer_ocsp(issuer=issuer, request_der=request_der)
    response = HttpResponse(answer, content_type=OCSP_RESPONSE_TYPE)
    if request.method == "GET":
        response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response
