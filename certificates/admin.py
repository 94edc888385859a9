"""The operators' console: review queues, the CA's revocation work, orders and the audit log.

Every decision goes through certificates.services, the one place for the rules and the
transition table (which also writes the audit log): nothing here sets a status. Only
brands and products are edited by hand, and those edits are audited too. Private keys
never appear: the key fields are left out of every list, form and inline, and are not
even loaded.
"""

import json
from collections.abc import Callable, Iterable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join

from certificates import refunds, selectors, services
from certificates.audit import record_event
from certificates.lifecycle import CertificateStatus, RevocationStatus, TransitionNotAllowed
from certificates.models import (
    Application,
    AuditEvent,
    Brand,
    Certificate,
    CertificateAuthority,
    ExpiryNotice,
    IssuedSerial,
    Order,
    Product,
    RevocationRequest,
    ValidationType,
)
from certificates.pki import csr
from certificates.pki.errors import PKIError
from certificates.pki.parsing import describe_certificate, load_certificates

admin.site.site_header = "SSL Certificates Service: operators"
admin.site.site_title = "SSL Certificates operators"
admin.site.index_title = "Operators' console"

# What the services refuse with; each carries a message for the operator.
REFUSALS = (ValidationError, TransitionNotAllowed, PKIError)

# Never loaded for a page: nothing in the admin shows them, and a key not read can't leak.
CERTIFICATE_BULK_FIELDS = ("certificate_pem", "chain_pem", "private_key_encrypted")

WAITING_FOR_REVIEW = Q(
    certificate__status=CertificateStatus.VALIDATING,
    certificate__validation_type__in=[ValidationType.OV, ValidationType.EV],
)


def refusal_message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return getattr(error, "message", None) or str(error)


def first_issued_at(certificate_path: str = "") -> Coalesce:
    """When a certificate was first issued (its refund days count from then), as an
    annotation: its earliest issued serial, else its own start date."""
    prefix = f"{certificate_path}__" if certificate_path else ""
    earliest = (
        IssuedSerial.objects.filter(certificate=OuterRef(certificate_path or "pk"))
        .order_by("not_before")
        .values("not_before")[:1]
    )
    return Coalesce(Subquery(earliest), F(f"{prefix}not_before"))


def refund_if_completed_today(certificate: Certificate, first_issued) -> tuple:
    """(amount, refund deadline) of a revocation of this certificate completed today."""
    order = certificate.order
    if order is None or first_issued is None:
        return refunds.NO_REFUND, None
    terms = selectors.refund_terms_from(first_issued)
    price = refunds.certificate_price(order.amount, order.quantity)
    amount = refunds.refund_amount(terms, price=price, completed_on=timezone.localdate())
    return amount, terms.refund_deadline


def domains_summary(domains: str) -> str:
    names = domains.split()
    if not names:
        return "-"
    return names[0] if len(names) == 1 else f"{names[0]} (+{len(names) - 1})"


def serial_display(serial: str) -> str:
    # Forty hex digits: allowed to wrap, so the list's other columns keep their room.
    return format_html('<span class="serial">{}</span>', serial) if serial else "-"


def admin_link(obj, text: str | None = None) -> str:
    if obj is None:
        return "-"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text or str(obj))


# --- Filters --------------------------------------------------------------------------------


class ReviewQueueFilter(admin.SimpleListFilter):
    """The list opens on the queue: OV/EV applications waiting for an operator."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("all", "All applications")]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Waiting for review",
        }
        yield {
            "selected": self.value() == "all",
            "query_string": changelist.get_query_string({self.parameter_name: "all"}),
            "display": "All applications",
        }

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return queryset.filter(WAITING_FOR_REVIEW)


class CertificateStatusFilter(admin.SimpleListFilter):
    """The status a customer sees: past its end date an issued certificate is expired,
    whether or not the batch job has run."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(tab.key, tab.label) for tab in selectors.STATUS_FILTERS]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(selectors.status_condition(self.value(), now=timezone.now()))
        return queryset


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted by the customer"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("no", "No"), ("yes", "Yes")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(deleted_at__isnull=self.value() == "no")
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        overdue = Q(status=RevocationStatus.PENDING, due_date__lt=timezone.localdate())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


