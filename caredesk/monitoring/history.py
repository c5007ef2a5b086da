"""History that stays small: hourly rows for a while, a row per monitor per day for ever.

Raw results are rolled up into one :class:`HourlyRollup` per monitor and hour
(:func:`caredesk.monitoring.uptime.rollup_hours`). Each finished UTC day is
then rolled up again into one :class:`DailyRollup` per monitor: the day's
figures, and its 24 hours packed into a small binary column. Once a day is in
a daily row, its hourly rows may go (after CAREDESK_MONITOR_HOURLY_DAYS): the
hours are still there, at about a tenth of the space, and :func:`hours` reads
them back from whichever table holds them.

A packed day is version byte 1 followed by zlib-compressed little-endian
unsigned 16-bit numbers, column by column: 24 check counts, 24 failure
counts, 24 up seconds, 24 down seconds, 24 p50s and 24 p95s (ms; 65535 for
none). Neighbouring hours are alike, so a column of them compresses well.
"""

from __future__ import annotations

import struct
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import median

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min

from caredesk.lib import clock

from .models import DailyRollup, HourlyRollup, Monitor

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
CHUNK = 500  # monitors per query
VERSION = 1
NONE = 0xFFFF
CAP = NONE - 1  # counts above this (never at 30 s intervals) are stored as this
_LAYOUT = struct.Struct("<144H")
FIELDS = ("checks", "failures", "up_seconds", "down_seconds", "p50_ms", "p95_ms")


@dataclass(frozen=True, slots=True)
class Hour:
    """One monitor's hour, read from an hourly row or from its day's packed hours."""

    monitor_id: int
    hour: datetime
    checks: int = 0
    failures: int = 0
    up_seconds: int = 0
    down_seconds: int = 0
    p50_ms: int | None = None
    p95_ms: int | None = None

    @property
    def empty(self) -> bool:
        return not (self.checks or self.up_seconds or self.down_seconds)


def hourly_days() -> int:
    return int(getattr(settings, "CAREDESK_MONITOR_HOURLY_DAYS", 62))


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


# -- packing ------------------------------------------------------------------------------------


def pack_hours(day: date, hours: Iterable[Hour]) -> bytes:
    """The hours of one monitor's UTC ``day`` as the bytes a DailyRollup keeps."""
    columns = [[0] * 24 for _ in FIELDS]
    columns[4] = [NONE] * 24
    columns[5] = [NONE] * 24
    start = day_start(day)
    for item in hours:
        index = int((item.hour - start) / HOUR)
        if not 0 <= index < 24:
            raise ValueError(f"{item.hour} is not on {day}")
        for column, name in enumerate(FIELDS):
            value = getattr(item, name)
            columns[column][index] = NONE if value is None else min(max(int(value), 0), CAP)
    flat = [value for column in columns for value in column]
    return bytes([VERSION]) + zlib.compress(_LAYOUT.pack(*flat), 9)


def unpack_hours(monitor_id: int, day: date, blob: bytes | memoryview) -> list[Hour]:
    """The hours with data of a DailyRollup's ``hours`` (an hour without data is left out)."""
    data = bytes(blob)
    if not data:
        return []
    if data[0] != VERSION:
        raise ValueError(f"packed hours of version {data[0]}, expected {VERSION}")
    flat = _LAYOUT.unpack(zlib.decompress(data[1:]))
    start = day_start(day)
    found = []
    for index in range(24):
        values = [flat[column * 24 + index] for column in range(len(FIELDS))]
        item = Hour(
            monitor_id,
            start + index * HOUR,
            *values[:4],
            None if values[4] == NONE else values[4],
            None if values[5] == NONE else values[5],
        )
        if not item.empty or item.p50_ms is not None:
            found.append(item)
    return found


# -- reading ------------------------------------------------------------------------------------


def hourly_kept_from(now: datetime | None = None) -> datetime:
    """Hourly rows are certain to be there from here on (older ones may have been pruned)."""
    moment = (now or clock.now()) - timedelta(days=hourly_days())
    return day_start(moment.astimezone(UTC).date())


def _from_row(row: tuple) -> Hour:
    return Hour(*row)


def hours(
    monitor_ids: Sequence[int], start: datetime, end: datetime, *, now: datetime | None = None
) -> list[Hour]:
    """The monitors' hours in [start, end), oldest first, wherever they are kept.

    Hourly rows win; days older than the hourly rows' retention are read from
    their daily rows' packed hours for the hours no hourly row holds.
    """
    ids = list(monitor_ids)
    if not ids or start >= end:
        return []
    found: dict[tuple[int, datetime], Hour] = {}
    rows = HourlyRollup.objects.filter(monitor_id__in=ids, hour__gte=start, hour__lt=end)
    for row in rows.values_list("monitor_id", "hour", *FIELDS):
        found[(row[0], row[1])] = _from_row(row)
    kept_from = hourly_kept_from(now)
    if start < kept_from:
        first = start.astimezone(UTC).date()
        last = (min(end, kept_from) - timedelta(microseconds=1)).astimezone(UTC).date()
        days = DailyRollup.objects.filter(monitor_id__in=ids, day__gte=first, day__lte=last)
        for monitor_id, day, blob in days.values_list("monitor_id", "day", "hours"):
            for item in unpack_hours(monitor_id, day, blob):
                if start <= item.hour < end:
                    found.setdefault((monitor_id, item.hour), item)
    return sorted(found.values(), key=lambda item: (item.hour, item.monitor_id))


