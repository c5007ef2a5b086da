"""A small KIJO-style client for the ticket tests, on top of the suite's personas.

Client A is on a "KIJO Care" plan (the shipped KIJO preset, also the default
policy for clients without a plan); client B has no plan at all.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from caredesk.accounts.models import Role, User
from caredesk.plans.models import Plan, PlanCategory, QueueTier, Subscription, WorkCategory
from caredesk.sla.models import SlaPolicy
from caredesk.sla.policy_io import import_policy, load_preset
from caredesk.tickets.actions import do_create_ticket

LONDON = ZoneInfo("Europe/London")
# Monday 1 June 2026, 09:00 London: a plain working week (no bank holiday).
MONDAY_9 = datetime(2026, 6, 1, 9, tzinfo=LONDON)

INCLUDED = ("maintenance", "backup-restoration", "downtime", "contact-form", "bug-fix")
EXCLUDED = ("new-feature",)
OTHER = ("training",)  # a category the plan says nothing about


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def june(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """An instant in June 2026, London time; the 1st is a Monday."""
    return london(2026, 6, day, hour, minute, second)


def subscribe(organisation, policy: SlaPolicy | None, code: str, **plan) -> Plan:
    """Put ``organisation`` on a new plan with ``policy`` from 2020 on."""
    plan.setdefault("name", code.replace("-", " ").title())
    made = Plan.objects.create(code=code, sla_policy=policy, **plan)
    Subscription.objects.create(organisation=organisation, plan=made, start_date=date(2020, 1, 1))
    return made


@pytest.fixture
def categories(db) -> dict[str, WorkCategory]:
    return {
        code: WorkCategory.objects.create(code=code, name=code.replace("-", " ").capitalize())
        for code in (*INCLUDED, *EXCLUDED, *OTHER)
    }


@pytest.fixture
def kijo(db) -> SlaPolicy:
    return import_policy(load_preset("kijo-care"), is_default=True)


@pytest.fixture
def kijo_plan(kijo, categories) -> Plan:
    plan = Plan.objects.create(
        code="kijo-care", name="KIJO Care", sla_policy=kijo, queue_tier=QueueTier.PLAN
    )
    for code in INCLUDED:
        PlanCategory.objects.create(plan=plan, category=categories[code], included=True)
    for code in EXCLUDED:
        PlanCategory.objects.create(plan=plan, category=categories[code], included=False)
    return plan


@pytest.fixture
def account_manager(db) -> User:
    return User.objects.create_user(
        "lena@agency.example", "x", role=Role.ACCOUNT_MANAGER, full_name="Lena Manager"
    )


@pytest.fixture
def client_a(org_a, kijo_plan, account_manager):
    """Client A on KIJO Care, looked after by the account manager."""
    Subscription.objects.create(organisation=org_a, plan=kijo_plan, start_date=date(2020, 1, 1))
    org_a.account_manager = account_manager
    org_a.save()
    return org_a


@pytest.fixture
def contact_a(client_a, requester_a):
    return requester_a.contact


@pytest.fixture
def other_contact(contact_b):
    return contact_b.contact


@pytest.fixture
def traveller():
    """Time stands still at Monday 09:00 until a test moves it."""
    with time_machine.travel(MONDAY_9, tick=False) as traveller:
        yield traveller


@pytest.fixture
def raise_ticket(contact_a):
    """Open a ticket as client A's requester (through the portal unless told otherwise)."""

    def make(**options):
        options.setdefault("subject", "The gallery page is broken")
        options.setdefault("body", "Images do not load since the update.")
        options.setdefault("channel", "portal")
        options.setdefault("requester", contact_a)
        return do_create_ticket(**options)

    return make
