"""The inbound pipeline (``caredesk.mail.ingest.receive``) and ``caredesk mail ingest``.

Bounces, robots and loops, rate limits, the quarantine, unknown senders and
attachments: every message is kept, and lands where it should.
"""

import io
import random
from datetime import timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from caredesk.clients.models import Contact
from caredesk.mail import ingest as ingest_module
from caredesk.mail.ingest import release
from caredesk.mail.models import (
    InboundEmail,
    InboundStatus,
    OutboundEmail,
    OutboundState,
    Undeliverable,
)
from caredesk.tickets import actions
from caredesk.tickets.actions import do_change_status, do_reply
from caredesk.tickets.models import Attachment, Message, Status, Ticket, TicketEvent

from .conftest import build_message

JO = "jo@harbourbakery.example"
PAT = "pat@harbourbakery.example"


@pytest.fixture
def jo_ticket(demo, ingest, friday) -> Ticket:
    """Jo's ticket, opened by email and confirmed."""
    inbound = ingest(build_message(sender=f"Jo Marsh <{JO}>"))
    assert inbound.status == InboundStatus.TICKETED
    return inbound.ticket


def _no_mail_goes_out() -> None:
    assert not OutboundEmail.objects.exists()


def dsn(
    original: OutboundEmail,
    *,
    status: str = "5.1.1",
    action: str = "failed",
    returned: str = "message/rfc822",
) -> bytes:
    """A Postfix delivery status notification for a message caredesk sent.

    ``returned`` is how the bounced message comes back: whole (``message/rfc822``)
    or as its headers only (``text/rfc822-headers``, what many servers send).
    """
    recipient = original.to[0]
    dsn_id = make_msgid(domain="mx.harbourbakery.example")
    body = "" if returned == "text/rfc822-headers" else original.text
    return f"""\
Return-Path: <>
Received: by mx.harbourbakery.example (Postfix) id 4Fq2b; Fri, 20 Nov 2026 11:31:02 +0000
Date: Fri, 20 Nov 2026 11:31:02 +0000 (GMT)
From: MAILER-DAEMON@mx.harbourbakery.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: support@localhost
Auto-Submitted: auto-replied
Message-Id: {dsn_id}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4Fq2b.1795174262/mx.harbourbakery.example"

This is a MIME-encapsulated message.

--4Fq2b.1795174262/mx.harbourbakery.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.harbourbakery.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{recipient}>: host mail.harbourbakery.example[192.0.2.10] said: 550 {status}
    <{recipient}>: Recipient address rejected: User unknown

--4Fq2b.1795174262/mx.harbourbakery.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.harbourbakery.example
X-Postfix-Queue-ID: 4Fq2b
Arrival-Date: Fri, 20 Nov 2026 11:31:01 +0000 (GMT)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mail.harbourbakery.example
Diagnostic-Code: smtp; 550 {status} <{recipient}>: Recipient address rejected:
    User unknown in virtual mailbox table

--4Fq2b.1795174262/mx.harbourbakery.example
Content-Description: Undelivered Message
Content-Type: {returned}

From: caredesk <support@localhost>
To: {recipient}
Subject: {original.subject}
Message-ID: {original.message_id}
Auto-Submitted: auto-replied
Content-Type: text/plain; charset="utf-8"

{body}
--4Fq2b.1795174262/mx.harbourbakery.example--
""".replace("\n", "\r\n").encode()


# Bounces


