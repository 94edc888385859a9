import argparse
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from certificates.expiry import DEFAULT_BATCH_SIZE, due_for_expiry, expire_due


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Move every issued certificate whose end date has passed to expired, in batches, "
        "each its own transaction. Safe to rerun and to run on several hosts at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=positive_int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Certificates per transaction (default {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count (and with -v 2 list) the certificates that would expire; change nothing.",
        )

    def handle(self, *args, batch_size: int, dry_run: bool, verbosity: int, **options):
        started = time.monotonic()
        now = timezone.now()
        if dry_run:
            self.report_dry_run(now, verbosity)
            return

        done = 0
        show_progress = self.stderr.isatty()
        total = due_for_expiry(now=now).count() if show_progress else 0

        def on_batch(expired: int) -> None:
            nonlocal done
            done = expired
            if show_progress:
                # Another host may be expiring some of them, so this can end below the total.
                self.stderr.write(
                    f"\rExpiring: {done:,} of about {total:,}", style_func=str, ending=""
                )
                self.stderr.flush()

        try:
            expire_due(now=now, batch_size=batch_size, on_batch=on_batch)
        except Exception as error:
            raise CommandError(
                f"Stopped after expiring {plural(done, 'certificate')}: {error}. "
                "Run it again to finish; batches already done stay done."
            ) from error
        finally:
            if show_progress and done:
                self.stderr.write("", style_func=str, ending="\n")
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
