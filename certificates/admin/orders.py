"""Orders, with their refunds made and the refunds revocations with the CA would bring."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from certificates import selectors
from certificates.admin.shared import ReadOnlyAdmin, ReadOnlyInline, RefundFilter
from certificates.models import Certificate, Order
from certificates.money import format_money


class OrderCertificateInline(ReadOnlyInline):
    model = Certificate
    fields = ["common_name", "domains", "status", "serial", "not_after", "deleted_at"]
    readonly_fields = fields
    verbose_name_plural = "certificates"

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*selectors.CERTIFICATE_BULK_FIELDS)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Orders with their amounts, the refunds made, and the refunds a revocation with the
    CA would still bring. Read-only: a refund is made only by completing a revocation."""

    list_display = [
        "__str__",
        "customer",
        "product",
        "quantity",
        "amount_paid",
        "paid_at",
        "refund_due",
        "refund_made",
        "refunded_at",
    ]
    list_select_related = ["customer", "product__brand"]
    list_filter = [
        RefundFilter,
        "product__brand",
        "product__validation_type",
        "product__domain_scope",
        "years",
        "paid_at",
        "refunded_at",
    ]
    search_fields = [
        "id__exact",
        "customer__username",
        "customer__email",
        "certificates__domains",
        "certificates__serial",
        "certificates__fingerprint_sha256",
    ]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [OrderCertificateInline]
    fields = [
        "customer",
        "product",
        "quantity",
        "years",
        "domain_count",
        "price_per_unit",
        "amount_paid",
        "paid_at",
        "refund_due",
        "refund_made",
        "refunded_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        orders = super().get_queryset(request).select_related("customer", "product__brand")
        return selectors.with_revocations_with_the_ca(orders)

    @admin.display(description=_("refund due"))
    def refund_due(self, order: Order) -> str:
        """What completing its revocations with the CA today would refund."""
        if not order.with_the_ca:
            return "-"
        due = selectors.refund_due(order, completed_on=timezone.localdate())
        count = len(order.with_the_ca)
        return ngettext(
            "%(amount)s (%(count)s revocation with the CA)",
            "%(amount)s (%(count)s revocations with the CA)",
            count,
        ) % {"amount": format_money(due), "count": count}

    # Amounts as the console writes them: with the currency, grouped ("$2,990.00").
    @admin.display(description=_("unit price"), ordering="unit_price")
    def price_per_unit(self, order: Order) -> str:
        return format_money(order.unit_price)

    @admin.display(description=_("amount"), ordering="amount")
    def amount_paid(self, order: Order) -> str:
        return format_money(order.amount)

    @admin.display(description=_("refund amount"), ordering="refund_amount")
    def refund_made(self, order: Order) -> str:
        return format_money(order.refund_amount) if order.refund_amount else "-"
