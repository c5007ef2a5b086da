"""Last month of the demo clients' sites, written through the same code as the real thing.

Each record is made by the action that makes it in production, with the clock
replayed to the moment it happened: inventories that find WordPress and plugin
updates, security scans against a small vulnerability feed, backups (recorded
as the backup job records them: the sites are fictional, so there is nothing
to fetch) and a restore asked for in a ticket, a month of uptime
checks every quarter hour with one real outage (confirmed, alerted, ticketed
and recovered by the monitoring and alert code), and hourly rollups. The
monthly report of last month then has something true to say about each site.

Running it twice writes nothing the second time: a site that already has an
inventory from last month is left alone.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from caredesk.accounts.models import User
from caredesk.alerts.models import IncidentTicket
from caredesk.billing import periods
from caredesk.clients.models import Platform, Site
from caredesk.lib import clock
from caredesk.maintenance.actions import do_log_work, do_record_inventory, do_record_scan
from caredesk.maintenance.connectors import Inventory, Item
from caredesk.maintenance.models import (
    Backup,
    BackupRestore,
    JobState,
    Snapshot,
    TicketLink,
    Vulnerability,
)
from caredesk.maintenance.scan import feed, vulns
from caredesk.monitoring.engine import Outcome
from caredesk.monitoring.models import Kind, Monitor
from caredesk.monitoring.store import DbStore
from caredesk.monitoring.uptime import month_bounds, rollup_hours
from caredesk.plans.models import WorkCategory
from caredesk.tickets.actions import do_create_ticket, do_reply
from caredesk.tickets.models import Status, Ticket

STAFF = "omar.haddad@agency.example"
REGION = "local"
CHECK_EVERY = timedelta(minutes=15)

# A two-record extract in the vulnerability feed's format: enough for the scan to find
# something real in the demo (the installed version falls in the range, a fix exists).
FEED = {
    "4f0c1e0e-demo-0001": {
        "id": "4f0c1e0e-demo-0001",
        "title": "Contact Form 7 <= 5.9.4 - Reflected Cross-Site Scripting",
        "software": [
            {
                "type": "plugin",
                "slug": "contact-form-7",
                "name": "Contact Form 7",
                "affected_versions": {
                    "* - 5.9.4": {
                        "from_version": "*",
                        "from_inclusive": True,
                        "to_version": "5.9.4",
                        "to_inclusive": True,
                    }
                },
                "patched": True,
                "patched_versions": ["5.9.5"],
                "remediation": "Update to version 5.9.5, or a newer patched version",
            }
        ],
        "informational": False,
        "references": ["https://www.wordfence.com/threat-intel/"],
        "cvss": {"vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", "score": 7.1},
        "cve": "CVE-2026-0001",
        "published": "2026-01-10 00:00:00",
        "updated": "2026-01-12 00:00:00",
    },
    "4f0c1e0e-demo-0002": {
        "id": "4f0c1e0e-demo-0002",
        "title": "WooCommerce Stripe Gateway <= 8.1.0 - Missing Authorization",
        "software": [
            {
                "type": "plugin",
                "slug": "woocommerce-gateway-stripe",
                "name": "WooCommerce Stripe Gateway",
                "affected_versions": {
                    "* - 8.1.0": {
                        "from_version": "*",
                        "from_inclusive": True,
                        "to_version": "8.1.0",
                        "to_inclusive": True,
                    }
                },
                "patched": True,
                "patched_versions": ["8.1.1"],
                "remediation": "Update to version 8.1.1, or a newer patched version",
            }
        ],
        "informational": False,
        "references": [],
        "cvss": {"vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N", "score": 5.3},
        "cve": "",
        "published": "2026-02-02 00:00:00",
        "updated": "2026-02-02 00:00:00",
    },
}


@dataclass(frozen=True)
class Stack:
    """What a site runs at the start of the month and after its mid-month updates."""

    core: tuple[str, str]
    php: str
    plugins: list[tuple[str, str, str, str, str]]  # slug, name, before, after, offered at end
    theme: tuple[str, str, str]


STACKS = {
    "https://www.harbourbakery.example/": Stack(
        ("6.6.1", "6.6.2"),
        "8.2.24",
        [
            ("woocommerce", "WooCommerce", "9.3.1", "9.3.3", ""),
            ("contact-form-7", "Contact Form 7", "5.9.3", "5.9.8", ""),
            ("woocommerce-gateway-stripe", "WooCommerce Stripe Gateway", "8.1.1", "8.1.1", "8.2.0"),
            ("wordpress-seo", "Yoast SEO", "23.4", "23.6", ""),
        ],
        ("storefront", "Storefront", "4.6.0"),
    ),
    "https://fenwickdental.example/": Stack(
        ("6.6.1", "6.6.2"),
        "8.1.30",
        [
            ("contact-form-7", "Contact Form 7", "5.9.3", "5.9.8", ""),
            ("wp-mail-smtp", "WP Mail SMTP", "4.1.1", "4.1.1", ""),
        ],
        ("twentytwentyfour", "Twenty Twenty-Four", "1.2"),
    ),
    "https://bluefinceramics.example/": Stack(
        ("6.6.2", "6.6.2"),
        "8.2.24",
        [
            ("woocommerce", "WooCommerce", "9.3.1", "9.3.3", ""),
            # A premium licence lapsed: the update waits for the client's renewal.
            ("woocommerce-gateway-stripe", "WooCommerce Stripe Gateway", "8.0.1", "8.0.1", "8.1.1"),
        ],
        ("astra", "Astra", "4.8.3"),
    ),
}


@dataclass(frozen=True)
class Outage:
    site_url: str
    day: int
    start: time
    minutes: int
    status: int
    error: str


OUTAGES = [
    Outage("https://www.harbourbakery.example/", 14, time(10, 2), 38, 503, "HTTP 503"),
    Outage("https://bluefinceramics.example/", 22, time(21, 40), 12, 0, "timed out after 30 s"),
]


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _inventory(stack: Stack, *, after: bool) -> Inventory:
    core = stack.core[1] if after else stack.core[0]
    offered = stack.core[1] if core != stack.core[1] else ""
    items = [Item("core", "wordpress", "WordPress", core, True, offered)]
    for slug, name, before, later, offered in stack.plugins:
        version = later if after else before
        update = offered if after else (later if later != before else offered)
        items.append(Item("plugin", slug, name, version, True, update))
    slug, name, version = stack.theme
    items.append(Item("theme", slug, name, version, True))
    return Inventory(core, stack.php, items, connector_version="demo")


def _scan(site: Site, at: datetime) -> None:
    with clock.replay(at):
        snapshot = Snapshot.objects.filter(site=site).prefetch_related("items").first()
        found = vulns.match(snapshot) if snapshot is not None else []
        do_record_scan(
            site,
            found,
            started_at=at,
            snapshot=snapshot,
            checks_done=["versions"],
            notes=["outside checks: not run (the demo's sites are fictional)"],
        )


def _maintenance(first: date, staff: User | None) -> int:
    writes = 0
    start, end = month_bounds(first.year, first.month)
    for url, stack in STACKS.items():
        site = Site.objects.filter(url=url, platform=Platform.WORDPRESS).first()
        if (
            site is None
            or Snapshot.objects.filter(site=site, taken_at__gte=start, taken_at__lt=end).exists()
        ):
            continue
        with clock.replay(_local(first.replace(day=2), time(3, 5))):
            do_record_inventory(site, _inventory(stack, after=False))
        _scan(site, _local(first.replace(day=3), time(4, 10)))
        with clock.replay(_local(first.replace(day=9), time(3, 5))):
            do_record_inventory(site, _inventory(stack, after=True))
        _answer_findings(site, first, staff)
        _scan(site, _local(first.replace(day=23), time(4, 10)))
        writes += 4
    fenwick = Site.objects.filter(url="https://fenwickdental.example/").first()
    if fenwick is not None and staff is not None and writes:
        at = _local(first.replace(day=16), time(14, 30))
        with clock.replay(at + timedelta(minutes=5)):
            do_log_work(
                fenwick,
                acting_user=staff,
                name="Renewed the TLS certificate with the host",
                note="The host's automatic renewal had stopped; now renewed and checked.",
                at=at,
            )
        writes += 1
    return writes


def _noise(*parts: object) -> float:
    """A repeatable number in [0, 1) for the same inputs (the demo is the same every time)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=4).digest()
    return int.from_bytes(digest) / 2**32


