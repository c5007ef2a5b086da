"""Confirmation: one failure never confirms; a run of them does; recovery needs a run too."""

from datetime import UTC, datetime, timedelta

from caredesk.monitoring.state import Event, Health, Policy, State, advance

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
POLICY = Policy(failures=2, recoveries=2)


def run(checks, health=None, policy=POLICY):
    """Feed ``checks`` ("+" good, "-" failed; one a minute); return the health and events."""
    health = health or Health(State.UP, T0 - timedelta(days=1), 0, 2)
    events = []
    for minute, mark in enumerate(checks):
        health, change = advance(health, mark == "+", T0 + timedelta(minutes=minute), policy)
        if change:
            events.append((change.event, minute, int((change.since - T0).total_seconds() // 60)))
    return health, events


def test_a_single_failure_is_a_suspicion_then_cleared():
    health, events = run("+-+")
    assert health.state is State.UP and not health.pending
    assert events == [(Event.SUSPECT, 1, 1), (Event.CLEARED, 2, 1)]


def test_two_failures_in_a_row_confirm_down_from_the_first():
    health, events = run("+--")
    assert health.state is State.DOWN
    assert events == [(Event.SUSPECT, 1, 1), (Event.DOWN, 2, 1)]
    assert health.since == T0 + timedelta(minutes=2)
    assert health.failing_since == T0 + timedelta(minutes=1)


def test_recovery_needs_two_good_checks_and_dates_from_the_first():
    health, events = run("--++")
    assert health.state is State.UP
    assert events[-2:] == [(Event.RECOVERING, 2, 2), (Event.UP, 3, 2)]


def test_a_failure_during_recovery_is_a_relapse_and_restarts_the_count():
    _, events = run("--+-++")
    assert [e for e, *_ in events] == [
        Event.SUSPECT,
        Event.DOWN,
        Event.RECOVERING,
        Event.RELAPSE,
        Event.RECOVERING,
        Event.UP,
    ]
    assert events[-1] == (Event.UP, 5, 4)  # down time ends at the first good check of the run


def test_pending_while_a_change_is_being_confirmed():
    assert run("-")[0].pending
    assert not run("--")[0].pending  # confirmed: back to the normal pace
    assert run("--+")[0].pending
    assert not run("--++")[0].pending


def test_alternating_results_never_confirm_down():
    health, events = run("-+-+-+-+")
    assert health.state is State.UP
    assert Event.DOWN not in [e for e, *_ in events]


def test_a_new_monitor_is_up_at_its_first_good_check():
    health, events = run("+", health=Health())
    assert health.state is State.UP
    assert events == [(Event.FIRST_UP, 0, 0)]


def test_a_new_monitor_that_fails_is_down_after_the_policy():
    health, events = run("---", health=Health(), policy=Policy(failures=3, recoveries=1))
    assert health.state is State.DOWN
    assert events == [(Event.SUSPECT, 0, 0), (Event.DOWN, 2, 0)]


def test_a_policy_of_one_confirms_at_once():
    _, events = run("-+", policy=Policy(failures=1, recoveries=1))
    assert events == [(Event.DOWN, 0, 0), (Event.UP, 1, 1)]


def test_counters_stop_growing_once_they_have_done_their_work():
    # A steady monitor's health stops changing, so the store has nothing to write.
    health, _ = run("+" * 50)
    assert health.oks == 2
    down, _ = run("-" * 50)
    assert down.fails == 2
    again, change = advance(down, False, T0 + timedelta(hours=2), POLICY)
    assert again == down and change is None


# -- regions: a quorum of regions must agree ---------------------------------------------------

TWO_REGIONS = Policy(failures=2, recoveries=2, regions=2)


def run_regions(checks, health=None, policy=TWO_REGIONS):
    """``checks`` like "a- b+ a-": region letter and mark, one a minute."""
    health = health or Health(State.UP, T0 - timedelta(days=1), 0, 2)
    events = []
    for minute, item in enumerate(checks.split()):
        at = T0 + timedelta(minutes=minute)
        health, change = advance(health, item[1] == "+", at, policy, item[0])
        if change:
            events.append(change.event)
    return health, events


def test_one_region_failing_alone_never_confirms_down():
    health, events = run_regions("a- a- a- a- a-")
    assert health.state is State.UP
    assert health.fails == 2 and health.fail_regions == ("a",)  # counting stopped
    assert events == [Event.SUSPECT]


def test_a_good_check_from_another_region_clears_the_suspicion():
    health, events = run_regions("a- b+ a- b+")
    assert health.state is State.UP and not health.pending
    assert events == [Event.SUSPECT, Event.CLEARED, Event.SUSPECT, Event.CLEARED]


def test_failures_from_two_regions_in_a_row_confirm_down():
    health, events = run_regions("a- b-")
    assert health.state is State.DOWN
    assert health.fail_regions == ("a", "b")
    assert health.failing_since == T0
    assert events == [Event.SUSPECT, Event.DOWN]


def test_a_second_region_confirms_however_many_failures_came_first():
    health, events = run_regions("a- a- a- b-")
    assert health.state is State.DOWN and events == [Event.SUSPECT, Event.DOWN]


def test_one_region_failing_alone_cannot_call_off_a_recovery():
    # Down from both; then b sees it back while a's path stays bad.
    health, events = run_regions("a- b- b+ a- b+")
    assert health.state is State.UP
    assert events == [Event.SUSPECT, Event.DOWN, Event.RECOVERING, Event.UP]


def test_both_regions_failing_again_is_a_relapse():
    _, events = run_regions("a- b- b+ a- b-")
    assert events[-1] is Event.RELAPSE


def test_a_quorum_of_one_is_the_single_region_rule():
    health, events = run_regions("a- a-", policy=POLICY)
    assert health.state is State.DOWN and events == [Event.SUSPECT, Event.DOWN]
