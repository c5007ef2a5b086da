"""Business-time calendar: weekly opening hours in one time zone, minus holidays.

Every instant is handled as an integer count of microseconds since the Unix
epoch (UTC), so results are exact to the microsecond.  Each local date is
turned into a short tuple of open spans on that axis.  Most dates are "plain"
(no holiday, no closure, no UTC offset change): their spans are the weekday
template shifted by the date's start, and a run of plain weeks is skipped in
one step using the weekly open total.  See docs/calendar.md for the semantics.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any, NamedTuple, TypeGuard
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = ["DAYS", "MAX_SEARCH_DAYS", "Calendar"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# add() and next_open() give up this many days after their start date, so a
# calendar with (almost) no open time fails loudly instead of looping.
MAX_SEARCH_DAYS = 3653

Span = tuple[int, int]

_KEYS = frozenset({"timezone", "hours", "always", "holidays", "closed"})
_HOLIDAY_KEYS = ("country", "subdivision")
_HHMM = re.compile(r"(\d\d):(\d\d)")
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_US = timedelta(microseconds=1)
_SECOND_US = 1_000_000
_DAY_US = 86_400 * _SECOND_US
_WEEK_US = 7 * _DAY_US
_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time()
_NOON = time(12)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.date().toordinal()
_DAY_CACHE_SIZE = 4096


class _Year(NamedTuple):
    closed: frozenset[date]  # holidays and closed dates
    irregular: frozenset[date]  # dates whose UTC offset changes
    special: tuple[date, ...]  # sorted union: dates a week jump must not cross


class _Day(NamedTuple):
    start: int  # instant of local midnight (as mapped by _wall_to_utc)
    spans: tuple[Span, ...]  # open spans, sorted, non-empty
    plain: bool  # spans are the weekday template shifted by start


def _naive_us(naive: datetime) -> int:
    """Wall-clock reading as microseconds, as if the zone were UTC."""
    seconds = (naive.hour * 60 + naive.minute) * 60 + naive.second
    days = naive.toordinal() - _EPOCH_ORDINAL
    return days * _DAY_US + seconds * _SECOND_US + naive.microsecond


def _to_us(value: datetime, name: str) -> int:
    if not isinstance(value, datetime):
        raise TypeError(f"{name}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name}: naive datetime {value.isoformat()} is ambiguous; pass an "
            "aware datetime (e.g. tzinfo=ZoneInfo('Europe/London') or UTC)"
        )
    return (value - _EPOCH) // _US


def _from_us(instant: int) -> datetime:
    return _EPOCH + timedelta(microseconds=instant)


def _parse_hhmm(value: object, field: str) -> int:
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f'{field}: expected "HH:MM", got {value!r}')
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{field}: {value!r} is not a time between 00:00 and 24:00")
    return (hours * 60 + minutes) * 60 * _SECOND_US


def _is_list(value: object) -> TypeGuard[Sequence[Any]]:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _reject_unknown(keys: Iterable[object], allowed: Iterable[str], field: str) -> None:
    unknown = set(keys) - set(allowed)
    if unknown:
        raise ValueError(f"{field}: unknown key(s) {sorted(map(str, unknown))}")


def _parse_day(value: object, field: str) -> list[tuple[int, int, str, str]]:
    """Validate one weekday's intervals; return them sorted by start."""
    if not _is_list(value):
        raise ValueError(f'{field}: expected a list of ["HH:MM", "HH:MM"] pairs')
    intervals = []
    for index, pair in enumerate(value):
        where = f"{field}[{index}]"
        if not _is_list(pair) or len(pair) != 2:
            raise ValueError(f'{where}: expected ["HH:MM", "HH:MM"], got {pair!r}')
        start, end = _parse_hhmm(pair[0], where), _parse_hhmm(pair[1], where)
        if start >= end:
            raise ValueError(f"{where}: start {pair[0]} is not before end {pair[1]}")
        intervals.append((start, end, pair[0], pair[1]))
    intervals.sort()
    for before, after in pairwise(intervals):
        if after[0] < before[1]:
            raise ValueError(
                f"{field}: intervals {before[2]}-{before[3]} and {after[2]}-{after[3]} overlap"
            )
    return intervals


