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
