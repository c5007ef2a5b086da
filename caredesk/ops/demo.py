"""Demo data: the three seed agencies' service descriptions as plan catalogues.

Each catalogue is what one real agency promises its clients today; the demo
shows that caredesk can hold all three by configuration alone. Loading is an
upsert on natural keys, so running it twice leaves the same data as once.
Web addresses use the reserved ``.example`` domain: nothing here is real.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from caredesk.accounts.models import Role, User
from caredesk.billing.demo import load_demo_time
from caredesk.clients.models import Contact, Organisation, Site
from caredesk.kb.demo import load_demo_articles
from caredesk.monitoring.models import Monitor
from caredesk.plans.models import (
    FairUsageMode,
    Plan,
    PlanCategory,
    QueueTier,
    Subscription,
    Term,
    WorkCategory,
)
from caredesk.sla.policy_io import import_policy, load_preset

from .demo_history import load_demo_history

CATEGORIES = [
    # code, name, description (the seeds' own words where they have them)
    (
        "maintenance",
        "Website maintenance",
        "Updating WordPress core and plugins, monthly report, security scan.",
    ),
    (
        "backup-restoration",
        "Backup restoration",
        "Monthly backups and restoring backups if required.",
    ),
    ("downtime", "Downtime", "The site is down or unreachable."),
    ("contact-form", "Contact form not working", "A contact form does not send."),
    (
        "bug-fix",
        "Bug fix",
        "A small issue or regression within the existing features of a website.",
    ),
    ("questions-advice", "Questions & advice", ""),
    ("user-support", "User support", "Help using the CMS, or content that is hard-coded."),
    ("new-feature", "New feature", "Adding new features or functionality."),
    ("scope-expansion", "Scope expansion", "Expanding the scope of the website."),
    ("plugin-change", "Plugin change", "Changing off-the-shelf plugins."),
    (
        "bespoke-code-update",
        "Bespoke code update",
        "Updating bespoke code or integrations no longer compatible with the latest WordPress.",
    ),
    (
        "analytics-integration",
        "Analytics integration",
        "Bespoke analytics integrations including Google Tag Manager conversions.",
    ),
    ("design-change", "Design change", ""),
    ("development", "Development & customisation", ""),
    ("configuration", "Configuration", ""),
    ("extension-installation", "Extension installation", ""),
    ("security", "Security", "Site security updates and breaches."),
    ("performance", "Performance monitoring", "Performance and server resource monitoring."),
    ("project-management", "Project management", ""),
    ("quality-assurance", "Quality assurance", ""),
    ("training", "Online training", ""),
]


@dataclass(frozen=True)
class PlanSpec:
    policy: str
    code: str
    name: str
    description: str
    fee: str
    currency: str
    included_minutes: int | None
    hourly_rate: str
    fair_usage_cap_minutes: int | None
    tier: int
    included: tuple[str, ...]
    excluded: tuple[str, ...]


KIJO_EXCLUDED = (
    "new-feature",
    "scope-expansion",
    "plugin-change",
    "bespoke-code-update",
    "analytics-integration",
)
PACKAGE_INCLUDED = (
    "performance",
    "security",
    "bug-fix",
    "design-change",
    "development",
    "project-management",
    "quality-assurance",
    "training",
    "configuration",
    "extension-installation",
    "downtime",
    "maintenance",
)

PLANS = [
    PlanSpec(
        "kijo-care",
        "kijo-care",
        "KIJO Care",
        "Website maintenance: WordPress core and plugin updates, monthly reports, a monthly "
        "security scan, monthly backups and restoration, bug fixes, questions and advice. "
        "A ticket taking longer than 2 hours in a calendar month exceeds fair usage.",
        "95.00",
        "GBP",
        None,
        "85.00",
        120,
        QueueTier.PLAN,
        (
            "maintenance",
            "backup-restoration",
            "downtime",
            "contact-form",
            "bug-fix",
            "questions-advice",
        ),
        KIJO_EXCLUDED,
    ),
    PlanSpec(
        "kijo-care",
        "kijo-optimise",
        "KIJO Optimise (on demand)",
        "Everything KIJO Care excludes, charged per hour.",
        "0.00",
        "GBP",
        0,
        "85.00",
        None,
        QueueTier.ON_DEMAND,
        (),
        KIJO_EXCLUDED,
    ),
    PlanSpec(
        "studio-support",
        "studio-support",
        "Studio Support",
        "User support (reply within 3 working days), bug fixes (respond within 1 working day, "
        "fix within the next 1-2 working days) and mission-critical response around the clock.",
        "60.00",
        "GBP",
        None,
        "70.00",
        None,
        QueueTier.PLAN,
        ("user-support", "bug-fix", "downtime", "maintenance"),
        ("new-feature", "design-change"),
    ),
    PlanSpec(
        "support-levels",
        "package-5h",
        "Support Package 5 h",
        "5 support hours a month across all four support levels. Unused hours expire at the "
        "end of the billing cycle; extra hours are billed separately.",
        "300.00",
        "USD",
        300,
        "60.00",
        None,
        QueueTier.PLAN,
        PACKAGE_INCLUDED,
        (),
    ),
    PlanSpec(
        "support-levels",
        "package-10h",
        "Support Package 10 h",
        "10 support hours a month across all four support levels. Unused hours expire at the "
        "end of the billing cycle; extra hours are billed separately.",
        "560.00",
        "USD",
        600,
        "56.00",
        None,
        QueueTier.PLAN,
        PACKAGE_INCLUDED,
        (),
    ),
    PlanSpec(
        "support-levels",
        "on-demand",
        "On demand",
        "Tasks on demand without a package, billed per hour; served after package clients.",
        "0.00",
        "USD",
        0,
        "65.00",
        None,
        QueueTier.ON_DEMAND,
        (),
        PACKAGE_INCLUDED,
    ),
]

STAFF = [
    ("lena.walsh@agency.example", "Lena Walsh", Role.ACCOUNT_MANAGER),
    ("omar.haddad@agency.example", "Omar Haddad", Role.AGENT),
    ("kasia.nowak@agency.example", "Kasia Nowak", Role.AGENT),
]

# name, domain, account manager, plan, start, term, discount, contacts, sites
CLIENTS = [
    (
        "Harbour Bakery Ltd",
        "harbourbakery.example",
        "lena.walsh@agency.example",
        "kijo-care",
        date(2025, 3, 1),
        Term.MONTHLY,
        "0",
        [
            ("Jo Marsh", "jo@harbourbakery.example", "manager;report_recipient;billing"),
            ("Sam Ode", "sam@harbourbakery.example", ""),
        ],
        [("Harbour Bakery", "https://www.harbourbakery.example/", "wordpress")],
    ),
    (
        "Fenwick Dental Practice",
        "fenwickdental.example",
        "lena.walsh@agency.example",
        "kijo-care",
        date(2024, 11, 1),
        Term.MONTHLY,
        "0",
        [
            ("Dr Amir Fenwick", "amir@fenwickdental.example", "manager;report_recipient"),
            ("Reception", "reception@fenwickdental.example", ""),
        ],
        [
            ("Fenwick Dental", "https://fenwickdental.example/", "wordpress"),
            ("Fenwick Dental bookings", "https://book.fenwickdental.example/", "other"),
        ],
    ),
    (
        "Stroud Valley Arts",
        "stroudvalleyarts.example",
        "omar.haddad@agency.example",
        "studio-support",
        date(2023, 6, 1),
        Term.MONTHLY,
        "0",
        [("Nell Price", "nell@stroudvalleyarts.example", "manager;report_recipient;billing")],
        [("Stroud Valley Arts", "https://stroudvalleyarts.example/", "other")],
    ),
    (
        "Cotswold Cycle Hire",
        "cotswoldcycles.example",
        "omar.haddad@agency.example",
        "studio-support",
        date(2025, 9, 1),
        Term.MONTHLY,
        "0",
        [("Ben Hale", "ben@cotswoldcycles.example", "manager;report_recipient")],
        [("Cotswold Cycle Hire", "https://www.cotswoldcycles.example/", "other")],
    ),
    (
        "Northwind Outdoor Store",
        "northwind-outdoor.example",
        "lena.walsh@agency.example",
        "package-10h",
        date(2026, 1, 1),
        Term.ANNUAL,
        "10",
        [
            (
                "Olena Kovalenko",
                "olena@northwind-outdoor.example",
                "manager;report_recipient;billing",
            ),
            ("Mark Jensen", "mark@northwind-outdoor.example", ""),
        ],
        [("Northwind shop", "https://shop.northwind-outdoor.example/", "other")],
    ),
    (
        "Bluefin Ceramics",
        "bluefinceramics.example",
        "kasia.nowak@agency.example",
        "package-5h",
        date(2026, 5, 1),
        Term.MONTHLY,
        "0",
        [("Ines Duarte", "ines@bluefinceramics.example", "manager;report_recipient;billing")],
        [("Bluefin Ceramics", "https://bluefinceramics.example/", "wordpress")],
    ),
    (
        "Paper Lantern Events",
        "paperlantern.example",
        "kasia.nowak@agency.example",
        None,
        None,
        Term.MONTHLY,
        "0",
        [("Theo Grant", "theo@paperlantern.example", "manager")],
        [("Paper Lantern Events", "https://paperlantern.example/", "wordpress")],
    ),
]


def _upsert(model, lookup: dict, values: dict) -> bool:
    """Create or update one row; True when anything was written."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        model.objects.create(**lookup, **values)
        return True
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    if changed:
        for key in changed:
            setattr(obj, key, values[key])
        obj.save()
    return bool(changed)


