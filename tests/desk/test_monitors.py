"""The status board: every monitor's state, last check, 30-day uptime; open incidents first."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caredesk.clients.models import Organisation, Site
from caredesk.monitoring.models import HourlyRollup, Monitor

from .conftest import WEDNESDAY_9, history, outage

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(agency):
    monitors = list(Monitor.objects.select_related("site__organisation").order_by("pk"))
    down, up, *_ = monitors
    Monitor.objects.filter(pk=up.pk).update(enabled=True, state="up", last_checked_at=WEDNESDAY_9)
    outage(down, WEDNESDAY_9 - timedelta(minutes=30), None, cause="HTTP 500")
    Monitor.objects.filter(pk=down.pk).update(enabled=True)
    history(up, WEDNESDAY_9, 48)
    return {"down": down, "up": up, "all": monitors}


def test_open_incidents_come_first_then_state(desk, board):
    response = desk.get("/monitors/")
    rows = response.context["rows"]
    assert rows[0]["monitor"] == board["down"]
    assert rows[0]["status"] == "down"
    assert rows[1]["status"] == "up"
    assert {r["status"] for r in rows[2:]} == {"paused"}  # the demo's sites start paused
    page = response.content.decode()
    assert "open since" in page
    assert "HTTP 500" in page
    assert rows[1]["uptime"] == 100.0


def test_filters_by_client_and_state(desk, board):
    organisation = board["up"].site.organisation
    rows = desk.get(f"/monitors/?client={organisation.pk}").context["rows"]
    assert {r["monitor"].site.organisation_id for r in rows} == {organisation.pk}
    rows = desk.get("/monitors/?state=paused").context["rows"]
    assert rows
    assert {r["status"] for r in rows} == {"paused"}
    counts = desk.get("/monitors/").context["counts"]
    assert (counts["down"], counts["up"], counts["total"]) == (1, 1, len(board["all"]))


def test_bad_filters_are_ignored(desk, board):
    response = desk.get("/monitors/?client=x&state=<b>&page=-4")
    assert response.status_code == 200
    assert len(response.context["rows"]) == len(board["all"])


def test_query_count_is_the_same_for_ten_monitors_and_two_thousand(desk, board):
    desk.get("/monitors/")
    with CaptureQueriesContext(connection) as few:
        desk.get("/monitors/")
    organisation = Organisation.objects.create(name="Big Hosting Co")
    sites = Site.objects.bulk_create(
        Site(organisation=organisation, name=f"Site {i}", url=f"https://s{i}.big.example/")
        for i in range(2000)
    )
    monitors = Monitor.objects.bulk_create(
        Monitor(site=site, url=site.url, state="up" if i % 3 else "down", enabled=i % 5 != 0)
        for i, site in enumerate(sites)
    )
    top = WEDNESDAY_9.replace(minute=0, second=0, microsecond=0)
    HourlyRollup.objects.bulk_create(
        HourlyRollup(monitor=m, hour=top - timedelta(hours=1), checks=60, up_seconds=3600)
        for m in monitors
    )
    with CaptureQueriesContext(connection) as many:
        response = desk.get("/monitors/")
    assert len(many) == len(few)
    assert len(response.context["rows"]) == 200
    assert response.context["has_next"]
    assert response.context["counts"]["total"] == 2000 + len(board["all"])
    last = desk.get("/monitors/?page=11").context["rows"]
    assert 0 < len(last) <= 200


def test_warnings_show_beside_the_state_and_on_the_site_page(desk, board):
    from caredesk.monitoring.models import MonitorWarning, WarningKind

    up = board["up"]
    MonitorWarning.objects.create(
        monitor=up,
        kind=WarningKind.CERT_EXPIRY,
        opened_at=WEDNESDAY_9,
        detail="the TLS certificate of shop.example expires in 9 days (warning below 14 days)",
    )
    response = desk.get("/monitors/")
    row = next(r for r in response.context["rows"] if r["monitor"] == up)
    assert row["status"] == "up"  # a warning is not an outage
    assert row["monitor"].warning.startswith("the TLS certificate")
    page = response.content.decode()
    assert 'class="state warning"' in page
    assert "The TLS certificate of shop.example expires in 9 days" in page
    site_page = desk.get(f"/sites/{up.site_id}/").content.decode()
    assert "The TLS certificate of shop.example expires in 9 days" in site_page
