from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from certificates import services
from certificates.lifecycle import TransitionNotAllowed
from certificates.models import Application, Brand, Product
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
