"""Tests for the pure business-time calendar (no Django needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caredesk.sla import calendar as calendar_module
from caredesk.sla.calendar import Calendar

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
US = timedelta(microseconds=1)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
ENGLAND = {"country": "GB", "subdivision": "ENG"}


def weekdays(*intervals: tuple[str, str], days: tuple[str, ...] = WEEKDAYS) -> dict[str, Any]:
    return {d: [list(i) for i in intervals] if d in days else [] for d in calendar_module.DAYS}


def every_day(*intervals: tuple[str, str]) -> dict[str, Any]:
    return weekdays(*intervals, days=calendar_module.DAYS)


KIJO = {
    "timezone": "Europe/London",
    "hours": weekdays(("08:00", "17:00")),
    "holidays": ENGLAND,
}
SECOND_AGENCY = {
    "timezone": "Europe/London",
    "hours": weekdays(("09:00", "17:00")),
    "holidays": ENGLAND,
}
ALWAYS_LONDON = {"timezone": "Europe/London", "always": True}

# Calendars for the property tests: lunch breaks, holidays, closures, DST zones,
# half-hour zones, bounds inside DST gaps/folds, and midnight transitions.
PROPERTY_SPECS: dict[str, dict[str, Any]] = {
    "kijo": KIJO,
    "lunch": {
        "timezone": "Europe/London",
        "hours": {
            **weekdays(("13:30", "17:00"), ("08:00", "12:30")),
            "sat": [["10:00", "14:00"]],
        },
        "holidays": ENGLAND,
        "closed": ["2026-12-24", "2026-12-31", "2027-01-04"],
    },
    "always": {**ALWAYS_LONDON, "closed": ["2026-03-29", "2027-07-01"]},
    "new_york": {
        "timezone": "America/New_York",
        "hours": every_day(("00:00", "24:00")),
        "holidays": {"country": "US"},
    },
    "adelaide": {
        "timezone": "Australia/Adelaide",
        "hours": weekdays(("09:00", "17:30"), days=(*WEEKDAYS, "sun")),
        "holidays": {"country": "AU", "subdivision": "SA"},
    },
    "lord_howe": {
        "timezone": "Australia/Lord_Howe",
        "hours": every_day(("01:45", "02:15"), ("09:00", "17:00")),
    },
    "london_night": {
        "timezone": "Europe/London",
        "hours": every_day(("00:30", "01:30"), ("01:30", "03:00"), ("23:30", "24:00")),
        "closed": ["2027-03-28"],
    },
    "santiago": {"timezone": "America/Santiago", "hours": every_day(("00:00", "24:00"))},
    "havana": {
        "timezone": "America/Havana",
        "hours": every_day(("00:00", "00:30"), ("07:00", "19:00")),
    },
    "kolkata": {"timezone": "Asia/Kolkata", "hours": weekdays(("09:30", "18:00"))},
}


@cache
def cal(name: str) -> Calendar:
    return Calendar.from_dict(PROPERTY_SPECS[name])


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# -- dated cases ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "start", "duration", "due"),
    [
        # Friday afternoon rolls over the weekend.
        (KIJO, london(2026, 11, 20, 16, 30), hours(4), london(2026, 11, 23, 11, 30)),
        # Good Friday and Easter Monday are skipped.
        (KIJO, london(2026, 4, 2, 15), hours(4), london(2026, 4, 7, 10)),
        # Work that ends at closing time is due at closing time.
        (KIJO, london(2026, 4, 2, 16), hours(1), london(2026, 4, 2, 17)),
        (KIJO, london(2026, 11, 23, 8), hours(9), london(2026, 11, 23, 17)),
        # Starting at closing time counts from the next opening.
        (KIJO, london(2026, 11, 23, 17), hours(1), london(2026, 11, 24, 9)),
        # Saturday start counts from Monday 08:00.
        (KIJO, london(2026, 11, 21, 10), hours(1), london(2026, 11, 23, 9)),
        # One business day (9 h) and one week of them.
        (KIJO, london(2026, 11, 23, 10), hours(9), london(2026, 11, 24, 10)),
        (KIJO, london(2026, 11, 23, 10), hours(45), london(2026, 11, 30, 10)),
        # Christmas, Boxing Day (Saturday) and its substitute Monday are closed.
        (KIJO, london(2026, 12, 24, 16), hours(2), london(2026, 12, 29, 9)),
        # 20 business days from Monday 2026-11-30 10:00, skipping 25 and 28 Dec.
        (KIJO, london(2026, 11, 30, 10), hours(180), london(2026, 12, 30, 10)),
        (KIJO, london(2026, 12, 21, 10), hours(90), london(2027, 1, 7, 10)),
        (KIJO, london(2026, 11, 23, 8), timedelta(0), london(2026, 11, 23, 8)),
        (SECOND_AGENCY, london(2026, 11, 20, 16, 30), hours(4), london(2026, 11, 23, 12, 30)),
        (SECOND_AGENCY, london(2026, 11, 23, 9), hours(8), london(2026, 11, 23, 17)),
        (SECOND_AGENCY, london(2026, 11, 23, 7), hours(1), london(2026, 11, 23, 10)),
        (ALWAYS_LONDON, london(2026, 11, 20, 16, 30), hours(4), london(2026, 11, 20, 20, 30)),
        # 23-hour and 25-hour days.
        (ALWAYS_LONDON, london(2026, 3, 29), hours(24), london(2026, 3, 30, 1)),
        (ALWAYS_LONDON, london(2026, 10, 25), hours(24), london(2026, 10, 25, 23)),
    ],
)
def test_add_dated(
    spec: dict[str, Any], start: datetime, duration: timedelta, due: datetime
) -> None:
    calendar = Calendar.from_dict(spec)
    result = calendar.add(start, duration)
    assert result == due
    assert result.tzinfo is UTC
    assert calendar.between(start, result) == duration


@pytest.mark.parametrize(
    ("spec", "a", "b", "expected"),
    [
        (KIJO, london(2026, 11, 20, 16, 30), london(2026, 11, 23, 11, 30), hours(4)),
        (KIJO, london(2026, 4, 1), london(2026, 4, 8), hours(27)),  # 3 open days
        (KIJO, london(2026, 1, 1), london(2027, 1, 1), hours(9 * (261 - 8))),
        (SECOND_AGENCY, london(2026, 11, 23), london(2026, 11, 30), hours(40)),
        (ALWAYS_LONDON, london(2026, 3, 29), london(2026, 3, 30), hours(23)),
        (ALWAYS_LONDON, london(2026, 10, 25), london(2026, 10, 26), hours(25)),
        (KIJO, london(2026, 11, 23, 12), london(2026, 11, 23, 12), timedelta(0)),
    ],
)
def test_between_dated(spec: dict[str, Any], a: datetime, b: datetime, expected: timedelta) -> None:
    calendar = Calendar.from_dict(spec)
    assert calendar.between(a, b) == expected
    assert calendar.between(b, a) == -expected


def test_is_open_and_next_open() -> None:
    kijo = Calendar.from_dict(KIJO)
    assert kijo.is_open(london(2026, 11, 23, 8))
    assert kijo.is_open(london(2026, 11, 23, 16, 59, 59, 999_999))
    assert not kijo.is_open(london(2026, 11, 23, 17))
    assert not kijo.is_open(london(2026, 11, 23, 7, 59, 59))
    assert not kijo.is_open(london(2026, 12, 25, 10))  # Christmas Day
    open_now = london(2026, 11, 23, 10, 15)
    assert kijo.next_open(open_now) == open_now
    assert kijo.next_open(open_now).tzinfo is UTC
    assert kijo.next_open(london(2026, 11, 20, 17)) == london(2026, 11, 23, 8)
    assert kijo.next_open(london(2026, 12, 24, 18)) == london(2026, 12, 29, 8)


def test_microseconds_are_kept() -> None:
    kijo = Calendar.from_dict(KIJO)
    start = london(2026, 11, 23, 9, 0, 0, 123_456)
    assert kijo.add(start, timedelta(microseconds=1)) == start + US
    assert kijo.add(start, timedelta(seconds=1, microseconds=7)) == london(
        2026, 11, 23, 9, 0, 1, 123_463
    )
    assert kijo.between(start, london(2026, 11, 23, 17)) == timedelta(
        hours=7, minutes=59, seconds=59, microseconds=876_544
    )


# -- DST and unusual offsets ------------------------------------------------------


def day_length(calendar: Calendar, zone: ZoneInfo, day: date) -> timedelta:
    start = datetime.combine(day, time(), tzinfo=zone)
    return calendar.between(start, datetime.combine(day + timedelta(days=1), time(), tzinfo=zone))


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        ("Europe/London", date(2026, 3, 29), hours(23)),
        ("Europe/London", date(2026, 10, 25), hours(25)),
        ("Europe/London", date(2026, 10, 26), hours(24)),
        ("America/New_York", date(2026, 3, 8), hours(23)),
        ("America/New_York", date(2026, 11, 1), hours(25)),
        ("Australia/Adelaide", date(2026, 10, 4), hours(23)),
        ("Australia/Adelaide", date(2026, 4, 5), hours(25)),
        ("Australia/Lord_Howe", date(2026, 10, 4), hours(23.5)),
        ("Australia/Lord_Howe", date(2026, 4, 5), hours(24.5)),
        ("Asia/Kolkata", date(2026, 3, 29), hours(24)),
    ],
)
def test_always_day_is_real_elapsed_time(zone: str, day: date, expected: timedelta) -> None:
    calendar = Calendar.from_dict({"timezone": zone, "always": True})
    assert day_length(calendar, ZoneInfo(zone), day) == expected


@pytest.mark.parametrize("zone", ["America/Santiago", "America/Havana", "Australia/Lord_Howe"])
def test_all_day_calendar_counts_every_real_second_of_a_year(zone: str) -> None:
    tz = ZoneInfo(zone)
    start, end = datetime(2026, 1, 1, tzinfo=tz), datetime(2027, 1, 1, tzinfo=tz)
    for spec in ({"always": True}, {"hours": every_day(("00:00", "24:00"))}):
        calendar = Calendar.from_dict({"timezone": zone, **spec})
        # Subtracting datetimes that share a tzinfo ignores offsets: go via UTC.
        elapsed = end.astimezone(UTC) - start.astimezone(UTC)
        assert calendar.between(start, end) == elapsed
        assert calendar.add(start, elapsed) == end


def test_nine_to_five_is_unaffected_by_dst() -> None:
    calendar = Calendar.from_dict(
        {"timezone": "Europe/London", "hours": every_day(("09:00", "17:00"))}
    )
    for day in (date(2026, 3, 29), date(2026, 10, 25)):
        assert day_length(calendar, LONDON, day) == hours(8)
        assert calendar.next_open(datetime.combine(day, time(), tzinfo=LONDON)) == datetime.combine(
            day, time(9), tzinfo=LONDON
        )


def test_new_york_all_day_weekdays() -> None:
    weekdays_only = Calendar.from_dict(
        {"timezone": "America/New_York", "hours": weekdays(("00:00", "24:00"))}
    )
    week = (datetime(2026, 3, 2, tzinfo=NEW_YORK), datetime(2026, 3, 9, tzinfo=NEW_YORK))
    assert weekdays_only.between(*week) == hours(120)
    friday_noon = datetime(2026, 3, 6, 12, tzinfo=NEW_YORK)
    assert weekdays_only.add(friday_noon, hours(24)) == datetime(2026, 3, 9, 12, tzinfo=NEW_YORK)
    every = Calendar.from_dict(
        {"timezone": "America/New_York", "hours": every_day(("00:00", "24:00"))}
    )
    assert every.between(*week) == hours(7 * 24 - 1)
    assert day_length(every, NEW_YORK, date(2026, 11, 1)) == hours(25)


def test_half_hour_zones() -> None:
    kolkata = cal("kolkata")
    opening = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)  # 09:30 IST (+05:30)
    assert kolkata.next_open(datetime(2026, 6, 1, tzinfo=UTC)) == opening
    assert kolkata.add(opening, hours(8.5)) == datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
    adelaide = Calendar.from_dict(
        {"timezone": "Australia/Adelaide", "hours": weekdays(("09:00", "17:00"))}
    )
    # 09:00 ACDT (+10:30) in January, 09:00 ACST (+09:30) in June.
    assert adelaide.next_open(datetime(2026, 1, 4, 12, tzinfo=UTC)) == datetime(
        2026, 1, 4, 22, 30, tzinfo=UTC
    )
    assert adelaide.next_open(datetime(2026, 5, 31, 12, tzinfo=UTC)) == datetime(
        2026, 5, 31, 23, 30, tzinfo=UTC
    )


def test_bounds_inside_dst_gap_and_fold() -> None:
    night = Calendar.from_dict(
        {"timezone": "Europe/London", "hours": every_day(("01:30", "03:00"))}
    )
    # 2026-03-29: 01:00 GMT jumps to 02:00 BST, so 01:30 maps to the jump.
    assert night.next_open(london(2026, 3, 29)) == datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert day_length(night, LONDON, date(2026, 3, 29)) == hours(1)
    # 2026-10-25: 02:00 BST goes back to 01:00 GMT. Opens at the first 01:30 and,
    # being open when the clocks go back, stays open through the repeated hour.
    assert night.next_open(london(2026, 10, 25)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert day_length(night, LONDON, date(2026, 10, 25)) == hours(2.5)
    early = Calendar.from_dict(
        {"timezone": "Europe/London", "hours": every_day(("00:00", "01:30"))}
    )
    # Closes at the first 01:30; the repeated hour stays closed.
    assert day_length(early, LONDON, date(2026, 10, 25)) == hours(1.5)
    assert not early.is_open(datetime(2026, 10, 25, 1, 15, tzinfo=UTC))  # 01:15 GMT, repeated
    skipped = Calendar.from_dict(
        {"timezone": "Europe/London", "hours": every_day(("01:15", "01:45"))}
    )
    assert day_length(skipped, LONDON, date(2026, 3, 29)) == timedelta(0)


# -- holidays, closures, zones of inputs ------------------------------------------


def test_closed_dates_close_an_always_calendar() -> None:
    calendar = Calendar.from_dict({**ALWAYS_LONDON, "closed": ["2026-12-24"]})
    assert not calendar.is_open(london(2026, 12, 24, 12))
    assert calendar.is_open(london(2026, 12, 23, 23, 59))
    assert calendar.add(london(2026, 12, 23, 23), hours(2)) == london(2026, 12, 25, 1)
    assert day_length(calendar, LONDON, date(2026, 12, 24)) == timedelta(0)


def test_holidays_close_an_always_calendar() -> None:
    calendar = Calendar.from_dict({**ALWAYS_LONDON, "holidays": ENGLAND})
    assert not calendar.is_open(london(2026, 12, 25, 12))
    assert calendar.next_open(london(2026, 12, 25, 12)) == london(2026, 12, 27)  # 26th too
    assert not calendar.is_open(london(2026, 12, 28, 12))  # Boxing Day substitute


def test_scottish_holidays_differ() -> None:
    scotland = Calendar.from_dict({**KIJO, "holidays": {"country": "GB", "subdivision": "SCT"}})
    assert scotland.is_open(london(2026, 4, 6, 10))  # no Easter Monday holiday
    assert not scotland.is_open(london(2026, 1, 2, 10))  # 2 January
    assert not Calendar.from_dict(KIJO).is_open(london(2026, 4, 6, 10))


def test_inputs_in_other_zones_give_the_same_instants() -> None:
    kijo = Calendar.from_dict(KIJO)
    start = london(2026, 11, 20, 16, 30)
    due = kijo.add(start, hours(4))
    for zone in (UTC, NEW_YORK, ZoneInfo("Asia/Tokyo")):
        moved = start.astimezone(zone)
        assert kijo.add(moved, hours(4)) == due
        assert kijo.between(moved, due.astimezone(zone)) == hours(4)
        assert kijo.is_open(moved) == kijo.is_open(start)
        assert kijo.next_open(moved) == kijo.next_open(start)


def test_naive_datetimes_are_rejected() -> None:
    kijo = Calendar.from_dict(KIJO)
    naive = datetime(2026, 11, 23, 10)  # noqa: DTZ001 - the point of the test
    aware = london(2026, 11, 23, 10)
    for call in (
        lambda: kijo.add(naive, hours(1)),
        lambda: kijo.between(naive, aware),
        lambda: kijo.between(aware, naive),
        lambda: kijo.is_open(naive),
        lambda: kijo.next_open(naive),
    ):
        with pytest.raises(ValueError, match="naive datetime"):
            call()


def test_negative_duration_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        Calendar.from_dict(KIJO).add(london(2026, 11, 23, 10), -US)


def test_calendar_without_open_time_fails_fast() -> None:
    empty = Calendar.from_dict({"timezone": "UTC", "hours": {}})
    assert not empty.is_open(london(2026, 11, 23, 10))
    assert empty.between(london(2026, 1, 1), london(2027, 1, 1)) == timedelta(0)
    assert empty.add(london(2026, 1, 1), timedelta(0)) == london(2026, 1, 1)
    with pytest.raises(ValueError, match="no open time"):
        empty.add(london(2026, 1, 1), hours(1))
    with pytest.raises(ValueError, match="no open time"):
        empty.next_open(london(2026, 1, 1))


def test_searches_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar_module, "MAX_SEARCH_DAYS", 30)
    closed = [str(date(2026, 1, 1) + timedelta(days=n)) for n in range(60)]
    calendar = Calendar.from_dict({**ALWAYS_LONDON, "closed": closed})
    with pytest.raises(ValueError, match="no result within 30 days"):
        calendar.next_open(london(2026, 1, 1))
    with pytest.raises(ValueError, match="no result within 30 days"):
        calendar.add(london(2026, 1, 1), hours(1))
    # Long durations are found by whole-week jumps, then refused past the bound.
    kijo = Calendar.from_dict(KIJO)
    assert kijo.add(london(2026, 1, 1), hours(9 * 15)) > london(2026, 1, 21)
    with pytest.raises(ValueError, match="no result within 30 days"):
        kijo.add(london(2026, 1, 1), hours(9 * 40))


# -- from_dict / to_dict -----------------------------------------------------------


def test_round_trip_and_sorting() -> None:
    spec = PROPERTY_SPECS["lunch"]
    calendar = Calendar.from_dict(spec)
    data = calendar.to_dict()
    assert data["hours"]["mon"] == [["08:00", "12:30"], ["13:30", "17:00"]]
    assert data["hours"]["sun"] == []
    assert data["holidays"] == ENGLAND
    assert data["closed"] == ["2026-12-24", "2026-12-31", "2027-01-04"]
    assert Calendar.from_dict(data) == calendar
    assert Calendar.from_dict(data).to_dict() == data
    for name in PROPERTY_SPECS:
        assert Calendar.from_dict(cal(name).to_dict()).to_dict() == cal(name).to_dict()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, r"calendar: unknown key\(s\) \['colour'\]"),
        ({"timezone": "Mars/Olympus"}, "timezone: unknown time zone"),
        ({"timezone": "../etc"}, "timezone: unknown time zone"),
        ({"timezone": None}, "timezone: expected"),
        ({"hours": {"mon": [["8:00", "17:00"]]}}, r"hours\.mon\[0\]: expected \"HH:MM\""),
        ({"hours": {"mon": [["08:60", "17:00"]]}}, r"hours\.mon\[0\]: '08:60'"),
        ({"hours": {"mon": [["08:00", "24:30"]]}}, r"hours\.mon\[0\]: '24:30'"),
        ({"hours": {"mon": [["17:00", "08:00"]]}}, r"hours\.mon\[0\]: start 17:00 is not before"),
        ({"hours": {"mon": [["08:00", "08:00"]]}}, r"hours\.mon\[0\]: start"),
        ({"hours": {"mon": [["24:00", "24:00"]]}}, r"hours\.mon\[0\]: start"),
        ({"hours": {"mon": [["08:00"]]}}, r"hours\.mon\[0\]: expected"),
        ({"hours": {"mon": "08:00-17:00"}}, r"hours\.mon: expected a list"),
        (
            {"hours": {"tue": [["12:00", "17:00"], ["08:00", "12:30"]]}},
            r"hours\.tue: intervals 08:00-12:30 and 12:00-17:00 overlap",
        ),
        ({"hours": {"monday": []}}, r"hours: unknown key\(s\) \['monday'\]"),
        ({"hours": []}, "hours: expected a dict"),
        ({"always": "yes"}, "always: expected true or false"),
        ({"closed": ["2026-02-30"]}, r"closed\[0\]: '2026-02-30' is not a date"),
        ({"closed": ["24/12/2026"]}, r"closed\[0\]: expected \"YYYY-MM-DD\""),
        ({"closed": ["2026-12-24", "20261231"]}, r"closed\[1\]"),
        ({"closed": "2026-12-24"}, "closed: expected a list"),
        ({"holidays": {"country": "XX"}}, "holidays.country: unknown country 'XX'"),
        ({"holidays": {"country": "GB", "subdivision": "XYZ"}}, "holidays.subdivision"),
        ({"holidays": {"country": "GB", "region": "ENG"}}, r"holidays: unknown key\(s\)"),
        ({"holidays": "GB"}, "holidays: expected"),
    ],
)
def test_validation_errors_name_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Calendar.from_dict({**KIJO, **change})


def test_touching_intervals_are_allowed() -> None:
    calendar = Calendar.from_dict(
        {**KIJO, "hours": {"mon": [["12:00", "17:00"], ["08:00", "12:00"]]}}
    )
    assert calendar.add(london(2026, 11, 23, 11), hours(2)) == london(2026, 11, 23, 13)


# -- property-based tests ----------------------------------------------------------


def _transitions(zone: str) -> list[datetime]:
    """UTC instants near which the zone's offset changes, 2020-2030."""
    tz, found = ZoneInfo(zone), []
    moment = datetime(2020, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(tz).utcoffset()
    while moment.year <= 2030:
        moment += timedelta(hours=6)
        offset = moment.astimezone(tz).utcoffset()
        if offset != previous:
            found.append(moment)
        previous = offset
    return found or [moment]


TRANSITIONS = {name: _transitions(spec["timezone"]) for name, spec in PROPERTY_SPECS.items()}
ZONES = st.sampled_from([UTC, LONDON, NEW_YORK, ZoneInfo("Australia/Lord_Howe")])
names = st.sampled_from(sorted(PROPERTY_SPECS))
durations = st.one_of(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=30)),
    st.integers(0, 48 * 4).map(lambda q: timedelta(minutes=15 * q)),
)


