"""Mail caredesk sends: queued in the outbox on commit, sent by the worker, retried.

Every message carries the headers that bring the client's answer back to its
ticket: a Message-ID we store, In-Reply-To and References to the thread, and a
Reply-To with the ticket's token. Automatic mail says so (Auto-Submitted), so
well-behaved robots do not answer it.
"""

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.dispatch import receiver
from django.template.loader import render_to_string
from django_tasks import task

from caredesk.lib import clock
from caredesk.plans.models import active_subscription
from caredesk.tickets.models import Message, MessageKind, Ticket, TicketEvent
from caredesk.tickets.signals import ticket_event_in_transaction
from caredesk.tickets.sla_sync import promised_first_response

from .models import OutboundEmail, OutboundState, SendAttempt, Undeliverable

logger = logging.getLogger(__name__)
BACKOFF = [timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360)]
STALE_CLAIM = timedelta(minutes=10)


def support_domain() -> str:
    return settings.CAREDESK_SUPPORT_ADDRESS.partition("@")[2]


def reply_address(ticket: Ticket) -> str:
    local, _, domain = settings.CAREDESK_SUPPORT_ADDRESS.partition("@")
    return f"{local}+{ticket.reply_token}@{domain}"


def new_message_id(kind: str, ticket: Ticket | None) -> str:
    number = ticket.number if ticket else "none"
    return f"<{kind}.{number}.{secrets.token_hex(8)}@{support_domain()}>"


def thread_ids(ticket: Ticket) -> list[str]:
    """Every Message-ID of the ticket's conversation, oldest first, in and out."""
    inbound = list(
        Message.objects.filter(ticket=ticket)
        .exclude(email_message_id="")
        .values_list("created_at", "email_message_id")
    )
    outbound = list(
        OutboundEmail.objects.filter(ticket=ticket).values_list("created_at", "message_id")
    )
    return [mid for _, mid in sorted(inbound + outbound)]


# Addresses whose bounces the caller read earlier in this transaction (True:
# undeliverable); the mail pipeline reads the sender's with its first query.
_known: ContextVar[dict[str, bool] | None] = ContextVar("known_undeliverable", default=None)


@contextmanager
def known_undeliverable(known: dict[str, bool]) -> Iterator[None]:
    """Within the block, ``queue`` takes these addresses' bounce state as read."""
    token = _known.set(known)
    try:
        yield
    finally:
        _known.reset(token)


def _undeliverable(addresses: list[str]) -> set[str]:
    known = _known.get() or {}
    blocked = {a for a in addresses if known.get(a)}
    unknown = [a for a in addresses if a not in known]
    if unknown:
        blocked.update(
            Undeliverable.objects.filter(email__in=unknown).values_list("email", flat=True)
        )
    return blocked


# No savepoint: the outbox row lives and dies with the change it tells of.
@transaction.atomic(savepoint=False)
def queue(
    *,
    kind: str,
    to: list[str],
    subject: str,
    template: str,
    context: dict,
    ticket: Ticket | None = None,
    cc: list[str] | None = None,
    automatic: bool = True,
    in_reply_to: str | None = None,
    thread: list[str] | None = None,
) -> OutboundEmail:
    """Render the three templates (subject, text, HTML) and put the mail in the outbox.

    ``thread`` is the ticket's Message-IDs when the caller knows them already.
    """
    context = {"agency_name": settings.CAREDESK_AGENCY_NAME, "ticket": ticket, **context}
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message_id = new_message_id(kind, ticket)
    headers = {}
    if ticket is not None:
        references = thread_ids(ticket) if thread is None else thread
        if references:
            headers["References"] = " ".join(references[-20:])
            headers["In-Reply-To"] = in_reply_to or references[-1]
        headers["Reply-To"] = reply_address(ticket)
        headers["X-Caredesk-Ticket"] = str(ticket.number)
    elif in_reply_to:
        headers["In-Reply-To"] = in_reply_to
        headers["References"] = in_reply_to
    if automatic:
        headers["Auto-Submitted"] = "auto-replied" if in_reply_to else "auto-generated"
        headers["X-Auto-Response-Suppress"] = "All"
    blocked = _undeliverable(to + (cc or []))
    recipients = [a for a in to if a not in blocked]
    email = OutboundEmail.objects.create(
        ticket=ticket,
        kind=kind,
        to=recipients,
        cc=[a for a in (cc or []) if a not in blocked],
        subject=subject,
        text=text,
        html=html,
        headers=headers,
        message_id=message_id,
        state=OutboundState.QUEUED if recipients else OutboundState.SUPPRESSED,
        last_error="" if recipients else f"undeliverable: {', '.join(sorted(blocked))}",
    )
    if recipients:
        # Enqueued in the same transaction: the worker sees the task when the
        # mail itself is committed, and neither without the other.
        send_outbox.enqueue()
    return email


def _subject(ticket: Ticket, text: str = "") -> str:
    return f"[{ticket.reference}] {text or ticket.subject}"


