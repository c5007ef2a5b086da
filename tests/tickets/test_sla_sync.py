"""Stored SLA clocks are a cache of the pure engine applied to the ticket's audit trail."""

import pytest
import time_machine

from caredesk.sla.clocks import Entry, evaluate
from caredesk.sla.policy_io import import_policy, load_preset
from caredesk.tickets import sla_sync
from caredesk.tickets.actions import (
    do_add_customer_message,
    do_add_note,
    do_change_priority,
    do_change_status,
    do_create_ticket,
    do_log_call,
    do_reply,
)
from caredesk.tickets.models import SlaClock, Status, Ticket

from .conftest import MONDAY_9, june, london, subscribe

pytestmark = pytest.mark.django_db


def rows(ticket: Ticket) -> dict[str, SlaClock]:
    return {row.kind: row for row in SlaClock.objects.filter(ticket=ticket)}


def next_due(ticket: Ticket):
    return Ticket.objects.get(pk=ticket.pk).sla_next_due_at


def expected_states(ticket: Ticket, now):
    ticket = Ticket.objects.get(pk=ticket.pk)
    entries = sla_sync.history(list(ticket.events.all()))
    return {
        target.kind: evaluate(target.spec(ticket.sla_policy), entries, now)
        for target in ticket.priority.targets.all()
    }


def test_stored_clocks_equal_the_engine_on_the_ticket_history(
    raise_ticket, staff, contact_a, traveller
):
    ticket = raise_ticket()
    traveller.move_to(june(1, 10))
    do_reply(ticket, "Which page?", acting_user=staff, status=Status.PENDING)
    traveller.move_to(june(1, 14))
    do_add_customer_message(ticket, "The gallery.", contact=contact_a)
    traveller.move_to(june(2, 9))
    do_add_note(ticket, "CDN cache.", acting_user=staff)
    now = june(2, 11)

    stored = sla_sync.recompute(Ticket.objects.get(pk=ticket.pk), now)

    states = expected_states(ticket, now)
    assert {row.kind for row in stored} == set(states) == {"first_response", "resolution"}
    for row in SlaClock.objects.filter(ticket=ticket):
        state = states[row.kind]
        assert row.started_at == state.started_at
        assert row.stopped_at == state.stopped_at
        assert row.paused == state.paused
        assert row.elapsed_seconds == int(state.elapsed.total_seconds())
        assert row.limit_seconds == int(state.limit.total_seconds())
        assert row.due_at == state.due_at
        assert row.aim_at == state.aim_at
        assert row.warn_at == state.warn_at
        assert row.breached == state.breached
    resolution = rows(ticket)["resolution"]
    assert resolution.elapsed_seconds == 7 * 3600  # Monday 09–10 and 14–17, Tuesday 08–11
    assert resolution.due_at == june(8, 13)  # 45 business hours, plus the 4 h pause


def test_history_reads_the_facts_the_engine_needs(client_a, contact_a, staff, traveller):
    ticket = do_create_ticket(
        subject="Down",
        body="Caller: site down",
        channel="phone",
        requester=contact_a,
        acting_user=staff,
        alerted_at=MONDAY_9,
    )
    traveller.move_to(june(1, 9, 5))
    do_add_note(ticket, "Checking", acting_user=staff)
    do_add_customer_message(ticket, "Out of office", contact=contact_a, is_auto=True)
    do_add_customer_message(ticket, "Still down", contact=contact_a)
    do_log_call(ticket, "Called back", acting_user=staff)
    do_reply(ticket, "Back up", acting_user=staff, status=Status.SOLVED)

    entries = sla_sync.history(list(ticket.events.all()))

    later = june(1, 9, 5)
    assert entries == [
        Entry(MONDAY_9, "created"),
        Entry(MONDAY_9, "alert"),
        Entry(MONDAY_9, "customer_message"),  # typed by staff, said by the client
        Entry(later, "customer_message"),
        Entry(later, "response", "phone_call"),
        Entry(later, "status", "open"),
        Entry(later, "response", "public_reply"),
        Entry(later, "status", "solved"),
    ]


def test_next_due_is_the_nearest_running_clock(raise_ticket, categories, staff, traveller):
    ticket = raise_ticket(category=categories["contact-form"])
    assert next_due(ticket) == june(1, 13)  # first response before resolution
    traveller.move_to(june(1, 10))

    do_reply(ticket, "On it", acting_user=staff)

    assert next_due(ticket) == rows(ticket)["resolution"].due_at == june(8, 9)


def test_pausing_clears_due_and_next_check_but_not_the_first_response(raise_ticket, staff):
    # Time moves on between the status change and the recompute, as it does in production.
    with time_machine.travel(MONDAY_9, tick=True):
        ticket = raise_ticket()
        do_change_status(ticket, Status.ON_HOLD, acting_user=staff)

    clocks = rows(ticket)
    assert clocks["resolution"].paused
    assert clocks["resolution"].due_at is None
    assert clocks["resolution"].next_check_at is None
    assert clocks["first_response"].running  # nothing pauses a first response
    assert next_due(ticket) == clocks["first_response"].due_at


