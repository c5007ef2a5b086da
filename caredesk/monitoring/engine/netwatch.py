"""Has this probe lost its own network? Judged from its own checks. Pure.

When the probe's uplink, router or resolver goes, every check fails at once
with a network error (no DNS answer, connection refused or unreachable, no
answer in time) — every site "down" together, which no real outage does. The
watch keeps the last ``window`` checks; when at least ``share`` of them failed
with network errors, spread over at least ``min_monitors`` monitors, the
probe is *suspect*. The engine then says it has lost its network (after a
reference URL, if one is configured, failed too), marks what it sends as
such, and stops counting its failures toward anything. It has its network
back when fewer than ``clear_share`` of the last checks fail that way (or the
reference URL answers).

A probe with few monitors, or whose every site sits on one server, cannot
tell its own network from the sites' from its checks alone: give it a
reference URL on another network (CAREDESK_PROBE_CANARY_URL).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass

from .errors import NETWORK_KINDS
from .spec import Outcome


@dataclass(frozen=True)
class NetworkConfig:
    window: int = 30  # the last this many checks are judged
    share: float = 0.9  # suspect when at least this share of them failed with network errors
    min_monitors: int = 10  # ...of at least this many different monitors
    clear_share: float = 0.5  # back when fewer than this share fail that way
    canary_url: str = ""  # optional: must fail too before the probe says it is cut off
    canary_every: float = 10.0  # seconds a reference check's answer stays good
    canary_timeout: float = 5.0


def network_failure(outcome: Outcome) -> bool:
    return not outcome.ok and outcome.error_kind in NETWORK_KINDS


class NetworkWatch:
    """The last checks' network failures, counted as they come (O(1) a check)."""

    def __init__(self, config: NetworkConfig | None = None) -> None:
        self.config = config or NetworkConfig()
        self._recent: deque[tuple[int, str]] = deque()  # (monitor id, network error kind or "")
        self._failing: Counter[int] = Counter()  # monitor id -> network failures in the window
        self._kinds: Counter[str] = Counter()
        self._bad = 0

    def record(self, outcome: Outcome) -> None:
        kind = outcome.error_kind if network_failure(outcome) else ""
        self._recent.append((outcome.monitor_id, kind))
        if kind:
            self._bad += 1
            self._failing[outcome.monitor_id] += 1
            self._kinds[kind] += 1
        if len(self._recent) > self.config.window:
            monitor_id, old = self._recent.popleft()
            if old:
                self._bad -= 1
                self._kinds[old] -= 1
                self._failing[monitor_id] -= 1
                if not self._failing[monitor_id]:
                    del self._failing[monitor_id]

    @property
    def share(self) -> float:
        return self._bad / len(self._recent) if self._recent else 0.0

    def suspect(self) -> bool:
        """Nearly every recent check failed with a network error, across many monitors."""
        return (
            len(self._recent) >= self.config.window
            and self.share >= self.config.share
            and len(self._failing) >= self.config.min_monitors
        )

    def clear(self) -> bool:
        """Few recent checks fail with network errors: the network works."""
        return self.share < self.config.clear_share

    def describe(self) -> str:
        kinds = ", ".join(f"{kind} {count}" for kind, count in self._kinds.most_common() if count)
        return (
            f"{self._bad} of the last {len(self._recent)} checks failed with network errors "
            f"({kinds}) across {len(self._failing)} monitors"
        )
