"""The heap of due checks, keyed by monotonic time.

Each monitor has at most one live entry. Replanning a monitor pushes a new
entry and leaves the old one in the heap; it is recognised as stale and
skipped when it surfaces (cheaper than removing from the middle of a heap).
"""

from __future__ import annotations

import heapq
import itertools

_GOLDEN = 0x9E3779B1  # 2**32 / golden ratio


def spread(monitor_id: int, span: float) -> float:
    """A stable offset in ``[0, span)`` for a monitor.

    Fibonacci hashing: consecutive ids land far apart and any run of ids
    covers the span evenly, so monitors imported together do not all come
    due in the same second, and a restarted probe checks every monitor within
    one interval with a flat load.
    """
    return ((monitor_id * _GOLDEN) & 0xFFFFFFFF) / 2**32 * span


class Schedule:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, int]] = []
        self._order = itertools.count()  # ties go first-planned, first-run
        self._planned: dict[int, float] = {}  # monitor id -> due time of its live entry

    def __len__(self) -> int:
        return len(self._planned)

    def __contains__(self, monitor_id: int) -> bool:
        return monitor_id in self._planned

    def plan(self, monitor_id: int, due: float) -> None:
        """Check ``monitor_id`` at ``due``, replacing any earlier plan for it."""
        self._planned[monitor_id] = due
        heapq.heappush(self._heap, (due, next(self._order), monitor_id))

    def cancel(self, monitor_id: int) -> None:
        self._planned.pop(monitor_id, None)

    def due_at(self, monitor_id: int) -> float | None:
        return self._planned.get(monitor_id)

    def pop_due(self, now: float) -> tuple[int, float] | None:
        """The next monitor due by ``now`` and its due time, or None."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            due, _, monitor_id = heapq.heappop(heap)
            if self._planned.get(monitor_id) == due:
                del self._planned[monitor_id]
                return monitor_id, due
        return None

    def next_due(self) -> float | None:
        """When the earliest live entry comes due (stale entries are dropped on the way)."""
        heap = self._heap
        while heap:
            due, _, monitor_id = heap[0]
            if self._planned.get(monitor_id) == due:
                return due
            heapq.heappop(heap)
        return None
