"""Periodic jobs of monitoring, enqueued by the scheduler."""

from django_tasks import task

from caredesk.lib import clock

from . import heartbeats, history, uptime


@task()
def roll_up_results() -> int:
    """Roll finished hours' raw results up into hourly rows, and finished days into daily rows."""
    now = clock.now()
    return uptime.rollup_recent(now=now) + history.rollup_days_recent(now=now)


@task()
def prune_raw_results() -> int:
    """Delete raw results past CAREDESK_MONITOR_RAW_DAYS and hourly rows past
    CAREDESK_MONITOR_HOURLY_DAYS (their days are rolled up and keep their hours)."""
    return uptime.prune_results() + history.prune_hourly()


@task()
def check_heartbeats() -> int:
    """Warn of heartbeats that are late, and call down those past their grace."""
    return heartbeats.run()
