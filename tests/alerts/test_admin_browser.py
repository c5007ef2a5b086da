"""The alert admin in a real browser: a failing channel stands out, a window reads plainly."""

import os
from pathlib import Path

import pytest

from caredesk.alerts.models import AlertChannel, AlertDelivery, AlertEvent, ChannelKind
from caredesk.lib import clock
from caredesk.monitoring.models import Incident, Monitor

from .conftest import client_channel

pytestmark = pytest.mark.django_db(transaction=True)
# As in tests/browser: Playwright's driver keeps an event loop on this thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def sign_in(tab, base: str, email: str, password: str) -> None:
    tab.goto(f"{base}/admin/login/")
    tab.fill("#id_username", email)
    tab.fill("#id_password", password)
    tab.click("input[type=submit]")
    tab.wait_for_url(f"{base}/admin/")


def test_channels_deliveries_and_windows_in_the_admin(
    live_server, page, admin_user, password, org_a, site_a, tmp_path
):
    now = clock.now()
    failing = AlertChannel.objects.create(
        name="Ops Slack",
        kind=ChannelKind.APPRISE,
        target="slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
        last_error="Slack failed: Response 404 - no_team",
        last_error_at=now,
    )
    AlertChannel.objects.create(
        name="On-call email",
        kind=ChannelKind.EMAIL,
        target="oncall@agency.example",
        last_sent_at=now,
    )
    client_channel(org_a)
    incident = Incident.objects.create(
        monitor=Monitor.objects.get(site=site_a), started_at=now, confirmed_at=now, cause="x"
    )
    AlertDelivery.objects.create(
        channel=failing,
        incident=incident,
        event=AlertEvent.DOWN,
        at=now,
        due_at=now,
        attempts=2,
        last_error=failing.last_error,
    )
    base = live_server.url
    sign_in(page, base, admin_user.email, password)

    page.goto(f"{base}/admin/alerts/alertchannel/")
    assert page.get_by_text("failing: Slack failed: Response 404 - no_team").is_visible()
    page.screenshot(path=str(tmp_path / "channels.png"), full_page=True)

    page.goto(f"{base}/admin/alerts/alertchannel/{failing.pk}/change/")
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in page.content()
    assert page.get_by_text("slack://…").is_visible()
    page.screenshot(path=str(tmp_path / "channel.png"), full_page=True)

    page.goto(f"{base}/admin/alerts/alertdelivery/")
    assert page.get_by_role("cell", name="Waiting to be sent").is_visible()
    page.screenshot(path=str(tmp_path / "deliveries.png"), full_page=True)

    page.goto(f"{base}/admin/monitoring/maintenancewindow/add/")
    page.get_by_label("Reason:").fill("Monthly plugin updates")
    page.screenshot(path=str(tmp_path / "window.png"), full_page=True)
    print(Path(tmp_path))