@pytest.mark.parametrize("returned", ["message/rfc822", "text/rfc822-headers"])
def test_bounce_is_recorded_on_the_message_it_bounces_and_never_becomes_a_ticket(
    jo_ticket, ingest, returned
):
    confirmation = OutboundEmail.objects.get(kind="confirmation")
    inbound = ingest(dsn(confirmation, returned=returned))

    assert inbound.status == InboundStatus.BOUNCE
    assert inbound.ticket_id == jo_ticket.pk
    confirmation.refresh_from_db()
    assert confirmation.bounced_at is not None
    assert "User unknown" in confirmation.bounce_reason
    blocked = Undeliverable.objects.get(email=JO)
    assert "5.1.1" in blocked.reason
    event = TicketEvent.objects.get(ticket=jo_ticket, kind="bounce")
    assert event.data["recipients"] == [JO]
    assert Ticket.objects.count() == 1
    assert jo_ticket.messages.count() == 1
    assert OutboundEmail.objects.count() == 1  # nobody is told about a bounce by email


def test_mail_to_an_undeliverable_address_is_suppressed(jo_ticket, ingest, demo, committing):
    ingest(dsn(OutboundEmail.objects.get(kind="confirmation")))
    with committing():
        do_reply(jo_ticket, "We have fixed the form.", acting_user=demo.omar)
    reply = OutboundEmail.objects.get(kind="reply")
    assert reply.state == OutboundState.SUPPRESSED
    assert reply.to == []
    assert JO in reply.last_error


def test_a_new_request_from_an_undeliverable_address_gets_no_confirmation(demo, ingest):
    Undeliverable.objects.create(email=JO, reason="550 5.1.1 User unknown")
    inbound = ingest(build_message(sender=f"Jo Marsh <{JO}>", subject="Logo on invoices"))
    assert inbound.status == InboundStatus.TICKETED
    confirmation = OutboundEmail.objects.get(kind="confirmation")
    assert confirmation.state == OutboundState.SUPPRESSED
    assert confirmation.to == []
    assert JO in confirmation.last_error


def test_a_bounce_of_something_we_never_sent_is_kept_and_opens_nothing(demo, ingest):
    forged = OutboundEmail(
        to=["gone@elsewhere.example"],
        subject="Spam we never sent",
        text="Buy now",
        message_id="<forged.1@spammer.example>",
    )  # not saved: backscatter for mail forged in our name
    inbound = ingest(dsn(forged))
    assert inbound.status == InboundStatus.BOUNCE
    assert "an unknown message" in inbound.reason
    assert inbound.ticket_id is None
    assert not Ticket.objects.exists()
    _no_mail_goes_out()


def test_a_forged_bounce_cannot_silence_a_client(jo_ticket, ingest, demo, committing):
    forged = OutboundEmail(
        to=[JO], subject="Anything", text="Anything", message_id="<guess.1@localhost>"
    )  # not saved: the forger does not know our Message-IDs
    ingest(dsn(forged))
    with committing():
        do_reply(jo_ticket, "We have fixed the form.", acting_user=demo.omar)
    assert OutboundEmail.objects.get(kind="reply").state == OutboundState.QUEUED


def test_a_delay_warning_does_not_mark_the_address_undeliverable(jo_ticket, ingest):
    confirmation = OutboundEmail.objects.get(kind="confirmation")
    inbound = ingest(dsn(confirmation, status="4.4.1", action="delayed"))
    assert inbound.status == InboundStatus.BOUNCE
    assert not Undeliverable.objects.exists()
    assert Ticket.objects.count() == 1


def test_a_second_bounce_counts_on_the_same_address(jo_ticket, ingest, demo, committing):
    ingest(dsn(OutboundEmail.objects.get(kind="confirmation")))
    Undeliverable.objects.all().delete()  # staff cleared it: the mailbox was restored
    with committing():
        do_reply(jo_ticket, "Is the new address working?", acting_user=demo.omar)
    ingest(dsn(OutboundEmail.objects.get(kind="reply")))
    ingest(dsn(OutboundEmail.objects.get(kind="reply"), status="5.2.1"))
    assert Undeliverable.objects.get(email=JO).bounces == 2


# Robots and loops


