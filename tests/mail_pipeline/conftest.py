"""Real SMTP on loopback for the mail pipeline tests.

Two servers: caredesk's own receiver (``caredesk.mail.smtpd``), which clients write
to, and a plain aiosmtpd "client's mailbox" that Django's SMTP backend delivers
caredesk's outbound mail to. Both listen on 127.0.0.1 on free ports, so the tests
run in parallel and never touch the network.
"""

import smtplib
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller

from caredesk.accounts.models import User
from caredesk.clients.models import Contact, Organisation
from caredesk.ops.demo import load_demo

LONDON = ZoneInfo("Europe/London")
# Friday 20 November 2026, 11:30 London: KIJO's 9 business hours for a
# non-critical first response run to Monday 23 November, 11:30.
FRIDAY_1130 = datetime(2026, 11, 20, 11, 30, tzinfo=LONDON)
SUPPORT = "support@localhost"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def closed_port():
    """A loopback port that refuses connections: bound (so nobody else takes it), not listening."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def start_controller(make) -> Controller:
    """Start ``make(port)`` on a free port, retrying if another worker took it first."""
    for _ in range(5):
        server = make(free_port())
        try:
            server.start()
        except (OSError, RuntimeError):
            continue
        return server
    raise RuntimeError("no free port for an SMTP server on 127.0.0.1")


def build_message(
    *,
    sender: str,
    to: str | list[str] = SUPPORT,
    subject: str = "Contact form not sending",
    body: str = "Hello,\n\nThe contact form on our site does not send anything.\n\nJo",
    cc: str | list[str] | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | list[str] | None = None,
    headers: dict[str, str] | None = None,
    date: datetime | None = None,
) -> bytes:
    """A raw RFC 5322 message as a mail program would send it."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = ", ".join(to) if isinstance(to, list) else to
    if cc:
        message["Cc"] = ", ".join(cc) if isinstance(cc, list) else cc
    message["Subject"] = subject
    message["Date"] = format_datetime(date or datetime.now(tz=LONDON))
    domain = sender.rpartition("@")[2].rstrip(">") or "client.example"
    message["Message-ID"] = message_id or make_msgid(domain=domain)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references) if isinstance(references, list) else references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes()


@dataclass
class Delivered:
    """One message as the receiving server saw it."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.raw)

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        return part.get_content() if part is not None else ""


@dataclass
class Mailbox:
    """The client's mailbox: an SMTP server that keeps whatever it is given."""

    host: str = "127.0.0.1"
    port: int = 0
    received: list[Delivered] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        with self.lock:
            self.received.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos), raw))
        return "250 2.0.0 delivered"

    def to(self, address: str) -> list[Delivered]:
        return [d for d in self.received if address in d.rcpt_tos]

    def clear(self) -> None:
        with self.lock:
            self.received.clear()


@pytest.fixture
def mailbox(settings):
    """Django's SMTP backend delivers to a real aiosmtpd server on loopback."""
    box = Mailbox()

    def make(port: int) -> Controller:
        box.port = port
        return Controller(box, hostname="127.0.0.1", port=port, ready_timeout=5)

    server = start_controller(make)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = box.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield box
    server.stop()


@dataclass
class Receiver:
    """caredesk's own SMTP receiver, and a way to write to it."""

    host: str
    port: int

    def send(self, raw: bytes, *, rcpt_tos: list[str] | None = None, mail_from: str = "") -> dict:
        """Deliver ``raw`` over SMTP; returns the refused recipients (empty when all went in)."""
        parsed = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        sender = mail_from or str(parsed["From"].addresses[0].addr_spec)
        with smtplib.SMTP(self.host, self.port, timeout=10) as client:
            return client.sendmail(sender, rcpt_tos or [SUPPORT], raw)


@pytest.fixture
def receiver(settings):
    """``caredesk.mail.smtpd`` listening on a free loopback port."""
    from caredesk.mail.smtpd import controller

    settings.CAREDESK_SUPPORT_ADDRESS = SUPPORT
    server = start_controller(lambda port: controller("127.0.0.1", port))
    yield Receiver(server.hostname, server.port)
    server.stop()


@pytest.fixture
def demo(db):
    """The demo agency: Harbour Bakery (KIJO Care), Stroud Valley Arts (Studio Support)…"""
    load_demo(activity=False)
    return SimpleNamespace(
        harbour=Organisation.objects.get(name="Harbour Bakery Ltd"),
        jo=Contact.objects.get(email="jo@harbourbakery.example"),
        sam=Contact.objects.get(email="sam@harbourbakery.example"),
        stroud=Organisation.objects.get(name="Stroud Valley Arts"),
        nell=Contact.objects.get(email="nell@stroudvalleyarts.example"),
        omar=User.objects.get(email="omar.haddad@agency.example"),
    )


@pytest.fixture
def friday():
    """Friday 20 November 2026, 11:30 in London; the clock keeps running."""
    with time_machine.travel(FRIDAY_1130, tick=True) as traveller:
        yield traveller


@pytest.fixture
def support_address(db, settings):
    settings.CAREDESK_SUPPORT_ADDRESS = SUPPORT
    return SUPPORT


@pytest.fixture
def ingest(db, support_address, django_capture_on_commit_callbacks):
    """``receive`` as a mail server's pipe calls it, with on-commit work (emails) run."""
    from caredesk.mail.ingest import receive

    def feed(raw: bytes, *, via: str = "pipe", envelope_to: tuple[str, ...] = ()):
        with django_capture_on_commit_callbacks(execute=True):
            return receive(raw, via=via, envelope_to=envelope_to)

    return feed


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Run a block as if it committed: its emails are queued, as in production."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
