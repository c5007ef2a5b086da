"""Classification decides whether caredesk may answer: never answer a robot."""

from __future__ import annotations

import pytest

from caredesk.mail.parse import parse_message

BASE = b"From: Jane <jane@client.example>\nTo: support@agency.example\nSubject: %s\n%s\nHello\n"


def _parse(headers: bytes = b"", subject: bytes = b"Website question") -> object:
    return parse_message(BASE % (subject, headers))


@pytest.mark.parametrize(
    ("headers", "kind", "reason"),
    [
        (b"Auto-Submitted: auto-replied\n", "auto_reply", "Auto-Submitted: auto-replied"),
        (b"Auto-Submitted: auto-generated\n", "auto_reply", "Auto-Submitted: auto-generated"),
        (
            b"Auto-Submitted: auto-notified; owner-email=x@y\n",
            "auto_reply",
            "Auto-Submitted: auto-notified",
        ),
        (b"Precedence: bulk\n", "auto_reply", "Precedence: bulk"),
        (b"Precedence: junk\n", "auto_reply", "Precedence: junk"),
        (b"Precedence: list\n", "list", "Precedence: list"),
        (b"List-Id: <news.client.example>\n", "list", "List-Id"),
        (b"List-Unsubscribe: <mailto:u@client.example>\n", "list", "List-Unsubscribe"),
        (b"X-Loop: support@agency.example\n", "loop", "X-Loop"),
        (b"X-Auto-Response-Suppress: All\n", "auto_reply", "X-Auto-Response-Suppress"),
        (b"X-Auto-Response-Suppress: DR, OOF\n", "auto_reply", "X-Auto-Response-Suppress"),
        (b"X-Auto-Response-Suppress: AutoReply\n", "auto_reply", "X-Auto-Response-Suppress"),
        (b"Return-Path: <>\n", "auto_reply", "empty return path"),
        (b"Return-Path: < >\n", "auto_reply", "empty return path"),
        (b"X-Autoreply: yes\n", "auto_reply", "X-Autoreply"),
        (b"X-Autorespond: 1\n", "auto_reply", "X-Autorespond"),
    ],
)
def test_robot_headers_are_recognised(headers: bytes, kind: str, reason: str) -> None:
    message = _parse(headers)
    assert message.kind == kind
    assert reason in message.auto_reasons
    assert not message.may_auto_reply


@pytest.mark.parametrize(
    "headers",
    [
        b"",
        b"Auto-Submitted: no\n",
        b"Auto-Submitted: No (a person sent this)\n",
        b"Precedence: first-class\n",
        b"X-Auto-Response-Suppress: DR, RN, NRN\n",  # delivery/read receipts only
        b"Return-Path: <jane@client.example>\n",
    ],
)
def test_mail_from_people_is_normal(headers: bytes) -> None:
    message = _parse(headers)
    assert message.kind == "normal"
    assert message.auto_reasons == ()
    assert message.may_auto_reply


@pytest.mark.parametrize(
    "subject",
    [
        b"Out of Office: Website question",
        b"Out of office",
        b"Out of the Office AutoReply: Website question",
        b"Automatic reply: [#1042] Website question",
        b"AutoReply: Website question",
        b"Auto-Reply: Website question",
        b"Abwesenheitsnotiz: Website question",
        b"Automatische Antwort: Website question",
        "Réponse automatique : Website question".encode(),
        b"Autosvar: Website question",
        b"Automatisch antwoord: Website question",
        b"Risposta automatica: Website question",
        "Respuesta automática: Website question".encode(),
        "自動応答: Website question".encode(),
    ],
)
def test_out_of_office_subjects(subject: bytes) -> None:
    message = _parse(subject=subject)
    assert message.kind == "auto_reply"
    assert message.is_out_of_office
    assert "out-of-office subject" in message.auto_reasons


@pytest.mark.parametrize(
    "subject",
    [
        b"Re: Automatic reply settings on the contact form",
        b"Out of office plugin shows wrong dates",
        b"Can you set up an out of office reply for me?",
        b"Our office is out of paper",
    ],
)
def test_people_writing_about_out_of_office_are_not_robots(subject: bytes) -> None:
    message = _parse(subject=subject)
    assert message.kind == "normal"
    assert not message.is_out_of_office


def test_auto_replied_header_marks_out_of_office() -> None:
    assert _parse(b"Auto-Submitted: auto-replied\n").is_out_of_office
    assert not _parse(b"Auto-Submitted: auto-generated\n").is_out_of_office


