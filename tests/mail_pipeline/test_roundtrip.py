"""The round trip, all over real SMTP on loopback.

A client writes to caredesk's SMTP receiver, the confirmation and the staff reply
leave through the outbox and Django's SMTP backend into the client's mailbox, and
every way a client answers (quoting everything, from a colleague on CC, reply all)
comes back to the same ticket. A stranger quoting the ticket number does not.
"""

import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid

import pytest
from django.db import OperationalError

from caredesk.mail import smtpd
from caredesk.mail.models import InboundEmail, InboundStatus, OutboundEmail
from caredesk.mail.outbound import send_outbox
from caredesk.tickets.actions import do_change_status, do_reply
from caredesk.tickets.models import Message, Status, Ticket

from .conftest import Delivered, build_message

pytestmark = pytest.mark.django_db(transaction=True)

JO = "jo@harbourbakery.example"
SAM = "sam@harbourbakery.example"
PAT = "pat@harbourbakery.example"  # Jo's colleague, not (yet) a contact
STAFF_REPLY = "Thanks Jo, the form's mail server password had expired. It sends again now."


@dataclass
class Conversation:
    ticket: Ticket
    original_id: str
    confirmation: Delivered
    reply: Delivered

    @property
    def reply_address(self) -> str:
        return f"support+{self.ticket.reply_token}@localhost"

    def refresh(self) -> Ticket:
        self.ticket.refresh_from_db()
        return self.ticket


def _only(delivered: list[Delivered], kind: str) -> Delivered:
    assert len(delivered) == 1, f"expected one {kind}, the mailbox has {len(delivered)}"
    return delivered[0]


@pytest.fixture
def conversation(demo, receiver, mailbox, friday) -> Conversation:
    """Jo writes (copying Pat and Sam), is confirmed, and Omar answers."""
    original_id = make_msgid(domain="harbourbakery.example")
    receiver.send(
        build_message(
            sender="Jo Marsh <jo@harbourbakery.example>",
            cc=[f"Pat Baker <{PAT}>", f"Sam Ode <{SAM}>"],
            message_id=original_id,
        )
    )
    ticket = Ticket.objects.get()
    assert send_outbox.call() == 1
    confirmation = _only(mailbox.to(JO), "confirmation")
    mailbox.clear()
    do_reply(ticket, STAFF_REPLY, acting_user=demo.omar)
    assert send_outbox.call() == 1
    reply = _only(mailbox.to(JO), "reply")
    mailbox.clear()
    return Conversation(ticket, original_id, confirmation, reply)


def test_client_email_is_confirmed_and_the_staff_reply_threads_on_it(conversation, demo):
    ticket = conversation.refresh()
    inbound = InboundEmail.objects.get(message_id=conversation.original_id)
    assert (inbound.via, inbound.status, inbound.ticket_id) == (
        "smtp",
        InboundStatus.TICKETED,
        ticket.pk,
    )
    assert (ticket.organisation, ticket.requester, ticket.channel) == (
        demo.harbour,
        demo.jo,
        "email",
    )
    assert ticket.subject == "Contact form not sending"
    assert ticket.messages.first().email_message_id == conversation.original_id

    confirmation = conversation.confirmation.message
    assert conversation.confirmation.rcpt_tos == [JO]
    assert ticket.reference in confirmation["Subject"]
    assert f"opened ticket {ticket.reference}" in conversation.confirmation.text
    # Friday 11:30 plus KIJO's 9 business hours (Mon-Fri 08:00-17:00).
    assert "by Mon 23 Nov, 11:30" in conversation.confirmation.text
    assert confirmation["Reply-To"] == conversation.reply_address
    assert confirmation["Auto-Submitted"] == "auto-replied"
    assert confirmation["In-Reply-To"] == conversation.original_id
    assert confirmation["Message-ID"] == OutboundEmail.objects.get(kind="confirmation").message_id

    reply = conversation.reply.message
    assert STAFF_REPLY in conversation.reply.text
    assert ticket.reference in reply["Subject"]
    assert reply["References"].split()[:2] == [conversation.original_id, confirmation["Message-ID"]]
    assert reply["In-Reply-To"] in (conversation.original_id, confirmation["Message-ID"])
    assert reply["Reply-To"] == conversation.reply_address
    assert reply["Auto-Submitted"] is None  # a person wrote it: autoresponders may answer
    # Sam, a contact on CC of the first email, follows the ticket and is copied.
    assert sorted(conversation.reply.rcpt_tos) == [JO, SAM]
    assert reply["Cc"] == SAM


