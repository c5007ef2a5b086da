"""A probe that loses its own network: one alert about the probe, none about the sites.

End to end on loopback: thirty sites whose server is stopped (every check is
"connection refused" on 127.0.0.1), against the same thirty sites with only
one of them stopped (a genuine outage, alerted as ever). Then the alert's
own rules: once per loss, not at all for a loss that ends at once, a "back"
to whoever heard of the loss.
"""

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from caredesk.alerts import probes, tasks
from caredesk.alerts.models import AlertDelivery, DeliveryState, ProbeAlert, ProbeEvent
from caredesk.clients.models import Site
from caredesk.lib import netguard
from caredesk.monitoring.engine import Engine, EngineConfig, ProbeStatus
from caredesk.monitoring.engine.netwatch import NetworkConfig
from caredesk.monitoring.models import CheckResult, Incident, Monitor, Probe
from caredesk.monitoring.store import DbStore, record_heartbeat
from tests.monitoring.helpers import run_async
from tests.monitoring.servers import TargetServer

from .conftest import T0, later

SITES = 30


def fast(spec):
    # Re-checks come 4 s after a failure: the probe has judged its network well before.
    return replace(spec, interval=2.0, recheck_seconds=4.0, timeout=1.0)


@pytest.fixture
def thirty(org_a, web):
    """Thirty sites of Alpha Bakery, each a path on one real web server."""
    for n in range(SITES):
        web.route(f"/site/{n}")
        Site.objects.create(
            organisation=org_a, name=f"Site {n:02d}", url=f"http://shop.test:{web.port}/site/{n}"
        )
    Monitor.objects.update(allow_private=True)
    return list(Monitor.objects.order_by("pk"))


def stopped_port() -> int:
    server = TargetServer().start()
    port = server.port
    server.stop()
    return port  # nothing listens here now: connections are refused


def run_probe(client_tls, seconds: float) -> None:
    store = DbStore("test", adjust=fast)
    engine = Engine(
        store,
        EngineConfig(
            region="test",
            flush_seconds=0.05,
            reload_seconds=0.2,
            heartbeat_seconds=0.5,
            network=NetworkConfig(window=20, min_monitors=10),
        ),
        resolver=netguard.Resolver(overrides={"shop.test": ["127.0.0.1"]}),
        ssl_context=client_tls,
    )

    async def scenario():
        stop = asyncio.Event()
        running = asyncio.create_task(engine.run(stop))
        await asyncio.sleep(seconds)
        stop.set()
        await running

    try:
        run_async(scenario())
    finally:
        store.close()


@pytest.mark.django_db(transaction=True)
def test_a_probe_whose_every_site_refuses_reports_itself_not_the_sites(
    thirty, client_tls, email_channel, mailbox, monkeypatch
):
    monkeypatch.setattr(probes, "NETWORK_ALERT_DELAY", timedelta(0))
    port = stopped_port()
    for monitor in thirty:
        Monitor.objects.filter(pk=monitor.pk).update(url=f"http://shop.test:{port}/down")
    run_probe(client_tls, 7.0)

    assert not Incident.objects.exists()  # no site was called down
    probe = Probe.objects.get()
    assert probe.network_lost_at is not None
    assert probe.status["network"] == "lost"
    assert "failed with network errors (connect" in probe.status["network_detail"]
    assert CheckResult.objects.filter(error_kind="probe_network").exists()
    [alert] = ProbeAlert.objects.all()
    assert (alert.event, alert.channel) == (ProbeEvent.NETWORK_LOST, email_channel)

    tasks.deliver_alerts.call()
    [mail] = mailbox.received
    assert mail.message["Subject"] == f"PROBE: {probe.name} lost its network"
    assert "Its checks do not count while this lasts" in mail.text
    assert not AlertDelivery.objects.exists()
    assert tasks.deliver_alerts.call() == 0  # once


@pytest.mark.django_db(transaction=True)
def test_one_site_refusing_among_thirty_is_an_outage_alerted_as_ever(
    thirty, client_tls, email_channel, mailbox, settings
):
    settings.CAREDESK_ALERT_GROUP_SECONDS = 0
    port = stopped_port()
    victim = thirty[7]
    Monitor.objects.filter(pk=victim.pk).update(url=f"http://shop.test:{port}/down")
    run_probe(client_tls, 7.0)

    incident = Incident.objects.get()
    assert incident.monitor_id == victim.pk
    assert incident.cause.startswith("connect:")
    assert Probe.objects.get().network_lost_at is None
    assert not ProbeAlert.objects.exists()
    tasks.deliver_alerts.call()
    [mail] = mailbox.received
    assert mail.message["Subject"] == "DOWN: Site 07"


# -- the alert's own rules, without a probe running ------------------------------------------


def heartbeat(network: str, seen) -> Probe:
    status = ProbeStatus("eu", T0, seen, 30, 0, 0, 0, 0, 0, 0, 0, network=network)
    return record_heartbeat("eu@probe-1", status, seen_at=seen)


def test_a_loss_is_told_once_and_its_end_to_those_told(
    clock_at, committing, email_channel, hook_channel, hook, mailbox, org_a
):
    with committing():
        heartbeat("lost", T0)
        heartbeat("lost", T0 + timedelta(seconds=30))
    assert ProbeAlert.objects.count() == 2  # one per agency channel
    assert tasks.deliver_alerts.call() == 0  # a loss is told after 30 s, if it lasts
    later(clock_at, 31)
    assert tasks.deliver_alerts.call() == 2
    [mail] = mailbox.received
    assert mail.message["Subject"] == "PROBE: eu@probe-1 lost its network"
    assert hook.posts[0]["type"] == "failure"
    with committing():
        heartbeat("ok", T0 + timedelta(seconds=60))
    assert tasks.deliver_alerts.call() == 2
    assert mailbox.received[-1].message["Subject"] == "PROBE: eu@probe-1 has its network back"
    assert set(ProbeAlert.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


def test_a_loss_over_within_the_delay_tells_nobody(clock_at, committing, email_channel, mailbox):
    with committing():
        heartbeat("lost", T0)
    later(clock_at, 10)
    with committing():
        heartbeat("ok", T0 + timedelta(seconds=10))
    later(clock_at, 60)
    assert tasks.deliver_alerts.call() == 0
    assert mailbox.received == []
    assert ProbeAlert.objects.get().state == DeliveryState.SUPPRESSED


def test_a_failing_channel_is_retried(clock_at, committing, email_channel, monkeypatch):
    def refuse(self, notice):
        raise probes.TemporaryError("SMTP 451: try later")

    monkeypatch.setattr("caredesk.alerts.channels.email.EmailChannel.send", refuse)
    with committing():
        heartbeat("lost", T0)
    later(clock_at, 31)
    tasks.deliver_alerts.call()
    alert = ProbeAlert.objects.get()
    assert (alert.state, alert.attempts, alert.last_error) == ("pending", 1, "SMTP 451: try later")
    email_channel.refresh_from_db()
    assert email_channel.last_error == "SMTP 451: try later"
