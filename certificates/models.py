"""The certificate lifecycle's tables: what is sold, what was bought, and what happened."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from certificates import domain_checks
from certificates.lifecycle import CertificateStatus, RevocationStatus, can_transition
from certificates.pki import csr, revocation


class ValidationType(models.TextChoices):
    DV = "DV", _("DV (domain validation)")
    OV = "OV", _("OV (organization validation)")
    EV = "EV", _("EV (extended validation)")


class DomainScope(models.TextChoices):
    SINGLE = "single", _("One domain")
    MULTIPLE = "multiple", _("Multiple domains")
    WILDCARD = "wildcard", _("Wildcard")


class Source(models.TextChoices):
    # Not "issued": that is a status, and a console certificate has many statuses.
    CONSOLE = "console", _("Issued by the console")
    UPLOADED = "uploaded", _("Uploaded")
    ACME = "acme", "ACME"


# Shown instead of "Issued" before a certificate's validity begins (Certificate.shown_status).
NOT_YET_VALID = "not_yet_valid"

# A certificate from this console can be deleted once it is in one of these.
DELETABLE_STATUSES = frozenset({CertificateStatus.EXPIRED, CertificateStatus.REVOKED})


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Brand(TimestampedModel):
    """A certificate brand customers can buy (the brand table operators edit)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    # Uploaded certificates get this brand when their issuer's organization
    # contains this text (case-insensitive), e.g. "DigiCert".
    issuer_match = models.CharField(_("issuer match"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    display_order = models.PositiveSmallIntegerField(_("display order"), default=0)
    # Serve an ACME directory at /acme/<slug>/ (ACME_DEFAULT_BRAND's is always served).
    acme_enabled = models.BooleanField(_("ACME enabled"), default=False)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["display_order", "name"]

    def __str__(self) -> str:
        return self.name


class CertificateAuthority(TimestampedModel):
    """A brand's local CA: a root, and the issuing CA under it that signs certificates."""

    class Role(models.TextChoices):
        ROOT = "root", _("Root CA")
        ISSUING = "issuing", _("Issuing CA")

    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="authorities", verbose_name=_("brand")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    # The name in the CA's URLs (/pki/<slug>/...), fixed once certificates name them.
    slug = models.SlugField(_("slug"), max_length=100)
    certificate_pem = models.TextField(
        _("certificate (PEM)"),
    )
    # Encrypted with KEY_ENCRYPTION_KEYS, like customers' keys (certificates.key_encryption).
    private_key_encrypted = models.TextField(_("private key encrypted"), editable=False)
    # The number of the last CRL published; each new CRL takes the next one.
    crl_number = models.PositiveBigIntegerField(_("CRL number"), default=0)
    # The last CRL published (DER), served until crl_refresh_at; a completed
    # revocation clears crl_refresh_at so that the next request publishes a new one.
    crl_der = models.BinaryField(_("CRL (DER)"), default=b"", blank=True, editable=False)
    crl_refresh_at = models.DateTimeField(
        _("CRL refresh at"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("certificate authority")
        verbose_name_plural = _("certificate authorities")
        constraints = [
            models.UniqueConstraint(fields=["brand", "role"], name="one_ca_per_brand_and_role"),
            models.UniqueConstraint(fields=["slug", "role"], name="unique_ca_slug_per_role"),
        ]

    def __str__(self) -> str:
        return f"{self.brand} {self.get_role_display()}"


class Product(TimestampedModel):
    """One thing on sale: a brand's certificate of a type and domain scope, priced per year."""

    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="products", verbose_name=_("brand")
    )
    validation_type = models.CharField(
        _("validation type"), max_length=2, choices=ValidationType.choices
    )
    domain_scope = models.CharField(_("domain scope"), max_length=10, choices=DomainScope.choices)
    price_per_year = models.DecimalField(_("price per year"), max_digits=10, decimal_places=2)
    # Multi-domain certificates: each domain beyond the first costs this much a year.
    price_per_extra_domain = models.DecimalField(
        _("price per extra domain"), max_digits=10, decimal_places=2, default=0
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["brand", "validation_type", "domain_scope"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "validation_type", "domain_scope"], name="unique_product"
            ),
            # The CA/Browser Forum forbids wildcard EV certificates.
            models.CheckConstraint(
                condition=~Q(validation_type="EV", domain_scope="wildcard"),
                name="no_ev_wildcard_product",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand} {self.validation_type} {self.get_domain_scope_display()}"

    @property
    def is_multi_domain(self) -> bool:
        return self.domain_scope == DomainScope.MULTIPLE


class Order(TimestampedModel):
    """A purchase: paid once, refunded (in part) when its certificates are revoked in time."""

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("customer"),
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="orders", verbose_name=_("product")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    years = models.PositiveSmallIntegerField(
        _("years"), choices=[(1, _("1 year")), (2, _("2 years"))]
    )
    domain_count = models.PositiveIntegerField(_("domain count"), default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    refund_amount = models.DecimalField(
        _("refund amount"), max_digits=12, decimal_places=2, default=0
    )
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    # One order per key and customer: a repeated "Pay" (double click, retry) makes no second one.
    idempotency_key = models.UUIDField(_("idempotency key"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["customer", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="one_order_per_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Order %(id)s") % {"id": self.pk}


class CustomerSettings(TimestampedModel):
    """A customer's choices for the console: what new certificates start with."""

    customer = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="console_settings",
        verbose_name=_("customer"),
    )
    # New certificates (bought or uploaded) start with expiry warnings on or off.
    expiry_warnings_default = models.BooleanField(_("expiry warnings default"), default=True)
    # The console's and the emails' language; blank: the browser's (cookie, Accept-Language).
    # Each language is named in itself, as language menus do.
    language = models.CharField(
        max_length=16,
        blank=True,
        default="",
        choices=[("en", "English"), ("zh-hans", "简体中文")],
    )

    class Meta:
        verbose_name = _("customer settings")
        verbose_name_plural = _("customer settings")

    def __str__(self) -> str:
        return gettext("Settings of %(customer)s") % {"customer": self.customer}


# A purchase is reissued while at least this much of it is left after the certificate's end.
REISSUE_MIN_REMAINING = timedelta(days=1)
# A Verify's check ends within DV_CHECK_TIMEOUT once a worker takes it; one not done after
# this long waits for no worker (none runs, or it stopped mid-check), and may be asked again.
CHECK_GIVEN_UP_AFTER = timedelta(minutes=5)


def ended(now: datetime) -> Q:
    """Certificates whose end date has come: from then on they are expired, whatever
    their stored status says (the batch job may not have run yet). The same rule as
    Certificate.has_ended; `not_ended` is its complement, which leaves out certificates
    with no end date yet as this does."""
    return Q(not_after__lte=now)


def not_ended(now: datetime) -> Q:
    return Q(not_after__gt=now)


class CertificateQuerySet(models.QuerySet):
    def owned_by(self, user) -> "CertificateQuerySet":
        """What a customer can reach: their own certificates, less the ones they deleted."""
        return self.filter(owner=user, deleted_at__isnull=True)

    def ended(self, now: datetime) -> "CertificateQuerySet":
        return self.filter(ended(now))

    def reissuable(self, now: datetime) -> "CertificateQuerySet":
        """The rule of Certificate.can_reissue, as a query (the reissue job's)."""
        return self.filter(
            not_ended(now),
            source=Source.CONSOLE,
            status=CertificateStatus.ISSUED,
            subscription_ends_at__gte=F("not_after") + REISSUE_MIN_REMAINING,
        )


class Certificate(TimestampedModel):
    """A certificate in a customer's console: bought and issued here, or uploaded."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="certificates",
        verbose_name=_("owner"),
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.CONSOLE
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certificates",
        verbose_name=_("order"),
    )
    brand = models.ForeignKey(
        Brand,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certificates",
        verbose_name=_("brand"),
    )
    validation_type = models.CharField(
        _("validation type"), max_length=2, choices=ValidationType.choices, blank=True
    )
    domain_scope = models.CharField(
        _("domain scope"), max_length=10, choices=DomainScope.choices, blank=True
    )
    domain_count = models.PositiveIntegerField(_("domain count"), default=1)
    # Uploaded certificates are named by their owner; names are unique per owner.
    name = models.CharField(_("name"), max_length=63, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=CertificateStatus.choices,
        default=CertificateStatus.PENDING_APPLICATION,
    )
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)

    # Read from the certificate itself once there is one.
    common_name = models.CharField(_("common name"), max_length=255, blank=True)
    # Every domain, one per line, lower case: the CN first, then the SANs.
    domains = models.TextField(_("domains"), blank=True)
    organization = models.CharField(_("organization"), max_length=255, blank=True)
    issuer = models.CharField(_("issuer"), max_length=1000, blank=True)
    serial = models.CharField(_("serial"), max_length=64, blank=True)
    fingerprint_sha256 = models.CharField(_("SHA-256 fingerprint"), max_length=95, blank=True)
    # The SHA-256 of the certificate's SubjectPublicKeyInfo (hex): finds every
    # certificate of a key, across customers, when the key is compromised.
    public_key_sha256 = models.CharField(_("public key SHA-256"), max_length=64, blank=True)
    key_algorithm = models.CharField(_("key algorithm"), max_length=32, blank=True)
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    not_after = models.DateTimeField(_("not after"), null=True, blank=True)
    certificate_pem = models.TextField(_("certificate (PEM)"), blank=True)
    chain_pem = models.TextField(_("chain (PEM)"), blank=True)
    # The private key, encrypted with KEY_ENCRYPTION_KEYS (see certificates.key_encryption).
    # Never decrypted for display; only for downloads of the customer's own bundle.
    private_key_encrypted = models.TextField(_("private key encrypted"), blank=True, editable=False)
    # The issuing CA that signed it (certificates issued by the console).
    authority = models.ForeignKey(
        CertificateAuthority,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certificates",
        verbose_name=_("authority"),
    )

    # A purchase's validity is a subscription: reissued until this date.
    subscription_ends_at = models.DateTimeField(_("subscription ends at"), null=True, blank=True)
    expiry_warnings_enabled = models.BooleanField(_("expiry warnings enabled"), default=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="cert_owner_recent"),
            # The overview's counters and its paginator count read every live
            # certificate of a customer. This index holds all they look at
            # (deleted_at for "live", status and not_after for the counters, id
            # for COUNT), so both databases answer them from the index alone
            # instead of visiting each row; status tabs use it too.
            models.Index(
                fields=["owner", "deleted_at", "status", "not_after", "id"],
                name="cert_owner_live_status",
            ),
            # The expiry batch job scans issued certificates by end date.
            models.Index(fields=["status", "not_after"], name="cert_status_not_after"),
            models.Index(fields=["serial"], name="cert_serial"),
            models.Index(fields=["fingerprint_sha256"], name="cert_fingerprint"),
            models.Index(fields=["public_key_sha256"], name="cert_public_key"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"],
                condition=~Q(name="") & Q(deleted_at__isnull=True),
                name="unique_certificate_name_per_owner",
            ),
            # The same certificate cannot be kept twice in one console.
            models.UniqueConstraint(
                fields=["owner", "fingerprint_sha256"],
                condition=~Q(fingerprint_sha256="") & Q(deleted_at__isnull=True),
                name="unique_certificate_fingerprint_per_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.common_name or gettext("Certificate %(pk)s") % {"pk": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("certificates:detail", args=[self.pk])

    @property
    def domain_list(self) -> list[str]:
        return self.domains.split()

    @property
    def has_ended(self) -> bool:
        """Whether its end date has come (the rule of `ended`, for one certificate)."""
        return self.not_after is not None and self.not_after <= timezone.now()

    @property
    def display_status(self) -> str:
        """The status to show: a certificate past its end date is expired, batch job or not."""
        if self.status == CertificateStatus.ISSUED and self.has_ended:
            return CertificateStatus.EXPIRED
        return self.status

    @property
    def has_started(self) -> bool:
        """Whether its validity has begun: an uploaded certificate may start in the future."""
        return self.not_before is None or self.not_before <= timezone.now()

    @property
    def shown_status(self) -> str:
        """What the status badge says: an issued certificate whose validity has not begun
        is "not yet valid" (not a status: nothing changes when its day comes)."""
        if self.display_status == CertificateStatus.ISSUED and not self.has_started:
            return NOT_YET_VALID
        return self.display_status

    def get_display_status_display(self) -> str:
        if self.shown_status == NOT_YET_VALID:
            return gettext("Not yet valid")
        return str(CertificateStatus(self.display_status).label)

    @property
    def delete_refusal(self) -> str | None:
        """Why this certificate cannot be deleted now, or None when it can.

        Uploaded certificates go at any time; one from this console only once it
        has expired or been revoked, so a live certificate is never dropped unrevoked.
        """
        if self.deleted_at is not None:
            return gettext("This certificate was already deleted.")
        status = self.display_status
        if self.source == Source.UPLOADED or status in DELETABLE_STATUSES:
            return None
        if status == CertificateStatus.ISSUED:
            return gettext(
                "This certificate is issued and still valid: revoke it first, then delete it."
            )
        return gettext("A certificate that is %(status)s cannot be deleted.") % {
            "status": CertificateStatus(status).label
        }

    @property
    def offers_delete(self) -> bool:
        """Whether the list offers Delete: when it can be deleted, or must be revoked first."""
        return self.display_status == CertificateStatus.ISSUED or self.delete_refusal is None

    @property
    def can_download(self) -> bool:
        """Only certificates this console issued, and not once a revocation is requested."""
        return (
            self.source == Source.CONSOLE
            and bool(self.certificate_pem)
            and (self.display_status in (CertificateStatus.ISSUED, CertificateStatus.EXPIRED))
        )

    @property
    def offers_deploy(self) -> bool:
        """Whether the pages offer Deploy: issued, unexpired, with its certificate. (The
        deployments' own checks, revocations and keys included, decide on the request.)"""
        return self.display_status == CertificateStatus.ISSUED and bool(self.certificate_pem)

    @property
    def can_reissue(self) -> bool:
        """A purchase lasts longer than one certificate may: the rest comes by reissuing.

        The same rule as CertificateQuerySet.reissuable (a test holds them together).
        """
        return (
            self.source == Source.CONSOLE
            and self.display_status == CertificateStatus.ISSUED
            and None not in (self.subscription_ends_at, self.not_after)
            and self.subscription_ends_at >= self.not_after + REISSUE_MIN_REMAINING
        )

    @property
    def revoke_refusal(self) -> str | None:
        """Why this certificate cannot be revoked now, or None when it can.

        Only a certificate this console's CA signed, while it is issued and unexpired.
        """
        if self.source == Source.UPLOADED:
            return gettext(
                "Uploaded certificates can't be revoked here: ask the CA that issued them."
            )
        status = self.display_status
        if status == CertificateStatus.REVOKING:
            return gettext("A revocation of this certificate is already under way.")
        if status != CertificateStatus.ISSUED or self.authority_id is None:
            return gettext("A certificate that is %(status)s can't be revoked.") % {
                "status": CertificateStatus(status).label
            }
        return None

    @property
    def can_set_expiry_warnings(self) -> bool:
        """Warnings are about an end date still to come: only for issued certificates."""
        return self.display_status == CertificateStatus.ISSUED

    @property
    def can_revoke(self) -> bool:
        return self.revoke_refusal is None

    @property
    def shows_full_details(self) -> bool:
        """Once a revocation is requested, the details page shows only what identifies it."""
        return self.status not in (CertificateStatus.REVOKING, CertificateStatus.REVOKED)

    @property
    def can_apply(self) -> bool:
        """Whether an application may be saved or submitted: submitting must be allowed.

        An issued certificate goes back to validation only by a reissue (its domain checks
        too old to reuse), never by a new application.
        """
        return self.status != CertificateStatus.ISSUED and can_transition(
            self, CertificateStatus.VALIDATING
        )

    @property
    def can_withdraw(self) -> bool:
        return can_transition(self, CertificateStatus.PENDING_APPLICATION)

    @property
    def days_left(self) -> int | None:
        if self.not_after is None:
            return None
        return max((self.not_after - timezone.now()) // timedelta(days=1), 0)

    @property
    def shows_days_left(self) -> bool:
        """Days left mean something only while it is in use: not once revoked or expired."""
        return self.days_left is not None and self.display_status == CertificateStatus.ISSUED

    @property
    def is_uploaded(self) -> bool:
        return self.source == Source.UPLOADED

    @property
    def is_expired(self) -> bool:
        """Shown as expired: expired, or issued and past its end date."""
        return self.display_status == CertificateStatus.EXPIRED

    @property
    def check_failed(self) -> bool:
        """The check failed: the customer corrects the application and submits it again."""
        return self.status == CertificateStatus.CHECK_FAIL

    @property
    def shows_validation_steps(self) -> bool:
        """While it is being validated, the details page says what the validation needs."""
        return self.status == CertificateStatus.VALIDATING

    @property
    def is_domain_validated(self) -> bool:
        """DV: validated by a DNS record or a file; OV and EV by an operator's review."""
        return self.validation_type == ValidationType.DV

    @property
    def revocation_needs_confirmation(self) -> bool:
        """OV/EV: the applicant confirms by an emailed link before anything reaches the CA."""
        return not self.is_domain_validated

    @property
    def is_multi_domain(self) -> bool:
        return self.domain_scope == DomainScope.MULTIPLE


class CertificateCount(models.Model):
    """How many live (not deleted) certificates a customer has in one status.

    Kept by certificates.counters in the same transaction as every change that
    moves a certificate in or out of a status, so the overview reads a handful
    of rows instead of counting the customer's certificates.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("owner"),
    )
    status = models.CharField(_("status"), max_length=20, choices=CertificateStatus.choices)
    count = models.BigIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("certificate count")
        verbose_name_plural = _("certificate counts")
        constraints = [
            models.UniqueConstraint(fields=["owner", "status"], name="one_count_per_owner_status"),
        ]

    def __str__(self) -> str:
        return f"{self.count} {self.status} of user {self.owner_id}"


class IssuedEndCount(models.Model):
    """How many live issued certificates of a customer end on one day (UTC).

    Kept beside CertificateCount by certificates.counters, so the counters that
    depend on the time ("Will Expire", and issued-but-ended shown as expired)
    add up a month of day rows instead of scanning the certificates ending in it.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("owner"),
    )
    ends_on = models.DateField(_("ends on"))
    count = models.BigIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("issued end count")
        verbose_name_plural = _("issued end counts")
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "ends_on"], name="one_count_per_owner_end_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.count} issued of user {self.owner_id} ending {self.ends_on}"


class Application(TimestampedModel):
    """The request information for a console certificate, and how its validation went."""

    class CsrSource(models.TextChoices):
        SYSTEM = "system", _("System-generated")
        MANUAL = "manual", _("Manual (paste a CSR)")

    # The core's tables, with the same names, values and labels.
    KeyType = models.TextChoices(
        "KeyType",
        [(key.name, (key.value, key.label)) for key in csr.KeyType],
        qualname="Application.KeyType",
    )
    # The domain checks' methods, and the operators' review of OV and EV applications.
    ValidationMethod = models.TextChoices(
        "ValidationMethod",
        [
            (method.name, (method.value, _(method.label)))
            for method in domain_checks.ValidationMethod
        ]
        + [("REVIEW", ("review", _("Organization review")))],
        qualname="Application.ValidationMethod",
    )

    certificate = models.OneToOneField(
        Certificate,
        on_delete=models.CASCADE,
        related_name="application",
        verbose_name=_("certificate"),
    )
    domains = models.TextField(
        _("domains"), blank=True, help_text=_("Requested domains, one per line.")
    )
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    organization_name = models.CharField(_("organization name"), max_length=255, blank=True)
    organization_country = models.CharField(_("organization country"), max_length=2, blank=True)
    organization_state = models.CharField(_("organization state"), max_length=128, blank=True)
    organization_city = models.CharField(_("organization city"), max_length=128, blank=True)
    organization_address = models.CharField(_("organization address"), max_length=255, blank=True)
    # EV only: what the EV Guidelines put in the subject.
    business_category = models.CharField(_("business category"), max_length=32, blank=True)
    jurisdiction_country = models.CharField(_("jurisdiction country"), max_length=2, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=64, blank=True)
    csr_source = models.CharField(
        _("CSR source"), max_length=10, choices=CsrSource.choices, default=CsrSource.SYSTEM
    )
    key_type = models.CharField(_("key type"), max_length=10, choices=KeyType.choices, blank=True)
    csr_pem = models.TextField(_("CSR (PEM)"), blank=True)
    validation_method = models.CharField(
        _("validation method"), max_length=10, choices=ValidationMethod.choices, blank=True
    )
    validation_token = models.CharField(_("validation token"), max_length=128, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    last_checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    # What the last domain-validation check found, per domain.
    check_results = models.JSONField(_("check results"), default=dict, blank=True)
    # Set while a Verify waits for the worker or runs: the page shows "Checking..." and
    # another Verify queues nothing. The worker clears it when the check is done.
    check_requested_at = models.DateTimeField(_("check requested at"), null=True, blank=True)
    # Why the last check found every name but the certificate could not be issued (the
    # issuance policy's refusal), for the page to show once the worker is done.
    check_refusal = models.TextField(_("check refusal"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    # Shown to the customer on "Check Fail".
    rejection_reason = models.TextField(_("rejection reason"), blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        indexes = [models.Index(fields=["submitted_at"], name="application_submitted")]

    def __str__(self) -> str:
        return gettext("Application for %(certificate)s") % {"certificate": self.certificate}

    @property
    def domain_list(self) -> list[str]:
        return self.domains.split()

    @property
    def validates_by_dns(self) -> bool:
        """Domain control by a DNS TXT record rather than by a file on the web server."""
        return self.validation_method == self.ValidationMethod.DNS

    def domains_validated_at(self) -> dict[str, datetime | None]:
        """When control of each name was last proven by its check (None: not passed)."""
        proven: dict[str, datetime | None] = {}
        for domain in self.domain_list:
            result = self.check_results.get(domain) or {}
            checked_at = result.get("checked_at")
            proven[domain] = (
                datetime.fromisoformat(checked_at) if result.get("ok") and checked_at else None
            )
        return proven

    @property
    def is_checking(self) -> bool:
        """A Verify is queued or running, and recent enough to be waited for."""
        return (
            self.check_requested_at is not None
            and self.check_requested_at > timezone.now() - CHECK_GIVEN_UP_AFTER
        )

    @property
    def check_given_up(self) -> bool:
        """A Verify was asked for but no worker finished it in time (none running, or one
        stopped mid-check): the customer may ask again."""
        return self.check_requested_at is not None and not self.is_checking

    @property
    def all_domains_checked(self) -> bool:
        """Every name passed its check (the operators' Approve waits for this)."""
        return all(self.domains_validated_at().values())


class IssuedSerial(models.Model):
    """Every certificate the console's CAs signed, by serial.

    A reissue gives a certificate row a new serial while the old certificate stays
    valid until its end date: OCSP must still know the old serial, and a revocation
    puts every serial of the row on the CRL.
    """

    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        related_name="issued_serials",
        verbose_name=_("certificate"),
    )
    authority = models.ForeignKey(
        CertificateAuthority,
        on_delete=models.PROTECT,
        related_name="issued_serials",
        verbose_name=_("authority"),
    )
    # Upper-case hex of the DER INTEGER, as Certificate.serial (parsing.serial_hex).
    serial = models.CharField(_("serial"), max_length=64)
    # The CRL shard the certificate names (certificates.pki.ca.crl_shard of the serial):
    # its revocation republishes that shard only.
    crl_shard = models.PositiveSmallIntegerField(_("CRL shard"), default=0)
    not_before = models.DateTimeField(_("not before"))
    not_after = models.DateTimeField(_("not after"))

    class Meta:
        verbose_name = _("issued serial")
        verbose_name_plural = _("issued serials")
        constraints = [
            models.UniqueConstraint(fields=["authority", "serial"], name="unique_serial_per_ca")
        ]
        indexes = [models.Index(fields=["authority", "crl_shard"], name="issued_serial_crl_shard")]

    def __str__(self) -> str:
        return self.serial


class CrlShard(models.Model):
    """One published shard of an issuing CA's partitioned CRL (certificates.services.
    publication builds and keeps it): served while fresh and not stale; a revocation of
    one of its serials marks it stale in its own transaction."""

    authority = models.ForeignKey(
        CertificateAuthority, on_delete=models.CASCADE, related_name="crl_shards"
    )
    number = models.PositiveSmallIntegerField("shard")
    # The number of the shard's last CRL; each new one takes the next, under the row lock.
    crl_number = models.PositiveBigIntegerField("CRL number", default=0)
    der = models.BinaryField("CRL (DER)", default=b"", blank=True, editable=False)
    this_update = models.DateTimeField(null=True, blank=True)
    next_update = models.DateTimeField(null=True, blank=True)
    stale = models.BooleanField(default=True)

    class Meta:
        verbose_name = "CRL shard"
        constraints = [
            models.UniqueConstraint(fields=["authority", "number"], name="one_crl_shard_per_number")
        ]

    def __str__(self) -> str:
        return f"{self.authority} CRL shard {self.number}"


class OcspAnswer(models.Model):
    """The OCSP answer about one issued serial, signed ahead so that the responder only
    looks it up (certificates.services.ocsp_answers keeps it current).

    It answers requests with a SHA-1 CertID and no nonce, naming exactly these issuer
    hashes; every other request is signed live, as before. Looked up by CA and serial.
    """

    issued_serial = models.OneToOneField(
        IssuedSerial,
        on_delete=models.CASCADE,
        related_name="ocsp_answer",
        verbose_name=_("issued serial"),
    )
    # The issued serial's CA and serial again, so that the lookup needs no join.
    authority = models.ForeignKey(
        CertificateAuthority,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("authority"),
    )
    serial = models.CharField(_("serial"), max_length=64)
    issuer_name_hash = models.BinaryField(_("issuer name hash"), max_length=20)
    issuer_key_hash = models.BinaryField(_("issuer key hash"), max_length=20)
    der = models.BinaryField(_("answer (DER)"))
    this_update = models.DateTimeField(_("this update"))
    next_update = models.DateTimeField(_("next update"))
    # Half its validity: from then on the refresh signs it again.
    refresh_at = models.DateTimeField(_("refresh at"))

    class Meta:
        verbose_name_plural = _("OCSP answers")
        verbose_name = _("OCSP answer")
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "serial"], name="unique_ocsp_answer_per_ca"
            )
        ]
        indexes = [models.Index(fields=["refresh_at"], name="ocsp_answer_refresh")]

    def __str__(self) -> str:
        return self.serial


# The RFC 5280 CRLReason codes a customer can choose, from the core's table, named as
# cryptography names their flags (KEY_COMPROMISE, ...).
RevocationReason = models.IntegerChoices(
    "RevocationReason",
    [
        (reason.flag.name.upper(), (code, _(reason.label)))
        for code, reason in revocation.REASONS.items()
        if reason.customer_may_choose
    ],
)


class RevocationRequest(TimestampedModel):
    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        related_name="revocation_requests",
        verbose_name=_("certificate"),
    )
    # None: nobody signed in asked; someone proved possession of the certificate's key
    # on the public key-compromise page.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    reason = models.PositiveSmallIntegerField(_("reason"), choices=RevocationReason.choices)
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=RevocationStatus.choices,
        default=RevocationStatus.AWAITING_CONFIRMATION,
    )
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    # OV/EV: the applicant confirms by an emailed link before anything reaches the CA.
    confirmation_email = models.EmailField(_("confirmation email"), blank=True)
    confirmation_sent_at = models.DateTimeField(_("confirmation sent at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    submitted_to_ca_at = models.DateTimeField(_("submitted to CA at"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("processed by"),
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    refund_amount = models.DecimalField(
        _("refund amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("revocation request")
        verbose_name_plural = _("revocation requests")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "due_date"], name="revocation_queue")]
        constraints = [
            # At most one revocation under way per certificate.
            models.UniqueConstraint(
                fields=["certificate"],
                condition=Q(status__in=["awaiting_confirmation", "pending"]),
                name="one_open_revocation_per_certificate",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Revocation of %(certificate)s") % {"certificate": self.certificate}

    @property
    def is_shown(self) -> bool:
        """The details page shows the latest request, unless the customer cancelled it."""
        return self.status != RevocationStatus.CANCELLED

    @property
    def is_key_compromise(self) -> bool:
        """Key compromise is never queued: revoked as soon as it reaches the CA (BR 4.9.1.1)."""
        return self.reason == RevocationReason.KEY_COMPROMISE

    @property
    def reject_refusal(self) -> str | None:
        """Why the CA may not reject this request, or None when it may."""
        if self.is_key_compromise:
            return gettext(
                "A revocation for key compromise can't be rejected: the Baseline Requirements "
                "want the certificate revoked within 24 hours. Complete it."
            )
        return None

    @property
    def is_overdue(self) -> bool:
        return (
            self.status == RevocationStatus.PENDING
            and self.due_date is not None
            and self.due_date < timezone.localdate()
        )


class AuditEvent(models.Model):
    """Something that happened, kept even after the object it concerns is gone."""

    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # Kept as text so the log still reads right after a user is removed.
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object repr"), max_length=255)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.actor_name or 'system'} {self.action} {self.object_repr}"


class ExpiryNotice(models.Model):
    """A certificate's expiry warning at one threshold, claimed by one run of notify_expiring.

    The unique constraint is what makes each warning go out at most once: a
    run claims a warning by inserting its row, and only the run whose insert
    went in sends it (see certificates.expiry_warnings).
    """

    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.CASCADE,
        related_name="expiry_notices",
        verbose_name=_("certificate"),
    )
    threshold_days = models.PositiveSmallIntegerField(_("threshold days"))
    # The run that inserted the row, so it can tell its claims from a concurrent run's.
    run_id = models.UUIDField(_("run id"))
    claimed_at = models.DateTimeField(_("claimed at"), default=timezone.now)
    # Null while the email is being sent, and for good if the run died before
    # it could say the email went out.
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("expiry notice")
        verbose_name_plural = _("expiry notices")
        constraints = [
            models.UniqueConstraint(
                fields=["certificate", "threshold_days"], name="one_notice_per_threshold"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(days)s-day warning for certificate %(certificate)s") % {
            "days": self.threshold_days,
            "certificate": self.certificate_id,
        }


class CompromisedKey(models.Model):
    """A key known to be compromised: no certificate is signed for it again.

    Keyed by the SHA-256 of its SubjectPublicKeyInfo, across all customers
    (see certificates.compromised_keys).
    """

    class Source(models.TextChoices):
        REVOCATION = "revocation", _("Revoked for key compromise")
        REPORT = "report", _("Reported with proof of possession")
        ACME = "acme", _("Revoked through ACME with the certificate's key")

    public_key_sha256 = models.CharField(_("public key SHA-256"), max_length=64, unique=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    listed_at = models.DateTimeField(_("listed at"), default=timezone.now)
    # The certificate whose revocation or report put the key here, if any.
    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("certificate"),
    )

    def __str__(self) -> str:
        return f"compromised key {self.public_key_sha256[:16]}..."
