"""Monthly uptime by the accounting rule, hourly rollups, and retention of raw results."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from caredesk.monitoring import tasks
from caredesk.monitoring.models import CheckResult, HourlyRollup, Monitor
from caredesk.monitoring.store import DbStore
from caredesk.monitoring.uptime import (
    merged_seconds,
    monthly_uptime,
    prune_results,
    rollup_hours,
    rollup_recent,
)

from .helpers import outcome

pytestmark = pytest.mark.django_db

JUNE = datetime(2026, 5, 31, 23, tzinfo=UTC)  # 1 June, 00:00 in London (the agency's zone)
JULY = datetime(2026, 6, 30, 23, tzinfo=UTC)


def minute(day, hour, minute=0):
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC)


def test_merged_seconds_counts_overlaps_once_and_clips():
    spans = [
        (minute(1, 10), minute(1, 11)),
        (minute(1, 10, 30), minute(1, 11, 30)),
        (minute(1, 12), minute(1, 12, 10)),
    ]
    assert merged_seconds(spans, minute(1, 0), minute(2, 0)) == 100 * 60
    assert merged_seconds(spans, minute(1, 11), minute(1, 12, 5)) == 35 * 60


@pytest.fixture
def monitor(site_a):
    """The site's monitor, watching since May."""
    monitor = Monitor.objects.get(site=site_a)
    Monitor.objects.filter(pk=monitor.pk).update(created_at=datetime(2026, 5, 20, tzinfo=UTC))
    return monitor


def check_every_minute(monitor, start, end, down=()):
    """Results once a minute from ``start`` to ``end``; failed inside the ``down`` spans."""
    store = DbStore("test")
    batch, moment = [], start
    while moment < end:
        failed = any(s <= moment < e for s, e in down)
        batch.append(outcome(monitor, moment, not failed, total_ms=100 + moment.minute))
        moment += timedelta(minutes=1)
    for index in range(0, len(batch), 500):
        store.save_sync(batch[index : index + 500])


def test_a_known_outage_gives_the_expected_monthly_uptime(monitor, site_a):
    # Failing 14:00-14:30 on 10 June: checks at 14:00 ... 14:29 fail, 14:30 is good.
    check_every_minute(
        monitor, minute(10, 12), minute(10, 16), down=[(minute(10, 14), minute(10, 14, 30))]
    )
    june = monthly_uptime(site_a, 2026, 6, now=datetime(2026, 7, 2, tzinfo=UTC))
    assert june.down_seconds == 30 * 60  # first failed check to first good check
    assert june.watched_seconds == 30 * 86400
    assert (june.start, june.end) == (JUNE, JULY)
    assert june.incidents == 1
    assert june.percent == pytest.approx(100 * (1 - 1800 / (30 * 86400)))


def test_a_blip_that_was_never_confirmed_is_not_down_time(monitor, site_a):
    check_every_minute(
        monitor, minute(10, 12), minute(10, 13), down=[(minute(10, 12, 5), minute(10, 12, 6))]
    )
    june = monthly_uptime(site_a, 2026, 6, now=datetime(2026, 7, 2, tzinfo=UTC))
    assert june.down_seconds == 0 and june.percent == 100.0 and june.incidents == 0


def test_uptime_of_the_current_month_runs_to_now_and_counts_an_open_outage(monitor, site_a):
    check_every_minute(
        monitor, minute(10, 12), minute(10, 13), down=[(minute(10, 12, 30), minute(11, 0))]
    )
    now = minute(10, 13)
    june = monthly_uptime(site_a, 2026, 6, now=now)
    assert june.watched_seconds == (now - JUNE).total_seconds()
    assert june.down_seconds == 30 * 60


def test_a_site_monitored_from_mid_month_counts_from_its_monitor(site_a):
    monitor = Monitor.objects.get(site=site_a)
    Monitor.objects.filter(pk=monitor.pk).update(created_at=minute(16, 0))
    june = monthly_uptime(site_a, 2026, 6, now=datetime(2026, 7, 2, tzinfo=UTC))
    assert june.watched_seconds == (JULY - minute(16, 0)).total_seconds()
    may = monthly_uptime(site_a, 2026, 5, now=datetime(2026, 7, 2, tzinfo=UTC))
    assert may.percent is None


def test_months_follow_the_agency_time_zone(site_a, settings):
    settings.TIME_ZONE = "America/New_York"
    june = monthly_uptime(site_a, 2026, 6, now=datetime(2026, 7, 2, tzinfo=UTC))
    assert june.start == datetime(2026, 6, 1, 4, tzinfo=UTC)


def test_hourly_rollups_count_checks_down_time_and_response_percentiles(monitor):
    check_every_minute(
        monitor, minute(10, 13), minute(10, 16), down=[(minute(10, 14, 50), minute(10, 15, 20))]
    )
    assert rollup_hours(minute(10, 13), minute(10, 16), now=minute(10, 17)) == 3
    hours = {r.hour.hour: r for r in HourlyRollup.objects.all()}
    assert (hours[13].checks, hours[13].failures, hours[13].down_seconds) == (60, 0, 0)
    assert hours[13].up_seconds == 3600
    assert (hours[14].failures, hours[14].down_seconds, hours[14].up_seconds) == (10, 600, 3000)
    assert (hours[15].failures, hours[15].down_seconds) == (20, 1200)
    assert hours[13].p50_ms == 129 and hours[13].p95_ms == 156  # 100 + minute of the hour


def test_rolling_up_again_replaces_rather_than_adds(monitor):
    check_every_minute(monitor, minute(10, 13), minute(10, 14))
    rollup_hours(minute(10, 13), minute(10, 14))
    rollup_hours(minute(10, 13), minute(10, 14))
    assert HourlyRollup.objects.get().checks == 60


def test_rollup_recent_picks_up_where_it_left_off(monitor):
    check_every_minute(monitor, minute(10, 10), minute(10, 14))
    assert rollup_recent(now=minute(10, 12, 5)) == 2  # 10:00 and 11:00, not the hour under way
    assert rollup_recent(now=minute(10, 14, 5)) == 4  # redoes 10:00-11:00, adds 12:00, 13:00
    assert HourlyRollup.objects.count() == 4


def test_raw_results_older_than_the_retention_go_and_rolled_up_history_stays(monitor, settings):
    settings.CAREDESK_MONITOR_RAW_DAYS = 7
    check_every_minute(monitor, minute(1, 10), minute(1, 11))
    check_every_minute(monitor, minute(20, 10), minute(20, 11))
    now = minute(21, 0)
    assert prune_results(now=now) == 0  # nothing rolled up yet: nothing may go
    rollup_hours(minute(1, 10), minute(20, 11), now=now)
    assert prune_results(now=now) == 60
    assert CheckResult.objects.filter(checked_at__lt=minute(14, 0)).count() == 0
    assert CheckResult.objects.count() == 60
    assert HourlyRollup.objects.filter(hour=minute(1, 10)).get().checks == 60


def test_the_scheduler_jobs_roll_up_then_prune(monitor, settings):
    settings.CAREDESK_MONITOR_RAW_DAYS = 1
    check_every_minute(monitor, minute(10, 10), minute(10, 11))
    with time_machine.travel(minute(12, 0, 30), tick=False):
        assert tasks.roll_up_results.call() >= 1
        assert tasks.prune_raw_results.call() == 60
    assert HourlyRollup.objects.get(hour=minute(10, 10)).checks == 60
