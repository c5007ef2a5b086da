"""A site's monitors as staff see them: state, uptime and incidents, in few queries."""

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum

from caredesk.clients.models import Site
from caredesk.lib import clock
from caredesk.monitoring.models import HourlyRollup, Incident, Kind, Monitor, MonitorWarning
from caredesk.monitoring.uptime import MonthlyUptime, monthly_uptime

RECENT_INCIDENTS = 5


@dataclass(frozen=True)
class SiteHealth:
    site: Site
    monitors: list[Monitor]
    uptime: MonthlyUptime
    incidents: list[Incident]

    @property
    def checked(self) -> bool:
        """Whether any HTTP monitor has run: a site whose monitors never ran (paused since
        created) has watched time by the accounting rule, but its 100 % would mean nothing."""
        return any(m.kind == Kind.HTTP and m.last_checked_at for m in self.monitors)

    @property
    def any_down(self) -> bool:
        return any(status(m) == "down" for m in self.monitors)


def status(monitor: Monitor) -> str:
    """up, down, unknown, or paused (a disabled monitor is not checked, whatever it last saw)."""
    return monitor.state if monitor.enabled else "paused"


def site_health(site: Site, *, incidents: int = RECENT_INCIDENTS) -> SiteHealth:
    now = clock.now()
    local = now.astimezone(ZoneInfo(settings.TIME_ZONE))
    return SiteHealth(
        site=site,
        monitors=list(with_open_incident(site.monitors.all()).order_by("kind", "pk")),
        uptime=monthly_uptime(site, local.year, local.month, now=now),
        incidents=list(
            Incident.objects.filter(monitor__site=site)
            .select_related("monitor")
            .order_by("-started_at")[:incidents]
        ),
    )


def with_open_incident(monitors: QuerySet[Monitor]) -> QuerySet[Monitor]:
    """``has_open_incident``, and ``warning``: the detail of an open warning, if any."""
    open_incidents = Incident.objects.filter(monitor=OuterRef("pk"), resolved_at=None)
    warning = MonitorWarning.objects.filter(monitor=OuterRef("pk"), cleared_at=None)
    return monitors.annotate(
        has_open_incident=Exists(open_incidents),
        warning=Subquery(warning.values("detail")[:1]),
    )


def uptime_by_monitor(monitor_ids: list[int], days: int = 30) -> dict[int, float | None]:
    """Each monitor's share of watched time that was up over the last ``days``, from rollups."""
    since = clock.now() - timedelta(days=days)
    rows = (
        HourlyRollup.objects.filter(monitor_id__in=monitor_ids, hour__gte=since)
        .values("monitor_id")
        .annotate(up=Sum("up_seconds"), down=Sum("down_seconds"))
    )
    found: dict[int, float | None] = {}
    for row in rows:
        watched = (row["up"] or 0) + (row["down"] or 0)
        found[row["monitor_id"]] = 100.0 * row["up"] / watched if watched else None
    return found


def board_counts(monitors: QuerySet[Monitor]) -> dict[str, int]:
    return monitors.aggregate(
        total=Count("pk"),
        down=Count("pk", filter=Q(enabled=True, state="down")),
        up=Count("pk", filter=Q(enabled=True, state="up")),
        unknown=Count("pk", filter=Q(enabled=True, state="unknown")),
        paused=Count("pk", filter=Q(enabled=False)),
    )
