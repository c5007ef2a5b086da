"""A client's page: contacts, sites, plan, open tickets, SLA this month, hours this period."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caredesk.billing import actions as billing
from caredesk.clients.models import Organisation
from caredesk.tickets import actions

from .conftest import open_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def bakery(agency):
    return Organisation.objects.get(name="Harbour Bakery Ltd")


def test_client_page_shows_people_sites_plan_and_open_tickets(desk, bakery, form_ticket):
    page = desk.get(f"/clients/{bakery.pk}/").content.decode()
    assert "jo@harbourbakery.example" in page
    for site in bakery.sites.all():
        assert f'href="/sites/{site.pk}/"' in page
    assert "KIJO Care" in page
    assert "Contact form broken" in page
    assert f'href="/tickets/?client={bakery.pk}"' in page


def test_client_page_counts_sla_results_and_hours(desk, omar, bakery, form_ticket, clock_at):
    actions.do_reply(form_ticket, "On it", acting_user=omar)  # first response met
    billing.do_log_time(form_ticket, 90, acting_user=omar, work_date=date(2026, 6, 10))
    response = desk.get(f"/clients/{bakery.pk}/")
    sla, hours = response.context["sla"], response.context["hours"]
    assert sla.met == 1
    assert sla.missed == 0
    assert hours["used"] == 90
    page = response.content.decode()
    assert "1 h 30 min" in page
    assert "Median first response" in page


def test_client_page_queries_do_not_grow_with_open_tickets(desk, bakery, agency):
    open_ticket("jo@harbourbakery.example", "One")
    desk.get(f"/clients/{bakery.pk}/")
    with CaptureQueriesContext(connection) as few:
        desk.get(f"/clients/{bakery.pk}/")
    for i in range(15):
        open_ticket("jo@harbourbakery.example", f"More {i}")
    with CaptureQueriesContext(connection) as many:
        desk.get(f"/clients/{bakery.pk}/")
    assert len(many) == len(few)


def test_the_clients_list_links_to_the_client_page(desk, bakery):
    assert f'href="/clients/{bakery.pk}/"' in desk.get("/clients/").content.decode()


def test_missing_client_is_404(desk, agency):
    assert desk.get("/clients/999999/").status_code == 404


def test_client_page_lists_the_monthly_reports_with_their_state(desk, omar, bakery):
    from caredesk.reports.actions import do_build_reports

    [report] = do_build_reports(2026, 5, organisations=[bakery.pk], acting_user=omar)
    page = desk.get(f"/clients/{bakery.pk}/").content.decode()
    assert "Monthly reports" in page and "May 2026" in page
    assert f'href="/reports/{report.pk}/"' in page
