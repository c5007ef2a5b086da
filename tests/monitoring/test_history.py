"""History that stays small: days rolled up from hours, hours kept packed in them for ever."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from caredesk.monitoring import history, tasks
from caredesk.monitoring.history import Hour, hours, pack_hours, unpack_hours
from caredesk.monitoring.models import DailyRollup, HourlyRollup, Monitor
from caredesk.monitoring.uptime import rollup_hours

from .test_uptime import check_every_minute, minute

pytestmark = pytest.mark.django_db
DAY = date(2026, 6, 10)


@pytest.fixture
def monitor(site_a):
    return Monitor.objects.get(site=site_a)


def hour_rows(monitor, day: date, count: int = 24, first: int = 0, **fields) -> list:
    """Hourly rows of ``day`` from hour ``first``, ``count`` of them."""
    start = history.day_start(day)
    rows = [
        HourlyRollup(
            monitor=monitor,
            hour=start + timedelta(hours=n),
            checks=fields.get("checks", 60),
            failures=fields.get("failures", n % 3),
            up_seconds=3600 - (600 if n == 5 else 0),
            down_seconds=600 if n == 5 else 0,
            p50_ms=200 + n,
            p95_ms=None if n == 7 else 400 + 10 * n,
        )
        for n in range(first, first + count)
    ]
    return HourlyRollup.objects.bulk_create(rows)


def test_packed_hours_come_back_as_they_went_in():
    start = history.day_start(DAY)
    given = [
        Hour(3, start, 60, 0, 3600, 0, 120, 300),
        Hour(3, start + timedelta(hours=5), 61, 4, 3000, 600, 150, None),
        Hour(3, start + timedelta(hours=23), 0, 0, 0, 900, None, None),  # an outage, no checks
    ]
    blob = pack_hours(DAY, given)
    assert unpack_hours(3, DAY, blob) == given
    assert len(blob) < 24 * 12  # compressed below the plain 12 bytes an hour


def test_an_hour_of_another_day_is_refused():
    with pytest.raises(ValueError, match="is not on"):
        pack_hours(DAY, [Hour(1, history.day_start(DAY) + timedelta(days=1))])


def test_a_day_is_the_sum_of_its_hours_with_their_median_p50_and_worst_p95(monitor):
    hour_rows(monitor, DAY)
    assert history.rollup_days(DAY, DAY) == 1
    day = DailyRollup.objects.get()
    assert (day.checks, day.failures) == (24 * 60, sum(n % 3 for n in range(24)))
    assert (day.up_seconds, day.down_seconds) == (24 * 3600 - 600, 600)
    assert day.p50_ms == round((211 + 212) / 2)  # median of 200..223
    assert day.p95_ms == 400 + 10 * 23
    assert len(unpack_hours(monitor.pk, DAY, day.hours)) == 24


def test_rolling_a_day_up_again_replaces_it(monitor):
    hour_rows(monitor, DAY)
    history.rollup_days(DAY, DAY)
    history.rollup_days(DAY, DAY)
    assert DailyRollup.objects.count() == 1


def test_recent_days_are_rolled_up_once_finished_and_the_last_one_redone(monitor):
    hour_rows(monitor, DAY)
    hour_rows(monitor, DAY + timedelta(days=1), count=5)  # 11 June, under way
    assert history.rollup_days_recent() == 1
    assert list(DailyRollup.objects.values_list("day", flat=True)) == [DAY]
    hour_rows(monitor, DAY + timedelta(days=1), count=19, first=5)  # 11 June ends
    assert history.rollup_days_recent() == 1
    assert DailyRollup.objects.count() == 2
    assert history.rollup_days_recent() == 1  # the last day is redone while late results may come


def test_hourly_rows_go_after_their_retention_only_once_their_day_is_packed(monitor, settings):
    settings.CAREDESK_MONITOR_HOURLY_DAYS = 40
    hour_rows(monitor, DAY)
    now = history.day_start(DAY) + timedelta(days=60)
    assert history.prune_hourly(now=now) == 0  # no daily row yet: the hours stay
    history.rollup_days(DAY, DAY)
    assert history.prune_hourly(now=now) == 24
    assert HourlyRollup.objects.count() == 0
    assert DailyRollup.objects.count() == 1


def test_hours_are_read_from_hourly_rows_then_from_the_packed_days(monitor, settings):
    settings.CAREDESK_MONITOR_HOURLY_DAYS = 40
    hour_rows(monitor, DAY)
    start, end = history.day_start(DAY), history.day_start(DAY) + timedelta(days=1)
    recent = hours([monitor.pk], start, end, now=start + timedelta(days=2))
    history.rollup_days(DAY, DAY)
    later = start + timedelta(days=60)
    history.prune_hourly(now=later)
    packed = hours([monitor.pk], start, end, now=later)
    assert packed == recent
    assert len(packed) == 24 and packed[7].p95_ms is None and packed[5].down_seconds == 600
    assert (
        hours([monitor.pk], start + timedelta(hours=3), start + timedelta(hours=5), now=later)
        == (packed[3:5])
    )


def test_the_scheduler_jobs_keep_every_hour_while_the_hourly_rows_go(monitor, settings):
    settings.CAREDESK_MONITOR_RAW_DAYS = 1
    settings.CAREDESK_MONITOR_HOURLY_DAYS = 35
    check_every_minute(monitor, minute(10, 10), minute(10, 12))
    with time_machine.travel(minute(11, 0, 30), tick=False):
        tasks.roll_up_results.call()
    assert DailyRollup.objects.get().checks == 120
    with time_machine.travel(datetime(2026, 7, 20, tzinfo=UTC), tick=False):
        tasks.prune_raw_results.call()
        assert HourlyRollup.objects.count() == 0
        found = hours([monitor.pk], minute(10, 0), minute(11, 0))
    assert [(h.hour.hour, h.checks) for h in found] == [(10, 60), (11, 60)]


def test_the_rollup_leaves_out_checks_of_a_probe_that_had_lost_its_network(monitor):
    from caredesk.monitoring.store import DbStore

    from .helpers import outcome

    lost = outcome(monitor, minute(10, 13, 5), False, error_kind="connect", error="refused")
    lost.network_lost = True
    DbStore("test").save_sync([outcome(monitor, minute(10, 13, 1), True), lost])
    rollup_hours(minute(10, 13), minute(10, 14), now=minute(10, 15))
    row = HourlyRollup.objects.get()
    assert (row.checks, row.failures) == (1, 0)
