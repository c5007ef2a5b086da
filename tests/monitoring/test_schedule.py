"""The heap of due checks and the spread of first checks."""

from caredesk.monitoring.engine.schedule import Schedule, spread


def test_first_checks_spread_evenly_over_the_interval():
    offsets = [spread(monitor_id, 60.0) for monitor_id in range(1, 6001)]
    assert all(0 <= offset < 60 for offset in offsets)
    per_second = [0] * 60
    for offset in offsets:
        per_second[int(offset)] += 1
    assert max(per_second) <= 110 and min(per_second) >= 90  # 100 a second, flat


def test_spread_is_stable_for_a_monitor():
    assert spread(42, 60.0) == spread(42, 60.0)


def test_pop_due_returns_monitors_in_due_order():
    schedule = Schedule()
    schedule.plan(1, 5.0)
    schedule.plan(2, 1.0)
    schedule.plan(3, 3.0)
    assert schedule.pop_due(4.0) == (2, 1.0)
    assert schedule.pop_due(4.0) == (3, 3.0)
    assert schedule.pop_due(4.0) is None
    assert schedule.next_due() == 5.0


def test_replanning_replaces_the_old_entry():
    schedule = Schedule()
    schedule.plan(1, 1.0)
    schedule.plan(1, 10.0)
    assert len(schedule) == 1
    assert schedule.pop_due(5.0) is None
    assert schedule.next_due() == 10.0
    assert schedule.pop_due(10.0) == (1, 10.0)
    assert schedule.pop_due(100.0) is None


def test_cancelled_monitors_never_come_due():
    schedule = Schedule()
    schedule.plan(1, 1.0)
    schedule.cancel(1)
    assert 1 not in schedule
    assert schedule.pop_due(5.0) is None
    assert schedule.next_due() is None
