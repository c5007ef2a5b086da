"""The staff preview and the PDF download, for each persona: staff, A's people, B, a stranger."""

import pytest
from django.test import Client

from caredesk.reports import actions
from caredesk.tickets.models import Ticket


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def sent_a(built, org_a):
    actions.do_send(built[org_a.pk])
    built[org_a.pk].refresh_from_db()
    return built[org_a.pk]


def test_staff_preview_shows_the_report_with_links_to_its_sources(sent_a, staff, org_a):
    response = client_for(staff).get(f"/reports/{sent_a.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Monthly report: October 2026" in html
    ticket = Ticket.objects.get(subject="Please update the plugins", organisation=org_a)
    assert f"/tickets/{ticket.number}/" in html  # each ticket listed links to the desk
    assert "/admin/billing/timeentry/" in html and "/sites/" in html
    assert "rita@alpha.example" in html  # who it goes to
    assert "Delivery log" in html


def test_staff_preview_of_a_draft_works_before_it_is_sent(built, org_b, staff):
    assert client_for(staff).get(f"/reports/{built[org_b.pk].pk}/").status_code == 200


@pytest.mark.parametrize("persona", ["manager_a", "recipient_a", "requester_a", "contact_b"])
def test_clients_never_get_the_staff_preview(sent_a, persona, request):
    user = request.getfixturevalue(persona)
    assert client_for(user).get(f"/reports/{sent_a.pk}/").status_code == 404


@pytest.mark.parametrize("persona", ["staff", "manager_a", "recipient_a"])
def test_staff_and_a_clients_managers_and_recipients_download_its_sent_report(
    sent_a, persona, request
):
    response = client_for(request.getfixturevalue(persona)).get(f"/reports/{sent_a.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content == bytes(sent_a.pdf)
    assert "attachment;" in response["Content-Disposition"]


@pytest.mark.parametrize("persona", ["requester_a", "contact_b"])
def test_a_plain_requester_and_another_client_see_no_report(sent_a, persona, request):
    response = client_for(request.getfixturevalue(persona)).get(f"/reports/{sent_a.pk}/pdf/")
    assert response.status_code == 404


def test_clients_do_not_see_a_draft_not_yet_sent(built, org_b, contact_b, staff):
    draft = built[org_b.pk]
    assert client_for(contact_b).get(f"/reports/{draft.pk}/pdf/").status_code == 404
    assert client_for(staff).get(f"/reports/{draft.pk}/pdf/").status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(sent_a):
    response = Client().get(f"/reports/{sent_a.pk}/pdf/")
    assert response.status_code == 302
    assert response["Location"].startswith("/portal/sign-in/?next=")


def test_a_report_that_does_not_exist_is_a_plain_404(staff, db):
    assert client_for(staff).get("/reports/999999/pdf/").status_code == 404


def test_only_get_is_answered(sent_a, staff):
    assert client_for(staff).post(f"/reports/{sent_a.pk}/pdf/").status_code == 405
