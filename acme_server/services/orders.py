"""ACME orders: new orders, challenge answers, finalize, and what a validation result moves.

An order that is finalized becomes a DV certificate of the account's customer, source
"ACME", issued by the certificates' own issuance service (the same gate before signing
as every other certificate). ACME certificates are free: there is no purchase order.
"""

from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Min, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from acme_server.models import AcmeAccount, AcmeAuthorization, AcmeChallenge, AcmeOrder
from acme_server.protocol import AcmeProblem, malformed, problem_json
from acme_server.states import AuthorizationStatus, ChallengeStatus, OrderStatus, advance
from certificates.errors import ActionNotAllowed
from certificates.issuance_policy import reuse_days
from certificates.lifecycle import create_certificates
from certificates.models import Application, Certificate, DomainScope, Source, ValidationType
from certificates.pki import csr as csr_core
from certificates.pki.errors import InvalidDomainError, PKIError
from certificates.services import issue_certificate, save_application
from certificates.signals import send_replaced_on_commit

# A challenge queued this many times without a verdict fails.
MAX_VALIDATION_ATTEMPTS = 3
EXPIRED = "The order expired before it was finalized."


def create_order(*, account: AcmeAccount, payload: dict[str, Any]) -> AcmeOrder:
    """newOrder (RFC 8555 7.4): one authorization per name, each with its challenges.

    A name the customer proved control of within the reuse period (Baseline Requirements
    4.2.1, `issuance_policy.reuse_days`) gets a valid authorization at once, carrying that
    proof; a wildcard only relies on a dns-01 proof. The others wait for a challenge, up
    to ACME_MAX_PENDING_AUTHORIZATIONS per account.
    """
    names = _names(payload.get("identifiers"))
    if "notBefore" in payload or "notAfter" in payload:
        raise malformed("notBefore and notAfter are not supported: leave them out.")
    _check_order_rate(account)
    _check_failed_validations(account, names)
    replaces = _replaced_certificate(account, payload.get("replaces"))
    now = timezone.now()
    expires = now + timedelta(hours=settings.ACME_ORDER_LIFETIME_HOURS)
    with transaction.atomic():
        # One new order at a time per account, so two at once cannot both pass the limit.
        AcmeAccount.objects.select_for_update().get(pk=account.pk)
        proofs = _reusable_proofs(account, names, now=now)
        _check_pending_authorizations(account, sum(proof is None for proof in proofs.values()))
        ready = all(proofs.values())
        order = AcmeOrder.objects.create(
            account=account,
            identifiers=names,
            expires_at=expires,
            replaces=replaces,
            # Created so, not moved: every authorization it needs is valid already.
            status=OrderStatus.READY if ready else OrderStatus.PENDING,
        )
        for name, proof in proofs.items():
            wildcard = name.startswith("*.")
            authorization = AcmeAuthorization(
                order=order, domain=name.removeprefix("*."), wildcard=wildcard, expires_at=expires
            )
            if proof is not None:
                authorization.status = AuthorizationStatus.VALID
                # Valid while the gate would still take its proof.
                reuse_ends = proof.validated_at + timedelta(days=reuse_days(now.date()))
                authorization.expires_at = min(expires, reuse_ends)
                authorization.save()
                AcmeChallenge.objects.create(
                    authorization=authorization,
                    type=proof.type,
                    token=proof.token,
                    status=ChallengeStatus.VALID,
                    validated_at=proof.validated_at,
                )
                continue
            authorization.save()
            types = [AcmeChallenge.Type.DNS_01]
            if not wildcard:
                # http-01 cannot prove control of every name under a wildcard.
                types.insert(0, AcmeChallenge.Type.HTTP_01)
            AcmeChallenge.objects.bulk_create(
                AcmeChallenge(authorization=authorization, type=typ) for typ in types
            )
        AcmeAccount.objects.filter(pk=account.pk).update(last_used_at=now)
    return order