def test_out_of_office_on_a_ticket_is_kept_silently_without_reopening(
    jo_ticket, ingest, demo, committing
):
    with committing():
        do_change_status(jo_ticket, Status.SOLVED, acting_user=demo.omar)
    solved = OutboundEmail.objects.get(kind="solved")
    before = OutboundEmail.objects.count()
    ooo = build_message(
        sender=f"Jo Marsh <{JO}>",
        subject=f"Automatic reply: {solved.subject}",
        in_reply_to=solved.message_id,
        references=solved.message_id,
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
        body="I am out of the office until Monday 30 November.",
    )
    inbound = ingest(ooo)

    assert (inbound.status, inbound.ticket_id) == (InboundStatus.THREADED, jo_ticket.pk)
    message = Message.objects.get(pk=inbound.ticket_message_id)
    assert message.is_auto
    jo_ticket.refresh_from_db()
    assert jo_ticket.status == Status.SOLVED
    assert OutboundEmail.objects.count() == before


def test_client_reply_reopens_a_ticket_pending_on_the_client(jo_ticket, ingest, demo, committing):
    with committing():
        do_reply(jo_ticket, "Which form?", acting_user=demo.omar, status=Status.PENDING)
    reply = OutboundEmail.objects.get(kind="reply")
    ingest(
        build_message(
            sender=f"Jo Marsh <{JO}>",
            subject=f"Re: {reply.subject}",
            in_reply_to=reply.message_id,
            body="The enquiry form.",
        )
    )
    jo_ticket.refresh_from_db()
    assert jo_ticket.status == Status.OPEN


def test_out_of_office_leaves_a_pending_ticket_pending(jo_ticket, ingest, demo, committing):
    with committing():
        do_reply(jo_ticket, "Which form?", acting_user=demo.omar, status=Status.PENDING)
    reply = OutboundEmail.objects.get(kind="reply")
    ingest(
        build_message(
            sender=f"Jo Marsh <{JO}>",
            subject=f"Out of office: {reply.subject}",
            in_reply_to=reply.message_id,
            headers={"X-Autoreply": "yes"},
            body="Back on Monday.",
        )
    )
    jo_ticket.refresh_from_db()
    assert jo_ticket.status == Status.PENDING
    assert OutboundEmail.objects.count() == 2  # the confirmation and the reply, no more


def test_auto_reply_with_no_thread_is_ignored_and_never_answered(demo, ingest):
    inbound = ingest(
        build_message(
            sender=f"Jo Marsh <{JO}>",
            subject="Out of Office: back on Monday",
            headers={"Auto-Submitted": "auto-replied"},
            body="I am away until Monday.",
        )
    )
    assert inbound.status == InboundStatus.IGNORED
    assert "Auto-Submitted" in inbound.reason
    assert not Ticket.objects.exists()
    _no_mail_goes_out()


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Auto-Submitted", "auto-generated"),
        ("Precedence", "bulk"),
        ("Precedence", "junk"),
        ("Precedence", "list"),
        ("List-Id", "Harbour staff <staff.harbourbakery.example>"),
        ("X-Loop", "support@localhost"),
        ("X-Auto-Response-Suppress", "OOF, AutoReply"),
        ("Return-Path", "<>"),
    ],
)
def test_robots_and_lists_get_no_automatic_answer(ingest, header, value):
    inbound = ingest(
        build_message(
            sender="Site Robot <wordpress@robot.example>",
            subject="[Harbour Bakery] Some plugins were automatically updated",
            headers={header: value},
        )
    )
    assert InboundEmail.objects.filter(pk=inbound.pk).exists()  # kept, whatever it is
    assert inbound.status == InboundStatus.IGNORED
    _no_mail_goes_out()


def test_mailer_daemon_without_a_report_gets_no_answer(ingest):
    inbound = ingest(
        build_message(
            sender="MAILER-DAEMON@mx.robot.example",
            subject="Warning: could not send message for past 4 hours",
        )
    )
    assert inbound.status == InboundStatus.IGNORED
    _no_mail_goes_out()