def load_demo(*, activity: bool = True) -> int:
    """Load the demo; returns how many rows were created or changed (0 on a re-run).

    ``activity`` adds a month of tickets and logged time, and last month's
    maintenance and uptime history; without it the demo is the agencies'
    catalogues, clients, contacts and sites only.
    """
    writes = _load_clients(activity=activity)
    if activity:
        # Outside the clients' transaction: each outage commits as it happens, so the
        # alerts and the downtime ticket it causes are made at their own moments.
        writes += load_demo_history()
    return writes


@transaction.atomic
def _load_clients(*, activity: bool) -> int:
    writes = 0
    # The first agency's promises also serve clients without a plan.
    policies = {
        name: import_policy(load_preset(name), is_default=name == "kijo-care")
        for name in ("kijo-care", "studio-support", "support-levels")
    }
    for position, (code, name, description) in enumerate(CATEGORIES):
        writes += _upsert(
            WorkCategory,
            {"code": code},
            {"name": name, "description": description, "position": position},
        )
    categories = {c.code: c for c in WorkCategory.objects.all()}
    for spec in PLANS:
        writes += _upsert(
            Plan,
            {"code": spec.code},
            {
                "name": spec.name,
                "description": spec.description,
                "monthly_fee": Decimal(spec.fee),
                "currency": spec.currency,
                "included_minutes": spec.included_minutes,
                "hourly_rate": Decimal(spec.hourly_rate),
                "fair_usage_cap_minutes": spec.fair_usage_cap_minutes,
                "fair_usage_mode": FairUsageMode.WHOLE_TICKET,
                "queue_tier": spec.tier,
                "sla_policy": policies[spec.policy],
            },
        )
        plan = Plan.objects.get(code=spec.code)
        for code, included in [(c, True) for c in spec.included] + [
            (c, False) for c in spec.excluded
        ]:
            writes += _upsert(
                PlanCategory, {"plan": plan, "category": categories[code]}, {"included": included}
            )
    for email, full_name, role in STAFF:
        if not User.objects.filter(email=email).exists():
            User.objects.create_user(email, None, full_name=full_name, role=role)
            writes += 1
    for name, domain, manager, plan_code, start, term, discount, contacts, sites in CLIENTS:
        writes += _upsert(
            Organisation,
            {"name": name},
            {
                "email_domains": domain,
                "account_manager": User.objects.get(email=manager),
            },
        )
        organisation = Organisation.objects.get(name=name)
        for contact_name, email, roles in contacts:
            role_list = [r for r in roles.split(";") if r]
            writes += _upsert(
                Contact,
                {"email": email},
                {
                    "organisation": organisation,
                    "name": contact_name,
                    "is_manager": "manager" in role_list,
                    "is_report_recipient": "report_recipient" in role_list,
                    "is_billing": "billing" in role_list,
                },
            )
        for site_name, url, platform in sites:
            writes += _upsert(
                Site,
                {"organisation": organisation, "url": url},
                {"name": site_name, "platform": platform},
            )
        if plan_code:
            writes += _upsert(
                Subscription,
                {
                    "organisation": organisation,
                    "plan": Plan.objects.get(code=plan_code),
                    "start_date": start,
                },
                {"term": term, "annual_discount_percent": Decimal(discount), "billing_day": 1},
            )
    # The demo's sites do not exist (.example): their monitors stay paused, so
    # the probe never looks them up; an admin enables real sites' monitors.
    Monitor.objects.filter(site__url__contains=".example", enabled=True).update(enabled=False)
    writes += load_demo_articles()
    if activity:
        # A month of tickets and logged time, so statements have something to show.
        writes += load_demo_time()
    return writes
