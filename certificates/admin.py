from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Case, F, IntegerField, Value, When
from django.template.response import TemplateResponse

from certificates import services
from certificates.lifecycle import RevocationStatus, TransitionNotAllowed
from certificates.models import Application, Brand, Product, RevocationRequest
from certificates.pki.errors import PKIError


class ProductInline(admin.TabularInline):
    model = Product
    extra = 0


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "issuer_match", "is_active", "display_order"]
    list_editable = ["is_active", "display_order"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]
    inlines = [ProductInline]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "brand",
        "validation_type",
        "domain_scope",
        "price_per_year",
        "price_per_extra_domain",
        "is_active",
    ]
    list_filter = ["brand", "validation_type", "domain_scope", "is_active"]
    list_select_related = ["brand"]


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason shown to the customer",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
    )


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    """Applications; OV/EV ones in validation wait here for an operator's review."""

    list_display = [
        "certificate",
        "validation_type",
        "status",
        "customer",
        "organization_name",
        "submitted_at",
    ]
    list_filter = ["certificate__status", "certificate__validation_type"]
    list_select_related = ["certificate", "certificate__owner"]
    search_fields = ["domains", "organization_name", "certificate__owner__username"]
    ordering = ["submitted_at"]
    actions = ["approve", "reject"]
    # The CSR is public information; the private key lives on the certificate and is
    # never shown here.
    readonly_fields = [field.name for field in Application._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(ordering="certificate__validation_type")
    def validation_type(self, application: Application) -> str:
        return application.certificate.validation_type

    @admin.display(ordering="certificate__status")
    def status(self, application: Application) -> str:
        return application.certificate.get_status_display()

    @admin.display(ordering="certificate__owner__username")
    def customer(self, application: Application) -> str:
        return application.certificate.owner.get_username()

    @admin.action(description="Approve: issue the certificate")
    def approve(self, request, queryset) -> None:
        for application in queryset:
            self._apply(request, application, services.approve_application)

    @admin.action(description="Reject with a reason (Check Fail)")
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            for application in queryset:
                self._apply(
                    request,
                    application,
                    services.reject_application,
                    reason=form.cleaned_data["reason"],
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject applications",
            "form": form,
            "applications": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/certificates/reject_applications.html", context)

    def _apply(self, request, application: Application, service, **kwargs) -> None:
        certificate = application.certificate
        try:
            service(certificate=certificate, actor=request.user, **kwargs)
        except (ValidationError, TransitionNotAllowed, PKIError) as error:
            message = getattr(error, "message", None) or "; ".join(error.messages)
            self.message_user(request, f"{certificate}: {message}", messages.ERROR)
        else:
            self.message_user(request, f"{certificate}: done.", messages.SUCCESS)


@admin.register(RevocationRequest)
class RevocationRequestAdmin(admin.ModelAdmin):
    """The CA's revocation queue: those with the CA first, the earliest due first."""

    list_display = [
        "certificate",
        "serial",
        "customer",
        "status",
        "reason",
        "submitted_to_ca_at",
        "due_date",
        "overdue",
        "refund_amount",
    ]
    list_filter = ["status", "reason", "certificate__validation_type", "due_date"]
    list_select_related = ["certificate", "certificate__owner"]
    search_fields = ["certificate__domains", "certificate__serial", "certificate__owner__username"]
    actions = ["complete", "reject"]
    readonly_fields = [field.name for field in RevocationRequest._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_ordering(self, request):
        queue = Case(
            When(status=RevocationStatus.PENDING, then=Value(0)),
            When(status=RevocationStatus.AWAITING_CONFIRMATION, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
        return [queue.asc(), F("due_date").asc(nulls_last=True), "-created_at"]

    @admin.display(ordering="certificate__serial")
    def serial(self, revocation: RevocationRequest) -> str:
        return revocation.certificate.serial

    @admin.display(ordering="certificate__owner__username")
    def customer(self, revocation: RevocationRequest) -> str:
        return revocation.certificate.owner.get_username()

    @admin.display(boolean=True)
    def overdue(self, revocation: RevocationRequest) -> bool:
        return revocation.is_overdue

    @admin.action(description="Complete: revoke the certificate (and refund if due)")
    def complete(self, request, queryset) -> None:
        for revocation in queryset:
            self._apply(request, revocation, services.complete_revocation)

    @admin.action(description="Reject with a reason (the certificate stays issued)")
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            for revocation in queryset:
                self._apply(
                    request,
                    revocation,
                    services.reject_revocation,
                    reason=form.cleaned_data["reason"],
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject revocation requests",
            "form": form,
            "revocations": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/certificates/reject_revocations.html", context)

    def _apply(self, request, revocation: RevocationRequest, service, **kwargs) -> None:
        try:
            done = service(revocation=revocation, actor=request.user, **kwargs)
        except (ValidationError, TransitionNotAllowed) as error:
            message = getattr(error, "message", None) or "; ".join(error.messages)
            self.message_user(request, f"{revocation}: {message}", messages.ERROR)
            return
        outcome = done.get_status_display().lower()
        if done.status == RevocationStatus.COMPLETED:
            outcome += f", refund {done.refund_amount}"
        self.message_user(request, f"{revocation}: {outcome}.", messages.SUCCESS)
