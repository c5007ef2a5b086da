"""Logging time and running a timer from the ticket page; each entry says why it is billed."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from caredesk.accounts.models import User
from caredesk.billing.models import TimeEntry, TimerRun
from caredesk.clients.models import Contact
from caredesk.ops.demo import load_demo
from caredesk.plans.models import WorkCategory
from caredesk.tickets import actions

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def now():
    with time_machine.travel(datetime(2026, 6, 1, 9, tzinfo=LONDON), tick=False) as traveller:
        yield traveller


@pytest.fixture
def agent(now):
    load_demo(activity=False)
    return User.objects.get(email="omar.haddad@agency.example")


@pytest.fixture
def desk(agent):
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def feature(agent):
    return actions.do_create_ticket(
        subject="New booking page",
        body="Please build it",
        channel="portal",
        requester=Contact.objects.get(email="jo@harbourbakery.example"),
        category=WorkCategory.objects.get(code="new-feature"),
    )


def test_time_logged_from_the_ticket_page_says_why_it_is_billed(desk, agent, feature):
    response = desk.post(f"/tickets/{feature.number}/time", {"minutes": "45", "note": "Wireframe"})
    assert response.status_code == 302
    entry = TimeEntry.objects.get(ticket=feature)
    assert (entry.minutes, entry.staff, entry.work_date) == (45, agent, date(2026, 6, 1))
    page = desk.get(f"/tickets/{feature.number}/").content.decode()
    assert "45 min" in page
    assert "New feature is not included in KIJO Care" in page


def test_bad_time_is_refused_with_a_message_and_nothing_logged(desk, feature):
    response = desk.post(f"/tickets/{feature.number}/time", {"minutes": "-5"}, follow=True)
    assert "Time not logged" in response.content.decode()
    response = desk.post(
        f"/tickets/{feature.number}/time",
        {"minutes": "30", "work_date": "2099-01-01"},
        follow=True,
    )
    assert "Time not logged" in response.content.decode()
    assert not TimeEntry.objects.filter(ticket=feature).exists()


def test_timer_starts_and_stops_into_a_time_entry(desk, agent, feature, now):
    desk.post(f"/tickets/{feature.number}/timer")
    assert TimerRun.objects.filter(staff=agent, ticket=feature).exists()
    now.shift(25 * 60)
    response = desk.post(f"/tickets/{feature.number}/timer", follow=True)
    assert "25 min logged" in response.content.decode()
    assert TimeEntry.objects.get(ticket=feature).minutes == 25
    assert not TimerRun.objects.filter(staff=agent).exists()


def test_clients_cannot_log_time(feature):
    contact = Contact.objects.get(email="jo@harbourbakery.example")
    contact.user = User.objects.create_user(contact.email, "pw-for-tests-1", role="client")
    contact.save()
    client = Client()
    client.force_login(contact.user)
    assert client.post(f"/tickets/{feature.number}/time", {"minutes": "5"}).status_code == 404
    assert not TimeEntry.objects.exists()
