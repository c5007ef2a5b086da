"""The status board: every monitor, open incidents first, in a fixed number of queries.

Open warnings (a certificate close to expiry, a heartbeat late) show beside the state.
"""

from django.db.models import Case, F, IntegerField, OuterRef, Subquery, Value, When
from django.shortcuts import render

from caredesk.clients.models import Organisation
from caredesk.monitoring.models import Incident, Monitor, MonitorWarning

from .common import staff_only
from .health import board_counts, status, uptime_by_monitor

PAGE = 200
STATES = ("down", "up", "unknown", "paused")


def board(client: int | None = None, state: str = ""):
    open_since = Incident.objects.filter(monitor=OuterRef("pk"), resolved_at=None).values(
        "started_at"
    )[:1]
    monitors = Monitor.objects.select_related("site__organisation")
    if client is not None:
        monitors = monitors.filter(site__organisation_id=client)
    counts = board_counts(monitors)
    if state == "paused":
        monitors = monitors.filter(enabled=False)
    elif state in STATES:
        monitors = monitors.filter(enabled=True, state=state)
    # Down first, then unknown (never checked, or the probe lost it), up, paused.
    rank = Case(
        When(enabled=False, then=Value(3)),
        When(state="down", then=Value(0)),
        When(state="unknown", then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    warning = MonitorWarning.objects.filter(monitor=OuterRef("pk"), cleared_at=None).values(
        "detail"
    )[:1]
    monitors = monitors.annotate(
        incident_since=Subquery(open_since), warning=Subquery(warning), rank=rank
    ).order_by(
        F("incident_since").asc(nulls_last=True),
        "rank",
        "site__organisation__name",
        "site__name",
        "kind",
        "pk",
    )
    return monitors, counts


@staff_only
def monitors_view(request):
    raw_client = request.GET.get("client", "")
    client = int(raw_client) if raw_client.isdigit() and len(raw_client) < 12 else None
    state = request.GET.get("state", "")
    state = state if state in STATES else ""
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    monitors, counts = board(client, state)
    window = list(monitors[(page - 1) * PAGE : page * PAGE + 1])
    shown = window[:PAGE]
    uptime = uptime_by_monitor([m.pk for m in shown], days=30)
    rows = [{"monitor": m, "status": status(m), "uptime": uptime.get(m.pk)} for m in shown]
    return render(
        request,
        "desk/monitors.html",
        {
            "rows": rows,
            "counts": counts,
            "clients": Organisation.objects.filter(is_active=True).only("pk", "name"),
            "client": client,
            "state": state,
            "states": STATES,
            "page": page,
            "has_next": len(window) > PAGE,
        },
    )
