"""Every change to a ticket: one transaction, an audit event, clocks recomputed,
listeners told after commit.

Views, the API, the mail pipeline and monitoring call these; nothing else saves
tickets or messages.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import partial, wraps
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet

from caredesk.clients.models import Contact, Organisation, Site
from caredesk.lib import clock
from caredesk.plans.models import (
    QueueTier,
    WorkCategory,
    active_subscription,
    category_rule,
    policy_for,
)
from caredesk.sla import cache
from caredesk.sla.models import Priority, choose_priority

from . import sla_sync
from .models import Channel, Message, MessageKind, Status, Ticket, TicketEvent
from .signals import ticket_event, ticket_event_in_transaction

TICKET_NUMBER_OFFSET = 1000

_P = ParamSpec("_P")
_R = TypeVar("_R")
# The unit of work ``all_or_nothing()`` is running, if any.
_unit: ContextVar[object | None] = ContextVar("unit", default=None)


@contextmanager
def all_or_nothing() -> Iterator[None]:
    """One transaction around several actions and the caller's own writes.

    An error anywhere rolls the whole unit back, so the actions inside it skip
    their savepoints (two round trips each on PostgreSQL). Inside it, an error
    raised by an action must not be caught and the transaction used on.
    """
    with transaction.atomic():
        token = _unit.set(object())
        try:
            yield
        finally:
            _unit.reset(token)


def _atomic(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """``transaction.atomic``, without a savepoint inside ``all_or_nothing()``."""

    @wraps(func)
    def inner(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with transaction.atomic(savepoint=_unit.get() is None):
            return func(*args, **kwargs)

    return inner


def locked_ticket(tickets: QuerySet[Ticket]) -> Ticket | None:
    """The first of ``tickets``, read with its policy under a row lock held to the end.

    Inside ``all_or_nothing()``, actions given this ticket do not read it again
    (one query less each), so within the unit change it only through actions.
    """
    ticket = tickets.select_related("sla_policy").select_for_update(of=("self",)).first()
    if ticket is not None:
        ticket._locked_in = _unit.get()
    return ticket


def _new_event(
    ticket: Ticket, what: str, *, at=None, user=None, contact=None, **data
) -> TicketEvent:
    return TicketEvent(
        ticket=ticket,
        kind=what,
        at=at or clock.now(),
        actor_user=user,
        actor_contact=contact,
        data=data,
    )


def _insert_rows(rows: list) -> None:
    """Write new rows of one model with one INSERT … RETURNING id (SQLite 3.35+, PostgreSQL).

    For the two or three rows a new ticket starts with, ``bulk_create`` costs more
    than the statement: on PostgreSQL it sends every column as an array (~0.25 ms
    for two clocks). These rows are plain: their foreign keys are set and no field
    fills itself on save.
    """
    if len(rows) == 1 or not connection.features.can_return_rows_from_bulk_insert:
        for obj in rows:
            obj.save(force_insert=True)
        return
    model = type(rows[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    row = f"({', '.join(['%s'] * len(fields))})"
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"  # noqa: S608 - names are the model's; values are bound
        f" VALUES {', '.join([row] * len(rows))} RETURNING {quote(model._meta.pk.column)}"
    )
    values = [
        f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in rows for f in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        ids = [found[0] for found in cursor.fetchall()]
    for obj, pk in zip(rows, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def _record(events: list[TicketEvent], *, announce: bool = True) -> None:
    """Write events (one INSERT), tell listeners inside the transaction and after commit."""
    _insert_rows(events)
    for event in events:
        if announce:
            _announce(event)
        transaction.on_commit(
            partial(
                ticket_event.send,
                sender=Ticket,
                ticket_id=event.ticket_id,
                event_id=event.pk,
                kind=event.kind,
                event=event,
            )
        )


def _event(
    ticket: Ticket, what: str, *, at=None, user=None, contact=None, announce=True, **data
) -> TicketEvent:
    event = _new_event(ticket, what, at=at, user=user, contact=contact, **data)
    _record([event], announce=announce)
    return event


def _announce(event: TicketEvent) -> None:
    """Tell listeners inside the transaction (the outbox), with the same kwargs."""
    ticket_event_in_transaction.send(
        sender=Ticket, ticket_id=event.ticket_id, event_id=event.pk, kind=event.kind, event=event
    )


def _locked(ticket: Ticket) -> Ticket:
    """The ticket under a row lock, with its policy: the clocks need its revision."""
    unit = _unit.get()
    if unit is not None and getattr(ticket, "_locked_in", None) is unit:
        return ticket  # read so by locked_ticket() in this unit
    return (
        Ticket.objects.select_related("sla_policy")
        .select_for_update(of=("self",))
        .get(pk=ticket.pk)
    )


def _touch(ticket: Ticket, *fields: str) -> None:
    ticket.updated_at = clock.now()
    ticket.save(update_fields=["updated_at", *fields])


@_atomic
def do_create_ticket(
    *,
    subject: str,
    body: str,
    channel: str,
    organisation: Organisation | None = None,
    requester: Contact | None = None,
    requester_email: str = "",
    requester_name: str = "",
    site: Site | None = None,
    category: WorkCategory | None = None,
    priority: Priority | None = None,
    body_html: str = "",
    email_message_id: str = "",
    alerted_at: datetime | None = None,
    acting_user=None,
    notify_requester: bool = True,
) -> Ticket:
    """Open a ticket with its first message; decide policy, priority, tier and scope."""
    subject = " ".join(subject.split())[:300] or "(no subject)"
    if channel not in Channel.values:
        raise ValidationError({"channel": f"unknown channel {channel!r}"})
    if requester is not None:
        organisation = organisation or requester.organisation
        if requester.organisation_id != organisation.pk:
            raise ValidationError({"requester": "The requester belongs to another organisation."})
        requester_email = requester_email or requester.email
        requester_name = requester_name or requester.name
    if site is not None and (organisation is None or site.organisation_id != organisation.pk):
        raise ValidationError({"site": "The site belongs to another organisation."})
    now = clock.now()
    subscription = active_subscription(organisation.pk, now.date()) if organisation else None
    plan = subscription.plan if subscription else None
    policy = policy_for(subscription) if organisation else None
    if priority is None and policy is not None:
        # The policy row was just read: its revision says whether the process's
        # copy of the priorities is current.
        priority = choose_priority(
            cache.setup(policy).priorities,
            category.code if category else None,
            from_monitor=channel == Channel.MONITOR,
        )
    if priority is not None and policy is not None and priority.policy_id != policy.pk:
        raise ValidationError({"priority": "That priority belongs to another SLA policy."})
    billable, reason = _scope(organisation.pk if organisation else None, plan, category)
    ticket = Ticket(
        subject=subject,
        organisation=organisation,
        requester=requester,
        requester_email=requester_email.lower(),
        requester_name=requester_name,
        site=site,
        channel=channel,
        category=category,
        sla_policy=policy,
        priority=priority,
        queue_tier=plan.queue_tier if plan else QueueTier.ON_DEMAND,
        billable=billable,
        billable_reason=reason,
        alerted_at=alerted_at,
        created_at=now,
        updated_at=now,
    )
    ticket.pk = _next_ticket_id()
    created = _new_event(
        ticket,
        "created",
        at=now,
        user=acting_user,
        contact=requester,
        channel=channel,
        notify=notify_requester,
    )
    events = [created]
    if alerted_at is not None:
        events.append(_new_event(ticket, "alert", at=alerted_at))
    said = None
    if body.strip() or body_html:
        # The client speaking, even when staff type a caller's words: no actor.
        said = _new_event(
            ticket,
            "message",
            at=now,
            contact=requester,
            kind=MessageKind.CUSTOMER,
            message=None,  # its id once written, below
            auto=False,
        )
        events.append(said)
    # The clocks follow from these first events alone: worked out before the
    # ticket is written, its INSERT carries the due time the queue sorts by.
    clocks = sla_sync.first_clocks(ticket, now, events)
    offset = getattr(settings, "CAREDESK_TICKET_NUMBER_OFFSET", TICKET_NUMBER_OFFSET)
    if ticket.pk is not None:
        ticket.number = offset + ticket.pk
    ticket.save(force_insert=True)
    if ticket.number is None:
        # No id before the INSERT (SQLite): the number follows at once; the
        # ticket is invisible to others until this transaction commits.
        ticket.number = offset + ticket.pk
        Ticket.objects.filter(pk=ticket.pk).update(number=ticket.number)
    for row in (*events, *clocks):
        row.ticket = ticket  # made before the ticket had its id
    if said is not None:
        ticket.first_message = _write_message(
            ticket,
            MessageKind.CUSTOMER,
            body,
            body_html=body_html,
            contact=requester,
            user=acting_user if channel == Channel.PHONE else None,
            name=requester_name,
            email=requester_email,
            email_message_id=email_message_id,
            at=now,
        )
        said.data["message"] = ticket.first_message.pk
        ticket.first_message.event = said
    # The first events in one INSERT. "created" is announced once the ticket is
    # whole (clocks, number): listeners such as the confirmation mail need them.
    _record(events, announce=False)
    for event in events[1:]:
        _announce(event)
    if clocks:
        _insert_rows(clocks)
    _announce(created)
    return ticket


def _next_ticket_id() -> int | None:
    """PostgreSQL's next ticket id, so the number is written with the row itself.

    SQLite has no sequence to ask; there the id is known once the row is written.
    """
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [Ticket._meta.db_table])
        return cursor.fetchone()[0]


def _scope(organisation_id: int | None, plan, category) -> tuple[bool, str]:
    """Billable or not, and why: decided by the plan, not by anyone's hand.

    An unassigned ticket (sender not yet matched to a client) has no plan to
    judge by; scope is decided once it is filed under one.
    """
    if organisation_id is None:
        return False, ""
    return category_rule(plan, category)


def _write_message(
    ticket: Ticket,
    kind: str,
    body: str,
    *,
    body_html: str = "",
    user=None,
    contact: Contact | None = None,
    name: str = "",
    email: str = "",
    email_message_id: str = "",
    is_auto: bool = False,
    at: datetime | None = None,
) -> Message:
    return Message.objects.create(
        ticket=ticket,
        kind=kind,
        body=body,
        body_html=body_html,
        author_user=user,
        author_contact=contact,
        author_name=name or (contact.name if contact else ""),
        author_email=(email or (contact.email if contact else "")).lower(),
        email_message_id=email_message_id,
        is_auto=is_auto,
        created_at=at or clock.now(),
    )


def _add_message(
    ticket: Ticket,
    kind: str,
    body: str,
    *,
    body_html: str = "",
    user=None,
    contact: Contact | None = None,
    name: str = "",
    email: str = "",
    email_message_id: str = "",
    is_auto: bool = False,
) -> Message:
    message = _write_message(
        ticket,
        kind,
        body,
        body_html=body_html,
        user=user,
        contact=contact,
        name=name,
        email=email,
        email_message_id=email_message_id,
        is_auto=is_auto,
    )
    message.event = _event(
        ticket,
        "message",
        at=message.created_at,
        user=user,
        contact=contact,
        kind=kind,
        message=message.pk,
        auto=is_auto,
    )
    return message


@_atomic
def do_add_customer_message(
    ticket: Ticket,
    body: str,
    *,
    contact: Contact | None = None,
    name: str = "",
    email: str = "",
    body_html: str = "",
    email_message_id: str = "",
    is_auto: bool = False,
) -> Message:
    """A client writes. It reopens a solved or pending ticket (not an auto-reply)."""
    ticket = _locked(ticket)
    message = _add_message(
        ticket,
        MessageKind.CUSTOMER,
        body,
        body_html=body_html,
        contact=contact,
        name=name,
        email=email,
        email_message_id=email_message_id,
        is_auto=is_auto,
    )
    if not is_auto and ticket.status in (Status.SOLVED, Status.PENDING):
        _set_status(ticket, Status.OPEN, contact=contact, reason="client replied")
    sla_sync.recompute(ticket, store_due=False)
    _touch(ticket, "sla_next_due_at")
    return message


@_atomic
def do_reply(
    ticket: Ticket, body: str, *, acting_user, body_html: str = "", status: str | None = None
) -> Message:
    """A public reply by staff, emailed to the client; optionally set a status with it."""
    _require_staff(acting_user)
    ticket = _locked(ticket)
    message = _add_message(
        ticket, MessageKind.PUBLIC_REPLY, body, body_html=body_html, user=acting_user
    )
    fields = []
    if ticket.first_response_at is None:
        ticket.first_response_at = message.created_at
        fields.append("first_response_at")
    new_status = status or (Status.OPEN if ticket.status == Status.NEW else None)
    if new_status and new_status != ticket.status:
        _set_status(ticket, new_status, user=acting_user)
    sla_sync.recompute(ticket, store_due=False)
    _touch(ticket, *fields, "sla_next_due_at")
    return message


@_atomic
def do_log_call(ticket: Ticket, body: str, *, acting_user) -> Message:
    """Staff record a phone call with the client; policies may count it as a response."""
    _require_staff(acting_user)
    ticket = _locked(ticket)
    message = _add_message(ticket, MessageKind.PHONE_CALL, body, user=acting_user)
    fields = []
    if ticket.first_response_at is None:
        ticket.first_response_at = message.created_at
        fields.append("first_response_at")
    if ticket.status == Status.NEW:
        _set_status(ticket, Status.OPEN, user=acting_user)
    sla_sync.recompute(ticket, store_due=False)
    _touch(ticket, *fields, "sla_next_due_at")
    return message


@_atomic
def do_add_note(ticket: Ticket, body: str, *, acting_user) -> Message:
    """An internal note: never shown or sent to the client."""
    _require_staff(acting_user)
    message = _add_message(ticket, MessageKind.INTERNAL_NOTE, body, user=acting_user)
    _touch(ticket)
    return message


def _set_status(ticket: Ticket, status: str, *, user=None, contact=None, reason: str = "") -> None:
    old = ticket.status
    ticket.status = status
    now = clock.now()
    fields = ["status"]
    if status == Status.SOLVED:
        ticket.solved_at = now
        fields.append("solved_at")
    elif status == Status.CLOSED:
        ticket.closed_at = now
        fields.append("closed_at")
    ticket.save(update_fields=fields)
    data = {"from": old, "to": status}
    if reason:
        data["reason"] = reason
    _event(ticket, "status", at=now, user=user, contact=contact, **data)


@_atomic
def do_change_status(
    ticket: Ticket, status: str, *, acting_user=None, acting_contact=None
) -> Ticket:
    if status not in Status.values:
        raise ValidationError({"status": f"unknown status {status!r}"})
    if acting_user is None and acting_contact is None:
        raise ValidationError("a status change needs someone who makes it")
    if acting_contact is not None and status not in (Status.SOLVED, Status.CLOSED):
        raise ValidationError({"status": "Clients can only close their tickets."})
    ticket = _locked(ticket)
    if acting_contact is not None and acting_contact.organisation_id != ticket.organisation_id:
        raise ValidationError("Only the client's own contacts can close its tickets.")
    if ticket.status == Status.CLOSED and acting_contact is not None:
        return ticket
    if status != ticket.status:
        _set_status(ticket, status, user=acting_user, contact=acting_contact)
        sla_sync.recompute(ticket, store_due=False)
        _touch(ticket, "sla_next_due_at")
    return ticket


@_atomic
def do_change_priority(
    ticket: Ticket, priority: Priority, *, acting_user, reason: str = ""
) -> Ticket:
    """Re-prioritise; every clock is recomputed from the ticket's history."""
    ticket = _locked(ticket)
    if ticket.sla_policy_id and priority.policy_id != ticket.sla_policy_id:
        raise ValidationError({"priority": "That priority belongs to another SLA policy."})
    if priority.pk != ticket.priority_id:
        old = ticket.priority.code if ticket.priority_id else None
        ticket.priority = priority
        ticket.sla_policy_id = priority.policy_id
        _touch(ticket, "priority", "sla_policy")
        _event(
            ticket,
            "priority",
            user=acting_user,
            **{"from": old, "to": priority.code, "reason": reason},
        )
        sla_sync.recompute(ticket)
    return ticket


