"""Every change the portal makes: sign-in links, client logins, tickets raised and answered.

Ticket changes go through ``caredesk.tickets.actions``; what is here wraps them
with what only the portal does (files from a form) in one transaction.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.crypto import salted_hmac

from caredesk.accounts.models import Role, User
from caredesk.clients.actions import save_validated
from caredesk.clients.models import Contact, Site
from caredesk.kb.actions import do_suggestion_led_to_ticket
from caredesk.lib import clock
from caredesk.plans.models import WorkCategory
from caredesk.tickets import actions as ticket_actions
from caredesk.tickets.attachments import Incoming, store
from caredesk.tickets.models import Message, Ticket

from .models import AttemptKind, SignInAttempt, SignInLink, token_hash

LINK_LIFETIME = timedelta(minutes=15)
# (how many, within how long) before the form says "wait": a person asks for a
# link once or twice; a script asks hundreds of times.
LIMITS = {
    AttemptKind.LINK: {"address": (3, timedelta(minutes=15)), "ip": (20, timedelta(hours=1))},
    AttemptKind.PASSWORD: {"address": (10, timedelta(minutes=15)), "ip": (30, timedelta(hours=1))},
}
KEEP_ATTEMPTS = timedelta(days=1)


class SignInRefused(Exception):
    """The link is fine but this contact cannot have a portal login; the reason is for people."""


def address_hash(address: str) -> str:
    return salted_hmac("caredesk.portal.address", address.strip().lower()).hexdigest()


def over_limit(kind: str, address: str, ip: str | None) -> bool:
    """Whether ``address`` or ``ip`` has used up its attempts of this kind."""
    now = clock.now()
    count, window = LIMITS[kind]["address"]
    recent = SignInAttempt.objects.filter(kind=kind, at__gt=now - window)
    if recent.filter(address_hash=address_hash(address)).count() >= count:
        return True
    count, window = LIMITS[kind]["ip"]
    recent = SignInAttempt.objects.filter(kind=kind, at__gt=now - window)
    return bool(ip) and recent.filter(ip=ip).count() >= count


@transaction.atomic
def do_record_attempt(kind: str, address: str, ip: str | None) -> None:
    now = clock.now()
    SignInAttempt.objects.create(kind=kind, address_hash=address_hash(address), ip=ip, at=now)
    # Counting needs a day at most; older rows would only grow the table.
    SignInAttempt.objects.filter(at__lt=now - KEEP_ATTEMPTS).delete()
    SignInLink.objects.filter(expires_at__lt=now - KEEP_ATTEMPTS).delete()


def portal_contact(address: str) -> Contact | None:
    """The active contact of an active client with this address, if any."""
    return (
        Contact.objects.select_related("organisation", "user")
        .filter(email__iexact=address.strip(), is_active=True, organisation__is_active=True)
        .first()
    )


@transaction.atomic
def do_request_link(address: str, ip: str | None) -> SignInLink | None:
    """Count the request; for a known contact, queue a link to be minted and mailed.

    Returns the link row (None for an unknown address). The caller answers the
    same either way.
    """
    from .tasks import send_sign_in_link

    do_record_attempt(AttemptKind.LINK, address, ip)
    contact = portal_contact(address)
    if contact is None or (contact.user_id and not contact.user.is_active):
        return None
    now = clock.now()
    link = SignInLink.objects.create(
        contact=contact, created_at=now, expires_at=now + LINK_LIFETIME
    )
    # Enqueued in this transaction: the worker sees it once the row exists.
    send_sign_in_link.enqueue(link.pk)
    return link


def do_mint_secret(link_id: int) -> tuple[SignInLink, str] | None:
    """Give a queued link its secret, once; None if it was minted already or has expired."""
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    minted = SignInLink.objects.filter(pk=link_id, sent_at=None, expires_at__gt=now).update(
        token_hash=token_hash(secret), sent_at=now
    )
    if minted != 1:  # another worker sent it, or it waited too long to be worth sending
        return None
    return SignInLink.objects.select_related("contact__organisation").get(pk=link_id), secret


def find_link(secret: str) -> SignInLink | None:
    if not secret or len(secret) > 100 or not secret.isprintable():
        return None
    return (
        SignInLink.objects.select_related("contact__organisation", "contact__user")
        .filter(token_hash=token_hash(secret))
        .first()
    )


@transaction.atomic
def do_redeem_link(secret: str) -> User | None:
    """Burn the link and return the contact's login (made on first use); None if unusable.

    Raises SignInRefused when the link is good but the contact cannot sign in.
    """
    link = find_link(secret)
    now = clock.now()
    if link is None or not link.usable(now):
        return None
    # The conditional update is the burn: two clicks racing sign in once.
    if SignInLink.objects.filter(pk=link.pk, used_at=None).update(used_at=now) != 1:
        return None
    contact = Contact.objects.select_related("organisation", "user").get(pk=link.contact_id)
    if not contact.is_active or not contact.organisation.is_active:
        raise SignInRefused("Your access to the portal has been closed. Please contact us.")
    return login_for(contact)


def login_for(contact: Contact) -> User:
    """The contact's portal login, made (and linked) the first time it signs in."""
    if contact.user_id:
        if not contact.user.is_active or contact.user.role != Role.CLIENT:
            raise SignInRefused("Your portal login is switched off. Please contact us.")
        return contact.user
    user = User.objects.filter(email__iexact=contact.email).first()
    if user is None:
        user = User.objects.create_user(
            contact.email, None, role=Role.CLIENT, full_name=contact.name
        )
    elif (
        user.role != Role.CLIENT or Contact.objects.filter(user=user).exists() or not user.is_active
    ):
        # A staff login, or one already speaking for another contact, must never
        # be taken over through a client's address.
        raise SignInRefused(
            "This address already has another kind of login here. Please contact us."
        )
    save_validated(contact, {"user": user})
    return user


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    content: bytes

    def incoming(self) -> Incoming:
        return Incoming(self.filename, self.content_type, self.content)


