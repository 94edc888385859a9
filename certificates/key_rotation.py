"""Re-encrypting every stored private key with the first of KEY_ENCRYPTION_KEYS (rotate_keys).

Rotation is three steps: put the new key first and keep the old one after it
(everything still decrypts, new keys are encrypted with the new one); run
rotate_keys; remove the old key. This module is the middle step. It walks each
table with an encrypted column by id in batches, each its own transaction with
its rows locked, so a run that is killed loses at most the batch in hand and the
next run goes on; a token the first key already made is left alone, so running
it again changes nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models, transaction

from certificates import key_encryption
from certificates.models import Certificate, CertificateAuthority

DEFAULT_BATCH_SIZE = 500

# Every column that holds a KEY_ENCRYPTION_KEYS token. An empty value is no key
# (a certificate with a manual CSR, or uploaded without one). Other apps add theirs
# with `register_encrypted_column` when they load (deployments: targets' credentials).
ENCRYPTED_COLUMNS: list[tuple[type[models.Model], str]] = [
    (CertificateAuthority, "private_key_encrypted"),
    (Certificate, "private_key_encrypted"),
]


def register_encrypted_column(model: type[models.Model], column: str) -> None:
    """Have rotate_keys re-encrypt `column` of `model` too (called from an AppConfig.ready)."""
    if (model, column) not in ENCRYPTED_COLUMNS:
        ENCRYPTED_COLUMNS.append((model, column))


@dataclass
class Rotation:
    """What a run did (or, for a dry run, would do)."""

    rotated: int = 0
    current: int = 0
    # The rows no configured key can decrypt, e.g. "certificate 42".
    unreadable: list[str] = field(default_factory=list)

    @property
    def checked(self) -> int:
        return self.rotated + self.current + len(self.unreadable)


def _with_keys(model: type[models.Model], column: str) -> models.QuerySet:
    # The base manager: deleted certificates keep their key rows too.
    return model._base_manager.exclude(**{column: ""})


def count_keys() -> int:
    """How many encrypted keys are stored, for the progress line."""
    return sum(_with_keys(model, column).count() for model, column in ENCRYPTED_COLUMNS)


def rotate_keys(
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    on_batch: Callable[[Rotation], None] | None = None,
) -> Rotation:
    """Re-encrypt every stored key not yet under the first key; return the counts.

    A token no configured key decrypts is named in the result and left as it
    is; the rest are still rotated. With `dry_run` nothing is locked or written.
    `on_batch` is called after each committed batch with the running counts.
    """
    result = Rotation()
    for model, column in ENCRYPTED_COLUMNS:
        last_id = 0
        while True:
            with transaction.atomic():
                rows = _with_keys(model, column).filter(pk__gt=last_id).order_by("pk")
                if not dry_run:
                    # Waits for a row another transaction holds instead of skipping
                    # it: a skipped row would keep the old key.
                    rows = rows.select_for_update()
                batch = list(rows.values_list("pk", column)[:batch_size])
                if not batch:
                    break
                changed = _rotate_batch(model, column, batch, result)
                if changed and not dry_run:
                    model._base_manager.bulk_update(changed, [column])
            last_id = batch[-1][0]
            if on_batch is not None:
                on_batch(result)
    return result


def _rotate_batch(
    model: type[models.Model], column: str, batch: list[tuple[int, str]], result: Rotation
) -> list[models.Model]:
    changed = []
    for pk, token in batch:
        try:
            new_token = key_encryption.rotated(token)
        except key_encryption.KeyDecryptionError:
            result.unreadable.append(f"{model._meta.verbose_name} {pk}")
            continue
        if new_token is None:
            result.current += 1
        else:
            changed.append(model(pk=pk, **{column: new_token}))
            result.rotated += 1
    return changed
