"""Brands and products: what is on sale and at what price, the operators' to edit, audited."""

from django.contrib import admin

from certificates.audit import record_event
from certificates.models import Brand, Product


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
