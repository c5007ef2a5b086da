"""Every change to a ticket goes through a do_* action: one event, clocks kept, listeners told."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from caredesk.clients.models import Organisation
from caredesk.ops.demo import load_demo
from caredesk.plans.models import QueueTier, WorkCategory
from caredesk.sla.policy_io import import_policy, load_preset
from caredesk.tickets import actions
from caredesk.tickets.actions import (
    do_add_customer_message,
    do_add_note,
    do_approve_estimate,
    do_assign,
    do_change_priority,
    do_change_status,
    do_create_ticket,
    do_log_call,
    do_reply,
    do_request_estimate,
    do_set_category,
)
from caredesk.tickets.models import Message, SlaClock, Status, Ticket, TicketEvent
from caredesk.tickets.signals import ticket_event

from .conftest import MONDAY_9, june, subscribe

pytestmark = pytest.mark.django_db


def events(ticket: Ticket) -> list[str]:
    return list(ticket.events.values_list("kind", flat=True))


def clock_row(ticket: Ticket, kind: str = "first_response") -> SlaClock:
    return SlaClock.objects.get(ticket=ticket, kind=kind)


def refreshed(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


# -- do_create_ticket ------------------------------------------------------------------------


def test_ticket_number_is_the_offset_plus_the_row_id(raise_ticket, settings):
    ticket = raise_ticket()

    assert ticket.number == settings.CAREDESK_TICKET_NUMBER_OFFSET + ticket.pk
    assert refreshed(ticket).number == ticket.number
    assert ticket.reference == f"#{ticket.number}"


def test_ticket_numbers_are_unique_and_increasing(raise_ticket):
    numbers = [raise_ticket().number for _ in range(3)]

    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 3


def test_ticket_number_offset_is_a_setting(raise_ticket, settings):
    settings.CAREDESK_TICKET_NUMBER_OFFSET = 50_000

    ticket = raise_ticket()

    assert ticket.number == 50_000 + ticket.pk


def test_new_ticket_records_its_creation_and_first_message(raise_ticket, contact_a, traveller):
    ticket = raise_ticket(subject="  Gallery \n broken  ")

    assert ticket.subject == "Gallery broken"
    assert ticket.status == Status.NEW
    assert ticket.organisation == contact_a.organisation
    assert ticket.requester_email == contact_a.email
    assert ticket.created_at == MONDAY_9
    assert events(ticket) == ["created", "message"]
    message = ticket.messages.get()
    assert message.kind == "customer"
    assert message.author_contact == contact_a
    assert message.created_at == MONDAY_9


def test_empty_subject_becomes_no_subject(raise_ticket):
    assert raise_ticket(subject=" \t ").subject == "(no subject)"


def test_ticket_without_a_body_has_no_message(raise_ticket):
    ticket = raise_ticket(body="  ")

    assert not ticket.messages.exists()
    assert events(ticket) == ["created"]


def test_unknown_channel_is_refused(raise_ticket):
    with pytest.raises(ValidationError) as caught:
        raise_ticket(channel="pigeon")

    assert "channel" in caught.value.message_dict
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("category", "channel", "priority"),
    [
        (None, "portal", "non-critical"),
        ("contact-form", "portal", "critical"),
        ("backup-restoration", "widget", "backup-restoration"),
        ("bug-fix", "email", "non-critical"),
        (None, "monitor", "downtime"),
        ("downtime", "phone", "downtime"),
    ],
)
def test_priority_follows_from_category_and_channel_under_the_plans_policy(
    raise_ticket, categories, kijo, category, channel, priority
):
    ticket = raise_ticket(category=categories.get(category), channel=channel)

    assert ticket.sla_policy == kijo
    assert ticket.priority.code == priority


def test_priority_given_by_staff_is_kept(raise_ticket, kijo, categories):
    critical = kijo.priorities.get(code="critical")

    ticket = raise_ticket(priority=critical, category=categories["bug-fix"])

    assert ticket.priority == critical


def test_priority_from_another_policy_is_refused(raise_ticket):
    studio = import_policy(load_preset("studio-support"))

    with pytest.raises(ValidationError) as caught:
        raise_ticket(priority=studio.priorities.get(code="bug-fix"))

    assert "priority" in caught.value.message_dict


def test_plan_clients_are_served_first(raise_ticket):
    assert raise_ticket().queue_tier == QueueTier.PLAN


@pytest.mark.parametrize("category", [None, "bug-fix", "contact-form"])
def test_included_work_is_not_billable(raise_ticket, categories, category):
    ticket = raise_ticket(category=categories.get(category))

    assert not ticket.billable
    assert ticket.billable_reason == ""


def test_excluded_category_is_billable_with_the_reason(raise_ticket, categories):
    ticket = raise_ticket(category=categories["new-feature"])

    assert ticket.billable
    assert (
        ticket.billable_reason == "New feature is not included in KIJO Care; it is billed per hour."
    )


def test_category_the_plan_does_not_mention_is_billable(raise_ticket, categories):
    ticket = raise_ticket(category=categories["training"])

    assert ticket.billable
    assert "not included in KIJO Care" in ticket.billable_reason


def test_client_without_a_plan_is_billable_on_demand_under_the_default_policy(kijo, other_contact):
    ticket = do_create_ticket(
        subject="Quote for a shop",
        body="Can you add a shop?",
        channel="email",
        requester=other_contact,
    )

    assert ticket.billable
    assert ticket.billable_reason == "No plan: work is on demand and billed per hour."
    assert ticket.queue_tier == QueueTier.ON_DEMAND
    assert ticket.sla_policy == kijo
    assert ticket.priority.code == "non-critical"


def test_on_demand_plan_is_billable_and_served_after_plan_clients(kijo, org_b, other_contact):
    subscribe(org_b, kijo, "kijo-optimise", name="KIJO Optimise", queue_tier=QueueTier.ON_DEMAND)

    ticket = do_create_ticket(
        subject="New landing page", body="", channel="portal", requester=other_contact
    )

    assert ticket.billable
    assert ticket.billable_reason == "KIJO Optimise is billed per hour."
    assert ticket.queue_tier == QueueTier.ON_DEMAND


def test_ended_subscription_no_longer_counts(kijo, org_b, other_contact, traveller):
    subscribe(org_b, kijo, "old-plan")
    org_b.subscriptions.update(end_date=date(2026, 5, 31))

    ticket = do_create_ticket(subject="Hello", body="", channel="portal", requester=other_contact)

    assert ticket.billable_reason.startswith("No plan")


def test_sender_without_an_organisation_gets_no_policy_and_no_clocks(kijo):
    ticket = do_create_ticket(
        subject="Hi", body="Who are you?", channel="email", requester_email="Stranger@Example.COM"
    )

    assert ticket.organisation is None
    assert ticket.requester_email == "stranger@example.com"
    assert ticket.sla_policy is None
    assert ticket.priority is None
    assert not ticket.billable
    assert not ticket.sla_clocks.exists()


def test_requester_from_another_organisation_is_refused(client_a, other_contact):
    with pytest.raises(ValidationError) as caught:
        do_create_ticket(
            subject="Hi", body="", channel="portal", organisation=client_a, requester=other_contact
        )

    assert "requester" in caught.value.message_dict
    assert not Ticket.objects.exists()


def test_site_from_another_organisation_is_refused(raise_ticket, site_b):
    with pytest.raises(ValidationError) as caught:
        raise_ticket(site=site_b)

    assert "site" in caught.value.message_dict
    assert not Ticket.objects.exists()


def test_site_without_an_organisation_is_refused(kijo, site_a):
    with pytest.raises(ValidationError) as caught:
        do_create_ticket(subject="Hi", body="", channel="email", site=site_a)

    assert "site" in caught.value.message_dict


def test_new_ticket_starts_its_clocks(raise_ticket, categories, traveller):
    ticket = raise_ticket(category=categories["contact-form"])

    row = clock_row(ticket)
    assert row.started_at == MONDAY_9
    assert row.due_at == june(1, 13)
    assert refreshed(ticket).sla_next_due_at == june(1, 13)
    assert set(ticket.sla_clocks.values_list("kind", flat=True)) == {
        "first_response",
        "resolution",
    }


def test_phone_ticket_typed_by_staff_is_the_client_speaking(raise_ticket, staff, traveller):
    ticket = raise_ticket(channel="phone", acting_user=staff, body="Caller: the site is slow.")

    message = ticket.messages.get()
    assert message.author_user == staff
    assert message.kind == "customer"
    assert clock_row(ticket).running
    assert ticket.events.get(kind="message").actor_user is None


def test_monitor_ticket_records_the_alert(client_a, traveller):
    ticket = do_create_ticket(
        subject="Down", body="", channel="monitor", organisation=client_a, alerted_at=MONDAY_9
    )

    assert events(ticket) == ["created", "alert"]
    assert ticket.alerted_at == MONDAY_9


# -- client messages -------------------------------------------------------------------------


@pytest.mark.parametrize("before", [Status.SOLVED, Status.PENDING])
def test_client_message_reopens_a_solved_or_pending_ticket(raise_ticket, contact_a, staff, before):
    ticket = raise_ticket()
    do_change_status(ticket, before, acting_user=staff)

    do_add_customer_message(ticket, "It is broken again.", contact=contact_a)

    assert refreshed(ticket).status == Status.OPEN
    reopened = ticket.events.filter(kind="status").last()
    assert reopened.data == {"from": before, "to": "open", "reason": "client replied"}
    assert reopened.actor_contact == contact_a


@pytest.mark.parametrize("before", [Status.NEW, Status.OPEN, Status.ON_HOLD, Status.CLOSED])
def test_client_message_leaves_other_statuses_alone(raise_ticket, contact_a, staff, before):
    ticket = raise_ticket()
    if before != Status.NEW:
        do_change_status(ticket, before, acting_user=staff)

    do_add_customer_message(ticket, "Any news?", contact=contact_a)

    assert refreshed(ticket).status == before


def test_auto_reply_does_not_reopen(raise_ticket, contact_a, staff):
    ticket = raise_ticket()
    do_change_status(ticket, Status.PENDING, acting_user=staff)

    message = do_add_customer_message(
        ticket, "I am out of the office.", contact=contact_a, is_auto=True
    )

    assert message.is_auto
    assert refreshed(ticket).status == Status.PENDING
    assert ticket.events.last().data["auto"] is True


def test_client_message_keeps_mail_headers_and_lowercases_the_address(raise_ticket):
    ticket = raise_ticket()

    message = do_add_customer_message(
        ticket, "Thanks", name="Rob", email="Rob@Alpha.Example", email_message_id="<a@b>"
    )

    assert message.author_email == "rob@alpha.example"
    assert message.email_message_id == "<a@b>"


# -- replies, notes and calls ----------------------------------------------------------------


def test_first_reply_sets_first_response_once_and_opens_the_ticket(raise_ticket, staff, traveller):
    ticket = raise_ticket()
    traveller.move_to(june(1, 10))
    do_reply(ticket, "Looking into it.", acting_user=staff)
    traveller.move_to(june(1, 11))

    do_reply(ticket, "Fixed.", acting_user=staff)

    ticket = refreshed(ticket)
    assert ticket.first_response_at == june(1, 10)
    assert ticket.status == Status.OPEN
    row = clock_row(ticket)
    assert row.stopped_at == june(1, 10)
    assert row.met


def test_reply_can_set_a_status(raise_ticket, staff):
    ticket = raise_ticket()

    do_reply(ticket, "Can you send a screenshot?", acting_user=staff, status=Status.PENDING)

    assert refreshed(ticket).status == Status.PENDING
    assert events(ticket)[-1] == "status"


def test_reply_leaves_a_pending_ticket_pending(raise_ticket, staff):
    ticket = raise_ticket()
    do_change_status(ticket, Status.PENDING, acting_user=staff)

    do_reply(ticket, "Still waiting for the screenshot.", acting_user=staff)

    assert refreshed(ticket).status == Status.PENDING


@pytest.mark.parametrize("user", ["requester_a", None])
def test_only_staff_reply(raise_ticket, request, user):
    ticket = raise_ticket()
    acting = request.getfixturevalue(user) if user else None

    with pytest.raises(ValidationError):
        do_reply(ticket, "Hello", acting_user=acting)

    assert ticket.messages.count() == 1


def test_internal_note_never_counts_as_a_response(raise_ticket, staff, traveller):
    ticket = raise_ticket()
    traveller.move_to(june(1, 10))

    note = do_add_note(ticket, "Probably the CDN.", acting_user=staff)

    ticket = refreshed(ticket)
    assert not note.is_public
    assert ticket.first_response_at is None
    assert ticket.status == Status.NEW
    assert clock_row(ticket).running


def test_client_cannot_write_internal_notes(raise_ticket, requester_a):
    with pytest.raises(ValidationError):
        do_add_note(raise_ticket(), "psst", acting_user=requester_a)


def test_logged_call_opens_the_ticket_but_is_no_response_under_kijo(raise_ticket, staff, traveller):
    ticket = raise_ticket()
    traveller.move_to(june(1, 10))

    do_log_call(ticket, "Called: they will send a screenshot.", acting_user=staff)

    ticket = refreshed(ticket)
    assert ticket.status == Status.OPEN
    assert ticket.messages.last().kind == "phone_call"
    assert clock_row(ticket).running


# -- status ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.SOLVED, Status.CLOSED])
def test_client_can_solve_or_close_their_ticket(raise_ticket, contact_a, status):
    ticket = raise_ticket()

    do_change_status(ticket, status, acting_contact=contact_a)

    ticket = refreshed(ticket)
    assert ticket.status == status
    assert (ticket.solved_at if status == Status.SOLVED else ticket.closed_at) is not None
    assert ticket.events.last().actor_contact == contact_a


@pytest.mark.parametrize("status", [Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.NEW])
def test_client_cannot_set_other_statuses(raise_ticket, contact_a, status):
    ticket = raise_ticket()

    with pytest.raises(ValidationError):
        do_change_status(ticket, status, acting_contact=contact_a)

    assert refreshed(ticket).status == Status.NEW


def test_client_closing_a_closed_ticket_changes_nothing(raise_ticket, contact_a, staff):
    ticket = raise_ticket()
    do_change_status(ticket, Status.CLOSED, acting_user=staff)
    before = events(ticket)

    do_change_status(ticket, Status.SOLVED, acting_contact=contact_a)

    assert refreshed(ticket).status == Status.CLOSED
    assert events(ticket) == before


def test_contact_of_another_organisation_cannot_close_the_ticket(raise_ticket, other_contact):
    ticket = raise_ticket()

    with pytest.raises(ValidationError):
        do_change_status(ticket, Status.CLOSED, acting_contact=other_contact)


def test_status_change_needs_someone_and_a_known_status(raise_ticket, staff):
    ticket = raise_ticket()

    with pytest.raises(ValidationError):
        do_change_status(ticket, Status.SOLVED)
    with pytest.raises(ValidationError):
        do_change_status(ticket, "archived", acting_user=staff)


def test_setting_the_same_status_writes_nothing(raise_ticket, staff):
    ticket = raise_ticket()

    do_change_status(ticket, Status.NEW, acting_user=staff)

    assert events(ticket) == ["created", "message"]


def test_staff_status_change_is_recorded_with_from_and_to(raise_ticket, staff, traveller):
    ticket = raise_ticket()
    traveller.move_to(june(1, 11))

    do_change_status(ticket, Status.SOLVED, acting_user=staff)

    event = ticket.events.last()
    assert (event.kind, event.data, event.actor_user) == (
        "status",
        {"from": "new", "to": "solved"},
        staff,
    )
    assert refreshed(ticket).solved_at == june(1, 11)
    assert clock_row(ticket, "resolution").stopped_at == june(1, 11)


# -- priority --------------------------------------------------------------------------------


def test_priority_change_recomputes_clocks_from_the_ticket_history(
    raise_ticket, kijo, staff, traveller
):
    ticket = raise_ticket()
    assert clock_row(ticket).due_at == june(2, 9)  # non-critical: 9 business hours
    traveller.move_to(june(1, 10))

    do_change_priority(
        ticket, kijo.priorities.get(code="critical"), acting_user=staff, reason="form is down"
    )

    row = clock_row(ticket)
    assert row.started_at == MONDAY_9
    assert row.due_at == june(1, 13)  # created + 4 business hours, not the change + 4 h
    assert row.target.priority.code == "critical"
    assert refreshed(ticket).sla_next_due_at == june(1, 13)
    event = ticket.events.last()
    assert event.kind == "priority"
    assert event.data == {"from": "non-critical", "to": "critical", "reason": "form is down"}


def test_priority_raised_after_its_limit_is_breached_at_once(raise_ticket, kijo, staff, traveller):
    ticket = raise_ticket()
    traveller.move_to(june(1, 14))

    do_change_priority(ticket, kijo.priorities.get(code="critical"), acting_user=staff)

    row = clock_row(ticket)
    assert row.breached
    assert row.due_at == june(1, 13)
    assert row.next_check_at == june(1, 13)  # the sweep records the breach


def test_priority_from_another_policy_cannot_be_set(raise_ticket, staff):
    studio = import_policy(load_preset("studio-support"))
    ticket = raise_ticket()

    with pytest.raises(ValidationError):
        do_change_priority(ticket, studio.priorities.get(code="bug-fix"), acting_user=staff)


def test_setting_the_same_priority_writes_nothing(raise_ticket, staff):
    ticket = raise_ticket()

    do_change_priority(ticket, ticket.priority, acting_user=staff)

    assert "priority" not in events(ticket)


# -- assignment and category -----------------------------------------------------------------


def test_assign_to_staff_and_back_to_nobody(raise_ticket, staff, admin_user):
    ticket = raise_ticket()

    do_assign(ticket, staff, acting_user=admin_user)
    do_assign(ticket, staff, acting_user=admin_user)
    do_assign(ticket, None, acting_user=admin_user)

    assert refreshed(ticket).assignee is None
    changes = [e.data for e in ticket.events.filter(kind="assignee")]
    assert changes == [{"from": None, "to": staff.pk}, {"from": staff.pk, "to": None}]


def test_assign_refuses_a_client_user(raise_ticket, manager_a, admin_user):
    ticket = raise_ticket()

    with pytest.raises(ValidationError) as caught:
        do_assign(ticket, manager_a, acting_user=admin_user)

    assert "assignee" in caught.value.message_dict
    assert refreshed(ticket).assignee is None


def test_assign_refuses_a_deactivated_staff_member(raise_ticket, staff, admin_user):
    staff.is_active = False
    staff.save()

    with pytest.raises(ValidationError):
        do_assign(raise_ticket(), staff, acting_user=admin_user)


def test_category_change_re_derives_billable(raise_ticket, categories, staff):
    ticket = raise_ticket(category=categories["bug-fix"])

    do_set_category(ticket, categories["new-feature"], acting_user=staff)
    excluded = refreshed(ticket)
    do_set_category(ticket, categories["bug-fix"], acting_user=staff)
    included = refreshed(ticket)

    assert excluded.billable
    assert "not included in KIJO Care" in excluded.billable_reason
    assert not included.billable
    assert included.billable_reason == ""
    changes = [e.data for e in ticket.events.filter(kind="category")]
    assert changes == [
        {"from": "bug-fix", "to": "new-feature", "billable": True},
        {"from": "new-feature", "to": "bug-fix", "billable": False},
    ]


def test_setting_the_same_category_writes_nothing(raise_ticket, categories, staff):
    ticket = raise_ticket(category=categories["bug-fix"])

    do_set_category(ticket, categories["bug-fix"], acting_user=staff)

    assert "category" not in events(ticket)


def test_category_change_without_a_plan_stays_billable(kijo, other_contact, categories, staff):
    ticket = do_create_ticket(subject="Hi", body="", channel="portal", requester=other_contact)

    do_set_category(ticket, categories["bug-fix"], acting_user=staff)

    assert refreshed(ticket).billable


# -- estimates -------------------------------------------------------------------------------


def test_estimate_is_requested_by_staff_and_approved_by_the_client(
    raise_ticket, categories, staff, contact_a, traveller
):
    ticket = raise_ticket(category=categories["new-feature"])

    do_request_estimate(ticket, 90, acting_user=staff)
    traveller.move_to(june(1, 12))
    do_approve_estimate(ticket, acting_contact=contact_a)

    ticket = refreshed(ticket)
    assert ticket.estimate_minutes == 90
    assert ticket.estimate_approved_at == june(1, 12)
    assert events(ticket)[-2:] == ["estimate_requested", "estimate_approved"]
    assert ticket.events.last().data == {"minutes": 90}


def test_new_estimate_needs_a_new_approval(raise_ticket, staff, contact_a):
    ticket = raise_ticket()
    do_request_estimate(ticket, 60, acting_user=staff)
    do_approve_estimate(ticket, acting_contact=contact_a)

    do_request_estimate(ticket, 120, acting_user=staff)

    ticket = refreshed(ticket)
    assert ticket.estimate_minutes == 120
    assert ticket.estimate_approved_at is None


@pytest.mark.parametrize("minutes", [0, -30])
def test_estimate_must_be_positive(raise_ticket, staff, minutes):
    with pytest.raises(ValidationError):
        do_request_estimate(raise_ticket(), minutes, acting_user=staff)


def test_client_cannot_request_an_estimate(raise_ticket, manager_a):
    with pytest.raises(ValidationError):
        do_request_estimate(raise_ticket(), 60, acting_user=manager_a)


def test_only_the_clients_own_contact_approves(raise_ticket, staff, other_contact):
    ticket = raise_ticket()
    do_request_estimate(ticket, 60, acting_user=staff)

    with pytest.raises(ValidationError):
        do_approve_estimate(ticket, acting_contact=other_contact)

    assert refreshed(ticket).estimate_approved_at is None


def test_nothing_to_approve_without_an_estimate(raise_ticket, contact_a):
    with pytest.raises(ValidationError):
        do_approve_estimate(raise_ticket(), acting_contact=contact_a)


# -- the audit trail and the signal ----------------------------------------------------------


def _context(raise_ticket, kijo, categories, staff, contact_a):
    ticket = raise_ticket(category=categories["bug-fix"])
    return {
        "ticket": ticket,
        "staff": staff,
        "contact": contact_a,
        "critical": kijo.priorities.get(code="critical"),
        "category": categories["new-feature"],
    }


ACTIONS = {
    "customer message": (
        lambda c: do_add_customer_message(c["ticket"], "More detail", contact=c["contact"]),
        ["message"],
    ),
    "reply": (
        lambda c: do_reply(c["ticket"], "On it", acting_user=c["staff"]),
        ["message", "status"],
    ),
    "note": (lambda c: do_add_note(c["ticket"], "CDN?", acting_user=c["staff"]), ["message"]),
    "call": (
        lambda c: do_log_call(c["ticket"], "Rang", acting_user=c["staff"]),
        ["message", "status"],
    ),
    "status": (
        lambda c: do_change_status(c["ticket"], Status.ON_HOLD, acting_user=c["staff"]),
        ["status"],
    ),
    "priority": (
        lambda c: do_change_priority(c["ticket"], c["critical"], acting_user=c["staff"]),
        ["priority"],
    ),
    "assign": (lambda c: do_assign(c["ticket"], c["staff"], acting_user=c["staff"]), ["assignee"]),
    "category": (
        lambda c: do_set_category(c["ticket"], c["category"], acting_user=c["staff"]),
        ["category"],
    ),
    "estimate": (
        lambda c: do_request_estimate(c["ticket"], 30, acting_user=c["staff"]),
        ["estimate_requested"],
    ),
}


@pytest.mark.parametrize("name", list(ACTIONS))
def test_every_action_writes_events_and_signals_them_after_commit(
    name, raise_ticket, kijo, categories, staff, contact_a, django_capture_on_commit_callbacks
):
    context = _context(raise_ticket, kijo, categories, staff, contact_a)
    action, expected = ACTIONS[name]
    heard = []

    def listener(sender, **kwargs):
        heard.append(kwargs)

    ticket_event.connect(listener, dispatch_uid="test_actions.listener")
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            before = TicketEvent.objects.count()
            action(context)
            assert heard == []  # nothing is told before the commit
        written = list(TicketEvent.objects.order_by("id")[before:])
    finally:
        ticket_event.disconnect(dispatch_uid="test_actions.listener")

    assert [e.kind for e in written] == expected
    assert len(callbacks) >= len(expected)
    assert [(h["ticket_id"], h["event_id"], h["kind"]) for h in heard] == [
        (context["ticket"].pk, e.pk, e.kind) for e in written
    ]


def test_approving_an_estimate_is_signalled(
    raise_ticket, staff, contact_a, django_capture_on_commit_callbacks
):
    ticket = raise_ticket()
    do_request_estimate(ticket, 30, acting_user=staff)
    heard = []

    def listener(sender, **kwargs):
        heard.append(kwargs["kind"])

    ticket_event.connect(listener, dispatch_uid="test_actions.approve")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            do_approve_estimate(ticket, acting_contact=contact_a)
    finally:
        ticket_event.disconnect(dispatch_uid="test_actions.approve")

    assert heard == ["estimate_approved"]


def test_ticket_creation_is_signalled_after_commit(
    client_a, contact_a, django_capture_on_commit_callbacks
):
    heard = []

    def listener(sender, **kwargs):
        heard.append(kwargs["kind"])

    ticket_event.connect(listener, dispatch_uid="test_actions.create")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            do_create_ticket(
                subject="Down",
                body="Help",
                channel="monitor",
                requester=contact_a,
                alerted_at=june(1, 9),
            )
            assert heard == []
    finally:
        ticket_event.disconnect(dispatch_uid="test_actions.create")

    assert heard == ["created", "alert", "message"]


def test_failed_action_signals_nothing_and_keeps_nothing(
    raise_ticket, staff, monkeypatch, django_capture_on_commit_callbacks
):
    ticket = raise_ticket()

    def broken(*args, **kwargs):
        raise RuntimeError("clock store unavailable")

    monkeypatch.setattr(actions.sla_sync, "recompute", broken)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        do_reply(ticket, "On it", acting_user=staff)

    assert callbacks == []
    assert ticket.messages.count() == 1
    assert refreshed(ticket).first_response_at is None


def test_message_rows_are_ordered_by_time(raise_ticket, staff, contact_a, traveller):
    ticket = raise_ticket()
    traveller.shift(timedelta(minutes=5))
    do_reply(ticket, "Hi", acting_user=staff)
    traveller.shift(timedelta(minutes=5))
    do_add_customer_message(ticket, "Thanks", contact=contact_a)

    assert list(Message.objects.filter(ticket=ticket).values_list("kind", flat=True)) == [
        "customer",
        "public_reply",
        "customer",
    ]


# -- the demo catalogues ---------------------------------------------------------------------


KIJO, STUDIO, LEVELS = "kijo-care", "studio-support", "support-levels"


@pytest.mark.parametrize(
    ("organisation", "category", "channel", "policy", "priority", "billable", "tier"),
    [
        ("Harbour Bakery Ltd", "contact-form", "portal", KIJO, "critical", False, 1),
        ("Harbour Bakery Ltd", "new-feature", "portal", KIJO, "non-critical", True, 1),
        ("Fenwick Dental Practice", None, "monitor", KIJO, "downtime", False, 1),
        ("Stroud Valley Arts", "bug-fix", "email", STUDIO, "bug-fix", False, 1),
        (
            "Cotswold Cycle Hire",
            "downtime",
            "phone",
            STUDIO,
            "mission-critical",
            False,
            1,
        ),
        (
            "Cotswold Cycle Hire",
            "design-change",
            "email",
            STUDIO,
            "user-support",
            True,
            1,
        ),
        ("Northwind Outdoor Store", "security", "portal", LEVELS, "level-1", False, 1),
        ("Northwind Outdoor Store", "performance", "portal", LEVELS, "level-3", False, 1),
        ("Paper Lantern Events", "bug-fix", "email", KIJO, "non-critical", True, 2),
    ],
)
def test_demo_clients_get_their_plans_promises(
    organisation, category, channel, policy, priority, billable, tier
):
    load_demo(activity=False)
    org = Organisation.objects.get(name=organisation)

    with time_machine.travel(MONDAY_9, tick=False):
        ticket = do_create_ticket(
            subject="Help",
            body="Please help.",
            channel=channel,
            requester=org.contacts.first(),
            category=WorkCategory.objects.filter(code=category).first(),
        )

    assert ticket.sla_policy.code == policy
    assert ticket.priority.code == priority
    assert ticket.billable is billable
    assert ticket.queue_tier == tier
    assert clock_row(ticket).due_at is not None
