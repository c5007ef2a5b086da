"""Record SLA warnings and breaches as they fall due.

The sweep reads the indexed ``next_check_at`` column, so its cost follows the
number of clocks due now, not the number of open tickets. Each clock is claimed
with a conditional update before its event is written: two sweeps racing (two
schedulers across a lease hand-over, a manual run) never record an event twice.
"""

import json
import secrets
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F, Q

from caredesk.lib import clock

from . import notify
from .models import SlaClock, TicketEvent

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
    claimed = SlaClock.objects.filter(pk__in=ids, claim__in=[f"{token}b", f"{token}w"])
    rows = [
        (
            ticket_id,
            max(due_at if claim.endswith("b") else warn_at, created_at),
            "sla_breach" if claim.endswith("b") else "sla_warning",
            json.dumps({"clock": kind, "due_at": due_at.isoformat() if due_at else None}),
        )
        for ticket_id, kind, claim, due_at, warn_at, created_at in claimed.values_list(
            "ticket_id", "kind", "claim", "due_at", "warn_at", "ticket__created_at"
        )
    ]
    event_ids = _insert_events(rows)
    SlaClock.objects.filter(pk__in=ids).update(claim="")
    _reschedule(ids, now)
    if event_ids:
        # One task per batch: the sweep's cost must not grow with notification work.
        transaction.on_commit(lambda: notify.notify_sla_events.enqueue(event_ids))
    return breaches + warnings, len(ids) == batch


def _insert_events(rows: list[tuple], chunk: int = 200) -> list[int]:
    """Write the batch's events with multi-row INSERT … RETURNING; returns their ids.

    The ORM's bulk_create spends ~100 µs an object preparing values, which is
    most of a sweep after an outage; these rows are plain and built above.
    SQLite (3.35+) and PostgreSQL both return the new ids.
    """
    table = connection.ops.quote_name(TicketEvent._meta.db_table)
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            values = ", ".join(["(%s, %s, %s, %s, NULL, NULL)"] * len(part))
            params = [
                value
                for ticket_id, at, kind, data in part
                for value in (ticket_id, connection.ops.adapt_datetimefield_value(at), kind, data)
            ]
            cursor.execute(
                f"INSERT INTO {table} (ticket_id, at, kind, data, actor_user_id, actor_contact_id)"  # noqa: S608 - the table name is the model's; values are bound
                f" VALUES {values} RETURNING id",
                params,
            )
            ids.extend(row[0] for row in cursor.fetchall())
    return ids


def _claim(ids: list[int], token: str, now: datetime, what: str) -> int:
    if what == "breach":
        return SlaClock.objects.filter(
            pk__in=ids, breach_recorded_at=None, due_at__lt=now, claim=""
        ).update(breach_recorded_at=now, breached=True, claim=f"{token}b")
    # A warning after the breach would mislead: a rival sweep may have recorded it.
    return SlaClock.objects.filter(
        pk__in=ids, warned_at=None, breach_recorded_at=None, warn_at__lte=now, claim=""
    ).update(warned_at=now, claim=f"{token}w")


def _reschedule(ids: list[int], now: datetime) -> None:
    """After the events: the next check is the breach (if not yet recorded), else none."""
    SlaClock.objects.filter(pk__in=ids).filter(
        Q(breach_recorded_at__isnull=False) | Q(due_at=None)
    ).update(next_check_at=None)
    SlaClock.objects.filter(pk__in=ids, breach_recorded_at=None, due_at__isnull=False).update(
        next_check_at=F("due_at")
    )
