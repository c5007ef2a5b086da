"""A client's public status page in Chromium: readable wide and on a phone, nothing internal."""

import os
from datetime import timedelta
from pathlib import Path

import pytest

from caredesk.clients.models import Site
from caredesk.lib import clock
from caredesk.monitoring.models import Incident, Monitor, Outage, StatusPage

pytestmark = pytest.mark.django_db(transaction=True)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Set CAREDESK_SCREENSHOTS=docs/screenshots to refresh the documentation's pictures.
SHOTS = os.environ.get("CAREDESK_SCREENSHOTS", "")


@pytest.fixture
def status_page(org_a, site_a) -> StatusPage:
    blog = Site.objects.create(
        organisation=org_a, name="Alpha blog", url="https://blog.alpha.example/"
    )
    now = clock.now()
    shop = Monitor.objects.get(site=site_a)
    Monitor.objects.filter(site__in=[site_a, blog]).update(
        created_at=now - timedelta(days=120), state="up"
    )
    Monitor.objects.filter(site=blog).update(state="down")
    for started, minutes in ((now - timedelta(days=12), 216), (now - timedelta(days=40), 18)):
        incident = Incident.objects.create(
            monitor=shop,
            started_at=started,
            confirmed_at=started + timedelta(seconds=80),
            recovered_at=started + timedelta(minutes=minutes),
            resolved_at=started + timedelta(minutes=minutes, seconds=70),
            cause="timeout during first_byte INTERNAL",
        )
        Outage.objects.create(
            incident=incident, monitor=shop, started_at=started, ended_at=incident.recovered_at
        )
    down = Incident.objects.create(
        monitor=Monitor.objects.get(site=blog),
        started_at=now - timedelta(minutes=7),
        confirmed_at=now - timedelta(minutes=6),
        cause="HTTP 503 INTERNAL",
    )
    Outage.objects.create(incident=down, monitor=down.monitor, started_at=down.started_at)
    return StatusPage.objects.create(organisation=org_a, key="alpha-bakery", enabled=True)


def test_the_status_page_reads_well_wide_and_on_a_phone(
    live_server, browser, status_page, tmp_path
):
    for name, viewport in (
        ("status-page.png", {"width": 1280, "height": 900}),
        ("status-page-phone.png", {"width": 390, "height": 844}),
    ):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        response = page.goto(f"{live_server.url}/status/alpha-bakery/")
        assert response.status == 200
        text = page.inner_text("body")
        assert "Alpha Bakery" in text and "Alpha shop" in text and "Alpha blog" in text
        assert "INTERNAL" not in text and "alpha.example" not in text
        assert context.cookies() == []
        # Nothing wider than the screen: no sideways scrolling on a phone.
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow
        page.screenshot(path=str(Path(SHOTS or tmp_path) / name), full_page=True)
        context.close()
