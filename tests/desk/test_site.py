"""A site's page: monitors, uptime this month, incidents, and the response-time chart."""

from datetime import timedelta

import pytest

from caredesk.clients.models import Site
from caredesk.desk.charts import nice_ceiling, response_chart
from caredesk.monitoring.models import Kind, Monitor

from .conftest import WEDNESDAY_9, history, outage

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(agency):
    found = Site.objects.get(url__contains="harbourbakery")
    Monitor.objects.filter(site=found).update(
        enabled=True,
        state="up",
        last_checked_at=WEDNESDAY_9,
        created_at=WEDNESDAY_9 - timedelta(days=60),
    )
    return found


@pytest.fixture
def monitor(site):
    return Monitor.objects.get(site=site, kind=Kind.HTTP)


def test_site_page_shows_monitors_uptime_and_incidents(desk, site, monitor):
    history(monitor, WEDNESDAY_9, 24 * 8)
    outage(monitor, WEDNESDAY_9 - timedelta(days=3), 60, cause="Connection refused")
    page = desk.get(f"/sites/{site.pk}/").content.decode()
    assert site.name in page
    assert 'class="state up"' in page
    assert "Connection refused" in page
    # One hour down in the 225 hours of June so far (from midnight on the 1st, London).
    assert "<strong>99.56 %</strong> uptime in June" in page


def test_response_chart_is_an_accessible_svg_with_a_text_summary(desk, site, monitor):
    history(monitor, WEDNESDAY_9, 24 * 8, p50=250, p95=800)
    page = desk.get(f"/sites/{site.pk}/").content.decode()
    assert '<svg class="chart"' in page
    assert 'role="img" aria-labelledby="chart-title chart-summary"' in page
    assert "median response 253 ms" in page
    assert "measured in 168 of 168 hours" in page
    assert page.count('<polyline class="p50"') == 1
    assert "The numbers, per day" in page


def test_thirty_days_and_gaps_in_the_data(desk, site, monitor):
    history(monitor, WEDNESDAY_9, 24 * 30, skip=range(100, 110))
    page = desk.get(f"/sites/{site.pk}/?days=30").content.decode()
    assert "Response time, last 30 days" in page
    assert "measured in 710 of 720 hours" in page
    # The gap splits each line in two rather than drawing across it.
    assert page.count('<polyline class="p50"') == 2


def test_a_site_without_data_or_http_monitor_says_so(desk, site, monitor):
    page = desk.get(f"/sites/{site.pk}/?days=nonsense&monitor=x").content.decode()
    assert "No response times measured" in page
    Monitor.objects.filter(site=site).delete()
    page = desk.get(f"/sites/{site.pk}/").content.decode()
    assert "This site has no HTTP monitor." in page
    assert "No monitors on this site." in page


def test_open_incident_shows_the_site_down(desk, site, monitor):
    outage(monitor, WEDNESDAY_9 - timedelta(minutes=20), None, cause="HTTP 503")
    page = desk.get(f"/sites/{site.pk}/").content.decode()
    assert "still open" in page
    assert 'class="state down"' in page


def test_missing_site_is_404(desk, agency):
    assert desk.get("/sites/999999/").status_code == 404


def test_chart_scale_and_summary(monitor):
    history(monitor, WEDNESDAY_9, 24, p50=100, p95=1400)
    chart = response_chart(monitor, 7, WEDNESDAY_9)
    assert chart.y_max == 2000
    assert chart.hours_with_data == 24
    assert chart.worst[1] == max(1400 + back % 11 for back in range(1, 25))
    assert [label for _, label in chart.y_ticks] == ["0 ms", "1,000 ms", "2,000 ms"]
    assert len(chart.x_ticks) == 7
    assert (nice_ceiling(0), nice_ceiling(120), nice_ceiling(501), nice_ceiling(2000)) == (
        10,
        200,
        1000,
        2000,
    )


def test_a_site_whose_monitors_never_ran_claims_no_uptime(desk, agency):
    paused = Site.objects.get(url__contains="paperlantern")
    page = desk.get(f"/sites/{paused.pk}/").content.decode()
    assert "(no checks yet)" in page
    assert "100.00 %" not in page


def test_wordpress_card_shows_versions_updates_waiting_the_scan_and_the_log(desk, site, omar):
    from caredesk.maintenance.actions import do_log_work, do_record_inventory, do_record_scan
    from caredesk.maintenance.connectors import Inventory, Item
    from caredesk.maintenance.scan.found import Found

    do_record_inventory(
        site,
        Inventory(
            "6.6.1",
            "8.2.24",
            [
                Item("core", "wordpress", "WordPress", "6.6.1", True),
                Item("plugin", "woocommerce", "WooCommerce", "9.3.1", True, "9.3.3"),
            ],
        ),
    )
    do_record_scan(
        site,
        [Found("headers:hsts", "headers", "low", "No HSTS header", advice="Send HSTS.")],
        started_at=WEDNESDAY_9,
        snapshot=None,
        checks_done=["headers"],
        notes=[],
    )
    do_log_work(site, acting_user=omar, name="Cleared the spam comments")
    page = desk.get(f"/sites/{site.pk}/").content.decode()
    assert "WordPress maintenance" in page
    assert "<dt>WordPress</dt><dd>6.6.1</dd>" in page
    assert "WooCommerce 9.3.1 → <strong>9.3.3</strong>" in page
    assert '<span class="sev low">1 low</span>' in page
    assert "Cleared the spam comments" in page


def test_a_wordpress_site_never_inventoried_says_how_to_connect_it(desk, site):
    page = desk.get(f"/sites/{site.pk}/").content.decode()
    assert "has no inventory of this site yet" in page


def test_a_site_that_is_not_wordpress_has_no_maintenance_card(desk, agency):
    other = Site.objects.get(url__contains="stroudvalleyarts")
    assert "WordPress maintenance" not in desk.get(f"/sites/{other.pk}/").content.decode()