def test_auto_submitted_no_is_a_person_and_gets_a_confirmation(ingest):
    inbound = ingest(build_message(sender="person@robot.example", headers={"Auto-Submitted": "no"}))
    assert inbound.status == InboundStatus.TICKETED
    assert OutboundEmail.objects.get().kind == "confirmation"


def test_more_mail_than_the_rate_limit_from_one_sender_is_quarantined(ingest, settings):
    settings.CAREDESK_MAIL_RATE_PER_HOUR = 3
    results = [
        ingest(build_message(sender="loop@robot.example", subject=f"Message {n}")) for n in range(4)
    ]
    assert [r.status for r in results[:3]] == [InboundStatus.TICKETED] * 3
    held = results[3]
    assert held.status == InboundStatus.QUARANTINED
    assert "more than 3 messages in an hour from loop@robot.example" in held.reason
    assert bytes(held.raw).startswith(b"From: loop@robot.example")
    assert Ticket.objects.count() == 3
    other = ingest(build_message(sender="someone@else.example"))
    assert other.status == InboundStatus.TICKETED


def test_rate_limited_mail_is_filed_when_released_later(ingest, settings, friday):
    settings.CAREDESK_MAIL_RATE_PER_HOUR = 1
    ingest(build_message(sender="busy@robot.example", subject="First"))
    held = ingest(build_message(sender="busy@robot.example", subject="Second"))
    assert held.status == InboundStatus.QUARANTINED
    friday.shift(timedelta(hours=2))
    release(held)
    held.refresh_from_db()
    assert held.status == InboundStatus.TICKETED
    assert held.ticket.subject == "Second"


# The quarantine


@pytest.mark.parametrize(
    "raw",
    [b"", b"\r\n\r\n", random.Random(4).randbytes(4096)],
    ids=["empty", "blank-lines", "random-binary"],
)
def test_unreadable_input_is_quarantined_with_its_bytes(ingest, raw):
    inbound = ingest(raw)
    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.QUARANTINED
    assert inbound.reason
    assert bytes(inbound.raw) == raw
    assert inbound.size == len(raw)
    assert not Ticket.objects.exists()
    _no_mail_goes_out()


def test_releasing_unreadable_input_reads_it_again(ingest, friday):
    inbound = ingest(b"\x00\xff" * 100)
    first_try = inbound.processed_at
    friday.shift(timedelta(minutes=5))
    release(inbound)
    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.QUARANTINED
    assert inbound.processed_at > first_try
    with pytest.raises(ValueError, match="only quarantined"):
        release(ingest(build_message(sender="a@b.example")))


def test_failure_while_filing_quarantines_and_writes_nothing_else(
    demo, ingest, monkeypatch, committing
):
    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(actions, "do_create_ticket", broken)
    raw = build_message(sender=f"Pat Baker <{PAT}>", subject="New starter needs a login")
    inbound = ingest(raw)
    inbound.refresh_from_db()

    assert inbound.status == InboundStatus.QUARANTINED
    assert "RuntimeError: database hiccup" in inbound.reason
    assert bytes(inbound.raw) == raw
    assert inbound.dedupe_key is None
    assert not Ticket.objects.exists()
    assert not Contact.objects.filter(email=PAT).exists()  # made inside the failed filing
    _no_mail_goes_out()

    monkeypatch.undo()
    with committing():
        release(inbound)
    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.TICKETED
    assert inbound.ticket.requester.email == PAT
    assert OutboundEmail.objects.get().to == [PAT]


# Senders


def test_unknown_sender_opens_an_unassigned_ticket(demo, ingest):
    inbound = ingest(build_message(sender="Jane Public <jane@gmail.example>"))
    assert inbound.status == InboundStatus.TICKETED
    ticket = inbound.ticket
    assert ticket.organisation is None
    assert ticket.requester is None
    assert (ticket.requester_email, ticket.requester_name) == ("jane@gmail.example", "Jane Public")
    assert not Contact.objects.filter(email="jane@gmail.example").exists()


