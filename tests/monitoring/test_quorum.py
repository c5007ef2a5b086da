"""Results from several regions: a quorum of live regions confirms, re-checks are asked for."""

from datetime import timedelta

import pytest
import time_machine

from caredesk.monitoring.engine import ProbeStatus
from caredesk.monitoring.models import Incident, Monitor, Probe
from caredesk.monitoring.state import State
from caredesk.monitoring.store import (
    live_regions,
    pending_rechecks,
    record_heartbeat,
    save_results,
)

from .helpers import T0, at, outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock_at():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def monitor(site_a) -> Monitor:
    return Monitor.objects.get(site=site_a)


def alive(*regions: str, seen=None) -> None:
    for region in regions:
        status = ProbeStatus(region, T0, seen or T0, 1, 0, 0, 0, 0, 0, 0, 0)
        record_heartbeat(f"{region}@host", status, seen_at=seen or T0)


def check(monitor, minutes: float, region: str, ok: bool) -> None:
    save_results([outcome(monitor, at(minutes), ok, region=region)])


def test_one_region_of_two_seeing_failures_confirms_nothing(clock_at, monitor):
    alive("eu", "us")
    check(monitor, 0, "eu", False)
    check(monitor, 0.2, "eu", False)  # its own re-check: still one region
    check(monitor, 0.3, "us", True)  # the other region sees the site up
    check(monitor, 1, "eu", False)
    monitor.refresh_from_db()
    assert monitor.state == State.UP and monitor.failing_regions == ["eu"]
    assert not Incident.objects.exists()


def test_two_regions_seeing_failures_confirm_at_once(clock_at, monitor):
    alive("eu", "us")
    check(monitor, 0, "eu", False)
    check(monitor, 0.1, "us", False)
    monitor.refresh_from_db()
    assert monitor.state == State.DOWN
    incident = Incident.objects.get()
    assert incident.started_at == at(0) and incident.confirmed_at == at(0.1)
    confirmed = incident.timeline[-1]
    assert confirmed["event"] == "confirmed" and confirmed["regions"] == ["eu", "us"]


def test_a_region_not_heard_from_lately_does_not_hold_up_confirmation(clock_at, monitor, settings):
    settings.CAREDESK_PROBE_ALIVE_SECONDS = 90
    alive("eu")
    alive("us", seen=T0 - timedelta(minutes=5))  # its probe died
    assert live_regions() == {"eu"}
    check(monitor, 0, "eu", False)
    check(monitor, 0.2, "eu", False)
    assert Monitor.objects.get(pk=monitor.pk).state == State.DOWN


def test_a_stopped_probe_does_not_count_either(clock_at, monitor):
    alive("eu", "us")
    status = ProbeStatus("us", T0, T0, 1, 0, 0, 0, 0, 0, 0, 0, stopping=True)
    record_heartbeat("us@host", status, seen_at=T0)
    assert live_regions() == {"eu"}


def test_a_monitor_may_ask_for_fewer_regions(clock_at, monitor):
    alive("eu", "us")
    Monitor.objects.filter(pk=monitor.pk).update(quorum=1)
    monitor.refresh_from_db()
    check(monitor, 0, "eu", False)
    check(monitor, 0.2, "eu", False)
    assert Monitor.objects.get(pk=monitor.pk).state == State.DOWN


def test_the_setting_sets_the_quorum(clock_at, monitor, settings):
    settings.CAREDESK_MONITOR_QUORUM = 3
    alive("eu", "us", "ap")
    check(monitor, 0, "eu", False)
    check(monitor, 0.1, "us", False)
    assert Monitor.objects.get(pk=monitor.pk).state != State.DOWN
    check(monitor, 0.2, "ap", False)
    assert Monitor.objects.get(pk=monitor.pk).state == State.DOWN


def test_a_failure_asks_the_other_regions_and_settling_withdraws_the_request(clock_at, monitor):
    alive("eu", "us")
    check(monitor, 0, "eu", False)
    monitor.refresh_from_db()
    assert monitor.recheck_region == "eu" and monitor.recheck_after == T0
    assert pending_rechecks("us", T0) == [(monitor.pk, T0)]
    assert pending_rechecks("eu", T0) == []  # the asking region re-checks by itself
    check(monitor, 0.1, "us", True)
    monitor.refresh_from_db()
    assert monitor.recheck_after is None
    assert pending_rechecks("us", T0) == []


def test_a_request_is_listed_for_two_minutes_only(clock_at, monitor):
    alive("eu", "us")
    check(monitor, 0, "eu", False)
    assert pending_rechecks("us", T0 + timedelta(minutes=3)) == []


def test_minutes_old_results_are_kept_but_do_not_change_the_health(clock_at, monitor):
    alive("eu", "us")
    clock_at.move_to(at(10))
    check(monitor, 10, "eu", True)
    # us was cut off from the server for ten minutes and now sends what it kept.
    save_results([outcome(monitor, at(m), False, region="us") for m in range(9)])
    monitor.refresh_from_db()
    assert monitor.state == State.UP and monitor.fail_streak == 0
    assert monitor.results.filter(region="us").count() == 9


def test_a_single_probe_confirms_alone_as_before(clock_at, monitor):
    alive("local")
    check(monitor, 0, "local", False)
    check(monitor, 0.2, "local", False)
    assert Monitor.objects.get(pk=monitor.pk).state == State.DOWN


def test_a_region_sending_results_counts_before_its_first_heartbeat(clock_at, monitor):
    alive("eu")
    save_results(
        [
            outcome(monitor, at(0), False, region="eu"),
            outcome(monitor, at(0.1), False, region="us"),
        ]
    )
    assert Monitor.objects.get(pk=monitor.pk).state == State.DOWN
    assert not Probe.objects.filter(region="us").exists()
