"""The three seed agencies' promises, as dated cases through the shipped presets."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from caredesk.plans.models import Plan, Subscription, WorkCategory
from caredesk.sla.clocks import ClockState, Entry, evaluate
from caredesk.sla.models import SlaPolicy
from caredesk.sla.policy_io import import_policy, load_preset, preset_names
from caredesk.tickets.actions import do_create_ticket, do_log_call
from caredesk.tickets.sla_sync import promised_first_response

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
KYIV = ZoneInfo("Europe/Kyiv")


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def kyiv(*args: int) -> datetime:
    return datetime(*args, tzinfo=KYIV)


@pytest.fixture
def kijo() -> SlaPolicy:
    return import_policy(load_preset("kijo-care"))


@pytest.fixture
def studio() -> SlaPolicy:
    return import_policy(load_preset("studio-support"))


@pytest.fixture
def levels() -> SlaPolicy:
    return import_policy(load_preset("support-levels"))


def clock(
    policy: SlaPolicy, priority: str, kind: str, history: list[Entry], now: datetime
) -> ClockState:
    """Evaluate one of the policy's targets with the pure engine."""
    target = policy.priorities.get(code=priority).targets.get(kind=kind)
    return evaluate(target.spec(policy), history, now)


def due(policy: SlaPolicy, priority: str, kind: str, raised: datetime) -> datetime | None:
    return clock(policy, priority, kind, [Entry(raised, "created")], raised).due_at


def subscribe(organisation, policy: SlaPolicy) -> Plan:
    plan = Plan.objects.create(code=f"plan-{policy.code}", name=policy.name, sla_policy=policy)
    Subscription.objects.create(organisation=organisation, plan=plan, start_date=date(2020, 1, 1))
    return plan


def first_response_row(ticket):
    return ticket.sla_clocks.get(kind="first_response")


def test_every_preset_imports():
    assert preset_names() == ["kijo-care", "studio-support", "support-levels"]
    for name in preset_names():
        policy = import_policy(load_preset(name))
        assert policy.priorities.count() >= 3
        assert policy.priorities.filter(is_default=True).count() == 1


# -- KIJO Care: Mon–Fri 08:00–17:00 London, bank holidays of England ------------------------


@pytest.mark.parametrize(
    ("priority", "raised", "expected"),
    [
        # Critical: 4 business hours. Friday afternoon rolls over the weekend.
        ("critical", london(2026, 11, 20, 16, 30), london(2026, 11, 23, 11, 30)),
        # Good Friday (3 Apr) and Easter Monday (6 Apr) are closed.
        ("critical", london(2026, 4, 2, 15), london(2026, 4, 7, 10)),
        # Christmas Day (Fri) and Boxing Day observed (Mon 28 Dec) are closed.
        ("critical", london(2026, 12, 24, 15), london(2026, 12, 29, 10)),
        # Clocks go forward on Sunday 29 March: Monday's hours are BST.
        ("critical", london(2026, 3, 27, 16), london(2026, 3, 30, 11)),
        # Non-critical: 1 business day = 9 business hours.
        ("non-critical", london(2026, 11, 23, 10), london(2026, 11, 24, 10)),
        ("non-critical", london(2026, 11, 20, 16, 30), london(2026, 11, 23, 16, 30)),
        ("non-critical", london(2026, 12, 24, 12), london(2026, 12, 29, 12)),
        # Clocks go back on Sunday 25 October: still 16:00 on the office clock.
        ("non-critical", london(2026, 10, 23, 16), london(2026, 10, 26, 16)),
        # Backup restoration: limit 2 business days.
        ("backup-restoration", london(2026, 11, 23, 10), london(2026, 11, 25, 10)),
    ],
)
def test_kijo_first_response_due(kijo, priority, raised, expected):
    assert due(kijo, priority, "first_response", raised) == expected


def test_kijo_clocks_going_back_add_an_hour_of_real_time_not_of_business_time(kijo):
    raised = london(2026, 10, 23, 16)  # BST: 15:00 UTC

    result = due(kijo, "non-critical", "first_response", raised)

    assert result.astimezone(UTC) == datetime(2026, 10, 26, 16, tzinfo=UTC)  # GMT


def test_kijo_backup_restoration_aims_for_one_business_day_with_a_limit_of_two(kijo):
    raised = london(2026, 11, 23, 10)

    state = clock(kijo, "backup-restoration", "first_response", [Entry(raised, "created")], raised)

    assert state.aim_at == london(2026, 11, 24, 10)
    assert state.due_at == london(2026, 11, 25, 10)


@pytest.mark.parametrize("priority", ["critical", "backup-restoration", "non-critical"])
def test_kijo_resolves_in_five_business_days(kijo, priority):
    assert due(kijo, priority, "resolution", london(2026, 11, 23, 10)) == london(2026, 11, 30, 10)


def test_kijo_resolution_skips_christmas(kijo):
    # 45 business hours from Mon 21 Dec: 21, 22, 23, 24, 29 Dec (25 and 28 are closed).
    assert due(kijo, "non-critical", "resolution", london(2026, 12, 21, 10)) == london(
        2026, 12, 30, 10
    )


