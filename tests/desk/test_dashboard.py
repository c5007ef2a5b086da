"""The desk's home: open by priority, due today, breaches, unassigned, per agent."""

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caredesk.tickets import actions

from .conftest import LONDON, open_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def work(agency, omar):
    form = open_ticket("jo@harbourbakery.example", "Contact form broken", "contact-form")
    routine = open_ticket("jo@harbourbakery.example", "Change the footer")
    actions.do_assign(form, omar, acting_user=omar)
    return {"form": form, "routine": routine}


def test_dashboard_counts_open_due_today_unassigned_and_mine(desk, work):
    response = desk.get("/")
    totals = response.context["totals"]
    assert totals["open"] == 2
    # Critical: due 13:00 today; non-critical: 9 business hours, due tomorrow.
    assert totals["due_today"] == 1
    assert totals["unassigned"] == 1
    assert totals["mine"] == 1
    assert totals["breached"] == 0
    by_priority = {row["name"]: row["count"] for row in response.context["by_priority"]}
    assert by_priority == {"Critical": 1, "Non-critical": 1}
    [omar_row] = [r for r in response.context["agents"] if r["user"].email.startswith("omar")]
    assert (omar_row["count"], omar_row["due_today"]) == (1, 1)


def test_breaches_show_once_a_clock_passes_its_due_time(desk, work, clock_at):
    clock_at.move_to(datetime(2026, 6, 10, 14, tzinfo=LONDON))
    response = desk.get("/")
    assert response.context["totals"]["breached"] == 1
    assert [t.subject for t in response.context["breached_list"]] == ["Contact form broken"]
    assert "overdue by 1 h 00 min" in response.content.decode()


def test_dashboard_queries_do_not_grow_with_tickets(desk, work):
    desk.get("/")
    with CaptureQueriesContext(connection) as few:
        desk.get("/")
    for i in range(20):
        open_ticket("theo@paperlantern.example", f"Extra {i}", "contact-form")
    with CaptureQueriesContext(connection) as many:
        desk.get("/")
    assert len(many) == len(few)
    assert len(few) <= 12
