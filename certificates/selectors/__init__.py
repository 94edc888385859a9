"""The reads, one module per page or topic; every door (views, admin, API, ACME) uses these.

overview: the counters, tabs and filtered list; keyset: its pages, by cursor, and
bounded counts. details: the details page's reads.
purchase: what is on sale and its price. orders: the Orders page, and the API's orders and
audit events. account: a customer's settings. brands: brands listed, on sale, by issuer.
revocation: refund terms and price, the CRL's entries, a serial's OCSP state and its
stored OCSP answer.
operators: the operators' queues (review, with the CA, overdue, orders to refund), when a
certificate was first issued, and the refund a revocation completed on a day brings.
"""

from certificates.selectors.account import expiry_warnings_default, profile_language
from certificates.selectors.brands import brand_for_issuer, brands, brands_on_sale
from certificates.selectors.details import (
    CertificateDetails,
    ChainEntry,
    DownloadOption,
    ValidationRow,
    certificate_details,
    download_options,
    replacements,
    validation_rows,
    verification_outcome,
)
from certificates.selectors.keyset import Cursor, KeysetPage, bounded_count, keyset_page
from certificates.selectors.operators import (
    CERTIFICATE_BULK_FIELDS,
    REVIEWED_TYPES,
    Refund,
    application_waiting_for_review,
    first_issued_at,
    is_waiting_for_review,
    order_with_a_revocation_with_the_ca,
    refund_due,
    refund_on,
    revocation_overdue,
    revocation_with_the_ca,
    with_revocations_with_the_ca,
)
from certificates.selectors.orders import (
    certificate_events,
    customer_orders,
    order_detail,
    order_list,
)
from certificates.selectors.overview import (
    COUNTER_KEYS,
    COUNTER_TABS,
    STATUS_FILTERS,
    WILL_EXPIRE,
    ListEntry,
    Tab,
    certificate_counters,
    certificate_list,
    list_entries,
    status_condition,
)
from certificates.selectors.purchase import (
    MULTIPLE_MAX_DOMAINS,
    MULTIPLE_MIN_DOMAINS,
    PURCHASE_MAX_QUANTITY,
    PURCHASE_YEARS,
    Quote,
    check_purchase,
    products_on_sale,
    quote,
)
from certificates.selectors.revocation import (
    certificate_price,
    refund_terms,
    refund_terms_from,
    revoked_entries,
    serial_state,
    stored_ocsp_answer,
)

__all__ = [
    "COUNTER_KEYS",
    "Cursor",
    "KeysetPage",
    "ListEntry",
    "list_entries",
    "bounded_count",
    "keyset_page",
    "CERTIFICATE_BULK_FIELDS",
    "COUNTER_TABS",
    "MULTIPLE_MAX_DOMAINS",
    "MULTIPLE_MIN_DOMAINS",
    "PURCHASE_MAX_QUANTITY",
    "PURCHASE_YEARS",
    "REVIEWED_TYPES",
    "STATUS_FILTERS",
    "WILL_EXPIRE",
    "CertificateDetails",
    "ChainEntry",
    "DownloadOption",
    "Quote",
    "Refund",
    "Tab",
    "ValidationRow",
    "application_waiting_for_review",
    "brand_for_issuer",
    "brands",
    "brands_on_sale",
    "certificate_counters",
    "certificate_events",
    "certificate_details",
    "replacements",
    "certificate_list",
    "certificate_price",
    "check_purchase",
    "customer_orders",
    "download_options",
    "expiry_warnings_default",
    "profile_language",
    "first_issued_at",
    "is_waiting_for_review",
    "order_detail",
    "order_list",
    "order_with_a_revocation_with_the_ca",
    "products_on_sale",
    "quote",
    "refund_due",
    "refund_on",
    "refund_terms",
    "refund_terms_from",
    "revocation_overdue",
    "revocation_with_the_ca",
    "revoked_entries",
    "serial_state",
    "stored_ocsp_answer",
    "status_condition",
    "validation_rows",
    "verification_outcome",
    "with_revocations_with_the_ca",
]