def test_kijo_downtime_counts_two_hours_from_the_alert_not_from_the_outage(kijo):
    history = [
        Entry(london(2026, 11, 24, 9), "created"),
        Entry(london(2026, 11, 24, 9, 5), "alert"),
    ]

    state = clock(kijo, "downtime", "first_response", history, london(2026, 11, 24, 9, 30))

    assert state.started_at == london(2026, 11, 24, 9, 5)
    assert state.due_at == london(2026, 11, 24, 11, 5)


def test_kijo_monitor_ticket_gets_the_downtime_priority_and_counts_from_the_alert(
    kijo, org_a, site_a
):
    subscribe(org_a, kijo)
    alerted = london(2026, 11, 24, 9, 5)

    with time_machine.travel(alerted, tick=False):
        ticket = do_create_ticket(
            subject="Alpha shop is down",
            body="HTTP 503 from 3 regions",
            channel="monitor",
            organisation=org_a,
            site=site_a,
            alerted_at=alerted,
        )

    assert ticket.priority.code == "downtime"
    assert ticket.priority.is_critical
    row = first_response_row(ticket)
    assert row.started_at == alerted
    assert row.due_at == london(2026, 11, 24, 11, 5)


def test_kijo_monitor_ticket_opened_after_the_alert_still_counts_from_the_alert(kijo, org_a):
    subscribe(org_a, kijo)
    alerted = london(2026, 11, 24, 9, 5)

    with time_machine.travel(london(2026, 11, 24, 9, 12), tick=False):
        ticket = do_create_ticket(
            subject="Alpha shop is down",
            body="",
            channel="monitor",
            organisation=org_a,
            alerted_at=alerted,
        )

    assert first_response_row(ticket).due_at == london(2026, 11, 24, 11, 5)


def test_kijo_critical_ticket_tells_the_client_when_to_expect_a_reply(kijo, org_a, requester_a):
    subscribe(org_a, kijo)
    WorkCategory.objects.create(code="contact-form", name="Contact form not working")

    with time_machine.travel(london(2026, 11, 20, 16, 30), tick=False):
        ticket = do_create_ticket(
            subject="Contact form does not send",
            body="Nothing arrives since this morning.",
            channel="portal",
            requester=requester_a.contact,
            category=WorkCategory.objects.get(code="contact-form"),
        )

    assert ticket.priority.code == "critical"
    assert first_response_row(ticket).due_at == london(2026, 11, 23, 11, 30)
    assert promised_first_response(ticket) == "by Mon 23 Nov, 11:30"


def test_kijo_non_critical_promise_reads_as_the_design_example(kijo, org_a, requester_a):
    subscribe(org_a, kijo)

    with time_machine.travel(london(2026, 11, 23, 12), tick=False):
        ticket = do_create_ticket(
            subject="Change the opening hours",
            body="We now open at 7.",
            channel="email",
            requester=requester_a.contact,
        )

    assert ticket.priority.code == "non-critical"
    assert promised_first_response(ticket) == "by Tue 24 Nov, 12:00"


# -- The second agency: Mon–Fri 09:00–17:00, mission critical around the clock --------------


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        # 3 working days of 8 hours.
        (london(2026, 11, 23, 10), london(2026, 11, 26, 10)),
        (london(2026, 11, 20, 16), london(2026, 11, 25, 16)),
        # Christmas Day and Boxing Day observed are not working days.
        (london(2026, 12, 23, 10), london(2026, 12, 30, 10)),
    ],
)
def test_studio_user_support_replies_within_three_working_days(studio, raised, expected):
    assert due(studio, "user-support", "first_response", raised) == expected


def test_studio_user_support_has_no_resolution_promise(studio):
    kinds = set(studio.priorities.get(code="user-support").targets.values_list("kind", flat=True))

    assert kinds == {"first_response"}


def test_studio_bug_fix_is_answered_within_one_working_day(studio):
    assert due(studio, "bug-fix", "first_response", london(2026, 11, 24, 10)) == london(
        2026, 11, 25, 10
    )


def test_studio_bug_fix_answered_after_an_hour_is_due_fixed_two_working_days_later(studio):
    raised, answered = london(2026, 11, 24, 10), london(2026, 11, 24, 11)
    history = [
        Entry(raised, "created"),
        Entry(answered, "response", "public_reply"),
        Entry(answered, "status", "open"),
    ]

    response = clock(studio, "bug-fix", "first_response", history, london(2026, 11, 24, 12))
    fix = clock(studio, "bug-fix", "resolution", history, london(2026, 11, 24, 12))

    assert response.met
    assert fix.started_at == answered
    assert fix.aim_at == london(2026, 11, 25, 11)
    assert fix.due_at == london(2026, 11, 26, 11)


