"""Alerts out: a real outage seen by real checks, sent by email (SMTP) and Apprise (HTTP).

Also retries with backoff and the error the admin sees, one message for many
incidents, and no alert sent twice.
"""

from datetime import timedelta

import pytest

from caredesk.alerts import delivery, tasks
from caredesk.alerts.delivery import BACKOFF, STALE_CLAIM
from caredesk.alerts.models import AlertChannel, AlertDelivery, ChannelKind, DeliveryState
from caredesk.lib import clock
from caredesk.monitoring.engine import run_check
from caredesk.monitoring.models import Incident, Monitor
from caredesk.monitoring.store import SPEC_FIELDS, spec_from_row
from caredesk.tickets.models import Ticket
from tests.monitoring.helpers import run_async

from .conftest import at, later, outcome, sites

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(monitor, web):
    """Alpha shop's monitor, pointed at a real web server on loopback (allowed for it)."""
    web.route("/shop")
    monitor.url = f"http://shop.test:{web.port}/shop"
    monitor.allow_private = True
    monitor.save()
    return monitor


def probe(store, monitor, context):
    """One real check as the probe runs it, saved through the probe's store."""
    row = Monitor.objects.filter(pk=monitor.pk).values(*SPEC_FIELDS).get()
    result = run_async(run_check(spec_from_row(row), context))
    store.save_sync([result])
    return result


def test_a_confirmed_outage_is_emailed_and_posted_once_the_grouping_window_passes(
    clock_at, store, shop, web, context, committing, mailbox, email_channel, hook_channel, hook
):
    with committing():
        probe(store, shop, context)
        web.route("/shop", status=503)
        later(clock_at, 10)
        probe(store, shop, context)
        later(clock_at, 10)
        probe(store, shop, context)
    incident = Incident.objects.get()
    assert AlertDelivery.objects.filter(state=DeliveryState.PENDING).count() == 2
    assert tasks.deliver_alerts.call() == 0  # waiting for the grouping window
    assert mailbox.received == [] and hook.posts == []

    later(clock_at, 10)
    assert tasks.deliver_alerts.call() == 2
    [mail] = mailbox.received
    assert mail.rcpt_tos == ["oncall@agency.example"]
    assert mail.message["Subject"] == "DOWN: Alpha shop"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    ticket = Ticket.objects.get()
    assert "status: HTTP 503 (expected 200-399)" in mail.text
    assert "Alpha Bakery" in mail.text and f"ticket {ticket.reference}" in mail.text
    [post] = hook.posts
    assert post["title"] == "DOWN: Alpha shop"
    assert post["type"] == "failure"
    assert "HTTP 503" in post["message"]
    incident.refresh_from_db()
    sent = [e["detail"] for e in incident.timeline if e["event"] == "alert_sent"]
    assert sent == ["down: On-call email", "down: Ops webhook"]
    assert set(AlertDelivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}

    web.route("/shop")
    with committing():
        later(clock_at, 20)
        probe(store, shop, context)
        later(clock_at, 10)
        probe(store, shop, context)
    later(clock_at, 10)
    assert tasks.deliver_alerts.call() == 2
    assert mailbox.received[-1].message["Subject"] == "UP: Alpha shop after 40 s"
    assert hook.posts[-1]["type"] == "success"
    assert "BACK UP (1)" in hook.posts[-1]["message"]


def test_a_failing_channel_is_retried_with_backoff_and_its_error_is_shown(
    clock_at, feed_down, monitor, hook_channel, hook, admin_client
):
    hook.status = 500
    feed_down(monitor, "+--")
    waits = []
    for attempt in range(1, 4):
        later(clock_at, 60)
        delivery.run()
        row = AlertDelivery.objects.get()
        assert (row.state, row.attempts) == (DeliveryState.PENDING, attempt)
        assert "JSON" in row.last_error
        waits.append(row.due_at - clock.now())
        delivery.run()  # not due yet: nothing happens
        assert AlertDelivery.objects.get().attempts == attempt
        clock_at.move_to(row.due_at)
    assert waits == BACKOFF[:3]

    page = admin_client.get("/admin/alerts/alertchannel/").content.decode()
    assert "failing:" in page and "JSON" in page
    page = admin_client.get("/admin/alerts/alertdelivery/").content.decode()
    assert "Waiting to be sent" in page and "JSON" in page

    hook.status = 200
    delivery.run()
    row = AlertDelivery.objects.get()
    assert (row.state, row.attempts, row.last_error) == (DeliveryState.SENT, 4, "")
    assert len(hook.posts) == 1
    assert "ok, last sent" in admin_client.get("/admin/alerts/alertchannel/").content.decode()


