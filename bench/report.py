"""The benchmark's printout: one table, figures beside their targets."""

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
