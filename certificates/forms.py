import uuid

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.forms.utils import flatatt
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from certificates import compromised_keys, domain_checks, issuance_policy, selectors
from certificates.models import (
    Application,
    Brand,
    Certificate,
    DomainScope,
    Product,
    RevocationReason,
    ValidationType,
)
from certificates.pki import ca, convert, errors, parsing
from certificates.pki import csr as pki_csr
from certificates.pki.parsing import CertificateBundle
from certificates.selectors import STATUS_FILTERS
from certificates.services.issuance import SUBJECT_FIELDS, subject_from
from certificates.translation import lazy_format
from console import languages

# A full chain is a few kilobytes; these limits leave room for long chains
# while keeping a pasted novel out of the parser.
MAX_CERTIFICATE_SIZE = 64 * 1024
MAX_KEY_SIZE = 16 * 1024
MAX_CONVERT_SIZE = 256 * 1024

# Errors that are about the key rather than the certificate file.
KEY_ERRORS = (errors.KeyMismatchError,)


SEARCH_LABEL = _("Search by certificate name or domain")


class PlainSelect(forms.Select):
    """A select written out in Python rather than through the widget templates.

    The overview renders its filters on every page load and every HTMX swap;
    Django's widget templates render each option as a template of its own,
    which the profile showed as a large share of the page. Same markup, one
    selected option, no option groups.
    """

    def render(self, name, value, attrs=None, renderer=None) -> str:
        chosen = self.format_value(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option, mark_safe(" selected") if str(option) in chosen else "", label)
                for option, label in self.choices
            ),
        )
        return format_html(
            "<select{}>{}</select>",
            flatatt({"name": name, **self.build_attrs(self.attrs, attrs)}),
            options,
        )


class OverviewFilterForm(forms.Form):
    """The overview's query string and the filter fields above its list.

    Values it does not know are ignored, never an error.
    """

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All Status"))],
        widget=PlainSelect(attrs={"class": "form-select"}),
    )
    brand = forms.ChoiceField(
        label=_("Brand"),
        required=False,
        choices=[("", _("All Brands"))],
        widget=PlainSelect(attrs={"class": "form-select"}),
    )
    q = forms.CharField(
        label=SEARCH_LABEL,
        required=False,
        max_length=255,
        strip=True,
        widget=forms.SearchInput(attrs={"class": "form-control", "placeholder": SEARCH_LABEL}),
    )

    def __init__(self, data, *, brands: list[Brand], total: int | None = None):
        # filter-status, filter-brand, filter-q: the ids the page's labels and tests know.
        super().__init__(data, auto_id="filter-%s")
        self.brands_by_slug = {brand.slug: brand for brand in brands}
        if total is not None:
            # As the original console: "All Status" with the number of certificates.
            self.fields["status"].choices = [
                (
                    "",
                    gettext("All Status (%(total)s)")
                    % {"total": number_format(total, force_grouping=True)},
                )
            ]
        self.fields["status"].choices += [(tab.key, tab.label) for tab in STATUS_FILTERS]
        self.fields["brand"].choices += [(brand.slug, brand.name) for brand in brands]

    def filters(self) -> dict:
        """The valid part of the query: a bad status or brand falls back to all."""
        self.is_valid()
        applied = {name: self.cleaned_data.get(name, "") for name in self.fields}
        # Bound again to what the list is filtered by, the fields show that and no
        # error: an ignored value shows as "All", a search too long as no search.
        self.data = applied
        self.full_clean()
        return {
            "status": applied["status"],
            "brand": self.brands_by_slug.get(applied["brand"]),
            "search": applied["q"],
        }