def test_studio_bug_fix_clock_waits_for_the_answer(studio):
    raised = london(2026, 11, 24, 10)

    fix = clock(studio, "bug-fix", "resolution", [Entry(raised, "created")], london(2026, 11, 25))

    assert fix.started_at is None
    assert fix.due_at is None


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        # Saturday 03:00 is outside office hours but inside mission-critical cover.
        (london(2026, 11, 21, 3), london(2026, 11, 21, 4)),
        # Christmas Day counts too.
        (london(2026, 12, 25, 12), london(2026, 12, 25, 13)),
        # Clocks go back: 01:30 BST + 1 h of real time is 01:30 GMT, the same wall time.
        (london(2026, 10, 25, 1, 30), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
        # Clocks go forward: 00:30 GMT + 1 h of real time is 02:30 BST.
        (london(2026, 3, 29, 0, 30), london(2026, 3, 29, 2, 30)),
    ],
)
def test_studio_mission_critical_is_counted_around_the_clock(studio, raised, expected):
    assert due(studio, "mission-critical", "first_response", raised) == expected


def test_studio_mission_critical_resolution_counts_real_hours_across_clocks_going_back(studio):
    raised = london(2026, 10, 24, 22)  # 21:00 UTC

    result = due(studio, "mission-critical", "resolution", raised)

    assert result == datetime(2026, 10, 25, 5, tzinfo=UTC)  # 8 h later; 05:00 GMT on the wall


def test_studio_logged_phone_call_answers_a_mission_critical_ticket(studio):
    raised = london(2026, 11, 21, 3)
    history = [
        Entry(raised, "created"),
        Entry(london(2026, 11, 21, 3, 20), "response", "phone_call"),
    ]

    state = clock(studio, "mission-critical", "first_response", history, london(2026, 11, 21, 5))

    assert state.stopped_at == london(2026, 11, 21, 3, 20)
    assert state.met


def test_studio_phone_call_does_not_answer_a_bug_fix(studio):
    raised = london(2026, 11, 24, 10)
    history = [
        Entry(raised, "created"),
        Entry(london(2026, 11, 24, 10, 20), "response", "phone_call"),
    ]

    state = clock(studio, "bug-fix", "first_response", history, london(2026, 11, 24, 12))

    assert state.running


def test_studio_mission_critical_ticket_answered_by_a_logged_call(studio, org_a, staff):
    subscribe(org_a, studio)
    WorkCategory.objects.create(code="downtime", name="Downtime")

    with time_machine.travel(london(2026, 11, 21, 3), tick=False) as traveller:
        ticket = do_create_ticket(
            subject="Server down",
            body="Voicemail: the whole site is gone.",
            channel="email",
            organisation=org_a,
            category=WorkCategory.objects.get(code="downtime"),
        )
        assert ticket.priority.code == "mission-critical"
        assert first_response_row(ticket).due_at == london(2026, 11, 21, 4)
        traveller.move_to(london(2026, 11, 21, 3, 20))
        do_log_call(ticket, "Called back: we are on it.", acting_user=staff)

    row = first_response_row(ticket)
    assert row.stopped_at == london(2026, 11, 21, 3, 20)
    assert row.met
    assert row.next_check_at is None


# -- The third agency: levels 1–4, Kyiv office hours, level 1 around the clock --------------


def test_levels_one_to_four_exist_most_urgent_first(levels):
    priorities = list(levels.priorities.order_by("rank"))

    assert [p.code for p in priorities] == ["level-1", "level-2", "level-3", "level-4"]
    assert [p.rank for p in priorities] == [1, 2, 3, 4]
    assert [p.is_critical for p in priorities] == [True, False, False, False]
    assert priorities[0].for_monitor
    assert priorities[3].is_default


def test_level_one_is_counted_around_the_clock(levels):
    raised = kyiv(2026, 11, 21, 3)  # Saturday night

    assert due(levels, "level-1", "first_response", raised) == kyiv(2026, 11, 21, 4)
    assert due(levels, "level-1", "periodic_update", raised) == kyiv(2026, 11, 21, 5)
    assert due(levels, "level-1", "resolution", raised) == kyiv(2026, 11, 21, 11)


@pytest.mark.parametrize(
    ("priority", "raised", "expected"),
    [
        ("level-2", kyiv(2026, 11, 20, 17), kyiv(2026, 11, 23, 10)),
        ("level-3", kyiv(2026, 11, 23, 9), kyiv(2026, 11, 23, 13)),
        # One Kyiv working day is 9 hours (09:00–18:00).
        ("level-4", kyiv(2026, 11, 20, 17), kyiv(2026, 11, 23, 17)),
        # Kyiv's clocks go back on 25 October as well.
        ("level-4", kyiv(2026, 10, 23, 17), kyiv(2026, 10, 26, 17)),
    ],
)
def test_levels_count_kyiv_office_hours(levels, priority, raised, expected):
    assert due(levels, priority, "first_response", raised) == expected


def test_level_four_answers_every_client_message_within_a_working_day(levels):
    history = [
        Entry(kyiv(2026, 11, 23, 9), "created"),
        Entry(kyiv(2026, 11, 23, 10), "response", "public_reply"),
        Entry(kyiv(2026, 11, 23, 15), "customer_message"),
    ]

    state = clock(levels, "level-4", "next_response", history, kyiv(2026, 11, 23, 16))

    assert state.started_at == kyiv(2026, 11, 23, 15)
    assert state.due_at == kyiv(2026, 11, 24, 15)
