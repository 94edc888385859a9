import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from certificates.management.batch_output import plural
from certificates.services.publication import publish_crl_shards


class Command(BaseCommand):
    help = (
        "Build and store every CRL shard of the issuing CAs that a revocation made stale, "
        "that was never built, or that is past half its validity; each shard its own "
        "transaction. Safe to rerun and to run on several hosts at once."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            done = publish_crl_shards(now=timezone.now())
        except Exception as error:
            raise CommandError(
                f"Stopped publishing CRL shards: {error}. Run it again to finish; "
                "shards already published stay published."
            ) from error
        seconds = time.monotonic() - started
        self.stdout.write(f"Published {plural(done, 'CRL shard')} in {seconds:.1f}s.")
