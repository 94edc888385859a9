from django.contrib import admin

from certificates.models import Brand, Product


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
