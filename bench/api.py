"""The API's certificate list (first page, through Django's test client with a token)."""

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.report import Row, median, ms, p95, timed, verdict

URL = "/api/v1/certificates"


def measure_list(owner_id: int, repeat: int) -> tuple[list[float], int]:
    from django.contrib.auth import get_user_model

    from api import tokens

    owner = get_user_model().objects.get(pk=owner_id)
    _, secret = tokens.create_api_token(owner=owner, label="bench", scope="read")
    client = Client()
    headers = {"Authorization": f"Bearer {secret}"}

    def get():
        response = client.get(URL, headers=headers)
        assert response.status_code == 200, response.status_code
        return response

    timed(get, 3)  # warm up; the first request also records the token's last use
    with CaptureQueriesContext(connection) as queries:
        get()
    count = len(queries)  # before the next request clears the log
    return timed(get, repeat), count


def measure(customers: dict[int, tuple[int, range]], *, repeat: int) -> list[Row]:
    # The bench times many requests with one token: no rate limit applies here.
    settings.API_RATE_LIMIT = 10**9
    rows, medians, counts = [], {}, {}
    for size, (owner, _) in sorted(customers.items()):
        samples, counts[size] = measure_list(owner, repeat)
        medians[size] = median(samples)
        rows.append(
            Row(
                "API list",
                f"{size:,} certificates: median / p95",
                f"{ms(median(samples))} / {ms(p95(samples))}",
            )
        )
    small, large = min(customers), max(customers)
    ratio = medians[large] / medians[small]
    rows.append(
        Row(
            "API list",
            f"median {large:,} / {small:,}",
            f"{ratio:.2f}x",
            "<= 1.25x",
            verdict(ratio <= 1.25),
        )
    )
    same = len(set(counts.values())) == 1
    shown = " / ".join(str(counts[size]) for size in sorted(customers))
    rows.append(Row("API list", "SQL queries per request", shown, "the same", verdict(same)))
    return rows
