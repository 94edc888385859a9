"""Revocation: the customer's request, its emailed confirmation, and the CA's decision."""

from datetime import datetime, timedelta
from smtplib import SMTPException

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from certificates import compromised_keys, refunds, selectors
from certificates.audit import record_event, user_or_none
from certificates.errors import ActionNotAllowed
from certificates.lifecycle import (
    CertificateStatus,
    RevocationStatus,
    TransitionNotAllowed,
    transition,
)
from certificates.models import (
    Application,
    Certificate,
    CertificateAuthority,
    CompromisedKey,
    Order,
    RevocationReason,
    RevocationRequest,
)
from certificates.services.ocsp_answers import store_ocsp_answer
from certificates.services.publication import mark_crl_shards_stale
from certificates.translation import language_of

CONFIRMATION_SALT = "certificates.revocation.confirm"


def _ca_submission(now: datetime, *, reason: int) -> dict:
    """The fields of a request that reaches the CA now: it has its business days from today,
    except for key compromise, which the Baseline Requirements (4.9.1.1) give 24 hours."""
    if reason == RevocationReason.KEY_COMPROMISE:
        due = timezone.localdate(now + timedelta(hours=24))
    else:
        due = refunds.add_business_days(
            timezone.localdate(now),
            settings.REVOCATION_CA_BUSINESS_DAYS,
            settings.REVOCATION_HOLIDAYS,
        )
    return {"submitted_to_ca_at": now, "due_date": due}


def _confirmation_address(certificate: Certificate) -> str:
    application = Application.objects.filter(certificate=certificate).first()
    address = (application and application.contact_email) or certificate.owner.email
    if not address:
        raise ActionNotAllowed(
            _(
                "There is no email address to send the confirmation to: the application has no "
                "contact email."
            )
        )
    return address


def revocation_confirmation_token(revocation: RevocationRequest) -> str:
    """The signed, timestamped token of the emailed link; only this request's id is in it."""
    return signing.TimestampSigner(salt=CONFIRMATION_SALT).sign(str(revocation.pk))


