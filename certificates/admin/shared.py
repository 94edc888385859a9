"""What the operators' admins share: the list filters, the read-only bases, the base of the
queues decided with actions, the certificate columns several lists show, and small helpers."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from certificates import selectors
from certificates.lifecycle import TransitionNotAllowed
from certificates.models import Certificate
from certificates.pki.errors import PKIError

# What the services refuse with; each carries a message for the operator.
REFUSALS = (ValidationError, TransitionNotAllowed, PKIError)


def refusal_message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return getattr(error, "message", None) or str(error)


def domains_summary(domains: str) -> str:
    names = domains.split()
    if not names:
        return "-"
    return names[0] if len(names) == 1 else f"{names[0]} (+{len(names) - 1})"


def serial_display(serial: str) -> str:
    # Forty hex digits: allowed to wrap, so the list's other columns keep their room.
    return format_html('<span class="serial">{}</span>', serial) if serial else "-"


def admin_link(obj: Model | None, text: str | None = None) -> str:
    if obj is None:
        return "-"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text or str(obj))


def fieldset_fields(fieldsets: list) -> list[str]:
    """Every field the fieldsets show, for pages where all of them are read-only."""
    return [name for _, options in fieldsets for name in options["fields"]]


# --- Filters --------------------------------------------------------------------------------


class ReviewQueueFilter(admin.SimpleListFilter):
    """The list opens on the queue: OV/EV applications waiting for an operator."""

    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("all", _("All applications"))]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("Waiting for review"),
        }
        yield {
            "selected": self.value() == "all",
            "query_string": changelist.get_query_string({self.parameter_name: "all"}),
            "display": _("All applications"),
        }

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return queryset.filter(selectors.application_waiting_for_review())


class CertificateStatusFilter(admin.SimpleListFilter):
    """The status a customer sees: past its end date an issued certificate is expired,
    whether or not the batch job has run."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(tab.key, tab.label) for tab in selectors.STATUS_FILTERS]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(selectors.status_condition(self.value(), now=timezone.now()))
        return queryset


