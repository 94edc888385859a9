"""The benchmark's printout: one table, figures beside their targets."""

import logging
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    section: str
    measure: str
    value: str
    target: str = ""
    verdict: str = ""


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def p95(samples: list[float]) -> float:
    """The 95th percentile, by the nearest-rank method."""
    ordered = sorted(samples)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    """Seconds each of `repeat` calls of `action` took."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


@contextmanager
def step(what: str) -> Iterator[None]:
    """Say on stderr what is being done and how long it took."""
    print(f"  {what}...", end="", file=sys.stderr, flush=True)
    started = time.perf_counter()
    yield
    print(f" {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)


def print_table(title: str, rows: list[Row]) -> None:
    headers = Row("section", "measure", "value", "target", "")
    widths = [
        max(len(getattr(row, name)) for row in [headers, *rows])
        for name in ("section", "measure", "value", "target", "verdict")
    ]
    print()
    print(title)
    for row in [headers, *rows]:
        cells = (row.section, row.measure, row.value, row.target, row.verdict)
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
        )


class _Collector(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted is not worth a traceback here
            self.handleError(record)


@contextmanager
def collected_logs() -> Iterator[list[str]]:
    """Within this block, what the console logs (sign-in throttling, django.request's 404s,
    ...) is kept in the list yielded instead of printed, so the progress lines and the
    table stay clean; the handlers are put back after it."""
    lines: list[str] = []
    root = logging.getLogger()
    quieted = [root] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and logger.handlers
    ]
    saved = {logger: logger.handlers[:] for logger in quieted}
    for logger in quieted:
        # Handlers that print (StreamHandler, and so the console's own) go; others
        # (Django's mail_admins, into the test environment's outbox) stay.
        logger.handlers = [
            handler for handler in logger.handlers if not isinstance(handler, logging.StreamHandler)
        ]
    root.addHandler(_Collector(lines))
    try:
        yield lines
    finally:
        for logger, handlers in saved.items():
            logger.handlers = handlers


def print_logs(lines: list[str], *, show: bool) -> None:
    """After the table, on stderr: the log lines held back, or how many there were."""
    if not lines:
        return
    if show:
        print(f"\nLog lines during the run ({len(lines):,}):", file=sys.stderr)
        for line in lines:
            print(f"  {line}", file=sys.stderr)
    else:
        print(
            f"\n{len(lines):,} log lines were held back during the run; --show-logs prints them.",
            file=sys.stderr,
        )
