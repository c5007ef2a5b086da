"""Heartbeats: pinged at a secret address, judged on the server — late is a warning, then down."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from caredesk.monitoring import heartbeats
from caredesk.monitoring.models import (
    CheckResult,
    HeartbeatPing,
    Incident,
    Kind,
    Monitor,
    MonitorWarning,
    WarningKind,
)
from caredesk.monitoring.state import State

from .helpers import T0, at

pytestmark = pytest.mark.django_db
HOUR = 3600


@pytest.fixture
def clock_at():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def cron(site_a, clock_at) -> Monitor:
    """A nightly job's heartbeat: every hour here, with half an hour of grace."""
    monitor = Monitor(
        site=site_a, kind=Kind.HEARTBEAT, name="Nightly export", interval_seconds=HOUR
    )
    monitor.grace_seconds = HOUR // 2
    monitor.full_clean()
    monitor.save()
    return monitor


def ping_url(monitor: Monitor) -> str:
    return monitor.ping_path


def test_a_heartbeat_gets_a_secret_address_and_no_url_of_its_own(cron):
    assert cron.ping_token and len(cron.ping_token) >= 30
    assert cron.ping_path == f"/heartbeat/{cron.ping_token}/"
    assert cron.ping_url.endswith(cron.ping_path)
    assert cron.target == "every 1 h, grace 30 min"  # never the secret


@pytest.mark.parametrize("method", ["get", "post", "head"])
def test_a_call_is_a_ping_with_its_time_and_source(cron, clock_at, method):
    client = Client(REMOTE_ADDR="203.0.113.7", headers={"User-Agent": "curl/8.5.0"})
    response = getattr(client, method)(ping_url(cron))
    assert response.status_code == 200
    if method != "head":
        assert response.content == b"OK\n"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    ping = HeartbeatPing.objects.get()
    assert (ping.at, ping.address, ping.method, ping.agent) == (
        T0,
        "203.0.113.7",
        method.upper(),
        "curl/8.5.0",
    )
    cron.refresh_from_db()
    assert cron.last_ping_at == T0
    assert cron.last_ping_source == f"203.0.113.7 {method.upper()} curl/8.5.0"
    assert cron.state == State.UP
    assert cron.next_check_at == T0 + timedelta(hours=1)
    result = CheckResult.objects.get()
    assert (result.ok, result.region, result.checked_at) == (True, "heartbeat", T0)


def test_an_unknown_token_learns_nothing(cron, client):
    for path in (
        "/heartbeat/" + "x" * 32 + "/",
        "/heartbeat/short/",
        "/heartbeat/" + cron.ping_token[:-1] + "!/",
    ):
        response = client.get(path)
        assert response.status_code == 404
        assert response.content == b"Not found\n"
    assert not HeartbeatPing.objects.exists()


def test_the_answer_says_nothing_about_the_client(cron, client):
    body = client.post(ping_url(cron), data="anything", content_type="text/plain").content
    assert body == b"OK\n"
    assert client.put(ping_url(cron)).status_code == 405


def test_a_site_no_longer_looked_after_does_not_take_pings(cron, client):
    cron.site.is_active = False
    cron.site.save()
    assert client.get(ping_url(cron)).status_code == 404


def test_pings_are_rate_limited_per_heartbeat(cron, client, settings, clock_at):
    settings.CAREDESK_HEARTBEAT_RATE_PER_MINUTE = 2
    assert [client.get(ping_url(cron)).status_code for _ in range(3)] == [200, 200, 429]
    refused = client.get(ping_url(cron))
    assert refused["Retry-After"] == "60" and refused.content == b"Too many requests\n"
    assert HeartbeatPing.objects.count() == 2
    clock_at.move_to(T0 + timedelta(minutes=1))
    assert client.get(ping_url(cron)).status_code == 200


def test_guessing_tokens_is_rate_limited_per_address(cron, settings):
    settings.CAREDESK_HEARTBEAT_MISSES_PER_HOUR = 3
    guesser = Client(REMOTE_ADDR="198.51.100.9")
    codes = [guesser.get(f"/heartbeat/{'g' * 30}{n:02d}/").status_code for n in range(5)]
    assert codes == [404, 404, 404, 429, 429]
    # Another address, and a right token, are not held up by it.
    assert (
        Client(REMOTE_ADDR="198.51.100.10").get("/heartbeat/" + "h" * 32 + "/").status_code == 404
    )
    assert Client(REMOTE_ADDR="198.51.100.9").get(ping_url(cron)).status_code == 200


def test_late_is_a_warning_and_past_the_grace_it_is_down(cron, clock_at):
    heartbeats.ping(cron, agent="test")
    clock_at.move_to(at(59))
    assert heartbeats.run() == 0  # nothing due yet
    clock_at.move_to(at(61))
    assert heartbeats.run() == 1
    warning = MonitorWarning.objects.get()
    assert (warning.kind, warning.opened_at) == (WarningKind.HEARTBEAT_LATE, at(61))
    assert warning.detail == (
        "heartbeat late: no ping since 2026-06-10 09:00 UTC; down at 2026-06-10 10:30 UTC "
        "without one"
    )
    cron.refresh_from_db()
    assert cron.state == State.UP and not Incident.objects.exists()  # late is not down
    assert cron.next_check_at == at(90)
    clock_at.move_to(at(80))
    assert heartbeats.run() == 0
    clock_at.move_to(at(91))
    assert heartbeats.run() == 1
    cron.refresh_from_db()
    assert cron.state == State.DOWN and cron.next_check_at is None
    incident = Incident.objects.get()
    assert (incident.started_at, incident.confirmed_at) == (at(91), at(91))
    assert incident.cause == (
        "late: no ping since 2026-06-10 09:00 UTC; expected every 1 h with 30 min of grace"
    )
    clock_at.move_to(at(200))
    assert heartbeats.run() == 0  # down stays down without another verdict