# The outbox row is written in the ticket's own transaction: the mail exists if
# and only if the change it tells of was committed.
@receiver(ticket_event_in_transaction, dispatch_uid="mail.outbound.ticket_event")
def on_ticket_event(
    sender, *, ticket_id: int, event_id: int, kind: str, event: TicketEvent | None = None, **kwargs
) -> None:
    if kind not in ("created", "message", "status"):
        return
    if event is None:
        event = TicketEvent.objects.select_related("ticket").get(pk=event_id)
    if kind == "message" and event.data.get("kind") != MessageKind.PUBLIC_REPLY:
        return
    ticket = event.ticket
    if kind == "created" and event.data.get("notify", True):
        queue_confirmation(ticket)
    elif kind == "message" and event.data.get("kind") == MessageKind.PUBLIC_REPLY:
        queue_reply(ticket, Message.objects.get(pk=event.data["message"]))
    elif kind == "status" and event.data.get("to") == "solved" and event.actor_user_id:
        queue_solved(ticket)


def _client_recipients(ticket: Ticket) -> tuple[list[str], list[str]]:
    to = [ticket.requester_email] if ticket.requester_email else []
    cc = sorted(
        e
        for e in ticket.followers.filter(is_active=True).values_list("email", flat=True)
        if e not in to
    )
    return to, cc


def _after_hours(ticket: Ticket) -> str:
    policy = ticket.sla_policy
    if policy is None or not policy.emergency_route:
        return ""
    return "" if policy.calendar.calendar.is_open(clock.now()) else policy.emergency_route


def queue_confirmation(ticket: Ticket) -> OutboundEmail | None:
    to = [ticket.requester_email] if ticket.requester_email else []
    if not to:
        return None
    thread = None
    if hasattr(ticket, "first_message"):
        # A ticket being opened: its thread so far is the message that opened it.
        first = ticket.first_message
        thread = [first.email_message_id] if first and first.email_message_id else []
    else:
        first = ticket.messages.filter(kind=MessageKind.CUSTOMER).first()
    return queue(
        kind="confirmation",
        to=to,
        subject=_subject(ticket, f"Received: {ticket.subject}"),
        template="ticket_confirmation",
        context={
            "promise": promised_first_response(ticket),
            "after_hours": _after_hours(ticket),
            "plan_rate": _rate(ticket),
        },
        ticket=ticket,
        in_reply_to=first.email_message_id if first and first.email_message_id else None,
        thread=thread,
    )


def _rate(ticket: Ticket) -> str:
    if not ticket.billable or not ticket.organisation_id:
        return ""
    subscription = active_subscription(ticket.organisation_id)
    if subscription is None or not subscription.plan.hourly_rate:
        return ""
    return f"{subscription.plan.hourly_rate} {subscription.plan.currency} an hour"


def queue_reply(ticket: Ticket, message: Message) -> OutboundEmail | None:
    to, cc = _client_recipients(ticket)
    if not to:
        return None
    return queue(
        kind="reply",
        to=to,
        cc=cc,
        subject=_subject(ticket),
        template="ticket_reply",
        context={"message": message},
        ticket=ticket,
        automatic=False,
    )


def queue_solved(ticket: Ticket) -> OutboundEmail | None:
    to, cc = _client_recipients(ticket)
    if not to:
        return None
    return queue(
        kind="solved",
        to=to,
        cc=cc,
        subject=_subject(ticket, f"Solved: {ticket.subject}"),
        template="ticket_solved",
        context={},
        ticket=ticket,
    )


def queue_refusal(to: str, subject: str, in_reply_to: str) -> OutboundEmail:
    return queue(
        kind="refusal",
        to=[to],
        subject=f"Re: {subject}"[:500],
        template="refusal",
        context={"original_subject": subject},
        in_reply_to=in_reply_to,
    )


@task()
def send_outbox() -> int:
    """Send every queued message that is due; returns how many went out."""
    sent = 0
    now = clock.now()
    OutboundEmail.objects.filter(
        state=OutboundState.SENDING, claimed_at__lt=now - STALE_CLAIM
    ).update(state=OutboundState.QUEUED)
    for pk in OutboundEmail.objects.filter(
        state=OutboundState.QUEUED, next_attempt_at__lte=now
    ).values_list("pk", flat=True)[:500]:
        claimed = OutboundEmail.objects.filter(pk=pk, state=OutboundState.QUEUED).update(
            state=OutboundState.SENDING, claimed_at=clock.now()
        )
        if claimed == 1:  # another worker took it otherwise: nothing is sent twice
            sent += _send(OutboundEmail.objects.get(pk=pk))
    return sent


def _send(email: OutboundEmail) -> int:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=email.to,
        cc=email.cc,
        headers={**email.headers, "Message-ID": email.message_id},
    )
    if email.html:
        message.attach_alternative(email.html, "text/html")
    email.attempts += 1
    try:
        message.send()
    except Exception as error:  # any backend error: log it, retry later
        email.last_error = f"{type(error).__name__}: {error}"[:2000]
        if email.attempts > len(BACKOFF):
            email.state = OutboundState.FAILED
        else:
            email.state = OutboundState.QUEUED
            email.next_attempt_at = clock.now() + BACKOFF[email.attempts - 1]
        email.save()
        SendAttempt.objects.create(email=email, ok=False, error=email.last_error)
        logger.warning("sending %s failed (attempt %s): %s", email.pk, email.attempts, error)
        return 0
    email.state = OutboundState.SENT
    email.sent_at = clock.now()
    email.last_error = ""
    email.save()
    SendAttempt.objects.create(email=email, ok=True)
    return 1
