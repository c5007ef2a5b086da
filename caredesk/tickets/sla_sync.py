"""Keep a ticket's stored SLA clocks equal to what its history implies."""

from datetime import datetime
from zoneinfo import ZoneInfo

from caredesk.lib import clock
from caredesk.sla.clocks import ClockState, Entry, evaluate

from .models import MessageKind, SlaClock, Ticket, TicketEvent

_RESPONSE_KINDS = {MessageKind.PUBLIC_REPLY, MessageKind.PHONE_CALL}


def history(events: list[TicketEvent]) -> list[Entry]:
    """The facts the clock engine needs, read off the audit trail."""
    entries = []
    for event in events:
        if event.kind == "created":
            entries.append(Entry(event.at, "created"))
        elif event.kind == "status":
            entries.append(Entry(event.at, "status", event.data.get("to", "")))
        elif event.kind == "alert":
            entries.append(Entry(event.at, "alert"))
        elif event.kind == "message":
            kind = event.data.get("kind")
            if kind == MessageKind.CUSTOMER and not event.data.get("auto"):
                entries.append(Entry(event.at, "customer_message"))
            elif kind in _RESPONSE_KINDS and event.actor_user_id:
                entries.append(Entry(event.at, "response", kind))
    return entries


def _next_check(state: ClockState, row: SlaClock, now: datetime) -> datetime | None:
    if state.breached:
        return None if row.breach_recorded_at else (state.due_at or now)
    if state.stopped_at or state.paused or state.started_at is None:
        return None
    if state.warn_at and row.warned_at is None:
        return state.warn_at
    return state.due_at


def recompute(ticket: Ticket, now: datetime | None = None) -> list[SlaClock]:
    """Recompute every clock of ``ticket`` from its history and store them."""
    now = now or clock.now()
    targets = []
    if ticket.priority_id and ticket.sla_policy_id:
        policy = ticket.sla_policy
        targets = [
            (target, target.spec(policy))
            for target in ticket.priority.targets.select_related("calendar")
        ]
    entries = history(list(ticket.events.all()))
    existing = {row.kind: row for row in ticket.sla_clocks.all()}
    rows = []
    for target, spec in targets:
        state = evaluate(spec, entries, now)
        row = existing.pop(spec.kind.value, None) or SlaClock(ticket=ticket, kind=spec.kind.value)
        if row.warn_at != state.warn_at and state.warn_at and state.warn_at > now:
            row.warned_at = None  # the promise moved: warn again before the new limit
        if row.due_at != state.due_at and state.due_at and state.due_at > now:
            row.breach_recorded_at = None
        row.target = target
        row.started_at = state.started_at
        row.stopped_at = state.stopped_at
        row.paused = state.paused
        row.elapsed_seconds = int(state.elapsed.total_seconds())
        row.limit_seconds = int(state.limit.total_seconds())
        row.due_at = state.due_at
        row.aim_at = state.aim_at
        row.warn_at = state.warn_at
        row.breached = state.breached
        row.next_check_at = _next_check(state, row, now)
        row.save()
        rows.append(row)
    for stale in existing.values():
        stale.delete()
    running_due = [r.due_at for r in rows if r.running and r.due_at]
    next_due = min(running_due, default=None)
    if ticket.sla_next_due_at != next_due:
        ticket.sla_next_due_at = next_due
        Ticket.objects.filter(pk=ticket.pk).update(sla_next_due_at=next_due)
    return rows


def promised_first_response(ticket: Ticket) -> str | None:
    """What the client is told to expect, e.g. 'by Tue 24 Nov, 12:00', in the policy's zone."""
    row = ticket.sla_clocks.filter(kind="first_response").select_related("target__calendar").first()
    if row is None or row.due_at is None or not ticket.sla_policy_id:
        return None
    calendar = row.target.calendar if row.target and row.target.calendar_id else None
    zone = (calendar or ticket.sla_policy.calendar).spec.get("timezone", "UTC")
    return format_promise(row.due_at, zone)


def format_promise(moment: datetime, zone: str) -> str:
    """'by Tue 24 Nov, 12:00' in the calendar's zone."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"by {local:%a} {local.day} {local:%b}, {local:%H:%M}"
