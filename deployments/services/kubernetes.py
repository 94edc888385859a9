"""The Kubernetes target: a `kubernetes.io/tls` Secret manifest to download and apply."""

import base64

from django.db import transaction
from django.utils.translation import gettext as _

from certificates.audit import record_event
from certificates.errors import ActionNotAllowed
from certificates.key_encryption import decrypt_private_key
from certificates.models import Certificate
from deployments.models import Target
from deployments.services.jobs import deploy_refusal, full_chain_pem, holds_key


def secret_manifest(*, target: Target, certificate: Certificate, actor) -> str:
    """The Secret's YAML: tls.crt the full chain, tls.key the key when the console holds
    it and the one asking is the owner (else empty, for the customer to fill in). Audited."""
    if target.kind != Target.Kind.KUBERNETES:
        raise ActionNotAllowed(_("Only a Kubernetes target has a Secret manifest."))
    refusal = deploy_refusal(certificate)
    if refusal:
        raise ActionNotAllowed(refusal)
    with_key = holds_key(certificate) and getattr(actor, "pk", None) == certificate.owner_id
    key_pem = decrypt_private_key(certificate.private_key_encrypted) if with_key else ""
    manifest = render_secret(
        name=target.kubernetes_secret_name,
        namespace=target.kubernetes_namespace or "default",
        chain_pem=full_chain_pem(certificate),
        key_pem=key_pem,
        annotations={
            "ssl-certificates-console/certificate": str(certificate.pk),
            "ssl-certificates-console/serial": certificate.serial,
            "ssl-certificates-console/not-after": (
                certificate.not_after.isoformat() if certificate.not_after else ""
            ),
        },
    )
    with transaction.atomic():
        record_event(
            actor=actor,
            action="deployment.kubernetes_manifest",
            target=certificate,
            details={"target": target.pk, "with_key": with_key},
        )
    return manifest


def render_secret(
    *, name: str, namespace: str, chain_pem: str, key_pem: str, annotations: dict[str, str]
) -> str:
    """A tiny YAML emitter for one Secret: every scalar is a double-quoted JSON string
    (valid YAML), the data base64 as Kubernetes wants it."""
    import json

    def quoted(value: str) -> str:
        return json.dumps(value)

    lines = [
        "apiVersion: v1",
        "kind: Secret",
        "type: kubernetes.io/tls",
        "metadata:",
        f"  name: {quoted(name)}",
        f"  namespace: {quoted(namespace)}",
        "  annotations:",
        *(f"    {quoted(key)}: {quoted(value)}" for key, value in annotations.items()),
        "data:",
        f"  tls.crt: {quoted(base64.b64encode(chain_pem.encode()).decode())}",
        f"  tls.key: {quoted(base64.b64encode(key_pem.encode()).decode())}",
    ]
    return "\n".join(lines) + "\n"
