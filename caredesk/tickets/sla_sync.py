"""Keep a ticket's stored SLA clocks equal to what its history implies."""

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from caredesk.lib import clock
from caredesk.sla import cache
from caredesk.sla.clocks import ClockState, Entry, evaluate
from caredesk.sla.clocks import Target as TargetSpec
from caredesk.sla.models import Target

from .models import MessageKind, SlaClock, Ticket, TicketEvent

_RESPONSE_KINDS = {MessageKind.PUBLIC_REPLY, MessageKind.PHONE_CALL}
# The only event kinds ``history`` reads.
_HISTORY_KINDS = ("created", "status", "alert", "message")


def history(events: Iterable[TicketEvent]) -> list[Entry]:
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


def _stored_events(ticket: Ticket):
    """The ticket's events as far as ``history`` reads them, as plain rows.

    A ticket collects events all its life; building a model for each one cost
    more than the rest of a recompute.
    """
    return ticket.events.filter(kind__in=_HISTORY_KINDS).values_list(
        "at", "kind", "data", "actor_user_id", named=True
    )


def _next_check(state: ClockState, row: SlaClock, now: datetime) -> datetime | None:
    if state.breached:
        return None if row.breach_recorded_at else (state.due_at or now)
    if state.stopped_at or state.paused or state.started_at is None:
        return None
    if state.warn_at and row.warned_at is None:
        return state.warn_at
    return state.due_at


_STATE_FIELDS = (
    "target_id",
    "started_at",
    "stopped_at",
    "paused",
    "elapsed_seconds",
    "limit_seconds",
    "due_at",
    "aim_at",
    "warn_at",
    "breached",
    "warned_at",
    "breach_recorded_at",
    "next_check_at",
)


def _targets(ticket: Ticket) -> tuple[tuple[Target, TargetSpec], ...]:
    """The targets of the ticket's priority, ready for the engine."""
    if not (ticket.priority_id and ticket.sla_policy_id):
        return ()
    if Ticket.sla_policy.is_cached(ticket):
        # The policy row was read with the ticket: its revision says whether the
        # process's copy of the set-up is current, so no query is needed.
        found = cache.setup(ticket.sla_policy).targets.get(ticket.priority_id)
        if found is not None:
            return found
    # One query for the targets with their policy and calendars (a priority
    # belongs to the ticket's policy; the actions check it).
    rows = Target.objects.filter(priority_id=ticket.priority_id).select_related(
        "calendar", "priority__policy__calendar"
    )
    return tuple((target, target.spec(target.priority.policy)) for target in rows)


def _apply(row: SlaClock, target: Target, state: ClockState, now: datetime) -> list[str]:
    """Write ``state`` into ``row``; returns the names of the fields that changed."""
    before = [getattr(row, name) for name in _STATE_FIELDS]
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
    return [
        name for name, old in zip(_STATE_FIELDS, before, strict=True) if getattr(row, name) != old
    ]


def first_clocks(ticket: Ticket, now: datetime, events: list[TicketEvent]) -> list[SlaClock]:
    """The clocks of a ticket being opened, from its first events, not yet stored.

    Sets ``ticket.sla_next_due_at`` so the ticket's INSERT carries it; the caller
    stores the rows (one ``bulk_create``) once the ticket has been written.
    """
    entries = history(events)
    rows = []
    for target, spec in _targets(ticket):
        row = SlaClock(ticket=ticket, kind=spec.kind.value)
        _apply(row, target, evaluate(spec, entries, now), now)
        rows.append(row)
    ticket.sla_clocks_now = rows
    ticket.sla_next_due_at = due_of(rows)
    return rows


def recompute(
    ticket: Ticket,
    now: datetime | None = None,
    *,
    events: list[TicketEvent] | None = None,
    existing: list[SlaClock] | None = None,
    store_due: bool = True,
) -> list[SlaClock]:
    """Recompute every clock of ``ticket`` from its history and store what changed.

    ``events`` and ``existing`` spare the queries when the caller holds them. With
    ``store_due=False`` the caller writes ``ticket.sla_next_due_at`` itself.
    """
    now = now or clock.now()
    targets = _targets(ticket)
    entries = history(_stored_events(ticket) if events is None else events)
    if existing is None:
        # By kind alone: the default order (by ticket first) joins the tickets.
        existing = list(ticket.sla_clocks.order_by("kind"))
    stored = {row.kind: row for row in existing}
    rows, new = [], []
    for target, spec in targets:
        state = evaluate(spec, entries, now)
        row = stored.pop(spec.kind.value, None)
        if row is None:
            row = SlaClock(ticket=ticket, kind=spec.kind.value)
            new.append(row)
        changed = _apply(row, target, state, now)
        if row.pk is not None and changed:
            # Only what moved: most messages change one clock, or none.
            row.save(update_fields=[name.removesuffix("_id") for name in changed])
        rows.append(row)
    if new:
        SlaClock.objects.bulk_create(new)
    for stale in stored.values():
        stale.delete()
    ticket.sla_clocks_now = rows
    next_due = due_of(rows)
    if store_due and ticket.sla_next_due_at != next_due:
        Ticket.objects.filter(pk=ticket.pk).update(sla_next_due_at=next_due)
    ticket.sla_next_due_at = next_due
    return rows


def due_of(rows: list[SlaClock]) -> datetime | None:
    """The nearest due time of the running clocks: what the queue and the sweep sort by."""
    return min((r.due_at for r in rows if r.running and r.due_at), default=None)


def promised_first_response(ticket: Ticket) -> str | None:
    """What the client is told to expect, e.g. 'by Tue 24 Nov, 12:00', in the policy's zone."""
    fresh = getattr(ticket, "sla_clocks_now", None)
    if fresh is not None:  # just recomputed in this transaction: no need to read them back
        row = next((r for r in fresh if r.kind == "first_response"), None)
    else:
        row = (
            ticket.sla_clocks.filter(kind="first_response")
            .select_related("target__calendar")
            .first()
        )
    if row is None or row.due_at is None or not ticket.sla_policy_id:
        return None
    calendar = row.target.calendar if row.target and row.target.calendar_id else None
    zone = (calendar or ticket.sla_policy.calendar).spec.get("timezone", "UTC")
    return format_promise(row.due_at, zone)


def format_promise(moment: datetime, zone: str) -> str:
    """'by Tue 24 Nov, 12:00' in the calendar's zone."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"by {local:%a} {local.day} {local:%b}, {local:%H:%M}"
