"""Every change to time and agreements: one transaction, checked input, an audit event
on the ticket, the ledger brought up to date and warnings recorded.

Views, the API and the admin call these; nothing else writes time entries.
Each action locks the client's row first, so two people logging time for the
same client never race on its allowance.
"""

from datetime import date, datetime
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction

from caredesk.clients.models import Organisation
from caredesk.lib import clock
from caredesk.plans.models import QueueTier, WorkCategory
from caredesk.tickets.models import Ticket, TicketEvent
from caredesk.tickets.signals import ticket_event

from . import ledger, periods, warnings
from .models import (
    Agreement,
    Frozen,
    TimeEntry,
    TimerRun,
    finalised_statement_covering,
)
from .rules import period_label
from .usage import compute

MAX_MINUTES = 24 * 60
MAX_NOTE = 1000
_UNSET = object()


def _require_staff(user, field: str | None = None) -> None:
    if user is None or not getattr(user, "is_agency_staff", False):
        message = "Only agency staff can do this."
        raise ValidationError({field: message} if field else message)


def _clean_minutes(minutes) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise ValidationError({"minutes": "Time is a whole number of minutes, e.g. 90."})
    if minutes <= 0:
        raise ValidationError({"minutes": "Log at least one minute."})
    if minutes > MAX_MINUTES:
        raise ValidationError({"minutes": "One entry holds at most 24 hours; split longer work."})
    return minutes


def _clean_date(work_date) -> date:
    if work_date is None:
        return periods.local_today()
    if isinstance(work_date, datetime) or not isinstance(work_date, date):
        raise ValidationError({"work_date": "The work date is a calendar date."})
    if work_date > periods.local_today():
        raise ValidationError({"work_date": "Time cannot be logged for a day still to come."})
    return work_date


def _clean_category(category) -> WorkCategory | None:
    if category is not None and not isinstance(category, WorkCategory):
        raise ValidationError({"category": "Choose a work category."})
    return category


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": f"Keep the note under {MAX_NOTE} characters."})
    return note


def check_entry(ticket: Ticket | None, minutes, work_date) -> None:
    """The checks of :func:`do_log_time` without writing: for forms that show errors back."""
    _clean_minutes(minutes)
    work_date = _clean_date(work_date)
    if ticket is None or ticket.organisation_id is None:
        raise ValidationError({"ticket": "Time is logged on a ticket filed under a client."})
    _refuse_closed(ticket.organisation_id, work_date)


def _lock(ticket: Ticket) -> Ticket:
    ticket = Ticket.objects.select_related("organisation").get(pk=ticket.pk)
    if ticket.organisation_id is None:
        raise ValidationError("File the ticket under a client before logging time on it.")
    # The client's row is the lock: allowance, ledger and warnings are per client.
    Organisation.objects.select_for_update().filter(pk=ticket.organisation_id).first()
    return ticket


def _refuse_closed(organisation_id: int, work_date: date) -> None:
    closed = finalised_statement_covering(organisation_id, work_date)
    if closed is not None:
        label = period_label(closed.period_start, closed.period_end)
        raise Frozen(
            {
                "work_date": f"{label} is on finalised statement {closed.reference}; "
                "time in it can no longer change."
            }
        )


def _refuse_frozen(entry: TimeEntry) -> None:
    if entry.statement_id is not None:
        raise Frozen("This time entry is on a finalised statement and can no longer change.")


def _event(ticket: Ticket, what: str, user, **data) -> TicketEvent:
    event = TicketEvent.objects.create(
        ticket=ticket, kind=what, at=clock.now(), actor_user=user, data=data
    )
    transaction.on_commit(
        partial(
            ticket_event.send,
            sender=Ticket,
            ticket_id=ticket.pk,
            event_id=event.pk,
            kind=what,
            event=event,
        )
    )
    return event


def _describe(entry: TimeEntry) -> dict:
    return {
        "entry": entry.pk,
        "minutes": entry.minutes,
        "work_date": entry.work_date.isoformat(),
        "category": entry.category.code if entry.category_id else None,
        "staff": entry.staff_id,
    }


