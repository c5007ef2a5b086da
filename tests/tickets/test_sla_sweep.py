"""The SLA sweep records each warning and breach once, and staff are told about it."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult, get_date_max

from caredesk.sla.models import BreachAction, Target
from caredesk.sla.policy_io import import_policy, load_preset
from caredesk.tickets import sla_sweep, tasks
from caredesk.tickets.actions import do_assign, do_create_ticket, do_reply
from caredesk.tickets.models import SlaClock, Ticket, TicketEvent
from caredesk.tickets.notify import notify_sla_event, notify_sla_events, recipients

from .conftest import MONDAY_9, june, subscribe

pytestmark = pytest.mark.django_db

BATCH_TASK = "caredesk.tickets.notify.notify_sla_events"
ONE_TASK = "caredesk.tickets.notify.notify_sla_event"


def sla_events(ticket: Ticket | None = None) -> list[tuple[str, str]]:
    found = TicketEvent.objects.filter(kind__in=["sla_warning", "sla_breach"])
    if ticket is not None:
        found = found.filter(ticket=ticket)
    return [(e.kind, e.data["clock"]) for e in found.order_by("id")]


def first_response(ticket: Ticket) -> SlaClock:
    return SlaClock.objects.get(ticket=ticket, kind="first_response")


def queued(task_path: str):
    return DBTaskResult.objects.filter(task_path=task_path)


def sla_mail():
    return [m for m in mail.outbox if " SLA " in m.subject]


@pytest.fixture
def critical_ticket(raise_ticket, kijo, staff, traveller):
    """KIJO critical, raised Monday 09:00: warning at 12:00, first response due 13:00."""
    ticket = raise_ticket(priority=kijo.priorities.get(code="critical"))
    do_assign(ticket, staff, acting_user=staff)
    return ticket


def sweep_at(traveller, moment) -> int:
    traveller.move_to(moment)
    return sla_sweep.sweep()


# -- what is recorded ------------------------------------------------------------------------


def test_warning_at_three_quarters_then_breach_at_the_limit_each_once(critical_ticket, traveller):
    assert sweep_at(traveller, june(1, 11, 59)) == 0
    assert sweep_at(traveller, june(1, 12)) == 1
    assert sweep_at(traveller, june(1, 12)) == 0
    assert sweep_at(traveller, june(1, 12, 30)) == 0
    assert sweep_at(traveller, june(1, 13, 0, 1)) == 1
    assert sweep_at(traveller, june(1, 13, 0, 1)) == 0
    assert sweep_at(traveller, june(1, 16)) == 0

    assert sla_events(critical_ticket) == [
        ("sla_warning", "first_response"),
        ("sla_breach", "first_response"),
    ]
    warning, breach = TicketEvent.objects.filter(kind__startswith="sla_").order_by("id")
    assert warning.at == june(1, 12)
    assert breach.at == june(1, 13)
    assert datetime.fromisoformat(breach.data["due_at"]) == june(1, 13)
    row = first_response(critical_ticket)
    assert row.warned_at == june(1, 12)
    assert row.breach_recorded_at == june(1, 13, 0, 1)
    assert row.breached
    assert row.next_check_at is None
    assert row.claim == ""


def test_sweep_after_an_outage_records_the_breach_without_a_stale_warning(
    critical_ticket, traveller
):
    assert sweep_at(traveller, june(1, 15)) == 1

    assert sla_events() == [("sla_breach", "first_response")]


def test_sweep_at_the_exact_due_instant_records_no_breach(critical_ticket, traveller):
    sweep_at(traveller, june(1, 12))

    sweep_at(traveller, june(1, 13))

    assert sla_events() == [("sla_warning", "first_response")]


def test_two_batches_for_the_same_instant_record_once(critical_ticket, traveller):
    traveller.move_to(june(1, 13, 0, 1))

    first = sla_sweep._sweep_batch(june(1, 13, 0, 1), sla_sweep.BATCH)
    second = sla_sweep._sweep_batch(june(1, 13, 0, 1), sla_sweep.BATCH)

    assert first == (1, False)
    assert second == (0, False)
    assert sla_events() == [("sla_breach", "first_response")]


def test_claim_is_taken_by_one_sweep_only(critical_ticket):
    ids = [first_response(critical_ticket).pk]

    assert sla_sweep._claim(ids, "aaaa", june(1, 13, 0, 1), "breach") == 1
    assert sla_sweep._claim(ids, "bbbb", june(1, 13, 0, 1), "breach") == 0


def _rival_sweeps_between_select_and_claim(monkeypatch, now):
    """Run a whole second sweep after the first has read its ids but before it claims."""
    claim = sla_sweep._claim
    state = {"raced": False}

    def racing_claim(ids, token, moment, what):
        if not state["raced"]:
            state["raced"] = True
            sla_sweep.sweep(now)
        return claim(ids, token, moment, what)

    monkeypatch.setattr(sla_sweep, "_claim", racing_claim)


def test_interleaved_sweeps_record_a_breach_once(critical_ticket, traveller, monkeypatch):
    sweep_at(traveller, june(1, 12))  # the warning is already out
    _rival_sweeps_between_select_and_claim(monkeypatch, june(1, 13, 0, 1))

    sweep_at(traveller, june(1, 13, 0, 1))

    assert sla_events() == [("sla_warning", "first_response"), ("sla_breach", "first_response")]


def test_interleaved_sweeps_after_an_outage_record_no_warning_after_the_breach(
    critical_ticket, traveller, monkeypatch
):
    _rival_sweeps_between_select_and_claim(monkeypatch, june(1, 15))

    sweep_at(traveller, june(1, 15))

    assert sla_events() == [("sla_breach", "first_response")]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks of PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_in_two_threads_record_a_breach_once(client_a, kijo, contact_a, monkeypatch):
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = do_create_ticket(
            subject="Form broken",
            body="",
            channel="portal",
            requester=contact_a,
            priority=kijo.priorities.get(code="critical"),
        )
    SlaClock.objects.filter(ticket=ticket, kind="first_response").update(warned_at=june(1, 12))
    now = june(1, 13, 0, 1)
    both_selected = threading.Barrier(2, timeout=20)
    claim = sla_sweep._claim
    waited = threading.local()

    def claim_together(ids, token, moment, what):
        if not getattr(waited, "done", False):
            waited.done = True
            both_selected.wait()  # both sweeps have read the due ids
        return claim(ids, token, moment, what)

    monkeypatch.setattr(sla_sweep, "_claim", claim_together)

    def one_sweep() -> int:
        try:
            return sla_sweep.sweep(now)
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        counts = sorted(f.result() for f in [pool.submit(one_sweep) for _ in range(2)])

    assert counts == [0, 1]
    assert sla_events() == [("sla_breach", "first_response")]


def test_clock_met_before_its_due_records_nothing(critical_ticket, staff, traveller):
    traveller.move_to(june(1, 10))
    do_reply(critical_ticket, "On it", acting_user=staff)

    for moment in (june(1, 12), june(1, 13, 0, 1), june(1, 17)):
        assert sweep_at(traveller, moment) == 0

    assert sla_events() == []


def test_late_reply_records_the_breach_once(critical_ticket, staff, traveller):
    traveller.move_to(june(1, 14))
    do_reply(critical_ticket, "Sorry for the wait", acting_user=staff)

    assert sweep_at(traveller, june(1, 14, 0, 1)) == 1
    assert sweep_at(traveller, june(1, 15)) == 0

    assert sla_events() == [("sla_breach", "first_response")]
    row = first_response(critical_ticket)
    assert row.breached
    assert row.stopped_at == june(1, 14)


def test_reply_after_a_recorded_breach_records_nothing_more(critical_ticket, staff, traveller):
    sweep_at(traveller, june(1, 13, 30))
    traveller.move_to(june(1, 14))
    do_reply(critical_ticket, "Sorry for the wait", acting_user=staff)

    assert sweep_at(traveller, june(1, 15)) == 0
    assert sla_events() == [("sla_breach", "first_response")]


def test_sweep_task_returns_the_events_written(critical_ticket, traveller):
    traveller.move_to(june(1, 12))

    assert tasks.sweep_sla_clocks.call() == 1


def test_sweep_works_through_batches(raise_ticket, kijo, traveller):
    for _ in range(3):
        raise_ticket(priority=kijo.priorities.get(code="critical"))

    assert sla_sweep.sweep(june(1, 12), batch=2) == 3
    assert sla_sweep.sweep(june(1, 12), batch=2) == 0


# -- who is told, and when -------------------------------------------------------------------


def test_sweep_enqueues_one_notification_task_per_batch_after_commit(
    raise_ticket, kijo, traveller, django_capture_on_commit_callbacks
):
    for _ in range(3):
        raise_ticket(priority=kijo.priorities.get(code="critical"))
    traveller.move_to(june(1, 12))

    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep.sweep() == 3
        assert not queued(BATCH_TASK).exists()

    result = queued(BATCH_TASK).get()
    warnings = TicketEvent.objects.filter(kind="sla_warning").values_list("pk", flat=True)
    assert sorted(result.args_kwargs["args"][0]) == sorted(warnings)
    assert result.run_after == get_date_max()


def test_sweep_with_nothing_due_enqueues_nothing(
    critical_ticket, traveller, django_capture_on_commit_callbacks
):
    traveller.move_to(june(1, 11))

    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep.sweep()

    assert not queued(BATCH_TASK).exists()


def test_notification_emails_the_assignee_and_the_account_manager(
    critical_ticket, staff, account_manager, traveller
):
    sweep_at(traveller, june(1, 13, 0, 1))
    event = TicketEvent.objects.get(kind="sla_breach")

    sent = notify_sla_event.call(event.pk)

    assert sent == 1
    assert len(sla_mail()) == 1
    message = sla_mail()[0]
    assert sorted(message.to) == sorted([staff.email, account_manager.email])
    assert critical_ticket.reference in message.subject
    assert critical_ticket.subject in message.subject
    assert "breached" in message.subject
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    assert message.alternatives[0].mimetype == "text/html"
    assert f"/tickets/{critical_ticket.number}/" in message.body


def test_notification_names_the_target_in_words(critical_ticket, traveller):
    sweep_at(traveller, june(1, 13, 0, 1))

    notify_sla_event.call(TicketEvent.objects.get(kind="sla_breach").pk)

    message = sla_mail()[0]
    assert "first response" in message.subject
    assert "first response" in message.body


def test_warning_email_says_the_target_is_about_to_be_breached(critical_ticket, traveller):
    sweep_at(traveller, june(1, 12))

    notify_sla_event.call(TicketEvent.objects.get(kind="sla_warning").pk)

    assert "about to be breached" in sla_mail()[0].subject


def test_inactive_people_are_not_emailed(critical_ticket, staff, account_manager):
    staff.is_active = False
    staff.save()

    assert recipients(Ticket.objects.get(pk=critical_ticket.pk)) == [account_manager.email]


def test_nobody_to_tell_sends_nothing(raise_ticket, kijo, org_a, traveller, caplog):
    org_a.account_manager = None
    org_a.save()
    ticket = raise_ticket(priority=kijo.priorities.get(code="critical"))
    sweep_at(traveller, june(1, 12))

    assert notify_sla_event.call(TicketEvent.objects.get(kind="sla_warning").pk) == 0
    assert sla_mail() == []
    assert f"on {ticket.reference}: nobody to notify" in caplog.text


def test_non_critical_warning_at_night_waits_for_the_next_opening(raise_ticket, traveller):
    traveller.move_to(june(1, 10, 15))
    raise_ticket()  # non-critical: 75 % of 9 h is reached at 17:00, closing time
    assert sweep_at(traveller, june(1, 17)) == 1

    sent = notify_sla_events.call([TicketEvent.objects.get(kind="sla_warning").pk])

    assert sent == 0
    assert sla_mail() == []
    deferred = queued(ONE_TASK).get()
    assert deferred.run_after == june(2, 8)
    assert deferred.args_kwargs["args"] == [TicketEvent.objects.get(kind="sla_warning").pk]


def test_non_critical_warning_in_office_hours_is_sent_at_once(raise_ticket, staff, traveller):
    ticket = raise_ticket()  # non-critical from 09:00: warning at 15:45
    do_assign(ticket, staff, acting_user=staff)
    assert sweep_at(traveller, june(1, 15, 45)) == 1

    assert notify_sla_events.call([TicketEvent.objects.get(kind="sla_warning").pk]) == 1
    assert not queued(ONE_TASK).exists()


def test_critical_warning_at_night_is_sent_at_once(raise_ticket, kijo, staff, traveller):
    traveller.move_to(june(1, 14))
    ticket = raise_ticket(priority=kijo.priorities.get(code="critical"))  # warning at 17:00
    do_assign(ticket, staff, acting_user=staff)
    assert sweep_at(traveller, june(1, 17)) == 1

    assert notify_sla_events.call([TicketEvent.objects.get(kind="sla_warning").pk]) == 1
    assert len(sla_mail()) == 1
    assert not queued(ONE_TASK).exists()


def test_non_critical_breach_at_night_is_sent_at_once(raise_ticket, staff, traveller):
    traveller.move_to(june(1, 8))
    ticket = raise_ticket()  # non-critical: due at 17:00
    do_assign(ticket, staff, acting_user=staff)
    assert sweep_at(traveller, june(1, 17, 0, 1)) == 1

    assert notify_sla_events.call([TicketEvent.objects.get(kind="sla_breach").pk]) == 1
    assert not queued(ONE_TASK).exists()


def run_worker() -> None:
    call_command(
        "db_worker", batch=True, reload=False, startup_delay=False, queue_name="*", verbosity=0
    )


@pytest.mark.django_db(transaction=True)
def test_worker_sends_the_notification(client_a, kijo, contact_a, staff, account_manager):
    with time_machine.travel(MONDAY_9, tick=False) as traveller:
        ticket = do_create_ticket(
            subject="Form broken",
            body="",
            channel="portal",
            requester=contact_a,
            priority=kijo.priorities.get(code="critical"),
        )
        do_assign(ticket, staff, acting_user=staff)
        traveller.move_to(june(1, 13, 0, 1))
        assert sla_sweep.sweep() == 1

        run_worker()

    result = queued(BATCH_TASK).get()
    assert result.status == "SUCCESSFUL"
    assert result.return_value == 1
    assert [sorted(m.to) for m in sla_mail()] == [sorted([staff.email, account_manager.email])]
    assert ticket.reference in sla_mail()[0].subject


@pytest.mark.django_db(transaction=True)
def test_worker_sends_a_deferred_warning_when_the_office_opens(
    client_a, contact_a, staff, account_manager
):
    with time_machine.travel(june(1, 10, 15), tick=False) as traveller:
        ticket = do_create_ticket(
            subject="Typo on the home page", body="", channel="portal", requester=contact_a
        )
        do_assign(ticket, staff, acting_user=staff)
        traveller.move_to(june(1, 17))
        assert sla_sweep.sweep() == 1
        run_worker()
        assert sla_mail() == []

        traveller.move_to(june(2, 8))
        run_worker()

    assert [sorted(m.to) for m in sla_mail()] == [sorted([staff.email, account_manager.email])]
    assert queued(ONE_TASK).get().status == "SUCCESSFUL"


# -- breach actions --------------------------------------------------------------------------


def test_breach_raises_the_priority_one_step_and_recomputes(org_a, staff, traveller):
    levels = import_policy(load_preset("support-levels"))
    subscribe(org_a, levels, "package-5h")
    level_4 = levels.priorities.get(code="level-4")
    Target.objects.filter(priority=level_4, kind="first_response").update(
        breach_action=BreachAction.RAISE_PRIORITY
    )
    traveller.move_to(june(1, 7))  # 09:00 in Kyiv
    ticket = do_create_ticket(
        subject="Wishlist broken", body="", channel="portal", organisation=org_a
    )
    assert ticket.priority == level_4
    assert sweep_at(traveller, june(1, 16, 0, 1)) == 1  # 9 h later: 18:00 in Kyiv

    notify_sla_event.call(TicketEvent.objects.get(kind="sla_breach").pk)

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.priority.code == "level-3"
    raised = ticket.events.get(kind="priority")
    assert raised.data == {"from": "level-4", "to": "level-3", "reason": "SLA breach"}
    assert raised.actor_user is None
    row = first_response(ticket)
    assert row.target.priority.code == "level-3"
    assert row.limit_seconds == 4 * 3600
    assert row.due_at == june(1, 11)  # 13:00 in Kyiv
    assert sweep_at(traveller, june(1, 17)) == 0  # the breach is not recorded again


def test_breach_at_the_top_priority_has_nowhere_to_go(org_a, traveller):
    levels = import_policy(load_preset("support-levels"))
    subscribe(org_a, levels, "package-5h")
    level_1 = levels.priorities.get(code="level-1")
    Target.objects.filter(priority=level_1, kind="first_response").update(
        breach_action=BreachAction.RAISE_PRIORITY
    )
    ticket = do_create_ticket(
        subject="Site down", body="", channel="monitor", organisation=org_a, alerted_at=MONDAY_9
    )
    sweep_at(traveller, june(1, 10, 0, 1))

    notify_sla_event.call(TicketEvent.objects.get(kind="sla_breach").pk)

    assert Ticket.objects.get(pk=ticket.pk).priority == level_1


def test_breach_reassigns_to_the_configured_staff_member(critical_ticket, admin_user, traveller):
    Target.objects.filter(priority__code="critical", kind="first_response").update(
        breach_action=BreachAction.REASSIGN, reassign_to=admin_user
    )
    sweep_at(traveller, june(1, 13, 0, 1))

    notify_sla_event.call(TicketEvent.objects.get(kind="sla_breach").pk)

    ticket = Ticket.objects.get(pk=critical_ticket.pk)
    assert ticket.assignee == admin_user
    assert ticket.events.filter(kind="assignee").last().data["to"] == admin_user.pk


def test_breach_reassignment_tells_the_new_assignee(critical_ticket, admin_user, traveller):
    Target.objects.filter(priority__code="critical", kind="first_response").update(
        breach_action=BreachAction.REASSIGN, reassign_to=admin_user
    )
    sweep_at(traveller, june(1, 13, 0, 1))

    notify_sla_event.call(TicketEvent.objects.get(kind="sla_breach").pk)

    assert admin_user.email in sla_mail()[0].to


def test_warning_triggers_no_breach_action(critical_ticket, admin_user, traveller):
    Target.objects.filter(priority__code="critical", kind="first_response").update(
        breach_action=BreachAction.REASSIGN, reassign_to=admin_user
    )
    sweep_at(traveller, june(1, 12))

    notify_sla_event.call(TicketEvent.objects.get(kind="sla_warning").pk)

    assert Ticket.objects.get(pk=critical_ticket.pk).assignee != admin_user
