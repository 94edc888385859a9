"""The audit log, read by operators."""

import json

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from certificates.admin.shared import ActorFilter, ReadOnlyAdmin
from certificates.models import AuditEvent


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

    @admin.display(description=_("object"), ordering="object_repr")
    def object_link(self, event: AuditEvent) -> str:
        app_label, _, model = event.object_type.partition(".")
        try:
            url = reverse(f"admin:{app_label}_{model.lower()}_change", args=[event.object_id])
        except NoReverseMatch:
            return event.object_repr
        return format_html('<a href="{}">{}</a>', url, event.object_repr)

    @admin.display(description=_("details"))
    def details_summary(self, event: AuditEvent) -> str:
        text = json.dumps(event.details, sort_keys=True) if event.details else ""
        text = text if len(text) <= 120 else text[:119] + "…"
        return format_html('<span class="details">{}</span>', text)

    @admin.display(description=_("details"))
    def details_display(self, event: AuditEvent) -> str:
        return format_html(
            '<pre class="details">{}</pre>', json.dumps(event.details, indent=2, sort_keys=True)
        )
