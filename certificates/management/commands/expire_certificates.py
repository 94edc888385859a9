import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from certificates.expiry import DEFAULT_BATCH_SIZE, due_for_expiry, expire_due
from certificates.management.batch_output import (
    ProgressLine,
    add_batch_options,
    plural,
    stopped,
)


class Command(BaseCommand):
    help = (
        "Move every issued certificate whose end date has passed to expired, in batches, "
        "each its own transaction. Safe to rerun and to run on several hosts at once."
    )

    def add_arguments(self, parser):
        add_batch_options(
            parser,
            default=DEFAULT_BATCH_SIZE,
            unit="Certificates",
            dry_run="Count (and with -v 2 list) the certificates that would expire; "
            "change nothing.",
        )

    def handle(self, *args, batch_size: int, dry_run: bool, verbosity: int, **options):
        started = time.monotonic()
        now = timezone.now()
        if dry_run:
            self.report_dry_run(now, verbosity)
            return

        done = 0
        progress = ProgressLine(self.stderr)
        total = due_for_expiry(now=now).count() if progress.enabled else 0

        def on_batch(expired: int) -> None:
            nonlocal done
            done = expired
            # Another host may be expiring some of them, so this can end below the total.
            progress.show(f"Expiring: {done:,} of about {total:,}")

        try:
            expire_due(now=now, batch_size=batch_size, on_batch=on_batch)
        except Exception as error:
            raise stopped(f"expiring {plural(done, 'certificate')}", error) from error
        finally:
            progress.end()
        seconds = time.monotonic() - started
        self.stdout.write(f"Expired {plural(done, 'certificate')} in {seconds:.1f}s.")

    def report_dry_run(self, now, verbosity: int) -> None:
        due = due_for_expiry(now=now)
        if verbosity >= 2:
            rows = due.order_by("pk").values_list("pk", "not_after").iterator(chunk_size=2000)
            for pk, not_after in rows:
                self.stdout.write(
                    f"would expire certificate {pk} (ended {not_after:%Y-%m-%d %H:%M})"
                )
        count = due.count()
        self.stdout.write(
            f"Dry run: would expire {plural(count, 'certificate')}; nothing was changed."
        )
