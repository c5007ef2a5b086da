"""Monthly reports for 1 000 sites: how long the month's run takes, and where the time goes.

Generates 500 clients with two WordPress sites each and a full October 2026 for
every site: a month of hourly uptime rollups (and an outage on one site in
ten), two inventories with core and plugin updates, a scan with findings,
two tickets per client with replies and logged time. Then builds every
client's report as the monthly run does (collect, email HTML, PDF, chart PNGs,
stored), printing progress as it goes.

Baseline, in the same run: collecting the facts client by client (one
collect() call per client) on a sample, scaled to every client; the run
collects in batches of 50, so the ratio shows what batching saves.

Run: .venv/bin/python bench/bench_reports.py [CLIENTS]   (BENCH_DATABASE_URL for PostgreSQL)
"""

import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from _django import setup

CLIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 500
SITES_PER_CLIENT = 2
SAMPLE = 25
START = datetime(2026, 9, 30, 23, 0, tzinfo=UTC)  # 1 October, London
END = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


def make_clients(staff):
    from caredesk.clients.models import Contact, Organisation, Platform, Site
    from caredesk.plans.models import Plan, PlanCategory, Subscription, WorkCategory
    from caredesk.sla.policy_io import import_policy, load_preset

    policy = import_policy(load_preset("kijo-care"), is_default=True)
    category = WorkCategory.objects.create(code="bug-fix", name="Bug fix")
    plan = Plan.objects.create(
        code="care",
        name="Care",
        monthly_fee=Decimal("95"),
        hourly_rate=Decimal("85"),
        fair_usage_cap_minutes=120,
        sla_policy=policy,
    )
    PlanCategory.objects.create(plan=plan, category=category, included=True)
    organisations = Organisation.objects.bulk_create(
        Organisation(name=f"Client {i:04d}", slug=f"client-{i:04d}") for i in range(CLIENTS)
    )
    Subscription.objects.bulk_create(
        Subscription(organisation=o, plan=plan, start_date=date(2026, 1, 1)) for o in organisations
    )
    Contact.objects.bulk_create(
        Contact(
            organisation=o,
            name=f"Owner {o.pk}",
            email=f"owner{o.pk}@client{o.pk}.example",
            is_manager=True,
            is_report_recipient=True,
        )
        for o in organisations
    )
    for o in organisations:
        for n in range(SITES_PER_CLIENT):
            # Saved one by one: every new site gets its HTTP monitor, as in production.
            Site.objects.create(
                organisation=o,
                name=f"{o.name} site {n}",
                url=f"https://s{n}.client{o.pk}.example/",
                platform=Platform.WORDPRESS,
            )
    return organisations, category


