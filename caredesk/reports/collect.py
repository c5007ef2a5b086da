"""A month's facts for each client, read from stored records only, as plain JSON.

Every figure comes from a record that staff can open: tickets and their SLA
clocks, time entries as the billing rules classify them, outages and
incidents, hourly rollups, the TLS monitor's last check, and (where the
maintenance app records them) updates, scan findings and backups. Records
are loaded a batch of clients at a time, so a thousand sites cost a few
queries per batch plus one uptime computation per site.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from caredesk.billing import periods, rules
from caredesk.billing.usage import Usage, compute
from caredesk.clients.models import Organisation, Site
from caredesk.lib import clock
from caredesk.monitoring import history
from caredesk.monitoring.models import CheckResult, Incident, Kind, Monitor
from caredesk.monitoring.uptime import month_bounds, monthly_uptime
from caredesk.tickets.models import SlaClock, Ticket

from . import upkeep

KINDS = [kind.value for kind in rules.Kind]
TICKETS_LISTED = 30  # per site, for the staff trace; the counts cover all of them


def month_start(year: int, month: int) -> date:
    return date(year, month, 1)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


# -- support ----------------------------------------------------------------------------------


def sla_counts(rows: Iterable[tuple], now: datetime) -> dict:
    """Targets met, missed and still open, and the median first response (business seconds).

    The rule of :func:`caredesk.tickets.sla_report.summary`, applied to any
    subset of a client's clocks (one site's): breached, or running past due,
    is missed; stopped in time is met; otherwise open.
    """
    met = missed = running = 0
    first = []
    for kind, stopped_at, breached, elapsed, due_at in rows:
        if breached or (stopped_at is None and due_at is not None and due_at < now):
            missed += 1
        elif stopped_at is not None:
            met += 1
        else:
            running += 1
        if kind == "first_response" and stopped_at is not None:
            first.append(elapsed)
    return {
        "sla_met": met,
        "sla_missed": missed,
        "sla_open": running,
        "median_first_response": round(median(first)) if first else None,
    }


def _support(org_ids: list[int], start: datetime, end: datetime) -> dict:
    """Per (organisation, site id or None): tickets opened and solved, and SLA results."""
    found: dict = defaultdict(lambda: {"opened": 0, "solved": 0, "tickets": [], "clocks": []})
    in_month = Q(created_at__gte=start, created_at__lt=end) | Q(
        solved_at__gte=start, solved_at__lt=end
    )
    tickets = (
        Ticket.objects.filter(organisation_id__in=org_ids)
        .filter(in_month)
        .order_by("created_at", "pk")
        .values_list("organisation_id", "site_id", "number", "subject", "created_at", "solved_at")
    )
    for org_id, site_id, number, subject, created, solved in tickets:
        entry = found[(org_id, site_id)]
        opened = start <= created < end
        closed = solved is not None and start <= solved < end
        entry["opened"] += opened
        entry["solved"] += closed
        if len(entry["tickets"]) < TICKETS_LISTED:
            entry["tickets"].append(
                {"number": number, "subject": subject[:120], "opened": opened, "solved": closed}
            )
    clocks = SlaClock.objects.filter(
        ticket__organisation_id__in=org_ids,
        ticket__created_at__gte=start,
        ticket__created_at__lt=end,
    ).values_list(
        "ticket__organisation_id",
        "ticket__site_id",
        "kind",
        "stopped_at",
        "breached",
        "elapsed_seconds",
        "due_at",
    )
    for org_id, site_id, *row in clocks:
        found[(org_id, site_id)]["clocks"].append(tuple(row))
    return found


def _support_facts(entries: list[dict], now: datetime) -> dict:
    clocks = [row for entry in entries for row in entry["clocks"]]
    tickets = [t for entry in entries for t in entry["tickets"]]
    return {
        "opened": sum(entry["opened"] for entry in entries),
        "solved": sum(entry["solved"] for entry in entries),
        **sla_counts(clocks, now),
        "tickets": tickets[:TICKETS_LISTED],
    }


# -- hours ------------------------------------------------------------------------------------


def _hours(usage: Usage, ticket_sites: dict[int, int | None]) -> tuple[dict, dict]:
    """The client's period as billing classifies it, and the same minutes split per site."""
    period = usage.period
    totals = dict.fromkeys(KINDS, 0)
    per_site: dict = defaultdict(lambda: dict.fromkeys(KINDS, 0))
    reasons: dict[tuple[str, str], int] = defaultdict(int)
    for row in usage.period_rows:
        site_id = ticket_sites.get(row.ticket_id)
        for part in usage.parts_by_entry.get(row.id, ()):
            totals[part.kind.value] += part.minutes
            per_site[site_id][part.kind.value] += part.minutes
            reasons[(part.kind.value, part.reason)] += part.minutes
    allowance = usage.allowance
    used_before = usage.included_before(period.start)
    facts = {
        "plan": usage.terms.plan_name,
        "billed_per_hour": usage.terms.on_demand,
        "period_label": period.label,
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "window_label": period.window_label,
        "pooled": period.is_pooled,
        "allowance": allowance,
        "used_before": used_before if period.is_pooled else 0,
        "left": None
        if allowance is None
        else max(0, allowance - used_before - totals[rules.Kind.INCLUDED]),
        "fair_usage_cap": usage.terms.fair_usage_cap_minutes,
        "fair_usage_mode": usage.terms.fair_usage_mode,
        **totals,
        "billable": sum(totals[k.value] for k in rules.BILLABLE),
        "reasons": [
            {"kind": kind, "reason": reason, "minutes": minutes}
            for (kind, reason), minutes in sorted(
                reasons.items(), key=lambda r: KINDS.index(r[0][0])
            )
        ],
        "entries": len(usage.period_rows),
    }
    return facts, per_site


