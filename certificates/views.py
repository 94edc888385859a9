from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import (
    HttpResponseClientRedirect,
    HttpResponseClientRefresh,
    reswap,
    retarget,
    trigger_client_event,
)
from django_ratelimit.decorators import ratelimit

from certificates import domain_checks, selectors, services
from certificates.errors import ActionNotAllowed
from certificates.forms import (
    ApplicationForm,
    ConvertForm,
    KeyCompromiseForm,
    OverviewFilterForm,
    ProfileForm,
    PurchaseForm,
    RevokeForm,
    UploadCertificateForm,
)
from certificates.lifecycle import CertificateStatus, RevocationStatus
from certificates.models import Application, Certificate, Order, RevocationRequest
from certificates.pki.bundles import SERVER_TYPES
from certificates.services.applications import NOT_WAITING_FOR_APPLICATION
from console import language as console_language
from console.signin import rate_limit_key

# HTMX events the pages listen for (see static/js/console.js and the templates).
CERTIFICATES_CHANGED = "certificatesChanged"
CLOSE_DIALOG = "closeDialog"
SHOW_MESSAGE = "showMessage"
ORDERS_PAGE_SIZE = 20


def render_page(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    fragment: str,
    fragments: frozenset[str] = frozenset(),
    status: int = 200,
) -> HttpResponse:
    """The whole page, or for an HTMX request only a named fragment of it.

    The fragment is `fragment`, or the one the request targets when it is one
    of `fragments`. A history-restore request (the back button after htmx's
    cache was emptied) needs the whole page again.
    """
    partial = request.htmx and not request.htmx.history_restore_request
    if partial and request.htmx.target in fragments:
        fragment = request.htmx.target
    name = f"{template}#{fragment}" if partial else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def owned_certificate(request: HttpRequest, pk: int) -> Certificate:
    """A certificate of the signed-in customer; anyone else's is a 404, never a 403."""
    return get_object_or_404(Certificate.objects.owned_by(request.user), pk=pk)


# A filtered list counts its entries up to this many, then says "more than".
FILTERED_COUNT_LIMIT = 10_000


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    # The counters are three small queries; the list's fragment needs the total too, for
    # its "All Status" choice, and a tab's list is exactly its counter.
    counts = selectors.certificate_counters(owner=request.user)
    form = OverviewFilterForm(request.GET, brands=list(selectors.brands()), total=counts["total"])
    filters = form.filters()
    certificates = selectors.certificate_list(owner=request.user, **filters)
    page = selectors.keyset_page(
        certificates,
        size=settings.CERTIFICATES_PAGE_SIZE,
        after=selectors.Cursor.parse(request.GET.get("after")),
        before=selectors.Cursor.parse(request.GET.get("before")),
        last=request.GET.get("page") == "last",
    )
    context = {
        "form": form,
        "status": filters["status"],
        "counter_tabs": selectors.COUNTER_TABS,
        "counters": [(tab, counts[tab.key or "total"]) for tab in selectors.COUNTER_TABS],
        "page": page,
        "entries": selectors.list_entries(page.object_list),
    }
    tab = filters["status"] or "total"
    if filters["brand"] is None and not filters["search"] and tab in counts:
        # A tab's list is exactly its counter: no need to count the same rows twice.
        context["count"], context["count_is_more"] = counts[tab], False
    else:
        context["count"], context["count_is_more"] = selectors.bounded_count(
            certificates, limit=FILTERED_COUNT_LIMIT
        )
    return render_page(
        request,
        "certificates/overview.html",
        context,
        fragment="certificate-list",
        fragments=frozenset({"counters"}),
    )


