"""Confirmation end to end: real checks of a real server, saved by the DB store."""

import logging
from dataclasses import replace
from datetime import timedelta

import pytest

from caredesk.monitoring.engine import run_check
from caredesk.monitoring.models import CheckResult, Incident, Monitor, Outage
from caredesk.monitoring.signals import incident_confirmed, incident_resolved
from caredesk.monitoring.state import State
from caredesk.monitoring.store import SPEC_FIELDS, DbStore, spec_from_row

from .helpers import at, feed, outcome, run_async

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return DbStore("test")


@pytest.fixture
def signals():
    """Every incident signal sent, as (name, incident id, extra arguments)."""
    sent = []

    def confirmed(sender, incident, reopened, **kwargs):
        sent.append(("confirmed", incident.pk, reopened))

    def resolved(sender, incident, **kwargs):
        sent.append(("resolved", incident.pk, None))

    incident_confirmed.connect(confirmed)
    incident_resolved.connect(resolved)
    yield sent
    incident_confirmed.disconnect(confirmed)
    incident_resolved.disconnect(resolved)


@pytest.fixture
def shop(site_a, web):
    """The site's monitor, pointed at the loopback server (allowed for this monitor)."""
    web.route("/shop")
    monitor = Monitor.objects.get(site=site_a)
    monitor.url = f"http://shop.test:{web.port}/shop"
    monitor.allow_private = True
    monitor.save()
    return monitor


def probe(store, monitor, context):
    """One real check of ``monitor`` as the probe would run it, saved through the store."""
    row = Monitor.objects.filter(pk=monitor.pk).values(*SPEC_FIELDS).get()
    result = run_async(run_check(store.adjust(spec_from_row(row)), context))
    store.save_sync([result])
    return result


def test_one_failure_confirms_nothing(
    store, shop, web, context, signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        probe(store, shop, context)
        web.route("/shop", status=500)
        probe(store, shop, context)
        web.route("/shop")
        probe(store, shop, context)
    shop.refresh_from_db()
    assert shop.state == State.UP and shop.fail_streak == 0
    assert Incident.objects.count() == 0
    assert signals == []
    assert CheckResult.objects.filter(ok=False).count() == 1


def test_two_failures_confirm_an_incident_from_the_first_and_recovery_resolves_it(
    store, shop, web, context, signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        probe(store, shop, context)
        web.route("/shop", status=500)
        first_failure = probe(store, shop, context)
        confirming = probe(store, shop, context)
    incident = Incident.objects.get()
    assert incident.started_at == first_failure.checked_at
    assert incident.confirmed_at == confirming.checked_at
    assert incident.cause == "status: HTTP 500 (expected 200-399)"
    assert incident.is_open
    assert signals == [("confirmed", incident.pk, False)]
    shop.refresh_from_db()
    assert shop.state == State.DOWN

    web.route("/shop")
    with django_capture_on_commit_callbacks(execute=True):
        first_good = probe(store, shop, context)
        probe(store, shop, context)
    incident.refresh_from_db()
    assert incident.recovered_at == first_good.checked_at
    assert incident.resolved_at is not None and not incident.is_open
    # The alerts bridge (an installed app) adds its ticket to the same timeline.
    assert [e["event"] for e in incident.timeline] == [
        "first_failure",
        "confirmed",
        "ticket_opened",
        "recovering",
        "resolved",
    ]
    outage = Outage.objects.get()
    assert (outage.started_at, outage.ended_at) == (first_failure.checked_at, first_good.checked_at)
    assert signals[-1] == ("resolved", incident.pk, None)


def test_a_private_address_is_refused_unless_the_monitor_allows_it(store, shop, web, context):
    shop.allow_private = False
    shop.save()
    result = probe(store, shop, context)
    probe(store, shop, context)
    assert result.error == "private address refused: shop.test resolves to 127.0.0.1 (loopback)"
    assert web.connections == 0
    incident = Incident.objects.get()
    assert incident.cause.startswith("private_address: private address refused")
    shop.allow_private = True
    shop.save()
    probe(store, shop, context)
    probe(store, shop, context)
    assert web.connections == 2
    assert not Incident.objects.get().is_open


def test_a_hanging_site_is_confirmed_down_by_timeouts(store, shop, web, context):
    web.route("/shop", hang=True)
    store.adjust = lambda spec: replace(spec, timeout=0.3)
    for _ in range(2):
        assert probe(store, shop, context).error_kind == "timeout"
    assert Incident.objects.get().cause.startswith("timeout: no complete answer within 0.3 s")


def test_flapping_within_the_quiet_period_reopens_the_same_incident(
    store, site_a, signals, django_capture_on_commit_callbacks
):
    monitor = Monitor.objects.get(site=site_a)
    with django_capture_on_commit_callbacks(execute=True):
        feed(store, monitor, "+--++--++")  # down twice, 3 minutes apart
    incident = Incident.objects.get()
    assert incident.reopened == 1
    assert not incident.is_open
    assert [(o.started_at, o.ended_at) for o in Outage.objects.all()] == [
        (at(1), at(3)),
        (at(5), at(7)),
    ]
    assert [s[0] for s in signals] == ["confirmed", "resolved", "confirmed", "resolved"]
    assert signals[2][2] is True  # reopened


def test_an_outage_after_the_quiet_period_is_a_new_incident(store, site_a, settings):
    settings.CAREDESK_MONITOR_QUIET_SECONDS = 60
    monitor = Monitor.objects.get(site=site_a)
    feed(store, monitor, "+--++--++")
    assert Incident.objects.count() == 2


def test_a_change_of_error_while_down_goes_on_the_timeline(store, site_a):
    monitor = Monitor.objects.get(site=site_a)
    feed(store, monitor, "+--")
    store.save_sync([outcome(monitor, at(3), False, error_kind="timeout", error="slow")])
    store.save_sync([outcome(monitor, at(4), False, error_kind="timeout", error="slow")])
    events = [e["event"] for e in Incident.objects.get().timeline]
    assert events == ["first_failure", "confirmed", "error_changed"]


def test_a_failing_receiver_neither_stops_the_others_nor_the_store(
    store, site_a, signals, django_capture_on_commit_callbacks, caplog
):
    def broken(sender, **kwargs):
        raise RuntimeError("the alert bridge fell over")

    incident_confirmed.connect(broken)
    try:
        with django_capture_on_commit_callbacks(execute=True), caplog.at_level(logging.ERROR):
            feed(store, Monitor.objects.get(site=site_a), "--")
    finally:
        incident_confirmed.disconnect(broken)
    assert [s[0] for s in signals] == ["confirmed"]
    assert "receiver" in caplog.text and "failed" in caplog.text


def test_one_batch_with_several_results_of_a_monitor_applies_them_in_order(store, site_a):
    monitor = Monitor.objects.get(site=site_a)
    batch = [outcome(monitor, at(m), ok) for m, ok in [(2, False), (0, True), (1, False)]]
    store.save_sync(batch)
    incident = Incident.objects.get()
    assert incident.started_at == at(1)
    assert incident.confirmed_at == at(2)
    assert incident.confirmed_at - incident.started_at == timedelta(minutes=1)
