"""Mailgun's inbound webhook (django-anymail), with the payload Mailgun really posts.

A route with ``forward("https://…/mail/inbound/mailgun/inbound_mime/")`` posts
multipart form data: the raw message in ``body-mime``, envelope fields, and
``timestamp``/``token``/``signature`` (HMAC-SHA256 of timestamp + token with the
webhook signing key).
"""

import hashlib
import hmac
import time

import pytest
from django.urls import reverse

from caredesk.mail.models import InboundEmail, InboundStatus, OutboundEmail
from caredesk.tickets.models import Ticket

from .conftest import build_message

SIGNING_KEY = "key-7f1c0d2a9b8e4c3f6a5d4e3b2c1a0f9e"
URL = "/mail/inbound/mailgun/inbound_mime/"
JO = "jo@harbourbakery.example"


@pytest.fixture
def mailgun(settings, support_address):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


def signed(timestamp: str, token: str, key: str = SIGNING_KEY) -> str:
    return hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()


def payload(raw: bytes, *, key: str = SIGNING_KEY, token: str = "") -> dict[str, str]:
    timestamp = str(int(time.time()))
    token = token or hashlib.sha256(raw + timestamp.encode()).hexdigest()[:50]
    return {
        "recipient": "support@localhost",
        "sender": JO,
        "from": f"Jo Marsh <{JO}>",
        "subject": "Contact form not sending",
        "body-mime": raw.decode("utf-8"),
        "timestamp": timestamp,
        "token": token,
        "signature": signed(timestamp, token, key),
        "X-Mailgun-Incoming": "Yes",
    }


def test_the_url_is_anymails_mailgun_inbound_route():
    assert reverse("anymail:mailgun_inbound_webhook", args=["_mime"]) == URL


def test_signed_mailgun_post_opens_a_ticket(client, demo, mailgun, committing):
    raw = build_message(sender=f"Jo Marsh <{JO}>", message_id="<mg.1@harbourbakery.example>")
    with committing():
        response = client.post(URL, payload(raw))
    assert response.status_code == 200
    inbound = InboundEmail.objects.get()
    assert (inbound.via, inbound.status) == ("webhook:mailgun", InboundStatus.TICKETED)
    assert inbound.envelope_to == ["support@localhost"]
    assert inbound.message_id == "<mg.1@harbourbakery.example>"
    ticket = Ticket.objects.get()
    assert (ticket.organisation, ticket.requester) == (demo.harbour, demo.jo)
    assert ticket.messages.get().body.startswith("Hello,")
    assert OutboundEmail.objects.get().kind == "confirmation"


def test_eight_bit_utf8_mail_from_mailgun_is_read(client, demo, mailgun):
    raw = (
        f"From: Jo Marsh <{JO}>\r\nTo: support@localhost\r\nSubject: Crème brûlée page\r\n"
        "Message-ID: <mg.8bit@harbourbakery.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
        "The price of the crème brûlée shows as £0.00 – could you look?\r\n"
    ).encode()
    response = client.post(URL, payload(raw))
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.subject == "Crème brûlée page"
    assert "crème brûlée shows as £0.00 – could" in ticket.messages.get().body


def test_mailgun_retrying_the_same_post_makes_one_ticket(client, demo, mailgun):
    raw = build_message(sender=f"Jo Marsh <{JO}>", message_id="<mg.2@harbourbakery.example>")
    assert client.post(URL, payload(raw)).status_code == 200
    assert client.post(URL, payload(raw)).status_code == 200
    assert Ticket.objects.count() == 1
    statuses = sorted(InboundEmail.objects.values_list("status", flat=True))
    assert statuses == [InboundStatus.DUPLICATE, InboundStatus.TICKETED]


def test_bad_signature_is_refused_and_nothing_is_stored(client, demo, mailgun):
    raw = build_message(sender=f"Jo Marsh <{JO}>")
    forged = payload(raw, key="key-guessed-by-someone-else")
    response = client.post(URL, forged)
    assert response.status_code == 400
    assert not InboundEmail.objects.exists()
    assert not Ticket.objects.exists()


def test_missing_signature_is_refused(client, demo, mailgun):
    fields = payload(build_message(sender=f"Jo Marsh <{JO}>"))
    del fields["signature"]
    assert client.post(URL, fields).status_code == 400
    assert not InboundEmail.objects.exists()