@st.composite
def moments(draw: st.DrawFn, name: str) -> datetime:
    """Instants over 2020-2030, often within days of a DST change, in any zone."""
    if draw(st.booleans()):
        base = draw(st.sampled_from(TRANSITIONS[name]))
        moment = base + draw(st.timedeltas(-timedelta(days=3), timedelta(days=3)))
    else:
        moment = draw(
            st.datetimes(
                min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
                max_value=datetime(2030, 12, 31),  # noqa: DTZ001
                timezones=st.just(UTC),
            )
        )
    if draw(st.booleans()):  # land exactly on whole minutes/hours sometimes
        moment = moment.replace(second=0, microsecond=0)
    return moment.astimezone(draw(ZONES))


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(data=st.data(), name=names, duration=durations)
def test_between_inverts_add(data: st.DataObject, name: str, duration: timedelta) -> None:
    calendar, start = cal(name), data.draw(moments(name))
    due = calendar.add(start, duration)
    assert due >= start
    assert due.tzinfo is UTC
    assert calendar.between(start, due) == duration
    if duration:
        assert calendar.is_open(due - US)  # the last instant before due is open
    else:
        assert due == start.astimezone(UTC)


@FAST
@given(data=st.data(), name=names, d1=durations, d2=durations)
def test_add_is_monotonic_and_additive(
    data: st.DataObject, name: str, d1: timedelta, d2: timedelta
) -> None:
    calendar, s1, s2 = cal(name), data.draw(moments(name)), data.draw(moments(name))
    s1, s2 = min(s1, s2), max(s1, s2)
    small, large = min(d1, d2), max(d1, d2)
    assert calendar.add(s1, small) <= calendar.add(s1, large)
    assert calendar.add(s1, d1) <= calendar.add(s2, d1)
    assert calendar.add(calendar.add(s1, d1), d2) == calendar.add(s1, d1 + d2)


