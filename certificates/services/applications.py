"""Apply and validate: the request information, domain checks and the operators' review."""

from datetime import timedelta

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from certificates import domain_checks, key_encryption
from certificates.audit import record_event, user_or_none
from certificates.errors import ActionNotAllowed
from certificates.lifecycle import CertificateStatus, transition
from certificates.models import Application, Certificate, ValidationType
from certificates.pki import csr
from certificates.pki.parsing import private_key_to_pem
from certificates.services.issuance import issue_certificate
from certificates.translation import stored_message

NOT_WAITING_FOR_APPLICATION = gettext_noop("This certificate is not waiting for an application.")
NOT_IN_VALIDATION = gettext_noop("Only a certificate in validation can be verified.")


def save_application(
    *, certificate: Certificate, application: Application, submit: bool, actor
) -> Application:
    """Keep the request information as a draft, or submit it for validation.

    Submitting with a system-generated CSR makes the key here and keeps it
    encrypted; with a manual CSR the console never sees a key.
    """
    with transaction.atomic():
        # Locked first: of parallel saves one goes at a time, and each sees the last.
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if not locked.can_apply:
            raise ActionNotAllowed(_(NOT_WAITING_FOR_APPLICATION))
        if application.pk is None:
            # A parallel first save made the row meanwhile: this one updates it.
            application.pk = (
                Application.objects.filter(certificate=certificate)
                .values_list("pk", flat=True)
                .first()
            )
            application._state.adding = application.pk is None
        application.certificate = certificate
        if not submit:
            application.save()
            record_event(actor=actor, action="application.draft", target=certificate)
            return application
        key_pem = ""
        if application.csr_source == Application.CsrSource.SYSTEM:
            key = csr.generate_private_key(application.key_type)
            request = csr.build_csr(key, application.domain_list)
            application.csr_pem = request.public_bytes(serialization.Encoding.PEM).decode()
            key_pem = key_encryption.encrypt_private_key(private_key_to_pem(key))
        application.validation_token = domain_checks.new_token()
        application.submitted_at = timezone.now()
        application.check_results = {}
        application.rejection_reason = ""
        application.save()
        transition(
            certificate,
            CertificateStatus.VALIDATING,
            actor=actor,
            changes={
                "domains": "\n".join(application.domain_list),
                "common_name": application.domain_list[0],
                "organization": application.organization_name,
                "private_key_encrypted": key_pem,
            },
        )
    return application


def withdraw_application(*, certificate: Certificate, actor) -> None:
    """Take a submitted application back: the certificate waits for a new one."""
    if not certificate.can_withdraw:
        raise ActionNotAllowed(_("Only an application in validation or failed can be withdrawn."))
    transition(certificate, CertificateStatus.PENDING_APPLICATION, actor=actor)


def request_verification(*, certificate: Certificate, actor) -> bool:
    """Queue a check of every domain for the background worker (Verify).

    A slow or silent domain then holds a worker, never a web request. Of parallel Verify
    clicks one queues the check; the others find it queued and return False.
    """
    from certificates.tasks import verify_application

    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.status != CertificateStatus.VALIDATING:
            raise ActionNotAllowed(_(NOT_IN_VALIDATION))
        application = Application.objects.get(certificate=locked)
        if application.is_checking:
            return False
        application.check_requested_at = timezone.now()
        application.check_refusal = ""
        application.save(update_fields=["check_requested_at", "check_refusal", "updated_at"])
    # Queued after the commit, so a worker finds the request that asked for it.
    verify_application.enqueue(certificate.pk, getattr(user_or_none(actor), "pk", None))
    return True


def run_verification(*, certificate_id: int, actor) -> None:
    """The worker's half of Verify: check the domains, keep a refusal to issue for the page,
    and mark the check done whatever happened."""
    certificate = (
        Certificate.objects.select_related("application").filter(pk=certificate_id).first()
    )
    if certificate is None:
        return
    refusal = ""
    try:
        if certificate.status == CertificateStatus.VALIDATING:
            verify_domains(certificate=certificate, actor=actor)
    except ActionNotAllowed as error:
        refusal = error.message
    finally:
        Application.objects.filter(certificate_id=certificate_id).update(
            check_requested_at=None, check_refusal=refusal, updated_at=timezone.now()
        )


