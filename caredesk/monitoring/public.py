"""What an organisation's public status page shows, and nothing more. Read-only.

Per monitored site (active, with an enabled HTTP monitor): up or down now,
uptime over the last 30 and 90 days by the accounting rule (maintenance
windows left out, as in the monthly report), and the confirmed incidents of
the last 90 days with their start and duration. Never a cause, a monitor's
address, a region, a ticket or another organisation's site.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from caredesk.clients.models import Site
from caredesk.lib import clock

from .models import Incident, Kind, Monitor, StatusPage, site_zone
from .state import State
from .uptime import uptime_between

PERIODS = (30, 90)
INCIDENTS_SHOWN = 20


@dataclass(frozen=True)
class SiteStatus:
    name: str
    state: str  # up, down, unknown
    uptime: dict[int, float | None]  # days -> percent


@dataclass(frozen=True)
class PublicIncident:
    site: str
    started_at: datetime  # in the organisation's time zone
    seconds: int  # down time so far, for an ongoing one
    ongoing: bool


@dataclass(frozen=True)
class PublicStatus:
    heading: str
    sites: list[SiteStatus]
    incidents: list[PublicIncident]
    zone: ZoneInfo
    at: datetime

    @property
    def any_down(self) -> bool:
        return any(site.state == State.DOWN for site in self.sites)


def enabled_page(key: str) -> StatusPage | None:
    """The enabled status page with this address, or None (unknown and switched-off alike)."""
    return (
        StatusPage.objects.filter(key=key, enabled=True, organisation__is_active=True)
        .select_related("organisation")
        .first()
    )


def _state(monitors: list[Monitor]) -> str:
    states = {monitor.state for monitor in monitors}
    if State.DOWN in states:
        return State.DOWN
    return State.UP if State.UP in states else State.UNKNOWN


def public_status(page: StatusPage, *, now: datetime | None = None) -> PublicStatus:
    now = now or clock.now()
    sites = list(
        Site.objects.filter(organisation=page.organisation, is_active=True).order_by("name", "pk")
    )
    monitors: dict[int, list[Monitor]] = {}
    for monitor in Monitor.objects.filter(site__in=sites, kind=Kind.HTTP, enabled=True).only(
        "pk", "site_id", "state"
    ):
        monitors.setdefault(monitor.site_id, []).append(monitor)
    shown = [site for site in sites if site.pk in monitors]
    statuses = [
        SiteStatus(
            name=site.name,
            state=_state(monitors[site.pk]),
            uptime={
                days: uptime_between(site, now - timedelta(days=days), now, now=now).percent
                for days in PERIODS
            },
        )
        for site in shown
    ]
    zone = site_zone(shown[0]) if shown else ZoneInfo(settings.TIME_ZONE)
    incidents = _incidents(shown, now, zone) if page.show_incidents else []
    return PublicStatus(page.heading, statuses, incidents, zone, now.astimezone(zone))


def _incidents(sites: list[Site], now: datetime, zone: ZoneInfo) -> list[PublicIncident]:
    names = {site.pk: site.name for site in sites}
    since = now - timedelta(days=max(PERIODS))
    rows = (
        Incident.objects.filter(
            monitor__site__in=sites, monitor__kind=Kind.HTTP, started_at__gte=since
        )
        .select_related("monitor")
        .order_by("-started_at")[:INCIDENTS_SHOWN]
    )
    listed = []
    for incident in rows:
        ended = incident.recovered_at or incident.resolved_at
        listed.append(
            PublicIncident(
                site=names[incident.monitor.site_id],
                started_at=incident.started_at.astimezone(zone),
                seconds=round(((ended or now) - incident.started_at).total_seconds()),
                ongoing=ended is None,
            )
        )
    return listed
