import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from certificates.management.batch_output import add_batch_options, plural
from certificates.services.ocsp_answers import (
    DEFAULT_BATCH_SIZE,
    due_for_refresh,
    refresh_ocsp_answers,
)


class Command(BaseCommand):
    help = (
        "Sign again every stored OCSP answer past half its validity (of certificates not "
        "yet expired), in batches, each its own transaction. Safe to rerun and to run on "
        "several hosts at once."
    )

    def add_arguments(self, parser):
        add_batch_options(
            parser,
            default=DEFAULT_BATCH_SIZE,
            unit="Answers",
            dry_run="Count the answers that would be signed again; change nothing.",
        )

    def handle(self, *args, batch_size: int, dry_run: bool, **options):
        started = time.monotonic()
        now = timezone.now()
        if dry_run:
            count = due_for_refresh(now=now).count()
            self.stdout.write(
                f"Dry run: would sign {plural(count, 'OCSP answer')} again; nothing was changed."
            )
            return
        try:
            done = refresh_ocsp_answers(now=now, batch_size=batch_size)
        except Exception as error:
            raise CommandError(
                f"Stopped refreshing OCSP answers: {error}. Run it again to finish; "
                "batches already done stay done."
            ) from error
        seconds = time.monotonic() - started
        self.stdout.write(f"Signed {plural(done, 'OCSP answer')} again in {seconds:.1f}s.")
