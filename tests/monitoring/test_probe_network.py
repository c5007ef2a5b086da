"""The server's side of a probe that lost its network: heard once, never counted."""

import pytest
import time_machine

from caredesk.monitoring.engine import ProbeStatus
from caredesk.monitoring.models import CheckResult, Incident, Monitor, Probe
from caredesk.monitoring.signals import probe_network_back, probe_network_lost
from caredesk.monitoring.state import State
from caredesk.monitoring.store import live_regions, record_heartbeat, save_results

from .helpers import T0, at, outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock_at():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def monitor(site_a) -> Monitor:
    return Monitor.objects.get(site=site_a)


@pytest.fixture
def heard(django_capture_on_commit_callbacks):
    """The probe signals sent (after commit), as (name, probe name) pairs."""
    sent = []

    def lost(sender, probe, detail="", **kwargs):
        sent.append(("lost", probe.name, detail))

    def back(sender, probe, lost_at=None, **kwargs):
        sent.append(("back", probe.name, lost_at))

    probe_network_lost.connect(lost, dispatch_uid="test-lost")
    probe_network_back.connect(back, dispatch_uid="test-back")
    yield sent
    probe_network_lost.disconnect(dispatch_uid="test-lost")
    probe_network_back.disconnect(dispatch_uid="test-back")


def beat(region: str, network: str = "ok", *, seen=T0, detail: str = "") -> Probe:
    status = ProbeStatus(
        region, T0, seen, 30, 0, 0, 0, 0, 0, 0, 0, network=network, network_detail=detail
    )
    return record_heartbeat(f"{region}@host", status, seen_at=seen)


def cut_off(monitor, minutes: float, region: str = "eu"):
    failed = outcome(
        monitor, at(minutes), False, region=region, error_kind="connect", error="refused"
    )
    failed.network_lost = True
    return failed


def test_a_probe_saying_it_lost_its_network_is_heard_once(
    clock_at, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        beat("eu", "lost", detail="30 of the last 30 checks failed")
        beat("eu", "lost")
        beat("eu", "lost")
    assert heard == [("lost", "eu@host", "30 of the last 30 checks failed")]
    probe = Probe.objects.get()
    assert probe.network_lost_at == T0
    assert not probe.is_alive()
    with django_capture_on_commit_callbacks(execute=True):
        beat("eu")
        beat("eu")
    assert heard[1:] == [("back", "eu@host", T0)]
    assert Probe.objects.get().network_lost_at is None


def test_failures_sent_while_cut_off_are_kept_but_confirm_nothing(clock_at, monitor):
    beat("eu", "lost")
    save_results([cut_off(monitor, 0), cut_off(monitor, 0.2), cut_off(monitor, 1)])
    monitor.refresh_from_db()
    assert monitor.state == State.UNKNOWN and monitor.fail_streak == 0
    assert monitor.last_checked_at == at(1)  # it was checked, for the status board
    assert not Incident.objects.exists()
    kinds = set(CheckResult.objects.values_list("error_kind", flat=True))
    assert kinds == {"probe_network"}
    assert CheckResult.objects.first().error.startswith(
        "not counted, the probe had lost its network (connect: refused"
    )


def test_a_region_cut_off_holds_up_no_quorum(clock_at, monitor, settings):
    settings.CAREDESK_MONITOR_QUORUM = 2
    beat("eu", "lost")
    beat("us")
    assert live_regions() == {"us"}
    save_results([cut_off(monitor, 0)])
    save_results([outcome(monitor, at(0.1), False, region="us")])
    save_results([outcome(monitor, at(0.3), False, region="us")])
    monitor.refresh_from_db()
    # Only one region can see anything now: its two failures are the quorum.
    assert monitor.state == State.DOWN
    assert Incident.objects.get().timeline[-1]["regions"] == ["us"]
