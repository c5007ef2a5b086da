"""The staff queue with 200 000 tickets: render time of the default view, and its queries.

Generates tickets spread over the demo's clients (a tenth open, with SLA due
times), signs in an agent and renders /tickets/ repeatedly through Django's test
client. Baseline, in the same run: the same ordering done in Python over every
open ticket (what a queue without the due-time column and index would do).

Run: .venv/bin/python bench/bench_queue.py [N]   (BENCH_DATABASE_URL for PostgreSQL)
"""

import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from _django import setup

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
RUNS = 40


def main() -> None:
    setup("queue")
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from caredesk.accounts.models import User
    from caredesk.clients.models import Organisation
    from caredesk.ops.demo import load_demo
    from caredesk.sla.models import Priority
    from caredesk.tickets.models import Ticket

    load_demo(activity=False)
    rng = random.Random(7)
    organisations = list(Organisation.objects.all())
    priorities = list(Priority.objects.all())
    now = datetime.now(tz=UTC)
    t0 = time.perf_counter()
    with transaction.atomic():
        batch = []
        for i in range(N):
            is_open = i % 10 == 0
            batch.append(
                Ticket(
                    number=100_000 + i,
                    subject=f"Ticket {i}",
                    organisation=rng.choice(organisations),
                    channel="email",
                    priority=rng.choice(priorities),
                    status="open" if is_open else "closed",
                    reply_token=f"q{i:012d}",
                    queue_tier=rng.choice((1, 2)),
                    created_at=now - timedelta(minutes=i),
                    updated_at=now,
                    sla_next_due_at=now + timedelta(minutes=rng.randint(-600, 6000))
                    if is_open
                    else None,
                )
            )
            if len(batch) == 5000:
                Ticket.objects.bulk_create(batch)
                batch = []
        Ticket.objects.bulk_create(batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"database: {connection.vendor}; tickets: {N:,} ({N // 10:,} open); "
        f"setup {time.perf_counter() - t0:.0f} s"
    )

    agent = User.objects.get(email="omar.haddad@agency.example")
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(agent)
    client.get("/tickets/")  # warm caches and templates
    timings = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        response = client.get("/tickets/")
        timings.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get("/tickets/")
    with CaptureQueriesContext(connection) as queries_page_3:
        client.get("/tickets/?page=3")

    t0 = time.perf_counter()
    open_tickets = list(
        Ticket.objects.filter(status="open")
        .select_related("priority")
        .values_list("pk", "sla_next_due_at", "priority__rank", "queue_tier", "created_at")
    )
    sorted(
        open_tickets, key=lambda r: (r[1] or datetime.max.replace(tzinfo=UTC), r[2], r[3], r[4])
    )[:50]
    baseline_ms = (time.perf_counter() - t0) * 1000

    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"default queue view: p50 {p50:.0f} ms, p95 {p95:.0f} ms over {RUNS} renders")
    print(f"queries per render: {len(queries)} (page 3: {len(queries_page_3)})")
    print(f"baseline, sorting every open ticket in Python: {baseline_ms:.0f} ms")
    print(
        f"ratio baseline / p50: {baseline_ms / p50:.1f}x; target p95 < 100 ms: "
        f"{'met' if p95 < 100 else 'not met'}"
    )


if __name__ == "__main__":
    main()