def test_reply_quoting_everything_threads_and_stores_only_the_new_words(conversation, receiver):
    answer_id = make_msgid(domain="harbourbakery.example")
    staff_id = conversation.reply.message["Message-ID"]
    quoted = "\n".join(
        f"> {line}" if line else ">" for line in conversation.reply.text.splitlines()
    )
    raw = build_message(
        sender="Jo Marsh <jo@harbourbakery.example>",
        to=conversation.reply_address,
        subject=f"Re: {conversation.reply.message['Subject']}",
        message_id=answer_id,
        in_reply_to=staff_id,
        references=[*conversation.reply.message["References"].split(), staff_id],
        body=(
            "Brilliant, a test message just arrived. Thank you!\n\n"
            f"On Fri, 20 Nov 2026 at 11:31, caredesk <{conversation.reply_address}> wrote:\n"
            f"{quoted}\n>\n>> Hello,\n>>\n>> The contact form on our site does not send anything.\n"
        ),
    )
    receiver.send(raw, rcpt_tos=[conversation.reply_address])

    inbound = InboundEmail.objects.get(message_id=answer_id)
    assert (inbound.status, inbound.ticket_id) == (InboundStatus.THREADED, conversation.ticket.pk)
    stored = Message.objects.get(email_message_id=answer_id)
    assert stored.body == "Brilliant, a test message just arrived. Thank you!"
    assert "wrote:" not in stored.body and ">" not in stored.body
    assert bytes(inbound.raw) == raw  # the original, quotes and all, is kept
    assert Ticket.objects.count() == 1


def test_colleague_on_cc_replying_with_references_only_threads(conversation, receiver):
    answer_id = make_msgid(domain="harbourbakery.example")
    receiver.send(
        build_message(
            sender=f"Pat Baker <{PAT}>",
            to="support@localhost",
            cc=JO,
            subject="Re: Contact form not sending",
            message_id=answer_id,
            references=conversation.original_id,
            body="It is the enquiry form on the Contact page, the one with the map.\n\nPat",
        )
    )
    inbound = InboundEmail.objects.get(message_id=answer_id)
    assert (inbound.status, inbound.ticket_id) == (InboundStatus.THREADED, conversation.ticket.pk)
    assert Ticket.objects.count() == 1
    message = Message.objects.get(email_message_id=answer_id)
    assert message.author_email == PAT


def test_reply_all_to_the_ticket_address_and_others_threads(conversation, receiver):
    answer_id = make_msgid(domain="harbourbakery.example")
    receiver.send(
        build_message(
            sender="Jo Marsh <jo@harbourbakery.example>",
            to=[conversation.reply_address, "Web Team <web@someagency.example>"],
            cc=[SAM, "accounts@harbourbakery.example"],
            subject="RE: Contact form not sending",  # webmail that drops the threading headers
            message_id=answer_id,
            body="Looping in our accounts team who use the form most.",
        ),
        rcpt_tos=[conversation.reply_address],
    )
    inbound = InboundEmail.objects.get(message_id=answer_id)
    assert (inbound.status, inbound.ticket_id) == (InboundStatus.THREADED, conversation.ticket.pk)
    assert Ticket.objects.count() == 1


def test_stranger_quoting_the_ticket_number_gets_a_new_ticket(conversation, receiver, mailbox):
    original = conversation.refresh()
    stranger_id = make_msgid(domain="elsewhere.example")
    receiver.send(
        build_message(
            sender="Mal Lory <mal@elsewhere.example>",
            subject=f"Re: [{original.reference}] Contact form not sending",
            message_id=stranger_id,
            body="Please send me the details of this ticket.",
        )
    )
    inbound = InboundEmail.objects.get(message_id=stranger_id)
    assert inbound.status == InboundStatus.TICKETED
    new = Ticket.objects.get(pk=inbound.ticket_id)
    assert new.pk != original.pk
    assert new.organisation is None
    assert not original.messages.filter(author_email="mal@elsewhere.example").exists()

    send_outbox.call()
    (to_stranger,) = mailbox.to("mal@elsewhere.example")
    assert new.reference in to_stranger.message["Subject"]
    leaked = to_stranger.raw.decode()
    assert original.reply_token not in leaked
    assert "does not send anything" not in leaked and "password had expired" not in leaked
    assert mailbox.to(JO) == []