@FAST
@given(data=st.data(), name=names)
def test_next_open_and_is_open_agree(data: st.DataObject, name: str) -> None:
    calendar, moment = cal(name), data.draw(moments(name))
    opening = calendar.next_open(moment)
    assert opening >= moment
    assert calendar.is_open(opening)
    assert calendar.between(moment, opening) == timedelta(0)
    # == between zones is always False for a repeated wall time (PEP 495): use UTC.
    assert (opening == moment.astimezone(UTC)) == calendar.is_open(moment)
    # moment + US would drop fold=1 (wall-clock arithmetic): step in UTC.
    instant = moment.astimezone(UTC)
    assert calendar.is_open(moment) == (calendar.between(instant, instant + US) == US)


@FAST
@given(data=st.data(), name=names)
def test_between_is_additive_and_antisymmetric(data: st.DataObject, name: str) -> None:
    calendar = cal(name)
    a, b, c = (data.draw(moments(name)) for _ in range(3))
    assert calendar.between(a, b) + calendar.between(b, c) == calendar.between(a, c)
    assert calendar.between(b, a) == -calendar.between(a, b)
    assert abs(calendar.between(a, b)) <= abs(b.astimezone(UTC) - a.astimezone(UTC))


# -- brute-force reference ---------------------------------------------------------


