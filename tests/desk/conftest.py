"""The demo agency, an agent signed in to the desk, and monitoring history to look at."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from caredesk.accounts.models import Role, User
from caredesk.clients.models import Contact
from caredesk.monitoring.models import HourlyRollup, Incident, Monitor, Outage
from caredesk.ops.demo import load_demo
from caredesk.plans.models import WorkCategory
from caredesk.tickets import actions

LONDON = ZoneInfo("Europe/London")
# Wednesday 10 June 2026, 09:00 in London: a working day in the middle of a month.
WEDNESDAY_9 = datetime(2026, 6, 10, 9, tzinfo=LONDON)


@pytest.fixture
def clock_at():
    with time_machine.travel(WEDNESDAY_9, tick=False) as traveller:
        yield traveller


@pytest.fixture
def agency(db, clock_at):
    load_demo(activity=False)


@pytest.fixture
def omar(agency) -> User:
    return User.objects.get(email="omar.haddad@agency.example")


@pytest.fixture
def other_agent(agency) -> User:
    return User.objects.create_user(
        "nia@agency.example", "pw-for-tests-1", role=Role.AGENT, full_name="Nia Okafor"
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def desk(omar) -> Client:
    return signed_in(omar)


def open_ticket(email: str, subject: str, category: str | None = None, **kwargs):
    contact = Contact.objects.get(email=email)
    return actions.do_create_ticket(
        subject=subject,
        body="Please help",
        channel="portal",
        requester=contact,
        category=WorkCategory.objects.get(code=category) if category else None,
        **kwargs,
    )


@pytest.fixture
def form_ticket(agency):
    """KIJO critical (contact form): first response due in 4 business hours."""
    return open_ticket("jo@harbourbakery.example", "Contact form broken", "contact-form")


@pytest.fixture
def client_logins(agency) -> list[Client]:
    """Signed-in contacts of two clients (a manager of each): the desk must not exist for them."""
    logins = []
    for email in ("jo@harbourbakery.example", "theo@paperlantern.example"):
        contact = Contact.objects.get(email=email)
        contact.user = User.objects.create_user(email, "pw-for-tests-1", role=Role.CLIENT)
        contact.is_manager = True
        contact.save()
        logins.append(signed_in(contact.user))
    return logins


def history(monitor: Monitor, now: datetime, hours: int, p50=300, p95=900, skip=()) -> None:
    """Hourly rollups for the last ``hours`` whole hours (``skip``: hour offsets with no data)."""
    top = now.replace(minute=0, second=0, microsecond=0)
    HourlyRollup.objects.bulk_create(
        HourlyRollup(
            monitor=monitor,
            hour=top - timedelta(hours=back),
            checks=60,
            failures=0,
            up_seconds=3600,
            down_seconds=0,
            p50_ms=p50 + back % 7,
            p95_ms=p95 + back % 11,
        )
        for back in range(1, hours + 1)
        if back not in skip
    )


def outage(monitor: Monitor, started: datetime, minutes: int | None, cause="HTTP 503") -> Incident:
    """A confirmed incident; ``minutes=None`` leaves it open (and the monitor down)."""
    ended = started + timedelta(minutes=minutes) if minutes is not None else None
    incident = Incident.objects.create(
        monitor=monitor,
        started_at=started,
        confirmed_at=started + timedelta(minutes=2),
        recovered_at=ended,
        resolved_at=ended + timedelta(minutes=2) if ended else None,
        cause=cause,
    )
    Outage.objects.create(incident=incident, monitor=monitor, started_at=started, ended_at=ended)
    if ended is None:
        Monitor.objects.filter(pk=monitor.pk).update(
            state="down", state_since=started, failure_cause=cause, last_checked_at=started
        )
    return incident
