"""Tell staff about SLA warnings and breaches, and carry out a target's breach action."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django_tasks import task

from caredesk.lib import clock
from caredesk.sla.models import BreachAction, Priority

from .models import SlaClock, Ticket, TicketEvent

logger = logging.getLogger(__name__)


@task()
def notify_sla_events(event_ids: list[int]) -> int:
    """Notify for a batch of SLA events; non-critical warnings wait for opening hours."""
    sent = 0
    now = clock.now()
    events = TicketEvent.objects.select_related(
        "ticket__priority", "ticket__sla_policy__calendar"
    ).filter(pk__in=event_ids)
    for event in events:
        ticket = event.ticket
        critical = ticket.priority_id and ticket.priority.is_critical
        if event.kind == "sla_warning" and not critical and ticket.sla_policy_id:
            calendar = ticket.sla_policy.calendar.calendar
            if not calendar.is_open(now):
                # A warning can wait for the working day; a critical ticket's cannot.
                notify_sla_event.using(run_after=calendar.next_open(now)).enqueue(event.pk)
                continue
        sent += _notify(event.pk)
    return sent


def recipients(ticket: Ticket) -> list[str]:
    people = [ticket.assignee]
    if ticket.organisation_id:
        people.append(ticket.organisation.account_manager)
    emails = {p.email for p in people if p is not None and p.is_active}
    return sorted(emails)


@task()
def notify_sla_event(event_id: int) -> int:
    """Email the assignee and the account manager; apply the breach action. Returns mails sent."""
    return _notify(event_id)


def _notify(event_id: int) -> int:
    event = TicketEvent.objects.select_related(
        "ticket__organisation__account_manager", "ticket__assignee", "ticket__priority"
    ).get(pk=event_id)
    ticket = event.ticket
    clock_row = SlaClock.objects.filter(ticket=ticket, kind=event.data.get("clock")).first()
    if event.kind == "sla_breach" and clock_row is not None and clock_row.target_id:
        _breach_action(ticket, clock_row)
        ticket = Ticket.objects.select_related("organisation__account_manager", "assignee").get(
            pk=ticket.pk
        )
    to = recipients(ticket)
    if not to:
        logger.warning("SLA %s on %s: nobody to notify", event.kind, ticket.reference)
        return 0
    context = {
        "ticket": ticket,
        "event": event,
        "clock": clock_row,
        "what": "breached" if event.kind == "sla_breach" else "about to be breached",
        "url": f"{settings.CAREDESK_BASE_URL}/tickets/{ticket.number}/",
    }
    subject = render_to_string("emails/sla_event_subject.txt", context).strip()
    text = render_to_string("emails/sla_event.txt", context)
    html = render_to_string("emails/sla_event.html", context)
    message = EmailMultiAlternatives(
        subject, text, to=to, headers={"Auto-Submitted": "auto-generated"}
    )
    message.attach_alternative(html, "text/html")
    return message.send()


def _breach_action(ticket: Ticket, clock_row: SlaClock) -> None:
    from .actions import do_assign, do_change_priority

    target = clock_row.target
    if target.breach_action == BreachAction.RAISE_PRIORITY and ticket.priority_id:
        higher = (
            Priority.objects.filter(policy=ticket.priority.policy_id, rank__lt=ticket.priority.rank)
            .order_by("-rank")
            .first()
        )
        if higher:
            do_change_priority(ticket, higher, acting_user=None, reason="SLA breach")
    elif target.breach_action == BreachAction.REASSIGN and target.reassign_to_id:
        do_assign(ticket, target.reassign_to, acting_user=None)