@cache
def _reference_closed(name: str) -> frozenset[date]:
    spec = PROPERTY_SPECS[name]
    closed = {date.fromisoformat(d) for d in spec.get("closed", [])}
    source = spec.get("holidays")
    if source:
        found = holidays.country_holidays(
            source["country"], subdiv=source.get("subdivision"), years=range(2019, 2032)
        )
        closed |= set(found)
    return frozenset(closed)


def _reference_minutes(name: str, a: datetime, b: datetime) -> int:
    """Open minutes in [a, b), walking minute by minute.

    Uses the documented rule: an instant is open when the latest wall-clock
    reading reached so far lies in an interval of its date (the reading only
    lags the clock during the repeated hour after clocks go back).
    """
    spec, tz = PROPERTY_SPECS[name], ZoneInfo(PROPERTY_SPECS[name]["timezone"])
    closed = _reference_closed(name)
    moment, latest, count = a - timedelta(days=1), None, 0
    while moment < b:
        wall = moment.astimezone(tz).replace(tzinfo=None, fold=0)
        latest = wall if latest is None else max(latest, wall)
        if moment >= a and latest.date() not in closed:
            day = calendar_module.DAYS[latest.date().weekday()]
            clock = latest.strftime("%H:%M")
            intervals = [("00:00", "24:00")] if spec.get("always") else spec["hours"][day]
            count += any(s <= clock < e for s, e in intervals)
        moment += timedelta(minutes=1)
    return count


