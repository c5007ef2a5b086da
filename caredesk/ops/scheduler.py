"""One scheduler enqueues the periodic jobs; a database lease keeps it to one.

Any number of scheduler processes may start (a standby on a second machine,
a restart overlapping the old process): only the lease holder enqueues. Each
job's next run is a column, and moving it forward is a conditional update, so
even two holders racing across an expired lease never enqueue a run twice.
"""

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django_tasks.base import Task

from caredesk.alerts import tasks as alert_tasks
from caredesk.billing import tasks as billing_tasks
from caredesk.lib import clock
from caredesk.mail import tasks as mail_tasks
from caredesk.maintenance import tasks as maintenance_tasks
from caredesk.monitoring import tasks as monitoring_tasks
from caredesk.reports import tasks as report_tasks
from caredesk.tickets import tasks as ticket_tasks

from . import tasks
from .models import PeriodicJob, SchedulerLease

logger = logging.getLogger(__name__)
LEASE_NAME = "scheduler"


@dataclass(frozen=True)
class Periodic:
    name: str
    cron: str  # five fields, in the agency's time zone (settings.TIME_ZONE)
    task: Task


SCHEDULE: list[Periodic] = [
    Periodic("sla-sweep", "* * * * *", ticket_tasks.sweep_sla_clocks),
    # A safety net: new mail is sent at once on commit; this retries what failed.
    Periodic("mail-outbox", "* * * * *", mail_tasks.send_outbox),
    Periodic("mail-poll", "* * * * *", mail_tasks.poll_imap),
    Periodic("billing-warnings", "*/5 * * * *", billing_tasks.send_billing_warnings),
    Periodic("billing-ledger", "10 0 * * *", billing_tasks.roll_ledgers),
    Periodic("monitor-rollups", "7 * * * *", monitoring_tasks.roll_up_results),
    Periodic("monitor-prune", "23 4 * * *", monitoring_tasks.prune_raw_results),
    # Heartbeats are pushed: nothing probes them, this notices when their pings stop.
    Periodic("monitor-heartbeats", "* * * * *", monitoring_tasks.check_heartbeats),
    # Alerts go out seconds after confirmation by their own job; this catches retries
    # and holds for a parent's outage.
    Periodic("alert-delivery", "* * * * *", alert_tasks.deliver_alerts),
    Periodic("maintenance-inventories", "*/10 * * * *", maintenance_tasks.take_due_inventories),
    Periodic("maintenance-scans", "*/15 * * * *", maintenance_tasks.run_due_scans),
    Periodic("maintenance-backups", "*/10 * * * *", maintenance_tasks.take_due_backups),
    Periodic("maintenance-auto-updates", "*/10 * * * *", maintenance_tasks.apply_auto_updates),
    Periodic("maintenance-stale-runs", "*/10 * * * *", maintenance_tasks.reclaim_stale_update_runs),
    # restic's check of the whole repository takes its exclusive lock: weekly, at night.
    Periodic("backup-repository-check", "40 2 * * 0", maintenance_tasks.check_backup_repository),
    # Hourly in the first week of a month: builds and sends once last month is complete.
    Periodic("monthly-reports", "20 * * * *", report_tasks.send_monthly_reports),
    Periodic("purge-expired-sessions", "17 3 * * *", tasks.purge_expired_sessions),
    Periodic("prune-task-results", "41 3 * * *", tasks.prune_task_results),
]


def next_run(cron: str, after: datetime) -> datetime:
    """The first instant strictly after ``after`` that matches ``cron`` in local time."""
    zone = ZoneInfo(settings.TIME_ZONE)
    # Iterate on naive wall-clock time: croniter on aware times matches the
    # repeated hour twice on the night the clocks go back.
    local = after.astimezone(zone).replace(tzinfo=None)
    candidates = croniter(cron, local)
    while True:
        wall = candidates.get_next(datetime)
        moment = wall.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))
        if moment > after:
            return moment


def new_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def hold_lease(holder: str, seconds: int) -> bool:
    """Take or renew the lease; False while another live holder has it."""
    now = clock.now()
    expires = now + timedelta(seconds=seconds)
    taken = (
        SchedulerLease.objects.filter(name=LEASE_NAME)
        .filter(Q(holder=holder) | Q(expires_at__lt=now))
        .update(holder=holder, expires_at=expires)
    )
    if taken:
        return True
    try:
        with transaction.atomic():
            SchedulerLease.objects.create(
                name=LEASE_NAME, holder=holder, acquired_at=now, expires_at=expires
            )
    except IntegrityError:
        return False
    return True


def release_lease(holder: str) -> None:
    SchedulerLease.objects.filter(name=LEASE_NAME, holder=holder).delete()


def current_lease() -> SchedulerLease | None:
    return SchedulerLease.objects.filter(name=LEASE_NAME).first()


def _ensure_rows(schedule: list[Periodic]) -> None:
    now = clock.now()
    for job in schedule:
        row, created = PeriodicJob.objects.get_or_create(
            name=job.name, defaults={"cron": job.cron, "next_run_at": next_run(job.cron, now)}
        )
        if not created and row.cron != job.cron:
            # The schedule changed in code: the old next run means nothing now.
            PeriodicJob.objects.filter(pk=row.pk).update(
                cron=job.cron, next_run_at=next_run(job.cron, now)
            )


def enqueue_due(schedule: list[Periodic]) -> list[str]:
    """Enqueue every job whose time has come; returns the names enqueued."""
    _ensure_rows(schedule)
    now = clock.now()
    by_name = {job.name: job for job in schedule}
    enqueued = []
    for row in PeriodicJob.objects.filter(name__in=by_name, next_run_at__lte=now):
        job = by_name[row.name]
        with transaction.atomic():
            # After downtime a job runs once, not once per missed slot.
            claimed = PeriodicJob.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
                next_run_at=next_run(job.cron, now), last_enqueued_at=now
            )
            if claimed != 1:
                continue
            result = job.task.enqueue()
            PeriodicJob.objects.filter(pk=row.pk).update(last_result_id=str(result.id))
        enqueued.append(job.name)
        logger.info("enqueued %s (%s)", job.name, result.id)
    return enqueued


def seconds_until_next(schedule: list[Periodic]) -> float:
    first = (
        PeriodicJob.objects.filter(name__in=[job.name for job in schedule])
        .order_by("next_run_at")
        .values_list("next_run_at", flat=True)
        .first()
    )
    if first is None:
        return 60.0
    return max(0.0, (first - clock.now()).total_seconds())


class Scheduler:
    """The loop's state; :meth:`step` does one round and says how long to sleep."""

    def __init__(self, schedule: list[Periodic] | None = None, holder: str | None = None) -> None:
        self.schedule = SCHEDULE if schedule is None else schedule
        self.holder = holder or new_holder_id()
        self.lease_seconds = settings.CAREDESK_SCHEDULER_LEASE_SECONDS
        self.is_leader = False

    def step(self) -> float:
        held = hold_lease(self.holder, self.lease_seconds)
        if held != self.is_leader:
            self.is_leader = held
            if held:
                logger.info("scheduler %s holds the lease and runs the schedule", self.holder)
            else:
                lease = current_lease()
                logger.warning("standing by: another scheduler runs (%s)", lease)
        if not held:
            return self.lease_seconds / 3
        enqueue_due(self.schedule)
        return min(seconds_until_next(self.schedule), self.lease_seconds / 3)

    def stop(self) -> None:
        if self.is_leader:
            release_lease(self.holder)
            self.is_leader = False