def make_uptime():
    from caredesk.monitoring.models import HourlyRollup, Incident, Monitor, Outage

    monitors = list(Monitor.objects.all())
    Monitor.objects.update(created_at=START - timedelta(days=60))
    rows = []
    hours = int((END - START).total_seconds() // 3600)
    for monitor in monitors:
        for h in range(hours):
            hour = START + timedelta(hours=h)
            rows.append(
                HourlyRollup(
                    monitor=monitor,
                    hour=hour,
                    checks=60,
                    failures=0,
                    up_seconds=3600,
                    down_seconds=0,
                    p50_ms=250 + (h * 7 + monitor.pk) % 90,
                    p95_ms=480 + (h * 11 + monitor.pk) % 200,
                )
            )
        if len(rows) > 50_000:
            HourlyRollup.objects.bulk_create(rows, batch_size=5000)
            rows = []
    HourlyRollup.objects.bulk_create(rows, batch_size=5000)
    for monitor in monitors[::10]:
        began = START + timedelta(days=13, hours=9)
        incident = Incident.objects.create(
            monitor=monitor,
            started_at=began,
            confirmed_at=began + timedelta(minutes=1),
            recovered_at=began + timedelta(minutes=25),
            resolved_at=began + timedelta(minutes=26),
            cause="status: HTTP 503",
        )
        Outage.objects.create(
            monitor=monitor,
            incident=incident,
            started_at=began,
            ended_at=began + timedelta(minutes=25),
        )
    return len(monitors)


def make_maintenance():
    from caredesk.clients.models import Site
    from caredesk.lib import clock
    from caredesk.maintenance.actions import do_record_inventory, do_record_scan
    from caredesk.maintenance.connectors import Inventory, Item
    from caredesk.maintenance.scan.found import Found

    def inventory(core, versions, offered=""):
        items = [Item("core", "wordpress", "WordPress", core, True)]
        items += [
            Item("plugin", f"plugin-{n}", f"Plugin {n}", v, True, offered if n == 0 else "")
            for n, v in enumerate(versions)
        ]
        return Inventory(core, "8.2.24", items)

    finding = Found(
        key="headers:hsts",
        category="headers",
        severity="low",
        title="No Strict-Transport-Security header",
        advice="Send HSTS.",
    )
    for site in Site.objects.all():
        with clock.replay(START + timedelta(days=1)):
            do_record_inventory(site, inventory("6.6.1", ["1.0"] * 8, "1.1"))
        with clock.replay(START + timedelta(days=9)):
            do_record_inventory(site, inventory("6.6.2", ["1.1"] + ["1.0"] * 7, "1.2"))
        at = START + timedelta(days=20)
        with clock.replay(at):
            do_record_scan(
                site, [finding], started_at=at, snapshot=None, checks_done=["headers"], notes=[]
            )


def make_support(organisations, category, staff):
    from caredesk.billing.actions import do_log_time
    from caredesk.lib import clock
    from caredesk.tickets.actions import do_change_status, do_create_ticket, do_reply

    for o in organisations:
        site = o.sites.first()
        for n in range(2):
            opened = START + timedelta(days=5 + n * 7, hours=9)
            with clock.replay(opened):
                ticket = do_create_ticket(
                    subject=f"Request {n} of {o.name}",
                    body="Please look.",
                    channel="phone",
                    organisation=o,
                    site=site,
                    category=category,
                    acting_user=staff,
                    notify_requester=False,
                )
            with clock.replay(opened + timedelta(hours=1)):
                do_reply(ticket, "On it.", acting_user=staff)
                do_log_time(ticket, 45, acting_user=staff, work_date=opened.date())
            with clock.replay(opened + timedelta(hours=3)):
                do_change_status(ticket, "solved", acting_user=staff)


def main() -> None:
    setup("reports")
    from django.db import connection

    from caredesk.accounts.models import Role, User
    from caredesk.lib import clock
    from caredesk.reports import collect
    from caredesk.reports.actions import do_build_reports

    staff = User.objects.create_user("agent@agency.example", None, role=Role.AGENT)
    t0 = time.perf_counter()
    organisations, category = make_clients(staff)
    sites = make_uptime()
    make_maintenance()
    make_support(organisations, category, staff)
    print(f"database: {connection.vendor}; clients: {CLIENTS:,}; sites: {sites:,}")
    print(f"generated a month of records in {time.perf_counter() - t0:.0f} s")

    ids = [o.pk for o in organisations]
    with clock.replay(END + timedelta(days=1, hours=9)):
        sample = ids[:SAMPLE]
        t0 = time.perf_counter()
        for pk in sample:
            collect.collect([pk], 2026, 10)
        one_by_one = (time.perf_counter() - t0) / len(sample) * len(ids)
        t0 = time.perf_counter()
        collect.collect(ids, 2026, 10)
        batched = time.perf_counter() - t0

        shown = [0]

        def progress(line: str) -> None:
            shown[0] += 1
            if shown[0] % 4 == 1 or "built" not in line:
                print(f"  {time.perf_counter() - t0:6.1f} s  {line}", flush=True)

        t0 = time.perf_counter()
        built = do_build_reports(2026, 10, organisations=ids, acting_user=staff, progress=progress)
        total = time.perf_counter() - t0
    pdf_kb = sum(len(r.pdf) for r in built) / len(built) / 1024
    print(f"baseline, collecting client by client: {one_by_one:.1f} s for every client")
    print(f"collecting in batches of 50: {batched:.1f} s (ratio {batched / one_by_one:.2f})")
    print(
        f"whole run (collect, email HTML, PDF, charts, store): {total:.0f} s = "
        f"{total / 60:.1f} min for {sites:,} sites; {1000 * total / sites:.0f} ms a site; "
        f"PDF {pdf_kb:.0f} KB a client"
    )


if __name__ == "__main__":
    main()
