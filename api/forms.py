from django import forms
from django.utils.translation import gettext_lazy as _

from api.models import ApiToken


class ApiTokenForm(forms.Form):
    label = forms.CharField(
        label=_("Label"),
        max_length=64,
        help_text=_("What uses the token, e.g. ci-deploy. Audit events name the token by it."),
    )
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
    )
    expires_at = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Optional; the token stops working at the start of this day (UTC)."),
    )
