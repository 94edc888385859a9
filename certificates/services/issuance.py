"""Issue and reissue: the brand's issuing CA signs, and every serial it signs is kept."""

from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certificates import authority, counters, domain_checks, issuance_policy
from certificates.audit import record_event, user_or_none
from certificates.errors import ActionNotAllowed
from certificates.issuance_policy import IssuanceRefused
from certificates.lifecycle import CertificateStatus, transition
from certificates.models import Application, Certificate, IssuedSerial, ValidationType
from certificates.pki import ca, csr
from certificates.pki.errors import PKIError
from certificates.pki.parsing import CertificateInfo, certificate_to_pem, describe_certificate
from certificates.services.ocsp_answers import store_ocsp_answer
from certificates.signals import send_replaced_on_commit


def fields_read_from(info: CertificateInfo) -> dict:
    """What the console keeps of a certificate, as the certificate itself says it."""
    return {
        "common_name": info.common_name,
        "domains": "\n".join(info.domains),
        "organization": info.organization,
        "issuer": info.issuer,
        "serial": info.serial,
        "fingerprint_sha256": info.fingerprint_sha256,
        "public_key_sha256": info.public_key_sha256,
        "key_algorithm": info.key_description,
        "not_before": info.not_before,
        "not_after": info.not_after,
    }


# Which field of an application (and of the apply form) holds each part of the subject.
SUBJECT_FIELDS: dict[str, str] = {
    "organization": "organization_name",
    "country": "organization_country",
    "state": "organization_state",
    "city": "organization_city",
    "business_category": "business_category",
    "jurisdiction_country": "jurisdiction_country",
    "registration_number": "registration_number",
}


def subject_from(values: Mapping[str, str | None]) -> ca.SubjectInfo:
    """The subject in an application's fields, by their names; a missing one is empty."""
    return ca.SubjectInfo(
        **{part: values.get(field) or "" for part, field in SUBJECT_FIELDS.items()}
    )


def subject_of(application: Application) -> ca.SubjectInfo | None:
    if application.certificate.validation_type == ValidationType.DV:
        return None
    return subject_from({field: getattr(application, field) for field in SUBJECT_FIELDS.values()})


def sign(
    certificate: Certificate,
    *,
    now: datetime | None = None,
    acme_account_uri: str | None = None,
    validation_method: str | None = None,
) -> dict:
    """Sign the application's CSR with the brand's issuing CA: the certificate's new fields.

    Through the issuance gate, which refuses (IssuanceRefused) unless every check passes.
    One certificate lasts at most CERTIFICATE_VALIDITY_DAYS, and never past what was
    bought. `now` (when the validity starts) defaults to after the CA exists: a CA made
    for this very certificate must not start after it. ACME names its account and the
    challenge type that proved the names, for CAA's RFC 8657 parameters.
    """
    application = certificate.application
    issuing = authority.issuing_authority(certificate.brand)
    now = now or timezone.now()
    validity_days = settings.CERTIFICATE_VALIDITY_DAYS
    if certificate.subscription_ends_at:
        remaining = (certificate.subscription_ends_at - now).days
        validity_days = max(1, min(validity_days, remaining))
    try:
        public_key = csr.csr_public_key(csr.load_csr(application.csr_pem))
    except PKIError as error:
        # A door without the apply form's checks (ACME, the API) may hand over such a CSR.
        raise IssuanceRefused([issuance_policy.Refusal(kind="key", reason=error.message)]) from None
    signed = issuance_policy.sign(
        request=issuance_policy.Request(
            issuer=authority.load(issuing),
            ca_slug=issuing.slug,
            public_key=public_key,
            domains=tuple(application.domain_list),
            validation_type=certificate.validation_type,
            subject=subject_of(application),
            now=now,
            validity_days=validity_days,
        ),
        validated_at=application.domains_validated_at(),
        acme_account_uri=acme_account_uri,
        validation_method=validation_method or caa_validation_method(application.validation_method),
    )
    info = describe_certificate(signed)
    return {
        "authority": issuing,
        "certificate_pem": certificate_to_pem(signed),
        "chain_pem": issuing.certificate_pem,
        **fields_read_from(info),
    }


def caa_validation_method(method: str) -> str:
    """The console's validation method as RFC 8657's validationmethods names it: CA-specific
    methods take the "ca-" prefix ("ca-dns", "ca-file")."""
    return f"ca-{method}"


def record_refusal(*, certificate: Certificate, refused: IssuanceRefused, actor) -> None:
    """The audit event of a refusal: every reason, and the lint's findings for operators."""
    record_event(
        actor=actor,
        action="certificate.issuance_refused",
        target=certificate,
        details={
            "reasons": [refusal.reason for refusal in refused.refusals],
            "findings": [line for refusal in refused.refusals for line in refusal.details],
        },
    )


