"""Building monitors and results for the tests, and running coroutines in them."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from caredesk.monitoring.engine import Outcome
from caredesk.monitoring.models import Monitor

T0 = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def outcome(monitor: Monitor, when: datetime, ok: bool, region: str = "test", **fields) -> Outcome:
    if not ok:
        fields.setdefault("error_kind", "status")
        fields.setdefault("error", "HTTP 500 (expected 200-399)")
        fields.setdefault("status_code", 500)
    else:
        fields.setdefault("status_code", 200)
        fields.setdefault("total_ms", 120)
    return Outcome(monitor.pk, when, region, ok, **fields)


def feed(store, monitor: Monitor, marks: str, start: float = 0.0, step: float = 1.0) -> None:
    """Save one result per mark ("+" good, "-" failed), ``step`` minutes apart, one batch each."""
    for index, mark in enumerate(marks):
        store.save_sync([outcome(monitor, at(start + index * step), mark == "+")])


def run_async(coroutine):
    """``asyncio.run`` on a thread of its own.

    The browser tests keep Playwright's event loop running on the main thread
    for the whole session, and asyncio.run refuses to start inside it.
    """
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