@_atomic
def do_assign(ticket: Ticket, assignee, *, acting_user) -> Ticket:
    if assignee is not None and not assignee.is_agency_staff:
        raise ValidationError({"assignee": "Tickets are assigned to agency staff only."})
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    new_id = assignee.pk if assignee else None
    if new_id != ticket.assignee_id:
        old = ticket.assignee_id
        ticket.assignee = assignee
        _touch(ticket, "assignee")
        _event(ticket, "assignee", user=acting_user, **{"from": old, "to": new_id})
    return ticket


@_atomic
def do_set_category(ticket: Ticket, category: WorkCategory | None, *, acting_user) -> Ticket:
    """Change the kind of work; scope (billable or not) follows from the plan."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if (category.pk if category else None) == ticket.category_id:
        return ticket
    subscription = (
        active_subscription(ticket.organisation_id, clock.now().date())
        if ticket.organisation_id
        else None
    )
    plan = subscription.plan if subscription else None
    billable, reason = _scope(ticket.organisation_id, plan, category)
    old = ticket.category.code if ticket.category_id else None
    ticket.category = category
    ticket.billable, ticket.billable_reason = billable, reason
    _touch(ticket, "category", "billable", "billable_reason")
    _event(
        ticket,
        "category",
        user=acting_user,
        **{"from": old, "to": category.code if category else None, "billable": billable},
    )
    return ticket


@_atomic
def do_request_estimate(ticket: Ticket, minutes: int, *, acting_user) -> Ticket:
    """Ask the client to approve an estimate before billable work starts."""
    _require_staff(acting_user)
    if minutes <= 0:
        raise ValidationError({"estimate_minutes": "An estimate is a positive number of minutes."})
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    ticket.estimate_minutes = minutes
    ticket.estimate_approved_at = None
    _touch(ticket, "estimate_minutes", "estimate_approved_at")
    _event(ticket, "estimate_requested", user=acting_user, minutes=minutes)
    return ticket


@_atomic
def do_approve_estimate(ticket: Ticket, *, acting_contact: Contact) -> Ticket:
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.estimate_minutes is None:
        raise ValidationError("There is no estimate to approve.")
    if acting_contact.organisation_id != ticket.organisation_id:
        raise ValidationError("Only the client's own contacts can approve.")
    ticket.estimate_approved_at = clock.now()
    _touch(ticket, "estimate_approved_at")
    _event(ticket, "estimate_approved", contact=acting_contact, minutes=ticket.estimate_minutes)
    return ticket


@_atomic
def do_record_bounce(ticket: Ticket, *, recipients: list[str], reason: str) -> TicketEvent:
    """A message we sent on this ticket bounced: staff see it in the ticket's history."""
    return _event(ticket, "bounce", recipients=recipients, reason=reason[:500])


@_atomic
def do_record_refused_files(
    ticket: Ticket, message: Message, files: list[tuple[str, str]]
) -> TicketEvent:
    """Files that came with a message but were not kept, and why: staff see it on the ticket."""
    return _event(
        ticket,
        "files_refused",
        message=message.pk,
        files=[{"filename": name, "reason": reason} for name, reason in files],
    )


def _require_staff(user) -> None:
    if user is None or not user.is_agency_staff:
        raise ValidationError("Only agency staff can do this.")
