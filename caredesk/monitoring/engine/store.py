"""The engine's one door to the outside: where monitors come from, where results go.

The same engine runs against the database (the embedded probe,
:class:`caredesk.monitoring.store.DbStore`), against memory (tests and
benchmarks, :class:`caredesk.monitoring.engine.memory.MemoryStore`), and
against the API (a remote probe, :class:`caredesk.monitoring.engine.api.ApiStore`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from typing import Protocol

from .spec import MonitorSpec, Outcome


@dataclass
class MonitorChanges:
    """What changed since ``cursor``; hand the returned cursor back next time."""

    monitors: list[MonitorSpec] = field(default_factory=list)  # new or changed
    removed: list[int] = field(default_factory=list)  # deleted, disabled, moved away
    complete: bool = False  # ``monitors`` is every monitor to run: drop all others
    cursor: object = None
    # (monitor id, requested at): another region saw a change and asks for a check now.
    # A request may be listed on several polls; the engine serves each one once.
    rechecks: list[tuple[int, datetime]] = field(default_factory=list)


class StoreRefused(Exception):
    """The store will not serve this probe (a revoked token, another region's token).

    Trying again will not help until someone changes the configuration: at start
    the probe stops with this message instead of waiting.
    """


@dataclass
class ProbeStatus:
    """A probe's heartbeat: proof of life and the figures an operator wants to see."""

    region: str
    started_at: datetime
    at: datetime
    monitors: int
    checks: int  # since start
    failures: int  # since start
    missed: int  # regular checks skipped because the probe fell a whole interval behind
    lag_p50_ms: int
    lag_p99_ms: int
    in_flight: int
    waiting_results: int
    stopping: bool = False
    rechecks: int = 0  # checks run early because another region asked
    network: str = "ok"  # "lost": (nearly) every check fails with network errors
    network_detail: str = ""  # why, for people


def caredesk_version() -> str:
    """The installed caredesk's version, shown with each probe ("" when not installed)."""
    try:
        return metadata.version("caredesk")
    except metadata.PackageNotFoundError:
        return ""


class Store(Protocol):
    async def load_monitors(self, cursor: object) -> MonitorChanges:
        """Monitors new or changed since ``cursor`` (None: the first call, all of them)."""
        ...

    async def save_results(self, outcomes: Sequence[Outcome]) -> None:
        """Keep a batch of results; raising means "try again later", nothing is lost."""
        ...

    async def heartbeat(self, status: ProbeStatus) -> None: ...
