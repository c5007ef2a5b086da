"""SLA clocks as a pure function of a ticket's history.

A clock is one promise on one ticket ("first response within 4 business hours").
Its state is never stored as a running counter: it is recomputed from the
ticket's history (when it was created, every status change, every response,
every client message) and the target (limit, aim, calendar, pausing statuses).
So a change of priority or policy, or a late-recorded event, gives exactly the
clock the history implies, and a stored row is only a cache of this function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from caredesk.sla.calendar import Calendar

CLOSED_STATUSES = frozenset({"solved", "closed"})


class Kind(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    PERIODIC_UPDATE = "periodic_update"
    RESOLUTION = "resolution"


class StartOn(StrEnum):
    CREATED = "created"
    FIRST_RESPONSE = "first_response"
    ALERT = "alert"


@dataclass(frozen=True)
class Target:
    """What was promised: ``limit`` of business time on ``calendar``."""

    kind: Kind
    limit: timedelta
    calendar: Calendar
    aim: timedelta | None = None
    pause_statuses: frozenset[str] = frozenset()
    start_on: StartOn = StartOn.CREATED
    response_kinds: frozenset[str] = frozenset({"public_reply"})
    warn_share: float = 0.75


@dataclass(frozen=True)
class Entry:
    """One fact of a ticket's history.

    ``kind`` is ``created``, ``status`` (``value`` is the new status),
    ``response`` (``value`` says what kind: ``public_reply``, ``phone_call``…),
    ``customer_message`` or ``alert``.
    """

    at: datetime
    kind: str
    value: str = ""


@dataclass(frozen=True)
class ClockState:
    kind: Kind
    started_at: datetime | None
    stopped_at: datetime | None  # met (or, for resolution, solved)
    paused: bool
    elapsed: timedelta  # business time counted so far (to stop, or to now)
    due_at: datetime | None  # when the limit is (or was) reached; None while paused or met in time
    aim_at: datetime | None
    warn_at: datetime | None
    breached: bool
    limit: timedelta
    aim: timedelta | None = None
    pauses: tuple[tuple[datetime, datetime | None], ...] = field(default=())

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.stopped_at is None and not self.paused

    @property
    def met(self) -> bool:
        return self.stopped_at is not None and not self.breached

    @property
    def remaining(self) -> timedelta:
        return self.limit - self.elapsed


def evaluate(target: Target, history: Sequence[Entry], now: datetime) -> ClockState:
    """The state at ``now`` of ``target``'s clock on a ticket with ``history``.

    Entries after ``now`` are ignored, so the function also answers "what did
    this clock look like then?".
    """
    entries = sorted((e for e in history if e.at <= now), key=lambda e: e.at)
    start, stop = _span(target, entries)
    if start is None:
        return _not_started(target)
    statuses = _status_timeline(entries)
    pausing = target.pause_statuses
    if target.kind in (Kind.RESOLUTION, Kind.PERIODIC_UPDATE):
        pausing = pausing | CLOSED_STATUSES
    end = stop or now
    active, pauses = _active_intervals(statuses, pausing, start, end)
    paused = stop is None and bool(pauses) and pauses[-1][1] is None
    open_from = None if (stop is not None or paused or not active) else active[-1][0]
    closed = active[:-1] if open_from is not None else active
    cal = target.calendar
    elapsed = sum((cal.between(a, b) for a, b in active), timedelta())
    reached = _reach(cal, closed, open_from, target.limit)
    breached = reached is not None and reached < end if stop is None else elapsed > target.limit
    if stop is not None and not breached:
        reached = None
    warn = _reach(cal, closed, open_from, target.limit * target.warn_share)
    aim_at = _reach(cal, closed, open_from, target.aim) if target.aim else None
    return ClockState(
        kind=target.kind,
        started_at=start,
        stopped_at=stop,
        paused=paused,
        elapsed=elapsed,
        due_at=reached,
        aim_at=aim_at,
        warn_at=warn,
        breached=bool(breached),
        limit=target.limit,
        aim=target.aim,
        pauses=tuple(pauses),
    )


def _not_started(target: Target) -> ClockState:
    return ClockState(
        kind=target.kind,
        started_at=None,
        stopped_at=None,
        paused=False,
        elapsed=timedelta(),
        due_at=None,
        aim_at=None,
        warn_at=None,
        breached=False,
        limit=target.limit,
        aim=target.aim,
    )


def _first(
    entries: Sequence[Entry], kind: str, after: datetime, values: frozenset[str] | None = None
) -> Entry | None:
    for entry in entries:
        if entry.kind == kind and entry.at >= after and (values is None or entry.value in values):
            return entry
    return None


def _start(target: Target, entries: Sequence[Entry]) -> datetime | None:
    created = next((e for e in entries if e.kind == "created"), None)
    if created is None:
        return None
    if target.start_on == StartOn.ALERT:
        # A monitor's ticket counts "from when our team is alerted", which may be
        # before the ticket row was written.
        alert = next((e for e in entries if e.kind == "alert"), None)
        return alert.at if alert else created.at
    if target.start_on == StartOn.FIRST_RESPONSE:
        response = _first(entries, "response", created.at, target.response_kinds)
        return response.at if response else None
    return created.at


def _span(target: Target, entries: Sequence[Entry]) -> tuple[datetime | None, datetime | None]:
    """When this clock started and when it stopped (None while running)."""
    if not entries:
        return None, None
    start = _start(target, entries)
    if start is None:
        return None, None
    responses = [e for e in entries if e.kind == "response" and e.value in target.response_kinds]
    if target.kind == Kind.FIRST_RESPONSE:
        first = next((e for e in responses if e.at >= start), None)
        return start, first.at if first else None
    if target.kind == Kind.NEXT_RESPONSE:
        return _next_response_span(entries, responses, start)
    if target.kind == Kind.PERIODIC_UPDATE:
        last = max((e.at for e in responses if e.at >= start), default=start)
        return last, None
    statuses = _status_timeline(entries)
    current = statuses[-1][1] if statuses else "new"
    if current in CLOSED_STATUSES:
        # Solved then closed: the work stopped when it was solved.
        index = len(statuses) - 1
        while index > 0 and statuses[index - 1][1] in CLOSED_STATUSES:
            index -= 1
        return start, max(statuses[index][0], start)
    return start, None


def _next_response_span(
    entries: Sequence[Entry], responses: list[Entry], start: datetime
) -> tuple[datetime | None, datetime | None]:
    """The current cycle: from the client's first message after our last answer."""
    first_response = next((e for e in responses if e.at >= start), None)
    if first_response is None:
        return None, None
    cycle_start: datetime | None = None
    cycle_stop: datetime | None = None
    for entry in entries:
        if entry.at < first_response.at:
            continue
        if entry.kind == "customer_message" and (cycle_start is None or cycle_stop is not None):
            cycle_start, cycle_stop = entry.at, None
        elif entry in responses and cycle_start is not None and cycle_stop is None:
            cycle_stop = entry.at
    return cycle_start, cycle_stop


