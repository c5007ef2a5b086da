"""Entries on an incident's timeline, written beside the probe without losing any.

The probe appends to the same JSON list; both sides lock the monitor row first
(the probe's store locks every monitor of a batch), so neither overwrites the
other's entry.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from caredesk.lib import clock
from caredesk.monitoring.incidents import TIMELINE_LIMIT
from caredesk.monitoring.models import Incident, Monitor


def entry(event: str, detail: str, at: datetime | None = None) -> dict:
    return {"at": (at or clock.now()).isoformat(), "event": event, "region": "", "detail": detail}


@transaction.atomic
def record(notes: Iterable[tuple[int, dict]]) -> None:
    """Append ``(incident id, entry)`` pairs, locking monitors in id order like the probe."""
    by_incident: dict[int, list[dict]] = {}
    for incident_id, item in notes:
        by_incident.setdefault(incident_id, []).append(item)
    if not by_incident:
        return
    monitor_ids = sorted(
        set(Incident.objects.filter(pk__in=by_incident).values_list("monitor_id", flat=True))
    )
    list(Monitor.objects.select_for_update().filter(pk__in=monitor_ids).order_by("pk").values("pk"))
    for incident in Incident.objects.filter(pk__in=by_incident):
        incident.timeline = [*incident.timeline, *by_incident[incident.pk]][-TIMELINE_LIMIT:]
        incident.save(update_fields=["timeline"])
