"""The downtime ticket: one per outage of a site, its SLA clock started at the alert.

- A confirmed incident opens a ticket for the site's organisation on the
  channel ``monitor``, with the policy's priority for monitoring and
  ``alerted_at`` = the confirmation, so a target like KIJO's "2 hours from
  when our team is alerted" counts from the alert, not from the first failure.
- A flapping site reopens its incident, and the incident keeps its ticket:
  a note says it is down again (and a solved ticket is reopened).
- Another monitor of the same site going down while the site's ticket is open
  joins that ticket instead of opening a second one.
- Recovery adds a note with how long it was down.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from caredesk.lib import clock
from caredesk.monitoring.models import Incident, Monitor, Outage
from caredesk.plans.models import active_subscription, policy_for
from caredesk.sla.models import Priority
from caredesk.tickets.actions import do_add_note, do_change_status, do_create_ticket
from caredesk.tickets.models import OPEN_STATUSES, Channel, Status, Ticket

from .models import IncidentTicket
from .system import NAME, monitoring_user


def local(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return timezone.localtime(moment).strftime("%a %d %b %Y, %H:%M:%S %Z")


def duration(seconds: float) -> str:
    """``1 h 5 min``, ``4 min 10 s``, ``40 s``: how people say a downtime."""
    seconds = max(0, round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min")]
    if not days and not hours:
        parts.append((secs, "s"))
    return " ".join(f"{value} {unit}" for value, unit in parts if value) or "0 s"


def downtime_priority(organisation_id: int) -> Priority | None:
    """The policy's priority for monitoring; else its most urgent critical one; else its default.

    The organisation's policy comes from its plan (``plans.policy_for``); a
    policy names its monitoring priority with ``for_monitor`` (KIJO's
    "downtime", whose targets start at the alert).
    """
    policy = policy_for(active_subscription(organisation_id, clock.now().date()))
    if policy is None:
        return None
    priorities = list(policy.priorities.order_by("rank"))
    return (
        next((p for p in priorities if p.for_monitor), None)
        or next((p for p in priorities if p.is_critical), None)
        or policy.priority_for(from_monitor=True)
    )


def _description(incident: Incident, monitor: Monitor) -> str:
    return (
        f"Uptime monitoring confirmed {monitor.site.name} down.\n\n"
        f"Monitor: {monitor} ({monitor.target})\n"
        f"First failed check: {local(incident.started_at)}\n"
        f"Confirmed (alert): {local(incident.confirmed_at)}\n"
        f"Cause: {incident.cause or 'unknown'}\n\n"
        f"{settings.CAREDESK_BASE_URL}/admin/monitoring/incident/{incident.pk}/change/"
    )


def open_or_reuse(incident: Incident, monitor: Monitor, *, reopened: bool) -> tuple[Ticket, str]:
    """The incident's ticket and what happened: ``opened``, ``reused`` or ``joined``."""
    bot = monitoring_user()
    link = IncidentTicket.objects.select_related("ticket").filter(incident=incident).first()
    if link is not None:
        ticket = link.ticket
        if not ticket.is_open:
            do_change_status(ticket, Status.OPEN, acting_user=bot)
        do_add_note(
            ticket,
            f"Down again at {local(incident.confirmed_at)} (flapping: this outage has come "
            f"back {incident.reopened} time{'s' if incident.reopened != 1 else ''}).\n"
            f"Cause: {incident.cause or 'unknown'}",
            acting_user=bot,
        )
        return ticket, "reused"
    shared = (
        IncidentTicket.objects.select_related("ticket")
        .filter(
            incident__monitor__site_id=monitor.site_id,
            incident__resolved_at=None,
            ticket__status__in=OPEN_STATUSES,
        )
        .exclude(incident=incident)
        .first()
    )
    if shared is not None:
        IncidentTicket.objects.create(incident=incident, ticket=shared.ticket)
        do_add_note(shared.ticket, f"Also down: {_description(incident, monitor)}", acting_user=bot)
        return shared.ticket, "joined"
    organisation = monitor.site.organisation
    ticket = do_create_ticket(
        subject=f"Down: {monitor.site.name} ({monitor})"[:300],
        body=_description(incident, monitor),
        channel=Channel.MONITOR,
        organisation=organisation,
        site=monitor.site,
        priority=downtime_priority(organisation.pk),
        alerted_at=incident.confirmed_at,
        requester_name=NAME,
        notify_requester=False,
    )
    IncidentTicket.objects.create(incident=incident, ticket=ticket)
    return ticket, "opened"


def note_recovery(incident: Incident, monitor: Monitor) -> Ticket | None:
    """Write the recovery on the incident's ticket, if it has one."""
    link = IncidentTicket.objects.select_related("ticket").filter(incident=incident).first()
    if link is None:
        return None
    outages = list(Outage.objects.filter(incident=incident).order_by("started_at"))
    total = sum(
        ((o.ended_at or incident.recovered_at or clock.now()) - o.started_at for o in outages),
        timedelta(),
    )
    last = outages[-1].started_at if outages else incident.started_at
    this_time = (incident.recovered_at or clock.now()) - last
    lines = [
        f"Recovered: {monitor} is back up since {local(incident.recovered_at)} "
        f"(confirmed {local(incident.resolved_at)}).",
        f"Downtime: {duration(this_time.total_seconds())} "
        f"(from the first failed check at {local(last)} to the first good check).",
    ]
    if len(outages) > 1:
        lines.append(
            f"In all {duration(total.total_seconds())} down over {len(outages)} outages "
            "(the site was flapping)."
        )
    do_add_note(link.ticket, "\n".join(lines), acting_user=monitoring_user())
    return link.ticket
