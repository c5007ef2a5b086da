"""Changes the widget makes: a ticket from a submission, a quarantine entry, a release.

Tickets themselves are opened by ``caredesk.tickets.actions``; this module
decides who the sender is (the email channel's rules) and keeps the spam
quarantine.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from caredesk.clients import actions as clients
from caredesk.clients.models import Contact, Site
from caredesk.lib import clock
from caredesk.tickets import actions as tickets
from caredesk.tickets.attachments import Incoming, store
from caredesk.tickets.models import Channel, Ticket

from .models import QuarantinedSubmission


@dataclass(frozen=True)
class Request:
    """What a visitor sent, already validated."""

    name: str
    email: str
    subject: str
    description: str
    page: str = ""
    attachment: Incoming | None = None


@dataclass(frozen=True)
class Sender:
    contact: Contact | None  # a contact of the site's client
    new_contact: bool = False  # not yet one, but writes from the client's email domain


def sender_for(site: Site, email: str) -> Sender:
    """Who is writing, by the email channel's rules, limited to the site's own client.

    A contact of the site's client is that contact (a deactivated one too: it is
    still that person). Someone from the client's email domain becomes a new
    contact when the ticket is filed. Anyone else, a contact of another client
    included, is a stranger: the site's client must not get tickets in their name.
    """
    organisation = site.organisation
    contact = Contact.objects.filter(email__iexact=email).first()
    if contact is not None:
        if contact.organisation_id == organisation.pk:
            return Sender(contact)
        return Sender(None)
    domain = email.rpartition("@")[2].lower()
    if organisation.is_active and domain in organisation.domains:
        return Sender(None, new_contact=True)
    return Sender(None)


def refuses_strangers() -> bool:
    return settings.CAREDESK_UNKNOWN_SENDERS == "refuse"


@transaction.atomic
def do_file_submission(site: Site, request: Request, *, acting_user=None) -> Ticket:
    """Open the ticket a visitor asked for; a stranger's is left unassigned for staff."""
    sender = sender_for(site, request.email)
    contact = sender.contact
    if sender.new_contact:
        contact = clients.create_contact(
            organisation=site.organisation,
            name=request.name[:200],
            email=request.email,
            acting_user=acting_user,
        )
    if contact is None and refuses_strangers():
        raise ValidationError({"email": "This address is not registered with us for this website."})
    ticket = tickets.do_create_ticket(
        subject=request.subject,
        body=_body(site, request),
        channel=Channel.WIDGET,
        organisation=site.organisation if contact else None,
        requester=contact,
        requester_email=request.email,
        requester_name=request.name,
        site=site if contact else None,
        acting_user=acting_user,
    )
    message = getattr(ticket, "first_message", None)
    if request.attachment is not None and message is not None:
        refused = store(message, [request.attachment])
        if refused:
            tickets.do_record_refused_files(
                ticket, message, [(r.filename, r.reason) for r in refused]
            )
    return ticket


def _body(site: Site, request: Request) -> str:
    # A stranger's ticket is not filed under the client, so the site it came
    # from is written where staff read it first.
    where = request.page or site.url
    return f"{request.description}\n\n-- \nSent with the help form on {site.name}: {where}"


@transaction.atomic
def do_quarantine(
    site: Site, *, reason: str, detail: str = "", fields: dict, meta: dict
) -> QuarantinedSubmission:
    """Keep a submission taken for spam, with why; it never becomes a ticket by itself."""
    attachment = fields.get("attachment")
    return QuarantinedSubmission.objects.create(
        site=site,
        received_at=clock.now(),
        reason=reason,
        detail=detail[:300],
        name=str(fields.get("name") or "")[:200],
        email=str(fields.get("email") or "")[:254],
        subject=str(fields.get("subject") or "")[:300],
        description=str(fields.get("description") or "")[:20000],
        honeypot=str(fields.get("website") or "")[:1000],
        page=str(fields.get("page") or "")[:1000],
        origin=str(meta.get("origin") or "")[:300],
        client_ip=meta.get("client_ip"),
        user_agent=str(meta.get("user_agent") or "")[:500],
        attachment_name=attachment.filename[:255] if attachment else "",
        attachment_size=len(attachment.content) if attachment else None,
    )


@transaction.atomic
def do_release(entry: QuarantinedSubmission, *, acting_user) -> Ticket:
    """Staff judged a quarantined submission genuine: file it as the visitor's ticket."""
    if acting_user is None or not acting_user.is_agency_staff:
        raise ValidationError("Only agency staff can release a submission.")
    entry = QuarantinedSubmission.objects.select_for_update().get(pk=entry.pk)
    if entry.ticket_id is not None:
        raise ValidationError(f"Already filed as ticket {entry.ticket.reference}.")
    if "@" not in entry.email or not entry.subject.strip():
        raise ValidationError("It has no usable email address or subject to file a ticket with.")
    request = Request(
        name=entry.name,
        email=entry.email,
        subject=entry.subject,
        description=entry.description,
        page=entry.page,
    )
    ticket = do_file_submission(entry.site, request, acting_user=acting_user)
    entry.released_at = clock.now()
    entry.released_by = acting_user
    entry.ticket = ticket
    entry.save(update_fields=["released_at", "released_by", "ticket"])
    return ticket
