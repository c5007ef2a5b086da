"""One pipeline for every way mail comes in (pipe, IMAP, SMTP, provider webhooks).

The raw bytes are stored before anything else, in their own transaction: a
message that cannot be parsed, or whose processing fails, stays in the
quarantine with its reason and can be released once the cause is fixed.
"""

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection
from django.db.models.functions import Lower

from caredesk.clients.models import Contact, Organisation
from caredesk.lib import clock
from caredesk.tickets import actions
from caredesk.tickets.attachments import Incoming, store
from caredesk.tickets.models import Channel, Message, Status, Ticket

from . import outbound
from .models import InboundEmail, InboundStatus, OutboundEmail, Undeliverable
from .parse import parse_message
from .parsed import ParsedMessage, ParseFailure

logger = logging.getLogger(__name__)
TICKET_NUMBER = re.compile(r"#(\d{3,12})\b")


def receive(raw: bytes, *, via: str, envelope_to: tuple[str, ...] = ()) -> InboundEmail:
    """Keep the message, then file it. Never raises for what the message contains."""
    inbound = InboundEmail.objects.create(
        via=via,
        raw=raw,
        size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
        envelope_to=[a.lower() for a in envelope_to],
    )
    process(inbound)
    return inbound


def process(inbound: InboundEmail) -> None:
    try:
        parsed = parse_message(bytes(inbound.raw))
    except ParseFailure as failure:
        _quarantine(inbound, failure.reason)
        return
    except Exception as error:  # the quarantine exists so a bad message never stops the rest
        logger.exception("parsing inbound email %s failed", inbound.pk)
        _quarantine(inbound, f"could not be read ({type(error).__name__}: {error})")
        return
    inbound.message_id = (parsed.message_id or "")[:998]
    inbound.from_email = parsed.from_.email[:320] if parsed.from_ else ""
    inbound.subject = parsed.subject[:500]
    try:
        # One unit: a copy filed meanwhile by another worker (the unique key
        # written last), or any error, rolls all of it back.
        with actions.all_or_nothing():
            _route(inbound, parsed)
    except IntegrityError as error:
        inbound.dedupe_key = None
        earlier = _earlier_copy(parsed, inbound)
        if earlier is not None:
            # Another worker filed a copy of this message while we did: theirs stands.
            _finish(
                inbound,
                InboundStatus.DUPLICATE,
                f"same message as inbound #{earlier.pk}",
                ticket_id=earlier.ticket_id,
            )
            return
        logger.exception("filing inbound email %s failed", inbound.pk)
        _quarantine(inbound, f"could not be filed ({type(error).__name__}: {error})")
    except Exception as error:
        logger.exception("filing inbound email %s failed", inbound.pk)
        inbound.dedupe_key = None
        _quarantine(inbound, f"could not be filed ({type(error).__name__}: {error})")


def _quarantine(inbound: InboundEmail, reason: str) -> None:
    _finish(inbound, InboundStatus.QUARANTINED, reason)


def _finish(inbound: InboundEmail, status: str, reason: str = "", **links) -> None:
    inbound.status = status
    inbound.reason = reason
    inbound.processed_at = clock.now()
    for name, value in links.items():
        setattr(inbound, name, value)
    # Never rewrite the raw bytes: they were stored once, first.
    fields = [
        "status",
        "reason",
        "processed_at",
        "message_id",
        "from_email",
        "subject",
        "dedupe_key",
        *(inbound._meta.get_field(name).attname for name in links),
    ]
    inbound.save(update_fields=fields)


def _earlier_copy(parsed: ParsedMessage, inbound: InboundEmail) -> InboundEmail | None:
    key = parsed.dedupe_id[:998]
    # No ordering: the default (newest first) would walk the date index past every
    # message instead of probing the unique key.
    return (
        InboundEmail.objects.filter(dedupe_key=key)
        .exclude(pk=inbound.pk)
        .only("pk", "ticket_id")
        .order_by()
        .first()
    )


@dataclass(frozen=True)
class _Seen:
    """What the mailbox already holds that decides this message's fate."""

    earlier_pk: int | None  # an earlier copy of the same message
    earlier_ticket_id: int | None
    recent: int  # the sender's messages in the last hour (the loop guard)
    undeliverable: bool  # the sender's address bounced for good (no automatic answer)


