"""The one gate before every signature: `decide` says "sign" or why not, `sign` signs.

Every path to a certificate (console Verify, the operators' approval, reissue, ACME and
the API) calls `sign`, and nothing else in the app calls the CA's signing code (a test
checks). The checks, each with its reference in the README's "Issuance policy":

- the key policy (certificates.pki.csr.check_subscriber_key) and the compromised-key list;
- domain control of every name, proven within the reuse period in force (REUSE_PERIODS);
- CAA for every name (certificates.caa_checks), with RFC 8657's accounturi and
  validationmethods;
- pkilint's CA/Browser Forum lint of the certificate, signed first with a throw-away key.

A refusal is a list of `Refusal`s, each a sentence for the customer and the audit log; the
lint's findings are for the operators only (`details`).
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from certificates import caa_checks, compromised_keys, domain_checks
from certificates.errors import ActionNotAllowed
from certificates.pki import ca, csr, lint
from certificates.pki.errors import PKIError

logger = logging.getLogger(__name__)

SIGN = "sign"

# Baseline Requirements 4.2.1 and 3.2.2.4: how long a passed domain check may be reused,
# by the date the period took effect. Code, not a setting: no one may stretch it.
REUSE_PERIODS: tuple[tuple[date, int], ...] = (
    (date(2020, 9, 1), 398),
    (date(2026, 3, 15), 200),
    (date(2027, 3, 15), 100),
    (date(2029, 3, 15), 10),
)

LINT_FAILED = gettext_noop(
    "The certificate could not be issued because of a problem on the CA's side; the "
    "operators were told and will contact you. Nothing was signed."
)
COMPROMISED_KEY = gettext_noop(
    "This key is on the list of compromised keys (a certificate with it was revoked for key "
    "compromise, or its compromise was reported), so no certificate is signed for it again. "
    "Generate a new key."
)


@dataclass(frozen=True)
class Refusal:
    """Why a certificate is not signed: `reason` for the customer and the audit log,
    `kind` for the callers that treat one kind on its own (a stale domain check sends a
    reissue back to validation), `details` for the operators only."""

    kind: Literal["key", "domain_control", "stale_domain_control", "caa", "profile", "lint"]
    reason: str
    details: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        return self.reason


class IssuanceRefused(ActionNotAllowed):
    """The gate refused: nothing was signed. The message is the customer's reasons."""

    def __init__(self, refusals: Sequence[Refusal]):
        super().__init__(" ".join(str(refusal.reason) for refusal in refusals))
        self.refusals = tuple(refusals)


@dataclass(frozen=True)
class Request:
    """What is asked to be signed, as certificates.pki.ca.build_certificate takes it."""

    issuer: ca.Authority
    ca_slug: str
    public_key: PublicKeyTypes
    domains: tuple[str, ...]
    validation_type: str
    subject: ca.SubjectInfo | None
    now: datetime
    validity_days: int


def reuse_days(on: date) -> int:
    """The days a passed domain check may be reused on `on` (Baseline Requirements 4.2.1)."""
    return next(days for start, days in reversed(REUSE_PERIODS) if on >= start)


def decide(
    *,
    request: Request,
    validated_at: Mapping[str, datetime | None],
    acme_account_uri: str | None = None,
    validation_method: str | None = None,
) -> Literal["sign"] | list[Refusal]:
    """ "sign", or every reason why `request` may not be signed.

    `validated_at` says when control of each name was last proven (None: never).
    `acme_account_uri` and `validation_method` are what RFC 8657's CAA parameters are
    matched against: the ACME account and challenge type, or the console's method.
    """
    outcome, _builder = _decide(request, validated_at, acme_account_uri, validation_method)
    return outcome


def sign(
    *,
    request: Request,
    validated_at: Mapping[str, datetime | None],
    acme_account_uri: str | None = None,
    validation_method: str | None = None,
) -> x509.Certificate:
    """The certificate signed by the issuing CA, if `decide` says "sign"; else IssuanceRefused."""
    outcome, builder = _decide(request, validated_at, acme_account_uri, validation_method)
    if outcome != SIGN:
        raise IssuanceRefused(outcome)
    return ca.sign_certificate(builder, request.issuer.private_key)


