"""The ACME server's tables: credentials, accounts, nonces, orders, authorizations, challenges.

Every ACME object belongs to an account, and every account to the customer whose
credential (External Account Binding) made it. Objects are named in URLs by a random
public id, never by their row id.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from acme_server.states import AccountStatus, AuthorizationStatus, ChallengeStatus, OrderStatus


def random_id() -> str:
    """A URL-safe random name for an ACME object (128 bits)."""
    return secrets.token_urlsafe(16)


class AcmeCredentialQuerySet(models.QuerySet):
    def usable(self, now=None) -> "AcmeCredentialQuerySet":
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class AcmeCredential(models.Model):
    """A key identifier and HMAC key a customer gives an ACME client to bind an account.

    The HMAC key is shown once; it is kept encrypted (KEY_ENCRYPTION_KEYS), not hashed,
    because verifying a binding needs the key itself.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="acme_credentials",
        verbose_name=_("owner"),
    )
    kid = models.CharField(_("kid"), max_length=64, unique=True)
    hmac_key_encrypted = models.TextField(_("hmac key encrypted"), editable=False)
    label = models.CharField(_("label"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    objects = AcmeCredentialQuerySet.as_manager()

    class Meta:
        verbose_name_plural = _("ACME credentials")
        verbose_name = _("ACME credential")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.label or self.kid

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()


class AcmeAccount(models.Model):
    Status = AccountStatus

    public_id = models.CharField(_("public id"), max_length=32, unique=True, default=random_id)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="acme_accounts",
        verbose_name=_("owner"),
    )
    credential = models.ForeignKey(
        AcmeCredential,
        on_delete=models.SET_NULL,
        null=True,
        related_name="accounts",
        verbose_name=_("credential"),
    )
    brand = models.ForeignKey(
        "certificates.Brand",
        on_delete=models.PROTECT,
        related_name="acme_accounts",
        verbose_name=_("brand"),
    )
    # The account's public key as a JWK, and its RFC 7638 thumbprint (base64url).
    jwk = models.JSONField(_("jwk"))
    thumbprint = models.CharField(_("thumbprint"), max_length=64, unique=True)
    contact = models.JSONField(_("contact"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.VALID
    )
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    # Its client renews its certificates, so their expiry warnings can be turned off here.
    expiry_warnings = models.BooleanField(_("expiry warnings"), default=True)

    class Meta:
        verbose_name_plural = _("ACME accounts")
        verbose_name = _("ACME account")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"ACME account {self.public_id}"

    @property
    def is_valid(self) -> bool:
        return self.status == self.Status.VALID


class AcmeNonce(models.Model):
    """A Replay-Nonce handed out and not used yet: using one deletes it."""

    value = models.CharField(_("value"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.value


class AcmeOrder(models.Model):
    public_id = models.CharField(_("public id"), max_length=32, unique=True, default=random_id)
    account = models.ForeignKey(
        AcmeAccount, on_delete=models.PROTECT, related_name="orders", verbose_name=_("account")
    )
    # The requested DNS names, normalized, in the order asked.
    identifiers = models.JSONField(_("identifiers"))
    status = models.CharField(
        _("status"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    error = models.JSONField(_("error"), null=True, blank=True)
    certificate = models.OneToOneField(
        "certificates.Certificate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="acme_order",
        verbose_name=_("certificate"),
    )
    # ARI (RFC 9773): the certificate this order's certificate replaces.
    replaces = models.ForeignKey(
        "certificates.Certificate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replaced_by_acme_orders",
        verbose_name=_("replaces"),
    )

    class Meta:
        verbose_name_plural = _("ACME orders")
        verbose_name = _("ACME order")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"], name="acme_order_recent")]

    def __str__(self) -> str:
        return f"ACME order {self.public_id}"


class AcmeAuthorization(models.Model):
    public_id = models.CharField(_("public id"), max_length=32, unique=True, default=random_id)
    order = models.ForeignKey(
        AcmeOrder, on_delete=models.CASCADE, related_name="authorizations", verbose_name=_("order")
    )
    # The name without "*." ; `wildcard` says whether the order asked for "*.<name>".
    domain = models.CharField(_("domain"), max_length=253)
    wildcard = models.BooleanField(_("wildcard"), default=False)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=AuthorizationStatus.choices,
        default=AuthorizationStatus.PENDING,
    )
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name_plural = _("ACME authorizations")
        verbose_name = _("ACME authorization")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"authorization of {'*.' if self.wildcard else ''}{self.domain}"

    @property
    def name(self) -> str:
        return f"*.{self.domain}" if self.wildcard else self.domain


class AcmeChallenge(models.Model):
    class Type(models.TextChoices):
        HTTP_01 = "http-01", "http-01"
        DNS_01 = "dns-01", "dns-01"

    public_id = models.CharField(_("public id"), max_length=32, unique=True, default=random_id)
    authorization = models.ForeignKey(
        AcmeAuthorization,
        on_delete=models.CASCADE,
        related_name="challenges",
        verbose_name=_("authorization"),
    )
    type = models.CharField(_("type"), max_length=10, choices=Type.choices)
    token = models.CharField(_("token"), max_length=64, default=random_id)
    status = models.CharField(
        _("status"), max_length=12, choices=ChallengeStatus.choices, default=ChallengeStatus.PENDING
    )
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    validated_at = models.DateTimeField(_("validated at"), null=True, blank=True)
    error = models.JSONField(_("error"), null=True, blank=True)
    # How many times a worker took it up: the second take-up of one challenge finds it done.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name_plural = _("ACME challenges")
        verbose_name = _("ACME challenge")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.type} challenge {self.public_id}"
