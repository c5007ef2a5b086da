"""An organisation's public status page: off by default, public when staff say so, and bare."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from caredesk.clients.models import Site
from caredesk.monitoring.models import Incident, Monitor, Outage, StatusPage
from caredesk.monitoring.public import public_status

from .helpers import T0

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def now():
    with time_machine.travel(T0 + timedelta(days=100), tick=False):
        yield T0 + timedelta(days=100)


@pytest.fixture
def page(org_a) -> StatusPage:
    return StatusPage.objects.create(organisation=org_a, key="alpha-bakery", enabled=True)


@pytest.fixture
def alpha(site_a, now):
    """Alpha shop watched for 100 days, down for 3 h 36 min (0.15 %) of the last 30 days."""
    monitor = Monitor.objects.get(site=site_a)
    Monitor.objects.filter(pk=monitor.pk).update(created_at=T0, state="up")
    incident = Incident.objects.create(
        monitor=monitor,
        started_at=now - timedelta(days=10),
        confirmed_at=now - timedelta(days=10) + timedelta(seconds=80),
        recovered_at=now - timedelta(days=10) + timedelta(hours=3, minutes=36),
        resolved_at=now - timedelta(days=10) + timedelta(hours=3, minutes=37),
        cause="timeout: no complete answer within 10 s (during first_byte) SECRET-CAUSE",
    )
    Outage.objects.create(
        incident=incident,
        monitor=monitor,
        started_at=incident.started_at,
        ended_at=incident.recovered_at,
    )
    return monitor


def get(key: str):
    return Client().get(f"/status/{key}/")


def test_a_status_page_is_off_until_staff_turn_it_on(org_a):
    page = StatusPage.objects.create(organisation=org_a)
    assert not page.enabled
    assert len(page.key) == 20  # an address nobody guesses
    assert get(page.key).status_code == 404
    page.enabled = True
    page.save()
    assert get(page.key).status_code == 200


def test_an_unknown_address_is_not_found(page):
    assert get("no-such-page").status_code == 404


def test_the_page_shows_the_sites_uptime_and_incidents_without_internal_detail(
    page, alpha, site_b, now
):
    Site.objects.create(
        organisation=page.organisation,
        name="Alpha old site",
        url="https://old.alpha.example/",
        is_active=False,
    )
    response = get(page.key)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Alpha Bakery</h1>" in body
    assert "All sites are up." in body
    assert "Alpha shop" in body
    assert "99.50 %" in body  # 3 h 36 min of 30 days
    assert "99.83 %" in body  # ... of 90 days
    assert "for 3 h 36 min" in body
    for secret in ("SECRET-CAUSE", "timeout", "alpha.example", "Beta", "Alpha old site"):
        assert secret not in body, secret


def test_a_site_down_now_says_so(page, alpha, now):
    Monitor.objects.filter(pk=alpha.pk).update(state="down")
    Incident.objects.create(monitor=alpha, started_at=now - timedelta(minutes=5), confirmed_at=now)
    status = public_status(page, now=now)
    assert status.any_down
    assert [(s.name, s.state) for s in status.sites] == [("Alpha shop", "down")]
    assert status.incidents[0].ongoing and status.incidents[0].seconds == 300
    body = get(page.key).content.decode()
    assert "Some sites are down at the moment" in body
    assert "still down (5 min so far)" in body


def test_incidents_can_be_left_off(page, alpha):
    StatusPage.objects.filter(pk=page.pk).update(show_incidents=False)
    body = get(page.key).content.decode()
    assert "Incidents in the last" not in body and "3 h 36 min" not in body


def test_the_page_is_cacheable_and_sets_no_cookie(page, alpha):
    response = get(page.key)
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_switching_a_page_off_takes_it_down_at_once(page, alpha):
    assert get(page.key).status_code == 200
    page.enabled = False
    page.save()
    assert get(page.key).status_code == 404


def test_only_get_and_head(page):
    assert Client().post(f"/status/{page.key}/").status_code == 405