def test_same_message_delivered_twice_makes_one_message(conversation, receiver):
    answer_id = make_msgid(domain="harbourbakery.example")
    raw = build_message(
        sender="Jo Marsh <jo@harbourbakery.example>",
        subject="Re: Contact form not sending",
        message_id=answer_id,
        in_reply_to=conversation.reply.message["Message-ID"],
        body="One more thing: it worked yesterday.",
    )
    receiver.send(raw)
    receiver.send(raw)  # the client's server retried after a lost 250

    first, second = InboundEmail.objects.filter(message_id=answer_id).order_by("pk")
    assert first.status == InboundStatus.THREADED
    assert second.status == InboundStatus.DUPLICATE
    assert second.ticket_id == conversation.ticket.pk
    assert Message.objects.filter(email_message_id=answer_id).count() == 1


def test_reply_reopens_a_solved_ticket_but_a_closed_one_gets_a_new_ticket(
    conversation, receiver, mailbox, demo, friday
):
    do_change_status(conversation.ticket, Status.SOLVED, acting_user=demo.omar)
    send_outbox.call()
    solved = _only(mailbox.to(JO), "solved notice").message
    assert solved["Subject"].startswith(f"[{conversation.ticket.reference}] Solved")

    reopening_id = make_msgid(domain="harbourbakery.example")
    receiver.send(
        build_message(
            sender="Jo Marsh <jo@harbourbakery.example>",
            to=solved["Reply-To"],
            subject=f"Re: {solved['Subject']}",
            message_id=reopening_id,
            in_reply_to=solved["Message-ID"],
            references=[*solved["References"].split(), solved["Message-ID"]],
            body="Sorry, it has stopped again this morning.",
        ),
        rcpt_tos=[solved["Reply-To"]],
    )
    assert InboundEmail.objects.get(message_id=reopening_id).ticket_id == conversation.ticket.pk
    assert conversation.refresh().status == Status.OPEN

    do_change_status(conversation.ticket, Status.CLOSED, acting_user=demo.omar)
    friday.shift(timedelta(days=30))
    late_id = make_msgid(domain="harbourbakery.example")
    receiver.send(
        build_message(
            sender="Jo Marsh <jo@harbourbakery.example>",
            to=conversation.reply_address,
            subject=f"Re: [{conversation.ticket.reference}] Contact form not sending",
            message_id=late_id,
            in_reply_to=solved["Message-ID"],
            references=[conversation.original_id, solved["Message-ID"]],
            body="It is broken again, a month later.",
        ),
        rcpt_tos=[conversation.reply_address],
    )
    inbound = InboundEmail.objects.get(message_id=late_id)
    assert inbound.status == InboundStatus.TICKETED
    assert inbound.ticket_id != conversation.ticket.pk
    assert conversation.refresh().status == Status.CLOSED
    assert not conversation.ticket.messages.filter(email_message_id=late_id).exists()
    new = Ticket.objects.get(pk=inbound.ticket_id)
    assert (new.organisation, new.requester) == (demo.harbour, demo.jo)


# The receiver itself (no database work: the closest mark wins over the module's)


@pytest.mark.django_db
def test_receiver_refuses_mail_for_other_domains(receiver):
    raw = build_message(sender=f"Jo Marsh <{JO}>", to="someone@elsewhere.example")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        receiver.send(raw, rcpt_tos=["someone@elsewhere.example"])
    assert refused.value.recipients["someone@elsewhere.example"][0] == 550


@pytest.mark.django_db
def test_receiver_answers_a_temporary_failure_when_it_cannot_store(receiver, monkeypatch):
    def down(raw, **kwargs):
        raise OperationalError("the database is not reachable")

    monkeypatch.setattr(smtpd, "receive", down)
    with pytest.raises(smtplib.SMTPDataError) as failed:
        receiver.send(build_message(sender=f"Jo Marsh <{JO}>"))
    assert failed.value.smtp_code == 451  # the client's server keeps the mail and retries
