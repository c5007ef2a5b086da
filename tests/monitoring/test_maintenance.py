"""Maintenance windows: when they are (in the client's time zone), and uptime without them."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from caredesk.monitoring.models import (
    Kind,
    MaintenanceWindow,
    Monitor,
    Recurrence,
    covering_window,
    site_zone,
)
from caredesk.monitoring.store import DbStore
from caredesk.monitoring.uptime import intersect, monthly_uptime, subtract
from caredesk.plans.models import Plan, Subscription
from caredesk.sla.models import BusinessCalendar, SlaPolicy

from .helpers import outcome

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 7, 2, tzinfo=UTC)


def utc(day, hour, minute=0, month=6):
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def monitor(site_a):
    monitor = Monitor.objects.get(site=site_a)
    Monitor.objects.filter(pk=monitor.pk).update(created_at=datetime(2026, 5, 20, tzinfo=UTC))
    return monitor


@pytest.fixture
def new_york(org_a):
    """Alpha Bakery's plan counts on a New York calendar: its windows are in New York time."""
    calendar = BusinessCalendar.objects.create(
        name="NY office", spec={"timezone": "America/New_York", "hours": {}}
    )
    policy = SlaPolicy.objects.create(code="ny", name="NY", calendar=calendar)
    plan = Plan.objects.create(code="ny-care", name="NY Care", sla_policy=policy)
    Subscription.objects.create(organisation=org_a, plan=plan, start_date=date(2026, 1, 1))


def window(site, **fields) -> MaintenanceWindow:
    fields.setdefault("reason", "Plugin updates")
    fields.setdefault("start_time", time(2, 0))
    fields.setdefault("duration_minutes", 60)
    return MaintenanceWindow.objects.create(site=site, **fields)


def check_every_minute(monitor, start, end, down=()):
    store, batch, moment = DbStore("test"), [], start
    while moment < end:
        failed = any(s <= moment < e for s, e in down)
        batch.append(outcome(monitor, moment, not failed))
        moment += timedelta(minutes=1)
    for index in range(0, len(batch), 500):
        store.save_sync(batch[index : index + 500])


def test_a_one_off_window_is_in_the_agencys_zone_without_a_client_calendar(site_a):
    w = window(site_a, day=date(2026, 6, 10))
    london = site_zone(site_a)
    assert str(london) == "Europe/London"
    # 02:00 British Summer Time is 01:00 UTC.
    assert w.occurrences(utc(1, 0), utc(30, 0), london) == [(utc(10, 1), utc(10, 2))]


def test_windows_follow_the_clients_time_zone(site_a, new_york):
    w = window(site_a, day=date(2026, 6, 10))
    zone = site_zone(site_a)
    assert str(zone) == "America/New_York"
    assert w.occurrences(utc(1, 0), utc(30, 0), zone) == [(utc(10, 6), utc(10, 7))]


def test_a_weekly_window_keeps_its_local_time_across_the_change_of_clocks(site_a):
    w = window(site_a, recurrence=Recurrence.WEEKLY, weekdays=["sun"], start_time=time(1, 30))
    zone = site_zone(site_a)
    found = w.occurrences(utc(20, 0, month=10), utc(2, 0, month=11), zone)
    # Sunday 25 October 2026 the UK leaves summer time; 01:30 happens twice (the first counts).
    assert found == [
        (utc(25, 0, 30, month=10), utc(25, 1, 30, month=10)),
        (utc(1, 1, 30, month=11), utc(1, 2, 30, month=11)),
    ]


def test_a_weekly_window_over_midnight_covers_the_next_morning(site_a):
    w = window(
        site_a,
        recurrence=Recurrence.WEEKLY,
        weekdays=["sat"],
        start_time=time(23, 0),
        duration_minutes=180,
    )
    zone = site_zone(site_a)
    assert w.covers(utc(14, 0, 30), zone)  # Sunday 01:30 London
    assert not w.covers(utc(14, 1, 30), zone)  # Sunday 02:30 London
    assert not w.covers(utc(13, 12), zone)


