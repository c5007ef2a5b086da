"""The channel and delivery admin: checked targets, secrets kept secret, retrying failures."""

import pytest
from django.db import connection

from caredesk.alerts.models import AlertChannel, AlertDelivery, ChannelKind, DeliveryState

pytestmark = pytest.mark.django_db
TOKEN_URL = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"


def add(client, **data):
    form = {
        "name": "Ops",
        "kind": "apprise",
        "target": TOKEN_URL,
        "audience": "agency",
        "send_recoveries": "on",
        "enabled": "on",
        **data,
    }
    return client.post("/admin/alerts/alertchannel/add/", form)


def test_an_apprise_target_is_stored_encrypted_and_never_shown_back(admin_client):
    assert add(admin_client).status_code == 302
    channel = AlertChannel.objects.get()
    assert channel.target == TOKEN_URL
    with connection.cursor() as cursor:
        cursor.execute("SELECT target FROM alerts_alertchannel")
        [(raw,)] = cursor.fetchall()
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in raw
    page = admin_client.get(f"/admin/alerts/alertchannel/{channel.pk}/change/").content.decode()
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in page
    assert "slack://…" in page
    # Saving without typing the target again keeps it.
    response = admin_client.post(
        f"/admin/alerts/alertchannel/{channel.pk}/change/",
        {
            "name": "Ops room",
            "kind": "apprise",
            "target": "",
            "audience": "agency",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.target) == ("Ops room", TOKEN_URL)


def test_a_bad_target_is_refused_with_a_reason(admin_client):
    page = add(admin_client, target="slack://\nnot-a-url").content.decode()
    assert "line 1 is not an Apprise URL" in page
    page = add(admin_client, kind="email", target="oncall@agency, x").content.decode()
    assert "is not an email address" in page
    assert AlertChannel.objects.count() == 0


def test_audience_rules_are_checked(admin_client, org_a):
    page = add(admin_client, audience="client").content.decode()
    assert "belongs to one organisation" in page
    page = add(admin_client, organisation=org_a.pk).content.decode()
    assert "An agency channel has none" in page
    assert (
        add(
            admin_client, kind="email", target="", audience="client", organisation=org_a.pk
        ).status_code
        == 302
    )


def test_failed_deliveries_can_be_sent_again(admin_client, clock_at, feed_down, monitor, hook):
    channel = AlertChannel.objects.create(name="Hook", kind=ChannelKind.APPRISE, target=hook.url)
    feed_down(monitor, "+--")
    AlertDelivery.objects.update(state=DeliveryState.FAILED, attempts=9, last_error="boom")
    row = AlertDelivery.objects.get(channel=channel)
    response = admin_client.post(
        "/admin/alerts/alertdelivery/",
        {"action": "retry", "_selected_action": [row.pk]},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.state, row.attempts) == (DeliveryState.PENDING, 0)


def test_agents_cannot_see_channels(client, staff, password):
    client.login(username=staff.email, password=password)
    assert client.get("/admin/alerts/alertchannel/").status_code == 403
