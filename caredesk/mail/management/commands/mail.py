import signal
import sys
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from caredesk.mail.models import InboundStatus


class Command(BaseCommand):
    help = "Email in and out: ingest (stdin), poll (IMAP), smtpd (SMTP receiver), send (outbox)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("ingest", help="Read one raw message on standard input and file it.")
        poll = sub.add_parser("poll", help="Fetch unseen mail from CAREDESK_IMAP_URL once.")
        poll.add_argument("--url", default=None)
        smtpd = sub.add_parser("smtpd", help="Receive mail over SMTP until stopped.")
        smtpd.add_argument("--host", default="127.0.0.1")
        smtpd.add_argument("--port", type=int, default=2525)
        sub.add_parser("send", help="Send what is due in the outbox now.")

    def handle(self, *args, action: str, **options):
        getattr(self, f"_{action}")(**options)

    def _ingest(self, **options):
        from caredesk.mail.ingest import receive

        raw = sys.stdin.buffer.read()
        try:
            inbound = receive(raw, via="pipe")
        except DatabaseError as error:
            # Exit 75 (EX_TEMPFAIL): the mail server keeps the message and retries.
            self.stderr.write(f"could not store the message: {error}")
            sys.exit(75)
        self.stdout.write(f"stored as inbound #{inbound.pk}: {inbound.get_status_display()}")
        if inbound.status == InboundStatus.QUARANTINED:
            self.stdout.write(f"quarantined: {inbound.reason}")

    def _poll(self, url: str | None = None, **options):
        from caredesk.mail.imap import ImapConfig, poll

        url = url or settings.CAREDESK_IMAP_URL
        if not url:
            raise CommandError("set CAREDESK_IMAP_URL or pass --url imaps://user:pass@host/INBOX")
        try:
            config = ImapConfig.from_url(url, settings.CAREDESK_IMAP_DONE_FOLDER)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{poll(config)} message(s) stored")

    def _smtpd(self, host: str, port: int, **options):
        from caredesk.mail.smtpd import controller

        server = controller(host, port)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        server.start()
        self.stdout.write(f"receiving mail on {host}:{port}")
        try:
            stop.wait()
        finally:
            server.stop()

    def _send(self, **options):
        from caredesk.mail.outbound import send_outbox

        self.stdout.write(f"{send_outbox.call()} message(s) sent")