# Written out, not built by the ORM: it runs for every message, and building
# the filtered aggregate cost ~0.8 ms, forty times running it.
_SEEN_SQL = """
SELECT MIN(CASE WHEN dedupe_key = %s THEN id END),
       MIN(CASE WHEN dedupe_key = %s THEN ticket_id END),
       COUNT(CASE WHEN from_email = %s AND received_at >= %s AND status <> %s THEN 1 END),
       (SELECT COUNT(*) FROM {undeliverable} WHERE email = %s)
FROM {inbound}
WHERE (dedupe_key = %s OR (from_email = %s AND received_at >= %s)) AND id <> %s
"""


def _seen(inbound: InboundEmail, parsed: ParsedMessage) -> _Seen:
    """Earlier copy, the sender's last hour and bounces: one query over three indexes."""
    key = parsed.dedupe_id[:998]
    # NULL equals nothing: a message without a sender has no last hour.
    sender = parsed.from_.email if parsed.from_ else None
    since = connection.ops.adapt_datetimefield_value(clock.now() - timedelta(hours=1))
    sql = _SEEN_SQL.format(
        inbound=connection.ops.quote_name(InboundEmail._meta.db_table),
        undeliverable=connection.ops.quote_name(Undeliverable._meta.db_table),
    )
    params = [key, key, sender, since, InboundStatus.DUPLICATE, sender, key, sender, since]
    with connection.cursor() as cursor:
        # Table names are the models'; values are bound.
        cursor.execute(sql, [*params, inbound.pk])
        earlier_pk, earlier_ticket_id, recent, bounced = cursor.fetchone()
    return _Seen(earlier_pk, earlier_ticket_id, recent or 0, bool(bounced))


def _route(inbound: InboundEmail, parsed: ParsedMessage) -> None:
    seen = _seen(inbound, parsed)
    # The key is stored with the outcome, last in this transaction: its unique
    # index makes a copy filed meanwhile by another worker roll this one back.
    inbound.dedupe_key = parsed.dedupe_id[:998]
    if seen.earlier_pk is not None:
        inbound.dedupe_key = None
        _finish(
            inbound,
            InboundStatus.DUPLICATE,
            f"same message as inbound #{seen.earlier_pk}",
            ticket_id=seen.earlier_ticket_id,
        )
        return
    if parsed.bounce is not None or parsed.kind == "bounce":
        _record_bounce(inbound, parsed)
        return
    if parsed.from_ is None:
        _quarantine(inbound, "no sender address")
        return
    if seen.recent >= settings.CAREDESK_MAIL_RATE_PER_HOUR:
        _quarantine(
            inbound,
            f"more than {settings.CAREDESK_MAIL_RATE_PER_HOUR} messages in an hour from "
            f"{parsed.from_.email}; held to stop a mail loop",
        )
        return
    ticket = find_ticket(parsed, tuple(inbound.envelope_to))
    if ticket is not None:
        message = _add_to_ticket(ticket, parsed)
        _finish(inbound, InboundStatus.THREADED, ticket=ticket, ticket_message=message)
        return
    if not parsed.may_auto_reply:
        known = _contacts_with(parsed.from_.email).exists()
        if parsed.kind == "list" and known:
            # A client writing through a group address: a ticket, but no
            # automatic answer to a list.
            _open_ticket(inbound, parsed, seen, notify=False)
            return
        reasons = ", ".join(parsed.auto_reasons) or parsed.kind
        _finish(inbound, InboundStatus.IGNORED, f"automatic message ({reasons}) with no ticket")
        return
    _open_ticket(inbound, parsed, seen)


def _tokens(addresses: list[str]) -> list[str]:
    base, _, domain = settings.CAREDESK_SUPPORT_ADDRESS.partition("@")
    tokens = []
    for address in addresses:
        local, _, host = address.lower().partition("@")
        if host == domain and local.startswith(base + "+"):
            tokens.append(local[len(base) + 1 :])
    return tokens