def _after(ticket: Ticket, days: set[date], entry_ids: list[int]) -> None:
    """Bring the ledger of every window touched up to date; record warnings."""
    seen = set()
    for day in sorted(days):
        period = periods.period_containing(ticket.organisation_id, day)
        window = (period.window_start, period.window_end)
        if window in seen:
            continue
        seen.add(window)
        usage = compute([period])[0]
        ledger.reconcile([usage])
        warnings.check(usage, ticket, entry_ids)


@transaction.atomic
def do_log_time(
    ticket: Ticket,
    minutes: int,
    *,
    acting_user,
    work_date: date | None = None,
    category: WorkCategory | None = None,
    note: str = "",
    staff=None,
) -> TimeEntry:
    """Log minutes of work on a ticket (by ``staff``, the acting user unless given)."""
    _require_staff(acting_user)
    staff = staff or acting_user
    _require_staff(staff, "staff")
    minutes = _clean_minutes(minutes)
    work_date = _clean_date(work_date)
    category = _clean_category(category)
    note = _clean_note(note)
    ticket = _lock(ticket)
    _refuse_closed(ticket.organisation_id, work_date)
    entry = TimeEntry.objects.create(
        ticket=ticket,
        staff=staff,
        work_date=work_date,
        minutes=minutes,
        category=category if category is not None else ticket.category,
        note=note,
    )
    _event(ticket, "time_logged", acting_user, **_describe(entry))
    _after(ticket, {work_date}, [entry.pk])
    return entry


@transaction.atomic
def do_edit_time(
    entry: TimeEntry,
    *,
    acting_user,
    minutes: int | None = None,
    work_date: date | None = None,
    category=_UNSET,
    note: str | None = None,
) -> TimeEntry:
    """Correct an entry while its period is open; the event keeps what it was."""
    _require_staff(acting_user)
    entry = TimeEntry.objects.select_related("category").get(pk=entry.pk)
    ticket = _lock(entry.ticket)
    _refuse_frozen(entry)
    _refuse_closed(ticket.organisation_id, entry.work_date)
    before = _describe(entry)
    old_date = entry.work_date
    if minutes is not None:
        entry.minutes = _clean_minutes(minutes)
    if work_date is not None:
        entry.work_date = _clean_date(work_date)
        _refuse_closed(ticket.organisation_id, entry.work_date)
    if category is not _UNSET:
        entry.category = _clean_category(category)
    if note is not None:
        entry.note = _clean_note(note)
    entry.save()
    after = _describe(entry)
    changes = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if changes:
        _event(ticket, "time_edited", acting_user, entry=entry.pk, changes=changes)
        _after(ticket, {old_date, entry.work_date}, [entry.pk])
    return entry


@transaction.atomic
def do_delete_time(entry: TimeEntry, *, acting_user, reason: str = "") -> None:
    """Remove an entry logged in error while its period is open."""
    _require_staff(acting_user)
    entry = TimeEntry.objects.select_related("category").get(pk=entry.pk)
    ticket = _lock(entry.ticket)
    _refuse_frozen(entry)
    _refuse_closed(ticket.organisation_id, entry.work_date)
    data = _describe(entry)
    entry.delete()
    _event(ticket, "time_deleted", acting_user, reason=_clean_note(reason), **data)
    _after(ticket, {entry.work_date}, [])


@transaction.atomic
def do_start_timer(
    ticket: Ticket, *, acting_user, category: WorkCategory | None = None, note: str = ""
) -> TimerRun:
    """Start timing work on a ticket; a timer already running for this person is stopped
    and logged first (one person times one thing at a time)."""
    _require_staff(acting_user)
    category = _clean_category(category)
    note = _clean_note(note)
    ticket = _lock(ticket)
    running = TimerRun.objects.select_for_update().filter(staff=acting_user).first()
    if running is not None:
        _stop(running, acting_user)
    return TimerRun.objects.create(
        staff=acting_user, ticket=ticket, category=category, note=note, started_at=clock.now()
    )


