"""The outbox: sent by the worker over SMTP, retried with backoff, never twice.

Also what the mail says: threading headers, robots told not to answer, the
after-hours emergency route, and billing stated at intake.
"""

from datetime import datetime, timedelta

import pytest
import time_machine

from caredesk.mail.models import OutboundEmail, OutboundState, SendAttempt
from caredesk.mail.outbound import BACKOFF, STALE_CLAIM, send_outbox
from caredesk.plans.models import WorkCategory
from caredesk.tickets.actions import do_create_ticket, do_reply

from .conftest import LONDON, build_message

JO = "jo@harbourbakery.example"
NELL = "nell@stroudvalleyarts.example"
STUDIO_ROUTE = "call us on 01453 884100"


@pytest.fixture
def confirmation(demo, ingest, friday) -> OutboundEmail:
    """Jo's ticket is opened by email; its confirmation waits in the outbox."""
    ingest(build_message(sender=f"Jo Marsh <{JO}>"))
    return OutboundEmail.objects.get(kind="confirmation")


@pytest.fixture
def smtp_down(settings, closed_port):
    """Django's SMTP backend pointed at a loopback port nothing listens on."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2


# Retries


def test_a_failing_server_is_retried_with_backoff_then_given_up(confirmation, smtp_down, friday):
    waits = []
    for attempt in range(1, len(BACKOFF) + 2):
        assert send_outbox.call() == 0
        confirmation.refresh_from_db()
        assert confirmation.attempts == attempt
        assert "ConnectionRefusedError" in confirmation.last_error
        if confirmation.state == OutboundState.FAILED:
            break
        assert confirmation.state == OutboundState.QUEUED
        waits.append(confirmation.next_attempt_at - SendAttempt.objects.last().at)
        friday.move_to(confirmation.next_attempt_at + timedelta(seconds=1))

    assert confirmation.state == OutboundState.FAILED
    assert confirmation.attempts == len(BACKOFF) + 1
    assert [round(w.total_seconds() / 60) for w in waits] == [1, 5, 15, 60, 180, 360]
    log = list(confirmation.log.all())
    assert len(log) == len(BACKOFF) + 1
    assert not any(a.ok for a in log)
    assert all("ConnectionRefusedError" in a.error for a in log)
    assert send_outbox.call() == 0  # a failed message stays failed
    assert confirmation.log.count() == len(BACKOFF) + 1


def test_a_retry_waits_for_its_time(confirmation, smtp_down, friday):
    send_outbox.call()
    friday.shift(timedelta(seconds=30))
    send_outbox.call()
    confirmation.refresh_from_db()
    assert confirmation.attempts == 1
    assert SendAttempt.objects.count() == 1


def test_a_retry_goes_out_once_the_server_is_back(
    confirmation, mailbox, settings, closed_port, friday
):
    settings.EMAIL_PORT = closed_port  # the mail server is down…
    send_outbox.call()
    settings.EMAIL_PORT = mailbox.port  # …and back
    friday.shift(timedelta(minutes=2))
    assert send_outbox.call() == 1
    confirmation.refresh_from_db()
    assert (confirmation.state, confirmation.attempts) == (OutboundState.SENT, 2)
    assert [a.ok for a in confirmation.log.all()] == [False, True]
    assert confirmation.last_error == ""
    assert len(mailbox.to(JO)) == 1


# Never twice


def test_running_the_outbox_twice_sends_once(confirmation, mailbox):
    assert send_outbox.call() == 1
    assert send_outbox.call() == 0
    assert len(mailbox.received) == 1
    confirmation.refresh_from_db()
    assert confirmation.state == OutboundState.SENT
    assert confirmation.log.count() == 1


def test_a_message_another_worker_is_sending_is_left_alone(confirmation, mailbox, friday):
    claimed = OutboundEmail.objects.filter(pk=confirmation.pk, state=OutboundState.QUEUED).update(
        state=OutboundState.SENDING, claimed_at=confirmation.created_at
    )
    assert claimed == 1
    friday.shift(STALE_CLAIM - timedelta(minutes=1))
    assert send_outbox.call() == 0
    assert mailbox.received == []


def test_a_stale_claim_is_requeued_and_sent_once(confirmation, mailbox, friday):
    OutboundEmail.objects.filter(pk=confirmation.pk).update(
        state=OutboundState.SENDING, claimed_at=confirmation.created_at
    )
    friday.shift(STALE_CLAIM + timedelta(minutes=1))  # that worker died mid-send
    assert send_outbox.call() == 1
    assert send_outbox.call() == 0
    assert len(mailbox.received) == 1
    confirmation.refresh_from_db()
    assert confirmation.state == OutboundState.SENT


# Headers


def test_headers_thread_the_conversation(confirmation, mailbox, ingest, demo, committing):
    ticket = confirmation.ticket
    first_id = ticket.messages.get().email_message_id
    with committing():
        do_reply(ticket, "Which form is it?", acting_user=demo.omar)
    reply = OutboundEmail.objects.get(kind="reply")
    answer_id = "<answer.1@harbourbakery.example>"
    ingest(
        build_message(
            sender=JO,
            subject=f"Re: {reply.subject}",
            message_id=answer_id,
            in_reply_to=reply.message_id,
            references=[first_id, confirmation.message_id, reply.message_id],
            body="The one on the Contact page.",
        )
    )
    with committing():
        do_reply(ticket, "Thanks, fixing it now.", acting_user=demo.omar)
    second = OutboundEmail.objects.filter(kind="reply").latest("created_at")
    assert send_outbox.call() == 3

    by_id = {d.message["Message-ID"]: d.message for d in mailbox.received}
    assert set(by_id) == {confirmation.message_id, reply.message_id, second.message_id}
    sent = by_id[second.message_id]
    assert sent["In-Reply-To"] == answer_id  # the client's latest message
    assert sent["References"].split() == [
        first_id,
        confirmation.message_id,
        reply.message_id,
        answer_id,
    ]
    for message in by_id.values():
        assert message["Reply-To"] == f"support+{ticket.reply_token}@localhost"
        assert message["X-Caredesk-Ticket"] == str(ticket.number)
        assert message["From"] == "caredesk <support@localhost>"


def test_automatic_mail_tells_robots_not_to_answer_and_human_replies_do_not(
    confirmation, mailbox, demo, committing
):
    with committing():
        do_reply(confirmation.ticket, "On it.", acting_user=demo.omar)
    send_outbox.call()
    by_kind = {
        ("confirmation" if "Received:" in d.message["Subject"] else "reply"): d.message
        for d in mailbox.received
    }
    assert by_kind["confirmation"]["Auto-Submitted"] == "auto-replied"
    assert by_kind["confirmation"]["X-Auto-Response-Suppress"] == "All"
    assert by_kind["reply"]["Auto-Submitted"] is None
    assert by_kind["reply"]["X-Auto-Response-Suppress"] is None


def test_a_portal_ticket_confirmation_is_auto_generated(demo, committing, friday):
    with committing():
        do_create_ticket(
            subject="Add a gift card page",
            body="Could we sell gift cards?",
            channel="portal",
            requester=demo.jo,
        )
    confirmation = OutboundEmail.objects.get()
    assert confirmation.headers["Auto-Submitted"] == "auto-generated"
    assert "In-Reply-To" not in confirmation.headers


# What the confirmation says


def _nell_writes(ingest) -> OutboundEmail:
    ingest(build_message(sender=f"Nell Price <{NELL}>", subject="Gallery page is blank"))
    return OutboundEmail.objects.get(kind="confirmation", to=[NELL])


def test_after_hours_confirmation_names_the_emergency_route(demo, ingest):
    saturday = datetime(2026, 11, 21, 10, 0, tzinfo=LONDON)
    with time_machine.travel(saturday, tick=False):
        confirmation = _nell_writes(ingest)
    assert "We are closed right now." in confirmation.text
    assert STUDIO_ROUTE in confirmation.text
    assert STUDIO_ROUTE in confirmation.html


def test_office_hours_confirmation_leaves_the_emergency_route_out(demo, ingest, friday):
    confirmation = _nell_writes(ingest)
    assert STUDIO_ROUTE not in confirmation.text
    assert "closed" not in confirmation.text


def test_evening_confirmation_after_the_studio_closes_names_the_route(demo, ingest):
    with time_machine.travel(datetime(2026, 11, 20, 17, 30, tzinfo=LONDON), tick=False):
        confirmation = _nell_writes(ingest)
    assert STUDIO_ROUTE in confirmation.text


def test_billable_ticket_confirmation_states_the_bill_and_the_rate(demo, committing, friday):
    with committing():
        ticket = do_create_ticket(
            subject="Add a gift card page",
            body="Could we sell gift cards on the site?",
            channel="portal",
            requester=demo.jo,
            category=WorkCategory.objects.get(code="new-feature"),
        )
    assert ticket.billable
    text = OutboundEmail.objects.get(ticket=ticket).text
    assert "New feature is not included in KIJO Care; it is billed per hour." in text
    assert "The rate is 85.00 GBP an hour." in text


def test_included_work_confirmation_says_nothing_about_billing(demo, committing, friday):
    with committing():
        ticket = do_create_ticket(
            subject="Contact form broken",
            body="No enquiries since Tuesday.",
            channel="portal",
            requester=demo.jo,
            category=WorkCategory.objects.get(code="contact-form"),
        )
    assert not ticket.billable
    text = OutboundEmail.objects.get(ticket=ticket).text
    assert "billed" not in text and "rate" not in text.lower()
