import time

from django.core.management.base import BaseCommand, CommandError

from certificates.key_rotation import DEFAULT_BATCH_SIZE, Rotation, count_keys, rotate_keys
from certificates.management.batch_output import (
    ProgressLine,
    add_batch_options,
    plural,
    stopped,
)

# Enough to find the rows in the admin; the count says how many more there are.
NAMED_AT_MOST = 10


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored private key (customers' and the CAs') with the first of "
        "KEY_ENCRYPTION_KEYS, in batches, each its own transaction; keys already under it "
        "are left alone. Afterwards the older keys can be removed."
    )

    def add_arguments(self, parser):
        add_batch_options(
            parser,
            default=DEFAULT_BATCH_SIZE,
            unit="Keys",
            dry_run="Count the keys that would be re-encrypted and those no key decrypts; "
            "change nothing.",
        )

    def handle(self, *args, batch_size: int, dry_run: bool, **options):
        started = time.monotonic()
        progress = ProgressLine(self.stderr)
        total = count_keys() if progress.enabled else 0
        checked = 0

        def on_batch(so_far: Rotation) -> None:
            nonlocal checked
            checked = so_far.checked
            progress.show(f"Checking keys: {checked:,} of {total:,}")

        try:
            result = rotate_keys(batch_size=batch_size, dry_run=dry_run, on_batch=on_batch)
        except Exception as error:
            raise stopped(f"checking {plural(checked, 'key')}", error) from error
        finally:
            progress.end()
        seconds = time.monotonic() - started
        if dry_run:
            self.stdout.write(
                f"Dry run: would re-encrypt {plural(result.rotated, 'key')}; "
                f"{result.current:,} already under the first key; nothing was changed."
            )
        else:
            self.stdout.write(
                f"Re-encrypted {plural(result.rotated, 'key')} with the first key; "
                f"{result.current:,} already were; in {seconds:.1f}s."
            )
        if result.unreadable:
            raise CommandError(unreadable_message(result.unreadable))


def unreadable_message(rows: list[str]) -> str:
    named = ", ".join(rows[:NAMED_AT_MOST])
    more = len(rows) - NAMED_AT_MOST
    if more > 0:
        named += f" and {more:,} more"
    return (
        f"No key of KEY_ENCRYPTION_KEYS decrypts {plural(len(rows), 'stored key')} ({named}). "
        "Put the key that encrypted them back in KEY_ENCRYPTION_KEYS, after the first, and "
        "run this again; until then keep every older key."
    )
