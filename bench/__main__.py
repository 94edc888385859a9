"""Run the benchmarks: `python -m bench --help`."""

import argparse
import os
import platform
import secrets
import sys
import time
import warnings

PRESETS = {
    # Issues 7's and 18's sizes.
    "full": {
        "overview_sizes": [1_000, 100_000, 1_000_000],
        "expire_total": 1_000_000,
        "expire_due": 100_000,
        "notify_certs": 10_000,
        "notify_customers": 1_000,
        "revoked": 100_000,
        "shard_revoked": 1_000_000,
        "ocsp_seconds": 3.0,
        "repeat": 30,
        "serve_certs": 1_000,
        "serve_seconds": 5.0,
        "acme_orders": 30,
    },
    # A run that fits in a minute.
    "quick": {
        "overview_sizes": [1_000, 10_000],
        "expire_total": 100_000,
        "expire_due": 10_000,
        "notify_certs": 2_000,
        "notify_customers": 200,
        "revoked": 10_000,
        "shard_revoked": 50_000,
        "ocsp_seconds": 1.0,
        "repeat": 10,
        "serve_certs": 1_000,
        "serve_seconds": 2.0,
        "acme_orders": 10,
    },
    # Seconds: CI runs this so the suite never rots.
    "smoke": {
        "overview_sizes": [50, 500],
        "expire_total": 2_000,
        "expire_due": 200,
        "notify_certs": 100,
        "notify_customers": 10,
        "revoked": 100,
        "shard_revoked": 200,
        "ocsp_seconds": 0.2,
        "repeat": 3,
        "serve_certs": 100,
        "serve_seconds": 0.3,
        "acme_orders": 3,
    },
}


def sizes(text: str) -> list[int]:
    values = sorted({int(value.replace("_", "")) for value in text.split(",") if value.strip()})
    if len(values) < 2 or values[0] < 1:
        raise argparse.ArgumentTypeError("give two or more sizes of 1 or more, e.g. 1000,100000")
    return values


SECTIONS = (
    "overview",
    "api",
    "expire",
    "notify",
    "upload",
    "issuance",
    "revocation",
    "shards",
    "acme",
    "serve",
)


def sections(text: str) -> tuple[str, ...]:
    chosen = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown section {', '.join(unknown) or '(none)'}: choose from {', '.join(SECTIONS)}"
        )
    return chosen


def count(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the console on a scratch database it makes and drops itself: "
        "SQLite by default, or the PostgreSQL server of DATABASE_URL (as <name>_bench).",
    )
    preset = parser.add_mutually_exclusive_group()
    preset.add_argument("--quick", action="store_true", help="smaller sizes: about a minute")
    preset.add_argument("--smoke", action="store_true", help="tiny sizes: seconds (for CI)")
    parser.add_argument("--overview-sizes", type=sizes, help="certificates per overview customer")
    parser.add_argument("--expire-total", type=count, help="certificates in the expiry run")
    parser.add_argument("--expire-due", type=count, help="of which past their end date")
    parser.add_argument("--notify-certs", type=count, help="certificates to warn about")
    parser.add_argument("--notify-customers", type=count, help="customers they belong to")
    parser.add_argument("--revoked", type=count, help="revoked certificates on the CRL")
    parser.add_argument(
        "--shard-revoked",
        type=count,
        help="revoked certificates across the CRL shards (also measured at a tenth of it)",
    )
    parser.add_argument("--ocsp-seconds", type=float, help="seconds spent on each OCSP rate")
    parser.add_argument("--repeat", type=count, help="requests timed per page")
    parser.add_argument("--serve-certs", type=count, help="certificates of the served customer")
    parser.add_argument(
        "--serve-seconds", type=float, help="seconds of load on each page under gunicorn"
    )
    parser.add_argument("--acme-orders", type=count, help="ACME orders made end to end")
    parser.add_argument("--explain", action="store_true", help="print the overview's query plans")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--show-logs",
        action="store_true",
        help="print the log lines held back during the run after the table",
    )
    parser.add_argument(
        "--only",
        type=sections,
        default=SECTIONS,
        help=f"run only these sections, comma-separated (of {', '.join(SECTIONS)})",
    )
    arguments = parser.parse_args(argv)
    chosen = PRESETS["quick" if arguments.quick else "smoke" if arguments.smoke else "full"]
    for name, value in chosen.items():
        if getattr(arguments, name) is None:
            setattr(arguments, name, value)
    if arguments.expire_due > arguments.expire_total:
        parser.error("--expire-due cannot be more than --expire-total")
    return arguments


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    # A clean table: the log lines are held back (bench.report.collected_logs), and
    # only warnings and errors are kept.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # The serve section's gunicorn runs with DEBUG off, which wants real keys; this
    # process shares them, so its sessions and the CAs' keys work there.
    from cryptography.fernet import Fernet

    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("KEY_ENCRYPTION_KEYS", Fernet.generate_key().decode())

    from bench.scratch import scratch_database

    with scratch_database(keep=arguments.keep) as url:
        import django

        django.setup()
        from bench.report import collected_logs, print_logs

        with collected_logs() as lines:
            run(arguments, url)
        print_logs(lines, show=arguments.show_logs)
    return 0


