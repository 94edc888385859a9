"""Warning owners before their certificates end (the notify_expiring job).

A certificate crosses a threshold T (a number of days from
CERTIFICATES_EXPIRY_WARNING_DAYS) once it ends within T days. Each owner gets
one email listing their certificates that crossed a threshold they were not
yet warned about; a certificate that crossed several since the last run is
listed once, at the smallest, and the larger ones count as done.

Each certificate and threshold is warned about at most once, ever. A run
claims a warning by inserting its ExpiryNotice row, which the unique
constraint on (certificate, threshold) lets only one run do; it sends only
what it claimed. The claim is committed before the email goes out, so:

- two runs at once never send the same warning: the second one's insert
  finds the row and is ignored (on PostgreSQL it waits for the first one's
  short claim transaction, not for its email);
- a run that dies after claiming and before the email is out leaves the
  claim with no sent_at, and that warning is never sent. We chose "maybe not
  sent" over "sent twice": a missed warning is followed by the next, smaller
  threshold (and the console shows the end date), while a duplicate is the
  spam the once-only rule exists to prevent. Such claims stay visible as
  notices with sent_at empty.
- when sending fails with an error (the mail server refused it, say), the run
  knows the email did not go out, so it withdraws its claims and the next run
  tries again.

Memory is bounded by one page of customers and their due certificates.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Case, Exists, IntegerField, OuterRef, QuerySet, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from certificates.lifecycle import CertificateStatus as Status
from certificates.models import Certificate, ExpiryNotice, Source
from certificates.translation import language_of

CUSTOMERS_PER_PAGE = 200

logger = logging.getLogger(__name__)


@dataclass
class NotifyResult:
    emails: int = 0
    certificates: int = 0
    failed_customers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WarnedCertificate:
    """One entry of an email: a certificate, the threshold it crossed and its address."""

    certificate: Certificate
    threshold_days: int
    # Whole days left at the run's time, rounded down as the console shows them.
    days_left: int
    url: str

    @property
    def renewed_by_acme(self) -> bool:
        """Its ACME client renews it: the email says so rather than "renew it"."""
        return self.certificate.source == Source.ACME


def certificate_url(pk: int) -> str:
    """The absolute address of a certificate's details page, for emails."""
    return settings.CONSOLE_BASE_URL + reverse("certificates:detail", args=[pk])


def due_for_warning(*, now: datetime, thresholds: tuple[int, ...]) -> QuerySet[Certificate]:
    """Certificates owing a warning, each annotated with `threshold`: the smallest crossed.

    Issued, not deleted, warnings on (for an ACME certificate, on its account too), not
    yet ended, ending within the largest threshold, owned by an active user with an email
    address, and with no notice yet at that smallest threshold.
    """
    crossed = Case(
        *(
            When(not_after__lte=now + timedelta(days=days), then=Value(days))
            for days in sorted(thresholds)
        ),
        output_field=IntegerField(),
    )
    notified = ExpiryNotice.objects.filter(
        certificate=OuterRef("pk"), threshold_days=OuterRef("threshold")
    )
    return (
        Certificate.objects.filter(
            status=Status.ISSUED,
            deleted_at__isnull=True,
            expiry_warnings_enabled=True,
            not_after__gt=now,
            not_after__lte=now + timedelta(days=max(thresholds)),
            owner__is_active=True,
        )
        .exclude(owner__email="")
        # An ACME client renews its certificates; its account may have turned warnings off.
        .exclude(acme_order__account__expiry_warnings=False)
        .annotate(threshold=crossed)
        .filter(~Exists(notified))
    )