# -- uptime -----------------------------------------------------------------------------------


def _daily(rows: list[tuple[datetime, int | None, int | None]], zone: ZoneInfo) -> list:
    """Hourly rollups as days: the median of the hourly p50s, the worst hourly p95."""
    days: dict[date, tuple[list, list]] = defaultdict(lambda: ([], []))
    for hour, p50, p95 in rows:
        day = hour.astimezone(zone).date()
        if p50 is not None:
            days[day][0].append(p50)
        if p95 is not None:
            days[day][1].append(p95)
    return [
        [day.isoformat(), round(median(p50s)) if p50s else None, max(p95s) if p95s else None]
        for day, (p50s, p95s) in sorted(days.items())
    ]


def _tls(monitors: list[Monitor], end: datetime) -> dict | None:
    """The certificate as the last check before the month's end saw it."""
    tls = [m for m in monitors if m.kind == Kind.TLS]
    https = [m for m in monitors if m.kind == Kind.HTTP and m.url.startswith("https://")]
    for group in (tls, https):
        if not group:
            continue
        result = (
            CheckResult.objects.filter(
                monitor__in=group, checked_at__lt=end, cert_days__isnull=False
            )
            .order_by("-checked_at")
            .first()
        )
        if result is None and group is tls:
            result = (
                CheckResult.objects.filter(monitor__in=group, checked_at__lt=end)
                .order_by("-checked_at")
                .first()
            )
        if result is None:
            continue
        expires = (
            (result.checked_at + timedelta(days=result.cert_days)).date().isoformat()
            if result.cert_days is not None
            else None
        )
        return {
            "monitor_id": result.monitor_id,
            "checked_at": _iso(result.checked_at),
            "ok": result.ok,
            "days_left": result.cert_days,
            "expires": expires,
            "error": result.error[:200],
        }
    return None


