"""Record SLA warnings and breaches as they fall due.

The sweep reads the indexed ``next_check_at`` column, so its cost follows the
number of clocks due now, not the number of open tickets. Each clock is claimed
with a conditional update before its event is written: two sweeps racing (two
schedulers across a lease hand-over, a manual run) never record an event twice.
"""

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F, Q

from caredesk.lib import clock

from .models import SlaClock, Ticket, TicketEvent
from .signals import ticket_event

BATCH = 2000


def sweep(now: datetime | None = None, batch: int = BATCH) -> int:
    """Record every warning and breach due by ``now``; returns how many events were written."""
    now = now or clock.now()
    written = 0
    while True:
        count, more = _sweep_batch(now, batch)
        written += count
        if not more:
            return written


@transaction.atomic
def _sweep_batch(now: datetime, batch: int) -> tuple[int, bool]:
    ids = list(
        SlaClock.objects.filter(next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:batch]
    )
    if not ids:
        return 0, False
    token = secrets.token_hex(8)
    breaches = _claim(ids, token, now, "breach")
    warnings = _claim(ids, token, now, "warning")
    events = []
    for row in SlaClock.objects.filter(claim__in=[f"{token}b", f"{token}w"]).select_related(
        "ticket"
    ):
        kind = "sla_breach" if row.claim.endswith("b") else "sla_warning"
        at = row.due_at if kind == "sla_breach" else row.warn_at
        events.append(
            TicketEvent(
                ticket=row.ticket,
                at=max(at or now, row.ticket.created_at),
                kind=kind,
                data={"clock": row.kind, "due_at": row.due_at.isoformat() if row.due_at else None},
            )
        )
    created = TicketEvent.objects.bulk_create(events)
    SlaClock.objects.filter(pk__in=ids).update(claim="")
    _reschedule(ids, now)
    for event in created:
        transaction.on_commit(
            lambda e=event: ticket_event.send(
                sender=Ticket, ticket_id=e.ticket_id, event_id=e.pk, kind=e.kind
            )
        )
    return breaches + warnings, len(ids) == batch


def _claim(ids: list[int], token: str, now: datetime, what: str) -> int:
    if what == "breach":
        return SlaClock.objects.filter(
            pk__in=ids, breach_recorded_at=None, due_at__lte=now, claim=""
        ).update(breach_recorded_at=now, breached=True, claim=f"{token}b")
    return SlaClock.objects.filter(pk__in=ids, warned_at=None, warn_at__lte=now, claim="").update(
        warned_at=now, claim=f"{token}w"
    )


def _reschedule(ids: list[int], now: datetime) -> None:
    """After the events: the next check is the breach (if not yet recorded), else none."""
    SlaClock.objects.filter(pk__in=ids).filter(
        Q(breach_recorded_at__isnull=False) | Q(due_at=None)
    ).update(next_check_at=None)
    SlaClock.objects.filter(pk__in=ids, breach_recorded_at=None, due_at__isnull=False).update(
        next_check_at=F("due_at")
    )


def format_promise(moment: datetime, zone: str) -> str:
    """'by Tue 24 Nov, 12:00' in the calendar's zone: what a client is told to expect."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"by {local:%a} {local.day} {local:%b}, {local:%H:%M}"