def test_a_monitor_window_covers_that_monitor_only(site_a, monitor):
    tls = Monitor.objects.create(site=site_a, kind=Kind.TLS, host="alpha.example")
    w = window(site_a, monitor=tls, day=date(2026, 6, 10))
    assert covering_window(tls, utc(10, 1, 30)) == w
    assert covering_window(monitor, utc(10, 1, 30)) is None
    assert covering_window(tls, utc(10, 2, 0)) is None  # the end is not inside
    w.enabled = False
    w.save()
    assert covering_window(tls, utc(10, 1, 30)) is None


def test_window_settings_are_checked(site_a, site_b):
    with pytest.raises(ValidationError, match="needs a date"):
        MaintenanceWindow(
            site=site_a, reason="x", start_time=time(2), duration_minutes=5
        ).full_clean()
    with pytest.raises(ValidationError, match="days of the week"):
        MaintenanceWindow(
            site=site_a,
            reason="x",
            recurrence=Recurrence.WEEKLY,
            weekdays=["funday"],
            start_time=time(2),
            duration_minutes=5,
        ).full_clean()
    other = Monitor.objects.get(site=site_b)
    with pytest.raises(ValidationError, match="another site"):
        MaintenanceWindow(
            site=site_a,
            monitor=other,
            reason="x",
            day=date(2026, 6, 1),
            start_time=time(2),
            duration_minutes=5,
        ).full_clean()


def test_span_arithmetic():
    spans = [(utc(1, 10), utc(1, 12))]
    assert subtract(spans, [(utc(1, 11), utc(1, 11, 30))]) == [
        (utc(1, 10), utc(1, 11)),
        (utc(1, 11, 30), utc(1, 12)),
    ]
    assert subtract(spans, [(utc(1, 9), utc(1, 13))]) == []
    assert intersect(spans, [(utc(1, 11), utc(1, 14)), (utc(1, 9), utc(1, 10, 15))]) == [
        (utc(1, 10), utc(1, 10, 15)),
        (utc(1, 11), utc(1, 12)),
    ]


def test_downtime_inside_a_window_is_left_out_of_monthly_uptime(site_a, monitor):
    # Down 01:00-02:00 UTC on 10 June, during a window 02:00-03:00 London (01:00-02:00 UTC),
    # and down again 14:00-14:30 UTC outside any window.
    check_every_minute(
        monitor,
        utc(10, 0),
        utc(10, 16),
        down=[(utc(10, 1), utc(10, 2)), (utc(10, 14), utc(10, 14, 30))],
    )
    before = monthly_uptime(site_a, 2026, 6, now=NOW)
    assert before.down_seconds == 90 * 60
    window(site_a, day=date(2026, 6, 10))
    june = monthly_uptime(site_a, 2026, 6, now=NOW)
    assert june.down_seconds == 30 * 60
    assert june.maintenance_seconds == 3600
    assert june.watched_seconds == 30 * 86400 - 3600
    assert june.percent == pytest.approx(100 * (1 - 1800 / (30 * 86400 - 3600)))


def test_a_weekly_window_is_left_out_every_week(site_a, monitor):
    window(site_a, recurrence=Recurrence.WEEKLY, weekdays=["mon", "thu"], duration_minutes=30)
    june = monthly_uptime(site_a, 2026, 6, now=NOW)
    assert june.maintenance_seconds == 9 * 30 * 60  # June 2026: 5 Mondays, 4 Thursdays
    assert june.percent == 100.0


def test_another_monitors_window_does_not_take_the_site_out_of_watching(site_a, monitor):
    shop = Monitor.objects.create(site=site_a, kind=Kind.HTTP, url="https://alpha.example/shop")
    Monitor.objects.filter(pk=shop.pk).update(created_at=datetime(2026, 5, 20, tzinfo=UTC))
    window(site_a, monitor=shop, day=date(2026, 6, 10))
    check_every_minute(shop, utc(10, 0), utc(10, 3), down=[(utc(10, 1), utc(10, 2))])
    check_every_minute(monitor, utc(10, 0), utc(10, 3), down=[(utc(10, 1), utc(10, 1, 30))])
    june = monthly_uptime(site_a, 2026, 6, now=NOW)
    assert june.maintenance_seconds == 0  # the site's own monitor was watched throughout
    assert june.watched_seconds == 30 * 86400
    assert june.down_seconds == 30 * 60  # only the monitor outside its window
