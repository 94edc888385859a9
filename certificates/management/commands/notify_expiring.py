import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from certificates.expiry_warnings import notify_expiring
from certificates.management.batch_output import plural


class Command(BaseCommand):
    help = (
        "Email each owner once about their certificates that crossed an expiry warning "
        "threshold (CERTIFICATES_EXPIRY_WARNING_DAYS); each certificate and threshold once ever."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            result = notify_expiring()
        except Exception as error:
            raise CommandError(
                f"Stopped: {error}. Run it again; warnings already sent are not sent twice."
            ) from error
        seconds = time.monotonic() - started
        days = ", ".join(str(days) for days in settings.CERTIFICATES_EXPIRY_WARNING_DAYS)
        self.stdout.write(
            f"Sent {plural(result.emails, 'email')} about "
            f"{plural(result.certificates, 'certificate')} (thresholds: {days} days) "
            f"in {seconds:.1f}s."
        )
        if result.failed_customers:
            names = ", ".join(result.failed_customers[:10])
            more = len(result.failed_customers) - 10
            raise CommandError(
                f"Could not send {plural(len(result.failed_customers), 'email')} "
                f"(to {names}{f' and {more} more' if more > 0 else ''}); "
                "they will be tried again on the next run."
            )
