"""A site's page for staff: its monitors, uptime, incidents and response times."""

from django.shortcuts import render

from caredesk.clients import access
from caredesk.lib import clock
from caredesk.monitoring.models import Kind
from caredesk.tickets.models import OPEN_STATUSES

from .charts import response_chart
from .common import staff_only
from .health import site_health
from .upkeep import site_upkeep

PERIODS = (7, 30)


@staff_only
def site(request, pk: int):
    found = access.get_or_404(access.sites_for(request.user), pk)
    health = site_health(found, incidents=20)
    days = int(request.GET["days"]) if request.GET.get("days") in ("7", "30") else PERIODS[0]
    http = [m for m in health.monitors if m.kind == Kind.HTTP]
    chosen = request.GET.get("monitor", "")
    monitor = next((m for m in http if str(m.pk) == chosen), http[0] if http else None)
    return render(
        request,
        "desk/site.html",
        {
            "site": found,
            "health": health,
            "http_monitors": http,
            "chart": response_chart(monitor, days, clock.now()) if monitor else None,
            "days": days,
            "periods": PERIODS,
            "upkeep": site_upkeep(found) if found.platform == "wordpress" else None,
            "open_tickets": found.tickets.filter(status__in=OPEN_STATUSES)
            .select_related("priority")
            .order_by("-created_at")[:10],
        },
    )