def test_a_channel_that_keeps_failing_is_given_up_and_its_failure_goes_on_the_timeline(
    clock_at, feed_down, monitor, hook_channel, hook
):
    hook.status = 500
    feed_down(monitor, "+--")
    for _ in range(len(BACKOFF) + 1):
        later(clock_at, 7200)
        delivery.run()
    row = AlertDelivery.objects.get()
    assert (row.state, row.attempts) == (DeliveryState.FAILED, len(BACKOFF) + 1)
    events = [e["event"] for e in Incident.objects.get().timeline]
    assert events[-1] == "alert_failed"


def test_a_bad_address_fails_at_once_without_retries(clock_at, feed_down, monitor, mailbox):
    AlertChannel.objects.create(
        name="Typo", kind=ChannelKind.APPRISE, target="json://127.0.0.1:1/\nnot a url at all"
    )
    feed_down(monitor, "+--")
    later(clock_at, 10)
    delivery.run()
    row = AlertDelivery.objects.get()
    assert (row.state, row.attempts) == (DeliveryState.FAILED, 1)
    assert row.last_error == "line 2 is not an Apprise URL Apprise can use."


def test_fifty_sites_down_at_once_are_one_message_per_channel(
    clock_at, save, org_a, kijo, mailbox, email_channel, hook_channel, hook
):
    monitors = sites(org_a, 50)
    for minute, ok in ((0, True), (1, False), (2, False)):
        clock_at.move_to(at(minute))
        # A few probe batches, as the probe writes them (every second, up to 500).
        for part in range(0, 50, 20):
            save(*[outcome(m, clock.now(), ok) for m in monitors[part : part + 20]])
            later(clock_at, 1)
    assert Incident.objects.filter(resolved_at=None).count() == 50
    assert AlertDelivery.objects.count() == 100
    later(clock_at, 10)
    assert tasks.deliver_alerts.call() == 2
    [mail] = mailbox.received
    assert mail.message["Subject"] == "50 monitors down"
    assert all(f"Site {n:02d}" in mail.text for n in range(50))
    [post] = hook.posts
    assert post["title"] == "50 monitors down"
    assert len(set(AlertDelivery.objects.values_list("batch", flat=True))) == 2
    assert Ticket.objects.count() == 50  # one per site


def test_an_alert_is_sent_once_even_if_two_workers_run(
    clock_at, feed_down, monitor, hook_channel, hook
):
    feed_down(monitor, "+--")
    later(clock_at, 10)
    channel_id = AlertDelivery.objects.get().channel_id
    assert delivery.deliver_channel(channel_id, clock.now()) == 1
    assert delivery.deliver_channel(channel_id, clock.now()) == 0
    assert len(hook.posts) == 1


def test_a_claim_left_by_a_worker_that_died_is_sent_later(
    clock_at, feed_down, monitor, hook_channel, hook
):
    feed_down(monitor, "+--")
    AlertDelivery.objects.update(state=DeliveryState.SENDING, claim="dead", claimed_at=clock.now())
    later(clock_at, 60)
    delivery.run()
    assert hook.posts == []
    clock_at.move_to(clock.now() + STALE_CLAIM + timedelta(seconds=1))
    delivery.run()
    assert len(hook.posts) == 1


def test_a_channel_switched_off_before_sending_sends_nothing(
    clock_at, feed_down, monitor, hook_channel, hook
):
    feed_down(monitor, "+--")
    AlertChannel.objects.update(enabled=False)
    later(clock_at, 10)
    delivery.run()
    assert hook.posts == []
    assert AlertDelivery.objects.get().state == DeliveryState.FAILED
