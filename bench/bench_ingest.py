"""Inbound mail throughput of one worker: messages filed per second.

A mix like a real support mailbox: new requests from known contacts (a ticket,
an SLA computation and a confirmation queued each), replies threaded by the
reply token and by References, and an auto-reply. Baseline, in the same run:
the standard library parsing the same bytes (email.message_from_bytes), the
least any pipeline must do. The target is at least 100 messages a second.

Run: .venv/bin/python bench/bench_ingest.py [N]   (BENCH_DATABASE_URL for PostgreSQL)
"""

import email
import email.policy
import os
import sys
import time
from email.message import EmailMessage

from _django import setup

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
# A real mail domain: reply tokens are read from the To field, where a dotless
# domain such as the default "localhost" is not an address.
SUPPORT = "support@agency.example"
os.environ["CAREDESK_SUPPORT_ADDRESS"] = SUPPORT


def build(i: int, tickets: list) -> bytes:
    message = EmailMessage()
    message["From"] = f"Client {i % 300} <client{i % 300}@harbourbakery.example>"
    message["Date"] = "Wed, 25 Nov 2026 10:00:00 +0000"
    message["Message-ID"] = f"<bench-{i}@harbourbakery.example>"
    kind = i % 10
    if kind < 5 or not tickets:
        message["To"] = SUPPORT
        message["Subject"] = f"Request {i}: the contact form does not send"
        body = "Hello,\n\nthe contact form on the home page does not send.\n\nThanks, Jo\n"
    elif kind < 8:
        ticket = tickets[i % len(tickets)]
        message["To"] = f"support+{ticket.reply_token}@agency.example"
        message["Subject"] = f"Re: [{ticket.reference}] {ticket.subject}"
        body = "Thanks, that works now.\n\nOn Tue, 24 Nov 2026 at 10:00, Support wrote:\n> Fixed.\n"
    elif kind < 9:
        ticket = tickets[i % len(tickets)]
        message["To"] = SUPPORT
        message["Subject"] = f"Re: {ticket.subject}"
        message["In-Reply-To"] = f"<bench-{ticket.pk}@harbourbakery.example>"
        message["References"] = message["In-Reply-To"]
        body = "One more thing: the footer is wrong too.\n"
    else:
        message["To"] = SUPPORT
        message["Subject"] = "Automatic reply: out of office"
        message["Auto-Submitted"] = "auto-replied"
        body = "I am out of the office until Monday.\n"
    message.set_content(body * 3)
    message.add_alternative(f"<p>{body}</p>" * 3, subtype="html")
    return message.as_bytes()


def main() -> None:
    setup("ingest")
    from django.db import connection

    from caredesk.mail.ingest import receive
    from caredesk.ops.demo import load_demo
    from caredesk.tickets.models import Ticket

    load_demo()
    warm = [build(i, []) for i in range(50)]
    for raw in warm:
        receive(raw, via="bench")
    # Open tickets the warm-up made (closed ones would rightly start new tickets).
    tickets = list(Ticket.objects.filter(channel="email").exclude(status="closed")[:50])
    messages = [build(1000 + i, tickets) for i in range(N)]

    t0 = time.perf_counter()
    for raw in messages:
        email.message_from_bytes(raw, policy=email.policy.default)
    parse_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    for raw in messages:
        receive(raw, via="bench")
    ingest_s = time.perf_counter() - t0

    rate = N / ingest_s
    print(f"database: {connection.vendor}; messages: {N:,}")
    print(f"baseline, stdlib parse only: {N / parse_s:,.0f} msg/s")
    print(f"caredesk ingest (store, parse, thread, ticket, SLA, outbox): {rate:,.0f} msg/s")
    print(f"ratio ingest / stdlib parse: {rate / (N / parse_s):.3f}")
    print(f"ratio ingest / target 100 msg/s: {rate / 100:.1f}x")


if __name__ == "__main__":
    main()
