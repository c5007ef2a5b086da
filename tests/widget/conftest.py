"""Client A's shop with the widget on, a KIJO Care plan behind it, and time standing still.

The visitor's page is https://www.alpha.example; the desk answers the API.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from caredesk.plans.models import Plan, QueueTier, Subscription
from caredesk.sla.policy_io import import_policy, load_preset

ORIGIN = "https://www.alpha.example"
# Monday 1 June 2026, 09:00 London: a plain working day.
MONDAY_9 = datetime(2026, 6, 1, 9, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def kijo_client(org_a):
    policy = import_policy(load_preset("kijo-care"), is_default=True)
    plan = Plan.objects.create(
        code="kijo-care", name="KIJO Care", sla_policy=policy, queue_tier=QueueTier.PLAN
    )
    Subscription.objects.create(organisation=org_a, plan=plan, start_date=date(2020, 1, 1))
    return org_a


@pytest.fixture
def widget_site(site_a, kijo_client):
    site_a.widget_enabled = True
    site_a.widget_origins = f"{ORIGIN}\nhttps://alpha.example"
    site_a.save()
    return site_a


@pytest.fixture
def clock_at_monday():
    with time_machine.travel(MONDAY_9, tick=False) as traveller:
        yield traveller


@pytest.fixture
def browser_client(db) -> Client:
    """A page on the shop's origin, as a browser would send it."""
    return Client(headers={"Origin": ORIGIN}, REMOTE_ADDR="203.0.113.7")


def form_url(site) -> str:
    return f"/api/v1/widget/{site.widget_key}/form"


def tickets_url(site) -> str:
    return f"/api/v1/widget/{site.widget_key}/tickets"


@pytest.fixture
def submit(widget_site, browser_client, clock_at_monday):
    """Open the form, take ``seconds`` to fill it in, send it; returns the response."""

    def send(seconds: float = 30, client: Client | None = None, site=None, **fields):
        client = client or browser_client
        site = site or widget_site
        opened = client.get(form_url(site))
        token = opened.json()["token"] if opened.status_code == 200 else ""
        clock_at_monday.shift(timedelta(seconds=seconds))
        data = {
            "name": "Rob Requester",
            "email": "rob@alpha.example",
            "subject": "The gallery page is broken",
            "description": "Images do not load since the update.",
            "page": f"{ORIGIN}/gallery",
            "token": token,
            "website": "",
        }
        data.update(fields)
        data = {k: v for k, v in data.items() if v is not None}
        return client.post(tickets_url(site), data)

    return send