def _status_timeline(entries: Sequence[Entry]) -> list[tuple[datetime, str]]:
    timeline: list[tuple[datetime, str]] = []
    for entry in entries:
        if entry.kind == "created":
            timeline.append((entry.at, "new"))
        elif entry.kind == "status":
            timeline.append((entry.at, entry.value))
    return timeline


def _active_intervals(
    statuses: list[tuple[datetime, str]], pausing: frozenset[str], start: datetime, end: datetime
) -> tuple[list[tuple[datetime, datetime]], list[tuple[datetime, datetime | None]]]:
    """Split [start, end) into counting intervals and pauses (a pause may be open)."""
    active: list[tuple[datetime, datetime]] = []
    pauses: list[tuple[datetime, datetime | None]] = []
    status = "new"
    for at, value in statuses:
        if at <= start:
            status = value
    run_from: datetime | None = None if status in pausing else start
    pause_from: datetime | None = start if status in pausing else None
    for at, value in statuses:
        if at <= start or at > end:
            continue
        if value in pausing and run_from is not None:
            active.append((run_from, at))
            run_from, pause_from = None, at
        elif value not in pausing and pause_from is not None:
            pauses.append((pause_from, at))
            run_from, pause_from = at, None
    if run_from is not None:
        active.append((run_from, end))
    if pause_from is not None:
        pauses.append((pause_from, None))
    return active, pauses


def _reach(
    cal: Calendar,
    closed: Sequence[tuple[datetime, datetime]],
    open_from: datetime | None,
    amount: timedelta,
) -> datetime | None:
    """The instant the counted time reaches ``amount``, or None if it never does."""
    remaining = amount
    for a, b in closed:
        counted = cal.between(a, b)
        if remaining <= counted:
            return cal.add(a, remaining)
        remaining -= counted
    if open_from is None:
        return None
    return cal.add(open_from, remaining)
