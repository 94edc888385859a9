from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from certificates import selectors
from certificates.forms import OverviewFilterForm


def render_page(
    request: HttpRequest, template: str, context: dict, *, fragment: str
) -> HttpResponse:
    """The whole page, or for an HTMX request only the named fragment of it.

    A history-restore request (the back button after htmx's cache was emptied)
    needs the whole page again.
    """
    partial = request.htmx and not request.htmx.history_restore_request
    response = render(request, f"{template}#{fragment}" if partial else template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    brands = list(selectors.brands())
    form = OverviewFilterForm(request.GET, brands=brands)
    filters = form.filters()
    certificates = selectors.certificate_list(owner=request.user, **filters)
    page = Paginator(certificates, settings.CERTIFICATES_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "brands": brands,
        "status": filters["status"],
        "selected_brand": filters["brand"],
        "search": filters["search"],
        "counter_tabs": selectors.COUNTER_TABS,
        "status_filters": selectors.STATUS_FILTERS,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
    }
    if not request.htmx:
        counts = selectors.certificate_counters(owner=request.user)
        context["counters"] = [
            (tab, counts[str(tab.key) or "total"]) for tab in selectors.COUNTER_TABS
        ]
    return render_page(request, "certificates/overview.html", context, fragment="certificate-list")
