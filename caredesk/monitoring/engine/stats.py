"""Counting checks and schedule lag, per minute and since start."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .spec import Outcome


def percentile(values: list[int], fraction: float) -> int:
    """Nearest-rank percentile of ``values`` (0 when empty); sorts a copy."""
    if not values:
        return 0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


@dataclass(frozen=True, slots=True)
class Window:
    seconds: float
    checks: int
    failures: int
    lag_p50_ms: int
    lag_p99_ms: int


class Stats:
    def __init__(self) -> None:
        self.checks = 0
        self.failures = 0
        self.missed = 0  # regular slots skipped: the probe was a whole interval behind
        self.dropped = 0  # results thrown away because the store was away too long
        self.rechecks = 0  # checks run early because another region asked
        self.network_losses = 0  # times the probe found itself cut off from the network
        self.last = Window(0.0, 0, 0, 0, 0)
        self._lags: list[int] = []
        self._failures = 0

    def record(self, outcome: Outcome) -> None:
        self.checks += 1
        self._lags.append(outcome.lag_ms)
        if not outcome.ok:
            self.failures += 1
            self._failures += 1

    def take_window(self, seconds: float) -> Window:
        """The figures since the previous call; starts a new window."""
        lags, self._lags = self._lags, []
        failures, self._failures = self._failures, 0
        self.last = Window(
            seconds, len(lags), failures, percentile(lags, 0.50), percentile(lags, 0.99)
        )
        return self.last
