"""Every change to a ticket: one transaction, an audit event, clocks recomputed,
listeners told after commit.

Views, the API, the mail pipeline and monitoring call these; nothing else saves
tickets or messages.
"""

from datetime import datetime
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from caredesk.clients.models import Contact, Organisation, Site
from caredesk.lib import clock
from caredesk.plans.models import (
    QueueTier,
    WorkCategory,
    active_subscription,
    category_rule,
    policy_for,
)
from caredesk.sla.models import Priority

from . import sla_sync
from .models import Channel, Message, MessageKind, Status, Ticket, TicketEvent
from .signals import ticket_event, ticket_event_in_transaction

TICKET_NUMBER_OFFSET = 1000


def _event(
    ticket: Ticket, what: str, *, at=None, user=None, contact=None, announce=True, **data
) -> TicketEvent:
    event = TicketEvent.objects.create(
        ticket=ticket,
        kind=what,
        at=at or clock.now(),
        actor_user=user,
        actor_contact=contact,
        data=data,
    )
    if announce:
        _announce(event)
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


def _announce(event: TicketEvent) -> None:
    """Tell listeners inside the transaction (the outbox), with the same kwargs."""
    ticket_event_in_transaction.send(
        sender=Ticket, ticket_id=event.ticket_id, event_id=event.pk, kind=event.kind, event=event
    )


def _touch(ticket: Ticket, *fields: str) -> None:
    ticket.updated_at = clock.now()
    ticket.save(update_fields=["updated_at", *fields])


@transaction.atomic
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
        priority = policy.priority_for(
            category.code if category else None, from_monitor=channel == Channel.MONITOR
        )
    if priority is not None and policy is not None and priority.policy_id != policy.pk:
        raise ValidationError({"priority": "That priority belongs to another SLA policy."})
    billable, reason = _scope(organisation.pk if organisation else None, plan, category)
    ticket = Ticket.objects.create(
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
    offset = getattr(settings, "CAREDESK_TICKET_NUMBER_OFFSET", TICKET_NUMBER_OFFSET)
    # Stored with the due time below, in one update: the ticket is invisible to
    # others until this transaction commits.
    ticket.number = offset + ticket.pk
    # Announced once the ticket is whole (first message, clocks): listeners such
    # as the confirmation mail need them.
    created = _event(
        ticket,
        "created",
        at=now,
        user=acting_user,
        contact=requester,
        channel=channel,
        notify=notify_requester,
        announce=False,
    )
    events = [created]
    if alerted_at is not None:
        events.append(_event(ticket, "alert", at=alerted_at))
    if body.strip() or body_html:
        ticket.first_message = _add_message(
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
            counts_as_client=True,
        )
        events.append(ticket.first_message.event)
    sla_sync.recompute(ticket, now, events=events, existing=[], store_due=False)
    Ticket.objects.filter(pk=ticket.pk).update(
        number=ticket.number, sla_next_due_at=ticket.sla_next_due_at
    )
    _announce(created)
    return ticket


def _scope(organisation_id: int | None, plan, category) -> tuple[bool, str]:
    """Billable or not, and why: decided by the plan, not by anyone's hand.

    An unassigned ticket (sender not yet matched to a client) has no plan to
    judge by; scope is decided once it is filed under one.
    """
    if organisation_id is None:
        return False, ""
    return category_rule(plan, category)


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
    at: datetime | None = None,
    counts_as_client: bool = False,
) -> Message:
    message = Message.objects.create(
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
    # Staff typing in a phone caller's words is the client speaking, not a response.
    actor = None if counts_as_client else user
    message.event = _event(
        ticket,
        "message",
        at=message.created_at,
        user=actor,
        contact=contact,
        kind=kind,
        message=message.pk,
        auto=is_auto,
    )
    return message


@transaction.atomic
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
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
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


@transaction.atomic
def do_reply(
    ticket: Ticket, body: str, *, acting_user, body_html: str = "", status: str | None = None
) -> Message:
    """A public reply by staff, emailed to the client; optionally set a status with it."""
    _require_staff(acting_user)
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
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


@transaction.atomic
def do_log_call(ticket: Ticket, body: str, *, acting_user) -> Message:
    """Staff record a phone call with the client; policies may count it as a response."""
    _require_staff(acting_user)
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
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


@transaction.atomic
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


@transaction.atomic
def do_change_status(
    ticket: Ticket, status: str, *, acting_user=None, acting_contact=None
) -> Ticket:
    if status not in Status.values:
        raise ValidationError({"status": f"unknown status {status!r}"})
    if acting_user is None and acting_contact is None:
        raise ValidationError("a status change needs someone who makes it")
    if acting_contact is not None and status not in (Status.SOLVED, Status.CLOSED):
        raise ValidationError({"status": "Clients can only close their tickets."})
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if acting_contact is not None and acting_contact.organisation_id != ticket.organisation_id:
        raise ValidationError("Only the client's own contacts can close its tickets.")
    if ticket.status == Status.CLOSED and acting_contact is not None:
        return ticket
    if status != ticket.status:
        _set_status(ticket, status, user=acting_user, contact=acting_contact)
        sla_sync.recompute(ticket, store_due=False)
        _touch(ticket, "sla_next_due_at")
    return ticket


@transaction.atomic
def do_change_priority(
    ticket: Ticket, priority: Priority, *, acting_user, reason: str = ""
) -> Ticket:
    """Re-prioritise; every clock is recomputed from the ticket's history."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
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


@transaction.atomic
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


@transaction.atomic
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


@transaction.atomic
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


@transaction.atomic
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


@transaction.atomic
def do_record_bounce(ticket: Ticket, *, recipients: list[str], reason: str) -> TicketEvent:
    """A message we sent on this ticket bounced: staff see it in the ticket's history."""
    return _event(ticket, "bounce", recipients=recipients, reason=reason[:500])


@transaction.atomic
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