class DeletedFilter(admin.SimpleListFilter):
    title = _("deleted by the customer")
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("no", _("No")), ("yes", _("Yes"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(deleted_at__isnull=self.value() == "no")
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(selectors.revocation_overdue())
        if self.value() == "no":
            return queryset.exclude(selectors.revocation_overdue())
        return queryset


class RefundFilter(admin.SimpleListFilter):
    title = _("refund")
    parameter_name = "refund"

    def lookups(self, request, model_admin):
        return [
            ("made", _("Refund made")),
            ("none", pgettext_lazy("refund", "None")),
            ("with_ca", _("Revocation with the CA")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "made":
            return queryset.filter(refunded_at__isnull=False)
        if self.value() == "none":
            return queryset.filter(refunded_at__isnull=True)
        if self.value() == "with_ca":
            return queryset.filter(selectors.order_with_a_revocation_with_the_ca())
        return queryset


class ActorFilter(admin.SimpleListFilter):
    title = _("who")
    parameter_name = "who"

    def lookups(self, request, model_admin):
        return [("people", _("People")), ("system", _("The system (batch jobs)"))]

    def queryset(self, request, queryset):
        # build_event names the actor "system" when there is no signed-in user.
        system = Q(actor__isnull=True, actor_name="system")
        if self.value() == "system":
            return queryset.filter(system)
        if self.value() == "people":
            return queryset.exclude(system)
        return queryset


# --- Read-only records ------------------------------------------------------------------------


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


# --- The certificate's columns ------------------------------------------------------------------


class CertificateColumns:
    """The columns several lists show alike: the customer and validation type of the row's
    certificate, and the row's domains (an application's own, a certificate's).

    Each admin names the lookup from its rows to the certificate in `certificate_path`
    ("certificate__", or "" for certificates themselves) and the domains column's sort key
    in `domains_ordering`; the columns' sort keys follow, so each admin gets its own copy.
    Where the model has a field of a column's name (a certificate's `validation_type`),
    Django shows the field instead.
    """

    certificate_path = ""
    domains_ordering = "domains"

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        path = cls.certificate_path

        @admin.display(description=_("customer"), ordering=f"{path}owner__username")
        def customer(self, row) -> str:
            return self.certificate_of(row).owner.get_username()

        @admin.display(description=_("type"), ordering=f"{path}validation_type")
        def validation_type(self, row) -> str:
            return self.certificate_of(row).validation_type

        @admin.display(description=_("domains"), ordering=cls.domains_ordering)
        def domains_display(self, row) -> str:
            return domains_summary(row.domains)

        for column in (customer, validation_type, domains_display):
            if column.__name__ not in cls.__dict__:  # an admin's own column wins
                setattr(cls, column.__name__, column)

    def certificate_of(self, row) -> Certificate:
        for name in filter(None, self.certificate_path.split("__")):
            row = getattr(row, name)
        return row

    @admin.display(description=_("domains"))
    def domain_list(self, row) -> str:
        return format_html_join("", '<div class="domain">{}</div>', ((d,) for d in row.domain_list))


# --- Decisions: approve/reject applications, complete/reject revocations ----------------------


@dataclass(frozen=True)
class Decision:
    """The sentences reporting one kind of decision, whole, for each language."""

    refused: str
    summary: str
    summary_with_refusals: str


DECISIONS = {
    "approved": Decision(
        refused=_("%(row)s: not approved: %(reason)s"),
        summary=_("%(done)s of %(total)s approved."),
        summary_with_refusals=_(
            "%(done)s of %(total)s approved; %(refused)s refused, each with its reason below."
        ),
    ),
    "rejected": Decision(
        refused=_("%(row)s: not rejected: %(reason)s"),
        summary=_("%(done)s of %(total)s rejected."),
        summary_with_refusals=_(
            "%(done)s of %(total)s rejected; %(refused)s refused, each with its reason below."
        ),
    ),
    "completed": Decision(
        refused=_("%(row)s: not completed: %(reason)s"),
        summary=_("%(done)s of %(total)s completed."),
        summary_with_refusals=_(
            "%(done)s of %(total)s completed; %(refused)s refused, each with its reason below."
        ),
    ),
}


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason shown to the customer"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
    )


class DecisionAdmin(admin.ModelAdmin):
    """A queue whose rows operators decide with actions, one by one or in bulk.

    The "change" permission is the right to decide; the rows themselves are never
    edited by hand (their change page is read-only) and never added or deleted here.
    """

    # What rejecting does, asked above the rows before the operator gives the reason.
    reject_question = ""

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
        `verb` ("approved", "rejected", "completed") picks the sentences of DECISIONS.
        """
        sentences = DECISIONS[verb]
        done, refused = [], []
        for row in rows:
            try:
                outcome = decide(row)
            except REFUSALS as error:
                refused.append(
                    sentences.refused
                    % {"row": self.describe(row), "reason": refusal_message(error)}
                )
            else:
                done.append(
                    _("%(row)s: %(outcome)s.") % {"row": self.describe(row), "outcome": outcome}
                )
                self.log_change(request, row, outcome)
        if len(done) + len(refused) > 1:
            level = messages.WARNING if refused else messages.SUCCESS
            counts = {"done": len(done), "total": len(done) + len(refused), "refused": len(refused)}
            summary = sentences.summary_with_refusals if refused else sentences.summary
            self.message_user(request, summary % counts, level)
        for line in done:
            self.message_user(request, line, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.ERROR)

    def describe(self, row) -> str:
        return f"{row} (#{row.pk})"

    def describe_for_reject(self, row) -> str:
        """The row's line in the list of those about to be rejected."""
        raise NotImplementedError

    def reject_with_reason(self, request: HttpRequest, rows: QuerySet, reject: Callable):
        """Ask for the reason the customers will see, then reject each row with it."""
        form = RejectForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self.decide_each(request, rows, lambda row: reject(row, reason), verb="rejected")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject %(rows)s") % {"rows": self.model._meta.verbose_name_plural},
            "question": self.reject_question,
            "form": form,
            "rows": [(row.pk, self.describe_for_reject(row)) for row in rows],
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/certificates/reject.html", context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["decide"] = obj is not None and self.can_decide(request) and self.is_open(obj)
        context["action_checkbox_name"] = ACTION_CHECKBOX_NAME
        return super().render_change_form(request, context, add, change, form_url, obj)

    def is_open(self, obj) -> bool:
        """Whether the row still waits for a decision (its page then offers the actions)."""
        raise NotImplementedError
