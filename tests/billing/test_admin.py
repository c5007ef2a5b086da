"""Billing in the admin: staff see usage, over-allowance clients, tickets past fair usage,
statements and their files; client contacts reach none of it."""

from datetime import date

import pytest
from django.urls import reverse

from caredesk.billing import statements
from caredesk.billing.access import statements_for
from caredesk.billing.models import Agreement, TimeEntry

USAGE = "admin:billing_organisationusage_changelist"


@pytest.fixture
def month(kijo_client, package_client, make_ticket, log):
    """July so far: the package client is over its 5 h, a KIJO ticket past 2 h."""
    log(make_ticket(package_client, "bug-fix"), 330, date(2026, 7, 1))
    big = make_ticket(kijo_client, "bug-fix", "Migrate the shop")
    log(big, 150, date(2026, 7, 2))
    log(make_ticket(package_client, "bug-fix"), 120, date(2026, 6, 3))
    return big


def test_staff_see_usage_against_allowance_with_the_previous_period(client, staff, month):
    client.force_login(staff)
    page = client.get(reverse(USAGE)).content.decode()

    assert "Beta Dental" in page and "Support Package 5 h" in page
    assert "5 h 30" in page and "110 %" in page and "30 min" in page  # used, share, over
    assert "↑" in page  # 2 h in June, 5 h 30 in July
    assert "Alpha Bakery" in page and "not counted" in page


def test_staff_see_only_the_clients_over_allowance(client, staff, month):
    client.force_login(staff)
    page = client.get(reverse(USAGE), {"over": "1"}).content.decode()

    table = page.split('id="usage"')[1].split("</table>")[0]
    assert "Beta Dental" in table and "Alpha Bakery" not in table


def test_staff_see_the_tickets_past_fair_usage_this_month(client, staff, month):
    client.force_login(staff)
    page = client.get(reverse(USAGE)).content.decode()

    table = page.split('id="fair-usage"')[1]
    assert f"{month.reference} Migrate the shop" in table
    assert "2 h 30" in table and "whole ticket" in table


def test_staff_log_time_through_the_admin_form(client, staff, kijo_client, make_ticket):
    ticket = make_ticket(kijo_client, "bug-fix")
    client.force_login(staff)

    response = client.post(
        reverse("admin:billing_timeentry_add"),
        {
            "ticket": ticket.pk,
            "staff": staff.pk,
            "work_date": "2026-07-14",
            "minutes": "35",
            "note": "Cleared the cache",
        },
    )

    assert response.status_code == 302
    entry = TimeEntry.objects.get()
    assert (entry.minutes, entry.category.code) == (35, "bug-fix")
    assert ticket.events.filter(kind="time_logged", actor_user=staff).exists()


def test_admin_form_shows_refusals_back(client, staff, kijo_client, make_ticket):
    ticket = make_ticket(kijo_client, "bug-fix")
    client.force_login(staff)

    response = client.post(
        reverse("admin:billing_timeentry_add"),
        {"ticket": ticket.pk, "staff": staff.pk, "work_date": "2026-08-01", "minutes": "35"},
    )

    assert response.status_code == 200
    assert "still to come" in response.content.decode()
    assert not TimeEntry.objects.exists()


def test_staff_pool_two_periods_in_the_admin(client, staff, package_client):
    client.force_login(staff)
    response = client.post(
        reverse("admin:billing_agreement_add"),
        {"organisation": package_client.pk, "first_period_start": "2026-07-01", "note": "Relaunch"},
    )
    assert response.status_code == 302
    assert Agreement.objects.get().second_period_end == date(2026, 9, 1)

    refused = client.post(
        reverse("admin:billing_agreement_add"),
        {"organisation": package_client.pk, "first_period_start": "2026-08-01"},
    )
    assert "already pooled" in refused.content.decode()


def test_frozen_entries_cannot_be_edited_in_the_admin(
    client, staff, package_client, make_ticket, log
):
    entry = log(make_ticket(package_client, "bug-fix"), 60, date(2026, 5, 4))
    statements.build_one(package_client, 2026, 5, finalise=True)
    client.force_login(staff)

    response = client.post(
        reverse("admin:billing_timeentry_change", args=[entry.pk]),
        {"ticket": entry.ticket_id, "staff": staff.pk, "work_date": "2026-05-04", "minutes": "1"},
    )

    assert response.status_code == 403
    assert TimeEntry.objects.get().minutes == 60


def test_staff_download_statement_files(client, staff, package_client, make_ticket, log):
    log(make_ticket(package_client, "bug-fix"), 60, date(2026, 5, 4))
    statement = statements.build_one(package_client, 2026, 5, finalise=True)
    client.force_login(staff)

    csv = client.get(reverse("admin:billing_statement_csv", args=[statement.pk]))
    pdf = client.get(reverse("admin:billing_statement_pdf", args=[statement.pk]))
    listing = client.get(reverse("admin:billing_statement_changelist")).content.decode()

    assert csv["Content-Type"] == "text/csv"
    assert 'filename="statement-ST-00001-beta-dental.csv"' in csv["Content-Disposition"]
    assert pdf.content.startswith(b"%PDF")
    assert "ST-00001" in listing and "USD 300.00" in listing


def test_staff_finalise_drafts_with_an_admin_action(client, staff, package_client):
    draft = statements.build_one(package_client, 2026, 5)
    client.force_login(staff)

    client.post(
        reverse("admin:billing_statement_changelist"),
        {"action": "finalise", "_selected_action": [draft.pk]},
    )

    draft.refresh_from_db()
    assert (draft.number, draft.finalised_by) == (1, staff)


@pytest.mark.parametrize("persona", ["manager_a", "requester_a", "contact_b"])
def test_client_contacts_reach_no_billing_admin_page(client, request, persona, month):
    client.force_login(request.getfixturevalue(persona))
    statement = statements.build_one(month.organisation, 2026, 6)
    urls = [
        reverse(USAGE),
        reverse("admin:billing_timeentry_changelist"),
        reverse("admin:billing_statement_changelist"),
        reverse("admin:billing_statement_pdf", args=[statement.pk]),
        reverse("admin:billing_statement_csv", args=[statement.pk]),
        reverse("admin:billing_ledgerentry_changelist"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url


def test_statements_for_each_persona(
    staff, manager_a, requester_a, contact_b, kijo_client, package_client
):
    alpha_draft = statements.build_one(kijo_client, 2026, 7)
    alpha_may = statements.build_one(kijo_client, 2026, 5, finalise=True)
    beta_may = statements.build_one(package_client, 2026, 5, finalise=True)

    assert set(statements_for(staff)) == {alpha_draft, alpha_may, beta_may}
    assert list(statements_for(manager_a)) == [alpha_may]  # never a draft
    assert list(statements_for(requester_a)) == []
    assert list(statements_for(contact_b)) == [beta_may]
