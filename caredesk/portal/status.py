"""An organisation's public status page: /status/<key>/, for anyone, when staff turned it on.

No sign-in, no session, no cookie: the page is the same for every visitor,
so it is cached here and by any proxy for a minute. An unknown address and a
page that is switched off are the same 404.
"""

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from caredesk.alerts.downtime import duration
from caredesk.monitoring.public import PERIODS, enabled_page, public_status

CACHE_SECONDS = 60


def percent(value: float | None) -> str:
    """99.95 %; never 100 % unless there was no down time at all; — with nothing watched."""
    if value is None:
        return "—"
    if value < 100 and f"{value:.2f}" == "100.00":
        return "99.99 %"
    return f"{value:.2f} %"


def _render(page) -> str:
    status = public_status(page)
    sites = [
        {
            "name": site.name,
            "state": site.state,
            "uptime": [(days, percent(site.uptime[days])) for days in PERIODS],
        }
        for site in status.sites
    ]
    incidents = [
        {
            "site": item.site,
            "started_at": item.started_at,
            "duration": duration(item.seconds),
            "ongoing": item.ongoing,
        }
        for item in status.incidents
    ]
    return render_to_string(
        "portal/status.html",
        {
            "agency_name": settings.CAREDESK_AGENCY_NAME,
            "heading": status.heading,
            "any_down": status.any_down,
            "sites": sites,
            "incidents": incidents,
            "show_incidents": page.show_incidents,
            "periods": PERIODS,
            "zone": str(status.zone),
            "at": status.at,
        },
    )


@require_safe
@cache_control(public=True, max_age=CACHE_SECONDS)
def status_page(request: HttpRequest, key: str) -> HttpResponse:
    page = enabled_page(key)  # checked on every request: switching a page off is at once
    if page is None:
        raise Http404("No such status page.")
    cache_key = f"status-page:{page.pk}:{page.updated_at.timestamp()}"
    html = cache.get(cache_key)
    if html is None:
        html = _render(page)
        cache.set(cache_key, html, CACHE_SECONDS)
    return HttpResponse(html)