def _uptime(site: Site, monitors: list[Monitor], year: int, month: int, now: datetime) -> dict:
    start, end = month_bounds(year, month)
    figures = monthly_uptime(site, year, month, now=now)
    incidents = (
        Incident.objects.filter(monitor__site=site, started_at__lt=end)
        .filter(Q(resolved_at=None) | Q(resolved_at__gt=start))
        .select_related("monitor")
        .order_by("started_at")
    )
    listed = []
    for incident in incidents:
        finished = incident.recovered_at or incident.resolved_at
        listed.append(
            {
                "id": incident.pk,
                "monitor": str(incident.monitor),
                "started_at": _iso(incident.started_at),
                "seconds": round(((finished or now) - incident.started_at).total_seconds()),
                "ongoing": finished is None,
                "cause": incident.cause[:200],
            }
        )
    http_ids = [m.pk for m in monitors if m.kind == Kind.HTTP]
    # Hourly rows, or for an older month the hours packed in its daily rows.
    rollups = [
        (item.hour, item.p50_ms, item.p95_ms)
        for item in history.hours(http_ids, start, end, now=now)
    ]
    # A monitor switched off all month (the demo's, a site being moved) watched nothing.
    monitored = bool(rollups) or any(m.enabled for m in monitors if m.kind == Kind.HTTP)
    return {
        "monitored": monitored,
        "percent": figures.percent,
        "down_seconds": round(figures.down_seconds),
        "watched_seconds": round(figures.watched_seconds),
        "maintenance_seconds": round(figures.maintenance_seconds),
        "incidents": listed,
        "hours_with_data": sum(1 for _, p50, _ in rollups if p50 is not None),
        "daily": _daily(rollups, ZoneInfo(settings.TIME_ZONE)),
        "tls": _tls(monitors, end),
    }


# -- a client's month -------------------------------------------------------------------------


def collect(organisation_ids: list[int], year: int, month: int) -> dict[int, dict]:
    """The facts of each client's month, by organisation id."""
    now = clock.now()
    start, end = month_bounds(year, month)
    organisations = Organisation.objects.in_bulk(organisation_ids)
    sites: dict[int, list[Site]] = defaultdict(list)
    for site in Site.objects.filter(organisation_id__in=organisation_ids, is_active=True).order_by(
        "name", "pk"
    ):
        sites[site.organisation_id].append(site)
    monitors: dict[int, list[Monitor]] = defaultdict(list)
    for monitor in Monitor.objects.filter(site__in=[s for group in sites.values() for s in group]):
        monitors[monitor.site_id].append(monitor)
    support = _support(organisation_ids, start, end)
    usages = _usages(organisation_ids, year, month)
    ticket_ids = {row.ticket_id for u in usages.values() for row in u.period_rows}
    ticket_sites = dict(Ticket.objects.filter(pk__in=ticket_ids).values_list("pk", "site_id"))
    maintenance = upkeep.collect([s.pk for group in sites.values() for s in group], start, end)
    result = {}
    for org_id in organisation_ids:
        organisation = organisations[org_id]
        hours, hours_by_site = _hours(usages[org_id], ticket_sites)
        site_facts = []
        for site in sites.get(org_id, []):
            site_facts.append(
                {
                    "id": site.pk,
                    "name": site.name,
                    "url": site.url,
                    "wordpress": site.platform == "wordpress",
                    "support": _support_facts([support[(org_id, site.pk)]], now)
                    if (org_id, site.pk) in support
                    else _support_facts([], now),
                    "hours": hours_by_site.get(site.pk, dict.fromkeys(KINDS, 0)),
                    "uptime": _uptime(site, monitors.get(site.pk, []), year, month, now),
                    "maintenance": maintenance.get(site.pk),
                }
            )
        org_support = [entry for (o, _), entry in support.items() if o == org_id]
        unsited = support.get((org_id, None))
        result[org_id] = {
            "organisation": {"id": org_id, "name": organisation.name},
            "month": f"{year:04d}-{month:02d}",
            "start": _iso(start),
            "end": _iso(end),
            "collected_at": _iso(now),
            "sites": site_facts,
            "support": _support_facts(org_support, now),
            "unsited_support": _support_facts([unsited], now) if unsited else None,
            "unsited_hours": hours_by_site.get(None),
            "hours": hours,
        }
    return result


def _usages(organisation_ids: list[int], year: int, month: int) -> dict[int, Usage]:
    """Each client's billing period holding the month's first day.

    With billing on the 1st that is the month itself; with another billing
    day it is the period that closed during the month, so the hours shown
    are always a finished period's, exactly as its statement bills them.
    """
    found = compute(periods.periods_containing(organisation_ids, month_start(year, month)))
    return {usage.period.organisation_id: usage for usage in found}
