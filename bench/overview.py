"""The overview page (counters and first page) and its search, through Django's test client."""

from datetime import datetime

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.data import (
    certificate_rows,
    customer_mix,
    domain_for,
    insert_certificates,
    make_users,
    name_for,
)
from bench.report import Row, median, ms, p95, timed, verdict

# Keeps each customer's certificates numbered apart, so every domain is unique.
NUMBERS_FROM = 10_000_000


def build(*, sizes: list[int], brands: list[int], now: datetime) -> dict[int, tuple[int, range]]:
    """One customer per size; returns size -> (the customer's id, their certificates' numbers)."""
    owners = make_users("overview", len(sizes))
    customers = {}
    first = NUMBERS_FROM
    for index, (size, owner) in enumerate(zip(sizes, owners, strict=True)):
        numbers = range(first, first + size)
        insert_certificates(
            certificate_rows(
                owners=[owner],
                brands=brands,
                numbers=numbers,
                status_and_end=customer_mix(now=now, seed=index),
                now=now,
            )
        )
        customers[size] = (owner, numbers)
        first += size
    return customers


def signed_in(user_id: int) -> Client:
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(pk=user_id))
    return client


def measure_page(client: Client, query: dict, repeat: int) -> tuple[list[float], list[str]]:
    url = reverse("certificates:overview")

    def get():
        response = client.get(url, query)
        assert response.status_code == 200, response.status_code
        return response

    timed(get, 3)  # warm up: templates, the session, the database's caches
    with CaptureQueriesContext(connection) as queries:
        response = get()
    sqls = [query["sql"] for query in queries]  # before the next request clears the log
    if query.get("q"):
        assert response.context["count"] > 0, f"nothing matches {query['q']}"
    return timed(get, repeat), sqls


def explain(sqls: list[str]) -> None:
    prefix = (
        "EXPLAIN (ANALYZE, BUFFERS) "
        if connection.vendor == "postgresql"
        else "EXPLAIN QUERY PLAN "
    )
    with connection.cursor() as cursor:
        for sql in sqls:
            if "certificates_certificate" not in sql:
                continue
            print(f"\n{sql}")
            cursor.execute(prefix + sql)
            for line in cursor.fetchall():
                print("   ", " | ".join(str(part) for part in line))


def flat_target(size: int, smallest: int) -> float:
    """The issue's targets: within 1.25x up to a hundred times the smallest, then 1.5x."""
    return 1.25 if size <= 100 * smallest else 1.5


def measure(customers: dict[int, tuple[int, range]], *, repeat: int, show_plans: bool) -> list[Row]:
    rows = []
    medians, query_counts = {}, {}
    for size, (owner, _) in sorted(customers.items()):
        samples, sqls = measure_page(signed_in(owner), {}, repeat)
        medians[size], query_counts[size] = median(samples), len(sqls)
        rows.append(
            Row(
                "overview",
                f"{size:,} certificates: median / p95",
                f"{ms(median(samples))} / {ms(p95(samples))}",
            )
        )
        if show_plans and size == max(customers):
            explain(sqls)
    small = min(customers)
    for size in sorted(customers)[1:]:
        ratio = medians[size] / medians[small]
        target = flat_target(size, small)
        rows.append(
            Row(
                "overview",
                f"median {size:,} / {small:,}",
                f"{ratio:.2f}x",
                f"<= {target:g}x",
                verdict(ratio <= target),
            )
        )
    counts = " / ".join(str(query_counts[size]) for size in sorted(customers))
    same = len(set(query_counts.values())) == 1
    rows.append(Row("overview", "SQL queries per page", counts, "the same", verdict(same)))

    # The deepest page of the largest list up to 100,000 (the size for it).
    deep = max((size for size in customers if size <= 100_000), default=small)
    client = signed_in(customers[deep][0])
    first, _ = measure_page(client, {}, repeat)
    last, _ = measure_page(client, {"page": "last"}, repeat)
    ratio = median(last) / median(first)
    rows.append(
        Row(
            "pages",
            f"last page / first page at {deep:,}: medians",
            f"{ms(median(last))} / {ms(median(first))} = {ratio:.2f}x",
            "<= 1.5x",
            verdict(ratio <= 1.5),
        )
    )

    searched = sorted(customers)[-2:]
    for what in ("domain", "name"):
        search_medians = {}
        for size in searched:
            owner, numbers = customers[size]
            middle = numbers[len(numbers) // 2]
            # Uploaded ones (every fifth) have names.
            term = (
                domain_for(middle)
                if what == "domain"
                else name_for(next(n for n in range(middle, numbers.stop) if n % 5 == 0))
            )
            samples, sqls = measure_page(signed_in(owner), {"q": term}, repeat)
            search_medians[size] = median(samples)
            rows.append(Row("search", f"by {what} at {size:,}: median", ms(median(samples))))
            if show_plans and size == max(customers):
                explain(sqls)
        lower, upper = searched
        ratio = search_medians[upper] / search_medians[lower]
        rows.append(
            Row(
                "search",
                f"by {what}: median {upper:,} / {lower:,}",
                f"{ratio:.2f}x",
                "<= 2x",
                verdict(ratio <= 2),
            )
        )
    return rows