# Error reports (and the debug page) show the POST data: never the private key.
@sensitive_post_parameters("key")
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadCertificateForm(owner=request.user)
    if request.method == "POST":
        if "prefill" in request.POST:
            # From the converter: open the dialog with its PEM output filled in.
            form = UploadCertificateForm(
                owner=request.user,
                initial={
                    "certificate": request.POST.get("certificate", ""),
                    "key": request.POST.get("key", ""),
                },
            )
        else:
            form = UploadCertificateForm(request.POST, request.FILES, owner=request.user)
            if form.is_valid():
                try:
                    certificate = services.upload_certificate(
                        owner=request.user, name=form.cleaned_data["name"], bundle=form.bundle
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    return upload_succeeded(request, certificate)
    response = render_page(request, "certificates/upload.html", {"form": form}, fragment="dialog")
    if form.initial.get("key"):
        # Prefilled from the converter with the customer's key: no cache keeps it.
        add_never_cache_headers(response)
    return response


def on_overview(request: HttpRequest) -> bool:
    """Whether an HTMX request came from the overview, which refreshes its list in place."""
    current = request.htmx.current_url_abs_path or "" if request.htmx else ""
    return urlsplit(current).path == reverse("certificates:overview")


def list_changed(message: str) -> HttpResponse:
    """Close the dialog, say what was done, and let the overview's list and counters
    fetch themselves again."""
    response = HttpResponse(status=204)
    trigger_client_event(response, CERTIFICATES_CHANGED)
    trigger_client_event(response, SHOW_MESSAGE, {"level": "success", "message": message})
    return trigger_client_event(response, CLOSE_DIALOG)


def upload_succeeded(request: HttpRequest, certificate: Certificate) -> HttpResponse:
    message = _("Certificate %(name)s was uploaded.") % {"name": certificate.name}
    if on_overview(request):
        return list_changed(message)
    messages.success(request, message)
    if request.htmx:
        return HttpResponseClientRedirect(certificate.get_absolute_url())
    return redirect(certificate)


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    # Everything the page shows of the certificate's relations, in the one query.
    certificate = get_object_or_404(
        Certificate.objects.owned_by(request.user).select_related(
            "brand",
            "order__product__brand",
            "application",
            "acme_order__account",
            "acme_order__replaces",
        ),
        pk=pk,
    )
    # A reverse one-to-one that is not there raises an AttributeError subclass.
    application = getattr(certificate, "application", None)
    options = selectors.download_options(certificate)
    context = {
        "certificate": certificate,
        # From a revocation request on, only what identifies the certificate is shown.
        "details": (
            selectors.certificate_details(certificate) if certificate.shows_full_details else None
        ),
        "revocation": certificate.revocation_requests.first(),
        "revocation_statuses": RevocationStatus,
        "confirmation_hours": settings.REVOCATION_CONFIRMATION_HOURS,
        "application": application,
        "validation_rows": selectors.validation_rows(application) if application else [],
        "download_options": options,
        "keystore_refusal": next((option.refusal for option in options if option.refusal), None),
        "validation_file_path": domain_checks.VALIDATION_FILE_PATH,
        "validity_days": settings.CERTIFICATE_VALIDITY_DAYS,
        "acme_order": getattr(certificate, "acme_order", None),
        "replacements": selectors.replacements(certificate),
    }
    return render(request, "certificates/detail.html", context)


@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = owned_certificate(request, pk)
    refusal = certificate.delete_refusal
    if request.method == "POST" and not refusal:
        try:
            services.delete_certificate(certificate=certificate, actor=request.user)
        except ValidationError as error:
            refusal = error.message
        else:
            message = _("Certificate %(name)s was deleted.") % {"name": certificate}
            if on_overview(request):
                return list_changed(message)
            messages.success(request, message)
            if request.htmx:
                return HttpResponseClientRedirect(reverse("certificates:overview"))
            return redirect("certificates:overview")
    context = {"certificate": certificate, "refusal": refusal}
    return render_page(request, "certificates/delete.html", context, fragment="dialog")


@require_POST
def expiry_warnings(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = owned_certificate(request, pk)
    enabled = request.POST.get("enabled") == "on"
    try:
        services.set_expiry_warnings(certificate=certificate, enabled=enabled, actor=request.user)
    except ActionNotAllowed as error:
        messages.error(request, error.message)
    else:
        if enabled:
            messages.success(request, _("Expiry warnings for this certificate are on."))
        else:
            messages.success(request, _("Expiry warnings for this certificate are off."))
    return redirect(certificate)


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def convert(request: HttpRequest) -> HttpResponse:
    form = ConvertForm(request.POST or None, request.FILES or None)
    converted = form.converted if request.method == "POST" and form.is_valid() else None
    response = render(request, "certificates/convert.html", {"form": form, "converted": converted})
    if converted and converted.private_key_pem:
        # The key taken out of the customer's own PKCS#12 file: shown once, never cached.
        add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = owned_certificate(request, pk)
    if not certificate.can_apply:
        messages.error(request, _(NOT_WAITING_FOR_APPLICATION))
        return redirect(certificate)
    application = Application.objects.filter(certificate=certificate).first() or Application(
        certificate=certificate
    )
    submit = request.POST.get("action") == "submit"
    form = ApplicationForm(
        request.POST or None, instance=application, certificate=certificate, submit=submit
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_application(
                certificate=certificate,
                application=form.save(commit=False),
                submit=submit,
                actor=request.user,
            )
        except ActionNotAllowed as error:
            messages.error(request, error.message)
            return redirect(certificate)
        if submit:
            messages.success(request, _("The application was submitted for validation."))
        else:
            messages.success(request, _("The draft was saved."))
        return redirect(certificate)
    return render(request, "certificates/apply.html", {"certificate": certificate, "form": form})


@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = owned_certificate(request, pk)
    try:
        services.withdraw_application(certificate=certificate, actor=request.user)
    except ActionNotAllowed as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The application was withdrawn; you can apply again."))
    return redirect(certificate)


@require_POST
def verify(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = owned_certificate(request, pk)
    try:
        services.request_verification(certificate=certificate, actor=request.user)
    except ValidationError as error:
        messages.error(request, error.message)
        return redirect(certificate)
    application = Application.objects.get(certificate=certificate)
    if not application.is_checking:
        # A worker was quicker than the redirect (or the check ran in this request).
        certificate.refresh_from_db()
        messages.add_message(request, *selectors.verification_outcome(certificate, application))
    return redirect(certificate)


@require_GET
def verification(request: HttpRequest, pk: int) -> HttpResponse:
    """The details page asks every second while its Verify is checking; once done, the page
    reloads with what was found."""
    certificate = owned_certificate(request, pk)
    application = Application.objects.filter(certificate=certificate).first()
    if application is None:
        return redirect(certificate)
    if application.is_checking:
        return render(
            request,
            "certificates/detail.html#verification",
            {"certificate": certificate, "application": application},
        )
    messages.add_message(request, *selectors.verification_outcome(certificate, application))
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect(certificate)


@require_POST
def reissue(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = owned_certificate(request, pk)
    try:
        services.reissue_certificate(
            certificate=certificate,
            actor=request.user,
            # The serial the page showed: a second click finds it replaced already.
            replaces_serial=request.POST.get("serial"),
        )
    except ValidationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Reissued: the new certificate is valid until %(not_after)s.")
            % {"not_after": format(certificate.not_after, "%Y-%m-%d")},
        )
    return redirect(certificate)


@require_GET
def download(request: HttpRequest, pk: int, server_type: str) -> HttpResponse:
    certificate = owned_certificate(request, pk)
    if server_type not in SERVER_TYPES:
        raise Http404("No such server type.")
    try:
        bundle = services.download_bundle(
            certificate=certificate, server_type=server_type, actor=request.user
        )
    except ValidationError as error:
        messages.error(request, error.message)
        return redirect(certificate)
    response = HttpResponse(bundle.content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{bundle.filename}"'
    # The zip holds a private key: no cache may keep a copy.
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def purchase(request: HttpRequest) -> HttpResponse:
    """Purchase Certificate: the options and their live price (HTMX), then "Pay".

    A POST without "pay" (Enter in a field submits the form's first button,
    "Update price") only shows the price again, so Enter never pays.
    """
    brands = list(selectors.brands_on_sale())
    if request.method == "POST":
        form = PurchaseForm(request.POST, brands=brands, paying="pay" in request.POST)
    else:
        form = PurchaseForm.from_query(request.GET, brands=brands)
    if form.is_valid() and form.paying and not form.price_changed:
        try:
            order = services.purchase(customer=request.user, **form.purchase_options())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, purchased_message(order))
            pending = CertificateStatus.PENDING_APPLICATION
            return redirect(f"{reverse('certificates:overview')}?status={pending}")
    context = {"form": form, "quote": form.quote if form.is_valid() else None}
    return render_page(
        request,
        "certificates/purchase.html",
        context,
        fragment="price",
        fragments=frozenset({"price"}),
    )


def purchased_message(order: Order) -> str:
    if order.repeated:
        return _("Order %(order)s was already paid: nothing more was charged.") % {
            "order": order.pk
        }
    return ngettext(
        "Order %(order)s is paid: %(count)s certificate awaits its application.",
        "Order %(order)s is paid: %(count)s certificates await their application.",
        order.quantity,
    ) % {"order": order.pk, "count": order.quantity}


# --- Revocation ---------------------------------------------------------------------------


def back_to_certificate(request: HttpRequest, certificate: Certificate, error: str) -> HttpResponse:
    messages.error(request, error)
    if request.htmx:
        return HttpResponseClientRedirect(certificate.get_absolute_url())
    return redirect(certificate)


def revocation_message(revocation: RevocationRequest) -> str:
    if revocation.status == RevocationStatus.COMPLETED:
        return _(
            'The certificate is revoked: OCSP answers "revoked" and the next CRL lists it. '
            "Its key is on the compromised-key list: no certificate will be issued for it again."
        )
    if revocation.status == RevocationStatus.AWAITING_CONFIRMATION:
        sent = {
            "email": revocation.confirmation_email,
            "hours": settings.REVOCATION_CONFIRMATION_HOURS,
        }
        if revocation.is_key_compromise:
            return (
                _(
                    "We emailed a confirmation link to %(email)s. Once confirmed, the certificate "
                    "is revoked at once. The link is valid for %(hours)s hours."
                )
                % sent
            )
        return (
            _(
                "We emailed a confirmation link to %(email)s. Nothing is revoked until it is "
                "confirmed. The link is valid for %(hours)s hours."
            )
            % sent
        )
    return _(
        "Your revocation request was sent to the CA. It will be processed by %(due_date)s."
    ) % {"due_date": f"{revocation.due_date:%Y-%m-%d}"}


@require_http_methods(["GET", "POST"])
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke Certificate: "Confirm" checks the form and asks once more in a dialog;
    only that dialog's "OK" (a POST with `ok`) sends the irreversible request."""
    certificate = owned_certificate(request, pk)
    if certificate.revoke_refusal:
        return back_to_certificate(request, certificate, certificate.revoke_refusal)
    form = RevokeForm(request.POST if request.method == "POST" else None)
    asking = False
    if form.is_bound and form.is_valid():
        if "ok" not in request.POST:
            asking = True
        else:
            try:
                revocation = services.request_revocation(
                    certificate=certificate, reason=form.cleaned_data["reason"], actor=request.user
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return revocation_requested(request, revocation)
    terms = selectors.refund_terms(certificate=certificate)
    context = {
        "certificate": certificate,
        "form": form,
        "asking": asking,
        "terms": terms,
        "price": selectors.certificate_price(certificate=certificate),
        # A RefundOutlook, a str: the template compares it with "expected" and "possible".
        "outlook": terms.outlook(timezone.localdate()),
    }
    if asking:
        return render_page(request, "certificates/revoke.html", context, fragment="confirm-dialog")
    response = render_page(request, "certificates/revoke.html", context, fragment="revoke-form")
    if request.htmx and request.method == "POST":
        # The form posts into the dialog; its errors go back into the page instead.
        reswap(retarget(response, "#revoke-form"), "outerHTML")
    return response


def revocation_requested(request: HttpRequest, revocation: RevocationRequest) -> HttpResponse:
    """After the dialog's "OK": the details page, with what happens next."""
    messages.success(request, revocation_message(revocation))
    if request.htmx:
        return HttpResponseClientRedirect(revocation.certificate.get_absolute_url())
    return redirect(revocation.certificate)


@require_POST
def cancel_revocation(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = owned_certificate(request, pk)
    try:
        services.cancel_revocation(certificate=certificate, actor=request.user)
    except ValidationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The revocation request was cancelled; nothing was revoked."))
    return redirect(certificate)


# The emailed link is for the applicant, who may have no sign-in: the signed,
# expiring token is what authorizes, as in a password-reset link.
@login_not_required
@require_http_methods(["GET", "POST"])
def confirm_revocation(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link confirms and a button; only the POST confirms."""
    context: dict = {"token": token, "confirmed": False}
    try:
        if request.method == "POST":
            context["revocation"] = services.confirm_revocation(token=token, actor=request.user)
            context["confirmed"] = True
        else:
            context["revocation"] = services.revocation_for_token(token=token)
    except ValidationError as error:
        context["error"] = error.message
    status = 400 if "error" in context else 200
    return render(request, "certificates/confirm_revocation.html", context, status=status)


# --- Orders, account and help -----------------------------------------------------------


@require_GET
def orders(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(selectors.order_list(customer=request.user), ORDERS_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {"page": page, "page_range": paginator.get_elided_page_range(page.number)}
    return render(request, "certificates/orders.html", context)


@require_GET
def order(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.order_detail(customer=request.user, pk=pk)
    if found is None:
        raise Http404("No such order.")
    return render(request, "certificates/order.html", {"order": found})


@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "expiry_warnings_default": selectors.expiry_warnings_default(customer=user),
        "language": selectors.profile_language(customer=user),
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = services.update_profile(customer=user, **form.cleaned_data)
        console_language.remember(request, form.cleaned_data["language"])
        # The message below is written in the language just chosen.
        if console_language.known(form.cleaned_data["language"]):
            translation.activate(form.cleaned_data["language"])
        messages.success(
            request, _("Your profile was saved.") if changed else _("Nothing changed.")
        )
        response = redirect("profile")
        console_language.set_cookie(response, form.cleaned_data["language"])
        return response
    return render(request, "account/profile.html", {"form": form})


class PasswordChange(SuccessMessageMixin, auth_views.PasswordChangeView):
    """Django's password change (old password, then the new one twice, checked by the
    password validators); the session stays signed in."""

    template_name = "account/password_change.html"
    success_url = reverse_lazy("profile")
    success_message = gettext_lazy("Your password was changed.")


@require_GET
def help_page(request: HttpRequest) -> HttpResponse:
    context = {
        "refund_days": settings.REVOCATION_REFUND_DAYS,
        "ca_business_days": settings.REVOCATION_CA_BUSINESS_DAYS,
        "validity_days": settings.CERTIFICATE_VALIDITY_DAYS,
        "validation_file_path": domain_checks.VALIDATION_FILE_PATH,
        "confirmation_hours": settings.REVOCATION_CONFIRMATION_HOURS,
    }
    return render(request, "help/help.html", context)


@require_GET
def contact(request: HttpRequest) -> HttpResponse:
    recent = selectors.order_list(customer=request.user)[:5]
    context = {"support_email": settings.CONSOLE_SUPPORT_EMAIL, "recent_orders": recent}
    return render(request, "help/contact.html", context)


# --- Reporting a compromised key (public) ---------------------------------------------------


def key_compromise_rate(group: str, request: HttpRequest) -> str:
    return f"{settings.KEY_COMPROMISE_REPORTS_PER_HOUR}/h"


# Public: whoever holds a key may report it; the signed CSR is the proof, not a sign-in.
# Error reports hide the pasted text: someone may paste the private key itself.
@login_not_required
@sensitive_post_parameters("csr")
@ratelimit(
    group="key_compromise",
    key=rate_limit_key,
    rate=key_compromise_rate,
    method="POST",
    block=False,
)
@require_http_methods(["GET", "POST"])
def key_compromise(request: HttpRequest) -> HttpResponse:
    """GET shows a fresh challenge; a POST of a CSR carrying it reports the key."""
    posting = request.method == "POST"
    limited = request.limited
    # Over the limit, nothing of the POST is even read.
    form = KeyCompromiseForm(request.POST if posting and not limited else None)
    report = None
    status = 429 if limited else 200
    if form.is_valid():
        try:
            report = services.report_compromised_key(csr_pem=form.cleaned_data["csr"])
        except ValidationError as error:
            form.add_error("csr", error)
    if form.errors:
        status = 400
    # The challenge the reporter is working with stays while it is good; else a new one.
    posted = request.POST.get("challenge", "")
    context = {
        "form": form,
        "challenge": posted if services.is_live_challenge(posted) else services.new_challenge(),
        "report": report,
        "limited": limited,
        "validity_minutes": int(services.CHALLENGE_VALIDITY.total_seconds() // 60),
        "reports_per_hour": settings.KEY_COMPROMISE_REPORTS_PER_HOUR,
    }
    response = render(request, "certificates/key_compromise.html", context, status=status)
    # Each view shows its own challenge: no cache may hand one out twice.
    add_never_cache_headers(response)
    return response
