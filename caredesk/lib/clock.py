"""The one clock of caredesk.

Everything that needs "now" calls :func:`now`, so tests can move time with
``time_machine`` and every part of the system agrees on what time it is.

:func:`replay` sets the clock of the current thread (or task) to a past
instant while a block runs, so history can be written through the same
actions that write the present: the demo's last month is made this way.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime

_replaying: ContextVar[datetime | None] = ContextVar("caredesk_clock_replay", default=None)


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    replayed = _replaying.get()
    if replayed is not None:
        return replayed
    return datetime.now(tz=UTC)


def today_utc() -> date:
    """Today's date in UTC (business dates use a calendar's zone instead)."""
    return now().date()


@contextmanager
def replay(at: datetime) -> Iterator[datetime]:
    """Within the block, :func:`now` is ``at`` (aware) in this thread or task only."""
    if at.tzinfo is None:
        raise ValueError("replay needs an aware datetime")
    token = _replaying.set(at.astimezone(UTC))
    try:
        yield at
    finally:
        _replaying.reset(token)