@transaction.atomic
def do_stop_timer(*, acting_user) -> TimeEntry | None:
    """Stop this person's timer and log its time to the nearest minute; None (nothing
    logged) when it ran under half a minute."""
    _require_staff(acting_user)
    running = TimerRun.objects.select_for_update().filter(staff=acting_user).first()
    if running is None:
        raise ValidationError("No timer is running.")
    return _stop(running, acting_user)


def _stop(running: TimerRun, acting_user) -> TimeEntry | None:
    seconds = (clock.now() - running.started_at).total_seconds()
    running.delete()
    whole = int(seconds // 60) + (1 if seconds % 60 >= 30 else 0)
    if whole < 1:
        return None  # a start and stop by mistake is not work
    return do_log_time(
        running.ticket,
        min(whole, MAX_MINUTES),
        acting_user=acting_user,
        work_date=periods.local_date(running.started_at),
        category=running.category,
        note=running.note,
    )


@transaction.atomic
def do_pool_periods(
    organisation: Organisation, first_period_start: date, *, acting_user, note: str = ""
) -> Agreement:
    """Pool a billing period with the next one into a single allowance, as agreed."""
    _require_staff(acting_user)
    note = _clean_note(note)[:500]
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    first, second = check_pool(organisation, first_period_start)
    agreement = Agreement.objects.create(
        organisation=organisation,
        first_period_start=first.start,
        second_period_start=second.start,
        second_period_end=second.end,
        note=note,
        agreed_by=acting_user,
    )
    _rewindow(organisation.pk, first.start, second.end, f"Pooled by agreement {agreement.pk}")
    return agreement


def check_pool(
    organisation: Organisation, first_period_start: date
) -> tuple[periods.Period, periods.Period]:
    """The two periods a pooling from ``first_period_start`` joins, or why it cannot."""
    first = periods.period_containing(organisation.pk, first_period_start)
    if first.start != first_period_start:
        raise ValidationError(
            {"first_period_start": f"A period starts on {first.start:%d %B %Y}, not on this day."}
        )
    second = periods.period_containing(organisation.pk, first.end)
    for period in (first, second):
        _check_poolable(organisation, period)
    return first, second


def _check_poolable(organisation: Organisation, period: periods.Period) -> None:
    label = period.label
    sub = period.subscription
    if sub is None or sub.plan.queue_tier == QueueTier.ON_DEMAND:
        raise ValidationError(f"{organisation} has no plan with hours in {label}.")
    if not sub.plan.included_minutes:
        raise ValidationError(f"{sub.plan} counts no hours to pool in {label}.")
    if period.is_pooled:
        raise ValidationError(f"{label} is already pooled with another period.")
    if finalised_statement_covering(organisation.pk, period.start) is not None:
        raise Frozen(f"{label} is on a finalised statement and cannot be pooled.")


@transaction.atomic
def do_cancel_agreement(agreement: Agreement, *, acting_user) -> None:
    """Undo a pooling while neither period is finalised."""
    _require_staff(acting_user)
    organisation_id = agreement.organisation_id
    Organisation.objects.select_for_update().filter(pk=organisation_id).first()
    for start in (agreement.first_period_start, agreement.second_period_start):
        if finalised_statement_covering(organisation_id, start) is not None:
            raise Frozen("A pooled period is on a finalised statement; the pool stays.")
    start, end = agreement.first_period_start, agreement.second_period_end
    agreement.delete()
    _rewindow(organisation_id, start, end, "Pooling cancelled")


def _rewindow(organisation_id: int, start: date, end: date, note: str) -> None:
    """After pooling changes: reverse the old windows' rows and write the new ones."""
    current = [
        periods.period_containing(organisation_id, start),
        periods.period_containing(organisation_id, periods.previous_month(end)),
    ]
    usages = compute(current)
    keep = [(organisation_id, u.period.window_start, u.period.window_end) for u in usages]
    ledger.retire(organisation_id, start, end, keep, note)
    ledger.reconcile(usages)
