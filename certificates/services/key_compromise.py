"""Key-compromise reports: whoever holds a key proves it, and every certificate of it goes.

The public page gives a challenge: a random string signed with SECRET_KEY and timestamped,
so it needs no row to be kept and an old one is refused. The reporter puts it as the
common name of a CSR signed with the compromised key. Only the key's holder can make that
signature, and the private key itself is never asked for. A valid proof lists the key and
revokes, for key compromise, every unexpired certificate of it, whoever's it is.
"""

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from smtplib import SMTPException

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from certificates import compromised_keys
from certificates.audit import record_event
from certificates.lifecycle import CertificateStatus
from certificates.models import Certificate, CompromisedKey, RevocationRequest, Source, not_ended
from certificates.pki.csr import read_possession_proof
from certificates.pki.errors import PKIError
from certificates.services.revocation import revoke_for_key_compromise
from certificates.translation import language_of

logger = logging.getLogger(__name__)

CHALLENGE_SALT = "certificates.key_compromise.challenge"
# Long enough to make a CSR by hand, short enough that an old CSR is no proof today.
CHALLENGE_VALIDITY = timedelta(hours=1)


def _signer() -> signing.TimestampSigner:
    # A random value, its timestamp and a SHA-256 signature: 62 characters, within the
    # 64 that X.520 allows a common name.
    return signing.TimestampSigner(salt=CHALLENGE_SALT, algorithm="sha256")


def new_challenge() -> str:
    """A fresh challenge for the page to show; it works for CHALLENGE_VALIDITY."""
    return _signer().sign(secrets.token_urlsafe(8))


def is_live_challenge(text: str) -> bool:
    """Whether `text` is a challenge this console gave that has not expired."""
    try:
        _signer().unsign(text, max_age=CHALLENGE_VALIDITY)
    except signing.BadSignature:
        return False
    return True


@dataclass(frozen=True)
class KeyCompromiseReport:
    public_key_sha256: str
    # Certificates this report revoked; others of the key may have been revoked before.
    revoked: int
    already_listed: bool


def report_compromised_key(*, csr_pem: str) -> KeyCompromiseReport:
    """Check the proof of possession, then list the key and revoke its certificates.

    A refused proof raises ValidationError (with the reason, for the CSR field) and
    changes nothing. Owners of revoked certificates are emailed once it is committed.
    """
    try:
        proof = read_possession_proof(csr_pem)
    except PKIError as error:
        raise ValidationError(error.message, code="csr") from None
    _check_challenge(proof.common_names)
    key = proof.public_key_sha256
    with transaction.atomic():
        already_listed = CompromisedKey.objects.filter(public_key_sha256=key).exists()
        # Listed first, so the list says it was reported, before revocations list it again.
        listed = compromised_keys.add(key_sha256=key, source=CompromisedKey.Source.REPORT)
        revoked = [
            revocation
            for certificate in _revocable_certificates(key)
            if (revocation := revoke_for_key_compromise(certificate=certificate, actor=None))
        ]
        if listed.certificate_id is None and revoked:
            listed.certificate = revoked[0].certificate
            listed.save(update_fields=["certificate"])
        record_event(
            actor=None,
            action="key_compromise.report",
            target=listed,
            details={
                "public_key_sha256": key,
                "revoked": [revocation.certificate_id for revocation in revoked],
            },
        )
        transaction.on_commit(lambda: _tell_owners(revoked))
    return KeyCompromiseReport(
        public_key_sha256=key, revoked=len(revoked), already_listed=already_listed
    )


def _check_challenge(common_names: tuple[str, ...]) -> None:
    minutes = int(CHALLENGE_VALIDITY.total_seconds() // 60)
    if not common_names:
        raise ValidationError(
            _(
                "The CSR's subject has no common name (CN): make the CSR with the challenge this "
                "page shows as its common name."
            ),
            code="csr",
        )
    expired = False
    for name in common_names:
        try:
            _signer().unsign(name, max_age=CHALLENGE_VALIDITY)
        except signing.SignatureExpired:
            expired = True
        except signing.BadSignature:
            continue
        else:
            return
    if expired:
        raise ValidationError(
            _(
                "The challenge in the CSR has expired: a challenge works for %(minutes)s minutes, "
                "so an old CSR proves nothing today. Make a new CSR with the challenge shown now."
            )
            % {"minutes": minutes},
            code="csr",
        )
    raise ValidationError(
        _(
            "The CSR's common name is not a challenge this page gave. Make the CSR with exactly "
            "the challenge shown as its common name (CN), and nothing else in the common name."
        ),
        code="csr",
    )


def _revocable_certificates(key: str) -> list[Certificate]:
    """Every certificate of the key this console's CA signed that may still be trusted."""
    return list(
        Certificate.objects.filter(
            not_ended(timezone.now()),
            public_key_sha256=key,
            source=Source.CONSOLE,
            authority__isnull=False,
            status__in=[CertificateStatus.ISSUED, CertificateStatus.REVOKING],
        ).order_by("pk")
    )


def _tell_owners(revoked: list[RevocationRequest]) -> None:
    """One email per owner listing their certificates revoked. The revocations stand
    whatever happens to the email: a failure is logged, not raised."""
    by_owner: dict = defaultdict(list)
    for revocation in revoked:
        by_owner[revocation.certificate.owner].append(revocation.certificate)
    for owner, certificates in by_owner.items():
        if not owner.email:
            continue
        context = {
            "owner": owner,
            "certificates": certificates,
            "base_url": settings.CONSOLE_BASE_URL,
        }
        with translation.override(language_of(owner)):
            subject = render_to_string("emails/key_compromise_subject.txt", context)
            body = render_to_string("emails/key_compromise.txt", context)
        try:
            send_mail(" ".join(subject.split()), body, None, [owner.email])
        except (OSError, SMTPException):
            logger.exception("Could not tell user %s of certificates revoked", owner.pk)
