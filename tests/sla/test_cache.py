"""Each process keeps a policy's priorities and targets (``caredesk.sla.cache``).

New tickets must not read them again, and must see a change staff make at once,
whichever way it is made.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caredesk.plans.models import Plan, Subscription
from caredesk.sla import cache
from caredesk.sla.models import BusinessCalendar, Priority, SlaPolicy, Target
from caredesk.sla.policy_io import import_policy, load_preset
from caredesk.sla.signals import changed
from caredesk.tickets.actions import do_add_customer_message, do_create_ticket

pytestmark = pytest.mark.django_db

# Monday 1 June 2026, 09:00 London: KIJO's office is open.
MONDAY_9 = datetime(2026, 6, 1, 9, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture(autouse=True)
def monday():
    with time_machine.travel(MONDAY_9, tick=False):
        yield


@pytest.fixture
def kijo(org_a) -> SlaPolicy:
    policy = import_policy(load_preset("kijo-care"))
    plan = Plan.objects.create(code="kijo", name="KIJO Care", sla_policy=policy)
    Subscription.objects.create(organisation=org_a, plan=plan, start_date=date(2020, 1, 1))
    return policy


def open_ticket(org_a):
    return do_create_ticket(subject="Site down", body="Help", channel="portal", organisation=org_a)


def first_response_limit(ticket) -> int:
    return ticket.sla_clocks.get(kind="first_response").limit_seconds


def sla_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "sla_priority" in q["sql"] or "sla_target" in q["sql"]]


def test_a_second_ticket_reads_no_priorities_or_targets(kijo, org_a):
    open_ticket(org_a)
    with CaptureQueriesContext(connection) as queries:
        ticket = open_ticket(org_a)
    assert sla_queries(queries) == []
    assert ticket.priority.code == "non-critical"
    assert first_response_limit(ticket) == 9 * 3600


def test_a_reply_reads_no_targets(kijo, org_a, requester_a):
    ticket = open_ticket(org_a)
    with CaptureQueriesContext(connection) as queries:
        do_add_customer_message(ticket, "Still down", contact=requester_a.contact)
    assert sla_queries(queries) == []


def test_a_target_saved_by_staff_counts_for_the_next_ticket(kijo, org_a):
    open_ticket(org_a)
    target = Target.objects.get(
        priority__policy=kijo, priority__code="non-critical", kind="first_response"
    )
    target.limit = timedelta(hours=2)
    target.save()
    assert first_response_limit(open_ticket(org_a)) == 2 * 3600


def test_a_new_default_priority_counts_for_the_next_ticket(kijo, org_a):
    open_ticket(org_a)
    Priority.objects.filter(policy=kijo).update(is_default=False)
    urgent = Priority.objects.get(policy=kijo, code="critical")
    urgent.is_default = True
    urgent.save()
    assert open_ticket(org_a).priority.code == "critical"


def test_a_calendar_saved_by_staff_counts_for_the_next_ticket(kijo, org_a):
    open_ticket(org_a)
    calendar = BusinessCalendar.objects.get(pk=kijo.calendar_id)
    calendar.spec = {**calendar.spec, "closed": ["2026-06-01"]}
    calendar.save()
    # Closed all Monday: the 9 business hours run from Tuesday 08:00.
    due = open_ticket(org_a).sla_clocks.get(kind="first_response").due_at
    assert due == datetime(2026, 6, 2, 17, tzinfo=ZoneInfo("Europe/London"))


def test_a_change_made_behind_the_orm_counts_once_announced(kijo, org_a):
    open_ticket(org_a)
    Target.objects.filter(priority__policy=kijo, kind="first_response").update(
        limit=timedelta(hours=3)
    )
    changed()
    assert first_response_limit(open_ticket(org_a)) == 3 * 3600


def test_a_revision_seen_before_is_not_read_again(kijo):
    kept = cache.setup(SlaPolicy.objects.get(pk=kijo.pk))
    with CaptureQueriesContext(connection) as queries:
        again = cache.setup(SlaPolicy.objects.get(pk=kijo.pk))
    assert again is kept
    assert len(queries) == 1  # the policy row only


def test_every_change_gives_a_new_revision(kijo):
    before = SlaPolicy.objects.get(pk=kijo.pk).revision
    Priority.objects.filter(policy=kijo).first().save()
    after = SlaPolicy.objects.get(pk=kijo.pk).revision
    assert after != before
    Priority.objects.filter(policy=kijo).first().delete()
    assert SlaPolicy.objects.get(pk=kijo.pk).revision not in (before, after)
