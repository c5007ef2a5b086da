"""Logging and reading time through the API."""

import pytest

from caredesk.billing.models import TimeEntry
from caredesk.plans.models import WorkCategory
from caredesk.tickets import actions

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(requester_a):
    return actions.do_create_ticket(
        subject="Slow pages", body="Since Monday", channel="portal", requester=requester_a.contact
    )


def test_staff_logs_time_and_reads_it_back(api_client_for, staff, ticket):
    WorkCategory.objects.create(code="bug-fix", name="Bug fix")
    api = api_client_for(staff)
    response = api.post(
        f"/api/v1/tickets/{ticket.number}/time",
        {"minutes": 30, "category": "bug-fix", "note": "profiling"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["minutes"] == 30
    listed = api.get(f"/api/v1/tickets/{ticket.number}/time").json()
    assert [(e["minutes"], e["category"], e["staff"]) for e in listed] == [
        (30, "bug-fix", staff.email)
    ]


@pytest.mark.parametrize(
    "payload",
    [
        {"minutes": 0},
        {"minutes": "lots"},
        {"minutes": 30, "category": "no-such-thing"},
        {"minutes": 30, "work_date": "yesterday"},
        {"minutes": 30, "work_date": "2099-01-01"},
        {},
    ],
)
def test_bad_time_is_a_422_and_nothing_is_logged(api_client_for, staff, ticket, payload):
    response = api_client_for(staff).post(
        f"/api/v1/tickets/{ticket.number}/time", payload, content_type="application/json"
    )
    assert response.status_code == 422
    assert "detail" in response.json()
    assert not TimeEntry.objects.exists()


def test_clients_cannot_read_or_log_time(api_client_for, manager_a, ticket):
    api = api_client_for(manager_a)
    assert api.get(f"/api/v1/tickets/{ticket.number}/time").status_code == 403
    response = api.post(
        f"/api/v1/tickets/{ticket.number}/time", {"minutes": 5}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not TimeEntry.objects.exists()


def test_unknown_ticket_is_404(api_client_for, staff):
    assert api_client_for(staff).get("/api/v1/tickets/999999/time").status_code == 404
