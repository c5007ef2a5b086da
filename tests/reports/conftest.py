"""October 2026 for two clients, made through the real actions, and the report built from it.

Client A (Alpha Bakery) is on KIJO Care with two sites: the shop (checked
every 10 minutes all month, one 30-minute outage, a TLS monitor) and the
blog (watched from 15 October, never down). Four tickets, answered and solved
at known business times, carry time that the plan bills three ways. Client B
(Beta Dental) has one site, one ticket and its own recipient, so that a send
run has two clients to go through and B's records must never show in A's
report.

Time stands still on Monday 2 November 2026, 10:00 London, after the month.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from caredesk.accounts.models import Role, User
from caredesk.billing.actions import do_log_time
from caredesk.clients.models import Contact, Platform, Site
from caredesk.maintenance.actions import do_log_work, do_record_inventory, do_record_scan
from caredesk.maintenance.connectors import Inventory, Item
from caredesk.maintenance.scan.found import Found
from caredesk.monitoring.engine import Outcome
from caredesk.monitoring.models import Kind, Monitor
from caredesk.monitoring.store import DbStore
from caredesk.monitoring.uptime import rollup_hours
from caredesk.plans.models import (
    FairUsageMode,
    Plan,
    PlanCategory,
    QueueTier,
    Subscription,
    WorkCategory,
)
from caredesk.sla.policy_io import import_policy, load_preset
from caredesk.tickets.actions import do_change_status, do_create_ticket, do_reply
from conftest import PASSWORD
from tests.browser.conftest import browser, page  # noqa: F401 - fixtures for the browser tests

LONDON = ZoneInfo("Europe/London")
AFTER = datetime(2026, 11, 2, 10, 0, tzinfo=LONDON)
MONTH_START = datetime(2026, 9, 30, 23, 0, tzinfo=UTC)  # 1 October 00:00 London (BST)
MONTH_END = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)  # 1 November 00:00 London (GMT)
DOWN_FROM = datetime(2026, 10, 14, 10, 0, tzinfo=UTC)
DOWN_TO = datetime(2026, 10, 14, 10, 30, tzinfo=UTC)
CATEGORIES = ("maintenance", "bug-fix", "questions-advice", "new-feature", "downtime")


def london(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def traveller(db):
    with time_machine.travel(london(9, 30, 12), tick=False) as traveller:
        yield traveller


@pytest.fixture
def categories(db) -> dict[str, WorkCategory]:
    return {
        code: WorkCategory.objects.create(code=code, name=code.replace("-", " ").capitalize())
        for code in CATEGORIES
    }


@pytest.fixture
def kijo_plan(categories) -> Plan:
    policy = import_policy(load_preset("kijo-care"), is_default=True)
    plan = Plan.objects.create(
        code="kijo-care",
        name="KIJO Care",
        sla_policy=policy,
        queue_tier=QueueTier.PLAN,
        monthly_fee=Decimal("95.00"),
        currency="GBP",
        included_minutes=None,
        hourly_rate=Decimal("85.00"),
        fair_usage_cap_minutes=120,
        fair_usage_mode=FairUsageMode.WHOLE_TICKET,
    )
    for code in ("maintenance", "bug-fix", "questions-advice", "downtime"):
        PlanCategory.objects.create(plan=plan, category=categories[code], included=True)
    PlanCategory.objects.create(plan=plan, category=categories["new-feature"], included=False)
    return plan


@pytest.fixture
def package_plan(categories) -> Plan:
    plan = Plan.objects.create(
        code="package-5h",
        name="Support Package 5 h",
        monthly_fee=Decimal("300.00"),
        currency="USD",
        included_minutes=300,
        hourly_rate=Decimal("60.00"),
    )
    for code in ("maintenance", "bug-fix", "new-feature"):
        PlanCategory.objects.create(plan=plan, category=categories[code], included=True)
    return plan


@pytest.fixture
def recipient_a(org_a) -> User:
    """Client A's report recipient: not a manager, but receives (and may read) the reports."""
    user = User.objects.create_user(
        "rita@alpha.example", PASSWORD, role=Role.CLIENT, full_name="Rita Recipient"
    )
    Contact.objects.create(
        organisation=org_a,
        name="Rita Recipient",
        email=user.email,
        user=user,
        is_report_recipient=True,
    )
    return user


