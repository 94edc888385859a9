"""Signals other apps listen to, so that certificates need not import them.

`certificate_replaced` is sent once the transaction that replaced a certificate has
committed: a reissue (the same row, with a new serial: `replaced` is `replacement`) or an
ACME renewal naming the one it `replaces`. Deployments redeploy the new certificate.
"""

from django.db import transaction
from django.dispatch import Signal

certificate_replaced = Signal()  # sender=Certificate, replaced=..., replacement=...


def send_replaced_on_commit(*, replaced, replacement) -> None:
    from certificates.models import Certificate

    transaction.on_commit(
        lambda: certificate_replaced.send(
            sender=Certificate, replaced=replaced, replacement=replacement
        )
    )