def _reusable_proofs(
    account: AcmeAccount, names: list[str], *, now: datetime
) -> dict[str, AcmeChallenge | None]:
    """For each name, the customer's latest passed challenge still within the reuse period,
    from an authorization still valid (not deactivated or revoked); a wildcard takes only
    dns-01, the one method that proves control of the names under it.

    One query, of at most one row per domain and challenge type: the latest of each.
    """
    latest = (
        AcmeChallenge.objects.filter(
            authorization__order__account__owner_id=account.owner_id,
            authorization__domain__in={name.removeprefix("*.") for name in names},
            authorization__status=AuthorizationStatus.VALID,
            status=ChallengeStatus.VALID,
            # As the issuance gate judges it (issuance_policy): reused on the day of issuance.
            validated_at__gt=now - timedelta(days=reuse_days(now.date())),
        )
        .annotate(
            domain=F("authorization__domain"),
            rank=Window(
                RowNumber(),
                partition_by=[F("authorization__domain"), F("type")],
                order_by=F("validated_at").desc(),
            ),
        )
        .filter(rank=1)
    )
    by_domain: dict[str, list[AcmeChallenge]] = {}
    for challenge in latest:
        by_domain.setdefault(challenge.domain, []).append(challenge)
    proofs: dict[str, AcmeChallenge | None] = {}
    for name in names:
        found = by_domain.get(name.removeprefix("*."), [])
        if name.startswith("*."):
            found = [c for c in found if c.type == AcmeChallenge.Type.DNS_01]
        proofs[name] = max(found, key=lambda c: c.validated_at, default=None)
    return proofs


def _check_pending_authorizations(account: AcmeAccount, adding: int) -> None:
    """rateLimited when the account would hold more than ACME_MAX_PENDING_AUTHORIZATIONS
    pending authorizations, with Retry-After until the first of them expires."""
    if not adding:
        return
    limit = settings.ACME_MAX_PENDING_AUTHORIZATIONS
    now = timezone.now()
    pending = AcmeAuthorization.objects.filter(
        order__account=account, status=AuthorizationStatus.PENDING, expires_at__gt=now
    ).aggregate(count=Count("pk"), first_expiry=Min("expires_at"))
    if pending["count"] + adding > limit:
        first_expiry = pending["first_expiry"]
        retry = max(1, int((first_expiry - now).total_seconds())) if first_expiry else 3600
        raise AcmeProblem(
            "rateLimited",
            f"This account has {pending['count']} pending authorizations and may hold at "
            f"most {limit}: answer or deactivate some first.",
            status=429,
            headers={"Retry-After": str(retry)},
        )


def answer_challenge(*, challenge: AcmeChallenge) -> AcmeChallenge:
    """The client says the challenge is ready: queue its validation once (RFC 8555 7.5.1).

    Answering again, or in parallel, queues nothing more: only the request that moves the
    challenge from pending to processing enqueues it.
    """
    from acme_server.tasks import validate_challenge

    authorization = challenge.authorization
    if authorization.status != AuthorizationStatus.PENDING:
        return challenge
    with transaction.atomic():
        if advance(challenge, ChallengeStatus.PROCESSING):
            transaction.on_commit(lambda: validate_challenge.enqueue(challenge.pk))
    return challenge


def resume_stalled(*, challenge: AcmeChallenge) -> None:
    """Queue again a challenge whose worker died while validating it.

    A validation finishes within DV_CHECK_TIMEOUT; one still processing well past that
    (ACME_VALIDATION_STALL_SECONDS more) was left by a worker that stopped. The client's
    next poll queues it again, once (the update claims it), up to three times; after
    that the challenge fails with a reason instead of waiting for ever.
    """
    if challenge.status != ChallengeStatus.PROCESSING:
        return
    stalled_before = timezone.now() - timedelta(
        seconds=settings.DV_CHECK_TIMEOUT + settings.ACME_VALIDATION_STALL_SECONDS
    )
    if challenge.status_changed_at > stalled_before:
        return
    from acme_server.tasks import validate_challenge

    if challenge.attempts >= MAX_VALIDATION_ATTEMPTS:
        record_validation(
            challenge=challenge,
            ok=False,
            error=problem_json("serverInternal", "The validation did not finish; try again."),
        )
        return
    with transaction.atomic():
        claimed = AcmeChallenge.objects.filter(
            pk=challenge.pk,
            status=ChallengeStatus.PROCESSING,
            status_changed_at__lte=stalled_before,
        ).update(status_changed_at=timezone.now(), attempts=F("attempts") + 1)
        if claimed:
            transaction.on_commit(lambda: validate_challenge.enqueue(challenge.pk))


def deactivate_authorization(*, authorization: AcmeAuthorization) -> AcmeAuthorization:
    if not advance(authorization, AuthorizationStatus.DEACTIVATED):
        raise malformed("Only a pending or valid authorization can be deactivated.")
    return authorization


