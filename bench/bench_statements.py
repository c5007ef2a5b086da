"""Statements for 1 000 clients with 100 000 time entries in one billing period.

Figures: building every client's draft statement for October 2026 (load,
classify, price and store about 100 000 lines plus the ledger), rebuilding
them, then finalising them (numbers, frozen entries, expiry). Baseline, in
the same run: classifying entry by entry with ORM queries (the subscription in
force, whether the plan includes the category, the ticket's month so far, the
allowance used so far), what a per-entry "is it billable?" check costs, timed on
a sample and scaled to every entry.

Run: .venv/bin/python bench/bench_statements.py [CLIENTS] [ENTRIES]
(BENCH_DATABASE_URL for PostgreSQL)
"""

import random
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal

from _django import setup

CLIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000
ENTRIES = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
TICKETS_PER_CLIENT = 8
SAMPLE = 2_000
PERIOD = (2026, 10)


def make_catalogue():
    from caredesk.plans.models import FairUsageMode, Plan, PlanCategory, QueueTier, WorkCategory

    codes = ["maintenance", "bug-fix", "questions-advice", "new-feature", "design-change"]
    categories = [WorkCategory.objects.create(code=c, name=c.replace("-", " ")) for c in codes]
    care = Plan.objects.create(
        code="care",
        name="Care",
        monthly_fee=Decimal("95"),
        hourly_rate=Decimal("85"),
        fair_usage_cap_minutes=120,
        fair_usage_mode=FairUsageMode.WHOLE_TICKET,
    )
    package = Plan.objects.create(
        code="package-5h",
        name="Package 5 h",
        monthly_fee=Decimal("300"),
        currency="USD",
        included_minutes=300,
        hourly_rate=Decimal("60"),
    )
    on_demand = Plan.objects.create(
        code="on-demand",
        name="On demand",
        currency="USD",
        included_minutes=0,
        hourly_rate=Decimal("65"),
        queue_tier=QueueTier.ON_DEMAND,
    )
    for category in categories[:3]:
        PlanCategory.objects.create(plan=care, category=category, included=True)
    PlanCategory.objects.create(plan=care, category=categories[3], included=False)
    for category in categories[:4]:
        PlanCategory.objects.create(plan=package, category=category, included=True)
    return categories, [care, package, on_demand]


def populate(rng: random.Random):
    from caredesk.accounts.models import Role, User
    from caredesk.billing.models import TimeEntry
    from caredesk.clients.models import Organisation
    from caredesk.plans.models import Subscription, Term
    from caredesk.tickets.models import Ticket

    categories, plans = make_catalogue()
    staff = [
        User.objects.create_user(f"agent{i}@agency.example", None, role=Role.AGENT)
        for i in range(10)
    ]
    Organisation.objects.bulk_create(
        [Organisation(name=f"Client {i:04d}", slug=f"client-{i:04d}") for i in range(CLIENTS)],
        batch_size=1000,
    )
    orgs = list(Organisation.objects.order_by("pk"))
    subs = []
    for i, org in enumerate(orgs):
        plan = plans[i % 3]
        annual = plan.code == "package-5h" and i % 2 == 0
        subs.append(
            Subscription(
                organisation=org,
                plan=plan,
                start_date=date(2026, 1, 1),
                term=Term.ANNUAL if annual else Term.MONTHLY,
                annual_discount_percent=Decimal("10") if annual else Decimal("0"),
            )
        )
    Subscription.objects.bulk_create(subs, batch_size=1000)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    tickets = [
        Ticket(
            number=1000 + n,
            subject=f"Ticket {n}",
            organisation=org,
            channel="email",
            category=rng.choice(categories),
            reply_token=f"bench{n:010d}",
            created_at=start,
            updated_at=start,
        )
        for n, org in enumerate(org for org in orgs for _ in range(TICKETS_PER_CLIENT))
    ]
    Ticket.objects.bulk_create(tickets, batch_size=2000)
    by_org: dict[int, list[int]] = {}
    for pk, org_id in Ticket.objects.values_list("pk", "organisation_id"):
        by_org.setdefault(org_id, []).append(pk)
    entries = []
    per_client = ENTRIES // CLIENTS
    for org in orgs:
        for _ in range(per_client):
            entries.append(
                TimeEntry(
                    ticket_id=rng.choice(by_org[org.pk]),
                    staff=rng.choice(staff),
                    work_date=date(2026, 10, rng.randint(1, 31)),
                    minutes=rng.choice([5, 10, 15, 20, 30, 45, 60]),
                    category=rng.choice(categories),
                )
            )
    TimeEntry.objects.bulk_create(entries, batch_size=5000)
    return len(entries)