def test_bulk_newsletter_with_list_headers_is_list_mail() -> None:
    message = _parse(b"Precedence: bulk\nList-Unsubscribe: <https://news.example/u>\n")
    assert message.kind == "list"
    assert message.auto_reasons == ("List-Unsubscribe", "Precedence: bulk")


def test_loop_beats_auto_reply_and_list() -> None:
    message = _parse(
        b"X-Loop: support@agency.example\nAuto-Submitted: auto-replied\nList-Id: <l>\n"
    )
    assert message.kind == "loop"
    assert message.auto_reasons[0] == "X-Loop"


@pytest.mark.parametrize(
    "sender",
    [
        b"MAILER-DAEMON@mx.client.example",
        b"MAILER-DAEMON (Mail Delivery System)",
        b"Mail Delivery Subsystem <mailer-daemon@googlemail.example>",
        b"postmaster@client.example",
        b'"Postmaster" <Postmaster@client.example>',
    ],
)
def test_mail_from_mailer_daemon_without_a_report_is_an_auto_reply(sender: bytes) -> None:
    message = parse_message(
        b"From: %s\nSubject: Your mailbox is full\n\nPlease tidy up.\n" % sender
    )
    assert message.kind == "auto_reply"
    assert "from mailer-daemon" in message.auto_reasons
    assert message.bounce is None


def test_a_person_named_postmaster_in_the_display_name_is_not_a_daemon() -> None:
    message = parse_message(b"From: Postmaster Pat <pat@client.example>\nSubject: Hi\n\nHello\n")
    assert message.kind == "normal"


def test_mailer_daemon_with_bounce_subject_is_a_bounce() -> None:
    message = parse_message(
        b"From: MAILER-DAEMON@mx.client.example\nSubject: Undelivered Mail Returned to Sender\n\n"
        b"<gone@client.example>: 550 5.1.1 User unknown\n\n"
        b"------ This is a copy of the message, including all the headers. ------\n"
        b"Message-ID: <ticket-7-1@agency.example>\nSubject: [#7] Hi\n"
    )
    assert message.kind == "bounce"
    assert message.bounce is not None
    assert message.bounce.recipients == ("gone@client.example",)
    assert message.bounce.status == "5.1.1"
    assert message.bounce.original_message_id == "<ticket-7-1@agency.example>"
    assert message.bounce.diagnostic == "550 5.1.1 User unknown"


def test_delivery_report_is_a_bounce_whoever_sends_it() -> None:
    message = parse_message(
        b"From: Robot <robot@relay.example>\nSubject: Report\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
        b"--b\nContent-Type: text/plain\n\nFailed.\n"
        b"--b\nContent-Type: message/delivery-status\n\n"
        b"Reporting-MTA: dns; relay.example\n\n"
        b"Final-Recipient: rfc822; Gone@Client.example\nAction: failed\nStatus: 5.2.2\n"
        b"Diagnostic-Code: smtp; 552 mailbox full\n"
        b"--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: <orig@agency.example>\n"
        b"--b--\n"
    )
    assert message.kind == "bounce"
    assert message.bounce is not None
    assert message.bounce.recipients == ("gone@client.example",)
    assert message.bounce.status == "5.2.2"
    assert message.bounce.diagnostic == "smtp; 552 mailbox full"
    assert message.bounce.original_message_id == "<orig@agency.example>"
    assert message.bounce.permanent


def test_person_forwarding_a_bounce_is_not_a_bounce() -> None:
    message = parse_message(
        b"From: Jane <jane@client.example>\nSubject: Fwd: Undelivered Mail\n"
        b"Content-Type: multipart/mixed; boundary=b\n\n"
        b"--b\nContent-Type: text/plain\n\nWhy did I get this?\n"
        b"--b\nContent-Type: message/rfc822\n\nFrom: MAILER-DAEMON@x.example\n"
        b"Subject: Undelivered Mail\nContent-Type: multipart/report; report-type=delivery-status;"
        b" boundary=c\n\n--c\nContent-Type: message/delivery-status\n\nAction: failed\n--c--\n"
        b"--b--\n"
    )
    assert message.kind == "normal"
    assert message.bounce is None


def test_success_report_is_recorded_but_not_permanent() -> None:
    message = parse_message(
        b"From: MAILER-DAEMON@relay.example\nSubject: Delivery Status Notification (Relay)\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
        b"--b\nContent-Type: message/delivery-status\n\n"
        b"Final-Recipient: rfc822; jane@client.example\nAction: relayed\nStatus: 2.0.0\n"
        b"--b--\n"
    )
    assert message.kind == "bounce"
    assert message.bounce is not None
    assert message.bounce.action == "relayed"
    assert not message.bounce.permanent