def record_validation(*, challenge: AcmeChallenge, ok: bool, error: dict | None) -> None:
    """A worker's verdict on a challenge: it moves the challenge, its authorization and order.

    Only the first verdict on a processing challenge counts, so a second worker running the
    same validation changes nothing.
    """
    with transaction.atomic():
        if ok:
            if not advance(
                challenge, ChallengeStatus.VALID, changes={"validated_at": timezone.now()}
            ):
                return
            authorization = challenge.authorization
            advance(authorization, AuthorizationStatus.VALID)
            order = authorization.order
            waiting = order.authorizations.exclude(status=AuthorizationStatus.VALID).exists()
            if not waiting:
                advance(order, OrderStatus.READY)
        else:
            if not advance(challenge, ChallengeStatus.INVALID, changes={"error": error}):
                return
            authorization = challenge.authorization
            advance(authorization, AuthorizationStatus.INVALID)
            advance(authorization.order, OrderStatus.INVALID, changes={"error": error})


def finalize_order(*, order: AcmeOrder, csr_der: bytes, account_uri: str) -> AcmeOrder:
    """finalize (RFC 8555 7.4): check the CSR, issue the certificate, the order is valid.

    The CSR must name exactly the order's names with an acceptable key. A refusal of the
    issuance gate makes the order invalid, with the reason as its error.
    """
    if order.expires_at <= timezone.now():
        advance(order, OrderStatus.INVALID, changes={"error": problem_json("malformed", EXPIRED)})
    if order.status != OrderStatus.READY:
        raise AcmeProblem("orderNotReady", f"The order is {order.status}, not ready.", status=403)
    try:
        request = csr_core.load_csr(csr_der)
        csr_core.check_csr(request, order.identifiers)
    except PKIError as error:
        raise AcmeProblem("badCSR", error.message) from None
    if not advance(order, OrderStatus.PROCESSING):
        raise AcmeProblem("orderNotReady", f"The order is {order.status}, not ready.", status=403)
    csr_pem = request.public_bytes(serialization.Encoding.PEM).decode()
    try:
        certificate = issue_acme_certificate(order=order, csr_pem=csr_pem, account_uri=account_uri)
    except (ActionNotAllowed, PKIError) as error:
        detail = error.message if isinstance(error, PKIError) else "; ".join(error.messages)
        advance(
            order,
            OrderStatus.INVALID,
            changes={"error": problem_json("rejectedIdentifier", detail)},
        )
        return order
    advance(order, OrderStatus.VALID, changes={"certificate": certificate})
    if order.replaces_id is not None:
        # A renewal: what was deployed of the one it replaces follows (deployments listen).
        send_replaced_on_commit(replaced=order.replaces, replacement=certificate)
    return order


def issue_acme_certificate(*, order: AcmeOrder, csr_pem: str, account_uri: str) -> Certificate:
    """Create the customer's ACME certificate for a ready order and issue it, in one
    transaction: a refusal leaves no certificate behind.

    The issuance gate reads domain control from the application's check results, so the
    order's valid challenges are written there; CAA's RFC 8657 parameters are matched
    against the account's URI and the challenge type.
    """
    account = order.account
    names = list(order.identifiers)
    proofs = {
        challenge.authorization.name: challenge
        for challenge in AcmeChallenge.objects.filter(
            authorization__order=order, status=ChallengeStatus.VALID
        ).select_related("authorization")
    }
    types = {challenge.type for challenge in proofs.values()}
    with transaction.atomic():
        certificate = create_acme_certificate(account=account, domains=names)
        application = Application(
            csr_source=Application.CsrSource.MANUAL,
            csr_pem=csr_pem,
            domains="\n".join(names),
        )
        save_application(
            certificate=certificate, application=application, submit=True, actor=account.owner
        )
        application.check_results = {
            name: {
                "ok": True,
                "detail": f"{challenge.type} challenge passed",
                "checked_at": challenge.validated_at.isoformat(),
            }
            for name, challenge in proofs.items()
            if challenge.validated_at
        }
        application.save(update_fields=["check_results", "updated_at"])
        issue_certificate(
            certificate=certificate,
            actor=account.owner,
            acme_account_uri=account_uri,
            # One method for CAA's validationmethods; an order proven by mixed types is
            # held to none, so such a record refuses it rather than letting it through.
            validation_method=types.pop() if len(types) == 1 else None,
        )
    return Certificate.objects.get(pk=certificate.pk)


