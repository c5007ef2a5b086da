"""The database store: monitors out to the engine, results and health back in."""

from datetime import timedelta

import pytest

from caredesk.monitoring.engine import ProbeStatus
from caredesk.monitoring.engine.spec import Kind
from caredesk.monitoring.models import CheckResult, Monitor, Probe
from caredesk.monitoring.state import State
from caredesk.monitoring.store import DbStore, stale_monitors

from .helpers import T0, at, outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return DbStore("test", full_every=3600, look_back=timedelta(0))


def test_the_first_load_lists_every_enabled_monitor_of_an_active_site(store, site_a, site_b):
    tls = Monitor.objects.create(site=site_a, kind=Kind.TLS, host="alpha.example")
    Monitor.objects.create(site=site_a, kind=Kind.TCP, host="alpha.example", port=22, enabled=False)
    site_b.is_active = False
    site_b.save()
    changes = store.load_sync(None)
    assert changes.complete
    by_id = {spec.id: spec for spec in changes.monitors}
    default = Monitor.objects.get(site=site_a, is_default=True)
    assert sorted(by_id) == sorted([default.pk, tls.pk])
    assert by_id[default.pk].url == "https://alpha.example/"
    assert by_id[default.pk].interval == 60.0
    assert by_id[default.pk].expected_status == ((200, 399),)
    assert by_id[tls.pk].port == 443


def test_later_loads_bring_only_changes_and_removals(store, site_a):
    first = store.load_sync(None)
    monitor = Monitor.objects.get(site=site_a)
    assert store.load_sync(first.cursor).monitors == []
    monitor.interval_seconds = 120
    monitor.save()
    changed = store.load_sync(first.cursor)
    assert [spec.interval for spec in changed.monitors] == [120.0]
    assert not changed.complete
    monitor.enabled = False
    monitor.save()
    assert store.load_sync(changed.cursor).removed == [monitor.pk]


def test_health_writes_do_not_count_as_changes(store, site_a):
    first = store.load_sync(None)
    monitor = Monitor.objects.get(site=site_a)
    store.save_sync([outcome(monitor, at(0), False)])
    assert store.load_sync(first.cursor).monitors == []


def test_saving_results_records_them_and_the_health(store, site_a):
    monitor = Monitor.objects.get(site=site_a)
    next_at = at(1)
    store.save_sync(
        [
            outcome(monitor, at(0), True, dns_ms=2, connect_ms=3, tls_ms=40, total_ms=99_999),
        ]
    )
    store.save_sync([outcome(monitor, at(0.5), False, next_check_at=next_at)])
    rows = list(CheckResult.objects.order_by("checked_at"))
    assert [r.ok for r in rows] == [True, False]
    assert rows[0].total_ms == 32767  # stored as a small integer
    assert rows[1].error == "HTTP 500 (expected 200-399)"
    monitor.refresh_from_db()
    assert monitor.state == State.UP
    assert monitor.fail_streak == 1
    assert monitor.failing_since == at(0.5)
    assert monitor.failure_cause == "status: HTTP 500 (expected 200-399)"
    assert monitor.last_checked_at == at(0.5)
    assert monitor.next_check_at == next_at


def test_results_of_a_deleted_monitor_are_dropped(store, site_a):
    monitor = Monitor.objects.get(site=site_a)
    gone = Monitor.objects.create(site=site_a, kind=Kind.TCP, host="alpha.example", port=22)
    late = outcome(gone, at(0), True)
    gone.delete()
    store.save_sync([late, outcome(monitor, at(0), True)])
    assert CheckResult.objects.count() == 1


def test_a_heartbeat_keeps_one_row_per_probe(store):
    status = ProbeStatus("test", T0, at(1), 10, 100, 2, 0, 3, 9, 1, 0)
    store.heartbeat_sync(status)
    store.heartbeat_sync(ProbeStatus("test", T0, at(2), 10, 200, 2, 0, 3, 9, 0, 0, stopping=True))
    probe = Probe.objects.get()
    assert probe.last_seen_at == at(2) and probe.stopped_at == at(2)
    assert probe.status["checks"] == 200


def test_monitors_no_probe_has_checked_lately_are_stale(store, site_a, settings):
    monitor = Monitor.objects.get(site=site_a)
    store.save_sync([outcome(monitor, at(0), True, next_check_at=at(1))])
    assert list(stale_monitors()) == [monitor]  # T0 is long past
