from django import forms

from certificates.models import Brand
from certificates.selectors import STATUS_FILTERS


class OverviewFilterForm(forms.Form):
    """The overview's query string. Values it does not know are ignored, never an error."""

    status = forms.ChoiceField(required=False, choices=[("", "All Status")])
    brand = forms.ChoiceField(required=False, choices=[("", "All Brands")])
    q = forms.CharField(required=False, max_length=255, strip=True)

    def __init__(self, data, *, brands: list[Brand]):
        super().__init__(data)
        self.brands_by_slug = {brand.slug: brand for brand in brands}
        self.fields["status"].choices += [(tab.key, tab.label) for tab in STATUS_FILTERS]
        self.fields["brand"].choices += [(brand.slug, brand.name) for brand in brands]

    def filters(self) -> dict:
        """The valid part of the query: a bad status or brand falls back to all."""
        self.is_valid()
        cleaned = self.cleaned_data
        return {
            "status": cleaned.get("status", ""),
            "brand": self.brands_by_slug.get(cleaned.get("brand", "")),
            "search": cleaned.get("q", ""),
        }