def issue_certificate(
    *,
    certificate: Certificate,
    actor,
    now: datetime | None = None,
    acme_account_uri: str | None = None,
    validation_method: str | None = None,
) -> Certificate:
    """Sign the certificate with its brand's issuing CA and make it "Issued".

    The row is locked before anything is signed, so of two requests at once (two
    Verify clicks, two operators approving) one signs and the other is refused with
    a plain answer; no certificate is signed only to be thrown away. `now` is when
    its validity starts: the present, except for the demo data.
    """
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.status == CertificateStatus.ISSUED:
            raise ActionNotAllowed(_("This certificate was issued a moment ago."))
        if locked.status != CertificateStatus.VALIDATING:
            raise ActionNotAllowed(
                _("Only a certificate in validation can be issued; this one is %(status)s.")
                % {"status": locked.get_status_display()}
            )
        try:
            fields = sign(
                locked,
                now=now,
                acme_account_uri=acme_account_uri,
                validation_method=validation_method,
            )
        except IssuanceRefused as error:
            refused = error
            record_refusal(certificate=certificate, refused=refused, actor=actor)
        else:
            refused = None
            transition(
                certificate,
                CertificateStatus.ISSUED,
                actor=actor,
                changes=fields,
                details={"serial": fields["serial"]},
            )
            record_issued_serial(certificate=certificate)
            store_ocsp_answer(certificate=certificate)
            if certificate.validation_type != ValidationType.DV:
                Application.objects.filter(certificate=certificate).update(
                    reviewed_by=user_or_none(actor),
                    reviewed_at=timezone.now(),
                )
    # Raised once the refusal's audit event is committed: nothing was signed or changed.
    if refused is not None:
        raise refused
    return certificate


def reissue_certificate(
    *, certificate: Certificate, actor, replaces_serial: str | None = None
) -> Certificate:
    """Issue the certificate again for the same domains and key, for what is left of the purchase.

    `replaces_serial` is the serial the customer saw when asking (the page sends it):
    requests that replace a serial already replaced are refused, so a repeated or
    parallel "Reissue" reissues once. Without it, the caller's copy of the row says
    which serial it means. The old certificate stays valid until its own end date.
    """
    expected_serial = certificate.serial if replaces_serial is None else replaces_serial
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.serial != expected_serial:
            raise ActionNotAllowed(
                _("This certificate was reissued meanwhile; the details page shows the new one.")
            )
        if not locked.can_reissue:
            raise ActionNotAllowed(
                _(
                    "Only an issued certificate with purchased time left after its end date can be "
                    "reissued."
                )
            )
        try:
            fields = sign(locked)
        except IssuanceRefused as error:
            refused = error
            record_refusal(certificate=locked, refused=refused, actor=actor)
            if all(refusal.kind == "stale_domain_control" for refusal in refused.refusals):
                refused = back_to_validation(certificate=certificate, refused=refused, actor=actor)
        else:
            refused = None
            counted_as = counters.key_of(locked)
            for name, value in fields.items():
                setattr(locked, name, value)
                setattr(certificate, name, value)
            locked.save(update_fields=[*fields, "updated_at"])
            # The new end date moves it to another day of the "Will Expire" counts.
            counters.record_moves([(counted_as, counters.key_of(locked))])
            record_issued_serial(certificate=locked)
            store_ocsp_answer(certificate=locked)
            record_event(
                actor=actor,
                action="certificate.reissue",
                target=locked,
                details={"old_serial": expected_serial, "serial": fields["serial"]},
            )
            send_replaced_on_commit(replaced=locked, replacement=locked)
    if refused is not None:
        raise refused
    return certificate


def back_to_validation(
    *, certificate: Certificate, refused: IssuanceRefused, actor
) -> ActionNotAllowed:
    """A reissue whose domain checks are older than the reuse period: validate them again.

    The certificate goes back to validation with a new token; the one already signed is
    not revoked and stays valid until its own end date. The answer says what to do.
    """
    Application.objects.filter(certificate=certificate).update(
        validation_token=domain_checks.new_token(),
        check_results={},
        submitted_at=timezone.now(),
    )
    transition(
        certificate,
        CertificateStatus.VALIDATING,
        actor=actor,
        details={"reason": "domain checks older than the reuse period"},
    )
    return ActionNotAllowed(
        _(
            "%(refused)s The certificate went back to validation: publish the new DNS record or "
            "file and press Verify; the certificate issued before stays valid until %(not_after)s."
        )
        % {"refused": refused, "not_after": format(certificate.not_after, "%Y-%m-%d")}
    )


def record_issued_serial(*, certificate: Certificate) -> IssuedSerial:
    """Remember a serial the CA signed for this certificate, for OCSP and the CRL."""
    return IssuedSerial.objects.create(
        certificate=certificate,
        authority=certificate.authority,
        serial=certificate.serial,
        # The shard its CRL distribution point names (the issuance gate built it so).
        crl_shard=ca.crl_shard(int(certificate.serial, 16), settings.CRL_SHARDS),
        not_before=certificate.not_before,
        not_after=certificate.not_after,
    )