def find_ticket(parsed: ParsedMessage, envelope_to: tuple[str, ...] = ()) -> Ticket | None:
    """Reply token, then Message-ID references, then '#1042' from a known participant.

    The ticket is read under row lock, for the action that files the message.
    """
    addresses = [a.email for a in (*parsed.to, *parsed.cc)] + list(parsed.delivered_to)
    tokens = _tokens(addresses + list(envelope_to))
    # Read under the lock the action that follows needs, with the policy its
    # clocks need: it need not read the ticket again.
    if tokens:
        ticket = actions.locked_ticket(Ticket.objects.filter(reply_token__in=tokens))
        if ticket is not None:
            return _open_or_none(ticket)
    # The message answered first, then the thread from its newest end: a long
    # thread may run through a closed ticket into its follow-up.
    ids = list(dict.fromkeys([*parsed.in_reply_to, *reversed(parsed.references)]))
    if ids:
        found = dict(
            Message.objects.filter(email_message_id__in=ids).values_list(
                "email_message_id", "ticket_id"
            )
        )
        found.update(
            OutboundEmail.objects.filter(message_id__in=ids, ticket__isnull=False).values_list(
                "message_id", "ticket_id"
            )
        )
        for message_id in ids:
            if message_id in found:
                ticket = actions.locked_ticket(Ticket.objects.filter(pk=found[message_id]))
                if ticket is not None and _open_or_none(ticket) is not None:
                    return ticket
    sender = parsed.from_.email if parsed.from_ else ""
    for number in TICKET_NUMBER.findall(parsed.subject):
        ticket = actions.locked_ticket(Ticket.objects.filter(number=int(number)))
        # Quoting a number is not proof of anything: only people already on the
        # ticket may thread by it, or a stranger could read a client's ticket.
        if ticket is not None and sender in participants(ticket):
            return _open_or_none(ticket)
    return None


def _open_or_none(ticket: Ticket) -> Ticket | None:
    # A closed ticket stays closed: a late reply starts a new one.
    return None if ticket.status == Status.CLOSED else ticket


def participants(ticket: Ticket) -> set[str]:
    emails = {ticket.requester_email.lower()} if ticket.requester_email else set()
    emails |= {e.lower() for e in ticket.followers.values_list("email", flat=True)}
    emails |= {
        e.lower()
        for e in ticket.messages.exclude(author_email="").values_list("author_email", flat=True)
    }
    return emails


def _attachments(parsed: ParsedMessage) -> list[Incoming]:
    return [
        Incoming(a.filename, a.content_type, a.content, a.content_id or "", a.inline)
        for a in parsed.attachments
        if not a.omitted
    ]


def _add_to_ticket(ticket: Ticket, parsed: ParsedMessage) -> Message:
    sender = parsed.from_
    contact = _sender_contact(parsed, ticket)
    message = actions.do_add_customer_message(
        ticket,
        parsed.reply_text,
        contact=contact,
        name=sender.name,
        email=sender.email,
        body_html=parsed.html or "",
        email_message_id=parsed.dedupe_id[:998],
        is_auto=not parsed.may_auto_reply,
    )
    _store_files(ticket, message, parsed)
    _follow(ticket, parsed, contact)
    return message


def _store_files(ticket: Ticket, message: Message, parsed: ParsedMessage) -> None:
    refused = store(message, _attachments(parsed))
    omitted = [a for a in parsed.attachments if a.omitted]
    notes = [(r.filename, r.reason) for r in refused] + [
        (a.filename, "larger than the attachment limit; kept in the original message")
        for a in omitted
    ]
    if notes:
        actions.do_record_refused_files(ticket, message, notes)


def _follow(ticket: Ticket, parsed: ParsedMessage, sender: Contact | None) -> None:
    """People of the client copied on the thread follow the ticket.

    ``sender`` is the sender's contact record as already read (or None).
    """
    if not ticket.organisation_id:
        return
    support = settings.CAREDESK_SUPPORT_ADDRESS.partition("@")[2]
    emails = {
        a.email
        for a in (parsed.from_, *parsed.to, *parsed.cc)
        if a and a.email != ticket.requester_email and not a.email.endswith("@" + support)
    }
    if not emails:
        return
    if parsed.from_ is not None and emails == {parsed.from_.email}:
        # Only the sender, whose record was read already (addresses are unique).
        if (
            sender is not None
            and sender.email == parsed.from_.email
            and sender.organisation_id == ticket.organisation_id
            and sender.pk != ticket.requester_id
        ):
            ticket.followers.add(sender)
        return
    contacts = Contact.objects.filter(organisation_id=ticket.organisation_id, email__in=emails)
    ticket.followers.add(*contacts.exclude(pk=ticket.requester_id))


def _contacts_with(email: str):
    # LOWER(email) = …: the expression the unique index of contacts is built on,
    # so the look-up is one index probe on both databases (iexact is not).
    return Contact.objects.alias(email_lower=Lower("email")).filter(email_lower=email.lower())