def _send_confirmation(revocation: RevocationRequest) -> None:
    token = revocation_confirmation_token(revocation)
    context = {
        "revocation": revocation,
        "certificate": revocation.certificate,
        "url": settings.CONSOLE_BASE_URL + reverse("confirm_revocation", args=[token]),
        "hours": settings.REVOCATION_CONFIRMATION_HOURS,
    }
    # In the certificate owner's language: the contact confirms on their behalf.
    with translation.override(language_of(revocation.certificate.owner)):
        subject = render_to_string("emails/revocation_confirmation_subject.txt", context)
        body = render_to_string("emails/revocation_confirmation.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, None, [revocation.confirmation_email])
    except (OSError, SMTPException):
        # The request is rolled back with it: no request waits for a link never sent.
        raise ActionNotAllowed(
            _("The confirmation email could not be sent. Nothing was changed; try again later.")
        ) from None


def request_revocation(
    *, certificate: Certificate, reason: int, actor, now: datetime | None = None
) -> RevocationRequest:
    """The customer asks to revoke a certificate; from now on it can't be downloaded.

    DV goes straight to the CA. OV/EV first waits for the applicant to confirm by the
    emailed link. Key compromise never waits for the CA: a DV certificate is revoked at
    once, an OV/EV one when its link is confirmed. The certificate row is locked, so of
    two requests at once one wins. `now` places the request at another time (the demo
    seed's history); its business days count from then.
    """
    if reason not in RevocationReason.values:
        raise ValidationError(_("Choose one of the offered reasons."))
    now = now or timezone.now()
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.revoke_refusal:
            raise ActionNotAllowed(locked.revoke_refusal)
        by_email = locked.revocation_needs_confirmation
        address = _confirmation_address(locked) if by_email else ""
        transition(certificate, CertificateStatus.REVOKING, actor=actor, details={"reason": reason})
        fields = (
            {
                "status": RevocationStatus.AWAITING_CONFIRMATION,
                "confirmation_email": address,
                "confirmation_sent_at": now,
            }
            if by_email
            else {"status": RevocationStatus.PENDING, **_ca_submission(now, reason=reason)}
        )
        revocation = RevocationRequest.objects.create(
            certificate=certificate, requested_by=actor, reason=reason, created_at=now, **fields
        )
        record_event(
            actor=actor,
            action="revocation.request",
            target=revocation,
            details={"certificate": certificate.pk, "reason": reason, "email": address},
        )
        if by_email:
            _send_confirmation(revocation)
        elif revocation.is_key_compromise:
            _revoke(revocation, actor=actor, operator=None, now=now)
    return revocation


def revoke_for_key_compromise(*, certificate: Certificate, actor) -> RevocationRequest | None:
    """Revoke at once for key compromise, someone having proved possession of its key.

    Whatever stage a revocation of it is at: an open request (awaiting its emailed link
    or with the CA) is completed now, with key compromise as its reason. None when there
    is nothing to revoke any more (revoked a moment ago, ended, never issued). The
    certificate row is locked and re-read, so two reports at once revoke it once.
    """
    now = timezone.now()
    reason = RevocationReason.KEY_COMPROMISE
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.display_status == CertificateStatus.ISSUED and locked.authority_id:
            transition(locked, CertificateStatus.REVOKING, actor=actor, details={"reason": reason})
            revocation = RevocationRequest.objects.create(
                certificate=locked,
                requested_by=user_or_none(actor),
                reason=reason,
                status=RevocationStatus.PENDING,
                **_ca_submission(now, reason=reason),
            )
            record_event(
                actor=actor,
                action="revocation.request",
                target=revocation,
                details={"certificate": locked.pk, "reason": reason, "proof": "key possession"},
            )
            _revoke(revocation, actor=actor, operator=None)
            return revocation
        if locked.status != CertificateStatus.REVOKING or locked.has_ended:
            return None
        revocation = RevocationRequest.objects.select_for_update().get(
            certificate=locked,
            status__in=[RevocationStatus.AWAITING_CONFIRMATION, RevocationStatus.PENDING],
        )
        if revocation.status == RevocationStatus.AWAITING_CONFIRMATION:
            # The proof of possession stands in for the applicant's confirmation.
            transition(
                revocation,
                RevocationStatus.PENDING,
                actor=actor,
                changes=_ca_submission(now, reason=reason),
                details={"confirmed_by": "proof of possession of the key"},
            )
        _revoke(
            revocation,
            actor=actor,
            operator=None,
            changes={"reason": reason},
            details={"reason_was": revocation.reason},
        )
    return revocation


def revocation_for_token(*, token: str) -> RevocationRequest:
    """The request an emailed link confirms, if the link is genuine, unexpired and unused."""
    signer = signing.TimestampSigner(salt=CONFIRMATION_SALT)
    try:
        pk = signer.unsign(token, max_age=timedelta(hours=settings.REVOCATION_CONFIRMATION_HOURS))
        revocation = RevocationRequest.objects.select_related("certificate").get(pk=int(pk))
    except signing.SignatureExpired:
        raise ActionNotAllowed(
            _(
                "This confirmation link has expired: links are valid for "
                "%(hours)s hours. Nothing was revoked. To revoke the "
                "certificate, cancel the request in the console and make a new one."
            )
            % {"hours": settings.REVOCATION_CONFIRMATION_HOURS}
        ) from None
    except (signing.BadSignature, ValueError, RevocationRequest.DoesNotExist):
        raise ValidationError(
            _("This confirmation link is not valid. Open the link exactly as it is in the email.")
        ) from None
    if revocation.status == RevocationStatus.CANCELLED:
        raise ActionNotAllowed(_("This revocation request was cancelled: nothing will be revoked."))
    if revocation.status != RevocationStatus.AWAITING_CONFIRMATION:
        raise ActionNotAllowed(_("This revocation request has already been confirmed."))
    return revocation


def confirm_revocation(*, token: str, actor) -> RevocationRequest:
    """The applicant confirmed by the emailed link: the request goes to the CA.

    The link works once: confirming moves the request on, and a second use finds it
    no longer awaiting confirmation.
    """
    now = timezone.now()
    with transaction.atomic():
        revocation = revocation_for_token(token=token)
        try:
            transition(
                revocation,
                RevocationStatus.PENDING,
                actor=actor,
                changes={
                    "confirmed_at": now,
                    **_ca_submission(now, reason=revocation.reason),
                },
                details={"confirmed_by": revocation.confirmation_email},
            )
        except TransitionNotAllowed:
            # Confirmed or cancelled a moment ago, by another request.
            raise ActionNotAllowed(
                _("This revocation request is no longer awaiting confirmation.")
            ) from None
        if revocation.is_key_compromise:
            _revoke(revocation, actor=actor, operator=None)
    return revocation


def _reinstate(certificate: Certificate, *, actor, details: dict) -> None:
    """Back to issued after a revocation that won't happen, or expired if it ran out meanwhile."""
    status = CertificateStatus.EXPIRED if certificate.has_ended else CertificateStatus.ISSUED
    transition(certificate, status, actor=actor, details=details)


def cancel_revocation(*, certificate: Certificate, actor) -> RevocationRequest:
    """The customer takes back a request still awaiting its email confirmation."""
    with transaction.atomic():
        revocation = (
            RevocationRequest.objects.select_for_update()
            .filter(certificate=certificate, status=RevocationStatus.AWAITING_CONFIRMATION)
            .first()
        )
        if revocation is None:
            raise ActionNotAllowed(
                _(
                    "Only a revocation request still awaiting its email confirmation can be "
                    "cancelled."
                )
            )
        transition(revocation, RevocationStatus.CANCELLED, actor=actor)
        _reinstate(certificate, actor=actor, details={"revocation": "cancelled"})
    return revocation


def complete_revocation(
    *, revocation: RevocationRequest, actor, now: datetime | None = None
) -> RevocationRequest:
    """The CA revokes: the certificate enters the CRL and OCSP, and the refund is recorded.

    Refund: the certificate's price when completed within the refund window of its
    issuance, else nothing; it is added to the order. The request's row lock makes two
    operators completing it at once revoke it once. `now`, as for `request_revocation`.
    """
    with transaction.atomic():
        _revoke(revocation, actor=actor, operator=user_or_none(actor), now=now)
    return revocation


def _revoke(
    revocation: RevocationRequest,
    *,
    actor,
    operator,
    changes: dict | None = None,
    details: dict | None = None,
    now: datetime | None = None,
) -> None:
    """Complete a request with the CA: the certificate is revoked, refunded if due, put on
    the next CRL and in OCSP; a key revoked for key compromise goes on the compromised-key
    list. `operator` is who decided (None when no one had to); `changes` go on the request
    with its completion. Runs in the caller's transaction."""
    now = now or timezone.now()
    certificate = Certificate.objects.select_related("order").get(pk=revocation.certificate_id)
    # The same selector gives the admin's preview, so the preview is what is refunded.
    refund = selectors.refund_on(
        certificate=certificate, completed_on=timezone.localdate(now)
    ).amount
    transition(
        revocation,
        RevocationStatus.COMPLETED,
        actor=actor,
        changes={
            "completed_at": now,
            "processed_by": operator,
            "refund_amount": refund,
            **(changes or {}),
        },
        details=details,
    )
    transition(
        certificate,
        CertificateStatus.REVOKED,
        actor=actor,
        details={"reason": revocation.reason, "refund": str(refund)},
    )
    if refund:
        order = Order.objects.select_for_update().get(pk=certificate.order_id)
        order.refund_amount = min(order.refund_amount + refund, order.amount)
        order.refunded_at = now
        order.save(update_fields=["refund_amount", "refunded_at", "updated_at"])
    if revocation.is_key_compromise:
        compromised_keys.add(
            key_sha256=certificate.public_key_sha256,
            source=CompromisedKey.Source.REVOCATION,
            certificate=certificate,
        )
    # The next download publishes a new CRL. This waits for a CRL being built right
    # now (it holds the CA row) and then marks it stale, so none is left out.
    CertificateAuthority.objects.filter(pk=certificate.authority_id).update(crl_refresh_at=None)
    # And only the CRL shards its serials are in.
    mark_crl_shards_stale(certificate_id=certificate.pk)
    # In this transaction: the stored OCSP answers say revoked as soon as it commits.
    store_ocsp_answer(certificate=certificate)
    revocation.certificate = certificate


def reject_revocation(*, revocation: RevocationRequest, reason: str, actor) -> RevocationRequest:
    """The CA refuses: the certificate is issued again, and the customer sees the reason."""
    if not reason.strip():
        raise ValidationError(_("Give the reason the customer will see."))
    with transaction.atomic():
        # Locked first: a key-compromise report may be turning it into one right now.
        locked = RevocationRequest.objects.select_for_update().get(pk=revocation.pk)
        if locked.reject_refusal:
            raise ActionNotAllowed(locked.reject_refusal)
        transition(
            revocation,
            RevocationStatus.REJECTED,
            actor=actor,
            changes={"rejection_reason": reason, "processed_by": user_or_none(actor)},
            details={"reason": reason},
        )
        _reinstate(revocation.certificate, actor=actor, details={"revocation": "rejected"})
    return revocation