# -- rolling days up ----------------------------------------------------------------------------


def summarise(monitor_id: int, day: date, day_hours: list[Hour]) -> DailyRollup:
    """A day's row from its hours: sums, the median hourly p50, the worst hourly p95."""
    p50s = [item.p50_ms for item in day_hours if item.p50_ms is not None]
    p95s = [item.p95_ms for item in day_hours if item.p95_ms is not None]
    return DailyRollup(
        monitor_id=monitor_id,
        day=day,
        checks=sum(item.checks for item in day_hours),
        failures=sum(item.failures for item in day_hours),
        up_seconds=sum(item.up_seconds for item in day_hours),
        down_seconds=sum(item.down_seconds for item in day_hours),
        p50_ms=round(median(p50s)) if p50s else None,
        p95_ms=max(p95s) if p95s else None,
        hours=pack_hours(day, day_hours),
    )


def rollup_days(first: date, last: date) -> int:
    """(Re)compute every monitor's daily rows for the UTC days first..last, from hourly rows."""
    monitor_ids = list(Monitor.objects.order_by("pk").values_list("pk", flat=True))
    written = 0
    day = first
    while day <= last:
        for index in range(0, len(monitor_ids), CHUNK):
            written += _rollup_day(monitor_ids[index : index + CHUNK], day)
        day += DAY
    return written


@transaction.atomic
def _rollup_day(monitor_ids: list[int], day: date) -> int:
    start = day_start(day)
    rows = HourlyRollup.objects.filter(
        monitor_id__in=monitor_ids, hour__gte=start, hour__lt=start + DAY
    ).values_list("monitor_id", "hour", *FIELDS)
    by_monitor: dict[int, list[Hour]] = defaultdict(list)
    for row in rows.iterator(chunk_size=5000):
        by_monitor[row[0]].append(_from_row(row))
    if not by_monitor:
        return 0  # hourly rows already pruned (or never written): keep the daily rows as they are
    days = [summarise(monitor_id, day, found) for monitor_id, found in sorted(by_monitor.items())]
    DailyRollup.objects.filter(monitor_id__in=list(by_monitor), day=day).delete()
    DailyRollup.objects.bulk_create(days)
    return len(days)


def rollup_days_recent(*, now: datetime | None = None, limit: int = 7) -> int:
    """Roll up the UTC days finished since the last run (run it after the hourly rollup).

    A day is finished once the hourly job has rolled up its last hour. In the
    first hours of a day, yesterday is redone: the hourly job redoes its last
    hours too (late results, outages that ended later). At most ``limit`` days
    a run, oldest first, so a first run over a long hourly history catches up
    over a few runs.
    """
    last_hour = HourlyRollup.objects.aggregate(last=Max("hour"))["last"]
    if last_hour is None:
        return 0
    through = (now or clock.now()).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if last_hour < through - 48 * HOUR:
        through = last_hour + HOUR  # the hourly job is catching up: only as far as it got
    end = through.date()  # the first day not finished
    last_day = DailyRollup.objects.aggregate(last=Max("day"))["last"]
    if last_day is None:
        earliest = HourlyRollup.objects.aggregate(first=Min("hour"))["first"]
        start = earliest.astimezone(UTC).date()
    else:
        start = last_day + DAY
        if through - day_start(end) < 3 * HOUR:
            start = min(start, end - DAY)
    stop = min(end, start + limit * DAY)
    if start >= stop:
        return 0
    return rollup_days(start, stop - DAY)


# -- retention ----------------------------------------------------------------------------------


def prune_hourly(*, days: int | None = None, now: datetime | None = None) -> int:
    """Delete hourly rows older than ``days`` (CAREDESK_MONITOR_HOURLY_DAYS); returns how many.

    Never a day that has no daily rows yet: the hours must be packed first.
    """
    cutoff = (now or clock.now()) - timedelta(days=days or hourly_days())
    cutoff = day_start(cutoff.astimezone(UTC).date())
    last_day = DailyRollup.objects.aggregate(last=Max("day"))["last"]
    if last_day is None:
        return 0
    cutoff = min(cutoff, day_start(last_day + DAY))
    monitor_ids = list(Monitor.objects.order_by("pk").values_list("pk", flat=True))
    deleted = 0
    for index in range(0, len(monitor_ids), CHUNK):
        chunk = monitor_ids[index : index + CHUNK]
        count, _ = HourlyRollup.objects.filter(monitor_id__in=chunk, hour__lt=cutoff).delete()
        deleted += count
    return deleted