def _parse_zone(value: object) -> ZoneInfo:
    if not isinstance(value, str) or not value:
        raise ValueError("timezone: expected an IANA zone name like 'Europe/London'")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"timezone: unknown time zone {value!r}") from exc


def _parse_holidays(value: object) -> tuple[str, str | None] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError("holidays: expected {'country': ..., 'subdivision': ...}")
    _reject_unknown(value, _HOLIDAY_KEYS, "holidays")
    country, subdivision = value.get("country"), value.get("subdivision")
    if not isinstance(country, str) or not country:
        raise ValueError("holidays.country: expected a country code like 'GB'")
    if subdivision is not None and not isinstance(subdivision, str):
        raise ValueError("holidays.subdivision: expected a code like 'ENG' or null")
    # Constructing without years is cheap and validates both codes.
    try:
        holidays.country_holidays(country)
    except NotImplementedError as exc:
        raise ValueError(f"holidays.country: unknown country {country!r}") from exc
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as exc:
        raise ValueError(
            f"holidays.subdivision: {country} has no subdivision {subdivision!r}"
        ) from exc
    return country, subdivision


def _parse_closed(value: object) -> frozenset[date]:
    if not _is_list(value):
        raise ValueError('closed: expected a list of "YYYY-MM-DD" dates')
    dates = set()
    for index, item in enumerate(value):
        # fromisoformat alone would also accept forms like "20261224".
        if not isinstance(item, str) or not _ISO_DATE.fullmatch(item):
            raise ValueError(f'closed[{index}]: expected "YYYY-MM-DD", got {item!r}')
        try:
            dates.add(date.fromisoformat(item))
        except ValueError as exc:
            raise ValueError(f"closed[{index}]: {item!r} is not a date") from exc
    return frozenset(dates)


