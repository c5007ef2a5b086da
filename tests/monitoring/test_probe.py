"""The engine on the database store, as ``caredesk probe`` runs it: a site goes down and back."""

import asyncio
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from caredesk.lib import netguard
from caredesk.monitoring.engine import Engine, EngineConfig
from caredesk.monitoring.models import CheckResult, Incident, Monitor, Outage, Probe
from caredesk.monitoring.signals import incident_confirmed, incident_resolved
from caredesk.monitoring.state import State
from caredesk.monitoring.store import DbStore

from .helpers import run_async


def fast(spec):
    # The model's 30 s minimum interval is for people; the engine takes anything.
    return replace(spec, interval=0.5, recheck_seconds=0.1, timeout=0.4)


@pytest.mark.django_db(transaction=True)
def test_the_probe_confirms_an_outage_and_its_recovery(site_a, web, client_tls):
    web.route("/shop")
    monitor = Monitor.objects.get(site=site_a)
    monitor.url = f"http://shop.test:{web.port}/shop"
    monitor.allow_private = True
    monitor.save()
    sent = []
    incident_confirmed.connect(
        lambda sender, incident, **kw: sent.append("confirmed"),
        weak=False,
        dispatch_uid="t-confirmed",
    )
    incident_resolved.connect(
        lambda sender, incident, **kw: sent.append("resolved"),
        weak=False,
        dispatch_uid="t-resolved",
    )
    store = DbStore("test", adjust=fast)
    engine = Engine(
        store,
        EngineConfig(region="test", flush_seconds=0.05, reload_seconds=0.1, heartbeat_seconds=0.2),
        resolver=netguard.Resolver(overrides={"shop.test": ["127.0.0.1"]}),
        ssl_context=client_tls,
    )

    async def scenario():
        stop = asyncio.Event()
        running = asyncio.create_task(engine.run(stop))
        await asyncio.sleep(0.8)
        web.route("/shop", hang=True)
        await asyncio.sleep(1.0)
        web.route("/shop")
        await asyncio.sleep(1.0)
        stop.set()
        await running

    try:
        run_async(scenario())
    finally:
        store.close()
        incident_confirmed.disconnect(dispatch_uid="t-confirmed")
        incident_resolved.disconnect(dispatch_uid="t-resolved")
    incident = Incident.objects.get()
    first_failure = CheckResult.objects.filter(ok=False).order_by("checked_at").first()
    assert first_failure.error_kind == "timeout"
    assert incident.started_at == first_failure.checked_at
    # Re-checked 0.1 s after the first timeout: confirmed well within one interval.
    assert (incident.confirmed_at - incident.started_at).total_seconds() < 0.5 + 1.0
    assert incident.resolved_at is not None
    assert Outage.objects.get().ended_at == incident.recovered_at
    monitor.refresh_from_db()
    assert monitor.state == State.UP
    assert monitor.next_check_at > monitor.last_checked_at
    assert sent == ["confirmed", "resolved"]
    assert Probe.objects.get().stopped_at is not None


@pytest.mark.integration
def test_caredesk_probe_runs_until_sigterm_and_stops_cleanly(child_env, tmp_path):
    def caredesk(*args, **kwargs):
        return subprocess.run(
            [sys.executable, "-m", "caredesk", *args],
            env=child_env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            **kwargs,
        )

    caredesk("migrate", "-v", "0")
    probe = subprocess.Popen(
        [sys.executable, "-m", "caredesk", "probe", "--region", "eu-test"],
        env={**child_env, "CAREDESK_LOG_LEVEL": "INFO"},
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        database = Path(child_env["CAREDESK_DATA_DIR"]) / "caredesk.sqlite3"
        while time.monotonic() < deadline and not _probe_row(database):
            time.sleep(0.1)
        probe.send_signal(signal.SIGTERM)
        _, errors = probe.communicate(timeout=20)
    finally:
        if probe.poll() is None:
            probe.kill()
    assert probe.returncode == 0, errors
    assert "probe eu-test started: 0 monitors" in errors
    assert "probe eu-test stopped" in errors
    assert _probe_row(database) == ("eu-test", 1)


def _probe_row(database: Path):
    import sqlite3

    try:
        with sqlite3.connect(database) as connection:
            row = connection.execute(
                "SELECT region, stopped_at IS NOT NULL FROM monitoring_probe"
            ).fetchone()
    except sqlite3.Error:
        return None
    return row
