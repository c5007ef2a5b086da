"""The scheduler: one lease holder, each due run enqueued once, cron on the agency's clock."""

import signal
import types
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django_tasks_db.models import DBTaskResult

from caredesk.lib import clock
from caredesk.ops import scheduler as scheduler_module
from caredesk.ops import tasks
from caredesk.ops.models import PeriodicJob, SchedulerLease
from caredesk.ops.scheduler import (
    SCHEDULE,
    Periodic,
    Scheduler,
    current_lease,
    enqueue_due,
    next_run,
)

pytestmark = pytest.mark.django_db

NAME = "purge-expired-sessions"
ONE_JOB = [Periodic(NAME, "17 3 * * *", tasks.purge_expired_sessions)]
# A winter Saturday: 03:17 in London is 03:17 UTC.
BEFORE = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
DUE = datetime(2026, 1, 11, 3, 17, tzinfo=UTC)


@pytest.fixture
def restore_signals():
    """Commands under test install SIGINT/SIGTERM handlers; give pytest its own back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture
def traveller():
    with time_machine.travel(BEFORE, tick=False) as traveller:
        yield traveller


def job_row() -> PeriodicJob:
    return PeriodicJob.objects.get(name=NAME)


# --- the lease ------------------------------------------------------------------------


def test_first_scheduler_holds_the_lease_and_second_stands_by(traveller):
    first = Scheduler(ONE_JOB, holder="first")
    second = Scheduler(ONE_JOB, holder="second")
    first.step()
    pause = second.step()
    assert first.is_leader
    assert not second.is_leader
    assert current_lease().holder == "first"
    assert pause == settings.CAREDESK_SCHEDULER_LEASE_SECONDS / 3


def test_holder_renews_its_lease_each_step(traveller):
    first = Scheduler(ONE_JOB, holder="first")
    first.step()
    traveller.shift(timedelta(seconds=settings.CAREDESK_SCHEDULER_LEASE_SECONDS - 1))
    first.step()
    assert current_lease().expires_at == clock.now() + timedelta(
        seconds=settings.CAREDESK_SCHEDULER_LEASE_SECONDS
    )


def test_standby_takes_over_once_the_lease_expires(traveller):
    first = Scheduler(ONE_JOB, holder="first")
    second = Scheduler(ONE_JOB, holder="second")
    first.step()
    second.step()
    traveller.shift(timedelta(seconds=settings.CAREDESK_SCHEDULER_LEASE_SECONDS - 1))
    second.step()
    assert not second.is_leader
    traveller.shift(timedelta(seconds=2))
    second.step()
    assert second.is_leader
    assert current_lease().holder == "second"
    first.step()
    assert not first.is_leader


def test_stop_releases_the_lease_for_the_standby(traveller):
    first = Scheduler(ONE_JOB, holder="first")
    second = Scheduler(ONE_JOB, holder="second")
    first.step()
    first.stop()
    assert current_lease() is None
    second.step()
    assert second.is_leader


def test_standby_stop_leaves_the_holders_lease_alone(traveller):
    first = Scheduler(ONE_JOB, holder="first")
    second = Scheduler(ONE_JOB, holder="second")
    first.step()
    second.step()
    second.stop()
    assert current_lease().holder == "first"


# --- enqueueing ------------------------------------------------------------------------


def test_first_round_plans_the_next_run_without_enqueueing(traveller):
    assert enqueue_due(ONE_JOB) == []
    assert job_row().next_run_at == DUE
    assert not DBTaskResult.objects.exists()


def test_due_job_is_enqueued_once_when_called_twice(traveller):
    enqueue_due(ONE_JOB)
    traveller.move_to(DUE)
    assert enqueue_due(ONE_JOB) == [NAME]
    assert enqueue_due(ONE_JOB) == []
    row = job_row()
    assert DBTaskResult.objects.count() == 1
    assert row.last_result_id == str(DBTaskResult.objects.get().id)
    assert row.last_enqueued_at == DUE
    assert row.next_run_at == DUE + timedelta(days=1)


def test_two_schedulers_at_the_due_time_enqueue_once(traveller):
    first = Scheduler(ONE_JOB, holder="first")
    second = Scheduler(ONE_JOB, holder="second")
    first.step()
    second.step()
    traveller.move_to(DUE)
    first.step()
    second.step()
    assert DBTaskResult.objects.count() == 1


def test_a_rival_claiming_between_read_and_update_wins_and_we_skip(traveller):
    enqueue_due(ONE_JOB)
    traveller.move_to(DUE)
    real_atomic = transaction.atomic

    @contextmanager
    def rival_claims_first():
        # Another scheduler moved the row on after we read it: our copy is stale.
        PeriodicJob.objects.update(next_run_at=F("next_run_at") + timedelta(days=1))
        with real_atomic():
            yield

    rigged = types.SimpleNamespace(atomic=rival_claims_first)
    with pytest.MonkeyPatch.context() as patcher:
        patcher.setattr(scheduler_module, "transaction", rigged)
        assert enqueue_due(ONE_JOB) == []
    assert not DBTaskResult.objects.exists()
    assert job_row().last_enqueued_at is None


def test_after_downtime_a_job_runs_once_not_once_per_missed_slot(traveller):
    enqueue_due(ONE_JOB)
    traveller.move_to(DUE + timedelta(days=5, hours=7))
    assert enqueue_due(ONE_JOB) == [NAME]
    assert enqueue_due(ONE_JOB) == []
    assert DBTaskResult.objects.count() == 1
    assert job_row().next_run_at == DUE + timedelta(days=6)


def test_changed_cron_replans_the_next_run(traveller):
    enqueue_due(ONE_JOB)
    enqueue_due([Periodic(NAME, "0 12 * * *", tasks.purge_expired_sessions)])
    row = job_row()
    assert row.cron == "0 12 * * *"
    assert row.next_run_at == datetime(2026, 1, 11, 12, 0, tzinfo=UTC)


def test_leader_sleeps_until_the_next_run_but_never_past_a_lease_third(traveller):
    leader = Scheduler(ONE_JOB, holder="first")
    leader.step()
    traveller.move_to(DUE - timedelta(seconds=5))
    assert leader.step() == 5.0


# --- cron in the agency's time zone ------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (datetime(2026, 1, 10, 12, 0, tzinfo=UTC), datetime(2026, 1, 11, 3, 17, tzinfo=UTC)),
        (datetime(2026, 7, 10, 12, 0, tzinfo=UTC), datetime(2026, 7, 11, 2, 17, tzinfo=UTC)),
        # Clocks go forward at 01:00 UTC on 29 March 2026: 03:17 is now BST.
        (datetime(2026, 3, 28, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 2, 17, tzinfo=UTC)),
        # Clocks go back at 01:00 UTC on 25 October 2026: 03:17 is GMT again.
        (datetime(2026, 10, 24, 12, 0, tzinfo=UTC), datetime(2026, 10, 25, 3, 17, tzinfo=UTC)),
        # Strictly after: exactly on a run gives the next day's.
        (datetime(2026, 1, 11, 3, 17, tzinfo=UTC), datetime(2026, 1, 12, 3, 17, tzinfo=UTC)),
    ],
    ids=["winter", "summer", "spring-forward", "fall-back", "strictly-after"],
)
def test_next_run_follows_london_wall_clock(after, expected):
    assert settings.TIME_ZONE == "Europe/London"
    assert next_run("17 3 * * *", after) == expected


def runs_between(cron: str, start: datetime, end: datetime) -> list[datetime]:
    runs, moment = [], start
    while (moment := next_run(cron, moment)) < end:
        runs.append(moment)
    return runs


def test_job_in_the_skipped_hour_still_runs_once_on_spring_forward_day():
    # 01:30 does not exist in London on 29 March 2026.
    day = runs_between(
        "30 1 * * *",
        datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 23, 0, tzinfo=UTC),
    )
    assert len(day) == 1


def test_daily_job_in_the_repeated_hour_runs_once_on_fall_back_day():
    # 01:30 happens twice in London on 25 October 2026 (BST, then GMT).
    day = runs_between(
        "30 1 * * *",
        datetime(2026, 10, 24, 23, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 23, 0, tzinfo=UTC),
    )
    assert len(day) == 1


def test_default_schedule_has_the_housekeeping_jobs():
    names = {job.name for job in SCHEDULE}
    assert {"purge-expired-sessions", "prune-task-results"} <= names
    assert len(names) == len(SCHEDULE)


def test_default_schedule_runs_every_capabilitys_periodic_work():
    names = {job.name for job in SCHEDULE}
    assert {
        "sla-sweep",
        "mail-outbox",
        "alert-delivery",
        "maintenance-inventories",
        "maintenance-scans",
        "maintenance-backups",
        "maintenance-auto-updates",
        "maintenance-stale-runs",
        "monitor-heartbeats",
        "backup-repository-check",
        "monthly-reports",
        "monitor-rollups",
    } <= names


# --- the real worker and the command ---------------------------------------------------


# The worker calls close_old_connections(), which on PostgreSQL closes the
# connection holding a test transaction: it needs real commits.
@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_enqueued_purge_and_keeps_live_sessions(restore_signals):
    now = clock.now()
    Session.objects.create(session_key="e" * 32, session_data="", expire_date=now - timedelta(1))
    Session.objects.create(session_key="l" * 32, session_data="", expire_date=now + timedelta(1))
    enqueue_due(ONE_JOB)
    with time_machine.travel(job_row().next_run_at, tick=False):
        assert enqueue_due(ONE_JOB) == [NAME]

    call_command(
        "db_worker",
        batch=True,
        reload=False,
        startup_delay=False,
        queue_name="*",
        verbosity=0,
    )

    assert list(Session.objects.values_list("session_key", flat=True)) == ["l" * 32]
    result = DBTaskResult.objects.get()
    assert result.status == "SUCCESSFUL"
    assert result.return_value == 1


def test_prune_task_results_deletes_only_old_finished_records():
    old = tasks.purge_expired_sessions.enqueue()
    fresh = tasks.purge_expired_sessions.enqueue()
    waiting = tasks.purge_expired_sessions.enqueue()
    days = settings.CAREDESK_TASK_RESULT_DAYS
    DBTaskResult.objects.filter(id=old.id).update(finished_at=clock.now() - timedelta(days + 1))
    DBTaskResult.objects.filter(id=fresh.id).update(finished_at=clock.now())
    assert tasks.prune_task_results.call() == 1
    kept = {str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)}
    assert kept == {str(fresh.id), str(waiting.id)}


def test_scheduler_once_does_one_round_and_releases_the_lease(restore_signals):
    out = StringIO()
    with time_machine.travel(BEFORE, tick=False):
        call_command("scheduler", once=True, stdout=out)
    assert "starting" in out.getvalue()
    assert "scheduler stopped" in out.getvalue()
    assert set(PeriodicJob.objects.values_list("name", flat=True)) == {j.name for j in SCHEDULE}
    assert not SchedulerLease.objects.exists()