def naive_classify(entry_ids: list[int]) -> float:
    """Classify entries one by one with ORM queries, the obvious way; returns seconds."""
    from django.db.models import Sum

    from caredesk.billing.models import TimeEntry
    from caredesk.plans.models import QueueTier, active_subscription

    t0 = time.perf_counter()
    for entry in TimeEntry.objects.filter(pk__in=entry_ids).select_related("ticket", "category"):
        org_id = entry.ticket.organisation_id
        sub = active_subscription(org_id, entry.work_date)
        if sub is None or sub.plan.queue_tier == QueueTier.ON_DEMAND:
            continue
        if entry.category is not None and not sub.plan.includes(entry.category):
            continue
        month_start = entry.work_date.replace(day=1)
        TimeEntry.objects.filter(
            ticket=entry.ticket, work_date__gte=month_start, work_date__lte=entry.work_date
        ).aggregate(Sum("minutes"))
        start, _ = sub.period_containing(entry.work_date)
        TimeEntry.objects.filter(
            ticket__organisation_id=org_id, work_date__gte=start, work_date__lte=entry.work_date
        ).aggregate(Sum("minutes"))
    return time.perf_counter() - t0


def main() -> None:
    setup("statements")
    import time_machine
    from django.db import connection

    from caredesk.billing import statements
    from caredesk.billing.models import LedgerEntry, StatementLine, TimeEntry

    rng = random.Random(20261001)
    print(f"database: {connection.vendor}; clients: {CLIENTS:,}; entries: {ENTRIES:,}")
    t0 = time.perf_counter()
    made = populate(rng)
    print(f"setup: {time.perf_counter() - t0:.1f} s ({made:,} entries)")

    with time_machine.travel(datetime(2026, 11, 3, 9, tzinfo=UTC), tick=True):
        t0 = time.perf_counter()
        built = statements.build(*PERIOD)
        build_s = time.perf_counter() - t0
        lines = StatementLine.objects.count()
        t0 = time.perf_counter()
        statements.build(*PERIOD)
        rebuild_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        finals = statements.build(*PERIOD, finalise=True)
        final_s = time.perf_counter() - t0

    assert len(built) == len(finals) == CLIENTS
    assert all(s.is_final for s in finals)
    assert TimeEntry.objects.filter(statement=None).count() == 0
    total_minutes = sum(TimeEntry.objects.values_list("minutes", flat=True))
    line_minutes = sum(StatementLine.objects.values_list("minutes", flat=True))
    assert total_minutes == line_minutes, "every minute is on exactly one line"

    sample = rng.sample(list(TimeEntry.objects.values_list("pk", flat=True)), SAMPLE)
    baseline_s = naive_classify(sample) * made / SAMPLE

    print(f"build {CLIENTS:,} draft statements ({lines:,} lines): {build_s:.2f} s")
    print(f"rebuild them: {rebuild_s:.2f} s")
    print(f"finalise them (numbers, frozen entries, ledger close): {final_s:.2f} s")
    print(f"ledger rows: {LedgerEntry.objects.count():,}")
    print(
        f"baseline, per-entry ORM classification of {made:,} entries: {baseline_s:.1f} s "
        f"(scaled from {SAMPLE:,}; classifies only, stores nothing)"
    )
    print(f"ratio baseline / build: {baseline_s / build_s:.1f}x")
    print(f"ratio baseline / finalise: {baseline_s / final_s:.1f}x")
    assert build_s < 30 and final_s < 30, "the target is under 30 s"


if __name__ == "__main__":
    sys.exit(main())
