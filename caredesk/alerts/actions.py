"""Every change alerts make: one transaction each, quick, no network.

The receivers of the monitoring signals call :func:`do_record_down`,
:func:`do_record_up` and :func:`do_record_warning` on the probe's database
thread (or a worker's), so they only write rows (deliveries to send, the
ticket, timeline entries) and enqueue the delivery job; the job does the
sending.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from caredesk.lib import clock
from caredesk.monitoring.models import Incident, Monitor, MonitorWarning, covering_window

from . import downtime, timeline
from .models import AlertChannel, AlertDelivery, AlertEvent, Audience, DeliveryState

logger = logging.getLogger(__name__)


def group_seconds() -> float:
    return float(getattr(settings, "CAREDESK_ALERT_GROUP_SECONDS", 4))


@dataclass
class Recorded:
    """What an incident's change led to (for the caller and the tests)."""

    suppressed: str = ""  # why nothing was sent, if so
    ticket_id: int | None = None
    ticket: str = ""  # opened, reused, joined
    deliveries: list[int] = field(default_factory=list)


def channels_for(organisation_id: int):
    """Enabled channels that hear about this organisation's incidents."""
    return (
        AlertChannel.objects.filter(enabled=True)
        .filter(
            Q(audience=Audience.CLIENT, organisation_id=organisation_id)
            | Q(audience=Audience.AGENCY, only_organisations=None)
            | Q(audience=Audience.AGENCY, only_organisations=organisation_id)
        )
        .distinct()
        .order_by("pk")
    )


def _queue(
    incident: Incident | None,
    event: str,
    at: datetime,
    channels,
    *,
    warning: MonitorWarning | None = None,
) -> list[int]:
    # The window runs from the check that confirmed the change, not from now: the
    # probe writes results a second or so after the check, and that wait counts too.
    due = max(clock.now(), at + timedelta(seconds=group_seconds()))
    rows = AlertDelivery.objects.bulk_create(
        [
            AlertDelivery(
                channel=channel,
                incident=incident,
                warning=warning,
                event=event,
                at=at,
                due_at=due,
            )
            for channel in channels
        ]
    )
    if rows:
        from .tasks import deliver_alerts

        # In the same transaction as the rows: the worker sees both or neither.
        # Later alerts of the grouping window find this run already due.
        deliver_alerts.using(run_after=due).enqueue()
    return [row.pk for row in rows]


def _locked_monitor(incident: Incident) -> Monitor:
    # Locked like the probe's store does, so timeline writes never cross.
    return (
        Monitor.objects.select_for_update(of=("self",))
        .select_related("site__organisation", "depends_on")
        .get(pk=incident.monitor_id)
    )


@transaction.atomic
def do_record_down(incident_id: int, *, reopened: bool = False) -> Recorded:
    """An incident was confirmed (or reopened): suppress it, or ticket it and queue its alerts."""
    incident = Incident.objects.get(pk=incident_id)
    monitor = _locked_monitor(incident)
    incident.refresh_from_db()
    notes: list[tuple[int, dict]] = []
    window = covering_window(monitor, incident.confirmed_at)
    parent = monitor.down_ancestor()
    result = Recorded()
    if window is not None:
        result.suppressed = f"maintenance window: {window.reason}"
    elif parent is not None:
        result.suppressed = f"depends on {parent}, which is down"
    if result.suppressed:
        timeline.record([(incident.pk, timeline.entry("suppressed", result.suppressed))])
        return result
    try:
        # A ticket that cannot be opened (a policy set up wrong) must not cost the alert.
        with transaction.atomic():
            ticket, how = downtime.open_or_reuse(incident, monitor, reopened=reopened)
    except Exception as error:
        logger.exception("incident %s: no downtime ticket", incident.pk)
        notes.append((incident.pk, timeline.entry("ticket_failed", f"{error}"[:300])))
    else:
        result.ticket_id, result.ticket = ticket.pk, how
        notes.append((incident.pk, timeline.entry(f"ticket_{how}", ticket.reference)))
    channels = list(channels_for(monitor.site.organisation_id))
    result.deliveries = _queue(incident, AlertEvent.DOWN, incident.confirmed_at, channels)
    if channels:
        names = ", ".join(c.name for c in channels)
        notes.append((incident.pk, timeline.entry("alert_queued", f"down: {names}")))
    timeline.record(notes)
    return result


@transaction.atomic
def do_record_up(incident_id: int) -> Recorded:
    """An incident resolved: note the downtime on its ticket; tell the channels told of it."""
    incident = Incident.objects.get(pk=incident_id)
    monitor = _locked_monitor(incident)
    incident.refresh_from_db()
    result = Recorded()
    try:
        with transaction.atomic():
            ticket = downtime.note_recovery(incident, monitor)
    except Exception as error:
        logger.exception("incident %s: recovery not noted on its ticket", incident.pk)
        timeline.record([(incident.pk, timeline.entry("ticket_failed", f"{error}"[:300]))])
    else:
        if ticket is not None:
            result.ticket_id, result.ticket = ticket.pk, "noted"
    # Only channels that were (or are about to be) told it was down hear it is back.
    told = (
        AlertDelivery.objects.filter(incident=incident, event=AlertEvent.DOWN)
        .exclude(state=DeliveryState.SUPPRESSED)
        .values("channel_id")
    )
    channels = list(
        AlertChannel.objects.filter(pk__in=told, enabled=True, send_recoveries=True).order_by("pk")
    )
    at = incident.resolved_at or clock.now()
    result.deliveries = _queue(incident, AlertEvent.UP, at, channels)
    if channels:
        names = ", ".join(c.name for c in channels)
        timeline.record([(incident.pk, timeline.entry("alert_queued", f"up: {names}"))])
    return result


@transaction.atomic
def do_record_warning(warning_id: int) -> Recorded:
    """A warning opened (a certificate close to expiry, a heartbeat late): tell the channels once.

    No ticket: a warning is trouble coming, not an outage. Channels that take
    warnings (``send_warnings``) of the site's client hear it, grouped with
    whatever else waits for them.
    """
    warning = MonitorWarning.objects.select_related("monitor__site").get(pk=warning_id)
    result = Recorded()
    if warning.cleared_at is not None:
        result.suppressed = "cleared before it could be sent"
        return result
    channels = list(channels_for(warning.monitor.site.organisation_id).filter(send_warnings=True))
    at = warning.opened_at
    result.deliveries = _queue(None, AlertEvent.WARNING, at, channels, warning=warning)
    if channels:
        logger.info("warning %s queued for %d channel(s)", warning.pk, len(channels))
    return result


@transaction.atomic
def do_retry_deliveries(delivery_ids: list[int], *, acting_user) -> int:
    """Send failed deliveries again at the next run (after the admin fixed the channel)."""
    if acting_user is None or not acting_user.is_agency_staff:
        raise ValidationError("Only agency staff can do this.")
    now = clock.now()
    count = AlertDelivery.objects.filter(pk__in=delivery_ids, state=DeliveryState.FAILED).update(
        state=DeliveryState.PENDING, due_at=now, attempts=0, claim=""
    )
    if count:
        from .tasks import deliver_alerts

        deliver_alerts.enqueue()
        logger.info("%s: %d alert deliveries queued again", acting_user, count)
    return count
