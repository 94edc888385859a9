"""Reissue certificates that end soon while their purchase goes on.

A one- or two-year purchase outlasts the longest certificate the CA/Browser
Forum allows, so the console reissues it for the same domains and key before
it ends, until the purchased period is used up. Safe to run from cron: a
certificate reissued by another run no longer ends soon and is skipped.
"""

import time
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from certificates import services
from certificates.models import Certificate


class Command(BaseCommand):
    help = "Reissue issued certificates ending within --days whose purchase lasts longer."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=30, help="Reissue what ends within this.")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, days: int, batch_size: int, dry_run: bool, **options) -> None:
        started = time.monotonic()
        now = timezone.now()
        due = (
            Certificate.objects.reissuable(now)
            .filter(deleted_at__isnull=True, not_after__lte=now + timedelta(days=days))
            .select_related("application", "brand")
        )
        reissued = failed = last_id = 0
        while True:
            # Keyset pages by id keep memory flat however many certificates are due.
            batch = list(due.filter(pk__gt=last_id).order_by("pk")[:batch_size])
            if not batch:
                break
            last_id = batch[-1].pk
            for certificate in batch:
                if dry_run:
                    reissued += 1
                    continue
                try:
                    services.reissue_certificate(certificate=certificate, actor=None)
                    reissued += 1
                except ValidationError as error:
                    failed += 1
                    self.stderr.write(f"{certificate.pk}: {'; '.join(error.messages)}")
        verb = "Would reissue" if dry_run else "Reissued"
        self.stdout.write(
            f"{verb} {reissued} certificates in {time.monotonic() - started:.1f}s"
            + (f", {failed} failed" if failed else "")
        )
        if failed:
            raise CommandError(f"{failed} certificates could not be reissued.")