def create_acme_certificate(*, account: AcmeAccount, domains: list[str]) -> Certificate:
    """The one place an ACME certificate row is made: a free DV certificate of the account's
    customer, pending its application (its creation, not a transition)."""
    if any(name.startswith("*.") for name in domains):
        scope = DomainScope.WILDCARD
    else:
        scope = DomainScope.MULTIPLE if len(domains) > 1 else DomainScope.SINGLE
    [certificate] = create_certificates(
        [
            Certificate(
                owner=account.owner,
                source=Source.ACME,
                brand=account.brand,
                validation_type=ValidationType.DV,
                domain_scope=scope,
                domain_count=len(domains),
            )
        ]
    )
    return certificate


def _names(identifiers: Any) -> list[str]:
    if not isinstance(identifiers, list) or not identifiers:
        raise malformed("identifiers must be a non-empty list.")
    if len(identifiers) > settings.ACME_MAX_NAMES:
        raise AcmeProblem(
            "rejectedIdentifier",
            f"An order may name at most {settings.ACME_MAX_NAMES} identifiers.",
        )
    names: list[str] = []
    problems = []
    for identifier in identifiers:
        if not isinstance(identifier, dict) or not isinstance(identifier.get("value"), str):
            raise malformed("Each identifier is an object with a type and a value.")
        if identifier.get("type") != "dns":
            raise AcmeProblem("unsupportedIdentifier", "Only dns identifiers are supported.")
        try:
            name = csr_core.normalize_domain(identifier["value"][:300], allow_wildcard=True)
        except InvalidDomainError as error:
            problems.append(
                {
                    **problem_json("rejectedIdentifier", error.message),
                    "identifier": {"type": "dns", "value": identifier["value"][:300]},
                }
            )
            continue
        if name not in names:
            names.append(name)
    if problems:
        raise AcmeProblem(
            "rejectedIdentifier",
            "The order names identifiers this CA does not issue for.",
            subproblems=problems,
        )
    return names


def _check_order_rate(account: AcmeAccount) -> None:
    _check_rate(
        AcmeOrder.objects.filter(account=account),
        "created_at",
        settings.ACME_ORDERS_PER_HOUR,
        "This account made {limit} orders in the last hour, the most allowed.",
    )


def _check_failed_validations(account: AcmeAccount, names: list[str]) -> None:
    """At most ACME_FAILED_VALIDATIONS_PER_HOUR failed challenges per name and account."""
    for domain in dict.fromkeys(name.removeprefix("*.") for name in names):
        _check_rate(
            AcmeChallenge.objects.filter(
                authorization__order__account=account,
                authorization__domain=domain,
                status=ChallengeStatus.INVALID,
            ),
            "status_changed_at",
            settings.ACME_FAILED_VALIDATIONS_PER_HOUR,
            f"{domain} failed validation {{limit}} times in the last hour, the most allowed.",
        )


def _check_rate(events, field: str, limit: int, message: str) -> None:
    """rateLimited, with Retry-After until the oldest of the last `limit` events is an hour
    old, when `limit` of them happened in the last hour."""
    now = timezone.now()
    times = list(
        events.filter(**{f"{field}__gt": now - timedelta(hours=1)})
        .order_by(f"-{field}")
        .values_list(field, flat=True)[:limit]
    )
    if len(times) >= limit:
        retry = max(1, int((times[-1] + timedelta(hours=1) - now).total_seconds()))
        raise AcmeProblem(
            "rateLimited",
            message.format(limit=limit),
            status=429,
            headers={"Retry-After": str(retry)},
        )


def _replaced_certificate(account: AcmeAccount, replaces: Any) -> Certificate | None:
    if replaces is None:
        return None
    from acme_server.selectors import certificate_for_renewal_id

    if not isinstance(replaces, str):
        raise malformed("replaces must be a certificate's renewal identifier.")
    certificate = certificate_for_renewal_id(replaces, owner=account.owner)
    if certificate is None:
        raise malformed("replaces names no certificate of this account's customer.")
    if AcmeOrder.objects.filter(
        replaces=certificate, status__in=[OrderStatus.VALID, OrderStatus.PROCESSING]
    ).exists():
        raise AcmeProblem("alreadyReplaced", "That certificate was already replaced.", status=409)
    return certificate
