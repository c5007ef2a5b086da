"""The staff queue and ticket page: most urgent first, every change through actions."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from caredesk.accounts.models import User
from caredesk.clients.models import Contact
from caredesk.mail.models import OutboundEmail
from caredesk.ops.demo import load_demo
from caredesk.plans.models import WorkCategory
from caredesk.sla.models import Priority
from caredesk.tickets import actions
from caredesk.tickets.models import Message, MessageKind, Status, Ticket

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
MONDAY_9 = datetime(2026, 6, 1, 9, tzinfo=LONDON)


@pytest.fixture
def demo():
    load_demo(activity=False)


@pytest.fixture
def now():
    with time_machine.travel(MONDAY_9, tick=False) as traveller:
        yield traveller


@pytest.fixture
def agent(demo):
    return User.objects.get(email="omar.haddad@agency.example")


@pytest.fixture
def desk(agent):
    client = Client()
    client.force_login(agent)
    return client


def open_ticket(email: str, subject: str, category: str | None = None) -> Ticket:
    return actions.do_create_ticket(
        subject=subject,
        body="Please help",
        channel="portal",
        requester=Contact.objects.get(email=email),
        category=WorkCategory.objects.get(code=category) if category else None,
    )


@pytest.fixture
def tickets(demo, now):
    return {
        # KIJO non-critical: first response in 9 business hours (Tue 09:00).
        "routine": open_ticket("jo@harbourbakery.example", "Change the footer text"),
        # KIJO critical: 4 business hours (13:00 today).
        "form": open_ticket("jo@harbourbakery.example", "Contact form broken", "contact-form"),
        # No plan (on demand), default KIJO policy, non-critical: due with the routine one.
        "on_demand": open_ticket("theo@paperlantern.example", "New landing page"),
    }


def test_queue_puts_the_nearest_due_first_and_plan_clients_before_on_demand(desk, tickets):
    response = desk.get("/tickets/")
    assert response.status_code == 200
    ours = {t.subject for t in tickets.values()}
    order = [t.subject for t in response.context["tickets"] if t.subject in ours]
    assert order == ["Contact form broken", "Change the footer text", "New landing page"]
    page = response.content.decode()
    assert "4 h 00 min left" in page
    assert "on demand" in page


def test_views_filter_the_queue(desk, agent, tickets):
    actions.do_assign(tickets["form"], agent, acting_user=agent)
    mine = desk.get("/tickets/?view=mine").context["tickets"]
    assert "Contact form broken" in [t.subject for t in mine]
    assert "Change the footer text" not in [t.subject for t in mine]
    unassigned = desk.get("/tickets/?view=unassigned").context["tickets"]
    assert "Contact form broken" not in [t.subject for t in unassigned]
    soon = desk.get("/tickets/?view=soon").context["tickets"]
    assert not {t.subject for t in soon} & {t.subject for t in tickets.values()}


def test_breached_view_lists_tickets_past_their_due_time(desk, tickets, now):
    now.move_to(datetime(2026, 6, 1, 14, tzinfo=LONDON))
    breached = {t.subject for t in desk.get("/tickets/?view=breached").context["tickets"]}
    assert "Contact form broken" in breached
    assert "Change the footer text" not in breached
    assert "overdue by 1 h 00 min" in desk.get("/tickets/").content.decode()


def test_search_by_number_subject_or_client(desk, tickets):
    number = tickets["routine"].number
    assert [t.number for t in desk.get(f"/tickets/?q=%23{number}").context["tickets"]] == [number]
    found = desk.get("/tickets/?q=paper+lantern").context["tickets"]
    assert [t.subject for t in found] == ["New landing page"]


def test_an_unknown_view_or_page_falls_back_quietly(desk, tickets):
    assert desk.get("/tickets/?view=nonsense&page=abc").status_code == 200


def test_ticket_page_shows_conversation_clocks_and_plan(desk, tickets):
    page = desk.get(f"/tickets/{tickets['form'].number}/").content.decode()
    assert "Contact form broken" in page
    assert "First response" in page
    assert "KIJO Care" in page
    assert "New feature: billed at" in page


def test_public_reply_is_sent_to_the_client_and_stops_the_first_response_clock(
    desk, tickets, django_capture_on_commit_callbacks
):
    ticket = tickets["form"]
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(
            f"/tickets/{ticket.number}/reply",
            {"kind": "public_reply", "body": "We are on it.", "status": "pending"},
        )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    assert ticket.first_response_at is not None
    assert OutboundEmail.objects.filter(ticket=ticket, kind="reply").count() == 1
    assert ticket.sla_clocks.get(kind="first_response").stopped_at is not None


def test_internal_note_never_leaves_staff(desk, tickets, django_capture_on_commit_callbacks):
    ticket = tickets["form"]
    with django_capture_on_commit_callbacks(execute=True):
        desk.post(
            f"/tickets/{ticket.number}/reply", {"kind": "internal_note", "body": "Check logs"}
        )
    assert Message.objects.filter(ticket=ticket, kind=MessageKind.INTERNAL_NOTE).exists()
    assert not OutboundEmail.objects.filter(ticket=ticket, kind="reply").exists()
    assert ticket.sla_clocks.get(kind="first_response").stopped_at is None


def test_empty_reply_is_shown_back_with_an_error(desk, tickets):
    response = desk.post(
        f"/tickets/{tickets['form'].number}/reply", {"kind": "public_reply", "body": "   "}
    )
    assert response.status_code == 400
    assert "Write something first." in response.content.decode()


def test_properties_change_priority_assignee_category_and_status(desk, agent, tickets):
    ticket = tickets["routine"]
    critical = Priority.objects.get(policy=ticket.sla_policy, code="critical")
    response = desk.post(
        f"/tickets/{ticket.number}/properties",
        {
            "status": "on_hold",
            "priority": critical.pk,
            "assignee": agent.pk,
            "category": WorkCategory.objects.get(code="new-feature").pk,
        },
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == ("on_hold", critical, agent)
    assert ticket.billable
    kinds = set(ticket.events.values_list("kind", flat=True))
    assert {"priority", "assignee", "category", "status"} <= kinds


def test_priority_of_another_policy_is_refused(desk, tickets):
    ticket = tickets["routine"]
    foreign = Priority.objects.exclude(policy=ticket.sla_policy).first()
    response = desk.post(
        f"/tickets/{ticket.number}/properties", {"status": "open", "priority": foreign.pk}
    )
    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.priority != foreign


def test_clients_and_strangers_never_reach_the_desk(tickets, client_users):
    number = tickets["form"].number
    for client in client_users:
        assert client.get("/tickets/").status_code == 404
        assert client.get(f"/tickets/{number}/").status_code == 404
        assert (
            client.post(
                f"/tickets/{number}/reply", {"kind": "public_reply", "body": "x"}
            ).status_code
            == 404
        )
    anonymous = Client().get(f"/tickets/{number}/")
    assert anonymous.status_code == 302


@pytest.fixture
def client_users(demo):
    users = []
    for email in ("jo@harbourbakery.example", "theo@paperlantern.example"):
        contact = Contact.objects.get(email=email)
        user = User.objects.create_user(email, "pw-for-tests-1", role="client")
        contact.user = user
        contact.save()
        client = Client()
        client.force_login(user)
        users.append(client)
    return users


def test_missing_ticket_is_404(desk, demo):
    assert desk.get("/tickets/999999/").status_code == 404
