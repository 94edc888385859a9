"""What the batch jobs print: counts, a progress line on a terminal, and a stop that resumes.

Cron runs them with no terminal, so the progress line shows only when stderr is
one: cron mails whatever is printed, and a routine run should print one line.
"""

import argparse

from django.core.management.base import CommandError, OutputWrapper


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def add_batch_options(
    parser: argparse.ArgumentParser, *, default: int, unit: str, dry_run: str
) -> None:
    """--batch-size (`unit` per transaction) and --dry-run (`dry_run` says what it does)."""
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=default,
        help=f"{unit} per transaction (default {default}).",
    )
    parser.add_argument("--dry-run", action="store_true", help=dry_run)


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


class ProgressLine:
    """One line on stderr, rewritten in place after each batch; nothing off a terminal."""

    def __init__(self, stderr: OutputWrapper) -> None:
        self.stderr = stderr
        self.enabled = stderr.isatty()
        self.written = False

    def show(self, text: str) -> None:
        if self.enabled:
            self.stderr.write(f"\r{text}", style_func=str, ending="")
            self.stderr.flush()
            self.written = True

    def end(self) -> None:
        if self.written:
            self.stderr.write("", style_func=str, ending="\n")


def stopped(done: str, error: Exception) -> CommandError:
    """The error of a batched run that failed: how far it got, and that a rerun finishes."""
    return CommandError(
        f"Stopped after {done}: {error}. Run it again to finish; batches already done stay done."
    )
