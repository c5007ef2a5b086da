"""The pure SLA clock engine: a clock's state is a function of target, history and now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from caredesk.sla.calendar import Calendar
from caredesk.sla.clocks import ClockState, Entry, Kind, StartOn, Target, evaluate

LONDON = ZoneInfo("Europe/London")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
PAUSES = frozenset({"pending", "on_hold"})


def office_hours(opens: str, closes: str) -> dict:
    return {day: [[opens, closes]] if day in WEEKDAYS else [] for day in (*WEEKDAYS, "sat", "sun")}


@cache
def office() -> Calendar:
    """Mon–Fri 09:00–17:00 London, no holidays: 8 business hours a day."""
    return Calendar.from_dict(
        {"timezone": "Europe/London", "hours": office_hours("09:00", "17:00")}
    )


@cache
def around_the_clock() -> Calendar:
    return Calendar.from_dict({"timezone": "Europe/London", "always": True})


@cache
def kijo() -> Calendar:
    return Calendar.from_dict(
        {
            "timezone": "Europe/London",
            "hours": office_hours("08:00", "17:00"),
            "holidays": {"country": "GB", "subdivision": "ENG"},
        }
    )


def june(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """An instant in June 2026, London time; the 1st is a Monday, the 6th a Saturday."""
    return datetime(2026, 6, day, hour, minute, second, tzinfo=LONDON)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


FOUR_HOURS = timedelta(hours=4)
SIXTEEN_HOURS = timedelta(hours=16)


def target(kind: Kind = Kind.FIRST_RESPONSE, limit: timedelta = FOUR_HOURS, **options) -> Target:
    options.setdefault("calendar", office())
    return Target(kind=kind, limit=limit, **options)


def resolution(limit: timedelta = SIXTEEN_HOURS, **options) -> Target:
    options.setdefault("pause_statuses", PAUSES)
    return target(Kind.RESOLUTION, limit, **options)


def created(at: datetime) -> Entry:
    return Entry(at, "created")


def status(at: datetime, value: str) -> Entry:
    return Entry(at, "status", value)


def reply(at: datetime, kind: str = "public_reply") -> Entry:
    return Entry(at, "response", kind)


def client_writes(at: datetime) -> Entry:
    return Entry(at, "customer_message")


# -- first response ------------------------------------------------------------------------


def test_first_response_stops_at_the_first_public_reply():
    history = [created(june(1, 9)), reply(june(1, 10, 30)), reply(june(1, 11))]

    state = evaluate(target(), history, june(1, 15))

    assert state.started_at == june(1, 9)
    assert state.stopped_at == june(1, 10, 30)
    assert state.elapsed == hours(1.5)
    assert state.met
    assert not state.running
    assert not state.breached
    assert state.due_at is None  # met in time: nothing is due any more


def test_first_response_keeps_running_through_client_messages_and_phone_calls():
    history = [
        created(june(1, 9)),
        client_writes(june(1, 9, 30)),
        reply(june(1, 10), kind="phone_call"),
    ]

    state = evaluate(target(), history, june(1, 11))

    assert state.running
    assert state.stopped_at is None
    assert state.elapsed == hours(2)
    assert state.due_at == june(1, 13)


def test_first_response_counts_a_phone_call_when_the_target_says_so():
    chosen = target(response_kinds=frozenset({"public_reply", "phone_call"}))
    history = [created(june(1, 9)), reply(june(1, 10), kind="phone_call")]

    state = evaluate(chosen, history, june(1, 11))

    assert state.stopped_at == june(1, 10)
    assert state.met


def test_first_response_is_not_paused_by_pending_by_default():
    history = [created(june(1, 9)), status(june(1, 10), "pending")]

    state = evaluate(target(), history, june(1, 12))

    assert state.running
    assert not state.paused
    assert state.elapsed == hours(3)


def test_clock_without_a_created_entry_has_not_started():
    state = evaluate(target(), [], june(1, 12))

    assert state.started_at is None
    assert state.due_at is None
    assert state.warn_at is None
    assert not state.running
    assert not state.breached
    assert state.remaining == hours(4)


# -- resolution: pauses, solved, reopened ----------------------------------------------------


def test_resolution_pauses_while_pending_and_resumes_when_open_again():
    history = [
        created(june(1, 9)),
        status(june(1, 10), "pending"),
        status(june(1, 13), "open"),
    ]

    state = evaluate(resolution(), history, june(1, 15))

    assert state.running
    assert state.elapsed == hours(3)  # 09–10 and 13–15
    assert state.pauses == ((june(1, 10), june(1, 13)),)
    # 16 h limit, 1 h used before the pause: 15 h from 13:00 = Mon 4 h + Tue 8 h + Wed 3 h.
    assert state.due_at == june(3, 12)


def test_resolution_pauses_while_on_hold():
    history = [created(june(1, 9)), status(june(1, 11), "on_hold")]

    state = evaluate(resolution(), history, june(2, 15))

    assert state.paused
    assert state.elapsed == hours(2)
    assert state.pauses == ((june(1, 11), None),)


def test_paused_clock_has_no_due_time():
    history = [created(june(1, 9)), status(june(1, 10), "on_hold")]

    state = evaluate(resolution(), history, june(1, 12))

    assert state.paused
    assert not state.running
    assert state.due_at is None
    assert state.warn_at is None
    assert not state.breached


def test_clock_paused_at_this_very_instant_is_paused():
    history = [created(june(1, 9)), status(june(1, 10), "pending")]

    state = evaluate(resolution(), history, june(1, 10))

    assert state.paused
    assert state.due_at is None


def test_clock_resumed_at_this_very_instant_is_running():
    history = [created(june(1, 9)), status(june(1, 10), "pending"), status(june(1, 12), "open")]

    state = evaluate(resolution(), history, june(1, 12))

    assert state.running
    assert state.due_at == june(3, 11)


def test_moving_between_pausing_statuses_stays_one_pause():
    history = [
        created(june(1, 9)),
        status(june(1, 10), "pending"),
        status(june(1, 11), "on_hold"),
        status(june(1, 14), "open"),
    ]

    state = evaluate(resolution(), history, june(1, 16))

    assert state.pauses == ((june(1, 10), june(1, 14)),)
    assert state.elapsed == hours(3)


def test_resolution_stops_when_solved():
    history = [created(june(1, 9)), status(june(1, 11), "solved")]

    state = evaluate(resolution(), history, june(3, 9))

    assert state.stopped_at == june(1, 11)
    assert state.elapsed == hours(2)
    assert state.met
    assert state.due_at is None


def test_resolution_resumes_when_a_solved_ticket_is_reopened():
    history = [
        created(june(1, 9)),
        status(june(1, 11), "solved"),
        status(june(1, 14), "open"),
    ]

    state = evaluate(resolution(), history, june(1, 16))

    assert state.running
    assert state.stopped_at is None
    assert state.elapsed == hours(4)  # 09–11 and 14–16: the solved time does not count
    assert state.pauses == ((june(1, 11), june(1, 14)),)
    assert state.due_at == june(3, 12)  # 12 h left from 16:00 Monday


def test_closing_a_solved_ticket_keeps_the_solved_instant_as_the_stop():
    history = [
        created(june(1, 9)),
        status(june(1, 11), "solved"),
        status(june(8, 9), "closed"),
    ]

    state = evaluate(resolution(), history, june(8, 10))

    assert state.elapsed == hours(2)
    assert state.stopped_at == june(1, 11)


# -- breaches --------------------------------------------------------------------------------


def test_running_clock_is_not_breached_at_its_due_instant():
    history = [created(june(1, 9))]

    assert not evaluate(target(), history, june(1, 13)).breached


def test_running_clock_is_breached_just_after_its_due_instant():
    history = [created(june(1, 9))]

    state = evaluate(target(), history, june(1, 13, 0, 1))

    assert state.breached
    assert state.running
    assert state.due_at == june(1, 13)
    assert state.remaining < timedelta(0)


def test_response_exactly_at_the_due_instant_is_met():
    history = [created(june(1, 9)), reply(june(1, 13))]

    state = evaluate(target(), history, june(1, 14))

    assert state.met
    assert not state.breached
    assert state.due_at is None


def test_late_response_is_a_breach_that_keeps_its_due_instant():
    history = [created(june(1, 9)), reply(june(1, 13, 0, 1))]

    state = evaluate(target(), history, june(1, 14))

    assert state.stopped_at == june(1, 13, 0, 1)
    assert state.breached
    assert not state.met
    assert state.due_at == june(1, 13)


def test_clock_breached_before_a_pause_stays_breached_while_paused():
    history = [created(june(1, 9)), status(june(2, 10), "pending")]

    state = evaluate(resolution(limit=hours(8)), history, june(3, 12))

    assert state.paused
    assert state.breached
    assert state.due_at == june(1, 17)


# -- aim and warning -------------------------------------------------------------------------


def test_aim_and_warning_instants_on_business_time():
    chosen = target(limit=hours(8), aim=hours(4))

    state = evaluate(chosen, [created(june(1, 9))], june(1, 10))

    assert state.aim_at == june(1, 13)
    assert state.warn_at == june(1, 15)  # 75 % of 8 h = 6 h
    assert state.due_at == june(1, 17)
    assert state.aim == hours(4)


def test_warning_share_is_taken_from_the_target():
    chosen = target(limit=hours(8), warn_share=0.5)

    state = evaluate(chosen, [created(june(1, 9))], june(1, 10))

    assert state.warn_at == june(1, 13)


def test_warning_crosses_the_night_in_business_time():
    # 75 % of 4 h = 3 h: one hour on Friday, two on Monday.
    state = evaluate(target(), [created(june(5, 16))], june(5, 16, 30))

    assert state.warn_at == june(8, 11)
    assert state.due_at == june(8, 12)


def test_target_without_aim_has_no_aim_instant():
    assert evaluate(target(), [created(june(1, 9))], june(1, 10)).aim_at is None


# -- start events ----------------------------------------------------------------------------


def test_start_on_first_response_waits_for_the_response():
    fix = resolution(aim=hours(8), start_on=StartOn.FIRST_RESPONSE)

    state = evaluate(fix, [created(june(1, 9))], june(1, 16))

    assert state.started_at is None
    assert state.due_at is None
    assert not state.running


def test_start_on_first_response_counts_the_fix_from_the_answer():
    # "respond within 1 working day, fix within the next 1–2 working days"
    fix = resolution(aim=hours(8), start_on=StartOn.FIRST_RESPONSE)
    history = [created(june(1, 9)), reply(june(1, 10)), status(june(1, 10), "open")]

    state = evaluate(fix, history, june(1, 12))

    assert state.started_at == june(1, 10)
    assert state.elapsed == hours(2)
    assert state.aim_at == june(2, 10)
    assert state.due_at == june(3, 10)


def test_start_on_alert_counts_from_the_alert_not_from_the_ticket():
    downtime = target(limit=hours(2), start_on=StartOn.ALERT)
    history = [created(june(1, 9)), Entry(june(1, 9, 20), "alert")]

    state = evaluate(downtime, history, june(1, 10))

    assert state.started_at == june(1, 9, 20)
    assert state.due_at == june(1, 11, 20)


def test_start_on_alert_without_an_alert_counts_from_the_ticket():
    downtime = target(limit=hours(2), start_on=StartOn.ALERT)

    state = evaluate(downtime, [created(june(1, 9))], june(1, 10))

    assert state.started_at == june(1, 9)


def test_start_on_alert_counts_from_an_alert_raised_before_the_ticket_was_created():
    downtime = target(limit=hours(2), start_on=StartOn.ALERT)
    history = [Entry(june(1, 9, 5), "alert"), created(june(1, 9, 10))]

    state = evaluate(downtime, history, june(1, 10))

    assert state.started_at == june(1, 9, 5)
    assert state.due_at == june(1, 11, 5)


# -- next response and periodic update -------------------------------------------------------


def next_response() -> Target:
    return target(Kind.NEXT_RESPONSE, hours(2))


def test_next_response_does_not_start_before_the_first_response():
    history = [created(june(1, 9)), client_writes(june(1, 9, 30))]

    state = evaluate(next_response(), history, june(1, 15))

    assert state.started_at is None
    assert state.due_at is None


def test_next_response_cycle_starts_when_the_client_writes_after_our_answer():
    history = [
        created(june(1, 9)),
        reply(june(1, 9, 30)),
        client_writes(june(1, 10)),
        client_writes(june(1, 10, 30)),
    ]

    state = evaluate(next_response(), history, june(1, 11))

    assert state.started_at == june(1, 10)
    assert state.running
    assert state.due_at == june(1, 12)


def test_next_response_cycle_stops_at_our_reply():
    history = [
        created(june(1, 9)),
        reply(june(1, 9, 30)),
        client_writes(june(1, 10)),
        reply(june(1, 11)),
    ]

    state = evaluate(next_response(), history, june(1, 15))

    assert state.started_at == june(1, 10)
    assert state.stopped_at == june(1, 11)
    assert state.met


def test_next_response_starts_a_new_cycle_on_the_next_client_message():
    history = [
        created(june(1, 9)),
        reply(june(1, 9, 30)),
        client_writes(june(1, 10)),
        reply(june(1, 11)),
        client_writes(june(1, 16)),
    ]

    state = evaluate(next_response(), history, june(2, 10))

    assert state.started_at == june(1, 16)
    assert state.stopped_at is None
    assert state.elapsed == hours(2)  # 16–17 Monday, 09–10 Tuesday
    assert state.due_at == june(2, 10)
    assert not state.breached


def test_periodic_update_runs_from_our_latest_reply():
    update = target(Kind.PERIODIC_UPDATE, hours(2), calendar=around_the_clock())
    history = [created(june(1, 9)), reply(june(1, 10)), reply(june(1, 13))]

    state = evaluate(update, history, june(1, 14))

    assert state.started_at == june(1, 13)
    assert state.stopped_at is None
    assert state.due_at == june(1, 15)


def test_periodic_update_runs_from_creation_until_the_first_reply():
    update = target(Kind.PERIODIC_UPDATE, hours(2), calendar=around_the_clock())

    state = evaluate(update, [created(june(1, 9))], june(1, 12))

    assert state.started_at == june(1, 9)
    assert state.breached


def test_periodic_update_pauses_while_solved():
    update = target(Kind.PERIODIC_UPDATE, hours(2), calendar=around_the_clock())
    history = [created(june(1, 9)), reply(june(1, 10)), status(june(1, 10, 30), "solved")]

    state = evaluate(update, history, june(1, 15))

    assert state.paused
    assert state.due_at is None
    assert not state.breached


# -- time travel and calendars ---------------------------------------------------------------


def test_entries_after_now_are_ignored():
    history = [
        created(june(1, 9)),
        status(june(1, 10), "pending"),
        reply(june(1, 11)),
        status(june(1, 12), "solved"),
    ]
    then = june(1, 9, 30)

    for chosen in (target(), resolution()):
        past = evaluate(chosen, history, then)
        assert past == evaluate(chosen, history[:1], then)
        assert past.running
        assert past.elapsed == hours(0.5)


def test_history_order_does_not_matter():
    history = [
        created(june(1, 9)),
        status(june(1, 10), "pending"),
        status(june(1, 12), "open"),
    ]

    assert evaluate(resolution(), history[::-1], june(1, 15)) == evaluate(
        resolution(), history, june(1, 15)
    )


def test_target_on_its_own_around_the_clock_calendar():
    # Saturday 03:00: the office is closed, mission-critical cover is not.
    history = [created(june(6, 3))]

    office_state = evaluate(target(limit=hours(1)), history, june(6, 3, 30))
    cover_state = evaluate(
        target(limit=hours(1), calendar=around_the_clock()), history, june(6, 3, 30)
    )

    assert office_state.due_at == june(8, 10)
    assert office_state.elapsed == timedelta(0)
    assert cover_state.due_at == june(6, 4)
    assert cover_state.elapsed == hours(0.5)


def test_around_the_clock_target_counts_real_time_across_clocks_going_back():
    night = datetime(2026, 10, 25, 0, 30, tzinfo=LONDON)  # BST; 01:00–02:00 happens twice

    state = evaluate(target(limit=hours(2), calendar=around_the_clock()), [created(night)], night)

    assert state.due_at == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert state.due_at.astimezone(LONDON).hour == 1


def test_clock_state_reports_elapsed_in_business_time_only():
    state = evaluate(target(limit=hours(20)), [created(june(5, 16))], june(8, 10))

    assert state.elapsed == hours(2)  # Friday 16–17, Monday 09–10
    assert state.remaining == hours(18)


# -- properties ------------------------------------------------------------------------------

BASE = datetime(2026, 1, 1, tzinfo=UTC)
YEARS_OF_SECONDS = 2 * 366 * 86_400
calendars = st.sampled_from([office, around_the_clock, kijo]).map(lambda make: make())
instants = st.integers(0, YEARS_OF_SECONDS).map(lambda s: BASE + timedelta(seconds=s))
limits = st.integers(60, 120 * 3600).map(lambda s: timedelta(seconds=s))
gaps = st.integers(0, 10 * 86_400).map(lambda s: timedelta(seconds=s))
clock_kinds = st.sampled_from([Kind.FIRST_RESPONSE, Kind.RESOLUTION])
facts = st.one_of(
    st.tuples(st.just("status"), st.sampled_from(["open", "pending", "on_hold", "solved"])),
    st.tuples(st.just("response"), st.just("public_reply")),
    st.tuples(st.just("customer_message"), st.just("")),
)


def _later_entries(start: datetime, steps: list[tuple[timedelta, tuple[str, str]]]) -> list[Entry]:
    entries, at = [], start
    for gap, (kind, value) in steps:
        at += gap
        entries.append(Entry(at, kind, value))
    return entries


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, kind=clock_kinds, start=instants, limit=limits, wait=gaps)
def test_running_clock_without_pauses_is_due_at_start_plus_limit(
    calendar: Calendar, kind: Kind, start: datetime, limit: timedelta, wait: timedelta
):
    chosen = target(kind, limit, calendar=calendar, pause_statuses=PAUSES)

    state = evaluate(chosen, [created(start)], start + wait)

    assert state.running
    assert state.due_at == calendar.add(start, limit)
    assert state.breached == (state.due_at < start + wait)
    assert state.elapsed == calendar.between(start, start + wait)


@settings(max_examples=150, deadline=None)
@given(
    calendar=calendars,
    kind=clock_kinds,
    start=instants,
    limit=limits,
    steps=st.lists(st.tuples(gaps, facts), max_size=6),
    first=gaps,
    second=gaps,
)
def test_elapsed_never_decreases_as_now_moves_on(
    calendar: Calendar,
    kind: Kind,
    start: datetime,
    limit: timedelta,
    steps: list,
    first: timedelta,
    second: timedelta,
):
    chosen = target(kind, limit, calendar=calendar, pause_statuses=PAUSES)
    history = [created(start), *_later_entries(start, steps)]

    earlier = evaluate(chosen, history, start + first)
    later = evaluate(chosen, history, start + first + second)

    assert earlier.elapsed <= later.elapsed


@settings(max_examples=150, deadline=None)
@given(
    calendar=calendars,
    start=instants,
    limit=limits,
    pauses=st.lists(st.tuples(gaps, gaps), min_size=1, max_size=3),
    wait=gaps,
)
def test_pausing_never_makes_the_due_time_earlier(
    calendar: Calendar,
    start: datetime,
    limit: timedelta,
    pauses: list[tuple[timedelta, timedelta]],
    wait: timedelta,
):
    chosen = resolution(limit, calendar=calendar)
    plain = [created(start)]
    paused, at = list(plain), start
    for gap, length in pauses:
        at += gap
        paused.append(status(at, "pending"))
        at += length
        paused.append(status(at, "open"))
    now = at + wait + timedelta(seconds=1)  # the last resume lies in the past

    without: ClockState = evaluate(chosen, plain, now)
    with_pauses: ClockState = evaluate(chosen, paused, now)

    assert with_pauses.running
    assert with_pauses.due_at >= without.due_at
    assert with_pauses.elapsed <= without.elapsed
