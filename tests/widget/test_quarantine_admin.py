"""The widget quarantine in the admin: staff see what the spam trap caught and can file it."""

import pytest
from django.urls import reverse

from caredesk.tickets.models import Ticket
from caredesk.widget.models import QuarantinedSubmission

CHANGELIST = "admin:widget_quarantinedsubmission_changelist"


@pytest.fixture
def caught(submit, requester_a) -> QuarantinedSubmission:
    assert submit(seconds=1).status_code == 201
    return QuarantinedSubmission.objects.get()


def _release(client, *entries):
    return client.post(
        reverse(CHANGELIST),
        {"action": "release", "_selected_action": [e.pk for e in entries]},
        follow=True,
    )


def test_an_agent_sees_the_catch_with_its_reason(client, staff, password, caught):
    client.login(username=staff.email, password=password)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "The gallery page is broken" in page
    assert "Sent faster than a person can type" in page
    detail = client.get(reverse("admin:widget_quarantinedsubmission_change", args=[caught.pk]))
    assert detail.status_code == 200
    assert "sent 1.0 s after the form opened" in detail.content.decode()


def test_a_client_cannot_reach_it(client, manager_a, password, caught):
    client.login(username=manager_a.email, password=password)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_staff_file_a_genuine_one_as_a_ticket_once(client, staff, password, caught, requester_a):
    client.login(username=staff.email, password=password)
    page = _release(client, caught).content.decode()
    ticket = Ticket.objects.get()
    assert f"filed as ticket {ticket.reference}" in page
    assert ticket.channel == "widget"
    assert ticket.requester == requester_a.contact
    caught.refresh_from_db()
    assert caught.ticket == ticket and caught.released_by == staff
    again = _release(client, caught).content.decode()
    assert f"Already filed as ticket {ticket.reference}" in again
    assert Ticket.objects.count() == 1


def test_nobody_adds_or_edits_entries(client, admin_user, password, caught):
    client.login(username=admin_user.email, password=password)
    assert client.get(reverse("admin:widget_quarantinedsubmission_add")).status_code == 403
    url = reverse("admin:widget_quarantinedsubmission_change", args=[caught.pk])
    client.post(url, {"subject": "changed"})
    caught.refresh_from_db()
    assert caught.subject == "The gallery page is broken"
