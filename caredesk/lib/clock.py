"""The one clock of caredesk.

Everything that needs "now" calls :func:`now`, so tests can move time with
``time_machine`` and every part of the system agrees on what time it is.
"""

from datetime import UTC, date, datetime


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(tz=UTC)


def today_utc() -> date:
    """Today's date in UTC (business dates use a calendar's zone instead)."""
    return now().date()
