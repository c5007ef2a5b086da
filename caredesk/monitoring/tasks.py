"""Periodic jobs of monitoring, enqueued by the scheduler."""

from django_tasks import task

from . import uptime


@task()
def roll_up_results() -> int:
    """Roll the finished hours' raw results up into hourly rows."""
    return uptime.rollup_recent()


@task()
def prune_raw_results() -> int:
    """Delete raw results past CAREDESK_MONITOR_RAW_DAYS (their hours are rolled up)."""
    return uptime.prune_results()