def test_the_next_ping_brings_it_back_and_clears_the_warning(cron, clock_at):
    heartbeats.ping(cron)
    clock_at.move_to(at(95))
    heartbeats.run()
    assert Incident.objects.get().is_open
    clock_at.move_to(at(100))
    Client(REMOTE_ADDR="203.0.113.7").get(ping_url(cron))
    cron.refresh_from_db()
    assert cron.state == State.UP
    incident = Incident.objects.get()
    assert (incident.recovered_at, incident.resolved_at) == (at(100), at(100))
    assert MonitorWarning.objects.filter(cleared_at=None).count() == 0
    assert cron.next_check_at == at(160)


def test_a_ping_within_the_grace_clears_the_warning_without_an_outage(cron, clock_at):
    heartbeats.ping(cron)
    clock_at.move_to(at(65))
    heartbeats.run()
    clock_at.move_to(at(70))
    heartbeats.ping(cron)
    warning = MonitorWarning.objects.get()
    assert warning.cleared_at == at(70)
    assert not Incident.objects.exists()


def test_a_new_heartbeat_waits_for_its_first_ping(cron, clock_at):
    clock_at.move_to(at(60 * 24 * 30))
    assert heartbeats.run() == 0
    cron.refresh_from_db()
    assert cron.state == State.UNKNOWN and not MonitorWarning.objects.exists()


def test_a_heartbeat_is_judged_once_however_many_workers_look(cron, clock_at):
    heartbeats.ping(cron)
    clock_at.move_to(at(61))
    assert heartbeats.judge(cron.pk, at(61)) == "late"
    assert heartbeats.judge(cron.pk, at(61)) == "not due"  # the second worker, a moment later
    assert MonitorWarning.objects.count() == 1


def test_a_shorter_period_is_judged_at_once(cron, clock_at):
    heartbeats.ping(cron)
    clock_at.move_to(at(20))
    cron.interval_seconds = 600
    cron.save()
    assert heartbeats.run() == 1
    assert MonitorWarning.objects.get().opened_at == at(20)


def test_a_disabled_heartbeat_is_not_judged(cron, clock_at):
    heartbeats.ping(cron)
    cron.enabled = False
    cron.save()
    clock_at.move_to(at(200))
    assert heartbeats.run() == 0
    assert not MonitorWarning.objects.exists() and not Incident.objects.exists()


def test_only_the_latest_pings_are_kept(cron, clock_at, monkeypatch):
    monkeypatch.setattr(HeartbeatPing, "PINGS_KEPT", 3)
    for minute in range(5):
        clock_at.move_to(at(minute))
        heartbeats.ping(cron, agent=f"run {minute}")
    assert list(HeartbeatPing.objects.values_list("agent", flat=True)) == [
        "run 4",
        "run 3",
        "run 2",
    ]


def test_the_quorum_of_regions_does_not_apply_to_heartbeats(cron, clock_at, settings):
    settings.CAREDESK_MONITOR_QUORUM = 3
    heartbeats.ping(cron)
    clock_at.move_to(at(95))
    heartbeats.run()
    cron.refresh_from_db()
    assert cron.state == State.DOWN


def test_heartbeat_periods_may_be_long_and_other_kinds_stay_within_an_hour(site_a):
    monthly = Monitor(site=site_a, kind=Kind.HEARTBEAT, name="Backup", interval_seconds=31 * 86400)
    monthly.full_clean()
    http = Monitor(site=site_a, kind=Kind.HTTP, url="https://a.example/", interval_seconds=7200)
    with pytest.raises(Exception, match="less than or equal to 3600"):
        http.full_clean()


# -- what the maintenance app calls (from a layer above it) ---------------------------------


def test_a_sites_backup_heartbeat_is_made_once_and_pinged(site_a, clock_at):
    first = heartbeats.ping_site(site_a, at=at(-5), agent="caredesk backup 12")
    monitor = Monitor.objects.get(site=site_a, key="backup")
    assert (monitor.kind, monitor.name, monitor.interval_seconds, monitor.grace_seconds) == (
        Kind.HEARTBEAT,
        "Backup",
        30 * 86400,
        2 * 86400,
    )
    assert (first.at, first.agent, first.address) == (at(-5), "caredesk backup 12", None)
    heartbeats.ping_site(site_a, agent="caredesk backup 13")
    assert Monitor.objects.filter(site=site_a, key="backup").count() == 1
    monitor.refresh_from_db()
    assert monitor.last_ping_at == T0 and monitor.last_ping_source == "caredesk backup 13"
    assert heartbeats.ensure_heartbeat(site_a) == monitor


def test_a_ping_is_never_dated_in_the_future(cron, clock_at):
    ping = heartbeats.ping(cron, at=at(30))
    assert ping.at == T0


def test_only_heartbeats_take_pings(site_a):
    http = Monitor.objects.get(site=site_a)
    with pytest.raises(heartbeats.NotAHeartbeat):
        heartbeats.ping(http)
    http.key = "backup"
    http.save()
    with pytest.raises(heartbeats.NotAHeartbeat):
        heartbeats.ensure_heartbeat(site_a)
