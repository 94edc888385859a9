"""The reads, one module per page or topic; every door (views, admin, API, ACME) uses these.

overview: the counters, tabs and filtered list. details: the details page's reads.
purchase: what is on sale and its price. brands: brands listed, on sale, by issuer.
revocation: refund terms and price, the CRL's entries and a serial's OCSP state.
"""

from certificates.selectors.brands import brand_for_issuer, brands, brands_on_sale
from certificates.selectors.details import (
    CertificateDetails,
    ChainEntry,
    ValidationRow,
    certificate_details,
    validation_rows,
)
from certificates.selectors.overview import (
    COUNTER_TABS,
    STATUS_FILTERS,
    WILL_EXPIRE,
    Tab,
    certificate_counters,
    certificate_list,
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
)

__all__ = [
    "COUNTER_TABS",
    "MULTIPLE_MAX_DOMAINS",
    "MULTIPLE_MIN_DOMAINS",
    "PURCHASE_MAX_QUANTITY",
    "PURCHASE_YEARS",
    "STATUS_FILTERS",
    "WILL_EXPIRE",
    "CertificateDetails",
    "ChainEntry",
    "Quote",
    "Tab",
    "ValidationRow",
    "brand_for_issuer",
    "brands",
    "brands_on_sale",
    "certificate_counters",
    "certificate_details",
    "certificate_list",
    "certificate_price",
    "check_purchase",
    "products_on_sale",
    "quote",
    "refund_terms",
    "refund_terms_from",
    "revoked_entries",
    "serial_state",
    "status_condition",
    "validation_rows",
]
