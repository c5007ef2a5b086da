"""Two of the seed agencies' catalogues as plans, and clients on them.

- KIJO Care (first agency): maintenance, backups, bug fixes, questions included;
  new features and the rest excluded and billed at £85 an hour; hours not
  counted; a ticket over 2 h in a calendar month is past fair usage (whole ticket).
- Support Package 5 h (third agency): 5 hours a month, $60 an hour past them;
  a one-year contract takes 10 % off; two months can be pooled by agreement.

Time stands still on 15 July 2026 unless a test moves it, so March to June
2026 are past periods that can be logged and finalised.
"""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from caredesk.accounts.models import Role, User
from caredesk.billing import actions
from caredesk.clients.models import Organisation
from caredesk.plans.models import (
    FairUsageMode,
    Plan,
    PlanCategory,
    QueueTier,
    Subscription,
    Term,
    WorkCategory,
)
from caredesk.tickets.actions import do_create_ticket

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 7, 15, 10, 0, tzinfo=LONDON)

CATEGORIES = ("maintenance", "bug-fix", "questions-advice", "new-feature", "design-change")
KIJO_INCLUDED = ("maintenance", "bug-fix", "questions-advice")
KIJO_EXCLUDED = ("new-feature",)
PACKAGE_INCLUDED = ("maintenance", "bug-fix", "design-change", "new-feature")


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def categories(db) -> dict[str, WorkCategory]:
    return {
        code: WorkCategory.objects.create(
            code=code, name=code.replace("-", " ").capitalize(), position=i
        )
        for i, code in enumerate(CATEGORIES)
    }


def _plan(categories, code, name, included, excluded=(), **fields) -> Plan:
    plan = Plan.objects.create(code=code, name=name, **fields)
    for category in included:
        PlanCategory.objects.create(plan=plan, category=categories[category], included=True)
    for category in excluded:
        PlanCategory.objects.create(plan=plan, category=categories[category], included=False)
    return plan


@pytest.fixture
def kijo_care(categories) -> Plan:
    return _plan(
        categories,
        "kijo-care",
        "KIJO Care",
        KIJO_INCLUDED,
        KIJO_EXCLUDED,
        monthly_fee=Decimal("95.00"),
        currency="GBP",
        included_minutes=None,
        hourly_rate=Decimal("85.00"),
        fair_usage_cap_minutes=120,
        fair_usage_mode=FairUsageMode.WHOLE_TICKET,
    )


@pytest.fixture
def package_5h(categories) -> Plan:
    return _plan(
        categories,
        "package-5h",
        "Support Package 5 h",
        PACKAGE_INCLUDED,
        monthly_fee=Decimal("300.00"),
        currency="USD",
        included_minutes=300,
        hourly_rate=Decimal("60.00"),
    )


@pytest.fixture
def on_demand(categories) -> Plan:
    return _plan(
        categories,
        "on-demand",
        "On demand",
        (),
        monthly_fee=Decimal("0.00"),
        currency="USD",
        included_minutes=0,
        hourly_rate=Decimal("65.00"),
        queue_tier=QueueTier.ON_DEMAND,
    )


@pytest.fixture
def account_manager(db) -> User:
    return User.objects.create_user(
        "lena@agency.example", "x", role=Role.ACCOUNT_MANAGER, full_name="Lena Walsh"
    )


@pytest.fixture
def agent(db) -> User:
    return User.objects.create_user(
        "omar@agency.example", "x", role=Role.AGENT, full_name="Omar Haddad"
    )


def subscribe(organisation, plan, **fields) -> Subscription:
    fields.setdefault("start_date", date(2026, 1, 1))
    return Subscription.objects.create(organisation=organisation, plan=plan, **fields)


@pytest.fixture
def kijo_client(org_a, kijo_care, account_manager) -> Organisation:
    """Alpha Bakery on KIJO Care since January 2026."""
    subscribe(org_a, kijo_care)
    org_a.account_manager = account_manager
    org_a.save()
    return org_a


@pytest.fixture
def package_client(org_b, package_5h, account_manager) -> Organisation:
    """Beta Dental on the 5-hour package since January 2026, monthly."""
    subscribe(org_b, package_5h)
    org_b.account_manager = account_manager
    org_b.save()
    return org_b


@pytest.fixture
def make_ticket(categories):
    def make(organisation, category: str | None = None, subject: str = "Please help"):
        return do_create_ticket(
            subject=subject,
            body="Details.",
            channel="phone",
            organisation=organisation,
            category=categories[category] if category else None,
            notify_requester=False,
        )

    return make


@pytest.fixture
def log(agent, categories):
    """Log time as the agent: ``log(ticket, minutes, date(2026, 3, 2), "bug-fix")``."""

    def entry(ticket, minutes: int, day: date, category: str | None = None, **options):
        return actions.do_log_time(
            ticket,
            minutes,
            acting_user=options.pop("acting_user", agent),
            work_date=day,
            category=categories[category] if category else None,
            **options,
        )

    return entry


ANNUAL = {"term": Term.ANNUAL, "annual_discount_percent": Decimal("10")}
