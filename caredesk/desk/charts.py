"""A monitor's response times (hourly p50 and p95 from the rollups) as a server-drawn SVG chart.

Drawn here rather than in the browser: the page stays script-free, the chart
prints, and the same numbers give the text summary that screen readers get.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from django.conf import settings

from caredesk.monitoring.history import hours
from caredesk.monitoring.models import Monitor

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
HOUR = timedelta(hours=1)


@dataclass
class Series:
    name: str
    segments: list[str] = field(default_factory=list)  # SVG polyline points, split at gaps


@dataclass
class Chart:
    monitor: Monitor
    days: int
    start: datetime
    end: datetime
    hours_with_data: int
    p50: Series
    p95: Series
    y_max: int
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    median_p50: int | None
    worst: tuple[datetime, int] | None  # the slowest hour by p95
    daily: list[tuple[datetime, int | None, int | None]]  # day, median p50, max p95

    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    plot_w: int = PLOT_W
    plot_h: int = PLOT_H

    @property
    def hours(self) -> int:
        return self.days * 24

    @property
    def bottom(self) -> int:
        return TOP + PLOT_H

    @property
    def right(self) -> int:
        return LEFT + PLOT_W


def nice_ceiling(value: int) -> int:
    """The next round number at or above ``value`` (1, 2 or 5 times a power of ten)."""
    value = max(value, 10)
    power = 1
    while power * 10 <= value:
        power *= 10
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def response_chart(monitor: Monitor, days: int, now: datetime) -> Chart:
    end = now.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    # Hourly rows, or (past CAREDESK_MONITOR_HOURLY_DAYS) the hours packed in daily rows.
    rows = [
        (item.hour, item.p50_ms, item.p95_ms)
        for item in hours([monitor.pk], start, end, now=now)
        if item.p50_ms is not None
    ]
    y_max = nice_ceiling(max((p95 or p50 for _, p50, p95 in rows), default=0))
    span = (end - start).total_seconds()

    def x(hour: datetime) -> float:
        return LEFT + PLOT_W * (hour - start).total_seconds() / span

    def y(ms: int) -> float:
        return TOP + PLOT_H * (1 - ms / y_max)

    p50, p95 = Series("p50"), Series("p95")
    for series, index in ((p50, 1), (p95, 2)):
        points: list[str] = []
        previous = None
        for row in rows:
            value = row[index]
            if value is None:
                continue
            if previous is not None and row[0] - previous > HOUR and points:
                series.segments.append(" ".join(points))
                points = []
            points.append(f"{x(row[0] + HOUR / 2):.1f},{y(value):.1f}")
            previous = row[0]
        if points:
            series.segments.append(" ".join(points))

    zone = ZoneInfo(settings.TIME_ZONE)
    step = 1 if days <= 7 else 5
    x_ticks = []
    day = start.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    day += timedelta(days=1)
    count = 0
    while day < end:
        if count % step == 0:
            x_ticks.append((x(day), f"{day:%a} {day.day}" if days <= 7 else f"{day.day} {day:%b}"))
        day = (day + timedelta(days=1, hours=2)).replace(hour=0)  # DST-safe next midnight
        count += 1
    y_ticks = [(y(v), f"{v:,} ms") for v in (0, y_max // 2, y_max)]

    daily: dict = {}
    for hour, p50_ms, p95_ms in rows:
        key = hour.astimezone(zone).date()
        daily.setdefault(key, ([], []))
        daily[key][0].append(p50_ms)
        if p95_ms is not None:
            daily[key][1].append(p95_ms)
    worst_row = max((r for r in rows if r[2] is not None), key=lambda r: r[2], default=None)
    return Chart(
        monitor=monitor,
        days=days,
        start=start,
        end=end,
        hours_with_data=len(rows),
        p50=p50,
        p95=p95,
        y_max=y_max,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        median_p50=round(median(r[1] for r in rows)) if rows else None,
        worst=(worst_row[0], worst_row[2]) if worst_row else None,
        daily=[
            (key, round(median(p50s)), max(p95s) if p95s else None)
            for key, (p50s, p95s) in sorted(daily.items())
        ],
    )
