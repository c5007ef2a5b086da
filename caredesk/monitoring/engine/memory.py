"""A store in memory, for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from .spec import MonitorSpec, Outcome
from .store import MonitorChanges, ProbeStatus


class MemoryStore:
    def __init__(self, monitors: Sequence[MonitorSpec] = ()) -> None:
        self.revision = 0
        self._monitors: dict[int, tuple[int, MonitorSpec]] = {}
        self._removed: dict[int, int] = {}
        self.results: list[Outcome] = []
        self.heartbeats: list[ProbeStatus] = []
        self.fail_saves = 0  # the next N saves raise, as a database that went away would
        self.fail_loads = 0  # likewise for loads
        self.rechecks: list[tuple[int, datetime]] = []  # listed on every load, as a server does
        for spec in monitors:
            self.put(spec)

    def put(self, spec: MonitorSpec) -> None:
        """Add or change a monitor (its version is bumped so the engine sees the change)."""
        self.revision += 1
        spec = replace(spec, version=f"{spec.version or 'v'}.{self.revision}")
        self._monitors[spec.id] = (self.revision, spec)
        self._removed.pop(spec.id, None)

    def remove(self, monitor_id: int) -> None:
        self.revision += 1
        self._monitors.pop(monitor_id, None)
        self._removed[monitor_id] = self.revision

    def ask_recheck(self, monitor_id: int, at: datetime) -> None:
        """Another region asks for a check of ``monitor_id`` now."""
        self.rechecks.append((monitor_id, at))

    async def load_monitors(self, cursor: object) -> MonitorChanges:
        if self.fail_loads:
            self.fail_loads -= 1
            raise ConnectionError("the store is unavailable")
        since = cursor if isinstance(cursor, int) else -1
        changed = [spec for rev, spec in self._monitors.values() if rev > since]
        removed = [mid for mid, rev in self._removed.items() if rev > since]
        return MonitorChanges(
            changed, removed, complete=since < 0, cursor=self.revision, rechecks=list(self.rechecks)
        )

    async def save_results(self, outcomes: Sequence[Outcome]) -> None:
        if self.fail_saves:
            self.fail_saves -= 1
            raise ConnectionError("the store is unavailable")
        self.results.extend(outcomes)

    async def heartbeat(self, status: ProbeStatus) -> None:
        self.heartbeats.append(status)

    def results_for(self, monitor_id: int) -> list[Outcome]:
        return [o for o in self.results if o.monitor_id == monitor_id]
