"""Uptime: hourly rollups of raw results, monthly uptime per site, retention of raw results.

The accounting rule (docs/monitoring.md): a monitor is down from the first
failed check of a confirmed incident to the first good check of its recovery
(one :class:`~caredesk.monitoring.models.Outage` row each time). Blips that
were never confirmed are not down time. A site is down while any of its HTTP
monitors is. Time inside a maintenance window is left out: out of the down
time of the monitors it covers, and out of the watched time while it covers
all of the site's HTTP monitors.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q

from caredesk.clients.models import Site
from caredesk.lib import clock

from .engine.errors import PROBE_NETWORK
from .engine.stats import percentile
from .models import (
    CheckResult,
    HourlyRollup,
    Incident,
    Kind,
    MaintenanceWindow,
    Monitor,
    Outage,
    site_zone,
)

HOUR = timedelta(hours=1)
CHUNK = 500  # monitors per query: every query walks the (monitor, checked_at) index

Span = tuple[datetime, datetime]


def raw_days() -> int:
    return int(getattr(settings, "CAREDESK_MONITOR_RAW_DAYS", 30))


def hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def merged_seconds(spans: Iterable[Span], start: datetime, end: datetime) -> float:
    """Seconds of [start, end) covered by ``spans`` (overlaps counted once)."""
    clipped = sorted((max(s, start), min(e, end)) for s, e in spans if s < end and e > start)
    total = 0.0
    cover_start: datetime | None = None
    cover_end: datetime | None = None
    for span_start, span_end in clipped:
        if cover_end is None or span_start > cover_end:
            if cover_start is not None and cover_end is not None:
                total += (cover_end - cover_start).total_seconds()
            cover_start, cover_end = span_start, span_end
        else:
            cover_end = max(cover_end, span_end)
    if cover_start is not None and cover_end is not None:
        total += (cover_end - cover_start).total_seconds()
    return total


def merge(spans: Iterable[Span]) -> list[Span]:
    """The same time as ``spans``, as sorted spans that neither overlap nor touch."""
    merged: list[Span] = []
    for span_start, span_end in sorted(spans):
        if merged and span_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], span_end))
        else:
            merged.append((span_start, span_end))
    return merged


def subtract(spans: Iterable[Span], holes: Iterable[Span]) -> list[Span]:
    """``spans`` less the time covered by ``holes``."""
    holes = merge(holes)
    left: list[Span] = []
    for span_start, span_end in merge(spans):
        cursor = span_start
        for hole_start, hole_end in holes:
            if hole_end <= cursor or hole_start >= span_end:
                continue
            if hole_start > cursor:
                left.append((cursor, hole_start))
            cursor = max(cursor, hole_end)
        if cursor < span_end:
            left.append((cursor, span_end))
    return left


def intersect(first: Iterable[Span], second: Iterable[Span]) -> list[Span]:
    """The time covered by both ``first`` and ``second``."""
    result: list[Span] = []
    for a_start, a_end in merge(first):
        for b_start, b_end in merge(second):
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                result.append((start, end))
    return merge(result)


def maintenance_spans(site: Site, monitor_ids: Sequence[int], start: datetime, end: datetime):
    """Each monitor's maintenance time overlapping [start, end): its site's windows and its own."""
    windows = list(MaintenanceWindow.objects.filter(site=site, enabled=True))
    spans: dict[int, list[Span]] = {monitor_id: [] for monitor_id in monitor_ids}
    if not windows:
        return spans
    zone = site_zone(site)
    for window in windows:
        found = window.occurrences(start, end, zone)
        for monitor_id in monitor_ids:
            if window.monitor_id in (None, monitor_id):
                spans[monitor_id].extend(found)
    return {monitor_id: merge(found) for monitor_id, found in spans.items()}


def outage_spans(monitor_ids: Sequence[int], start: datetime, end: datetime, now: datetime):
    """Each monitor's down spans overlapping [start, end); an open outage runs to ``now``."""
    spans: dict[int, list[Span]] = defaultdict(list)
    rows = Outage.objects.filter(monitor_id__in=monitor_ids, started_at__lt=end).filter(
        Q(ended_at=None) | Q(ended_at__gt=start)
    )
    for monitor_id, started, ended in rows.values_list("monitor_id", "started_at", "ended_at"):
        spans[monitor_id].append((started, ended or now))
    return spans


# -- hourly rollups -------------------------------------------------------------------------


def rollup_hours(start: datetime, end: datetime, *, now: datetime | None = None) -> int:
    """(Re)compute the rollups of every monitor for each whole hour in [start, end)."""
    now = now or clock.now()
    start, end = hour_floor(start), hour_floor(end)
    monitor_ids = list(Monitor.objects.order_by("pk").values_list("pk", flat=True))
    written = 0
    hour = start
    while hour < end:
        for index in range(0, len(monitor_ids), CHUNK):
            written += _rollup_hour(monitor_ids[index : index + CHUNK], hour, now)
        hour += HOUR
    return written


