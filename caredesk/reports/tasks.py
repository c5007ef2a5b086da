"""The monthly run for the scheduler: on the 1st, once last month's data is complete."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Max
from django_tasks import task

from caredesk.lib import clock
from caredesk.monitoring.models import HourlyRollup, Monitor
from caredesk.monitoring.uptime import month_bounds

from . import actions
from .models import Report, ReportState

SEND_WEEK = 7  # days into the month during which the run still picks up last month


def last_month(today: date) -> tuple[int, int]:
    return (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)


def data_complete(year: int, month: int) -> bool:
    """Whether the month's last hour has been rolled up (rollups run a few minutes past each hour).

    Uptime and incidents are read from outages, which are final when written;
    the response-time chart needs the rollups, so the run waits for them.
    """
    _, end = month_bounds(year, month)
    if not Monitor.objects.filter(enabled=True, created_at__lt=end).exists():
        return True  # nothing was being checked: no rollups to wait for
    last = HourlyRollup.objects.aggregate(last=Max("hour"))["last"]
    return last is not None and last >= end - timedelta(hours=1)


def step(now: datetime | None = None) -> dict[str, int] | None:
    """Build the missing reports of last month and send what is due; None when not yet time.

    Runs hourly in the first days of the month: the first run after the data
    is complete builds and sends; later runs send only what was released or
    gained a recipient since, and build reports of clients added meanwhile.
    """
    now = now or clock.now()
    today = now.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    if today.day > SEND_WEEK:
        return None
    year, month = last_month(today)
    if not data_complete(year, month):
        return None
    wanted = actions.organisations_for_month()
    _, end = month_bounds(year, month)
    reports = Report.objects.filter(month=date(year, month, 1))
    have = set(reports.values_list("organisation_id", flat=True))
    # A draft built before the month was over (a preview) is built again from complete data.
    early = set(
        reports.filter(state=ReportState.DRAFT, built_at__lt=end).values_list(
            "organisation_id", flat=True
        )
    )
    missing = [pk for pk in wanted if pk not in have or pk in early]
    if missing:
        actions.do_build_reports(year, month, organisations=missing)
    return actions.send_month(year, month)


@task()
def send_monthly_reports() -> int:
    """Scheduler job: returns the number of reports sent."""
    counts = step()
    return counts["sent"] if counts else 0
