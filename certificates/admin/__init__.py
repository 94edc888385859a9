"""The operators' console: review queues, the CA's revocation work, orders and the audit log.

Every decision goes through certificates.services, the one place for the rules and the
transition table (which also writes the audit log): nothing here sets a status. Only
brands and products are edited by hand, and those edits are audited too. Private keys
never appear: the key fields are left out of every list, form and inline, and are not
even loaded. What the lists read (the queues, "overdue", the refunds) comes from
certificates.selectors, as the admin index's queues do.

One module per model admin; `shared` holds the filters, bases and columns they share.
Importing them here registers them with the admin site.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from certificates.admin import (  # noqa: F401 (imported to register the model admins)
    applications,
    audit_log,
    authorities,
    brands,
    certificates,
    compromised_keys,
    orders,
    revocations,
)

admin.site.site_header = _("SSL Certificates Service: operators")
admin.site.site_title = _("SSL Certificates operators")
admin.site.index_title = _("Operators' console")
