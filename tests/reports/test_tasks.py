"""The scheduler's monthly step: not before the month is over and its data rolled up; then once."""

from datetime import UTC, datetime, timedelta

from caredesk.mail.models import OutboundEmail
from caredesk.monitoring.models import HourlyRollup, Monitor
from caredesk.reports import tasks
from caredesk.reports.models import Report

from .conftest import MONTH_END, london


def roll_up_to(end: datetime) -> None:
    monitor = Monitor.objects.first()
    HourlyRollup.objects.create(monitor=monitor, hour=end - timedelta(hours=1), checks=1)


def test_nothing_happens_while_the_month_is_still_running(quiet_month):
    assert tasks.step(london(10, 31, 23)) is None
    assert not Report.objects.exists()


def test_it_waits_for_the_months_last_hour_to_be_rolled_up(quiet_month):
    roll_up_to(MONTH_END - timedelta(hours=1))
    assert tasks.step(london(11, 1, 0, 20)) is None
    roll_up_to(MONTH_END)
    assert tasks.step(london(11, 1, 1, 20))["sent"] == 2


def test_later_runs_send_nothing_twice_and_pick_up_a_released_report(quiet_month, org_a, staff):
    from caredesk.reports.actions import do_build_reports, do_hold, do_release

    roll_up_to(MONTH_END)
    [early] = do_build_reports(2026, 10, organisations=[org_a.pk])
    Report.objects.filter(pk=early.pk).update(built_at=datetime(2026, 10, 30, tzinfo=UTC))
    do_hold(early, acting_user=staff)
    first = tasks.step(london(11, 1, 6, 20))
    assert (first["sent"], first["held"]) == (1, 1)
    # The preview built before the month was over was built again from complete data.
    assert Report.objects.get(pk=early.pk).built_at > MONTH_END
    do_release(early, acting_user=staff)
    assert tasks.step(london(11, 1, 7, 20))["sent"] == 1
    assert tasks.step(london(11, 1, 8, 20))["sent"] == 0
    assert OutboundEmail.objects.filter(kind="report").count() == 2


def test_after_the_first_week_last_month_is_left_to_staff(quiet_month):
    roll_up_to(MONTH_END)
    assert tasks.step(london(11, 8, 9)) is None


def test_the_task_returns_how_many_went_out(quiet_month, traveller):
    roll_up_to(MONTH_END)
    traveller.move_to(london(11, 1, 9, 20))
    assert tasks.send_monthly_reports.call() == 2
