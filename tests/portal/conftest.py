"""Client A on a KIJO-style plan (new features excluded, billed at 85 GBP an hour).

Time stands still on Monday 23 November 2026, 12:00 London, unless a test
moves it: a routine ticket raised then is promised "by Tue 24 Nov, 12:00".
"""

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client

from caredesk.plans.models import Plan, PlanCategory, QueueTier, Subscription, WorkCategory
from caredesk.portal.tasks import send_sign_in_link
from caredesk.sla.policy_io import import_policy, load_preset
from caredesk.tickets.actions import do_create_ticket

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=LONDON)
INCLUDED = ("maintenance", "bug-fix", "contact-form")
EXCLUDED = ("new-feature",)
LINK = re.compile(r"https?://\S+/portal/link/([\w-]+)/")


@pytest.fixture(autouse=True)
def traveller():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def categories(db) -> dict[str, WorkCategory]:
    return {
        code: WorkCategory.objects.create(
            code=code, name=code.replace("-", " ").capitalize(), position=i
        )
        for i, code in enumerate((*INCLUDED, *EXCLUDED, "training"))
    }


@pytest.fixture
def plan(db, categories) -> Plan:
    policy = import_policy(load_preset("kijo-care"), is_default=True)
    made = Plan.objects.create(
        code="kijo-care",
        name="KIJO Care",
        sla_policy=policy,
        queue_tier=QueueTier.PLAN,
        hourly_rate=Decimal("85.00"),
        currency="GBP",
    )
    for code in INCLUDED:
        PlanCategory.objects.create(plan=made, category=categories[code], included=True)
    for code in EXCLUDED:
        PlanCategory.objects.create(plan=made, category=categories[code], included=False)
    return made


@pytest.fixture
def client_a(org_a, plan):
    Subscription.objects.create(organisation=org_a, plan=plan, start_date=date(2020, 1, 1))
    return org_a


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def as_requester(client_a, requester_a) -> Client:
    return client_for(requester_a)


@pytest.fixture
def as_manager(client_a, manager_a) -> Client:
    return client_for(manager_a)


@pytest.fixture
def as_other(contact_b) -> Client:
    return client_for(contact_b)


@pytest.fixture
def raise_ticket(client_a):
    """A ticket raised by a contact of its organisation (A's requester unless told)."""

    def make(user, **options):
        options.setdefault("subject", "The gallery page is broken")
        options.setdefault("body", "Images do not load since the update.")
        options.setdefault("channel", "portal")
        return do_create_ticket(requester=user.contact, **options)

    return make


def sent_link(address: str) -> str:
    """Run the queued sign-in mails and return the link's secret mailed to ``address``."""
    from caredesk.portal.models import SignInLink

    for link in SignInLink.objects.filter(sent_at=None):
        send_sign_in_link.call(link.pk)
    for message in reversed(mail.outbox):
        if address in message.to:
            return LINK.search(message.body).group(1)
    raise AssertionError(f"no sign-in link was mailed to {address}")
