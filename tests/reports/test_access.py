"""reports_for: staff all, a client's managers and recipients their own sent reports, others
none."""

import pytest
from django.contrib.auth.models import AnonymousUser

from caredesk.reports import actions
from caredesk.reports.access import reports_for


@pytest.fixture
def both_sent(built):
    actions.send_month(2026, 10)
    return built


def test_staff_see_every_report_drafts_included(built, staff):
    assert set(reports_for(staff)) == set(built.values())


def test_a_manager_and_a_recipient_see_their_own_clients_sent_reports(
    both_sent, org_a, manager_a, recipient_a
):
    for user in (manager_a, recipient_a):
        assert [r.organisation_id for r in reports_for(user)] == [org_a.pk]


def test_a_requester_another_client_and_anonymous_see_nothing_of_a(
    both_sent, org_a, requester_a, contact_b
):
    assert not reports_for(requester_a).exists()
    assert org_a.pk not in [r.organisation_id for r in reports_for(contact_b)]
    assert not reports_for(AnonymousUser()).exists()


def test_a_switched_off_contact_sees_nothing(both_sent, manager_a):
    manager_a.contact.is_active = False
    manager_a.contact.save()
    assert not reports_for(manager_a).exists()
