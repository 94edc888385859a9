"""The ACME server's records in the operators' admin, view only.

Operators read credentials, accounts, orders and authorizations to answer a customer's
question ("why was my order refused?"); nothing here changes them: accounts are
deactivated and credentials revoked by their customers, orders move by the protocol.
No secret is shown or even loaded: not a credential's HMAC key, not an account's key
beyond its thumbprint.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from acme_server.models import (
    AcmeAccount,
    AcmeAuthorization,
    AcmeChallenge,
    AcmeCredential,
    AcmeOrder,
)
from certificates.admin.shared import ReadOnlyAdmin, ReadOnlyInline, admin_link


@admin.register(AcmeCredential)
class AcmeCredentialAdmin(ReadOnlyAdmin):
    list_display = ["kid", "label", "owner", "created_at", "expires_at", "revoked_at"]
    list_filter = ["created_at", "revoked_at"]
    search_fields = ["kid__exact", "label", "owner__username"]
    fields = ["kid", "label", "owner", "created_at", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = fields
    actions = None

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner").defer("hmac_key_encrypted")


@admin.register(AcmeAccount)
class AcmeAccountAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "owner", "contacts", "brand", "status", "created_at"]
    list_filter = ["status", "brand", "created_at"]
    search_fields = ["public_id__exact", "thumbprint__exact", "owner__username"]
    fields = [
        "public_id",
        "owner",
        "credential_link",
        "brand",
        "thumbprint",
        "contacts",
        "status",
        "created_at",
        "last_used_at",
    ]
    readonly_fields = fields
    actions = None

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("owner", "brand", "credential")
            .defer("jwk")
        )

    @admin.display(description=_("contact"))
    def contacts(self, account: AcmeAccount) -> str:
        return ", ".join(account.contact) or "-"

    @admin.display(description=_("credential"))
    def credential_link(self, account: AcmeAccount) -> str:
        return admin_link(account.credential)


class AuthorizationInline(ReadOnlyInline):
    model = AcmeAuthorization
    fields = ["name", "status", "expires_at"]
    readonly_fields = fields


@admin.register(AcmeOrder)
class AcmeOrderAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "customer", "names", "status", "created_at", "certificate_link"]
    list_filter = ["status", "created_at"]
    search_fields = ["public_id__exact", "account__owner__username", "identifiers__icontains"]
    fields = [
        "public_id",
        "account_link",
        "names",
        "status",
        "error",
        "created_at",
        "expires_at",
        "certificate_link",
        "replaces_link",
    ]
    readonly_fields = fields
    inlines = [AuthorizationInline]
    actions = None

    def get_queryset(self, request):
        # Only the certificates' names for their links: never their PEM or key columns.
        return (
            super()
            .get_queryset(request)
            .select_related("account__owner", "certificate", "replaces")
            .only(
                "public_id",
                "identifiers",
                "status",
                "error",
                "created_at",
                "expires_at",
                "account__public_id",
                "account__owner__username",
                "certificate__name",
                "certificate__common_name",
                "replaces__name",
                "replaces__common_name",
            )
        )

    @admin.display(description=_("customer"), ordering="account__owner__username")
    def customer(self, order: AcmeOrder) -> str:
        return order.account.owner.username

    @admin.display(description=_("names"))
    def names(self, order: AcmeOrder) -> str:
        return ", ".join(order.identifiers)

    @admin.display(description=_("account"))
    def account_link(self, order: AcmeOrder) -> str:
        return admin_link(order.account, order.account.public_id)

    @admin.display(description=_("certificate"))
    def certificate_link(self, order: AcmeOrder) -> str:
        return admin_link(order.certificate)

    @admin.display(description=_("replaces"))
    def replaces_link(self, order: AcmeOrder) -> str:
        return admin_link(order.replaces)


class ChallengeInline(ReadOnlyInline):
    model = AcmeChallenge
    show_change_link = False
    fields = ["type", "status", "validated_at", "attempts", "error"]
    readonly_fields = fields


@admin.register(AcmeAuthorization)
class AcmeAuthorizationAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "customer", "status", "expires_at", "order_link"]
    list_filter = ["status", "wildcard"]
    search_fields = ["public_id__exact", "domain", "order__account__owner__username"]
    fields = ["public_id", "name", "status", "expires_at", "order_link"]
    readonly_fields = fields
    inlines = [ChallengeInline]
    actions = None

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order__account__owner")

    @admin.display(description=_("customer"), ordering="order__account__owner__username")
    def customer(self, authorization: AcmeAuthorization) -> str:
        return authorization.order.account.owner.username

    @admin.display(description=_("order"))
    def order_link(self, authorization: AcmeAuthorization) -> str:
        return admin_link(authorization.order)