def notify_expiring(
    *, now: datetime | None = None, thresholds: tuple[int, ...] | None = None
) -> NotifyResult:
    """Email every owner about their certificates that crossed a warning threshold."""
    now = now or timezone.now()
    thresholds = tuple(thresholds or settings.CERTIFICATES_EXPIRY_WARNING_DAYS)
    due = due_for_warning(now=now, thresholds=thresholds)
    run_id = uuid.uuid4()
    result = NotifyResult()
    users = get_user_model().objects
    last_owner = 0
    mail = get_connection()  # opened at the first email, then kept for the whole run
    try:
        while True:
            owners = list(
                due.filter(owner_id__gt=last_owner)
                .order_by("owner_id")
                .values_list("owner_id", flat=True)
                .distinct()[:CUSTOMERS_PER_PAGE]
            )
            if not owners:
                break
            last_owner = owners[-1]
            certificates = (
                due.filter(owner_id__in=owners)
                .only("pk", "owner_id", "name", "common_name", "domains", "not_after", "source")
                .order_by("owner_id", "not_after", "pk")
            )
            by_owner: dict[int, list[Certificate]] = {}
            for certificate in certificates:
                by_owner.setdefault(certificate.owner_id, []).append(certificate)
            customers = users.in_bulk(list(by_owner))
            for owner_id, owned in by_owner.items():
                customer = customers[owner_id]
                sent = _warn_customer(customer, owned, thresholds, run_id, mail, now)
                if sent is None:
                    result.failed_customers.append(customer.get_username())
                elif sent:
                    result.emails += 1
                    result.certificates += sent
    finally:
        mail.close()
    return result


def _warn_customer(customer, certificates, thresholds, run_id, mail, now) -> int | None:
    """Claim, send and record one customer's email.

    Returns how many certificates it listed (0: a concurrent run claimed them
    all), or None when sending failed and the claims were withdrawn.
    """
    ids = [certificate.pk for certificate in certificates]
    claimed = _claim(certificates, thresholds, run_id)
    warnings = [
        WarnedCertificate(
            certificate=certificate,
            threshold_days=certificate.threshold,
            days_left=(certificate.not_after - now) // timedelta(days=1),
            url=certificate_url(certificate.pk),
        )
        for certificate in certificates
        if (certificate.pk, certificate.threshold) in claimed
    ]
    ours = ExpiryNotice.objects.filter(run_id=run_id, certificate_id__in=ids)
    if not warnings:
        # Only larger thresholds were ours to claim; the email is another run's.
        ours.update(sent_at=now)
        return 0
    try:
        mail.open()
        _message(customer, warnings, mail, now).send()
    except Exception:
        # It did not go out (as far as we can tell): free the warnings for the next run.
        logger.exception("Could not send the expiry warning to %s", customer.get_username())
        ours.delete()
        return None
    ours.update(sent_at=timezone.now())
    return len(warnings)


def _claim(certificates, thresholds, run_id) -> set[tuple[int, int]]:
    """Insert the notices for every threshold each certificate crossed; return ours.

    Rows go in ordered by certificate and threshold, so two runs claiming
    overlapping sets take their unique-index locks in the same order and
    cannot deadlock.
    """
    notices = [
        ExpiryNotice(certificate_id=certificate.pk, threshold_days=days, run_id=run_id)
        for certificate in sorted(certificates, key=lambda certificate: certificate.pk)
        for days in sorted(thresholds)
        if days >= certificate.threshold
    ]
    # Committed on its own (autocommit) before any email goes out: see the module's docstring.
    ExpiryNotice.objects.bulk_create(notices, ignore_conflicts=True)
    return set(
        ExpiryNotice.objects.filter(
            run_id=run_id, certificate_id__in=[certificate.pk for certificate in certificates]
        ).values_list("certificate_id", "threshold_days")
    )


def _message(
    customer, warnings: list[WarnedCertificate], mail, now: datetime
) -> EmailMultiAlternatives:
    context = {
        "customer": customer,
        "warnings": warnings,
        "now": now,
        "overview_url": settings.CONSOLE_BASE_URL + reverse("certificates:overview"),
        "acme_url": settings.CONSOLE_BASE_URL + reverse("acme_credentials"),
        "acme": any(warning.renewed_by_acme for warning in warnings),
    }
    # Written in the customer's language, whoever runs the job.
    with translation.override(language_of(customer)):
        subject = render_to_string("emails/expiry_warning_subject.txt", context).strip()
        body = render_to_string("emails/expiry_warning.txt", context)
        html = render_to_string("emails/expiry_warning.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=body, to=[customer.email], connection=mail
    )
    message.attach_alternative(html, "text/html")
    return message
