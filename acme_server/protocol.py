"""The ACME wire format: problem documents, nonces and the checks of every signed request.

The JWS parsing and signature checks are certbot's `acme` and `josepy` libraries; this
module applies RFC 8555 section 6's rules around them (the protected header's fields, the
nonce, the URL, which key signs) and turns every failure into a problem document.
"""

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import josepy as jose
from acme import jws as acme_jws
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from acme_server.models import AcmeAccount, AcmeNonce

ERROR_NAMESPACE = "urn:ietf:params:acme:error:"
JOSE_CONTENT_TYPE = "application/jose+json"
# The algorithms an account key may sign with, by the key type each needs.
ALLOWED_ALGORITHMS = {
    "RS256": jose.JWKRSA,
    "ES256": jose.JWKEC,
    "ES384": jose.JWKEC,
    "ES512": jose.JWKEC,
}


class AcmeProblem(Exception):
    """A refusal as RFC 8555 section 6.7 says: an error type, a detail and an HTTP status."""

    def __init__(
        self,
        typ: str,
        detail: str,
        *,
        status: int = 400,
        headers: dict[str, str] | None = None,
        subproblems: list[dict] | None = None,
    ) -> None:
        super().__init__(detail)
        self.typ = typ
        self.detail = detail
        self.status = status
        self.headers = headers or {}
        self.subproblems = subproblems or []

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"type": ERROR_NAMESPACE + self.typ, "detail": self.detail}
        if self.subproblems:
            document["subproblems"] = self.subproblems
        return document


def malformed(detail: str) -> AcmeProblem:
    return AcmeProblem("malformed", detail)


def problem_json(typ: str, detail: str, **extra: Any) -> dict[str, Any]:
    """A problem document kept on an object (a challenge's or order's error)."""
    return {"type": ERROR_NAMESPACE + typ, "detail": detail, **extra}


# --- Nonces ----------------------------------------------------------------------------------


def new_nonce() -> str:
    """A fresh nonce, stored so that every process can accept it once."""
    value = secrets.token_urlsafe(16)
    AcmeNonce.objects.create(value=value)
    return value


def use_nonce(value: str) -> bool:
    """Whether `value` is a nonce handed out within its lifetime and not used yet; either way
    it cannot be used again. One DELETE decides, so of two requests with one nonce, one wins."""
    oldest = timezone.now() - timedelta(seconds=settings.ACME_NONCE_LIFETIME_SECONDS)
    deleted, _ = AcmeNonce.objects.filter(value=value, created_at__gt=oldest).delete()
    return deleted == 1


def forget_expired_nonces() -> int:
    oldest = timezone.now() - timedelta(seconds=settings.ACME_NONCE_LIFETIME_SECONDS)
    deleted, _ = AcmeNonce.objects.filter(created_at__lte=oldest).delete()
    return deleted


# --- Signed requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedRequest:
    """A POST whose JWS checked out: who signed it and what it says."""

    payload: bytes
    jwk: jose.JWK
    account: AcmeAccount | None
    url: str

    @property
    def is_post_as_get(self) -> bool:
        return self.payload == b""

    def json(self) -> dict[str, Any]:
        """The payload as a JSON object; malformed otherwise."""
        try:
            value = json.loads(self.payload)
        except (ValueError, UnicodeDecodeError):
            raise malformed("The JWS payload is not JSON.") from None
        if not isinstance(value, dict):
            raise malformed("The JWS payload is not a JSON object.")
        return value