def _response_ms(monitor_id: int, moment: datetime) -> int:
    """Slower by day than by night, a slow day now and then, and a little jitter."""
    day = 230 + 120 * _noise(monitor_id, moment.date())
    if _noise("slow", monitor_id, moment.date()) > 0.85:
        day += 220
    local_hour = moment.astimezone(ZoneInfo(settings.TIME_ZONE)).hour
    busy = 140 if 9 <= local_hour < 18 else 0
    return round(day + busy + 90 * _noise(monitor_id, moment) ** 3)


def _backup(site: Site, at: datetime, trigger: str, files_mb: int, verified: bool = True):
    """A backup as the backup job records it (the demo's sites are fictional: nothing to fetch)."""
    seed = f"{site.pk}:{at.isoformat()}"
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return Backup.objects.create(
        site=site,
        trigger=trigger,
        state=JobState.SUCCEEDED,
        created_at=at,
        started_at=at,
        taken_at=at + timedelta(minutes=4),
        database_size=(18 + site.pk % 7) * 1024**2,
        database_sha256=digest,
        files_size=files_mb * 1024**2,
        files_sha256=hashlib.sha256(digest.encode()).hexdigest(),
        files_count=files_mb * 9,
        snapshot_id=digest[:16],
        snapshot_path=f"/site-{site.pk}",
        stored_at=at + timedelta(minutes=9),
        verified=verified,
        verified_at=at + timedelta(minutes=12),
        verification="read back and test-restored: every table's rows match",
        finished_at=at + timedelta(minutes=13),
    )