def test_unknown_sender_is_refused_politely_when_so_configured(demo, ingest, settings):
    settings.CAREDESK_UNKNOWN_SENDERS = "refuse"
    original_id = make_msgid(domain="gmail.example")
    inbound = ingest(
        build_message(
            sender="jane@gmail.example", subject="Quote for a website", message_id=original_id
        )
    )
    assert inbound.status == InboundStatus.REFUSED
    assert not Ticket.objects.exists()
    refusal = OutboundEmail.objects.get()
    assert (refusal.kind, refusal.to) == ("refusal", ["jane@gmail.example"])
    assert refusal.subject == "Re: Quote for a website"
    assert refusal.headers["Auto-Submitted"] == "auto-replied"
    assert refusal.headers["X-Auto-Response-Suppress"] == "All"
    assert "could not match" in refusal.text


def test_refusal_threads_on_the_refused_message(demo, ingest, settings):
    settings.CAREDESK_UNKNOWN_SENDERS = "refuse"
    original_id = make_msgid(domain="gmail.example")
    ingest(build_message(sender="jane@gmail.example", message_id=original_id))
    refusal = OutboundEmail.objects.get()
    assert refusal.headers.get("In-Reply-To") == original_id
    assert original_id in refusal.headers.get("References", "")


def test_refusal_is_never_sent_to_an_auto_reply(demo, ingest, settings):
    settings.CAREDESK_UNKNOWN_SENDERS = "refuse"
    inbound = ingest(
        build_message(
            sender="jane@gmail.example",
            subject="Automatic reply: Quote for a website",
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    assert inbound.status == InboundStatus.IGNORED
    _no_mail_goes_out()


def test_refuse_mode_still_takes_mail_from_a_clients_domain(demo, ingest, settings):
    settings.CAREDESK_UNKNOWN_SENDERS = "refuse"
    inbound = ingest(build_message(sender=f"Pat Baker <{PAT}>"))
    assert inbound.status == InboundStatus.TICKETED
    assert inbound.ticket.organisation == demo.harbour


def test_sender_from_a_clients_domain_becomes_a_contact_there(demo, ingest):
    inbound = ingest(build_message(sender=f"Pat Baker <{PAT}>"))
    pat = Contact.objects.get(email=PAT)
    assert (pat.organisation, pat.name) == (demo.harbour, "Pat Baker")
    assert inbound.ticket.requester == pat
    assert inbound.ticket.organisation == demo.harbour
    assert inbound.ticket.sla_policy is not None  # the client's plan applies


def test_a_domain_that_only_ends_like_a_clients_is_not_theirs(demo, ingest):
    inbound = ingest(build_message(sender="eve@bakery.example"))
    assert inbound.ticket.organisation is None
    assert not Contact.objects.filter(email="eve@bakery.example").exists()


def test_the_same_first_email_twice_opens_one_ticket_and_one_confirmation(demo, ingest):
    raw = build_message(sender=f"Jo Marsh <{JO}>", subject="Logo on invoices")
    first, second = ingest(raw), ingest(raw)
    assert (first.status, second.status) == (InboundStatus.TICKETED, InboundStatus.DUPLICATE)
    assert second.ticket_id == first.ticket_id
    assert Ticket.objects.count() == 1
    assert OutboundEmail.objects.filter(kind="confirmation").count() == 1


def test_message_without_a_message_id_is_deduplicated_on_its_bytes(demo, ingest):
    message = EmailMessage(policy=SMTP)
    message["From"] = JO
    message["To"] = "support@localhost"
    message["Subject"] = "Sent from a scanner"
    message.set_content("Scan attached.")
    raw = message.as_bytes()
    first, second = ingest(raw), ingest(raw)
    assert (first.status, second.status) == (InboundStatus.TICKETED, InboundStatus.DUPLICATE)


def test_colleague_replying_on_a_thread_becomes_a_contact_and_follower(jo_ticket, ingest, demo):
    first = jo_ticket.messages.get()
    inbound = ingest(
        build_message(
            sender=f"Pat Baker <{PAT}>",
            cc=JO,
            subject="Re: Contact form not sending",
            references=first.email_message_id,
            body="Same problem on the booking form.\n\nPat",
        )
    )
    assert inbound.ticket_id == jo_ticket.pk
    pat = Contact.objects.get(email=PAT)
    assert pat.organisation == demo.harbour
    assert pat in jo_ticket.followers.all()


# Attachments


def _with_attachments() -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = f"Jo Marsh <{JO}>"
    message["To"] = "support@localhost"
    message["Subject"] = "Invoice layout"
    message["Message-ID"] = make_msgid(domain="harbourbakery.example")
    message.set_content("The logo is squashed on the invoice, see attached.")
    message.add_alternative(
        '<p>The logo is squashed on the invoice:</p><img src="cid:logo.1@harbour">',
        subtype="html",
    )
    html = message.get_body(("html",))
    html.add_related(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "image", "png", cid="<logo.1@harbour>")
    message.add_attachment(
        b"%PDF-1.4\n" + b"x" * 3000, maintype="application", subtype="pdf", filename="invoice.pdf"
    )
    message.add_attachment(
        b"MZ\x90\x00" + b"\x00" * 500,
        maintype="application",
        subtype="octet-stream",
        filename="fix-invoices.exe",
    )
    return message.as_bytes()


def test_attachments_are_stored_with_name_type_and_size(demo, ingest, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    inbound = ingest(_with_attachments())
    files = {a.filename: a for a in Attachment.objects.filter(message=inbound.ticket_message)}

    pdf = files["invoice.pdf"]
    assert (pdf.content_type, pdf.size, pdf.inline) == ("application/pdf", 3009, False)
    assert pdf.file.read().startswith(b"%PDF-1.4")
    logo = next(a for a in files.values() if a.content_type == "image/png")
    assert (logo.inline, logo.content_id) == (True, "logo.1@harbour")
    assert "fix-invoices.exe" not in files  # blocked type: never stored
    assert inbound.ticket_message.body.startswith("The logo is squashed")


def test_a_refused_attachment_is_noted_for_staff(demo, ingest, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    inbound = ingest(_with_attachments())
    ticket = inbound.ticket
    noted = [inbound.ticket_message.body, inbound.reason] + [
        str(e.data) for e in ticket.events.all()
    ]
    assert any("fix-invoices.exe" in text for text in noted)


# caredesk mail ingest


def _run_ingest(monkeypatch, raw: bytes) -> str:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    call_command("mail", "ingest", stdout=out)
    return out.getvalue()


def test_ingest_command_stores_a_message_from_stdin(demo, monkeypatch, support_address):
    output = _run_ingest(monkeypatch, build_message(sender=f"Jo Marsh <{JO}>"))
    inbound = InboundEmail.objects.get()
    assert output.strip() == f"stored as inbound #{inbound.pk}: Opened a new ticket"
    assert inbound.via == "pipe"
    assert inbound.ticket.requester == demo.jo


def test_ingest_command_exits_0_for_garbage_it_quarantines(monkeypatch, support_address):
    output = _run_ingest(monkeypatch, b"\x00\x01 not an email at all \xff")
    inbound = InboundEmail.objects.get()
    assert inbound.status == InboundStatus.QUARANTINED
    assert f"stored as inbound #{inbound.pk}: Quarantined" in output
    assert "quarantined: no mail headers" in output


def test_ingest_command_exits_75_when_it_cannot_store(monkeypatch, support_address):
    def down(raw, **kwargs):
        raise DatabaseError("could not connect to server")

    monkeypatch.setattr(ingest_module, "receive", down)
    with pytest.raises(SystemExit) as stopped:
        _run_ingest(monkeypatch, build_message(sender=f"Jo Marsh <{JO}>"))
    assert stopped.value.code == 75  # EX_TEMPFAIL: the mail server keeps it and retries


# Threading rules beyond the round trip


def test_known_participant_quoting_the_number_threads_without_headers(jo_ticket, ingest):
    inbound = ingest(
        build_message(
            sender=f"Jo Marsh <{JO}>",
            subject=f"Re: [{jo_ticket.reference}] Contact form not sending",
            body="Written from my phone, sorry.",
        )
    )
    assert (inbound.status, inbound.ticket_id) == (InboundStatus.THREADED, jo_ticket.pk)


def test_a_colleague_not_on_the_ticket_quoting_its_number_gets_a_new_ticket(
    jo_ticket, ingest, demo
):
    inbound = ingest(
        build_message(
            sender="Sam Ode <sam@harbourbakery.example>",
            subject=f"Re: [{jo_ticket.reference}] Contact form not sending",
        )
    )
    assert inbound.status == InboundStatus.TICKETED
    assert inbound.ticket_id != jo_ticket.pk
    assert inbound.ticket.organisation == demo.harbour


def test_the_reply_token_in_the_envelope_alone_threads(jo_ticket, ingest):
    token_address = f"support+{jo_ticket.reply_token}@localhost"
    inbound = ingest(
        build_message(sender=f"Jo Marsh <{JO}>", subject="New subject, same problem"),
        envelope_to=(token_address,),
    )
    assert inbound.ticket_id == jo_ticket.pk


def test_a_reply_reads_its_ticket_once_and_takes_no_savepoint_per_action(jo_ticket, ingest):
    token_address = f"support+{jo_ticket.reply_token}@localhost"
    with CaptureQueriesContext(connection) as queries:
        inbound = ingest(
            build_message(sender=f"Jo Marsh <{JO}>", subject="Still broken"),
            envelope_to=(token_address,),
        )
    assert inbound.ticket_id == jo_ticket.pk
    statements = [q["sql"] for q in queries]
    ticket_reads = [s for s in statements if s.startswith('SELECT "tickets_ticket"."id"')]
    assert len(ticket_reads) == 1  # read under lock when found; the action trusts it
    # Only the filing's own savepoint (inside this test's transaction), none per action.
    assert len([s for s in statements if s.startswith("SAVEPOINT")]) == 1


def test_an_unknown_reply_token_does_not_thread(jo_ticket, ingest):
    inbound = ingest(
        build_message(sender=f"Jo Marsh <{JO}>", to="support+0000000000000000@localhost")
    )
    assert inbound.status == InboundStatus.TICKETED
    assert inbound.ticket_id != jo_ticket.pk


def test_reply_on_a_follow_up_ticket_threads_there_not_to_the_closed_one(
    jo_ticket, ingest, demo, committing
):
    first_id = jo_ticket.messages.get().email_message_id
    with committing():
        do_change_status(jo_ticket, Status.CLOSED, acting_user=demo.omar)
    late_id = make_msgid(domain="harbourbakery.example")
    follow_up = ingest(
        build_message(
            sender=f"Jo Marsh <{JO}>",
            subject="Re: Contact form not sending",
            message_id=late_id,
            references=first_id,
        )
    ).ticket
    assert follow_up.pk != jo_ticket.pk
    confirmation = OutboundEmail.objects.get(kind="confirmation", ticket=follow_up)
    inbound = ingest(
        build_message(
            sender=f"Jo Marsh <{JO}>",
            subject="Re: Contact form still not sending",  # she edited the subject
            in_reply_to=confirmation.message_id,
            references=[first_id, late_id, confirmation.message_id],
        )
    )
    assert inbound.ticket_id == follow_up.pk


def test_mail_from_a_deactivated_contact_is_filed(demo, ingest):
    demo.sam.is_active = False
    demo.sam.save()
    inbound = ingest(build_message(sender="Sam Ode <sam@harbourbakery.example>"))
    assert inbound.status == InboundStatus.TICKETED, inbound.reason
