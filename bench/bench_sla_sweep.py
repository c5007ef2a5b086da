"""SLA sweep over 100 000 open tickets.

Figures: (1) a sweep when every ticket's clocks have fallen due at once (the worst
case: 100 000 breach events written); (2) a typical minute, 1 % due. Baseline,
in the same run: recomputing every open ticket's clocks from its history with
the pure engine (what a sweep without the indexed due column would have to do),
timed on a sample and scaled to the same number of tickets.

Run: .venv/bin/python bench/bench_sla_sweep.py [N]   (BENCH_DATABASE_URL for PostgreSQL)
"""

import sys
import time
from datetime import UTC, datetime, timedelta

from _django import setup

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
SAMPLE = 5_000


def main() -> None:
    setup("sla")
    from django.db import connection, transaction

    from caredesk.clients.models import Organisation
    from caredesk.sla.clocks import Entry, evaluate
    from caredesk.sla.policy_io import import_policy, load_preset
    from caredesk.tickets import sla_sweep
    from caredesk.tickets.models import SlaClock, Ticket, TicketEvent

    policy = import_policy(load_preset("kijo-care"))
    priority = policy.priorities.get(code="non-critical")
    targets = list(priority.targets.all())
    organisation = Organisation.objects.create(name="Bench client")
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    print(f"database: {connection.vendor}; tickets: {N:,}; clocks per ticket: {len(targets)}")

    t0 = time.perf_counter()
    with transaction.atomic():
        tickets = [
            Ticket(
                number=1000 + i,
                subject=f"Ticket {i}",
                organisation=organisation,
                channel="email",
                sla_policy=policy,
                priority=priority,
                reply_token=f"bench{i:010d}",
                created_at=start + timedelta(seconds=i),
                updated_at=start,
            )
            for i in range(N)
        ]
        Ticket.objects.bulk_create(tickets, batch_size=5000)
        ids = list(Ticket.objects.order_by("pk").values_list("pk", "created_at"))
        clocks = []
        for pk, created in ids:
            for target in targets:
                spec = target.spec(policy)
                due = spec.calendar.add(created, spec.limit)
                warn = spec.calendar.add(created, spec.limit * spec.warn_share)
                clocks.append(
                    SlaClock(
                        ticket_id=pk,
                        kind=target.kind,
                        target=target,
                        started_at=created,
                        due_at=due,
                        warn_at=warn,
                        limit_seconds=int(spec.limit.total_seconds()),
                        next_check_at=warn,
                    )
                )
        SlaClock.objects.bulk_create(clocks, batch_size=5000)
    print(f"setup: {time.perf_counter() - t0:.1f} s")

    # A typical minute: 1 % of the clocks fall due.
    typical = SlaClock.objects.order_by("next_check_at").values_list("next_check_at", flat=True)[
        len(targets) * N // 100
    ]
    t0 = time.perf_counter()
    typical_events = sla_sweep.sweep(now=typical)
    typical_s = time.perf_counter() - t0

    # Worst case: every clock is past its limit.
    late = start + timedelta(days=60)
    t0 = time.perf_counter()
    events = sla_sweep.sweep(now=late)
    sweep_s = time.perf_counter() - t0
    again = sla_sweep.sweep(now=late)
    assert again == 0, "a second sweep must record nothing"
    assert TicketEvent.objects.filter(kind="sla_breach").count() == N * len(targets)

    # Baseline: evaluate every ticket's clocks from its history.
    specs = [t.spec(policy) for t in targets]
    t0 = time.perf_counter()
    for _pk, created in ids[:SAMPLE]:
        history = [Entry(created, "created")]
        for spec in specs:
            evaluate(spec, history, late)
    baseline_s = (time.perf_counter() - t0) * N / SAMPLE

    print(f"typical minute ({typical_events:,} events): {typical_s:.2f} s")
    print(f"all due at once ({events:,} events): {sweep_s:.2f} s")
    print(
        f"baseline, re-evaluating all {N:,} tickets' clocks: {baseline_s:.2f} s "
        f"(scaled from {SAMPLE:,})"
    )
    print(f"ratio baseline / worst-case sweep: {baseline_s / sweep_s:.1f}x")
    print(f"ratio baseline / typical sweep: {baseline_s / typical_s:.1f}x")


if __name__ == "__main__":
    main()