def _backups(first: date, staff: User | None) -> int:
    """A monthly backup of each WordPress site, one before its updates, and one restore."""
    start, end = month_bounds(first.year, first.month)
    writes = 0
    for number, url in enumerate(STACKS):
        site = Site.objects.filter(url=url).first()
        if (
            site is None
            or Backup.objects.filter(site=site, created_at__gte=start, created_at__lt=end).exists()
        ):
            continue
        _backup(site, _local(first.replace(day=1), time(2, 10 + number)), "schedule", 640)
        _backup(site, _local(first.replace(day=9), time(3, 0)), "update_run", 642)
        writes += 2
    fenwick = Site.objects.filter(url="https://fenwickdental.example/").first()
    if fenwick is None or staff is None or not writes:
        return writes
    # The practice asked for last week's opening hours page back: a backup restoration
    # ticket, answered, restored from the update run's backup, solved within the day.
    asked = _local(first.replace(day=20), time(9, 12))
    with clock.replay(asked):
        ticket = do_create_ticket(
            subject="Please restore the opening hours page as it was last week",
            body="Someone overwrote the opening hours page. Can you put last week's back?",
            channel="email",
            requester=fenwick.organisation.contacts.order_by("pk").first(),
            site=fenwick,
            category=WorkCategory.objects.filter(code="backup-restoration").first(),
            notify_requester=False,
        )
    with clock.replay(asked + timedelta(minutes=48)):
        do_reply(ticket, "We will restore the 9th's backup this afternoon.", acting_user=staff)
    backup = Backup.objects.filter(site=fenwick, trigger="update_run").order_by("-pk").first()
    done = asked + timedelta(hours=5, minutes=20)
    BackupRestore.objects.create(
        backup=backup,
        target=fenwick,
        ticket_number=ticket.number,
        state=JobState.SUCCEEDED,
        requested_by=staff,
        created_at=done - timedelta(minutes=25),
        started_at=done - timedelta(minutes=25),
        finished_at=done,
        safety=_backup(fenwick, done - timedelta(minutes=24), "restore", 640),
    )
    with clock.replay(done + timedelta(minutes=10)):
        do_reply(
            ticket,
            "Restored: the page is back as it was on the 9th (a safety backup was taken first).",
            acting_user=staff,
            status=Status.SOLVED,
        )
    return writes + 4


def _answer_findings(site: Site, first: date, staff: User | None) -> None:
    """The scan's high findings opened tickets: answered that morning, solved by the update."""
    if staff is None:
        return
    numbers = TicketLink.objects.filter(site=site, topic__startswith="finding:").values_list(
        "ticket_number", flat=True
    )
    for ticket in Ticket.objects.filter(number__in=list(numbers), status=Status.NEW):
        with clock.replay(_local(first.replace(day=3), time(9, 25))):
            do_reply(
                ticket,
                "The scan found a vulnerable plugin version; its fix is out and goes in with "
                "this month's updates.",
                acting_user=staff,
            )
        with clock.replay(_local(first.replace(day=9), time(3, 20))):
            do_reply(
                ticket,
                "Updated with this month's maintenance; the next scan will confirm it.",
                acting_user=staff,
                status=Status.SOLVED,
            )


