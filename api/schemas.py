"""What the API reads and answers, as Pydantic schemas (the OpenAPI description comes from here).

Nothing here holds key material: no schema has a field for a private key.
"""

from datetime import date, datetime
from decimal import Decimal

from ninja import Schema
from pydantic import Field


class Counters(Schema):
    total: int
    issued: int
    pending_application: int
    will_expire: int
    check_fail: int
    expired: int


class Certificate(Schema):
    id: int
    name: str
    status: str = Field(description="As the console shows it: past its end date is expired.")
    status_label: str
    source: str
    brand: str | None = Field(description="The brand's slug.")
    validation_type: str
    domain_scope: str
    domain_count: int
    common_name: str
    domains: list[str]
    organization: str
    issuer: str
    serial: str
    fingerprint_sha256: str
    key_algorithm: str
    not_before: datetime | None
    not_after: datetime | None
    days_left: int | None
    created_at: datetime
    can_apply: bool
    can_download: bool
    can_revoke: bool
    can_delete: bool
    can_reissue: bool
    expiry_warnings_enabled: bool


class CertificatePage(Schema):
    items: list[Certificate]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class ChainEntry(Schema):
    subject: str
    issuer: str
    not_after: datetime


class ValidationRow(Schema):
    domain: str
    record: str = Field(description="The DNS TXT record's name.")
    url: str = Field(description="Where the file must be served.")
    result: str


class Validation(Schema):
    status: str
    method: str
    token: str = Field(description="The TXT record's value, or the file's content.")
    submitted_at: datetime | None
    last_checked_at: datetime | None
    rejection_reason: str
    checking: bool = Field(description="A check is queued or running: poll until false.")
    refusal: str = Field(
        description="Why the last check found every name but the certificate was not issued."
    )
    rows: list[ValidationRow]


class Revocation(Schema):
    id: int
    status: str
    reason: int
    confirmation_email: str
    due_date: date | None
    completed_at: datetime | None
    rejection_reason: str
    refund_amount: Decimal | None


class CertificateDetails(Certificate):
    subject: str | None = Field(description="None until issued, and once a revocation starts.")
    fingerprint_sha1: str | None
    chain: list[ChainEntry]
    validation: Validation | None
    revocation: Revocation | None


class UploadIn(Schema):
    name: str = Field(description="Letters, digits, _ and -; up to 63; unique in your account.")
    certificate: str = Field(description="PEM: the certificate, optionally followed by its chain.")
    key: str = Field(description="PEM: the private key, unencrypted.")


class ApplicationIn(Schema):
    domains: list[str]
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    organization_name: str = ""
    organization_country: str = ""
    organization_state: str = ""
    organization_city: str = ""
    organization_address: str = ""
    business_category: str = ""
    jurisdiction_country: str = ""
    registration_number: str = ""
    csr_source: str = Field(
        "system", description="`system` (the console makes the key) or `manual` (send `csr_pem`)."
    )
    key_type: str = Field(
        "", description="For a system CSR: `rsa2048`, `rsa3072`, `rsa4096`, `ecp256` or `ecp384`."
    )
    csr_pem: str = ""
    validation_method: str = Field("", description="DV: `dns` or `file`.")
    submit: bool = Field(True, description="False keeps a draft.")


class ReissueIn(Schema):
    serial: str | None = Field(
        None,
        description="The serial being replaced, as last read: a repeat finds it replaced and "
        "reissues nothing more.",
    )


class ExpiryWarningsIn(Schema):
    enabled: bool


class RevocationIn(Schema):
    reason: int = Field(description="RFC 5280 code: 0, 1, 3, 4 or 5.")


class Product(Schema):
    id: int
    brand: str
    brand_name: str
    validation_type: str
    domain_scope: str
    price_per_year: Decimal
    price_per_extra_domain: Decimal


class PurchaseIn(Schema):
    brand: str = Field(description="The brand's slug.")
    validation_type: str
    domain_scope: str
    domain_count: int = 1
    quantity: int = 1
    years: int = 1


class Refund(Schema):
    certificate: int
    revocation: int
    amount: Decimal | None
    completed_at: datetime | None


class Order(Schema):
    id: int
    product: str
    brand: str
    validation_type: str
    domain_scope: str
    quantity: int
    years: int
    domain_count: int
    unit_price: Decimal
    amount: Decimal
    paid_at: datetime | None
    refund_amount: Decimal
    refunded_at: datetime | None
    certificates: list[int]
    refunds: list[Refund]


class OrderPage(Schema):
    items: list[Order]
    next_cursor: str | None


class Event(Schema):
    id: int
    created_at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    details: dict


class EventPage(Schema):
    items: list[Event]
    next_cursor: str | None


class ProblemTypeOut(Schema):
    type: str
    status: int
    title: str
    description: str