def test_fully_paused_ticket_has_no_next_due(raise_ticket, staff):
    with time_machine.travel(MONDAY_9, tick=True):
        ticket = raise_ticket()
        do_reply(ticket, "Please send a screenshot", acting_user=staff, status=Status.PENDING)

    assert next_due(ticket) is None
    assert all(row.next_check_at is None for row in rows(ticket).values())


def test_resumed_clock_gets_its_due_time_back(raise_ticket, staff, contact_a, traveller):
    ticket = raise_ticket()
    traveller.move_to(june(1, 10))
    do_reply(ticket, "Screenshot?", acting_user=staff, status=Status.PENDING)
    traveller.move_to(june(1, 14))
    do_add_customer_message(ticket, "Here", contact=contact_a)

    sla_sync.recompute(Ticket.objects.get(pk=ticket.pk), june(1, 14, 0, 1))

    resolution = rows(ticket)["resolution"]
    assert resolution.running
    assert resolution.due_at == june(8, 13)
    assert next_due(ticket) == resolution.due_at


def test_ticket_without_a_priority_has_no_clocks(traveller):
    ticket = do_create_ticket(
        subject="Hi", body="Hello", channel="email", requester_email="a@b.example"
    )

    assert ticket.priority is None
    assert sla_sync.recompute(ticket) == []
    assert not SlaClock.objects.filter(ticket=ticket).exists()
    assert next_due(ticket) is None


def test_clock_rows_are_dropped_when_the_new_priority_has_no_such_target(org_a, staff, traveller):
    studio = import_policy(load_preset("studio-support"))
    subscribe(org_a, studio, "studio")
    ticket = do_create_ticket(
        subject="Error 500",
        body="",
        channel="portal",
        organisation=org_a,
        priority=studio.priorities.get(code="bug-fix"),
    )
    traveller.move_to(june(1, 10))
    do_reply(ticket, "Looking", acting_user=staff)
    assert set(rows(ticket)) == {"first_response", "resolution"}

    do_change_priority(ticket, studio.priorities.get(code="user-support"), acting_user=staff)

    assert set(rows(ticket)) == {"first_response"}


def test_moved_promise_warns_again(raise_ticket, kijo, staff, traveller):
    ticket = raise_ticket(priority=kijo.priorities.get(code="critical"))
    SlaClock.objects.filter(ticket=ticket).update(warned_at=june(1, 12))
    traveller.move_to(june(1, 12, 30))

    do_change_priority(ticket, kijo.priorities.get(code="non-critical"), acting_user=staff)

    row = rows(ticket)["first_response"]
    assert row.warn_at == june(1, 15, 45)  # 75 % of 9 h
    assert row.warned_at is None
    assert row.next_check_at == june(1, 15, 45)


def test_next_check_is_the_warning_then_the_due_time(raise_ticket, traveller):
    ticket = raise_ticket()
    row = rows(ticket)["first_response"]
    assert row.next_check_at == row.warn_at == june(1, 15, 45)

    SlaClock.objects.filter(pk=row.pk).update(warned_at=june(1, 15, 45))
    sla_sync.recompute(Ticket.objects.get(pk=ticket.pk), june(1, 16))

    assert rows(ticket)["first_response"].next_check_at == june(2, 9)


def test_met_clock_needs_no_more_checks(raise_ticket, staff, traveller):
    ticket = raise_ticket()
    traveller.move_to(june(1, 10))

    do_reply(ticket, "Done", acting_user=staff)

    row = rows(ticket)["first_response"]
    assert row.met
    assert row.next_check_at is None
    assert row.due_at is None


def test_promised_first_response_is_written_in_the_calendars_zone(raise_ticket, traveller):
    traveller.move_to(london(2026, 11, 23, 12))

    ticket = raise_ticket()

    assert sla_sync.promised_first_response(ticket) == "by Tue 24 Nov, 12:00"


def test_no_promise_without_a_first_response_clock(traveller):
    ticket = do_create_ticket(subject="Hi", body="", channel="email", requester_email="a@b.example")

    assert sla_sync.promised_first_response(ticket) is None


def test_promise_uses_the_targets_own_calendar_zone(org_a, traveller):
    levels = import_policy(load_preset("support-levels"))
    subscribe(org_a, levels, "package")
    traveller.move_to(london(2026, 11, 21, 3))  # Saturday 05:00 in Kyiv

    ticket = do_create_ticket(
        subject="Checkout fails",
        body="",
        channel="portal",
        organisation=org_a,
        priority=levels.priorities.get(code="level-1"),
    )

    assert sla_sync.promised_first_response(ticket) == "by Sat 21 Nov, 06:00"
