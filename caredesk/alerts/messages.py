"""One message for a channel's waiting alerts: every monitor in it, down ones first, then
those back up, then warnings (trouble coming, not an outage).

Agency channels see which client each site belongs to and a link to its
ticket; a client's channel sees only its own sites (deliveries are made per
organisation) and no staff links.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from caredesk.monitoring.models import site_zone

from .channels import Notice
from .downtime import duration
from .models import AlertChannel, AlertDelivery, AlertEvent, Audience, IncidentTicket

SUBJECT_LIMIT = 200


def _when(moment, zone: ZoneInfo) -> str:
    if moment is None:
        return "—"
    return timezone.localtime(moment, zone).strftime("%a %d %b, %H:%M:%S")


def _warning_item(row: AlertDelivery, zone: ZoneInfo) -> dict:
    warning = row.warning
    monitor = warning.monitor
    return {
        "down": False,
        "warning": True,
        "site": monitor.site.name,
        "organisation": monitor.site.organisation.name,
        "check": monitor.name or monitor.get_kind_display(),
        "extra": "" if monitor.is_default else (monitor.name or monitor.target),
        "target": monitor.target,
        "kind": warning.get_kind_display(),
        "detail": warning.detail,
        "since": _when(warning.opened_at, zone),
    }


def _item(row: AlertDelivery, zone: ZoneInfo, tickets: dict[int, object], client: bool) -> dict:
    if row.warning_id is not None:
        return _warning_item(row, zone)
    incident = row.incident
    monitor = incident.monitor
    ticket = None if client else tickets.get(incident.pk)
    end = incident.recovered_at or row.at
    return {
        "down": row.event == AlertEvent.DOWN,
        "warning": False,
        "site": monitor.site.name,
        "organisation": monitor.site.organisation.name,
        "check": monitor.name or monitor.get_kind_display(),
        # The site's own monitor is the site; another one is named in the subject.
        "extra": "" if monitor.is_default else (monitor.name or monitor.target),
        "target": monitor.target,
        "cause": incident.cause or "unknown",
        "since": _when(incident.started_at, zone),
        "confirmed": _when(incident.confirmed_at, zone),
        "recovered": _when(incident.recovered_at, zone),
        "downtime": duration((end - incident.started_at).total_seconds()),
        "reopened": incident.reopened,
        "ticket": ticket.reference if ticket else "",
        "ticket_url": f"{settings.CAREDESK_BASE_URL}/tickets/{ticket.number}/" if ticket else "",
    }


def build(channel: AlertChannel, rows: list[AlertDelivery]) -> Notice:
    """The message for ``rows`` (one channel's), rendered from the alert_* email templates."""
    client = channel.audience == Audience.CLIENT
    zone = site_zone(rows[0].monitor.site) if client and rows else ZoneInfo(settings.TIME_ZONE)
    links = IncidentTicket.objects.select_related("ticket").filter(
        incident_id__in={row.incident_id for row in rows if row.incident_id is not None}
    )
    tickets = {link.incident_id: link.ticket for link in links}
    ordered = sorted(rows, key=lambda r: (r.at, r.monitor.site.name, r.pk))
    items = [_item(row, zone, tickets, client) for row in ordered]
    down = [item for item in items if item["down"]]
    warnings = [item for item in items if item["warning"]]
    up = [item for item in items if not item["down"] and not item["warning"]]
    context = {
        "agency_name": settings.CAREDESK_AGENCY_NAME,
        "items": down + up + warnings,
        "down": down,
        "up": up,
        "warnings": warnings,
        "client": client,
        "zone": str(zone),
    }
    subject = " ".join(render_to_string("emails/alert_subject.txt", context).split())
    return Notice(
        subject=subject[:SUBJECT_LIMIT],
        text=render_to_string("emails/alert.txt", context),
        html=render_to_string("emails/alert.html", context),
        down=len(down),
        up=len(up),
        warnings=len(warnings),
    )