class Calendar:
    """Weekly opening hours in one IANA time zone, minus holidays and closures.

    Build one with :meth:`from_dict`.  Instances are immutable apart from
    internal caches (per-year holiday sets and per-date open spans).
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        """Validate ``spec`` (the dict format of docs/calendar.md)."""
        if not isinstance(spec, Mapping):
            raise ValueError("calendar: expected a dict")
        _reject_unknown(spec, _KEYS, "calendar")
        self._tz = _parse_zone(spec.get("timezone"))
        self._always = spec.get("always", False)
        if not isinstance(self._always, bool):
            raise ValueError("always: expected true or false")
        hours = spec.get("hours", {})
        if not isinstance(hours, Mapping):
            raise ValueError("hours: expected a dict keyed by mon..sun")
        _reject_unknown(hours, DAYS, "hours")
        days = [_parse_day(hours.get(name, []), f"hours.{name}") for name in DAYS]
        # Kept even when always is true, so to_dict() round-trips exactly.
        self._hours = {n: [(i[2], i[3]) for i in d] for n, d in zip(DAYS, days, strict=True)}
        full_day = ((0, _DAY_US),)
        self._week: tuple[tuple[Span, ...], ...] = tuple(
            full_day if self._always else tuple((i[0], i[1]) for i in d) for d in days
        )
        self._week_total = sum(e - s for day in self._week for s, e in day)
        self._holiday_source = _parse_holidays(spec.get("holidays"))
        self._closed = _parse_closed(spec.get("closed", []))
        self._package_years: dict[int, frozenset[date]] = {}
        self._years: dict[int, _Year] = {}
        self._days: dict[date, _Day] = {}
        # Equality and hashing by value, so calendars can sit in frozen dataclasses.
        self._key = json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Calendar:
        """Build a calendar from its dict form; raise ValueError naming the bad field."""
        return cls(spec)

    def to_dict(self) -> dict[str, Any]:
        """Return the dict form; ``Calendar.from_dict(cal.to_dict())`` is equal."""
        source = self._holiday_source
        return {
            "timezone": self._tz.key,
            "hours": {n: [list(p) for p in self._hours[n]] for n in DAYS},
            "always": self._always,
            "holidays": None if source is None else dict(zip(_HOLIDAY_KEYS, source, strict=True)),
            "closed": [d.isoformat() for d in sorted(self._closed)],
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Calendar) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return f"Calendar.from_dict({self.to_dict()!r})"

    # -- public queries -------------------------------------------------------

    def is_open(self, moment: datetime) -> bool:
        """Whether the calendar is open at ``moment`` (an aware datetime)."""
        instant = _to_us(moment, "moment")
        day = self._local_date(instant)
        # The next date matters only when clocks go back across midnight.
        spans = self._day(day).spans + self._day(day + _ONE_DAY).spans
        return any(a <= instant < b for a, b in spans)

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` (in UTC) if open, else the next opening instant in UTC."""
        instant = _to_us(moment, "moment")
        self._require_open_time()
        day = self._local_date(instant)
        limit = day + timedelta(days=MAX_SEARCH_DAYS)
        while day <= limit:
            for a, b in self._day(day).spans:
                if instant < b:
                    return _from_us(max(a, instant))
            day += _ONE_DAY
        raise self._too_far(moment)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """Earliest instant (UTC) by which ``duration`` of open time has passed.

        Open time is counted from ``start`` (or from the next opening if
        closed); work that ends exactly at closing time is due at closing time.
        """
        instant = _to_us(start, "start")
        if not isinstance(duration, timedelta):
            raise TypeError(f"duration: expected a timedelta, got {type(duration).__name__}")
        if duration < timedelta(0):
            raise ValueError(f"duration: must not be negative, got {duration}")
        remaining = duration // _US
        if remaining == 0:
            return _from_us(instant)
        self._require_open_time()
        week_total = self._week_total
        day = self._local_date(instant)
        limit = day + timedelta(days=MAX_SEARCH_DAYS)
        while day <= limit:
            info = self._day(day)
            if info.plain and instant <= info.start and remaining > week_total:
                # Keep remaining > 0 so the due instant is found by the day walk.
                plain_weeks = (self._next_special(day, limit) - day).days // 7
                weeks = min(plain_weeks, (remaining - 1) // week_total)
                if weeks > 0:
                    remaining -= weeks * week_total
                    day += timedelta(days=7 * weeks)
                    continue
            for a, b in info.spans:
                begin = max(a, instant)
                if begin < b:
                    if remaining <= b - begin:
                        return _from_us(begin + remaining)
                    remaining -= b - begin
            day += _ONE_DAY
        raise self._too_far(start)

    def between(self, a: datetime, b: datetime) -> timedelta:
        """Open time inside ``[a, b)``; negative (``-between(b, a)``) if b < a."""
        first, last = _to_us(a, "a"), _to_us(b, "b")
        if last < first:
            return -timedelta(microseconds=self._open_us(last, first))
        return timedelta(microseconds=self._open_us(first, last))

    # -- internals ------------------------------------------------------------

    def _open_us(self, first: int, last: int) -> int:
        total = 0
        day = self._local_date(first)
        stop = self._local_date(last) + 2 * _ONE_DAY
        while True:
            info = self._day(day)
            if info.start >= last:
                return total
            if info.plain and first <= info.start and last - info.start >= _WEEK_US:
                plain_weeks = (self._next_special(day, stop) - day).days // 7
                weeks = min(plain_weeks, (last - info.start) // _WEEK_US)
                if weeks > 0:
                    total += weeks * self._week_total
                    day += timedelta(days=7 * weeks)
                    continue
            for a, b in info.spans:
                begin, end = max(a, first), min(b, last)
                if begin < end:
                    total += end - begin
            day += _ONE_DAY

    def _require_open_time(self) -> None:
        if self._week_total == 0:
            raise ValueError("calendar has no open time: every day is empty and always is false")

    def _too_far(self, moment: datetime) -> ValueError:
        return ValueError(
            f"no result within {MAX_SEARCH_DAYS} days of {moment.isoformat()}; "
            "the calendar has too little open time for this search"
        )

    def _local_date(self, instant: int) -> date:
        return _from_us(instant).astimezone(self._tz).date()

    def _offset_us(self, naive: datetime) -> int:
        offset = self._tz.utcoffset(naive)
        return 0 if offset is None else offset // _US

    def _offset_at(self, seconds: int) -> int:
        """UTC offset in force at an instant given in whole seconds."""
        return self._offset_us(_from_us(seconds * _SECOND_US).astimezone(self._tz))

    def _wall_to_utc(self, day: date, wall: int) -> int:
        """Instant at which the wall clock first reads ``wall`` on ``day``.

        Repeated readings (clocks went back) give the first occurrence;
        skipped readings (clocks went forward) give the instant of the jump.
        The mapping is therefore non-decreasing, so spans never overlap.
        """
        naive = datetime.combine(day, _MIDNIGHT) + timedelta(microseconds=wall)
        local = _naive_us(naive)
        before = self._offset_us(naive)  # fold=0: offset before any transition
        after = self._offset_us(naive.replace(fold=1))
        if before >= after:
            return local - before
        # Skipped: the jump lies in (local - after, local - before].  tzdata
        # transitions fall on whole seconds, so bisect over seconds.
        low = (local - after) // _SECOND_US
        high = -((before - local) // _SECOND_US)
        while high - low > 1:
            middle = (low + high) // 2
            if self._offset_at(middle) == after:
                high = middle
            else:
                low = middle
        return high * _SECOND_US

    def _day(self, day: date) -> _Day:
        cached = self._days.get(day)
        if cached is not None:
            return cached
        year = self._year(day.year)
        template = self._week[day.weekday()]
        closed = day in year.closed
        if day in year.irregular:
            start = self._wall_to_utc(day, 0)
            bounds = [(self._wall_to_utc(day, s), self._wall_to_utc(day, e)) for s, e in template]
            spans = tuple((a, b) for a, b in bounds if a < b)
        else:
            midnight = datetime.combine(day, _MIDNIGHT)
            start = _naive_us(midnight) - self._offset_us(midnight)
            spans = tuple((start + s, start + e) for s, e in template)
        plain = not closed and day not in year.irregular
        result = _Day(start, () if closed else spans, plain)
        if len(self._days) >= _DAY_CACHE_SIZE:
            self._days.clear()  # crude bound; refilling a day costs microseconds
        self._days[day] = result
        return result

    def _next_special(self, day: date, stop: date) -> date:
        """First holiday, closed or offset-change date >= ``day``, capped at ``stop``."""
        for year in range(day.year, stop.year + 1):
            special = self._year(year).special
            index = bisect_left(special, day)
            if index < len(special):
                return min(special[index], stop)
        return stop

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            closed = self._holidays_in(year) | {d for d in self._closed if d.year == year}
            irregular = self._irregular_days(year)
            cached = _Year(frozenset(closed), irregular, tuple(sorted(closed | irregular)))
            self._years[year] = cached
        return cached

    def _holidays_in(self, year: int) -> set[date]:
        # Observed days can cross a year boundary, so look at the neighbours too.
        return {
            d for y in (year - 1, year, year + 1) for d in self._package_year(y) if d.year == year
        }

    def _package_year(self, year: int) -> frozenset[date]:
        if self._holiday_source is None:
            return frozenset()
        cached = self._package_years.get(year)
        if cached is None:
            country, subdivision = self._holiday_source
            # Building a holidays object is slow: once per year per calendar.
            found = holidays.country_holidays(country, subdiv=subdivision, years=year)
            cached = frozenset(found.keys())
            self._package_years[year] = cached
        return cached

    def _irregular_days(self, year: int) -> frozenset[date]:
        """Dates of ``year`` on which the UTC offset is not constant.

        Both folds give the same offset unless a wall time is skipped or
        repeated; comparing midnight, noon and next midnight also catches
        midnight transitions.  Assumes no two transitions within half a day.
        """

        def offsets(day: date, at: time) -> tuple[int, int]:
            naive = datetime.combine(day, at)
            return (self._offset_us(naive), self._offset_us(naive.replace(fold=1)))

        irregular = set()
        day = date(year, 1, 1)
        next_midnight = offsets(day, _MIDNIGHT)
        while day.year == year:
            here = next_midnight
            next_midnight = offsets(day + _ONE_DAY, _MIDNIGHT)
            if len({*here, *offsets(day, _NOON), *next_midnight}) > 1:
                irregular.add(day)
            day += _ONE_DAY
        return frozenset(irregular)