@settings(max_examples=120, deadline=None)
@given(data=st.data(), name=names, length=st.integers(0, 3 * 24 * 60))
def test_between_matches_minute_by_minute_reference(
    data: st.DataObject, name: str, length: int
) -> None:
    start = data.draw(moments(name)).replace(second=0, microsecond=0).astimezone(UTC)
    end = start + timedelta(minutes=length)
    expected = timedelta(minutes=_reference_minutes(name, start, end))
    assert cal(name).between(start, end) == expected


@pytest.mark.parametrize("name", sorted(PROPERTY_SPECS))
def test_dst_changes_of_2026_match_reference(name: str) -> None:
    for moment in TRANSITIONS[name]:
        if moment.year != 2026:
            continue
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
        end = start + timedelta(days=3)
        expected = timedelta(minutes=_reference_minutes(name, start, end))
        assert cal(name).between(start, end) == expected


def test_equal_calendars_hash_alike() -> None:
    reordered = {**KIJO, "hours": {**KIJO["hours"], "mon": [["08:00", "17:00"]]}}
    assert Calendar.from_dict(KIJO) == Calendar.from_dict(reordered)
    assert len({Calendar.from_dict(KIJO), Calendar.from_dict(reordered)}) == 1
    assert Calendar.from_dict(KIJO) != Calendar.from_dict(SECOND_AGENCY)