def read_signed_request(
    request: HttpRequest, *, brand_slug: str, key: str = "kid"
) -> SignedRequest:
    """Check a POST as RFC 8555 6.2 to 6.5 say, or raise the problem that says why not.

    `key` is which key must sign: "kid" (an existing account's), "jwk" (a key in the
    header: newAccount, and revokeCert by the certificate's key) or "either" (revokeCert).
    """
    content_type = request.content_type or ""
    if content_type != JOSE_CONTENT_TYPE:
        raise AcmeProblem(
            "malformed", f"The request's Content-Type must be {JOSE_CONTENT_TYPE}.", status=415
        )
    jws, protected = _parse_jws(lambda: acme_jws.JWS.json_loads(request.body))
    alg = protected["alg"]
    url = protected.get("url")
    if not isinstance(url, str) or url != request.build_absolute_uri():
        raise AcmeProblem(
            "unauthorized",
            "The JWS url header is not the URL this request was sent to.",
            status=401,
        )
    nonce = protected.get("nonce")
    if not isinstance(nonce, str) or not use_nonce(nonce):
        raise AcmeProblem("badNonce", "The nonce is unknown, used or expired: use a new one.")

    has_jwk, has_kid = "jwk" in protected, "kid" in protected
    if has_jwk == has_kid:
        raise malformed("The JWS protected header must have exactly one of jwk and kid.")
    allowed = {"kid": {"kid"}, "jwk": {"jwk"}, "either": {"kid", "jwk"}}[key]
    if ("jwk" if has_jwk else "kid") not in allowed:
        raise malformed(
            "This request must be signed by the account's key (kid)"
            if key == "kid"
            else "This request must carry its key (jwk), not an account URL (kid)."
        )
    account = None
    if has_kid:
        account = _account_for_kid(protected["kid"], brand_slug=brand_slug, request=request)
        jwk = jose.JWK.from_json(account.jwk)
    else:
        jwk = _header_key(protected)
    _verify(jws, jwk, alg)
    return SignedRequest(payload=jws.payload, jwk=jwk, account=account, url=url)


def read_inner_jws(value: Any, *, url: str) -> tuple[bytes, jose.JWK]:
    """keyChange's inner JWS (RFC 8555 7.3.5): signed by the new key, carried in its jwk
    header, for the same URL as the outer request and without a nonce."""
    jws, protected = _parse_jws(lambda: acme_jws.JWS.from_json(value))
    if protected.get("url") != url or "nonce" in protected or "jwk" not in protected:
        raise malformed("The inner JWS must carry its jwk, the outer url and no nonce.")
    jwk = _header_key(protected)
    _verify(jws, jwk, protected["alg"])
    return jws.payload, jwk


def _parse_jws(load: Any) -> tuple[jose.JWS, dict]:
    """A flattened JWS with one signature, only a protected header and an accepted alg."""
    try:
        jws = load()
        signature = jws.signature
        protected = json.loads(signature.protected)
    except Exception:
        # josepy raises many types (DeserializationError, ValueError, TypeError, binascii):
        # whatever it is, the body was not a flattened JWS.
        raise malformed("The request body is not a valid flattened JWS.") from None
    if (
        not isinstance(protected, dict)
        or len(jws.signatures) != 1
        or signature.header.not_omitted()
    ):
        raise malformed("The JWS must have one signature and only a protected header.")
    alg = protected.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
        raise AcmeProblem(
            "badSignatureAlgorithm", f"The JWS algorithm {str(alg)[:20]!r} is not accepted."
        )
    return jws, protected


def _header_key(protected: dict) -> jose.JWK:
    try:
        jwk = jose.JWK.from_json(protected["jwk"])
    except Exception:
        raise malformed("The JWS jwk header is not a valid public key.") from None
    alg = protected["alg"]
    if not isinstance(jwk, ALLOWED_ALGORITHMS[alg]) or "d" in protected["jwk"]:
        raise malformed("The JWS jwk header is not a public key for its algorithm.")
    return jwk


def _verify(jws: jose.JWS, jwk: jose.JWK, alg: str) -> None:
    if not isinstance(jwk, ALLOWED_ALGORITHMS[alg]):
        raise AcmeProblem("badSignatureAlgorithm", "The algorithm does not fit the account key.")
    try:
        verified = jws.verify(jwk)
    except Exception:
        verified = False
    if not verified:
        raise malformed("The JWS signature does not verify with the signing key.")


def _account_for_kid(kid: Any, *, brand_slug: str, request: HttpRequest) -> AcmeAccount:
    from django.urls import reverse

    if isinstance(kid, str) and kid.startswith(request.build_absolute_uri("/")):
        public_id = kid.rstrip("/").rsplit("/", 1)[-1]
        expected = request.build_absolute_uri(
            reverse("acme:account", kwargs={"brand": brand_slug, "account_id": public_id})
        )
        if kid == expected:
            account = (
                AcmeAccount.objects.select_related("owner", "brand")
                .filter(public_id=public_id, brand__slug=brand_slug)
                .first()
            )
            if account is not None:
                if not account.is_valid:
                    raise AcmeProblem("unauthorized", "This account is deactivated.", status=401)
                return account
    raise AcmeProblem("accountDoesNotExist", "No account of this server has that kid.", status=400)


def key_thumbprint(jwk: jose.JWK) -> str:
    """The RFC 7638 thumbprint, base64url, as key authorizations use it."""
    return jose.b64encode(jwk.thumbprint()).decode()