@pytest.fixture
def blog_a(org_a) -> Site:
    return Site.objects.create(
        organisation=org_a, name="Alpha blog", url="https://blog.alpha.example/"
    )


def _every(monitor: Monitor, start: datetime, end: datetime, step: timedelta, down=None):
    """One result per ``step``; failed inside ``down``; response times that vary by day."""
    store = DbStore("test")
    batch, moment = [], start
    while moment < end:
        failed = down is not None and down[0] <= moment < down[1]
        if failed:
            batch.append(
                Outcome(
                    monitor.pk,
                    moment,
                    "test",
                    False,
                    status_code=500,
                    error_kind="status",
                    error="HTTP 500 (expected 200-399)",
                )
            )
        else:
            ms = 180 + 12 * (moment.day % 7) + 3 * (moment.minute % 30)
            batch.append(Outcome(monitor.pk, moment, "test", True, status_code=200, total_ms=ms))
        moment += step
    for index in range(0, len(batch), 1000):
        store.save_sync(batch[index : index + 1000])


CF7_XSS = Found(
    key="vuln:contact-form-7:cf7-2026-1",
    category="vulnerability",
    severity="high",
    title="Contact Form 7 <= 5.9.2: stored cross-site scripting",
    advice="Update the plugin.",
    item_kind="plugin",
    item_slug="contact-form-7",
    installed_version="5.9",
    fixed_in="5.9.3",
    cvss_score=Decimal("7.2"),
)
XMLRPC = Found(
    key="xmlrpc",
    category="xmlrpc",
    severity="medium",
    title="xmlrpc.php answers",
    advice="Block xmlrpc.php unless an app needs it.",
)


def _inventory(core: str, woo: str, cf7: str, cf7_update: str = "") -> Inventory:
    return Inventory(
        core,
        "8.2.20",
        [
            Item("core", "wordpress", "WordPress", core, True),
            Item("plugin", "woocommerce", "WooCommerce", woo, True),
            Item("plugin", "contact-form-7", "Contact Form 7", cf7, True, cf7_update),
            Item("theme", "storefront", "Storefront", "4.5.0", True),
        ],
    )


def _upkeep(traveller, shop: Site, staff) -> None:
    """The shop's maintenance month: core and a plugin updated, one pending, two scans."""
    Site.objects.filter(pk=shop.pk).update(platform=Platform.WORDPRESS)
    traveller.move_to(london(9, 28, 3))
    do_record_inventory(shop, _inventory("6.6.1", "9.1.0", "5.9"))
    traveller.move_to(london(10, 3, 4))
    do_record_scan(
        shop,
        [CF7_XSS, XMLRPC],
        started_at=london(10, 3, 4),
        snapshot=None,
        checks_done=["versions", "xmlrpc"],
        notes=[],
    )
    traveller.move_to(london(10, 12, 3))
    do_record_inventory(shop, _inventory("6.6.2", "9.1.2", "5.9", "5.9.3"))
    traveller.move_to(london(10, 13, 11))
    do_log_work(
        shop,
        name="Cleared 1 200 spam comments",
        note="and turned on Akismet",
        at=london(10, 13, 11),
        acting_user=staff,
    )
    traveller.move_to(london(10, 20, 4))
    do_record_scan(
        shop,
        [CF7_XSS],
        started_at=london(10, 20, 4),
        snapshot=None,
        checks_done=["versions", "xmlrpc"],
        notes=[],
    )


