"""What deployments do when other apps' signals say so (connected in apps.ready)."""

import logging

from django.dispatch import receiver

from certificates.signals import certificate_replaced

logger = logging.getLogger(__name__)


@receiver(certificate_replaced, dispatch_uid="deployments.redeploy_replacement")
def redeploy_replacement(sender, *, replaced, replacement, **kwargs) -> None:
    """A reissued or renewed certificate goes where its predecessor was deployed. Sent after
    the replacement's commit: a failure here never undoes the renewal."""
    from deployments.services import redeploy_replacement as redeploy

    try:
        redeploy(replaced=replaced, replacement=replacement)
    except Exception:
        logger.exception("Redeploy of certificate %s failed to start", replacement.pk)