def run(arguments: argparse.Namespace, database_url: str) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from bench import (
        acme,
        api,
        expire,
        issuance,
        notify,
        overview,
        revocation,
        serve,
        shards,
        upload,
    )
    from bench.data import analyze, count_certificates, make_brands
    from bench.report import print_table, step

    # The test client's host, the in-memory email backend, and DEBUG off so
    # Django does not keep every query.
    setup_test_environment(debug=False)
    # Static files come from the finders; there is no collectstatic output.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    started = time.perf_counter()
    print(
        f"Benchmarking on {connection.vendor} ({connection.settings_dict['NAME']})", file=sys.stderr
    )
    with step("migrate"):
        call_command("migrate", verbosity=0)

    now = timezone.now()
    brands = make_brands()
    only = set(arguments.only)
    if "expire" in only:
        with step(f"insert {arguments.expire_total:,} certificates for the expiry run"):
            expire.build(
                total=arguments.expire_total, due=arguments.expire_due, brands=brands, now=now
            )
    customers = None
    if only & {"overview", "api"}:
        with step(
            f"insert overview customers of {', '.join(f'{n:,}' for n in arguments.overview_sizes)}"
        ):
            customers = overview.build(sizes=arguments.overview_sizes, brands=brands, now=now)
    if "notify" in only:
        with step(f"insert {arguments.notify_certs:,} certificates to warn about"):
            notify.build(
                certificates=arguments.notify_certs,
                customers=arguments.notify_customers,
                brands=brands,
                now=now,
            )
    revocations = None
    if only & {"revocation", "shards", "serve"}:
        with step(f"insert {arguments.revoked:,} revoked certificates"):
            revocations = revocation.build(revoked=arguments.revoked, brands=brands, now=now)
    served = None
    if "serve" in only:
        with step(f"insert {arguments.serve_certs:,} certificates for the served customer"):
            served = serve.build(
                certificates=arguments.serve_certs,
                brands=brands,
                revocations=revocations,
                now=now,
            )
    sharded = None
    if "shards" in only:
        sharded = shards.build(brands=brands)
    with step("count the certificates"):
        count_certificates()
    with step("analyze"):
        analyze()

    rows = []
    if "overview" in only:
        with step("overview and search"):
            rows += overview.measure(
                customers, repeat=arguments.repeat, show_plans=arguments.explain
            )
    if "api" in only:
        with step("API list"):
            rows += api.measure(customers, repeat=arguments.repeat)
    if "expire" in only:
        rows += expire.measure(
            total=arguments.expire_total, due=arguments.expire_due, database_url=database_url
        )
    if "notify" in only:
        rows += notify.measure(
            certificates=arguments.notify_certs, customers=arguments.notify_customers
        )
    if "upload" in only:
        with step("upload validation"):
            rows += upload.measure(repeat=max(arguments.repeat, 20))
    if "issuance" in only:
        with step("issuance and downloads"):
            rows += issuance.measure(repeat=max(arguments.repeat, 20))
    if "revocation" in only:
        with step("CRL and OCSP"):
            rows += revocation.measure(
                revocations, repeat=min(arguments.repeat, 5), ocsp_seconds=arguments.ocsp_seconds
            )
    if "shards" in only:
        with step("CRL shards after one revocation"):
            rows += shards.measure_one_revocation(revocations, repeat=min(arguments.repeat, 5))
        rows += shards.measure_scaling(sharded, revoked=arguments.shard_revoked, now=now, step=step)
    if "acme" in only:
        with step("ACME orders"):
            rows += acme.measure(orders=arguments.acme_orders)
    if "serve" in only:
        rows += serve.measure(
            served, revocations, database_url=database_url, seconds=arguments.serve_seconds
        )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()"
        )
        version = cursor.fetchone()[0].split(" on ")[0]
        cursor.execute("SELECT COUNT(*) FROM certificates_certificate")
        total = cursor.fetchone()[0]
    title = (
        f"{version if connection.vendor == 'postgresql' else f'SQLite {version}'}, "
        f"Python {platform.python_version()}, {total:,} certificates in the table, "
        f"{arguments.repeat} requests timed per page; built and measured in "
        f"{time.perf_counter() - started:.0f}s"
    )
    print_table(title, rows)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