def _decide(
    request: Request,
    validated_at: Mapping[str, datetime | None],
    acme_account_uri: str | None,
    validation_method: str | None,
) -> tuple[Literal["sign"] | list[Refusal], x509.CertificateBuilder | None]:
    refusals = _key_refusals(request.public_key)
    refusals += _domain_control_refusals(request.domains, validated_at)
    if refusals:
        # CAA costs DNS queries and the lint a build: no use when it is refused already.
        return refusals, None
    refusals += [
        Refusal(kind="caa", reason=reason)
        for reason in caa_checks.check_caa(
            request.domains,
            resolver=domain_checks.Resolver(
                nameservers=tuple(settings.DV_NAMESERVERS),
                port=settings.DV_DNS_PORT,
                timeout=settings.DV_CHECK_TIMEOUT,
            ),
            identities=settings.PKI_CAA_IDENTITIES,
            account_uri=acme_account_uri,
            validation_method=validation_method,
        )
    ]
    if refusals:
        return refusals, None
    try:
        builder = ca.build_certificate(
            request.issuer,
            csr_public_key=request.public_key,
            domains=request.domains,
            validation_type=request.validation_type,
            subject=request.subject,
            now=request.now,
            validity_days=request.validity_days,
            base_url=settings.PKI_BASE_URL,
            ca_slug=request.ca_slug,
            crl_shards=settings.CRL_SHARDS,
        )
    except PKIError as error:
        return [Refusal(kind="profile", reason=error.message)], None
    findings = _lint(builder, request)
    if findings:
        logger.error(
            "Issuance refused by the lint for %s: %s",
            ", ".join(request.domains),
            "; ".join(findings),
        )
        return [Refusal(kind="lint", reason=_(LINT_FAILED), details=tuple(findings))], None
    return SIGN, builder


def _key_refusals(public_key: PublicKeyTypes) -> list[Refusal]:
    try:
        csr.check_subscriber_key(public_key)
    except PKIError as error:
        return [Refusal(kind="key", reason=error.message)]
    if compromised_keys.is_listed(public_key):
        return [Refusal(kind="key", reason=_(COMPROMISED_KEY))]
    return []


def _domain_control_refusals(
    domains: Sequence[str], validated_at: Mapping[str, datetime | None]
) -> list[Refusal]:
    now = timezone.now()
    days = reuse_days(now.date())
    refusals = []
    for domain in domains:
        checked = validated_at.get(domain)
        if checked is None:
            refusals.append(
                Refusal(
                    kind="domain_control",
                    reason=_(
                        "Control of %(domain)s has not been proven yet: publish the DNS record or "
                        "the file and press Verify."
                    )
                    % {"domain": domain},
                )
            )
        elif checked < now - timedelta(days=days):
            refusals.append(
                Refusal(
                    kind="stale_domain_control",
                    reason=_(
                        "Control of %(domain)s was last proven on %(checked)s, more than the "
                        "%(days)s days a check may be reused: prove it again."
                    )
                    % {
                        "domain": domain,
                        "checked": format(checked.date(), "%Y-%m-%d"),
                        "days": days,
                    },
                )
            )
    return refusals


def _lint(builder: x509.CertificateBuilder, request: Request) -> list[str]:
    # Signed with a throw-away key of the CA key's type, so the signature algorithm is the
    # one the real certificate gets; the real key signs only what passed.
    throwaway = lint.throwaway_key(lint.key_kind(request.issuer.private_key))
    draft = ca.sign_certificate(builder, throwaway)
    own_host = urllib.parse.urlsplit(settings.PKI_BASE_URL).hostname or ""
    return [
        str(finding) for finding in lint.errors(draft, request.validation_type, own_host=own_host)
    ]