class RefundFilter(admin.SimpleListFilter):
    title = "refund"
    parameter_name = "refund"

    def lookups(self, request, model_admin):
        return [
            ("made", "Refund made"),
            ("none", "None"),
            ("with_ca", "Revocation with the CA"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "made":
            return queryset.filter(refunded_at__isnull=False)
        if self.value() == "none":
            return queryset.filter(refunded_at__isnull=True)
        if self.value() == "with_ca":
            with_ca = RevocationRequest.objects.filter(status=RevocationStatus.PENDING)
            return queryset.filter(pk__in=with_ca.values("certificate__order"))
        return queryset


class ActorFilter(admin.SimpleListFilter):
    title = "who"
    parameter_name = "who"

    def lookups(self, request, model_admin):
        return [("people", "People"), ("system", "The system (batch jobs)")]

    def queryset(self, request, queryset):
        # build_event names the actor "system" when there is no signed-in user.
        system = Q(actor__isnull=True, actor_name="system")
        if self.value() == "system":
            return queryset.filter(system)
        if self.value() == "people":
            return queryset.exclude(system)
        return queryset


# --- Decisions: approve/reject applications, complete/reject revocations ----------------------


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason shown to the customer",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
    )


class DecisionAdmin(admin.ModelAdmin):
    """A queue whose rows operators decide with actions, one by one or in bulk.

    The "change" permission is the right to decide; the rows themselves are never
    edited by hand (their change page is read-only) and never added or deleted here.
    """

    reject_template = ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return obj is None and super().has_change_permission(request)

    def can_decide(self, request: HttpRequest) -> bool:
        return super().has_change_permission(request)

    def selected_rows(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """The rows the operator ticked, including any a filter now hides because another
        operator decided them meanwhile: every selected row gets its answer."""
        if request.POST.get("select_across") == "1":
            return queryset
        return self.get_queryset(request).filter(pk__in=request.POST.getlist(ACTION_CHECKBOX_NAME))

    def decide_each(
        self,
        request: HttpRequest,
        rows: Iterable,
        decide: Callable[[object], str],
        *,
        verb: str,
    ) -> None:
        """Call `decide` on each row. Each call is one service call in its own transaction,
        so a refused row changes nothing and leaves the others done; every row is reported.
        """
        done, refused = [], []
        for row in rows:
            try:
                outcome = decide(row)
            except REFUSALS as error:
                refused.append(f"{self.describe(row)}: not {verb}: {refusal_message(error)}")
            else:
                done.append(f"{self.describe(row)}: {outcome}.")
                self.log_change(request, row, outcome)
        if len(done) + len(refused) > 1:
            level = messages.WARNING if refused else messages.SUCCESS
            summary = f"{len(done)} of {len(done) + len(refused)} {verb}"
            if refused:
                summary += f"; {len(refused)} refused, each with its reason below"
            self.message_user(request, summary + ".", level)
        for line in done:
            self.message_user(request, line, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.ERROR)

    def describe(self, row) -> str:
        return f"{row} (#{row.pk})"

    def reject_with_reason(self, request: HttpRequest, rows: QuerySet, reject: Callable):
        """Ask for the reason the customers will see, then reject each row with it."""
        form = RejectForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self.decide_each(request, rows, lambda row: reject(row, reason), verb="rejected")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Reject {self.model._meta.verbose_name_plural}",
            "form": form,
            "rows": rows,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, self.reject_template, context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["decide"] = obj is not None and self.can_decide(request) and self.is_open(obj)
        context["action_checkbox_name"] = ACTION_CHECKBOX_NAME
        return super().render_change_form(request, context, add, change, form_url, obj)

    def is_open(self, obj) -> bool:
        """Whether the row still waits for a decision (its page then offers the actions)."""
        raise NotImplementedError


# --- Applications: the review queue -------------------------------------------------------------


@admin.register(Application)
class ApplicationAdmin(DecisionAdmin):
    """Applications, opening on the queue of OV/EV ones waiting for review, oldest first."""

    list_display = [
        "domains_display",
        "customer",
        "validation_type",
        "organization",
        "checks",
        "status",
        "submitted_at",
    ]
    list_display_links = ["domains_display"]
    list_filter = [
        ReviewQueueFilter,
        "certificate__status",
        "certificate__validation_type",
        "certificate__brand",
        "csr_source",
        "validation_method",
        "submitted_at",
        "reviewed_at",
    ]
    search_fields = [
        "domains",
        "organization_name",
        "contact_name",
        "contact_email",
        "certificate__name",
        "certificate__owner__username",
        "certificate__owner__email",
        "certificate__serial",
        "certificate__fingerprint_sha256",
    ]
    date_hierarchy = "submitted_at"
    ordering = [F("submitted_at").asc(nulls_last=True), "pk"]
    show_full_result_count = False
    actions = ["approve", "reject"]
    reject_template = "admin/certificates/reject_applications.html"

    fieldsets = [
        (
            "Certificate",
            {
                "fields": [
                    "certificate_link",
                    "customer",
                    "validation_type",
                    "brand",
                    "status",
                    "submitted_at",
                ]
            },
        ),
        (
            "Domains and validation",
            {
                "fields": [
                    "domain_list",
                    "validation_method",
                    "validation_token",
                    "checks",
                    "last_checked_at",
                ]
            },
        ),
        ("Contact", {"fields": ["contact_name", "contact_email", "contact_phone"]}),
        (
            "Organization",
            {
                "fields": [
                    "organization_name",
                    "organization_country",
                    "organization_state",
                    "organization_city",
                    "organization_address",
                    "business_category",
                    "jurisdiction_country",
                    "registration_number",
                ]
            },
        ),
        (
            "Certificate signing request",
            {
                "fields": [
                    "csr_source",
                    "key_type",
                    "csr_subject",
                    "csr_domains",
                    "csr_key",
                    "csr_signature",
                    "csr_text",
                ]
            },
        ),
        ("Review", {"fields": ["reviewed_by", "reviewed_at", "rejection_reason"]}),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]

    def changelist_view(self, request, extra_context=None):
        in_queue = ReviewQueueFilter.parameter_name not in request.GET
        title = "Applications waiting for review, oldest first" if in_queue else "Applications"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("certificate__owner", "certificate__brand", "reviewed_by")
            .defer(*(f"certificate__{name}" for name in CERTIFICATE_BULK_FIELDS))
        )

    def is_open(self, application: Application) -> bool:
        certificate = application.certificate
        return (
            certificate.status == CertificateStatus.VALIDATING
            and certificate.validation_type != ValidationType.DV
        )

    def describe(self, application: Application) -> str:
        return f"{application.certificate} (#{application.certificate_id})"

    @admin.display(description="domains", ordering="domains")
    def domains_display(self, application: Application) -> str:
        return domains_summary(application.domains)

    @admin.display(description="domains")
    def domain_list(self, application: Application) -> str:
        return format_html_join(
            "", '<div class="domain">{}</div>', ((d,) for d in application.domain_list)
        )

    @admin.display(ordering="certificate__owner__username")
    def customer(self, application: Application) -> str:
        return application.certificate.owner.get_username()

    @admin.display(description="type", ordering="certificate__validation_type")
    def validation_type(self, application: Application) -> str:
        return application.certificate.validation_type

    @admin.display(description="brand")
    def brand(self, application: Application) -> str:
        return str(application.certificate.brand or "-")

    @admin.display(ordering="certificate__status")
    def status(self, application: Application) -> str:
        return application.certificate.get_status_display()

    @admin.display(ordering="organization_name")
    def organization(self, application: Application) -> str:
        name = application.organization_name
        if not name:
            return "-"
        city, country = application.organization_city, application.organization_country
        place = ", ".join(part for part in (city, country) if part)
        return f"{name} ({place})" if place else name

    @admin.display(description="domain checks")
    def checks(self, application: Application) -> str:
        """The last DV check's result per domain; OV/EV have the operator's review instead."""
        results = application.check_results or {}
        if not results:
            return "-"
        return format_html(
            '<ul class="checks">{}</ul>',
            format_html_join(
                "",
                '<li class="{}">{} {}: {}</li>',
                (
                    (
                        "check-ok" if result.get("ok") else "check-failed",
                        "found" if result.get("ok") else "not found",
                        domain,
                        result.get("detail", ""),
                    )
                    for domain, result in results.items()
                ),
            ),
        )

    @admin.display(description="certificate")
    def certificate_link(self, application: Application) -> str:
        return admin_link(application.certificate, f"Certificate #{application.certificate_id}")

    def csr_info(self, application: Application) -> csr.CSRInfo | str:
        """The CSR as read (once per page), or why it can't be read."""
        if not hasattr(application, "_csr_info"):
            if not application.csr_pem:
                application._csr_info = "No CSR yet."
            else:
                try:
                    application._csr_info = csr.describe_csr(application.csr_pem)
                except PKIError as error:
                    application._csr_info = f"The CSR can't be read: {error.message}"
        return application._csr_info

    @admin.display(description="subject")
    def csr_subject(self, application: Application) -> str:
        info = self.csr_info(application)
        return info if isinstance(info, str) else info.subject

    @admin.display(description="names")
    def csr_domains(self, application: Application) -> str:
        info = self.csr_info(application)
        if isinstance(info, str):
            return "-"
        return format_html_join("", '<div class="domain">{}</div>', ((d,) for d in info.domains))

    @admin.display(description="key")
    def csr_key(self, application: Application) -> str:
        info = self.csr_info(application)
        return "-" if isinstance(info, str) else info.key_description

    @admin.display(description="signature")
    def csr_signature(self, application: Application) -> str:
        info = self.csr_info(application)
        if isinstance(info, str):
            return "-"
        valid = "valid" if info.signature_valid else "NOT valid"
        return f"{info.signature_algorithm}, {valid}"

    @admin.display(description="CSR (PEM)")
    def csr_text(self, application: Application) -> str:
        # The request re-encoded from what was parsed, never the stored text as is.
        info = self.csr_info(application)
        return "-" if isinstance(info, str) else format_html('<pre class="pem">{}</pre>', info.pem)

    @admin.action(description="Approve: issue the certificate", permissions=["change"])
    def approve(self, request, queryset) -> None:
        def approve(application: Application) -> str:
            certificate = services.approve_application(
                certificate=application.certificate, actor=request.user
            )
            return f"approved, issued with serial {certificate.serial}"

        self.decide_each(request, self.selected_rows(request, queryset), approve, verb="approved")

    @admin.action(description="Reject with a reason (Check Fail)", permissions=["change"])
    def reject(self, request, queryset):
        def reject(application: Application, reason: str) -> str:
            services.reject_application(
                certificate=application.certificate, reason=reason, actor=request.user
            )
            return "rejected (Check Fail), the customer sees the reason"

        return self.reject_with_reason(request, self.selected_rows(request, queryset), reject)


# --- Revocation requests: the CA's queue --------------------------------------------------------


@admin.register(RevocationRequest)
class RevocationRequestAdmin(DecisionAdmin):
    """The CA's revocation queue: those with the CA first, the earliest due (overdue) first."""

    list_display = [
        "certificate_display",
        "customer",
        "validation_type",
        "status",
        "reason",
        "issued_on",
        "due",
        "refund",
    ]
    list_display_links = ["certificate_display"]
    list_filter = [
        "status",
        OverdueFilter,
        "reason",
        "certificate__validation_type",
        "certificate__brand",
        "due_date",
        "created_at",
    ]
    search_fields = [
        "certificate__domains",
        "certificate__name",
        "certificate__serial",
        "certificate__fingerprint_sha256",
        "certificate__owner__username",
        "certificate__owner__email",
    ]
    date_hierarchy = "created_at"
    actions = ["complete", "reject"]
    reject_template = "admin/certificates/reject_revocations.html"
    fieldsets = [
        (
            "Request",
            {
                "fields": [
                    "certificate_link",
                    "serial",
                    "customer",
                    "requested_by",
                    "reason",
                    "status",
                    "created_at",
                    "confirmation_email",
                    "confirmation_sent_at",
                    "confirmed_at",
                ]
            },
        ),
        (
            "The CA",
            {
                "fields": [
                    "submitted_to_ca_at",
                    "due",
                    "processed_by",
                    "completed_at",
                    "rejection_reason",
                ]
            },
        ),
        ("Refund", {"fields": ["issued_on", "refund"]}),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "certificate__owner", "certificate__order", "requested_by", "processed_by"
            )
            .defer(*(f"certificate__{name}" for name in CERTIFICATE_BULK_FIELDS))
            .annotate(first_issued_at=first_issued_at("certificate"))
        )

    def get_ordering(self, request):
        queue = Case(
            When(status=RevocationStatus.PENDING, then=Value(0)),
            When(status=RevocationStatus.AWAITING_CONFIRMATION, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
        return [queue.asc(), F("due_date").asc(nulls_last=True), "-created_at"]

    def is_open(self, revocation: RevocationRequest) -> bool:
        return revocation.status == RevocationStatus.PENDING

    @admin.display(description="certificate", ordering="certificate__common_name")
    def certificate_display(self, revocation: RevocationRequest) -> str:
        return domains_summary(revocation.certificate.domains) or str(revocation.certificate)

    @admin.display(description="certificate")
    def certificate_link(self, revocation: RevocationRequest) -> str:
        return admin_link(revocation.certificate)

    @admin.display(ordering="certificate__serial")
    def serial(self, revocation: RevocationRequest) -> str:
        return serial_display(revocation.certificate.serial)

    @admin.display(ordering="certificate__owner__username")
    def customer(self, revocation: RevocationRequest) -> str:
        return revocation.certificate.owner.get_username()

    @admin.display(description="type", ordering="certificate__validation_type")
    def validation_type(self, revocation: RevocationRequest) -> str:
        return revocation.certificate.validation_type

    @admin.display(description="issued", ordering="first_issued_at")
    def issued_on(self, revocation: RevocationRequest):
        issued = revocation.first_issued_at
        return timezone.localdate(issued) if issued else "-"

    @admin.display(description="due date", ordering="due_date")
    def due(self, revocation: RevocationRequest):
        if revocation.due_date is None:
            return "-"
        if revocation.is_overdue:
            return format_html(
                '<span class="overdue" title="Past its due date">{} (overdue)</span>',
                formats.localize(revocation.due_date),
            )
        return revocation.due_date

    @admin.display(description="refund")
    def refund(self, revocation: RevocationRequest) -> str:
        """What completing it means for the refund (certificates/refunds.py's rules)."""
        if revocation.status == RevocationStatus.COMPLETED:
            return f"Refunded {revocation.refund_amount}" if revocation.refund_amount else "None"
        if revocation.status in (RevocationStatus.REJECTED, RevocationStatus.CANCELLED):
            return "None (not revoked)"
        amount, deadline = refund_if_completed_today(
            revocation.certificate, revocation.first_issued_at
        )
        if deadline is None:
            return "None (no order)"
        if amount:
            return f"Full refund {amount} if completed by {deadline}"
        return f"None: the refund deadline was {deadline}"

    @admin.action(
        description="Complete: revoke the certificate (and refund if due)", permissions=["change"]
    )
    def complete(self, request, queryset) -> None:
        def complete(revocation: RevocationRequest) -> str:
            done = services.complete_revocation(revocation=revocation, actor=request.user)
            if done.refund_amount:
                return f"completed, refund {done.refund_amount}"
            return "completed, no refund (past the refund deadline)"

        self.decide_each(request, self.selected_rows(request, queryset), complete, verb="completed")

    @admin.action(
        description="Reject with a reason (the certificate stays issued)", permissions=["change"]
    )
    def reject(self, request, queryset):
        def reject(revocation: RevocationRequest, reason: str) -> str:
            done = services.reject_revocation(
                revocation=revocation, reason=reason, actor=request.user
            )
            return f"rejected, the certificate is {done.certificate.get_status_display()} again"

        return self.reject_with_reason(request, self.selected_rows(request, queryset), reject)


# --- Certificates, their serials and notices ----------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record operators read but nobody edits here, superusers included."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class IssuedSerialInline(ReadOnlyInline):
    model = IssuedSerial
    fields = ["serial", "authority", "not_before", "not_after"]
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = "serials the CA signed for this certificate"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("authority__brand")


class RevocationInline(ReadOnlyInline):
    model = RevocationRequest
    fk_name = "certificate"
    fields = ["status", "reason", "created_at", "due_date", "completed_at", "refund_amount"]
    readonly_fields = fields


class ExpiryNoticeInline(ReadOnlyInline):
    model = ExpiryNotice
    fields = ["threshold_days", "claimed_at", "sent_at"]
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = "expiry warnings"


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    """Every certificate, read-only for everyone: statuses change only through the lifecycle."""

    list_display = [
        "__str__",
        "domains_display",
        "customer",
        "brand",
        "validation_type",
        "source",
        "status_display",
        "not_after",
        "serial_column",
    ]
    list_filter = [
        CertificateStatusFilter,
        "brand",
        "validation_type",
        "domain_scope",
        "source",
        DeletedFilter,
        "not_after",
        "created_at",
    ]
    search_fields = [
        "name",
        "common_name",
        "domains",
        "owner__username",
        "owner__email",
        "serial",
        "fingerprint_sha256",
        "issued_serials__serial",
    ]
    date_hierarchy = "created_at"
    show_full_result_count = False
    view_on_site = False
    inlines = [IssuedSerialInline, RevocationInline, ExpiryNoticeInline]
    exclude = CERTIFICATE_BULK_FIELDS
    fieldsets = [
        (
            "Certificate",
            {
                "fields": [
                    "name",
                    "common_name",
                    "domain_list",
                    "status_display",
                    "status_changed_at",
                    "source",
                    "customer",
                    "order_link",
                    "application_link",
                    "brand",
                    "validation_type",
                    "domain_scope",
                    "domain_count",
                    "organization",
                ]
            },
        ),
        (
            "As signed",
            {
                "fields": [
                    "issuer",
                    "authority",
                    "serial",
                    "fingerprint_sha256",
                    "key_algorithm",
                    "not_before",
                    "not_after",
                    "subscription_ends_at",
                ]
            },
        ),
        ("Console", {"fields": ["created_at", "expiry_warnings_enabled", "deleted_at"]}),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("owner", "brand", "authority__brand")
            .defer(*CERTIFICATE_BULK_FIELDS)
        )

    @admin.display(description="domains", ordering="common_name")
    def domains_display(self, certificate: Certificate) -> str:
        return domains_summary(certificate.domains)

    @admin.display(description="domains")
    def domain_list(self, certificate: Certificate) -> str:
        return format_html_join(
            "", '<div class="domain">{}</div>', ((d,) for d in certificate.domain_list)
        )

    @admin.display(ordering="owner__username")
    def customer(self, certificate: Certificate) -> str:
        return certificate.owner.get_username()

    @admin.display(description="serial", ordering="serial")
    def serial_column(self, certificate: Certificate) -> str:
        return serial_display(certificate.serial)

    @admin.display(description="status", ordering="status")
    def status_display(self, certificate: Certificate) -> str:
        return certificate.get_display_status_display()

    @admin.display(description="order")
    def order_link(self, certificate: Certificate) -> str:
        return admin_link(certificate.order) if certificate.order_id else "-"

    @admin.display(description="application")
    def application_link(self, certificate: Certificate) -> str:
        application = Application.objects.filter(certificate=certificate).first()
        return admin_link(application, "Application") if application else "-"


# --- Orders and refunds ------------------------------------------------------------------------


class OrderCertificateInline(ReadOnlyInline):
    model = Certificate
    fields = ["common_name", "domains", "status", "serial", "not_after", "deleted_at"]
    readonly_fields = fields
    verbose_name_plural = "certificates"

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*CERTIFICATE_BULK_FIELDS)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Orders with their amounts, the refunds made, and the refunds a revocation with the
    CA would still bring. Read-only: a refund is made only by completing a revocation."""

    list_display = [
        "__str__",
        "customer",
        "product",
        "quantity",
        "amount",
        "paid_at",
        "refund_due",
        "refund_amount",
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
        "unit_price",
        "amount",
        "paid_at",
        "refund_due",
        "refund_amount",
        "refunded_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # The certificates under revocation with the CA, for "refund due": one query
        # for the whole page, whatever its number of rows.
        with_the_ca = (
            Certificate.objects.filter(revocation_requests__status=RevocationStatus.PENDING)
            .defer(*CERTIFICATE_BULK_FIELDS)
            .annotate(first_issued_at=first_issued_at())
        )
        return (
            super()
            .get_queryset(request)
            .select_related("customer", "product__brand")
            .prefetch_related(Prefetch("certificates", with_the_ca, to_attr="with_the_ca"))
        )

    @admin.display(ordering="customer__username")
    def customer(self, order: Order) -> str:
        return order.customer.get_username()

    @admin.display(description="refund due")
    def refund_due(self, order: Order) -> str:
        """What completing its revocations with the CA today would refund."""
        if not order.with_the_ca:
            return "-"
        due = sum(
            (
                refund_if_completed_today(certificate, certificate.first_issued_at)[0]
                for certificate in order.with_the_ca
            ),
            refunds.NO_REFUND,
        )
        count = len(order.with_the_ca)
        return f"{due} ({count} revocation{'s' if count > 1 else ''} with the CA)"


# --- The CA and the audit log ----------------------------------------------------------------


@admin.register(CertificateAuthority)
class CertificateAuthorityAdmin(ReadOnlyAdmin):
    """The brands' local CAs, view only; their keys stay out of the admin."""

    list_display = ["__str__", "slug", "subject", "valid_until", "crl_number", "crl_refresh_at"]
    list_filter = ["brand", "role"]
    search_fields = ["slug", "brand__name"]
    exclude = ["private_key_encrypted", "crl_der"]
    fields = [
        "brand",
        "role",
        "slug",
        "subject",
        "fingerprint",
        "valid_from",
        "valid_until",
        "certificate_pem_display",
        "crl_number",
        "crl_refresh_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("brand")
            .defer("private_key_encrypted", "crl_der")
        )

    def info(self, authority: CertificateAuthority):
        if not hasattr(authority, "_info"):
            authority._info = describe_certificate(load_certificates(authority.certificate_pem)[0])
        return authority._info

    @admin.display
    def subject(self, authority: CertificateAuthority) -> str:
        return self.info(authority).subject

    @admin.display(description="SHA-256 fingerprint")
    def fingerprint(self, authority: CertificateAuthority) -> str:
        return self.info(authority).fingerprint_sha256

    @admin.display(description="valid from")
    def valid_from(self, authority: CertificateAuthority):
        return self.info(authority).not_before

    @admin.display(description="valid until")
    def valid_until(self, authority: CertificateAuthority):
        return self.info(authority).not_after

    @admin.display(description="certificate (PEM)")
    def certificate_pem_display(self, authority: CertificateAuthority) -> str:
        return format_html('<pre class="pem">{}</pre>', authority.certificate_pem)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit log: read by operators, written only by the services, changed by nobody."""

    list_display = ["created_at", "actor_name", "action", "object_link", "details_summary"]
    list_filter = [
        ActorFilter,
        ("action", admin.AllValuesFieldListFilter),
        ("object_type", admin.AllValuesFieldListFilter),
        "created_at",
    ]
    search_fields = ["actor_name", "action", "object_repr", "object_id__exact", "details"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = None
    fields = [
        "created_at",
        "actor_name",
        "action",
        "object_type",
        "object_id",
        "object_link",
        "details_display",
    ]
    readonly_fields = fields

    @admin.display(description="object", ordering="object_repr")
    def object_link(self, event: AuditEvent) -> str:
        app_label, _, model = event.object_type.partition(".")
        try:
            url = reverse(f"admin:{app_label}_{model.lower()}_change", args=[event.object_id])
        except NoReverseMatch:
            return event.object_repr
        return format_html('<a href="{}">{}</a>', url, event.object_repr)

    @admin.display(description="details")
    def details_summary(self, event: AuditEvent) -> str:
        text = json.dumps(event.details, sort_keys=True) if event.details else ""
        text = text if len(text) <= 120 else text[:119] + "…"
        return format_html('<span class="details">{}</span>', text)

    @admin.display(description="details")
    def details_display(self, event: AuditEvent) -> str:
        return format_html(
            '<pre class="details">{}</pre>', json.dumps(event.details, indent=2, sort_keys=True)
        )


# --- Brands and products: the operators' to edit ----------------------------------------------


def changed_values(form) -> dict:
    return {name: str(form.cleaned_data.get(name)) for name in form.changed_data}


class AuditedAdmin(admin.ModelAdmin):
    """Hand edits (what is on sale, and at what price) go in the audit log too."""

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        self.audit(request, obj, "change" if change else "add", changed_values(form))

    def delete_model(self, request, obj) -> None:
        self.audit(request, obj, "delete", {})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.audit(request, obj, "delete", {})
        super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change) -> None:
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            self.audit(request, obj, "add", {})
        for obj, fields in formset.changed_objects:
            self.audit(request, obj, "change", {"fields": fields})
        for obj in formset.deleted_objects:
            self.audit(request, obj, "delete", {})

    def audit(self, request, obj, verb: str, details: dict) -> None:
        record_event(
            actor=request.user,
            action=f"{obj._meta.model_name}.{verb}",
            target=obj,
            details=details,
        )


class ProductInline(admin.TabularInline):
    model = Product
    extra = 0


@admin.register(Brand)
class BrandAdmin(AuditedAdmin):
    list_display = ["name", "slug", "issuer_match", "is_active", "display_order"]
    list_editable = ["is_active", "display_order"]
    list_filter = ["is_active"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug", "issuer_match"]
    inlines = [ProductInline]


@admin.register(Product)
class ProductAdmin(AuditedAdmin):
    list_display = [
        "__str__",
        "brand",
        "validation_type",
        "domain_scope",
        "price_per_year",
        "price_per_extra_domain",
        "is_active",
    ]
    list_filter = ["brand", "validation_type", "domain_scope", "is_active"]
    list_select_related = ["brand"]
    search_fields = ["brand__name"]