@transaction.atomic
def do_raise_ticket(
    contact: Contact,
    *,
    subject: str,
    description: str,
    category: WorkCategory | None,
    site: Site | None,
    files: list[Upload],
    kb_suggestion: str | None = None,
) -> Ticket:
    """A client raises a ticket from the portal, with its files on the first message.

    ``kb_suggestion`` is the knowledge-base suggestion session shown while the
    subject was typed: it ended in a ticket (the deflection figure counts those).
    """
    if site is not None and site.organisation_id != contact.organisation_id:
        raise ValidationError({"site": "That site is not one of yours."})
    ticket = ticket_actions.do_create_ticket(
        subject=subject,
        body=description,
        channel="portal",
        requester=contact,
        site=site,
        category=category,
    )
    _store_files(ticket.first_message, files)
    do_suggestion_led_to_ticket(kb_suggestion, ticket.pk)
    return ticket


@transaction.atomic
def do_client_reply(ticket: Ticket, contact: Contact, body: str, files: list[Upload]) -> Message:
    """A client answers from the portal; a solved or pending ticket reopens."""
    if ticket.organisation_id != contact.organisation_id:
        raise ValidationError("That ticket is not one of yours.")
    message = ticket_actions.do_add_customer_message(ticket, body, contact=contact)
    _store_files(message, files)
    return message


def _store_files(message: Message, files: list[Upload]) -> None:
    refused = store(message, [f.incoming() for f in files])
    if refused:
        # The form checks with the same rule first; reaching here means the rule
        # changed underneath: refuse the whole change rather than lose a file.
        raise ValidationError([f"{r.filename}: {r.reason}" for r in refused])


def session_seconds() -> int:
    return getattr(settings, "CAREDESK_PORTAL_SESSION_HOURS", 8) * 3600