def _sender_contact(parsed: ParsedMessage, ticket: Ticket | None = None) -> Contact | None:
    """The sender's contact record; a new one when the domain is a client's.

    A deactivated contact is still that person: their mail is filed under them
    (staff see it), not turned into a second contact with the same address.
    With ``ticket`` (a reply on it) the domain match is limited to the ticket's
    organisation.
    """
    sender = parsed.from_
    found = _contacts_with(sender.email)
    if ticket is None:
        found = found.select_related("organisation")  # the new ticket's
    # At most one row (the index is unique): no ORDER BY, not even first()'s.
    contact = next(iter(found.order_by()[:1]), None)
    if contact is not None:
        return contact
    domain = sender.email.rpartition("@")[2]
    candidates = Organisation.objects.filter(is_active=True, email_domains__icontains=domain)
    if ticket is not None:
        candidates = candidates.filter(pk=ticket.organisation_id)
    for organisation in candidates:
        if domain in organisation.domains:
            name = sender.name or sender.email.partition("@")[0]
            return Contact.objects.create(organisation=organisation, name=name, email=sender.email)
    return None


def _open_ticket(
    inbound: InboundEmail, parsed: ParsedMessage, seen: _Seen, *, notify: bool = True
) -> None:
    contact = _sender_contact(parsed)
    # The sender's bounces were read with the message's first query: the
    # confirmation or refusal need not look them up again.
    with outbound.known_undeliverable({parsed.from_.email: seen.undeliverable}):
        if contact is None and settings.CAREDESK_UNKNOWN_SENDERS == "refuse":
            outbound.queue_refusal(parsed.from_.email, parsed.subject, parsed.dedupe_id)
            _finish(inbound, InboundStatus.REFUSED, "sender is not a contact of any client")
            return
        ticket = actions.do_create_ticket(
            subject=parsed.subject,
            body=parsed.reply_text,
            body_html=parsed.html or "",
            channel=Channel.EMAIL,
            requester=contact,
            requester_email=parsed.from_.email,
            requester_name=parsed.from_.name,
            email_message_id=parsed.dedupe_id[:998],
            notify_requester=notify,
        )
    message = getattr(ticket, "first_message", None)
    if message is not None:
        _store_files(ticket, message, parsed)
    _follow(ticket, parsed, contact)
    _finish(inbound, InboundStatus.TICKETED, ticket=ticket, ticket_message=message)


def _record_bounce(inbound: InboundEmail, parsed: ParsedMessage) -> None:
    bounce = parsed.bounce
    original = None
    if bounce is not None and bounce.original_message_id:
        original = OutboundEmail.objects.filter(message_id=bounce.original_message_id).first()
    reason = (bounce.diagnostic or bounce.status or "") if bounce else "delivery failure"
    if original is not None:
        original.bounced_at = clock.now()
        original.bounce_reason = reason[:2000]
        original.save(update_fields=["bounced_at", "bounce_reason"])
        if original.ticket_id:
            actions.do_record_bounce(
                original.ticket, recipients=list(bounce.recipients), reason=reason
            )
    if bounce is not None and bounce.permanent and original is not None:
        # Only for mail we really sent, to whom we sent it: a forged bounce must
        # not silence a client.
        sent_to = {a.lower() for a in (*original.to, *original.cc)}
        for address in bounce.recipients:
            if address.lower() in sent_to:
                mark_undeliverable(address, reason)
    _finish(
        inbound,
        InboundStatus.BOUNCE,
        f"bounce of {original.message_id if original else 'an unknown message'}: {reason}"[:2000],
        ticket_id=original.ticket_id if original else None,
    )


def mark_undeliverable(address: str, reason: str) -> None:
    now = clock.now()
    row, created = Undeliverable.objects.get_or_create(
        email=address.lower(), defaults={"reason": reason[:2000]}
    )
    if not created:
        row.bounces += 1
        row.last_bounced_at = now
        row.reason = reason[:2000]
        row.save()


def release(inbound: InboundEmail) -> InboundEmail:
    """Process a quarantined message again (after the cause was fixed)."""
    if inbound.status != InboundStatus.QUARANTINED:
        raise ValueError("only quarantined messages can be released")
    inbound.status = InboundStatus.RECEIVED
    inbound.reason = ""
    inbound.dedupe_key = None
    inbound.save()
    process(inbound)
    return inbound