def read_text_or_file(text: str, upload, *, limit: int) -> str | bytes:
    """What the customer gave: the chosen file wins over pasted text."""
    if upload is None:
        return text
    if upload.size > limit:
        raise forms.ValidationError(
            _("The file is too large: at most %(value)s KB.") % {"value": limit // 1024}
        )
    return upload.read()


class KeyTextarea(forms.Textarea):
    """The private key's text box: like a password box, a form sent back never refills it.

    A form with errors goes back to the browser; the key the customer pasted must not go
    with it. Only a key the console put there on purpose (the converter's) is shown.
    """

    def __init__(self, attrs: dict | None = None, render_value: bool = True) -> None:
        super().__init__(attrs)
        self.render_value = render_value

    def get_context(self, name: str, value, attrs) -> dict:
        return super().get_context(name, value if self.render_value else None, attrs)


KEY_PLACEHOLDER = "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----"


class UploadCertificateForm(forms.Form):
    name = forms.CharField(
        label=_("Certificate Name"),
        max_length=63,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9_-]+$",
                _("Use only letters, digits, underscores (_) and hyphens (-)."),
            )
        ],
        help_text=(
            _("The certificate name can contain letters, numbers, underscores (_) and hyphens (-).")
        ),
    )
    certificate = forms.CharField(
        label=_("Certificate File"),
        required=False,
        max_length=MAX_CERTIFICATE_SIZE,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "class": "font-monospace",
                "spellcheck": "false",
                "placeholder": "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----",
            }
        ),
        help_text=_("PEM text: the certificate, optionally followed by its chain."),
    )
    certificate_file = forms.FileField(
        label=_("or choose a .pem/.crt file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pem,.crt,.cer,.txt"}),
    )
    key = forms.CharField(
        label=_("Certificate Key"),
        required=False,
        max_length=MAX_KEY_SIZE,
        strip=False,
        widget=KeyTextarea(
            attrs={
                "rows": 6,
                "class": "font-monospace",
                "spellcheck": "false",
                "placeholder": KEY_PLACEHOLDER,
            }
        ),
        help_text=_("PEM text of the private key, without a password."),
    )
    key_file = forms.FileField(
        label=_("or choose a .key file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".key,.pem,.txt"}),
    )

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.bundle: CertificateBundle | None = None
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> has its token
        if self.is_bound:
            self.fields["key"].widget.render_value = False
            self.fields["key"].help_text = _(
                "PEM text of the private key, without a password. For your key's safety it "
                "is not shown again: paste or choose it once more."
            )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if Certificate.objects.owned_by(self.owner).filter(name=name).exists():
            raise forms.ValidationError(_("You already have a certificate with this name."))
        return name

    def clean(self):
        cleaned = super().clean()
        certificates = self._read("certificate", MAX_CERTIFICATE_SIZE, parsing.load_certificates)
        key = self._read("key", MAX_KEY_SIZE, parsing.load_private_key)
        if certificates is None or key is None:
            return cleaned
        try:
            self.bundle = parsing.build_bundle(certificates, key)
        except errors.PKIError as error:
            self.add_error("key" if isinstance(error, KEY_ERRORS) else "certificate", error.message)
            return cleaned
        if compromised_keys.is_listed(self.bundle.leaf):
            self.bundle = None
            self.add_error("key", gettext(issuance_policy.COMPROMISED_KEY))
            return cleaned
        fingerprint = self.bundle.info.fingerprint_sha256
        if Certificate.objects.owned_by(self.owner).filter(fingerprint_sha256=fingerprint).exists():
            self.add_error("certificate", _("You have already uploaded this certificate."))
        return cleaned

    def _read(self, field: str, limit: int, load):
        """Load one field (pasted or chosen file); its errors go on that field."""
        if field in self.errors:
            return None
        try:
            data = read_text_or_file(
                self.cleaned_data.get(field, ""),
                self.cleaned_data.get(f"{field}_file"),
                limit=limit,
            )
            if not data or not data.strip():
                raise forms.ValidationError(
                    _("Paste the %(label)s or choose a file.")
                    % {"label": self.fields[field].label.lower()}
                )
            return load(data)
        except forms.ValidationError as error:
            self.add_error(field, error)
        except errors.PKIError as error:
            self.add_error(field, error.message)
        return None


class ConvertForm(forms.Form):
    file = forms.FileField(
        label=_("Certificate file"),
        help_text=_("DER (.der/.cer), PKCS#7 (.p7b) or PKCS#12 (.pfx/.p12), at most 256 KB."),
    )
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=_("Only for a PKCS#12 file or an encrypted key."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.converted: convert.ConvertedPEM | None = None
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> has its token

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is None:
            return cleaned
        if upload.size > MAX_CONVERT_SIZE:
            self.add_error("file", _("The file is too large: at most 256 KB."))
            return cleaned
        try:
            self.converted = convert.convert_to_pem(
                upload.read(),
                cleaned.get("password"),
                max_iterations=settings.PKCS12_MAX_ITERATIONS,
            )
        except errors.WrongPasswordError as error:
            self.add_error("password", error.message)
        except errors.PKIError as error:
            self.add_error("file", error.message)
        return cleaned


class ApplicationForm(forms.ModelForm):
    """The request information for one certificate, as its purchase allows.

    "Save draft" keeps whatever is valid so far; "Submit for review" needs it all.
    """

    domains = forms.CharField(
        label=_("Domains"),
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=_("One domain per line."),
    )

    class Meta:
        model = Application
        fields = [
            "domains",
            "contact_name",
            "contact_email",
            "contact_phone",
            "organization_name",
            "organization_country",
            "organization_state",
            "organization_city",
            "organization_address",
            "business_category",
            "jurisdiction_country",
            "registration_number",
            "csr_source",
            "key_type",
            "csr_pem",
            "validation_method",
        ]
        labels = {
            "contact_name": _("Contact name"),
            "contact_email": _("Contact email"),
            "contact_phone": _("Contact phone"),
            "organization_name": _("Organization name"),
            "organization_country": _("Country (two letters, e.g. US)"),
            "organization_state": _("State or province"),
            "organization_city": _("City"),
            "organization_address": _("Address"),
            "business_category": _("Business category"),
            "jurisdiction_country": _("Country of registration (two letters)"),
            "registration_number": _("Registration number"),
            "csr_source": _("CSR"),
            "key_type": _("Key algorithm"),
            "csr_pem": _("CSR (PEM)"),
            "validation_method": _("Domain validation method"),
        }
        widgets = {
            "csr_source": forms.RadioSelect,
            "validation_method": forms.RadioSelect,
            "csr_pem": forms.Textarea(attrs={"rows": 6, "class": "font-monospace"}),
            "business_category": forms.Select(
                choices=[("", "—")] + [(c, c) for c in ca.EV_BUSINESS_CATEGORIES]
            ),
        }

    ORGANIZATION_FIELDS = (
        "organization_name",
        "organization_country",
        "organization_state",
        "organization_city",
        "organization_address",
    )
    EV_FIELDS = ("business_category", "jurisdiction_country", "registration_number")

    def __init__(self, *args, certificate: Certificate, submit: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.certificate = certificate
        self.submit = submit
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> has its token
        scope = certificate.domain_scope
        if scope == DomainScope.WILDCARD:
            self.fields["domains"].help_text = _("One wildcard domain, e.g. *.example.com.")
        elif scope == DomainScope.MULTIPLE:
            self.fields["domains"].help_text = _("Exactly %(count)s domains, one per line.") % {
                "count": certificate.domain_count
            }
        else:
            self.fields["domains"].help_text = _("One domain, e.g. www.example.com.")
            self.fields["domains"].widget.attrs["rows"] = 1
        # Every name's control is checked, DV, OV and EV alike (Baseline Requirements 3.2.2.4).
        self.fields["validation_method"].choices = [
            (method.value, _(method.offer)) for method in domain_checks.ValidationMethod
        ]
        if certificate.validation_type == ValidationType.DV:
            for name in self.ORGANIZATION_FIELDS + self.EV_FIELDS:
                del self.fields[name]
        else:
            if certificate.validation_type != ValidationType.EV:
                for name in self.EV_FIELDS:
                    del self.fields[name]
        self.fields["key_type"].choices = Application.KeyType.choices
        for field in self.fields.values():
            # A draft may be incomplete; clean() checks completeness on submit.
            field.required = False

    def required_to_submit(self) -> list[str]:
        """The fields a submission needs, less the subject's: ca.check_subject says those."""
        required = [
            "domains",
            "contact_name",
            "contact_email",
            "contact_phone",
            "csr_source",
            "validation_method",
        ]
        if self.certificate.validation_type != ValidationType.DV:
            # Not in the certificate, but the operators check the organization there.
            required.append("organization_address")
        return required

    def clean_domains(self) -> str:
        lines = self.cleaned_data["domains"].replace(",", "\n").split()
        wildcard = self.certificate.domain_scope == DomainScope.WILDCARD
        domains = []
        for line in lines:
            try:
                domain = pki_csr.normalize_domain(line, allow_wildcard=wildcard)
            except errors.PKIError as error:
                raise forms.ValidationError(error.message) from None
            if wildcard and not domain.startswith("*."):
                raise forms.ValidationError(
                    _(
                        "This is a wildcard certificate: enter a wildcard domain such as "
                        "*.example.com."
                    )
                )
            if domain in domains:
                raise forms.ValidationError(_("%(domain)s is listed twice.") % {"domain": domain})
            domains.append(domain)
        expected = self.certificate.domain_count
        if domains and len(domains) != expected:
            raise forms.ValidationError(
                ngettext(
                    "This certificate was bought for %(expected)s domain: enter exactly "
                    "%(expected)s, you entered %(entered)s.",
                    "This certificate was bought for %(expected)s domains: enter exactly "
                    "%(expected)s, you entered %(entered)s.",
                    expected,
                )
                % {"expected": expected, "entered": len(domains)}
            )
        return "\n".join(domains)

    def clean_organization_address(self) -> str:
        # Not in the certificate, but operators read it: the same text rule as the subject's.
        address = " ".join(self.cleaned_data.get("organization_address", "").split())
        problem = ca.name_value_problem(address, _("address"), max_length=255)
        if problem:
            raise forms.ValidationError(str(problem))
        return address

    def clean(self):
        cleaned = super().clean()
        if self.certificate.validation_type != ValidationType.DV:
            self._check_subject(cleaned)
        if not self.submit:
            return cleaned
        for name in self.required_to_submit():
            if name in self.fields and not cleaned.get(name) and name not in self.errors:
                self.add_error(name, _("This is needed to submit the application."))
        source = cleaned.get("csr_source")
        if source == Application.CsrSource.SYSTEM and not cleaned.get("key_type"):
            self.add_error("key_type", _("Choose the key algorithm."))
        if source == Application.CsrSource.MANUAL:
            self._check_manual_csr(cleaned)
        if (
            cleaned.get("validation_method") == Application.ValidationMethod.FILE
            and self.certificate.domain_scope == DomainScope.WILDCARD
        ):
            self.add_error(
                "validation_method", _("A wildcard domain can only be validated by a DNS record.")
            )
        return cleaned

    def _check_subject(self, cleaned) -> None:
        """The CA's own check of the organization details, its messages on their fields.

        The values are kept as the certificate will name them. A draft may be incomplete:
        it is refused only for what is wrong in the fields filled in.
        """
        subject = ca.tidy_subject(subject_from(cleaned))
        for part, name in SUBJECT_FIELDS.items():
            if name in self.fields and name in cleaned:
                cleaned[name] = getattr(subject, part)
        try:
            ca.check_subject(subject, self.certificate.validation_type)
        except errors.InvalidSubjectError as error:
            for part, message in error.problems.items():
                name = SUBJECT_FIELDS[part]
                shown = self.submit or cleaned.get(name)
                if shown and name in self.fields and name not in self.errors:
                    self.add_error(name, str(message))

    def _check_manual_csr(self, cleaned) -> None:
        text = cleaned.get("csr_pem", "")
        if not text.strip():
            self.add_error("csr_pem", _("Paste your CSR in PEM format."))
            return
        if "domains" in self.errors or not cleaned.get("domains"):
            return
        try:
            request = pki_csr.load_csr(text)
            pki_csr.check_csr(request, cleaned["domains"].split())
        except errors.PKIError as error:
            self.add_error("csr_pem", error.message)
            return
        if compromised_keys.is_listed(request.public_key()):
            self.add_error("csr_pem", gettext(issuance_policy.COMPROMISED_KEY))
            return
        # Keep the CSR alone: a private key pasted along with it must not be stored.
        cleaned["csr_pem"] = pki_csr.describe_csr(text).pem


# The refusal "GeoTrust does not sell OV wildcard certificates.", one sentence per scope.
NOT_SOLD = {
    DomainScope.SINGLE: _(
        "%(brand)s does not sell %(validation_type)s single-domain certificates."
    ),
    DomainScope.MULTIPLE: _(
        "%(brand)s does not sell %(validation_type)s multiple-domain certificates."
    ),
    DomainScope.WILDCARD: _("%(brand)s does not sell %(validation_type)s wildcard certificates."),
}


class PurchaseForm(forms.Form):
    """The Purchase Certificate options. Once valid, `product` and `quote` say
    what is bought and what it costs.

    The numbers are checked by selectors.check_purchase, the rules the purchase
    service applies too, so the page and the payment refuse alike.
    """

    brand = forms.ChoiceField(
        label=_("Brand"),
        error_messages={
            "required": _("Choose a brand."),
            "invalid_choice": _("Choose one of the brands on sale."),
        },
    )
    validation_type = forms.ChoiceField(
        label=_("Validation type"), choices=ValidationType.choices, widget=forms.RadioSelect
    )
    domain_scope = forms.ChoiceField(
        label=_("Domain scope"), choices=DomainScope.choices, widget=forms.RadioSelect
    )
    domain_count = forms.IntegerField(
        label=_("Number of domains"),
        required=False,
        widget=forms.NumberInput(
            attrs={
                "min": selectors.MULTIPLE_MIN_DOMAINS,
                "max": selectors.MULTIPLE_MAX_DOMAINS,
            }
        ),
        help_text=lazy_format(
            _("%(minimum)s to %(maximum)s, the first one included in the base price."),
            {"minimum": selectors.MULTIPLE_MIN_DOMAINS, "maximum": selectors.MULTIPLE_MAX_DOMAINS},
        ),
    )
    quantity = forms.IntegerField(
        label=_("Quantity"),
        widget=forms.NumberInput(attrs={"min": 1, "max": selectors.PURCHASE_MAX_QUANTITY}),
        help_text=lazy_format(
            _("Certificates to buy, 1 to %(maximum)s."),
            {"maximum": selectors.PURCHASE_MAX_QUANTITY},
        ),
    )
    years = forms.IntegerField(
        label=_("Validity"),
        widget=forms.RadioSelect(
            choices=[
                (n, lazy_format(ngettext_lazy("%(n)s year", "%(n)s years", n), {"n": n}))
                for n in selectors.PURCHASE_YEARS
            ]
        ),
        help_text=_("Each certificate is reissued for the same domains until the period ends."),
    )
    # The total the page showed when "Pay" was pressed: never charge another one.
    amount_shown = forms.DecimalField(required=False, widget=forms.HiddenInput)
    # Made once per page view: pressing "Pay" twice, or a retried request, pays once.
    idempotency_key = forms.UUIDField(required=False, widget=forms.HiddenInput)

    DEFAULTS = {
        "validation_type": ValidationType.DV,
        "domain_scope": DomainScope.SINGLE,
        "domain_count": selectors.MULTIPLE_MIN_DOMAINS,
        "quantity": 1,
        "years": 1,
    }

    def __init__(self, data, *, brands: list[Brand], paying: bool = False):
        super().__init__(data)
        self.paying = paying
        self.brands_by_slug = {brand.slug: brand for brand in brands}
        self.fields["brand"].choices = [(brand.slug, brand.name) for brand in brands]
        self.product: Product | None = None
        self.quote: selectors.Quote | None = None
        # Paying, the total differs from the one shown: the customer checks it and pays again.
        self.price_changed = False
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> has its token
        self.helper.layout = Layout(
            "brand",
            InlineRadios("validation_type"),
            InlineRadios("domain_scope"),
            # Shown only while "Multiple domains" is chosen (static/css/console.css).
            Field("domain_count", wrapper_class="purchase-domain-count"),
            "quantity",
            InlineRadios("years"),
        )

    @classmethod
    def from_query(cls, query, *, brands: list[Brand]) -> "PurchaseForm":
        """The form a GET shows: the query's options over the defaults, so a link
        with some options, or none, still opens with a price."""
        defaults = {
            **cls.DEFAULTS,
            "brand": brands[0].slug if brands else "",
            "idempotency_key": str(uuid.uuid4()),
        }
        return cls({**defaults, **dict(query.items())}, brands=brands)

    def clean_brand(self) -> Brand:
        return self.brands_by_slug[self.cleaned_data["brand"]]

    def clean(self):
        cleaned = super().clean()
        scope = cleaned.get("domain_scope")
        if scope != DomainScope.MULTIPLE:
            # The count stays in the form, hidden, for the other scopes: it means nothing there.
            cleaned["domain_count"] = 1
        elif cleaned.get("domain_count") is None and "domain_count" not in self.errors:
            self.add_error("domain_count", _("Enter the number of domains."))
        numbers = {name: cleaned.get(name) for name in ("domain_count", "quantity", "years")}
        if scope and None not in numbers.values():
            try:
                selectors.check_purchase(domain_scope=scope, **numbers)
            except forms.ValidationError as error:
                self.add_error(None, error)
        self.product = self._product(cleaned.get("brand"), cleaned.get("validation_type"), scope)
        if self.product is None or self.errors:
            return cleaned
        self.quote = selectors.quote(self.product, **numbers)
        self.price_changed = self.paying and cleaned.get("amount_shown") != self.quote.amount
        return cleaned

    def _product(
        self, brand: Brand | None, validation_type: str | None, scope: str | None
    ) -> Product | None:
        """The product on sale for these choices, or None with the refusal on its field."""
        if not (brand and validation_type and scope):
            return None
        if validation_type == ValidationType.EV and scope == DomainScope.WILDCARD:
            self.add_error(
                "domain_scope",
                _("EV certificates cannot be wildcards: the CA/Browser Forum forbids it."),
            )
            return None
        products = selectors.products_on_sale(brand)
        product = products.get((validation_type, scope))
        if product is None and any(vt == validation_type for vt, _ in products):
            self.add_error(
                "domain_scope",
                NOT_SOLD[scope] % {"brand": brand, "validation_type": validation_type},
            )
        elif product is None:
            self.add_error(
                "validation_type",
                _("%(brand)s does not sell %(validation_type)s certificates.")
                % {"brand": brand, "validation_type": validation_type},
            )
        return product

    def purchase_options(self) -> dict:
        """The keyword arguments of services.purchase, less the customer."""
        return {
            "product": self.product,
            "domain_count": self.cleaned_data["domain_count"],
            "quantity": self.cleaned_data["quantity"],
            "years": self.cleaned_data["years"],
            "idempotency_key": self.cleaned_data["idempotency_key"],
        }


class RevokeForm(forms.Form):
    reason = forms.TypedChoiceField(
        label=_("Reason for revocation"),
        choices=RevocationReason.choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the reason for the revocation.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page's form has its token

    @property
    def reason_label(self) -> str:
        """The chosen reason as the customer read it (once the form is valid)."""
        return RevocationReason(self.cleaned_data["reason"]).label


class ProfileForm(forms.Form):
    """The profile page: the customer's name, email, and their new certificates' defaults."""

    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("Expiry warnings and revocation confirmation links are sent here."),
    )
    expiry_warnings_default = forms.BooleanField(
        label=_("Email me before new certificates expire"),
        required=False,
        help_text=_(
            "Applies to certificates bought or uploaded from now on; each certificate's own switch "
            "is on its details page."
        ),
    )
    # The console's and the emails' language; each language is named in itself.
    language = forms.ChoiceField(
        label=languages.LANGUAGE_LABEL,
        required=False,
        choices=languages.profile_choices,
        help_text=languages.LANGUAGE_HELP,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> has its token


class CSRTextarea(forms.Textarea):
    """A CSR box sent back with the errors, unless what was pasted holds a private key:
    that never goes back to the browser."""

    def get_context(self, name: str, value, attrs) -> dict:
        if value and "PRIVATE KEY" in str(value):
            value = None
        return super().get_context(name, value, attrs)


class KeyCompromiseForm(forms.Form):
    """The public report of a compromised key: a CSR signed by it, carrying the challenge."""

    csr = forms.CharField(
        label=_("Certificate signing request (CSR)"),
        max_length=MAX_KEY_SIZE,
        widget=CSRTextarea(attrs={"rows": 10, "spellcheck": "false", "class": "font-monospace"}),
        help_text=(
            _(
                "PEM text, starting with -----BEGIN CERTIFICATE REQUEST-----, signed with the "
                "compromised key and with the challenge above as its common name. Never paste the "
                "private key."
            )
        ),
        error_messages={
            "required": _("Paste the CSR signed with the compromised key."),
            "max_length": _("The CSR is too long: a CSR is a few kilobytes at most (16 KB here)."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> has its token
