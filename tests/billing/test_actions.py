"""Logging, correcting and timing work: checked input, an audit event, the ledger kept."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from caredesk.billing import actions, ledger
from caredesk.billing.models import LedgerEntry, LedgerKind, TimeEntry, TimerRun
from caredesk.tickets.models import TicketEvent


@pytest.fixture
def ticket(kijo_client, make_ticket):
    return make_ticket(kijo_client, "bug-fix")


def test_logging_time_defaults_to_today_and_the_tickets_category_and_writes_an_event(ticket, agent):
    entry = actions.do_log_time(ticket, 25, acting_user=agent, note="  Fixed the menu  ")

    assert (entry.work_date, entry.category.code, entry.staff, entry.note) == (
        date(2026, 7, 15),
        "bug-fix",
        agent,
        "Fixed the menu",
    )
    event = TicketEvent.objects.get(ticket=ticket, kind="time_logged")
    assert event.actor_user == agent
    assert event.data == {
        "entry": entry.pk,
        "minutes": 25,
        "work_date": "2026-07-15",
        "category": "bug-fix",
        "staff": agent.pk,
    }


@pytest.mark.parametrize(
    ("minutes", "field"),
    [(0, "minutes"), (-5, "minutes"), (1.5, "minutes"), ("90", "minutes"), (True, "minutes")],
)
def test_bad_minutes_are_refused_with_a_clear_error(ticket, agent, minutes, field):
    with pytest.raises(ValidationError) as caught:
        actions.do_log_time(ticket, minutes, acting_user=agent)
    assert field in caught.value.message_dict
    assert not TimeEntry.objects.exists()


def test_more_than_a_day_in_one_entry_is_refused(ticket, agent):
    with pytest.raises(ValidationError, match="at most 24 hours"):
        actions.do_log_time(ticket, 24 * 60 + 1, acting_user=agent)


def test_future_dates_are_refused(ticket, agent):
    with pytest.raises(ValidationError, match="still to come"):
        actions.do_log_time(ticket, 10, acting_user=agent, work_date=date(2026, 7, 16))


def test_a_ticket_without_a_client_cannot_carry_time(make_ticket, agent, categories):
    loose = make_ticket(None)
    with pytest.raises(ValidationError, match="under a client"):
        actions.do_log_time(loose, 10, acting_user=agent)


def test_client_contacts_cannot_log_time(ticket, manager_a):
    with pytest.raises(ValidationError, match="agency staff"):
        actions.do_log_time(ticket, 10, acting_user=manager_a)


def test_editing_records_what_changed_and_corrects_the_ledger(
    package_client, make_ticket, log, agent
):
    ticket = make_ticket(package_client, "bug-fix")
    entry = log(ticket, 60, date(2026, 7, 1))

    actions.do_edit_time(entry, acting_user=agent, minutes=90, note="Longer than thought")

    event = TicketEvent.objects.get(ticket=ticket, kind="time_edited")
    assert event.data["changes"] == {"minutes": {"from": 60, "to": 90}}
    debits = LedgerEntry.objects.filter(kind=LedgerKind.DEBIT).order_by("pk")
    assert [row.minutes for row in debits] == [-60, -30]  # appended, never rewritten
    assert "(correction)" in debits[1].note
    assert ledger.balance(package_client.pk, date(2026, 7, 1)) == 300 - 90


def test_deleting_keeps_an_event_and_reverses_the_debit(package_client, make_ticket, log, agent):
    ticket = make_ticket(package_client, "bug-fix")
    entry = log(ticket, 60, date(2026, 7, 1))
    entry_id = entry.pk

    actions.do_delete_time(entry, acting_user=agent, reason="wrong ticket")

    assert not TimeEntry.objects.exists()
    event = TicketEvent.objects.get(ticket=ticket, kind="time_deleted")
    assert (event.data["entry"], event.data["reason"]) == (entry_id, "wrong ticket")
    rows = LedgerEntry.objects.filter(entry_ref=entry_id).order_by("pk")
    assert [(row.minutes, row.time_entry_id) for row in rows] == [(-60, None), (60, None)]
    assert ledger.balance(package_client.pk, date(2026, 7, 1)) == 300


def test_the_ledger_refuses_changes_and_deletion(package_client, make_ticket, log):
    log(make_ticket(package_client, "bug-fix"), 60, date(2026, 7, 1))
    row = LedgerEntry.objects.first()
    row.minutes = 0
    with pytest.raises(ValidationError, match="append-only"):
        row.save()
    with pytest.raises(ValidationError, match="append-only"):
        row.delete()
    with pytest.raises(ValidationError, match="append-only"):
        LedgerEntry.objects.all().delete()
    with pytest.raises(ValidationError, match="append-only"):
        LedgerEntry.objects.update(minutes=0)


def test_a_timer_logs_its_time_when_stopped(ticket, agent, frozen_time):
    actions.do_start_timer(ticket, acting_user=agent, note="Investigating")
    frozen_time.shift(timedelta(minutes=42, seconds=20))

    entry = actions.do_stop_timer(acting_user=agent)

    assert (entry.minutes, entry.note, entry.work_date) == (42, "Investigating", date(2026, 7, 15))
    assert not TimerRun.objects.exists()


def test_starting_a_second_timer_stops_and_logs_the_first(ticket, agent, frozen_time, make_ticket):
    other = make_ticket(ticket.organisation, "maintenance")
    actions.do_start_timer(ticket, acting_user=agent)
    frozen_time.shift(timedelta(minutes=10))

    actions.do_start_timer(other, acting_user=agent)

    assert list(TimeEntry.objects.values_list("ticket_id", "minutes")) == [(ticket.pk, 10)]
    assert TimerRun.objects.get().ticket == other


def test_a_timer_stopped_at_once_logs_nothing(ticket, agent, frozen_time):
    actions.do_start_timer(ticket, acting_user=agent)
    frozen_time.shift(timedelta(seconds=20))

    assert actions.do_stop_timer(acting_user=agent) is None
    assert not TimeEntry.objects.exists()


def test_stopping_without_a_timer_is_a_clear_error(agent):
    with pytest.raises(ValidationError, match="No timer"):
        actions.do_stop_timer(acting_user=agent)


def test_timer_started_before_midnight_is_dated_on_its_start(ticket, agent, frozen_time):
    frozen_time.move_to("2026-07-14 23:40:00+01:00")
    actions.do_start_timer(ticket, acting_user=agent)
    frozen_time.move_to("2026-07-15 00:20:00+01:00")

    assert actions.do_stop_timer(acting_user=agent).work_date == date(2026, 7, 14)


def test_pooling_needs_a_plan_that_counts_hours(kijo_client, account_manager):
    with pytest.raises(ValidationError, match="counts no hours"):
        actions.do_pool_periods(kijo_client, date(2026, 5, 1), acting_user=account_manager)


def test_pooling_starts_on_a_period_start(package_client, account_manager):
    with pytest.raises(ValidationError) as caught:
        actions.do_pool_periods(package_client, date(2026, 5, 3), acting_user=account_manager)
    assert "first_period_start" in caught.value.message_dict


def test_a_period_is_pooled_once(package_client, account_manager):
    actions.do_pool_periods(package_client, date(2026, 5, 1), acting_user=account_manager)
    with pytest.raises(ValidationError, match="already pooled"):
        actions.do_pool_periods(package_client, date(2026, 6, 1), acting_user=account_manager)


def test_cancelling_a_pool_gives_each_period_its_own_allowance_again(
    package_client, make_ticket, log, account_manager
):
    agreement = actions.do_pool_periods(
        package_client, date(2026, 6, 1), acting_user=account_manager
    )
    log(make_ticket(package_client, "bug-fix"), 400, date(2026, 6, 10))
    assert ledger.balance(package_client.pk, date(2026, 6, 1)) == 600 - 400

    actions.do_cancel_agreement(agreement, acting_user=account_manager)

    # The pooled window is reversed to nothing; June is a window of its own again.
    pooled = LedgerEntry.objects.filter(window_start=date(2026, 6, 1), window_end=date(2026, 8, 1))
    assert sum(pooled.values_list("minutes", flat=True)) == 0
    june = LedgerEntry.objects.filter(window_start=date(2026, 6, 1), window_end=date(2026, 7, 1))
    assert sum(june.values_list("minutes", flat=True)) == 300 - 400 + 0  # ended: nothing to expire
