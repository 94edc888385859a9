from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from certificates.counters import find_drift
from certificates.lifecycle import CertificateStatus
from certificates.management.batch_output import plural


def label(what: str) -> str:
    return CertificateStatus(what).label if what in CertificateStatus.values else what


class Command(BaseCommand):
    help = (
        "Recount every customer's certificates per status and compare with the counts the "
        "overview shows; report each count that drifted, and with --repair put it right. "
        "Exits with status 1 when drift is found and not repaired."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair", action="store_true", help="Set each drifted count to the recount."
        )

    def handle(self, *args, repair: bool, **options):
        drifts = find_drift(repair=repair)
        names = dict(
            get_user_model()
            .objects.filter(pk__in={drift.owner_id for drift in drifts})
            .values_list("pk", "username")
        )
        for drift in drifts:
            self.stdout.write(
                f"{names.get(drift.owner_id, '?')} (user {drift.owner_id}): "
                f"{label(drift.what)} was {drift.stored:,}, "
                f"counted {drift.counted:,}"
            )
        if not drifts:
            self.stdout.write("Every count matches the certificates.")
        elif repair:
            self.stdout.write(f"Repaired {plural(len(drifts), 'count')}.")
        else:
            raise CommandError(
                f"{plural(len(drifts), 'count')} drifted; run with --repair to put them right."
            )
