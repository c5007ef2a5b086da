"""Queue filters (client, site, category), bulk changes through the actions, bounded queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caredesk.clients.models import Organisation, Site
from caredesk.plans.models import WorkCategory
from caredesk.tickets import actions
from caredesk.tickets.models import Status, Ticket, TicketEvent

from .conftest import open_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def spread(agency):
    bakery = Organisation.objects.get(name="Harbour Bakery Ltd")
    shop = Site.objects.filter(organisation=bakery).first()
    return {
        "form": open_ticket("jo@harbourbakery.example", "Contact form broken", "contact-form"),
        "site": open_ticket("jo@harbourbakery.example", "Shop is slow", "bug-fix", site=shop),
        "other": open_ticket("theo@paperlantern.example", "New landing page"),
        "bakery": bakery,
        "shop": shop,
    }


def subjects(response) -> set[str]:
    return {t.subject for t in response.context["tickets"]}


def test_queue_filters_by_client_site_and_category(desk, spread):
    bakery, shop = spread["bakery"], spread["shop"]
    assert subjects(desk.get(f"/tickets/?client={bakery.pk}")) == {
        "Contact form broken",
        "Shop is slow",
    }
    assert subjects(desk.get(f"/tickets/?client={bakery.pk}&site={shop.pk}")) == {"Shop is slow"}
    form = WorkCategory.objects.get(code="contact-form")
    assert subjects(desk.get(f"/tickets/?category={form.pk}")) == {"Contact form broken"}
    page = desk.get(f"/tickets/?client={bakery.pk}").content.decode()
    assert f'value="{shop.pk}"' in page  # the site picker lists the client's sites


def test_filters_combine_with_views_and_search(desk, omar, spread):
    actions.do_assign(spread["site"], omar, acting_user=omar)
    bakery = spread["bakery"]
    assert subjects(desk.get(f"/tickets/?view=mine&client={bakery.pk}")) == {"Shop is slow"}
    assert subjects(desk.get(f"/tickets/?view=unassigned&client={bakery.pk}&q=form")) == {
        "Contact form broken"
    }


def test_pending_view_lists_tickets_waiting_on_the_client(desk, omar, spread):
    actions.do_change_status(spread["form"], Status.PENDING, acting_user=omar)
    assert subjects(desk.get("/tickets/?view=pending")) == {"Contact form broken"}


def test_bad_filter_values_are_ignored_not_errors(desk, spread):
    response = desk.get("/tickets/?client=abc&site=-1&category=99999999999999999999&page=0")
    assert response.status_code == 200
    assert len(subjects(response)) == 3


def test_bulk_assign_and_status_write_one_event_per_ticket(desk, omar, other_agent, spread):
    chosen = [spread["form"], spread["other"]]
    before = TicketEvent.objects.count()
    response = desk.post(
        "/tickets/bulk",
        {
            "tickets": [t.pk for t in chosen],
            "assignee": other_agent.pk,
            "status": "on_hold",
            "next": "/tickets/?view=unassigned",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/tickets/?view=unassigned"
    for ticket in chosen:
        ticket.refresh_from_db()
        assert (ticket.assignee, ticket.status) == (other_agent, "on_hold")
        kinds = list(ticket.events.filter(kind__in=["assignee", "status"]).values_list("kind"))
        assert sorted(k for (k,) in kinds) == ["assignee", "status"]
        assert ticket.events.get(kind="assignee").actor_user == omar
    assert TicketEvent.objects.count() == before + 4
    untouched = Ticket.objects.get(pk=spread["site"].pk)
    assert untouched.assignee is None


def test_bulk_unassign_keeps_status(desk, omar, spread):
    actions.do_assign(spread["form"], omar, acting_user=omar)
    desk.post("/tickets/bulk", {"tickets": [spread["form"].pk], "assignee": "nobody"})
    spread["form"].refresh_from_db()
    assert spread["form"].assignee is None
    assert spread["form"].status == "new"


def test_bulk_without_tickets_or_change_is_refused_with_a_message(desk, spread):
    response = desk.post("/tickets/bulk", {"assignee": "", "status": ""}, follow=True)
    page = response.content.decode()
    assert "Nothing changed" in page
    assert "Select at least one ticket." in page
    response = desk.post("/tickets/bulk", {"tickets": [spread["form"].pk]}, follow=True)
    assert "Choose an assignee or a status to set." in response.content.decode()


def test_bulk_with_unknown_values_changes_nothing(desk, spread):
    for data in (
        {"tickets": ["x"], "status": "open"},
        {"tickets": [spread["form"].pk], "status": "exploded"},
        {"tickets": [spread["form"].pk], "assignee": "123456"},
    ):
        response = desk.post("/tickets/bulk", data)
        assert response.status_code == 302
    spread["form"].refresh_from_db()
    assert (spread["form"].status, spread["form"].assignee) == ("new", None)


def test_bulk_refuses_an_outside_redirect(desk, spread):
    response = desk.post(
        "/tickets/bulk",
        {"tickets": [spread["form"].pk], "status": "open", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/tickets/"


def test_queue_queries_do_not_grow_with_the_tickets(desk, agency):
    for i in range(3):
        open_ticket("jo@harbourbakery.example", f"First batch {i}")
    desk.get("/tickets/")
    with CaptureQueriesContext(connection) as few:
        desk.get("/tickets/")
    for i in range(30):
        open_ticket("theo@paperlantern.example", f"Second batch {i}")
    with CaptureQueriesContext(connection) as many:
        desk.get("/tickets/")
    assert len(many) == len(few)
