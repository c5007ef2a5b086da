"""Remote probes against a live caredesk server, and two regions judging one site.

The server is pytest-django's live server on loopback; a relay in front of it
takes it away and brings it back. Probes run the real engine with the API
store (a remote probe) or the database store (the embedded one), checking real
sites on 127.0.0.1. A "bad network path" is a probe whose resolver sends the
site's name to 127.0.0.2, where nothing listens.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date, timedelta

import pytest

from caredesk.alerts.models import AlertChannel, AlertDelivery, ChannelKind
from caredesk.lib import clock, netguard
from caredesk.monitoring.engine import Engine, EngineConfig, Outcome, ProbeStatus
from caredesk.monitoring.engine.api import ApiStore, ApiUnreachable
from caredesk.monitoring.models import CheckResult, Incident, Monitor, Probe, ProbeToken
from caredesk.monitoring.state import State
from caredesk.monitoring.store import DbStore, record_heartbeat
from caredesk.plans.models import Plan, Subscription
from caredesk.sla.policy_io import import_policy, load_preset
from caredesk.tickets.models import Ticket

from .helpers import run_async
from .servers import Relay

CAREDESK_PROBE = (sys.executable, "-m", "caredesk", "probe")
FAST_ENGINE = {"flush_seconds": 0.05, "reload_seconds": 0.1, "heartbeat_seconds": 0.2}


def fast(spec):
    # The model's 30 s minimum interval is for people; the engine takes anything.
    return replace(spec, interval=0.5, recheck_seconds=0.1, timeout=0.4)


class FastApiStore(ApiStore):
    """The API store with the test's short intervals, as DbStore's ``adjust`` gives."""

    async def load_monitors(self, cursor):
        changes = await super().load_monitors(cursor)
        changes.monitors = [fast(spec) for spec in changes.monitors]
        return changes


@pytest.fixture
def site_monitor(site_a, web) -> Monitor:
    web.route("/shop")
    monitor = Monitor.objects.get(site=site_a)
    monitor.url = f"http://shop.test:{web.port}/shop"
    monitor.allow_private = True
    monitor.save()
    return monitor


@pytest.fixture
def relay(live_server):
    host, port = live_server.thread.host, live_server.thread.port
    relay = Relay(host, port).start()
    yield relay
    relay.stop()


def engine(store, region: str, path: str = "127.0.0.1") -> Engine:
    return Engine(
        store,
        EngineConfig(region=region, **FAST_ENGINE),
        resolver=netguard.Resolver(overrides={"shop.test": [path]}),
    )


def remote(relay, region: str) -> ApiStore:
    _, secret = ProbeToken.issue(f"{region} VM", region)
    return FastApiStore(relay.url, secret, region, timeout=2.0)


def stored(region: str) -> list[tuple]:
    return list(
        CheckResult.objects.filter(region=region).values_list("monitor_id", "checked_at", "ok")
    )


@pytest.mark.django_db(transaction=True)
def test_a_remote_probe_keeps_checking_while_the_server_is_away_and_loses_nothing(
    site_monitor, relay, caplog
):
    store = remote(relay, "eu-test")
    probe = engine(store, "eu-test")
    waiting = []

    async def scenario():
        stop = asyncio.Event()
        running = asyncio.create_task(probe.run(stop))
        await asyncio.sleep(0.8)
        relay.stop()  # the server goes away
        away = probe.stats.checks
        await asyncio.sleep(1.2)
        waiting.append(len(probe._results))
        assert probe.stats.checks > away + 1  # still checking
        relay.start()  # and comes back on the same address
        await asyncio.sleep(1.0)
        stop.set()
        await running

    try:
        run_async(scenario())
    finally:
        store.close()
    rows = stored("eu-test")
    assert waiting[0] >= 2  # results were kept while the server was away
    assert "could not save results; keeping them" in caplog.text
    assert "saving results again" in caplog.text
    assert len(rows) == probe.stats.checks  # none lost
    assert len(set(rows)) == len(rows)  # none twice
    assert all(ok for _, _, ok in rows)
    row = Probe.objects.get(region="eu-test")
    assert row.remote and row.stopped_at is not None and row.status["checks"] == len(rows)
    assert Monitor.objects.get(pk=site_monitor.pk).state == State.UP


@pytest.mark.django_db(transaction=True)
def test_a_batch_sent_again_after_its_answer_was_lost_is_stored_once(site_monitor, relay):
    store = remote(relay, "eu-test")
    probe = engine(store, "eu-test")

    async def scenario():
        stop = asyncio.Event()
        running = asyncio.create_task(probe.run(stop))
        await asyncio.sleep(0.6)
        relay.drop_answers = True  # the server stores the batch; the probe never hears so
        await asyncio.sleep(0.6)
        relay.drop_answers = False
        await asyncio.sleep(0.8)
        stop.set()
        await running

    try:
        run_async(scenario())
    finally:
        store.close()
    rows = stored("eu-test")
    assert relay.dropped > 0
    assert len(rows) == len(set(rows)) == probe.stats.checks


def _alerting(organisation) -> None:
    """What turns a confirmed outage into an alert and a ticket (see tests/alerts)."""
    policy = import_policy(load_preset("kijo-care"))
    plan = Plan.objects.create(code="kijo-care", name="KIJO Care", sla_policy=policy)
    Subscription.objects.create(organisation=organisation, plan=plan, start_date=date(2026, 1, 1))
    AlertChannel.objects.create(
        name="On-call", kind=ChannelKind.EMAIL, target="oncall@agency.example"
    )


def _running(*stores) -> None:
    # Both probes have been running a while: each region counts toward the quorum
    # from the first result on, whichever heartbeat reaches the server first.
    now = clock.now()
    for store in stores:
        status = ProbeStatus(store.region, now, now, 1, 0, 0, 0, 0, 0, 0, 0)
        record_heartbeat(store.name, status, seen_at=now)


def _two_probes(relay, scenario_steps, bad_path: bool):
    """Run a remote probe ("eu") and the embedded one ("local") side by side."""
    api_store = remote(relay, "eu")
    db_store = DbStore("local", adjust=fast)
    _running(api_store, db_store)
    eu = engine(api_store, "eu", "127.0.0.2" if bad_path else "127.0.0.1")
    local = engine(db_store, "local")

    async def scenario():
        stop = asyncio.Event()
        runs = [asyncio.create_task(p.run(stop)) for p in (eu, local)]
        await scenario_steps()
        stop.set()
        await asyncio.gather(*runs)

    try:
        run_async(scenario())
    finally:
        api_store.close()
        db_store.close()
    return eu, local


@pytest.mark.django_db(transaction=True)
def test_only_one_of_two_probes_seeing_a_failure_alerts_nobody(site_monitor, relay, org_a):
    _alerting(org_a)

    async def steps():
        await asyncio.sleep(3.0)  # six intervals

    _, local = _two_probes(relay, steps, bad_path=True)
    failed = CheckResult.objects.filter(region="eu", ok=False)
    assert failed.count() >= 6  # eu saw the site down the whole time (connection refused)
    assert failed.first().error_kind == "connect"
    assert not CheckResult.objects.filter(region="local", ok=False).exists()
    assert local.stats.rechecks > 0  # local re-checked when eu asked
    assert not Incident.objects.exists()
    assert not AlertDelivery.objects.exists()
    assert not Ticket.objects.exists()
    assert Monitor.objects.get(pk=site_monitor.pk).state == State.UP


@pytest.mark.django_db(transaction=True)
def test_a_failure_both_probes_see_is_confirmed_within_the_interval(
    site_monitor, relay, org_a, web
):
    _alerting(org_a)

    async def steps():
        await asyncio.sleep(1.0)
        web.route("/shop", status=500)
        await asyncio.sleep(1.5)

    _two_probes(relay, steps, bad_path=False)
    incident = Incident.objects.get()
    assert (incident.confirmed_at - incident.started_at).total_seconds() < 0.5  # one interval
    confirmed = next(e for e in incident.timeline if e["event"] == "confirmed")
    assert confirmed["regions"] == ["eu", "local"]
    assert AlertDelivery.objects.filter(incident=incident).exists()
    assert Ticket.objects.get().alerted_at == incident.confirmed_at


# -- the command -------------------------------------------------------------------------------


def _wait_for(condition, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_caredesk_probe_with_a_server_runs_without_a_database(live_server, child_env, tmp_path):
    _, secret = ProbeToken.issue("test VM", "eu-test")
    env = {
        **child_env,
        "CAREDESK_PROBE_TOKEN": secret,
        "CAREDESK_LOG_LEVEL": "INFO",
        # A probe machine has no caredesk configuration; nothing here may be needed.
        "CAREDESK_ENV": "production",
    }
    probe = subprocess.Popen(
        [*CAREDESK_PROBE, "--region", "eu-test", "--server", live_server.url],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _wait_for(lambda: Probe.objects.filter(region="eu-test").exists())
        probe.send_signal(signal.SIGTERM)
        _, errors = probe.communicate(timeout=20)
    finally:
        if probe.poll() is None:
            probe.kill()
    assert probe.returncode == 0, errors
    assert "probe eu-test started" in errors and "probe eu-test stopped" in errors
    row = Probe.objects.get(region="eu-test")
    assert row.remote and row.stopped_at is not None
    assert not os.path.exists(child_env["CAREDESK_DATA_DIR"])  # no database, no files


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_caredesk_probe_stops_at_once_when_the_server_refuses_its_token(
    live_server, child_env, tmp_path
):
    _, secret = ProbeToken.issue("test VM", "eu-test")
    run = subprocess.run(
        [*CAREDESK_PROBE, "--region", "us-test", "--server", live_server.url],
        env={**child_env, "CAREDESK_PROBE_TOKEN": secret},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 2
    assert "this token is for region 'eu-test'" in run.stderr
    bad = subprocess.run(
        [*CAREDESK_PROBE, "--server", live_server.url],
        env={**child_env, "CAREDESK_PROBE_TOKEN": "cdp000000000000.nope"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert bad.returncode == 2 and "401" in bad.stderr


@pytest.mark.django_db(transaction=True)
def test_a_batch_the_server_can_never_take_is_dropped_not_retried(site_monitor, relay, caplog):
    store = remote(relay, "eu-test")
    ahead = clock.now() + timedelta(hours=1)  # a clock gone wrong
    try:
        run_async(store.save_results([Outcome(site_monitor.pk, ahead, "eu-test", True)]))
        with pytest.raises(ApiUnreachable):
            relay.stop()
            run_async(store.save_results([Outcome(site_monitor.pk, clock.now(), "eu-test", True)]))
    finally:
        store.close()
    assert "refused 1 results for good" in caplog.text and "future" in caplog.text
    assert not CheckResult.objects.exists()