def verify_domains(*, certificate: Certificate, actor) -> list[domain_checks.CheckResult]:
    """Check every domain's DNS record or file now, for DV, OV and EV alike.

    All found issues a DV certificate; an OV or EV one then waits for the operators'
    review of the organization, whose Approve needs every name checked.
    """
    if certificate.status != CertificateStatus.VALIDATING:
        raise ActionNotAllowed(_(NOT_IN_VALIDATION))
    application = certificate.application
    resolver = domain_checks.Resolver(
        nameservers=tuple(settings.DV_NAMESERVERS),
        port=settings.DV_DNS_PORT,
        timeout=settings.DV_CHECK_TIMEOUT,
    )
    # The network checks run outside any transaction: they can take seconds. All names are
    # checked at once, so a Verify answers within about one timeout however many there are.
    results = domain_checks.check_domains(
        application.validation_method,
        application.domain_list,
        application.validation_token,
        resolver=resolver,
        http_port=settings.DV_HTTP_PORT,
        http_timeout=settings.DV_CHECK_TIMEOUT,
        allowed_networks=settings.DV_ALLOWED_NETWORKS,
    )
    checked_at = timezone.now()
    application.check_results = {
        r.domain: {
            "ok": r.ok,
            "detail": r.detail,
            "checked_at": checked_at.isoformat(),
            **stored_message(r.message),
        }
        for r in results
    }
    application.last_checked_at = checked_at
    application.save(update_fields=["check_results", "last_checked_at", "updated_at"])
    if all(result.ok for result in results):
        if certificate.validation_type == ValidationType.DV:
            issue_certificate(certificate=certificate, actor=actor)
    elif application.submitted_at < timezone.now() - timedelta(
        days=settings.DV_CHECK_FAIL_AFTER_DAYS
    ):
        failed = "; ".join(result.detail for result in results if not result.ok)
        reject_application(
            certificate=certificate,
            reason=_("Domain validation did not succeed within %(days)s days: %(failed)s")
            % {"days": settings.DV_CHECK_FAIL_AFTER_DAYS, "failed": failed},
            actor=actor,
        )
    return results


def approve_application(*, certificate: Certificate, actor) -> Certificate:
    """An operator found the organization real: issue the OV/EV certificate."""
    if certificate.validation_type == ValidationType.DV:
        raise ActionNotAllowed(_("DV certificates are issued by their domain validation."))
    # The operator's own wording for a stale page; issue_certificate checks the status
    # again under the row lock before it signs.
    if certificate.status != CertificateStatus.VALIDATING:
        raise ActionNotAllowed(
            _(
                "Only an application waiting for review can be approved; this certificate is "
                "%(status)s."
            )
            % {"status": certificate.get_status_display()}
        )
    unchecked = [
        domain
        for domain, proven in certificate.application.domains_validated_at().items()
        if proven is None
    ]
    if unchecked:
        raise ActionNotAllowed(
            _(
                "Approve waits until every domain passed its DNS record or file check; not yet: "
                "%(unchecked)s."
            )
            % {"unchecked": ", ".join(unchecked)}
        )
    return issue_certificate(certificate=certificate, actor=actor)


def reject_application(*, certificate: Certificate, reason: str, actor) -> None:
    """The check failed: "Check Fail" with the reason, which the customer sees."""
    if not reason.strip():
        raise ValidationError(_("Give the reason the customer will see."))
    with transaction.atomic():
        transition(
            certificate, CertificateStatus.CHECK_FAIL, actor=actor, details={"reason": reason}
        )
        Application.objects.filter(certificate=certificate).update(
            rejection_reason=reason,
            reviewed_by=user_or_none(actor),
            reviewed_at=timezone.now(),
        )