@transaction.atomic
def _rollup_hour(monitor_ids: list[int], hour: datetime, now: datetime) -> int:
    end = hour + HOUR
    # Checks made while their probe had lost its network say nothing about the site.
    results = (
        CheckResult.objects.filter(
            monitor_id__in=monitor_ids, checked_at__gte=hour, checked_at__lt=end
        )
        .exclude(error_kind=PROBE_NETWORK)
        .values_list("monitor_id", "ok", "total_ms")
    )
    checks: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    times: dict[int, list[int]] = defaultdict(list)
    for monitor_id, ok, total_ms in results.iterator(chunk_size=5000):
        counts = checks[monitor_id]
        counts[0] += 1
        if not ok:
            counts[1] += 1
        elif total_ms is not None:
            times[monitor_id].append(total_ms)
    spans = outage_spans(monitor_ids, hour, end, now)
    rows = []
    for monitor_id in sorted(set(checks) | set(spans)):
        count, failures = checks.get(monitor_id, (0, 0))
        down = round(merged_seconds(spans.get(monitor_id, ()), hour, end))
        # An hour with a check in it counts whole; an hour without one is only
        # what an outage says about it.
        watched = 3600 if count else down
        response = times.get(monitor_id, [])
        rows.append(
            HourlyRollup(
                monitor_id=monitor_id,
                hour=hour,
                checks=count,
                failures=failures,
                up_seconds=max(0, watched - down),
                down_seconds=down,
                p50_ms=percentile(response, 0.50) if response else None,
                p95_ms=percentile(response, 0.95) if response else None,
            )
        )
    HourlyRollup.objects.filter(monitor_id__in=monitor_ids, hour=hour).delete()
    HourlyRollup.objects.bulk_create(rows)
    return len(rows)


def rollup_recent(*, now: datetime | None = None, redo: int = 2, limit: int = 48) -> int:
    """Roll up the hours finished since the last run, redoing the last ``redo`` hours.

    Redoing catches results that arrived late (a probe's buffered batch) and
    outages that ended after their hour was first rolled up. At most ``limit``
    hours are done per run, so a first run on a big history stays short.
    """
    now = now or clock.now()
    end = hour_floor(now)
    last = HourlyRollup.objects.aggregate(last=Max("hour"))["last"]
    start = end - limit * HOUR if last is None else last + HOUR - redo * HOUR
    return rollup_hours(max(start, end - limit * HOUR), end, now=now)


# -- monthly uptime -------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthlyUptime:
    start: datetime
    end: datetime
    watched_seconds: float  # the part of the month the site had a monitor (up to now)
    down_seconds: float
    incidents: int  # confirmed incidents that overlap the month
    maintenance_seconds: float = 0.0  # left out of the watched time (every monitor in a window)

    @property
    def percent(self) -> float | None:
        if self.watched_seconds <= 0:
            return None
        return 100.0 * (1 - self.down_seconds / self.watched_seconds)


def month_bounds(year: int, month: int) -> Span:
    """The calendar month in the agency's time zone, as UTC instants."""
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime(year, month, 1, tzinfo=zone)
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), following.astimezone(UTC)


def monthly_uptime(site: Site, year: int, month: int, *, now: datetime | None = None):
    """Uptime of ``site`` in a calendar month by the accounting rule (see the module doc)."""
    start, end = month_bounds(year, month)
    return uptime_between(site, start, end, now=now)


def uptime_between(site: Site, start: datetime, end: datetime, *, now: datetime | None = None):
    """Uptime of ``site`` over [start, end) (any span: a month, the last 30 days)."""
    now = now or clock.now()
    monitors = list(site.monitors.filter(kind=Kind.HTTP).values_list("pk", "created_at"))
    if not monitors:
        return MonthlyUptime(start, end, 0.0, 0.0, 0)
    ids = [pk for pk, _ in monitors]
    watched_from = max(start, min(created for _, created in monitors))
    watched_to = min(end, now)
    maintenance = maintenance_spans(site, ids, start, end)
    # Left out of the watched time only while every HTTP monitor is in maintenance;
    # a monitor's own window takes only its own down time out.
    common = [(start, end)]
    for monitor_id in ids:
        common = intersect(common, maintenance[monitor_id])
    excluded = merged_seconds(common, watched_from, watched_to)
    watched = max(0.0, (watched_to - watched_from).total_seconds() - excluded)
    outages = outage_spans(ids, start, end, now)
    spans = [
        span
        for monitor_id, found in outages.items()
        for span in subtract(found, maintenance.get(monitor_id, ()))
    ]
    down = merged_seconds(spans, watched_from, watched_to)
    incidents = (
        Incident.objects.filter(monitor_id__in=ids, started_at__lt=end)
        .filter(Q(resolved_at=None) | Q(resolved_at__gt=start))
        .count()
    )
    return MonthlyUptime(start, end, watched, down, incidents, excluded)


# -- retention ------------------------------------------------------------------------------


def prune_results(*, days: int | None = None, now: datetime | None = None) -> int:
    """Delete raw results older than ``days`` (CAREDESK_MONITOR_RAW_DAYS); returns how many.

    Never past the last rolled-up hour: if rollups stopped, raw results are
    all the history there is, and they stay until the rollups catch up.
    """
    cutoff = (now or clock.now()) - timedelta(days=days or raw_days())
    last = HourlyRollup.objects.aggregate(last=Max("hour"))["last"]
    if last is None:
        return 0
    cutoff = min(cutoff, last + HOUR)
    monitor_ids = list(Monitor.objects.order_by("pk").values_list("pk", flat=True))
    deleted = 0
    for index in range(0, len(monitor_ids), CHUNK):
        chunk = monitor_ids[index : index + CHUNK]
        count, _ = CheckResult.objects.filter(monitor_id__in=chunk, checked_at__lt=cutoff).delete()
        deleted += count
    return deleted
