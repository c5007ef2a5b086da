"""`caredesk mail poll` against a real IMAP server on loopback (pymap, in-memory)."""

import imaplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from caredesk.mail.imap import ImapConfig, poll
from caredesk.mail.models import InboundEmail, InboundStatus
from caredesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def imap_server():
    port = free_port()
    pymap = Path(sys.executable).parent / "pymap"
    process = subprocess.Popen(
        [
            str(pymap),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-tls",
            "dict",
            "--demo-user",
            "desk",
            "--demo-password",
            "secret",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("the IMAP server did not start")
            time.sleep(0.1)
    yield port
    process.terminate()
    process.wait(timeout=10)


def deliver(port: int, *messages: bytes) -> None:
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login("desk", "secret")
    for raw in messages:
        client.append("INBOX", None, None, raw)
    client.logout()


def unseen(port: int) -> list[bytes]:
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login("desk", "secret")
    client.select("INBOX")
    _, data = client.uid("SEARCH", None, "UNSEEN")
    client.logout()
    return data[0].split()


def message(n: int, sender: str = "someone@unknown.example") -> bytes:
    return (
        f"From: Someone <{sender}>\r\nTo: support@localhost\r\nSubject: Request {n}\r\n"
        f"Message-ID: <poll-{n}@unknown.example>\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\n"
        f"\r\nPlease help with request {n}.\r\n"
    ).encode()


def test_poll_files_each_unseen_message_once_and_marks_it_seen(imap_server):
    deliver(imap_server, message(1), message(2), b"\x00\x01 not mail at all")
    config = ImapConfig.from_url(f"imap://desk:secret@127.0.0.1:{imap_server}/INBOX")

    assert poll(config) == 3
    assert unseen(imap_server) == []
    assert Ticket.objects.filter(subject__startswith="Request").count() == 2
    assert InboundEmail.objects.filter(via="imap", status=InboundStatus.QUARANTINED).count() == 1

    assert poll(config) == 0
    assert InboundEmail.objects.filter(via="imap").count() == 3


def test_a_message_seen_again_after_a_crash_is_a_duplicate_not_a_second_ticket(imap_server):
    deliver(imap_server, message(7))
    config = ImapConfig.from_url(f"imap://desk:secret@127.0.0.1:{imap_server}/INBOX")
    poll(config)
    # As if the process died after storing but before flagging: the server offers it again.
    deliver(imap_server, message(7))

    poll(config)

    assert Ticket.objects.filter(subject="Request 7").count() == 1
    statuses = set(InboundEmail.objects.values_list("status", flat=True))
    assert statuses == {InboundStatus.TICKETED, InboundStatus.DUPLICATE}


def test_poll_command_reports_and_refuses_a_bad_url(imap_server):
    deliver(imap_server, message(3))
    call_command("mail", "poll", "--url", f"imap://desk:secret@127.0.0.1:{imap_server}/INBOX")
    assert Ticket.objects.filter(subject="Request 3").exists()

    with pytest.raises(CommandError, match="IMAP URL"):
        call_command("mail", "poll", "--url", "https://example.invalid/")


def test_wrong_password_is_an_error_not_a_lost_message(imap_server):
    deliver(imap_server, message(4))
    config = ImapConfig.from_url(f"imap://desk:wrong@127.0.0.1:{imap_server}/INBOX")
    with pytest.raises(Exception, match=r"(?i)auth|login|fail"):
        poll(config)
    assert len(unseen(imap_server)) == 1