def _checks(monitor: Monitor, first: date, outage: Outage | None):
    """Quarter-hourly results; a minute apart around an outage, so it is confirmed as it is."""
    start, end = month_bounds(first.year, first.month)
    down_from = down_to = None
    if outage is not None:
        down_from = _local(first.replace(day=outage.day), outage.start)
        down_to = down_from + timedelta(minutes=outage.minutes)
    moment = start
    while moment < end:
        if down_from is not None and down_from - CHECK_EVERY < moment < down_to + CHECK_EVERY:
            step = timedelta(minutes=1)
        else:
            step = CHECK_EVERY
        if down_from is not None and down_from <= moment < down_to:
            yield Outcome(
                monitor.pk,
                moment,
                REGION,
                False,
                status_code=outage.status or None,
                error_kind="status" if outage.status else "timeout",
                error=outage.error,
            )
        else:
            ms = _response_ms(monitor.pk, moment)
            yield Outcome(
                monitor.pk,
                moment,
                REGION,
                True,
                status_code=200,
                dns_ms=4,
                connect_ms=18,
                tls_ms=31,
                first_byte_ms=ms - 30,
                total_ms=ms,
                cert_days=64 - moment.day,
            )
        moment += step


def _monitoring(first: date) -> int:
    start, end = month_bounds(first.year, first.month)
    store = DbStore(REGION)
    outages = {o.site_url: o for o in OUTAGES}
    written = 0
    monitors = Monitor.objects.filter(
        kind=Kind.HTTP, site__url__contains=".example", site__is_active=True
    ).select_related("site")
    for monitor in monitors:
        if monitor.results.filter(checked_at__gte=start, checked_at__lt=end).exists():
            continue
        if monitor.created_at > start:
            Monitor.objects.filter(pk=monitor.pk).update(created_at=start - timedelta(days=30))
        batch: list[Outcome] = []
        for outcome in _checks(monitor, first, outages.get(monitor.site.url)):
            batch.append(outcome)
            # Around an outage every check is its own moment: the incident, its alert
            # and its ticket are made when they would have been.
            if not outcome.ok or len(batch) >= 96 or outcome.checked_at.minute % 15:
                with clock.replay(outcome.checked_at + timedelta(seconds=2)):
                    store.save_sync(batch)
                written += len(batch)
                batch = []
        if batch:
            with clock.replay(batch[-1].checked_at + timedelta(seconds=2)):
                store.save_sync(batch)
            written += len(batch)
    if written:
        with clock.replay(end + timedelta(minutes=7)):
            rollup_hours(start, end)
    return written


def _answer_downtime(first: date, staff: User | None) -> int:
    """Staff answer each downtime ticket within the half hour and solve it after recovery."""
    if staff is None:
        return 0
    start, end = month_bounds(first.year, first.month)
    written = 0
    links = IncidentTicket.objects.filter(
        incident__confirmed_at__gte=start, incident__confirmed_at__lt=end
    ).select_related("incident", "ticket")
    for link in links:
        ticket, incident = link.ticket, link.incident
        if ticket.status != Status.NEW or incident.resolved_at is None:
            continue
        with clock.replay(incident.confirmed_at + timedelta(minutes=14)):
            do_reply(
                ticket,
                "We are on it: the site is not answering and we are working with the host.",
                acting_user=staff,
            )
        with clock.replay(incident.resolved_at + timedelta(minutes=6)):
            do_reply(
                ticket,
                "The site is back. The host restarted a failed web server; we keep watching.",
                acting_user=staff,
                status=Status.SOLVED,
            )
        written += 2
    return written


def load_demo_history() -> int:
    """Write last month's maintenance and monitoring history once; returns rows written."""
    today = periods.local_today()
    first = periods.previous_month(today.replace(day=1))
    if Vulnerability.objects.filter(feed_id__in=FEED).count() < len(FEED):
        feed.import_feed(json.dumps(FEED).encode())
    staff = User.objects.filter(email=STAFF).first()
    writes = _maintenance(first, staff) + _backups(first, staff)
    return writes + _monitoring(first) + _answer_downtime(first, staff)
