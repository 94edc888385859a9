from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CredentialForm(forms.Form):
    label = forms.CharField(
        label=_("Label"),
        max_length=100,
        required=False,
        help_text=_("What the credential is for, e.g. the server or cluster that uses it."),
    )
    expires_on = forms.DateField(
        required=False,
        label=_("Expires on"),
        help_text=_("Optional: no new ACME account can be bound with it after this day."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_expires_on(self):
        value = self.cleaned_data["expires_on"]
        if value is not None and value <= timezone.localdate():
            raise forms.ValidationError(_("Choose a day after today."))
        return value

    @property
    def expires_at(self) -> datetime | None:
        value = self.cleaned_data.get("expires_on")
        if value is None:
            return None
        return timezone.make_aware(datetime.combine(value, time.max))