@pytest.fixture
def october(
    traveller,
    org_a,
    org_b,
    site_a,
    site_b,
    blog_a,
    kijo_plan,
    package_plan,
    categories,
    staff,
    manager_a,
    recipient_a,
    contact_b,
):
    """The month, made the way caredesk makes it; returns what the tests look up."""
    Subscription.objects.create(organisation=org_a, plan=kijo_plan, start_date=date(2026, 1, 1))
    Subscription.objects.create(organisation=org_b, plan=package_plan, start_date=date(2026, 1, 1))
    Contact.objects.filter(user=contact_b).update(is_report_recipient=True)
    shop_monitor = Monitor.objects.get(site=site_a, kind=Kind.HTTP)
    Monitor.objects.filter(pk=shop_monitor.pk).update(created_at=datetime(2026, 9, 1, tzinfo=UTC))
    Monitor.objects.filter(site=blog_a).update(created_at=london(10, 15, 0))
    Monitor.objects.filter(site=site_b).update(created_at=datetime(2026, 9, 1, tzinfo=UTC))
    tls = Monitor.objects.create(site=site_a, kind=Kind.TLS, host="alpha.example", port=443)
    requester = Contact.objects.get(user=manager_a)
    b_contact = Contact.objects.get(user=contact_b)

    def ticket(subject, site, category, contact=requester):
        return do_create_ticket(
            subject=subject,
            body="Details.",
            channel="portal",
            requester=contact,
            site=site,
            category=categories[category],
        )

    _upkeep(traveller, site_a, staff)
    # Monday 5 October, 09:00: two tickets on the shop.
    traveller.move_to(london(10, 5, 9))
    gallery = ticket("Gallery images missing", site_a, "maintenance")
    checkout = ticket("Checkout button does nothing", site_a, "bug-fix")
    traveller.move_to(london(10, 5, 10))  # one business hour later
    do_reply(gallery, "Looking now.", acting_user=staff)
    do_log_time(gallery, 30, acting_user=staff, work_date=date(2026, 10, 5))
    traveller.move_to(london(10, 6, 12))  # 9 h on Monday + 3 h on Tuesday: past the 9 h limit
    do_reply(checkout, "Sorry for the wait.", acting_user=staff)
    do_change_status(gallery, "solved", acting_user=staff)
    do_log_time(checkout, 90, acting_user=staff, work_date=date(2026, 10, 6))
    # Wednesday 7 October: a blog request, excluded by the plan, answered in 30 minutes.
    traveller.move_to(london(10, 7, 14))
    feature = ticket("Add a newsletter signup", blog_a, "new-feature")
    traveller.move_to(london(10, 7, 14, 30))
    do_reply(feature, "That is new work: here is how we bill it.", acting_user=staff)
    do_log_time(checkout, 60, acting_user=staff, work_date=date(2026, 10, 7))  # 150 min > 2 h
    do_log_time(feature, 45, acting_user=staff, work_date=date(2026, 10, 7))
    traveller.move_to(london(10, 7, 15))
    do_change_status(feature, "solved", acting_user=staff)
    # Tuesday 20 October: a question about no site in particular, never answered in time.
    traveller.move_to(london(10, 20, 11))
    question = ticket("Who can edit the menu?", None, "questions-advice")
    do_log_time(question, 15, acting_user=staff, work_date=date(2026, 10, 20))
    # Client B: one ticket of its own.
    b_ticket = ticket("Beta booking form", site_b, "bug-fix", contact=b_contact)
    do_log_time(b_ticket, 200, acting_user=staff, work_date=date(2026, 10, 20))

    traveller.move_to(AFTER)
    _every(shop_monitor, MONTH_START, MONTH_END, timedelta(minutes=10), (DOWN_FROM, DOWN_TO))
    store = DbStore("test")
    store.save_sync(
        [Outcome(tls.pk, datetime(2026, 10, 31, 12, tzinfo=UTC), "test", True, cert_days=45)]
    )
    rollup_hours(MONTH_START, MONTH_END)
    return {
        "shop": site_a,
        "blog": blog_a,
        "b_site": site_b,
        "tickets": {
            "gallery": gallery,
            "checkout": checkout,
            "feature": feature,
            "question": question,
            "b": b_ticket,
        },
        "shop_monitor": shop_monitor,
        "tls": tls,
    }


@pytest.fixture
def quiet_month(
    traveller,
    org_a,
    org_b,
    site_a,
    site_b,
    kijo_plan,
    categories,
    manager_a,
    recipient_a,
    contact_b,
    staff,
):
    """A cheaper October for delivery and access tests: one ticket each, no check results."""
    Subscription.objects.create(organisation=org_a, plan=kijo_plan, start_date=date(2026, 1, 1))
    Contact.objects.filter(user=contact_b).update(is_report_recipient=True)
    traveller.move_to(london(10, 12, 9))
    for contact, site in ((manager_a.contact, site_a), (contact_b.contact, site_b)):
        do_create_ticket(
            subject="Please update the plugins",
            body="Thanks.",
            channel="portal",
            requester=contact,
            site=site,
            category=categories["maintenance"],
        )
    traveller.move_to(AFTER)
    return {"a": org_a, "b": org_b}


@pytest.fixture
def built(quiet_month):
    """Both clients' October reports, built."""
    from caredesk.reports.actions import do_build_reports

    reports = do_build_reports(2026, 10)
    return {r.organisation_id: r for r in reports}
