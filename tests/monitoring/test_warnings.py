"""Certificate warnings: raised from the days left that checks report, never an outage."""

from datetime import timedelta

import pytest

from caredesk.lib import clock
from caredesk.monitoring.engine import MonitorSpec, run_check
from caredesk.monitoring.models import (
    CheckResult,
    Incident,
    Kind,
    Monitor,
    MonitorWarning,
    WarningKind,
)
from caredesk.monitoring.signals import warning_cleared, warning_raised
from caredesk.monitoring.state import State
from caredesk.monitoring.store import DbStore

from .helpers import at, outcome, run_async

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


@pytest.fixture
def store():
    return DbStore("test")


@pytest.fixture
def raised():
    seen = []

    def on_raise(sender, warning, **kwargs):
        seen.append(("raised", warning.pk, warning.detail))

    def on_clear(sender, warning, **kwargs):
        seen.append(("cleared", warning.pk, warning.detail))

    warning_raised.connect(on_raise, dispatch_uid="test.raised")
    warning_cleared.connect(on_clear, dispatch_uid="test.cleared")
    yield seen
    warning_raised.disconnect(dispatch_uid="test.raised")
    warning_cleared.disconnect(dispatch_uid="test.cleared")


@pytest.fixture
def save(store, django_capture_on_commit_callbacks):
    def save_batch(*outcomes):
        with django_capture_on_commit_callbacks(execute=True):
            store.save_sync(list(outcomes))

    return save_batch


def test_a_site_with_only_its_http_monitor_is_warned_of_its_certificate(site_a, save, raised):
    monitor = Monitor.objects.get(site=site_a)  # the default monitor, https://alpha.example/
    save(outcome(monitor, at(0), True, cert_days=40))
    assert not MonitorWarning.objects.exists()
    save(outcome(monitor, at(1), True, cert_days=9))
    warning = MonitorWarning.objects.get()
    assert (warning.kind, warning.opened_at, warning.cleared_at) == (
        WarningKind.CERT_EXPIRY,
        at(1),
        None,
    )
    assert warning.detail == (
        "the TLS certificate of alpha.example expires in 9 days (warning below 14 days)"
    )
    monitor.refresh_from_db()
    assert monitor.state == State.UP  # a warning, not an outage
    assert not Incident.objects.exists()
    assert raised == [("raised", warning.pk, warning.detail)]


def test_a_warning_is_raised_once_and_follows_the_days_left(site_a, save, raised):
    monitor = Monitor.objects.get(site=site_a)
    for minute, days in enumerate((9, 9, 9, 8)):
        save(outcome(monitor, at(minute), True, cert_days=days))
    warning = MonitorWarning.objects.get()
    assert "expires in 8 days" in warning.detail
    assert [event for event, *_ in raised] == ["raised"]


def test_a_renewed_certificate_clears_the_warning(site_a, save, raised):
    monitor = Monitor.objects.get(site=site_a)
    save(outcome(monitor, at(0), True, cert_days=3))
    save(outcome(monitor, at(1), False, cert_days=None))  # a failed check says nothing of it
    assert MonitorWarning.objects.get().cleared_at is None
    save(outcome(monitor, at(2), True, cert_days=89))
    warning = MonitorWarning.objects.get()
    assert warning.cleared_at == at(2)
    assert [event for event, *_ in raised] == ["raised", "cleared"]


def test_back_within_the_quiet_period_is_the_same_warning_without_another_alert(
    site_a, save, raised, settings
):
    # Two regions meeting two certificates (a CDN part way through a renewal).
    settings.CAREDESK_MONITOR_QUIET_SECONDS = 600
    monitor = Monitor.objects.get(site=site_a)
    save(outcome(monitor, at(0), True, cert_days=5, region="eu"))
    save(outcome(monitor, at(1), True, cert_days=80, region="us"))
    save(outcome(monitor, at(2), True, cert_days=5, region="eu"))
    warning = MonitorWarning.objects.get()
    assert (warning.cleared_at, warning.reopened) == (None, 1)
    assert [event for event, *_ in raised] == ["raised", "cleared"]
    save(outcome(monitor, at(3), True, cert_days=80, region="us"))
    save(outcome(monitor, at(30), True, cert_days=5, region="eu"))  # long after: alerted again
    assert MonitorWarning.objects.count() == 2
    assert [event for event, *_ in raised].count("raised") == 2


def test_tls_warning_days_are_per_monitor_and_zero_turns_them_off(site_a, save):
    monitor = Monitor.objects.create(
        site=site_a, kind=Kind.TLS, host="alpha.example", port=443, tls_min_days=30
    )
    save(outcome(monitor, at(0), True, cert_days=20))
    assert MonitorWarning.objects.get().detail.startswith("the TLS certificate of alpha.example")
    Monitor.objects.filter(pk=monitor.pk).update(tls_min_days=0)
    save(outcome(monitor, at(1), True, cert_days=1))
    assert MonitorWarning.objects.get().cleared_at == at(1)


def test_plain_http_and_other_kinds_have_no_certificate_warnings(site_a, save):
    tcp = Monitor.objects.create(site=site_a, kind=Kind.TCP, host="alpha.example", port=22)
    save(outcome(tcp, at(0), True, cert_days=2))
    assert not MonitorWarning.objects.exists()


def test_a_result_from_an_older_probe_that_failed_an_expiring_certificate_is_up(site_a, save):
    # Remote probes before warnings failed such checks; the server reads them as warnings.
    monitor = Monitor.objects.get(site=site_a)
    for minute in range(3):
        save(
            outcome(
                monitor,
                at(minute),
                False,
                error_kind="cert_expiry",
                error="the certificate expires in 5 day(s) (warning below 14)",
                status_code=200,
                cert_days=5,
            )
        )
    monitor.refresh_from_db()
    assert monitor.state == State.UP and not Incident.objects.exists()
    assert MonitorWarning.objects.get().kind == WarningKind.CERT_EXPIRY
    assert CheckResult.objects.filter(ok=True).count() == 3


def test_an_expiring_certificate_on_a_real_server_warns_and_pages_nobody(
    site_a, tls_servers, context, save
):
    now = clock.now()
    server = tls_servers("shop.test", not_before=now - 80 * DAY, not_after=now + 6 * DAY)
    server.route("/shop")
    monitor = Monitor.objects.create(
        site=site_a, kind=Kind.HTTP, url=f"https://shop.test:{server.port}/shop", allow_private=True
    )
    spec = MonitorSpec(id=monitor.pk, url=monitor.url, allow_private=True, timeout=5.0)
    for _ in range(3):
        result = run_async(run_check(spec, context))
        assert result.ok, result.error
        save(result)
    monitor.refresh_from_db()
    assert monitor.state == State.UP
    assert not Incident.objects.exists()
    warning = MonitorWarning.objects.get(monitor=monitor)
    assert f"shop.test:{server.port} expires in 5 days" in warning.detail
